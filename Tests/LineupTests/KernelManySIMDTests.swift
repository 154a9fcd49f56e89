import Foundation
import LineupKernels
import Testing

/// The multi-probe kernels (scores_many_*), for batch identification: every table's, held to the
/// serial multi-probe kernel and to its own single-probe kernel called once per probe, over
/// dimensions that exercise every body/step/tail split, row counts and probe counts around the
/// register blocks (4 x 4 rows x probes for AVX-512, 2 x 4 for AVX2) and the row groups, tight
/// and padded strides, misaligned rows, probes and scores, and score strides with gaps that must
/// stay untouched.
///
/// Uses KernelSIMDTests' generator, block maker and helpers (same test target).
@Suite struct KernelManySIMDTests {
    typealias Encoding = KernelSIMDTests.Encoding
    typealias Block = KernelSIMDTests.Block

    static let dimensions = [1, 3, 8, 15, 16, 17, 31, 64, 65, 127, 512, 513]
    static let counts = [1, 2, 3, 4, 5, 7, 8, 9, 33, 256]
    static let probeCounts = [1, 2, 3, 4, 5, 7, 8, 9, 16]
    static let guardValue: Float = 1234.5

    static func many(_ encoding: Encoding, _ table: lineup_kernel_table) -> lineup_scores_many_fn {
        switch encoding {
        case .f32: table.scores_many_f32
        case .f16: table.scores_many_f16
        case .i8: table.scores_many_i8
        }
    }

    /// The SIMD tables this CPU (and OS) supports.
    static func simdTables() -> [(name: String, table: lineup_kernel_table)] {
        KernelSIMDTests.simdTables()
    }

    /// The tolerance the single-probe tests use, per (probe, row): 1e-5 * sum |row * probe| (times
    /// |scale| for i8) + 1e-6.
    static func tolerances(_ data: Block, _ encoding: Encoding, count: Int, dimension: Int,
                           probes: [Float], probeCount: Int) -> [[Double]] {
        (0..<probeCount).map { p in
            (0..<count).map { r in
                var magnitude = 0.0
                for d in 0..<dimension {
                    magnitude += abs(Double(data.values[r * dimension + d]) * Double(probes[p * dimension + d]))
                }
                return 1e-5 * magnitude * data.scaleMagnitude(r, encoding) + 1e-6
            }
        }
    }

    /// Scores laid out as the kernels see them: `lead` guards, then probeCount runs of
    /// scoreStride floats (the first `count` of each the scores, NaN until written, the rest
    /// guards), then eight guards.
    struct Scores {
        let lead: Int
        let count: Int
        let probeCount: Int
        let scoreStride: Int
        var buffer: [Float]

        init(count: Int, probeCount: Int, scoreStride: Int, lead: Int) {
            self.lead = lead
            self.count = count
            self.probeCount = probeCount
            self.scoreStride = scoreStride
            buffer = [Float](repeating: KernelManySIMDTests.guardValue, count: lead + probeCount * scoreStride + 8)
            for p in 0..<probeCount {
                for r in 0..<count { buffer[lead + p * scoreStride + r] = .nan }
            }
        }

        subscript(p: Int, r: Int) -> Float { buffer[lead + p * scoreStride + r] }

        /// Every float that is not a score still holds the guard value.
        var guarded: Bool {
            buffer.indices.allSatisfy { i in
                let k = i - lead
                let isScore = k >= 0 && k / scoreStride < probeCount && k % scoreStride < count
                return isScore || buffer[i] == KernelManySIMDTests.guardValue
            }
        }
    }

    static func runMany(_ kernel: lineup_scores_many_fn, rows: UnsafeRawPointer, stride: Int, count: Int,
                        dimension: Int, probes: UnsafePointer<Float>, probeCount: Int, scales: [Float],
                        scoreStride: Int, lead: Int) -> Scores {
        var out = Scores(count: count, probeCount: probeCount, scoreStride: scoreStride, lead: lead)
        scales.withUnsafeBufferPointer { scales in
            out.buffer.withUnsafeMutableBufferPointer { buffer in
                kernel(rows, stride, count, dimension, probes, probeCount, scales.baseAddress,
                       buffer.baseAddress! + lead, scoreStride)
            }
        }
        return out
    }

