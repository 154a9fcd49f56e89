import Foundation
import Lineup
import LineupKernels
import Testing

/// The exact integer multi-probe kernels (scores_many_i8q: int8 rows against int8-quantised
/// probes, VPDPBUSD where the CPU has it): every table that has one, held to the serial
/// reference bit for bit (the integer sums are exact, the two float products fixed in order),
/// over dimensions around the 64- and 32-byte steps and the scalar tail, row counts around the
/// 4- and 2-row blocks and the row groups, probe counts around the 4-probe blocks and the
/// 256-probe chunks, tight and odd strides, misaligned rows and probes, every int8 value
/// (-128 included), negative scales, and score strides with gaps that must stay untouched.
@Suite struct KernelQuantizedTests {
    static let isas = ["avxvnni", "avx512vnni"]
    static let guardValue: Float = 1234.5

    /// The quantised kernels this CPU (and OS) supports, by table name.
    static func kernels() -> [(name: String, kernel: lineup_scores_many_i8q_fn)] {
        isas.compactMap { name in
            lineup_kernels_for(name).flatMap { table in table.pointee.scores_many_i8q.map { (name, $0) } }
        }
    }

    /// Runs `kernel` over the given layout; returns the whole score buffer (guards included).
    static func run(_ kernel: lineup_scores_many_i8q_fn, rows: UnsafeRawPointer, rowStride: Int, count: Int,
                    dimension: Int, probes: UnsafePointer<Int8>, probeStride: Int, probeCount: Int,
                    steps: [Float], scales: [Float], scoreStride: Int) -> [Float] {
        var buffer = [Float](repeating: guardValue, count: 5 + probeCount * scoreStride + 8)
        for p in 0..<probeCount {
            for r in 0..<count { buffer[5 + p * scoreStride + r] = .nan }
        }
        buffer.withUnsafeMutableBufferPointer { out in
            kernel(rows, rowStride, count, dimension, probes, probeStride, probeCount, steps, scales,
                   out.baseAddress! + 5, scoreStride)
        }
        return buffer
    }

