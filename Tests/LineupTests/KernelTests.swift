import Lineup
import LineupKernels
import Testing

/// The kernels of the dispatch table against their serial references, and the serial
/// references against a double-precision computation.
@Suite struct KernelTests {
    enum Encoding: String, CaseIterable, Sendable {
        case f32, f16, i8
        var bytes: Int { switch self { case .f32: 4; case .f16: 2; case .i8: 1 } }
    }

    /// Rows laid out at `offset` bytes past an aligned base, `stride` bytes apart.
    struct Rows {
        let buffer: UnsafeMutableRawPointer
        let rows: UnsafeMutableRawPointer
        let stride: Int
        let count: Int
        /// The decoded value of each element, for the reference.
        var values: [[Float]]
        var scales: [Float]

        init(encoding: Encoding, count: Int, dimension: Int, offset: Int, extraStride: Int,
             rng: inout SeededGenerator) {
            stride = dimension * encoding.bytes + extraStride
            self.count = count
            buffer = .allocate(byteCount: count * stride + offset + 64, alignment: 64)
            buffer.initializeMemory(as: UInt8.self, repeating: 0xA5, count: count * stride + offset + 64)
            rows = buffer + offset
            values = []
            scales = []
            for r in 0..<count {
                var row: [Float] = []
                let base = rows + r * stride
                for d in 0..<dimension {
                    switch encoding {
                    case .f32:
                        let v = rng.gaussian()
                        withUnsafeBytes(of: v.bitPattern.littleEndian) { (base + 4 * d).copyMemory(from: $0.baseAddress!, byteCount: 4) }
                        row.append(v)
                    case .f16:
                        let h = Float16(rng.gaussian())
                        withUnsafeBytes(of: h.bitPattern.littleEndian) { (base + 2 * d).copyMemory(from: $0.baseAddress!, byteCount: 2) }
                        row.append(Float(h))
                    case .i8:
                        let q = Int8.random(in: -127...127, using: &rng)
                        (base + d).storeBytes(of: q, as: Int8.self)
                        row.append(Float(q))
                    }
                }
                values.append(row)
                scales.append(encoding == .i8 ? Float.random(in: 0.001...0.1, using: &rng) : 1)
            }
        }

        func free() { buffer.deallocate() }
    }

    static func kernel(_ encoding: Encoding, table: lineup_kernel_table) -> lineup_scores_fn {
        switch encoding {
        case .f32: table.scores_f32
        case .f16: table.scores_f16
        case .i8: table.scores_i8
        }
    }

    static func serial(_ encoding: Encoding) -> lineup_scores_fn {
        switch encoding {
        case .f32: scores_f32_serial
        case .f16: scores_f16_serial
        case .i8: scores_i8_serial
        }
    }

    /// Runs `kernel` and returns `count` scores; checks it writes nothing past them.
    static func run(_ kernel: lineup_scores_fn, _ rows: Rows, dimension: Int, probe: [Float]) -> [Float] {
        var scores = [Float](repeating: .nan, count: rows.count + 4)
        scores[rows.count...] = [1234, 1234, 1234, 1234]
        probe.withUnsafeBufferPointer { probe in
            rows.scales.withUnsafeBufferPointer { scales in
                scores.withUnsafeMutableBufferPointer { out in
                    kernel(UnsafeRawPointer(rows.rows), rows.stride, rows.count, dimension,
                           probe.baseAddress, scales.baseAddress, out.baseAddress)
                }
            }
        }
        #expect(Array(scores[rows.count...]) == [1234, 1234, 1234, 1234], "wrote past count")
        return Array(scores[..<rows.count])
    }

    static let dimensions = [1, 3, 17, 511, 513]