    /// The single-probe kernel once per probe, into the same layout.
    static func runPerProbe(_ kernel: lineup_scores_fn, rows: UnsafeRawPointer, stride: Int, count: Int,
                            dimension: Int, probes: UnsafePointer<Float>, probeCount: Int, scales: [Float],
                            scoreStride: Int, lead: Int) -> Scores {
        var out = Scores(count: count, probeCount: probeCount, scoreStride: scoreStride, lead: lead)
        scales.withUnsafeBufferPointer { scales in
            out.buffer.withUnsafeMutableBufferPointer { buffer in
                for p in 0..<probeCount {
                    kernel(rows, stride, count, dimension, probes + p * dimension, scales.baseAddress,
                           buffer.baseAddress! + lead + p * scoreStride)
                }
            }
        }
        return out
    }

    static func same(_ a: Float, _ b: Float) -> Bool {
        a.isNaN ? b.isNaN : a.bitPattern == b.bitPattern
    }

    @Test(arguments: Encoding.allCases, dimensions)
    func manyKernelsMatchSerial(encoding: Encoding, dimension: Int) {
        let failures = Self.check(encoding, dimension: dimension, counts: Self.counts,
                                  probeCounts: Self.probeCounts, offsets: Array(0...3))
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }

    /// Rows too long for four of them to fit the kernels' conversion buffer (16 KiB of floats:
    /// more than 1024 elements), whose f16 and i8 elements are converted per block instead of
    /// once per group; 1024 itself is the longest that still fits.
    @Test(arguments: Encoding.allCases, [1024, 1025, 1041, 2055])
    func manyKernelsMatchSerialOnLongRows(encoding: Encoding, dimension: Int) {
        let failures = Self.check(encoding, dimension: dimension, counts: [1, 4, 5, 9, 17],
                                  probeCounts: [1, 3, 4, 5, 8], offsets: [0, 1])
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }

