import LineupKernels
import Testing
@testable import Lineup

/// Batches over int8 collections with the exact integer kernel (quantised probes, candidates
/// gathered within the proven bound, then scored exactly): every probe gets exactly the answer
/// of a single search, ties, thresholds, removed rows and near-duplicate galleries included.
/// Run with this CPU's table (VNNI where present) and with a table whose quantised kernel is the
/// serial reference, so the path is exercised on every machine.
@Suite struct QuantizedBatchTests {
    /// The tables to run batches with: the chosen one if it has a quantised kernel, and the
    /// chosen one with the serial reference plugged in.
    static func tables() -> [(name: String, kernels: lineup_kernel_table)] {
        var result: [(String, lineup_kernel_table)] = []
        let chosen = lineup_kernels().pointee
        if chosen.scores_many_i8q != nil { result.append((String(cString: chosen.isa), chosen)) }
        var reference = chosen
        reference.scores_many_i8q = scores_many_i8q_serial
        result.append(("serial reference", reference))
        return result
    }

    static func int8Gallery(_ vectors: [[Float]]) throws -> Gallery {
        let gallery = Gallery(settings: EngineFixture.settings(.int8))
        try gallery.append(vectors.enumerated().map { EngineFixture.prepared($0.element, identity: "p\($0.offset)", compression: .int8) })
        return gallery
    }

    static func expectBatchEqualsSingle(_ snapshot: CollectionSnapshot, probes: [[Float]], k: Int, threshold: Float,
                                        _ context: String) throws {
        let singles = try probes.map { try Matcher.search(snapshot, probe: $0, k: k, threshold: threshold) }
        for (name, kernels) in tables() {
            let batch = try Matcher.searchBatch(snapshot, probes: probes, k: k, threshold: threshold, kernels: kernels)
            for index in probes.indices {
                #expect(batch[index] == singles[index], "\(name) \(context) k=\(k) threshold=\(threshold) probe \(index)")
            }
        }
    }

    @Test func batchEqualsSingleOverRandomAndDuplicateRows() throws {
        let dimension = 96
        var rng = SeededGenerator(seed: 0x18_0001)
        var vectors = (0..<3000).map { _ in rng.vector(dimension) }
        // Exact duplicates (ties settled by enrollment order) and near-duplicates (scores closer
        // together than the quantisation error) of a few rows, spread over several tiles.
        for (index, source) in [(700, 10), (1500, 10), (2999, 10), (40, 20), (41, 20)] { vectors[index] = vectors[source] }
        for index in 2000..<2040 { vectors[index] = vectors[30].map { $0 + rng.gaussian() * 1e-3 } }
        let gallery = try Self.int8Gallery(vectors)
        // Removed rows must never come back, even as candidates.
        let removed = gallery.liveRows().enumerated().filter { $0.offset % 53 == 0 }.map { $0.element.chunk.recordID(at: $0.element.row) }
        for id in removed { try gallery.remove(id: id) }
        let snapshot = gallery.snapshot()
        var probes = (0..<9).map { _ in VectorEncoder.normalized(rng.vector(dimension)) }
        probes += [10, 20, 30, 31].map { VectorEncoder.normalized(vectors[$0]) }
        for k in [1, 5, 30] {
            for threshold: Float in [-1, 0.1, 0.3] {
                try Self.expectBatchEqualsSingle(snapshot, probes: probes, k: k, threshold: threshold, "d=\(dimension)")
            }
        }
    }

    /// Rows spanning more than one work item (several workers, each with its own running floor)
    /// and a dimension with a tail for every kernel width.
    @Test func batchEqualsSingleAcrossWorkItems() throws {
        let dimension = 45
        var rng = SeededGenerator(seed: 0x18_0002)
        let vectors = (0..<(Matcher.itemRows + 3000)).map { _ in rng.vector(dimension) }
        let snapshot = try Self.int8Gallery(vectors).snapshot()
        let probes = (0..<6).map { index in VectorEncoder.normalized(index % 3 == 0 ? vectors[index * 5000] : rng.vector(dimension)) }
        try Self.expectBatchEqualsSingle(snapshot, probes: probes, k: 10, threshold: -1, "work items")
    }

    /// More near-duplicates of a probe than a gather keeps: the probe is searched alone, and
    /// the answer is still exact.
    @Test func overflowingGatherFallsBackToASingleSearch() throws {
        let dimension = 16
        var rng = SeededGenerator(seed: 0x18_0003)
        let base = rng.vector(dimension)
        let vectors = (0..<6000).map { index in index % 3 == 0 ? rng.vector(dimension) : base.map { $0 + rng.gaussian() * 1e-4 } }
        let snapshot = try Self.int8Gallery(vectors).snapshot()
        let probes = [VectorEncoder.normalized(base), VectorEncoder.normalized(rng.vector(dimension))]
        try Self.expectBatchEqualsSingle(snapshot, probes: probes, k: 3, threshold: -1, "overflow")
    }

    /// The bound itself: for every row, the quantised score is within the probe's bound of the
    /// single-probe kernel's score.
    @Test func approximateScoresStayWithinTheBound() throws {
        for dimension in [7, 64, 512] {
            var rng = SeededGenerator(seed: 0x18_0004 + UInt64(dimension))
            let vectors = (0..<200).map { _ in rng.vector(dimension) }
            let snapshot = try Self.int8Gallery(vectors).snapshot()
            let probes = (0..<8).map { _ in VectorEncoder.normalized(rng.vector(dimension)) }
            let quantized = QuantizedProbes(probes.flatMap { $0 }, count: probes.count, dimension: dimension)
            var worst = 0.0
            for block in snapshot.blocks {
                block.source.withUnsafeVectors { rows, scales in
                    var approximate = [Float](repeating: 0, count: block.count * probes.count)
                    scores_many_i8q_serial(rows, block.stride, block.count, dimension, quantized.elements, quantized.stride,
                                           probes.count, quantized.steps, scales, &approximate, block.count)
                    for (p, probe) in probes.enumerated() {
                        var exact = [Float](repeating: 0, count: block.count)
                        lineup_kernels().pointee.scores_i8(rows, block.stride, block.count, dimension, probe, scales, &exact)
                        for r in 0..<block.count {
                            let difference = abs(Double(exact[r]) - Double(approximate[p * block.count + r]))
                            #expect(difference <= Double(quantized.bounds[p]), "d=\(dimension) probe \(p) row \(r)")
                            worst = max(worst, difference / Double(quantized.bounds[p]))
                        }
                    }
                }
            }
            #expect(worst > 0)
        }
    }
}
