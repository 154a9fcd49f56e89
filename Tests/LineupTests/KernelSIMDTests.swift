import Foundation
import Lineup
import LineupKernels
import Testing

/// Every SIMD kernel table this CPU offers, held to the serial reference: over dimensions that
/// exercise every body/step/tail split of both vector widths, row counts around the four-row
/// blocking, tight and padded strides, and misaligned bases; plus the dispatch choice itself.
///
/// Self-contained (its own generator and helpers, nested in the suite) so it can sit beside the
/// other kernel tests without clashing with their names.
@Suite struct KernelSIMDTests {
    enum Encoding: String, CaseIterable, Sendable {
        case f32, f16, i8
        var bytes: Int { switch self { case .f32: 4; case .f16: 2; case .i8: 1 } }
    }

    /// The suite's seeded generator (TestSupport.swift).
    typealias Random = SeededGenerator

    /// Rows encoded back to back (tight), the value each element decodes to, one scale per row.
    struct Block {
        var bytes: [UInt8] = []
        var values: [Float] = []
        /// Scales go to every kernel (the float kernels must ignore them), but only i8 uses them.
        var scales: [Float] = []

        func scaleMagnitude(_ row: Int, _ encoding: Encoding) -> Double {
            encoding == .i8 ? Double(abs(scales[row])) : 1
        }
    }

    static let simdISAs = ["avx2", "avx512"]
    static let dimensions = [1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 128, 129, 511, 512, 513, 1024]
    static let counts = [1, 2, 3, 4, 5, 7, 8, 9, 100]
    static let guardValue: Float = 1234.5

    /// The SIMD tables this CPU (and OS) supports.
    static func simdTables() -> [(name: String, table: lineup_kernel_table)] {
        simdISAs.compactMap { name in lineup_kernels_for(name).map { (name, $0.pointee) } }
    }

    static func kernel(_ encoding: Encoding, _ table: lineup_kernel_table) -> lineup_scores_fn {
        switch encoding {
        case .f32: table.scores_f32
        case .f16: table.scores_f16
        case .i8: table.scores_i8
        }
    }

    /// Random rows, with the awkward values mixed in: ±0, subnormals and large magnitudes (f16
    /// up to its largest finite value; int8 down to -128).
    static func makeBlock(_ encoding: Encoding, count: Int, dimension: Int, rng: inout Random) -> Block {
        var data = Block()
        data.bytes.reserveCapacity(count * dimension * encoding.bytes)
        for _ in 0..<count {
            for _ in 0..<dimension {
                let negative = rng.next() & 1 == 1
                switch encoding {
                case .f32:
                    var v: Float
                    switch rng.next() % 16 {
                    case 0: v = 0
                    case 1: v = Float(bitPattern: UInt32.random(in: 1...0x7F_FFFF, using: &rng))   // subnormal
                    case 2: v = abs(rng.gaussian()) * 1e4
                    default: v = abs(rng.gaussian())
                    }
                    if negative { v = -v }
                    withUnsafeBytes(of: v.bitPattern.littleEndian) { data.bytes.append(contentsOf: $0) }
                    data.values.append(v)
                case .f16:
                    let sign: UInt16 = negative ? 0x8000 : 0
                    let mantissa = UInt16.random(in: 0...0x3FF, using: &rng)
                    var bits: UInt16
                    switch rng.next() % 20 {
                    case 0: bits = sign                                                          // ±0
                    case 1, 2: bits = sign | UInt16.random(in: 1...0x3FF, using: &rng)           // subnormal
                    case 3: bits = sign | 0x7BFF                                                 // ±65504
                    case 4, 5: bits = sign | UInt16.random(in: 24...30, using: &rng) << 10 | mantissa
                    default: bits = sign | UInt16.random(in: 8...16, using: &rng) << 10 | mantissa
                    }
                    withUnsafeBytes(of: bits.littleEndian) { data.bytes.append(contentsOf: $0) }
                    data.values.append(lineup_f16_to_f32(bits))
                case .i8:
                    let q = Int8.random(in: .min ... .max, using: &rng)
                    data.bytes.append(UInt8(bitPattern: q))
                    data.values.append(Float(q))
                }
            }
            let scale = Float.random(in: 0.001...0.1, using: &rng)
            data.scales.append(encoding == .i8 && rng.next() % 8 == 0 ? -scale : scale)
        }
        return data
    }