    /// Every SIMD table's multi-probe kernel against the serial one and against its own
    /// single-probe kernel once per probe, for every count, probe count, row stride (tight,
    /// padded to 64 bytes, tight + 3) and row offset given; returns the failures.
    static func check(_ encoding: Encoding, dimension: Int, counts: [Int], probeCounts: [Int],
                      offsets: [Int]) -> [String] {
        let tables = Self.simdTables()
        let serialTable = lineup_kernels_for("serial")!.pointee
        let serialMany = Self.many(encoding, serialTable)
        let serialSingle = KernelSIMDTests.kernel(encoding, serialTable)
        let maxProbes = probeCounts.max()!
        var rng = KernelSIMDTests.Random(seed: 0x3A11_0000 + UInt64(dimension) * 3 + UInt64(encoding.bytes))
        var failures: [String] = []
        for count in counts {
            let data = KernelSIMDTests.makeBlock(encoding, count: count, dimension: dimension, rng: &rng)
            // The probes, contiguous, sit 0 or 1 floats past an aligned start, NaN on both sides.
            let probeOffset = count % 2
            var probeValues: [Float] = []
            for _ in 0..<maxProbes { probeValues += rng.unitVector(dimension) }
            let probes = [Float](repeating: .nan, count: probeOffset) + probeValues + [Float](repeating: .nan, count: 16)
            let tolerance = Self.tolerances(data, encoding, count: count, dimension: dimension,
                                            probes: probeValues, probeCount: maxProbes)
            let tight = dimension * encoding.bytes
            let padded = (tight + 63) / 64 * 64
            for stride in Set([tight, padded, tight + 3]).sorted() {
                for offset in offsets {
                    KernelSIMDTests.withRows(data, encoding, count: count, dimension: dimension, stride: stride, offset: offset) { rows in
                        probes.withUnsafeBufferPointer { probeBuffer in
                            let p = probeBuffer.baseAddress! + probeOffset
                            for probeCount in probeCounts {
                                // Tight score runs, or runs with gaps (which must stay untouched);
                                // the scores start 4 or 5 floats past an aligned start.
                                let scoreStride = offset % 2 == 0 ? count : count + 3
                                let lead = 4 + probeCount % 2
                                let context = "\(encoding) d=\(dimension) count=\(count) probes=\(probeCount) stride=\(stride) offset=\(offset) scoreStride=\(scoreStride)"
                                let expected = Self.runMany(serialMany, rows: rows, stride: stride, count: count, dimension: dimension,
                                                            probes: p, probeCount: probeCount, scales: data.scales,
                                                            scoreStride: scoreStride, lead: lead)
                                if !expected.guarded { failures.append("serial \(context): wrote outside the scores") }
                                // The reference itself: the serial single-probe kernel per probe, exactly.
                                if offset == 0 {
                                    let single = Self.runPerProbe(serialSingle, rows: rows, stride: stride, count: count,
                                                                  dimension: dimension, probes: p, probeCount: probeCount,
                                                                  scales: data.scales, scoreStride: scoreStride, lead: lead)
                                    if !zip(single.buffer, expected.buffer).allSatisfy({ Self.same($0, $1) }) {
                                        failures.append("serial \(context): differs from the single-probe kernel per probe")
                                    }
                                }
                                for (name, table) in tables {
                                    let got = Self.runMany(Self.many(encoding, table), rows: rows, stride: stride, count: count,
                                                           dimension: dimension, probes: p, probeCount: probeCount,
                                                           scales: data.scales, scoreStride: scoreStride, lead: lead)
                                    let perProbe = Self.runPerProbe(KernelSIMDTests.kernel(encoding, table), rows: rows, stride: stride,
                                                                    count: count, dimension: dimension, probes: p,
                                                                    probeCount: probeCount, scales: data.scales,
                                                                    scoreStride: scoreStride, lead: lead)
                                    if !got.guarded { failures.append("\(name) \(context): wrote outside the scores") }
                                    for q in 0..<probeCount {
                                        for r in 0..<count {
                                            let score = Double(got[q, r])
                                            if !(abs(score - Double(expected[q, r])) <= tolerance[q][r]) {
                                                failures.append("\(name) \(context) probe \(q) row \(r): \(got[q, r]) vs serial \(expected[q, r])")
                                            }
                                            if !(abs(score - Double(perProbe[q, r])) <= tolerance[q][r]) {
                                                failures.append("\(name) \(context) probe \(q) row \(r): \(got[q, r]) vs single-probe \(perProbe[q, r])")
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return failures
    }

    /// Rows that end exactly where an inaccessible page begins, and rows that start exactly
    /// where one ends; the probes and the scores end against one too: a tail (of the
    /// dimension, the rows or the probes) that reads or writes one element too far faults.
    @Test(arguments: Encoding.allCases)
    func manyTailsStayInsideTheirBuffers(encoding: Encoding) throws {
        let rowRegion = try KernelSIMDTests.Fenced(pages: 4)
        let probeRegion = try KernelSIMDTests.Fenced(pages: 4)
        let scoreRegion = try KernelSIMDTests.Fenced(pages: 1)
        let serial = Self.many(encoding, lineup_kernels_for("serial")!.pointee)
        var rng = KernelSIMDTests.Random(seed: 0x3A7A11 + UInt64(encoding.bytes))
        var failures: [String] = []
        for dimension in Array(1...40) + [63, 65, 127, 129] {
            for count in [1, 3, 4, 5, 9] {
                let data = KernelSIMDTests.makeBlock(encoding, count: count, dimension: dimension, rng: &rng)
                let stride = dimension * encoding.bytes
                for probeCount in [1, 2, 3, 5, 8] {
                    var probeValues: [Float] = []
                    for _ in 0..<probeCount { probeValues += rng.unitVector(dimension) }
                    let probes = (probeRegion.end - 4 * dimension * probeCount)
                        .bindMemory(to: Float.self, capacity: dimension * probeCount)
                    probes.update(from: probeValues, count: dimension * probeCount)
                    let scores = (scoreRegion.end - 4 * count * probeCount).bindMemory(to: Float.self, capacity: count * probeCount)
                    let tolerance = Self.tolerances(data, encoding, count: count, dimension: dimension,
                                                    probes: probeValues, probeCount: probeCount)
                    for atEnd in [true, false] {
                        let rows = atEnd ? rowRegion.end - count * stride : rowRegion.start
                        data.bytes.withUnsafeBytes { rows.copyMemory(from: $0.baseAddress!, byteCount: count * stride) }
                        var expected = [Float](repeating: 0, count: count * probeCount)
                        data.scales.withUnsafeBufferPointer { scales in
                            serial(rows, stride, count, dimension, probes, probeCount, scales.baseAddress, &expected, count)
                            for (name, table) in Self.simdTables() {
                                Self.many(encoding, table)(rows, stride, count, dimension, probes, probeCount,
                                                           scales.baseAddress, scores, count)
                                for q in 0..<probeCount {
                                    for r in 0..<count where !(abs(Double(scores[q * count + r]) - Double(expected[q * count + r])) <= tolerance[q][r]) {
                                        failures.append("\(name) \(encoding) d=\(dimension) count=\(count) probes=\(probeCount) atEnd=\(atEnd) probe \(q) row \(r): \(scores[q * count + r]) vs \(expected[q * count + r])")
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }

    /// Every binary16 bit pattern through every f16 multi-probe kernel, alone in a row of zeros,
    /// against five probes of powers of two (a full block of four and a leftover one): each score
    /// is the converted value times the power, bit for bit (NaN stays NaN), in both the vector
    /// body and the tail.
    @Test(arguments: [1, 45])
    func f16ManyKernelsConvertEveryBitPatternExactly(dimension: Int) {
        let count = 1 << 16
        var rows = [UInt16](repeating: 0, count: count * dimension)
        for bits in 0..<count { rows[bits * dimension + bits % dimension] = UInt16(bits).littleEndian }
        let powers: [Float] = [1, 2, 0.5, 4, 0.25]
        let probes = powers.flatMap { [Float](repeating: $0, count: dimension) }
        var expected = [Float](repeating: 0, count: count * powers.count)
        rows.withUnsafeBytes { raw in
            scores_many_f16_serial(raw.baseAddress, 2 * dimension, count, dimension, probes, powers.count, nil, &expected, count)
        }
        for (name, table) in Self.simdTables() {
            var got = [Float](repeating: 0, count: count * powers.count)
            rows.withUnsafeBytes { raw in
                table.scores_many_f16!(raw.baseAddress, 2 * dimension, count, dimension, probes, powers.count, nil, &got, count)
            }
            let mismatches = got.indices.filter { !Self.same(got[$0], expected[$0]) }
            #expect(mismatches.isEmpty, "\(name) d=\(dimension): \(mismatches.count) mismatches, first (probe, bits): \(mismatches.prefix(5).map { ($0 / count, String($0 % count, radix: 16)) })")
        }
    }

    /// No rows or no probes: nothing is read or written (the pointers may be anything valid).
    @Test func emptyCallsWriteNothing() {
        let probe = [Float](repeating: 1, count: 16)
        let row = [Float](repeating: 1, count: 16)
        for name in ["serial"] + KernelSIMDTests.simdISAs {
            guard let table = lineup_kernels_for(name)?.pointee else { continue }
            for encoding in Encoding.allCases {
                var out = [Float](repeating: Self.guardValue, count: 8)
                row.withUnsafeBytes { raw in
                    Self.many(encoding, table)(raw.baseAddress, 64, 0, 16, probe, 3, [1, 1, 1], &out, 2)
                    Self.many(encoding, table)(raw.baseAddress, 64, 1, 16, probe, 0, [1, 1, 1], &out, 2)
                }
                #expect(out.allSatisfy { $0 == Self.guardValue }, "\(name) \(encoding)")
            }
        }
    }

    @Test func everyTableHasTheManyKernels() throws {
        for name in ["serial"] + KernelSIMDTests.simdISAs {
            guard let table = lineup_kernels_for(name) else { continue }
            #expect(table.pointee.scores_many_f32 != nil && table.pointee.scores_many_f16 != nil
                        && table.pointee.scores_many_i8 != nil, "\(name)")
        }
        let chosen = try #require(lineup_kernels())
        #expect(chosen.pointee.scores_many_f32 != nil)
    }
}