    @Test(arguments: Encoding.allCases, dimensions)
    func dispatchedKernelMatchesSerial(encoding: Encoding, dimension: Int) {
        let table = lineup_kernels().pointee
        var rng = SeededGenerator(seed: 80 + UInt64(dimension))
        for offset in [0, 1, 2, 3, 5] {
            for extraStride in [0, 1, 3, 64] {
                for count in [1, 2, 7] {
                    let rows = Rows(encoding: encoding, count: count, dimension: dimension, offset: offset,
                                    extraStride: extraStride, rng: &rng)
                    defer { rows.free() }
                    let probe = rng.vector(dimension)
                    let fast = Self.run(Self.kernel(encoding, table: table), rows, dimension: dimension, probe: probe)
                    let slow = Self.run(Self.serial(encoding), rows, dimension: dimension, probe: probe)
                    for r in 0..<count {
                        var magnitude: Float = 0
                        for d in 0..<dimension { magnitude += abs(rows.values[r][d] * probe[d]) }
                        magnitude *= rows.scales[r]
                        #expect(abs(fast[r] - slow[r]) <= 1e-5 * magnitude + 1e-30,
                                "\(table.isa.map { String(cString: $0) } ?? "?") \(encoding) d=\(dimension) offset=\(offset) stride+\(extraStride) row \(r): \(fast[r]) vs \(slow[r])")
                    }
                }
            }
        }
    }

    @Test(arguments: Encoding.allCases, dimensions)
    func serialMatchesDoubleReference(encoding: Encoding, dimension: Int) {
        var rng = SeededGenerator(seed: 90 + UInt64(dimension))
        for offset in [0, 1, 3] {
            let rows = Rows(encoding: encoding, count: 5, dimension: dimension, offset: offset,
                            extraStride: offset * 2, rng: &rng)
            defer { rows.free() }
            let probe = rng.vector(dimension)
            let scores = Self.run(Self.serial(encoding), rows, dimension: dimension, probe: probe)
            for r in 0..<rows.count {
                var exact = 0.0, magnitude = 0.0
                for d in 0..<dimension {
                    exact += Double(rows.values[r][d]) * Double(probe[d])
                    magnitude += abs(Double(rows.values[r][d]) * Double(probe[d]))
                }
                exact *= Double(rows.scales[r])
                magnitude *= Double(rows.scales[r])
                #expect(abs(Double(scores[r]) - exact) <= 1e-5 * magnitude + 1e-30,
                        "\(encoding) d=\(dimension) row \(r): \(scores[r]) vs \(exact)")
            }
        }
    }

    @Test func i8UsesRowScales() {
        let rows: [Int8] = [10, -20, 30, 1, 2, 3]
        let probe: [Float] = [1, 1, 1]
        let scales: [Float] = [0.5, 2]
        var scores = [Float](repeating: 0, count: 2)
        let table = lineup_kernels().pointee
        for kernel in [table.scores_i8!, scores_i8_serial] {
            rows.withUnsafeBytes { raw in
                kernel(raw.baseAddress, 3, 2, 3, probe, scales, &scores)
            }
            #expect(scores == [10, 12])
        }
    }

    @Test func zeroRowsWriteNothing() {
        let table = lineup_kernels().pointee
        var scores: [Float] = [42]
        let probe: [Float] = [1, 2, 3]
        let row: [Float] = [1, 2, 3]
        for kernel in [table.scores_f32!, table.scores_f16!, table.scores_i8!, scores_f32_serial, scores_f16_serial, scores_i8_serial] {
            row.withUnsafeBytes { raw in
                kernel(raw.baseAddress, 12, 0, 3, probe, nil, &scores)
            }
            #expect(scores == [42])
        }
    }

    @Test func tableIsComplete() throws {
        let table = lineup_kernels().pointee
        #expect(table.scores_f32 != nil)
        #expect(table.scores_f16 != nil)
        #expect(table.scores_i8 != nil)
        let isa = try #require(table.isa)
        #expect(!String(cString: isa).isEmpty)
        // Detected once: the same table every time.
        #expect(lineup_kernels() == lineup_kernels())
    }

    @Test func f16ToF32MatchesSwiftForEveryBitPattern() {
        var mismatches: [String] = []
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let got = lineup_f16_to_f32(bits)
            if expected.isNaN {
                if !got.isNaN { mismatches.append(String(bits, radix: 16)) }
                // The sign survives too.
                else if got.sign != expected.sign { mismatches.append("sign of NaN " + String(bits, radix: 16)) }
            } else if got.bitPattern != expected.bitPattern {
                mismatches.append("\(String(bits, radix: 16)): \(got) vs \(expected)")
            }
        }
        #expect(mismatches.count == 0, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
    }
}