    static func check(dimension: Int, counts: [Int], probeCounts: [Int]) -> [String] {
        var rng = SeededGenerator(seed: 0x51A7 &+ UInt64(dimension) &* 7919)
        var failures: [String] = []
        for count in counts {
            for probeCount in probeCounts {
                for layout in 0..<2 {
                    let rowStride = layout == 0 ? dimension : (dimension + 63) / 64 * 64 + 3
                    let probeStride = layout == 0 ? dimension : dimension + 5
                    let scoreStride = layout == 0 ? count : count + 3
                    let rowBytes = (0..<(rowStride * count + 1)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    // Mostly -127...127 as quantised probes are, sometimes the extremes only.
                    let probeBytes = (0..<(probeStride * probeCount + 1)).map { _ -> Int8 in
                        rng.next() % 16 == 0 ? (rng.next() & 1 == 0 ? -128 : 127) : Int8.random(in: -127...127, using: &rng)
                    }
                    let steps = (0..<probeCount).map { _ in Float.random(in: 1e-4...1e-2, using: &rng) }
                    let scales = (0..<count).map { _ in Float.random(in: 1e-3...0.1, using: &rng) * (rng.next() % 8 == 0 ? -1 : 1) }
                    let offset = layout   // rows and probes one byte past an aligned start, or not
                    rowBytes.withUnsafeBytes { rows in
                        probeBytes.withUnsafeBufferPointer { probes in
                            let r = rows.baseAddress! + offset
                            let p = probes.baseAddress! + offset
                            let expected = Self.run(scores_many_i8q_serial, rows: r, rowStride: rowStride, count: count,
                                                    dimension: dimension, probes: p, probeStride: probeStride,
                                                    probeCount: probeCount, steps: steps, scales: scales, scoreStride: scoreStride)
                            for (name, kernel) in Self.kernels() {
                                let got = Self.run(kernel, rows: r, rowStride: rowStride, count: count, dimension: dimension,
                                                   probes: p, probeStride: probeStride, probeCount: probeCount,
                                                   steps: steps, scales: scales, scoreStride: scoreStride)
                                let mismatches = got.indices.filter { got[$0].bitPattern != expected[$0].bitPattern }
                                if !mismatches.isEmpty {
                                    failures.append("\(name) d=\(dimension) count=\(count) probes=\(probeCount) layout=\(layout): \(mismatches.count) mismatches, first at \(mismatches[0]): \(got[mismatches[0]]) vs \(expected[mismatches[0]])")
                                }
                            }
                        }
                    }
                }
            }
        }
        return failures
    }

    @Test(arguments: [1, 3, 31, 32, 33, 63, 64, 65, 127, 129, 511, 512, 513])
    func quantizedKernelsMatchSerialExactly(dimension: Int) {
        let failures = Self.check(dimension: dimension, counts: [1, 2, 3, 4, 5, 7, 9, 33, 70],
                                  probeCounts: [1, 2, 3, 4, 5, 7, 8, 9])
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }

    /// More probes than one chunk of corrections (256), and rows too long for four to fit the
    /// group buffer (more than 4096 bytes), which are biased in the block instead.
    @Test func quantizedKernelsMatchSerialOnLargeShapes() {
        var failures = Self.check(dimension: 40, counts: [5, 9], probeCounts: [255, 256, 257, 300])
        failures += Self.check(dimension: 4096, counts: [1, 4, 5], probeCounts: [1, 4, 5])
        failures += Self.check(dimension: 4100, counts: [1, 4, 5], probeCounts: [1, 4, 5])
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }

    /// The serial reference is the integer sum times the step times the scale, in that order.
    @Test func serialReferenceIsTheIntegerSum() {
        let row: [Int8] = [-128, 127, 3, -5, 0]
        let probe: [Int8] = [-128, -127, 7, 2, 100]
        let dot = (-128 * -128) + (127 * -127) + 3 * 7 + (-5 * 2)
        var score: Float = 0
        row.withUnsafeBytes { rows in
            scores_many_i8q_serial(rows.baseAddress, 5, 1, 5, probe, 5, 1, [0.25], [3], &score, 1)
        }
        #expect(score == (Float(dot) * 0.25) * 3)
    }

    /// Rows, probes and scores that end exactly where an inaccessible page begins: a tail read
    /// or written one byte too far faults.
    @Test func quantizedTailsStayInsideTheirBuffers() throws {
        let rowRegion = try KernelSIMDTests.Fenced(pages: 2)
        let probeRegion = try KernelSIMDTests.Fenced(pages: 2)
        let scoreRegion = try KernelSIMDTests.Fenced(pages: 1)
        var rng = SeededGenerator(seed: 0xFE4CE)
        var failures: [String] = []
        for dimension in Array(1...70) + [127, 129] {
            for count in [1, 3, 4, 5] {
                for probeCount in [1, 2, 5] {
                    let rows = rowRegion.end - count * dimension
                    let probes = (probeRegion.end - probeCount * dimension).bindMemory(to: Int8.self, capacity: probeCount * dimension)
                    for i in 0..<(count * dimension) { rows.storeBytes(of: UInt8.random(in: 0...255, using: &rng), toByteOffset: i, as: UInt8.self) }
                    for i in 0..<(probeCount * dimension) { probes[i] = Int8.random(in: -127...127, using: &rng) }
                    let steps = [Float](repeating: 0.01, count: probeCount)
                    let scales = [Float](repeating: 0.02, count: count)
                    var expected = [Float](repeating: 0, count: count * probeCount)
                    scores_many_i8q_serial(rows, dimension, count, dimension, probes, dimension, probeCount, steps, scales, &expected, count)
                    let scores = (scoreRegion.end - 4 * count * probeCount).bindMemory(to: Float.self, capacity: count * probeCount)
                    for (name, kernel) in Self.kernels() {
                        kernel(rows, dimension, count, dimension, probes, dimension, probeCount, steps, scales, scores, count)
                        for i in 0..<(count * probeCount) where scores[i].bitPattern != expected[i].bitPattern {
                            failures.append("\(name) d=\(dimension) count=\(count) probes=\(probeCount) score \(i)")
                        }
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }

    /// Only the VNNI tables carry the quantised kernel; no rows or no probes write nothing.
    @Test func tablesCarryTheQuantizedKernelWhereTheyShould() {
        for name in ["serial", "avx2", "avx512"] {
            guard let table = lineup_kernels_for(name) else { continue }
            #expect(table.pointee.scores_many_i8q == nil, "\(name)")
        }
        for name in Self.isas {
            guard let table = lineup_kernels_for(name) else { continue }
            #expect(table.pointee.scores_many_i8q != nil, "\(name)")
        }
        let row = [Int8](repeating: 1, count: 64)
        for (name, kernel) in Self.kernels() {
            var out = [Float](repeating: Self.guardValue, count: 8)
            row.withUnsafeBytes { raw in
                kernel(raw.baseAddress, 64, 0, 64, row, 64, 3, [1, 1, 1], [1], &out, 2)
                kernel(raw.baseAddress, 64, 1, 64, row, 64, 0, [1], [1], &out, 2)
            }
            #expect(out.allSatisfy { $0 == Self.guardValue }, "\(name)")
        }
    }
}