    /// `data`'s rows copied `stride` bytes apart starting `offset` bytes past a 64-byte aligned
    /// address, the gaps filled with 0xFF (NaN as f32 and f16, so a kernel that reads padding
    /// gets a NaN score), handed to `body`.
    static func withRows(_ data: Block, _ encoding: Encoding, count: Int, dimension: Int, stride: Int,
                         offset: Int, _ body: (UnsafeRawPointer) -> Void) {
        let rowBytes = dimension * encoding.bytes
        let total = offset + count * stride + 64
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xFF, count: total)
        data.bytes.withUnsafeBytes { source in
            for r in 0..<count {
                (buffer + offset + r * stride).copyMemory(from: source.baseAddress! + r * rowBytes, byteCount: rowBytes)
            }
        }
        body(UnsafeRawPointer(buffer + offset))
    }

    /// Runs `kernel`; returns its `count` scores, and whether the guards on either side of them
    /// survived.
    static func run(_ kernel: lineup_scores_fn, rows: UnsafeRawPointer, stride: Int, count: Int,
                    dimension: Int, probe: UnsafePointer<Float>, scales: [Float]) -> (scores: [Float], guarded: Bool) {
        // Four guards before, eight after; the scores themselves start as NaN so one left
        // unwritten cannot pass.
        var out = [Float](repeating: guardValue, count: count + 12)
        for r in 0..<count { out[4 + r] = .nan }
        scales.withUnsafeBufferPointer { scales in
            out.withUnsafeMutableBufferPointer { out in
                kernel(rows, stride, count, dimension, probe, scales.baseAddress, out.baseAddress! + 4)
            }
        }
        let guarded = out[..<4].allSatisfy { $0 == guardValue } && out[(4 + count)...].allSatisfy { $0 == guardValue }
        return (Array(out[4..<(4 + count)]), guarded)
    }

    @Test(arguments: Encoding.allCases, dimensions)
    func simdKernelsMatchSerial(encoding: Encoding, dimension: Int) {
        let tables = Self.simdTables()
        let serial = Self.kernel(encoding, lineup_kernels_for("serial")!.pointee)
        var rng = Random(seed: 0x51D_0000 + UInt64(dimension) * 3 + UInt64(encoding.bytes))
        var failures: [String] = []
        for count in Self.counts {
            let data = Self.makeBlock(encoding, count: count, dimension: dimension, rng: &rng)
            // The probe sits 0 or 1 floats past an aligned start, NaN on both sides.
            let probeOffset = count % 2
            let probe = [Float](repeating: .nan, count: probeOffset) + rng.unitVector(dimension)
                + [Float](repeating: .nan, count: 16)
            var tolerance: [Double] = []
            for r in 0..<count {
                var magnitude = 0.0
                for d in 0..<dimension {
                    magnitude += abs(Double(data.values[r * dimension + d]) * Double(probe[probeOffset + d]))
                }
                tolerance.append(1e-5 * magnitude * data.scaleMagnitude(r, encoding) + 1e-6)
            }
            let tight = dimension * encoding.bytes
            let padded = (tight + 63) / 64 * 64
            for stride in Set([tight, padded, tight + 3]).sorted() {
                for offset in 0...3 {
                    Self.withRows(data, encoding, count: count, dimension: dimension, stride: stride, offset: offset) { rows in
                        probe.withUnsafeBufferPointer { probeBuffer in
                            let p = probeBuffer.baseAddress! + probeOffset
                            let expected = Self.run(serial, rows: rows, stride: stride, count: count,
                                                    dimension: dimension, probe: p, scales: data.scales).scores
                            for (name, table) in tables {
                                let got = Self.run(Self.kernel(encoding, table), rows: rows, stride: stride, count: count,
                                                   dimension: dimension, probe: p, scales: data.scales)
                                let context = "\(name) \(encoding) d=\(dimension) count=\(count) stride=\(stride) offset=\(offset)"
                                if !got.guarded { failures.append("\(context): wrote outside scores[0..<count]") }
                                for r in 0..<count where !(abs(Double(got.scores[r]) - Double(expected[r])) <= tolerance[r]) {
                                    failures.append("\(context) row \(r): \(got.scores[r]) vs serial \(expected[r])")
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }

    /// A row's score depends on its own elements and its place in the call, never on the other
    /// rows: the row repeated (stride 0) at its place gives its bits exactly. ``Matcher``
    /// rescores one row of a group of four that way, reading it alone.
    @Test(arguments: Encoding.allCases)
    func aRowsScoreIsItsOwn(encoding: Encoding) {
        let tables = [("serial", lineup_kernels_for("serial")!.pointee)] + Self.simdTables()
        var rng = Random(seed: 0x0511_0000 + UInt64(encoding.bytes))
        var failures: [String] = []
        for dimension in [3, 16, 100, 512, 1024] {
            let count = 11   // two groups of four, then three rows alone
            let data = Self.makeBlock(encoding, count: count, dimension: dimension, rng: &rng)
            let probe = rng.unitVector(dimension)
            let stride = dimension * encoding.bytes
            Self.withRows(data, encoding, count: count, dimension: dimension, stride: stride, offset: 0) { rows in
                for (name, table) in tables {
                    let kernel = Self.kernel(encoding, table)
                    let all = Self.run(kernel, rows: rows, stride: stride, count: count, dimension: dimension,
                                       probe: probe, scales: data.scales).scores
                    for row in 0..<count {
                        let grouped = row < 8
                        let scale = [Float](repeating: data.scales[row], count: 4)
                        let alone = Self.run(kernel, rows: rows + row * stride, stride: 0, count: grouped ? 4 : 1,
                                             dimension: dimension, probe: probe, scales: scale).scores[grouped ? row % 4 : 0]
                        if alone.bitPattern != all[row].bitPattern {
                            failures.append("\(name) \(encoding) d=\(dimension) row \(row): \(alone) vs \(all[row])")
                        }
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }

    /// Read-write pages between two inaccessible ones: touching a byte just outside faults.
    final class Fenced {
        let mapping: UnsafeMutableRawPointer
        let length: Int
        let start: UnsafeMutableRawPointer
        let end: UnsafeMutableRawPointer

        init(pages: Int) throws {
            let page = Int(getpagesize())
            length = (pages + 2) * page
            let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            mapping = try #require(mapped == UnsafeMutableRawPointer(bitPattern: -1) ? nil : mapped)
            start = mapping + page
            end = mapping + (pages + 1) * page
            #expect(mprotect(mapping, page, PROT_NONE) == 0)
            #expect(mprotect(end, page, PROT_NONE) == 0)
        }

        deinit { munmap(mapping, length) }
    }

    /// Rows that end exactly where an inaccessible page begins, and rows that start exactly
    /// where one ends; the probe and the scores end against one too: a tail that reads or
    /// writes one element too far (or before the first) faults.
    @Test(arguments: Encoding.allCases)
    func tailsStayInsideTheirBuffers(encoding: Encoding) throws {
        let rowRegion = try Fenced(pages: 4)
        let probeRegion = try Fenced(pages: 1)
        let scoreRegion = try Fenced(pages: 1)
        let serial = Self.kernel(encoding, lineup_kernels_for("serial")!.pointee)
        var rng = Random(seed: 0x7A11 + UInt64(encoding.bytes))
        var failures: [String] = []
        for dimension in Array(1...40) + [63, 65, 127, 129] {
            for count in [1, 3, 4, 5] {
                let data = Self.makeBlock(encoding, count: count, dimension: dimension, rng: &rng)
                let stride = dimension * encoding.bytes
                let probeValues = rng.unitVector(dimension)
                let probe = (probeRegion.end - 4 * dimension).bindMemory(to: Float.self, capacity: dimension)
                probe.update(from: probeValues, count: dimension)
                let scores = (scoreRegion.end - 4 * count).bindMemory(to: Float.self, capacity: count)
                for atEnd in [true, false] {
                    let rows = atEnd ? rowRegion.end - count * stride : rowRegion.start
                    data.bytes.withUnsafeBytes { rows.copyMemory(from: $0.baseAddress!, byteCount: count * stride) }
                    var expected = [Float](repeating: 0, count: count)
                    data.scales.withUnsafeBufferPointer { scales in
                        serial(rows, stride, count, dimension, probe, scales.baseAddress, &expected)
                        for (name, table) in Self.simdTables() {
                            Self.kernel(encoding, table)(rows, stride, count, dimension, probe, scales.baseAddress, scores)
                            for r in 0..<count {
                                var magnitude = 0.0
                                for d in 0..<dimension {
                                    magnitude += abs(Double(data.values[r * dimension + d]) * Double(probeValues[d]))
                                }
                                let tolerance = 1e-5 * magnitude * data.scaleMagnitude(r, encoding) + 1e-6
                                if !(abs(Double(scores[r]) - Double(expected[r])) <= tolerance) {
                                    failures.append("\(name) \(encoding) d=\(dimension) count=\(count) atEnd=\(atEnd) row \(r): \(scores[r]) vs \(expected[r])")
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }

    /// Every binary16 bit pattern through every f16 kernel, alone in a row of zeros against a
    /// probe of ones: the score is the converted value itself, bit for bit (NaN stays NaN), in
    /// both the vector body and the tail.
    @Test(arguments: [1, 45])
    func f16KernelsConvertEveryBitPatternExactly(dimension: Int) {
        let count = 1 << 16
        var rows = [UInt16](repeating: 0, count: count * dimension)
        for bits in 0..<count { rows[bits * dimension + bits % dimension] = UInt16(bits).littleEndian }
        let probe = [Float](repeating: 1, count: dimension)
        var expected = [Float](repeating: 0, count: count)
        rows.withUnsafeBytes { raw in
            scores_f16_serial(raw.baseAddress, 2 * dimension, count, dimension, probe, nil, &expected)
        }
        for (name, table) in Self.simdTables() {
            var got = [Float](repeating: 0, count: count)
            rows.withUnsafeBytes { raw in
                table.scores_f16!(raw.baseAddress, 2 * dimension, count, dimension, probe, nil, &got)
            }
            let mismatches = (0..<count).filter { bits in
                expected[bits].isNaN ? !got[bits].isNaN : got[bits].bitPattern != expected[bits].bitPattern
            }
            #expect(mismatches.isEmpty, "\(name) d=\(dimension): \(mismatches.count) mismatches, first: \(mismatches.prefix(5).map { String($0, radix: 16) })")
        }
    }

    /// lineup_kernels() picks the best instruction set the CPU advertises (AVX-512 with VNNI on a
    /// machine with avx512f/bw/vl/dq and avx512_vnni), lowered only by LINEUP_KERNELS.
    @Test func dispatchPicksTheBestSupportedSet() throws {
        let levels = ["serial", "avx2", "avxvnni", "avx512", "avx512vnni"]
        let table = try #require(lineup_kernels())
        let chosen = String(cString: try #require(table.pointee.isa))
        // What Linux reports the CPU (and kernel) support; elsewhere there is nothing to compare.
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return }
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?
            .split(separator: ":").last?.split(separator: " ").map(String.init) ?? [])
        let hasAVX2 = flags.isSuperset(of: ["avx2", "fma", "f16c"])
        let hasAVX512 = hasAVX2 && flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"])
        let supported: [String: Bool] = [
            "serial": true,
            "avx2": hasAVX2,
            "avxvnni": hasAVX2 && flags.contains("avx_vnni"),
            "avx512": hasAVX512,
            "avx512vnni": hasAVX512 && flags.contains("avx512_vnni"),
        ]
        let best = levels.last { supported[$0]! }!
        var expected = best
        if let forced = ProcessInfo.processInfo.environment["LINEUP_KERNELS"], supported[forced] == true {
            expected = forced
        }
        #expect(chosen == expected, "flags say \(best), LINEUP_KERNELS=\(ProcessInfo.processInfo.environment["LINEUP_KERNELS"] ?? "unset")")
        #expect(table == lineup_kernels_for(expected))
        // Every set the CPU supports is offered, none other.
        for name in levels {
            #expect((lineup_kernels_for(name) != nil) == supported[name]!, "\(name)")
        }
    }

    @Test func kernelsForNamesTheirTables() throws {
        for name in ["serial"] + Self.simdISAs + ["avxvnni", "avx512vnni"] {
            guard let table = lineup_kernels_for(name) else { continue }
            #expect(String(cString: table.pointee.isa) == name)
            #expect(table.pointee.scores_f32 != nil && table.pointee.scores_f16 != nil && table.pointee.scores_i8 != nil)
            #expect(lineup_kernels_for(name) == table)   // one table per set, not a copy per call
        }
        #expect(lineup_kernels_for("serial") != nil)
        for unknown in ["", "AVX2", "avx", "sse4.2", "neon", "avx512f", "vnni", "avx512_vnni"] {
            #expect(lineup_kernels_for(unknown) == nil, "\(unknown)")
        }
        #expect(lineup_kernels_for(nil) == nil)
    }
}

extension SeededGenerator {
    /// A random unit vector, as the matcher's probes are.
    mutating func unitVector(_ dimension: Int) -> [Float] {
        while true {
            let v = (0..<dimension).map { _ in gaussian() }
            let norm = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            if norm > 0 { return v.map { Float(Double($0) / norm) } }
        }
    }
}
