import Dispatch
import Foundation
import LineupKernels
import Synchronization

/// One match the scan found: its score and where it is in the snapshot.
struct MatchHit: Sendable, Equatable {
    var score: Float
    var block: Int
    var row: Int
}

extension MatchHit {
    /// The hit a top-k entry names (block in the position's high 32 bits, row in the low).
    init(_ entry: TopK.Entry) {
        self.init(score: entry.score, block: Int(entry.position >> 32), row: Int(entry.position & 0xFFFF_FFFF))
    }
}

/// The exact matcher: scores every live row of a snapshot against one or more probes with the
/// kernels of the dispatch table, and keeps a bounded top-k per probe. Records (UUID,
/// identity) are resolved only for the winners, after the scan.
///
/// **Parallel.** The snapshot's rows are cut into work items that the process's cores take
/// in turn, so one probe uses every core; each worker keeps its own top-k, merged at the end.
///
/// **Blocked.** For several probes, a worker scores one tile of rows (small enough to stay in
/// the L2 cache) against every probe with the multi-probe kernel (register-blocked rows ×
/// probes) before moving on, so memory is read once per batch rather than once per probe and
/// the batch runs near the FMA peak.
///
/// **Quantised batches.** Over int8 blocks, where the dispatch table has an exact integer
/// kernel (`scores_many_i8q`, VNNI), a batch quantises its probes to int8 too and scores in
/// integers, several times faster than widening the rows to float; the approximate scores only
/// choose candidates, which are then scored exactly (see ``QuantizedProbes`` for the bound that
/// makes the choice safe), so every probe still gets exactly the answer it gets alone.
///
/// Stateless and thread-safe; each call allocates its own scratch.
enum Matcher {
    /// Rows scored per kernel call: the tile that stays in cache while every probe visits it.
    static let tileRows = 256
    /// Rows per work item handed to a core: a multiple of `tileRows`, so that tiles always start
    /// every `tileRows` rows of a block (``singleScore`` relies on it).
    static let itemRows = 32_768

    /// The best `k` live rows whose similarity to `probe` is at least `threshold`, best first,
    /// ties broken by enrollment order.
    ///
    /// - Parameters:
    ///   - probe: a unit vector with the snapshot's dimension.
    ///
    /// - Throws: `corruptStore` when a block's stored vectors fail their checksum.
    static func search(_ snapshot: CollectionSnapshot, probe: [Float], k: Int, threshold: Float) throws -> [MatchHit] {
        try searchBatch(snapshot, probes: [probe], k: k, threshold: threshold)[0]
    }

    /// The best `k` *identities* whose best live row's similarity to `probe` is at least
    /// `threshold`, each at that row, best first, ties broken by enrollment order: what
    /// ``search(_:probe:k:threshold:)`` would give if each identity kept only its best row.
    /// One pass, like ``search(_:probe:k:threshold:)``: the top-k keeps the best row of each
    /// identity (``DistinctTopK``), reading a row's identity only when it could enter.
    ///
    /// - Throws: `corruptStore` when a block's stored vectors fail their checksum.
    ///
    /// - Parameter codes: search through the blocks' compact codes where they pay
    ///   (``searchDistinctCoded(_:probe:k:threshold:kernels:)``, same answer); false scans the
    ///   stored vectors in full.
    static func searchDistinct(_ snapshot: CollectionSnapshot, probe: [Float], k: Int, threshold: Float,
                               codes: Bool = true) throws -> [MatchHit] {
        precondition(probe.count == snapshot.dimension || snapshot.blocks.isEmpty)
        if codes, let hits = try searchDistinctCoded(snapshot, probe: probe, k: k, threshold: threshold) { return hits }
        let collectors = try scanMany(snapshot, ProbeBatch(snapshot, probes: [probe], kernels: lineup_kernels().pointee),
                                      collectors: { _ in DistinctTopK(capacity: k) }) { scores, count, firstRow, block, blockIndex, top in
            collect(scores, count: count, firstRow: firstRow, block: block, blockIndex: blockIndex, threshold: threshold, into: &top)
        }.map { $0[0] }
        var merged = collectors[0]
        for collector in collectors.dropFirst() { merged.merge(collector) }
        return merged.sorted().map(MatchHit.init)
    }

    /// The work items of a scan: runs of at most ``itemRows`` rows of one block.
    static func plan(_ snapshot: CollectionSnapshot) -> [(block: Int, start: Int, count: Int)] {
        var plan: [(block: Int, start: Int, count: Int)] = []
        for (blockIndex, block) in snapshot.blocks.enumerated() {
            var start = 0
            while start < block.count {
                let count = min(itemRows, block.count - start)
                plan.append((blockIndex, start, count))
                start += count
            }
        }
        return plan
    }

    /// ``search(_:probe:k:threshold:)`` for each probe, in one blocked, parallel pass.
    ///
    /// - Parameters:
    ///   - kernels: the kernel table to use (tests pass one with the serial reference of the
    ///     quantised kernel, to exercise that path on any CPU); the single-probe kernels must be
    ///     those ``search(_:probe:k:threshold:)`` uses, the chosen table's.
    ///   - codes: a lone probe may search through the blocks' compact codes
    ///     (``searchCoded(_:probe:k:threshold:kernels:)``, same answer); false scans the
    ///     stored vectors in full (the reference the tests compare with).
    static func searchBatch(_ snapshot: CollectionSnapshot, probes: [[Float]], k: Int,
                            threshold: Float, kernels: lineup_kernel_table = lineup_kernels().pointee,
                            codes: Bool = true) throws -> [[MatchHit]] {
        guard !probes.isEmpty else { return [] }
        if codes, probes.count == 1,
           let hits = try searchCoded(snapshot, probe: probes[0], k: k, threshold: threshold, kernels: kernels) {
            return [hits]
        }
        let batch = ProbeBatch(snapshot, probes: probes, kernels: kernels)
        if let quantized = batch.quantized {
            let perWorker = try scanMany(snapshot, batch, gathers: { probe in
                BoundedGather(best: TopK(capacity: k), k: k, threshold: threshold, bound: quantized.bounds[probe])
            })
            return try (0..<probes.count).map { probeIndex in
                try rescore(snapshot, batch, probeIndex, perWorker.map { $0[probeIndex] }, exact: TopK(capacity: k),
                            threshold: threshold, bound: quantized.bounds[probeIndex]) {
                    try search(snapshot, probe: probes[probeIndex], k: k, threshold: threshold)
                }
            }
        }
        // The multi-probe kernels sum in another order than the single-probe ones, so their
        // scores may differ in the last bits. A batch therefore gathers a few more candidates
        // than asked, with a threshold a little lower, and scores those again with the
        // single-probe kernel: every probe of a batch gets exactly the answer it would get alone.
        let batched = probes.count > 1
        let gatherK = batched ? k + rescoreMargin : k
        let gatherThreshold = batched ? threshold - rescoreSlack : threshold
        let perWorker = try scanMany(snapshot, batch, collectors: { _ in TopK(capacity: gatherK) }) {
            scores, count, firstRow, block, blockIndex, top in
            collect(scores, count: count, firstRow: firstRow, block: block, blockIndex: blockIndex,
                    threshold: gatherThreshold, into: &top)
        }
        return (0..<probes.count).map { probeIndex in
            var merged = perWorker[0][probeIndex]
            for worker in perWorker.dropFirst() { merged.merge(worker[probeIndex]) }
            var entries = merged.sorted()
            if batched {
                var exact = TopK(capacity: k)
                for entry in entries {
                    let score = singleScore(snapshot, entry.position, probe: batch.probe(probeIndex), kernels: kernels)
                    if score >= threshold { exact.offer(.init(score: score, position: entry.position)) }
                }
                entries = exact.sorted()
            }
            return entries.map(MatchHit.init)
        }
    }

    /// ``searchDistinct(_:probe:k:threshold:)`` for each probe, in one blocked, parallel pass:
    /// every probe's candidates are gathered by approximate scores (the quantised kernel's, or
    /// the multi-probe kernel's, whose difference from the single-probe scores is far below
    /// ``rescoreSlack``) under the bound of ``BoundedGather``, with the k-th best *identity*
    /// setting the floor, and scored again exactly: each probe gets the answer it gets alone.
    static func searchDistinctBatch(_ snapshot: CollectionSnapshot, probes: [[Float]], k: Int, threshold: Float,
                                    kernels: lineup_kernel_table = lineup_kernels().pointee) throws -> [[MatchHit]] {
        guard probes.count > 1 else {
            return try probes.map { try searchDistinct(snapshot, probe: $0, k: k, threshold: threshold) }
        }
        let batch = ProbeBatch(snapshot, probes: probes, kernels: kernels)
        let bounds = batch.quantized?.bounds ?? Array(repeating: rescoreSlack, count: probes.count)
        let perWorker = try scanMany(snapshot, batch, gathers: { probe in
            BoundedGather(best: DistinctTopK(capacity: k), k: k, threshold: threshold, bound: bounds[probe])
        })
        return try (0..<probes.count).map { probeIndex in
            try rescore(snapshot, batch, probeIndex, perWorker.map { $0[probeIndex] }, exact: DistinctTopK(capacity: k),
                        threshold: threshold, bound: bounds[probeIndex]) {
                try searchDistinct(snapshot, probe: probes[probeIndex], k: k, threshold: threshold)
            }
        }
    }

    /// The probes of a batch as one 64-byte-aligned matrix (the multi-probe kernels load them
    /// as whole cache lines), the kernels, and their int8 form when every block is int8 and the
    /// table has the exact integer kernel.
    private struct ProbeBatch: @unchecked Sendable {
        let matrix: AlignedFloats
        let count: Int
        let dimension: Int
        let kernels: lineup_kernel_table
        let quantized: QuantizedProbes?

        init(_ snapshot: CollectionSnapshot, probes: [[Float]], kernels: lineup_kernel_table) {
            for probe in probes { precondition(probe.count == snapshot.dimension || snapshot.blocks.isEmpty) }
            let dimension = snapshot.dimension
            let matrix = AlignedFloats(count: max(1, probes.count * dimension))
            for (index, probe) in probes.enumerated() {
                probe.withUnsafeBufferPointer { matrix.pointer.advanced(by: index * dimension).update(from: $0.baseAddress!, count: dimension) }
            }
            self.dimension = dimension
            self.matrix = matrix
            count = probes.count
            self.kernels = kernels
            quantized = if probes.count > 1, kernels.scores_many_i8q != nil, !snapshot.blocks.isEmpty,
                           snapshot.blocks.allSatisfy({ $0.encoding == .int8 }) {
                QuantizedProbes(matrix.pointer, count: probes.count, dimension: dimension)
            } else {
                nil
            }
        }

        func probe(_ index: Int) -> UnsafePointer<Float> { UnsafePointer(matrix.pointer + index * dimension) }
    }

    /// Every probe of `batch` over every live row of `snapshot`, one tile of rows at a time
    /// against all probes (the quantised kernel, else the multi-probe kernel, or the
    /// single-probe kernel for a lone probe), on every core. Each worker hands each probe's
    /// scores of each tile to `offer` with a collector of its own per probe; the workers'
    /// collectors are returned, `[worker][probe]`, for the caller to merge.
    private static func scanMany<C>(_ snapshot: CollectionSnapshot, _ batch: ProbeBatch,
                                    collectors: @escaping @Sendable (_ probe: Int) -> C,
                                    offer: @Sendable (UnsafeMutablePointer<Float>, _ count: Int, _ firstRow: Int,
                                                      VectorBlock, _ blockIndex: Int, inout C) -> Void) throws -> [[C]] {
        let items = plan(snapshot)
        let workers = max(1, min(ProcessInfo.activeProcessors, items.count))
        let results = ResultSlots<[C]>(count: workers)
        let next = Atomic<Int>(0)
        let damaged = Atomic<Bool>(false)
        let probeCount = batch.count
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let kernels = batch.kernels
            var tops = (0..<probeCount).map(collectors)
            // Scores of one tile: row r of probe p at p * tileRows + r.
            var scores = [Float](repeating: 0, count: tileRows * probeCount)
            let allProbes = batch.probe(0)
            scores.withUnsafeMutableBufferPointer { scores in
                while true {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < items.count else { break }
                    let item = items[index]
                    let block = snapshot.blocks[item.block]
                    // Mapped segments check each MiB of vectors the first time a scan needs it.
                    guard block.source.checkVectors(rows: item.start..<(item.start + item.count)) else {
                        damaged.store(true, ordering: .relaxed)
                        continue
                    }
                    let (single, many) = (kernels.single(for: block.encoding), kernels.many(for: block.encoding))
                    block.source.withUnsafeVectors { rows, rowScales in
                        var start = item.start
                        let end = item.start + item.count
                        while start < end {
                            let count = min(tileRows, end - start)
                            let tile = rows + start * block.stride
                            let tileScales = rowScales.map { $0 + start }
                            if let quantized = batch.quantized, let quantizedKernel = kernels.scores_many_i8q {
                                quantizedKernel(tile, block.stride, count, block.dimension, quantized.elements,
                                                quantized.stride, probeCount, quantized.steps, tileScales,
                                                scores.baseAddress, tileRows)
                            } else if probeCount == 1 {
                                single(tile, block.stride, count, block.dimension, allProbes, tileScales, scores.baseAddress)
                            } else {
                                many(tile, block.stride, count, block.dimension, allProbes, probeCount, tileScales,
                                     scores.baseAddress, tileRows)
                            }
                            for probeIndex in 0..<probeCount {
                                offer(scores.baseAddress! + probeIndex * tileRows, count, start, block, item.block, &tops[probeIndex])
                            }
                            start += count
                        }
                    }
                }
            }
            results.set(worker, tops)
        }
        if damaged.load(ordering: .relaxed) {
            throw LineupError(.corruptStore, "a segment's vectors fail their checksum; run lineup verify")
        }
        return results.values()
    }

    /// ``scanMany(_:_:collectors:offer:)`` with one ``BoundedGather`` per probe: offers each
    /// tile's live rows that reach the gather's floor.
    private static func scanMany<Best>(_ snapshot: CollectionSnapshot, _ batch: ProbeBatch,
                                       gathers: @escaping @Sendable (_ probe: Int) -> BoundedGather<Best>) throws -> [[BoundedGather<Best>]] {
        try scanMany(snapshot, batch, collectors: gathers) { scores, count, firstRow, block, blockIndex, gather in
            // The floor only rises, so reading it once per tile is conservative.
            let floor = gather.floor
            for index in 0..<count where scores[index] >= floor {
                let row = firstRow + index
                guard block.isLive(row) else { continue }
                gather.offer(.init(score: min(max(scores[index], -1), 1), position: UInt64(blockIndex) << 32 | UInt64(row)),
                             block: block, row: row)
            }
        }
    }

    /// One probe's answer from its workers' gathers: the workers' best give the k-th best
    /// approximate score of the whole snapshot, hence the final floor; the candidates at or
    /// above it are scored exactly and offered to `exact`. A probe whose candidates overflowed
    /// (a gallery of near-duplicates of it) is searched alone by `alone`, which is exact by
    /// definition.
    private static func rescore<Best: HitCollector>(_ snapshot: CollectionSnapshot, _ batch: ProbeBatch, _ probeIndex: Int,
                                                    _ gathered: [BoundedGather<Best>], exact: Best, threshold: Float, bound: Float,
                                                    alone: () throws -> [MatchHit]) rethrows -> [MatchHit] {
        if gathered.contains(where: \.overflowed) { return try alone() }
        var best = gathered[0].best
        for gather in gathered.dropFirst() { best.merge(gather.best) }
        let floor = BoundedGather<Best>.floor(threshold: threshold, bound: bound, kthBest: best.entryScore)
        var exact = exact
        for gather in gathered {
            for entry in gather.candidates where entry.score >= floor {
                let score = singleScore(snapshot, entry.position, probe: batch.probe(probeIndex), kernels: batch.kernels)
                let (block, row) = (Int(entry.position >> 32), Int(entry.position & 0xFFFF_FFFF))
                if score >= threshold { exact.offer(.init(score: score, position: entry.position), block: snapshot.blocks[block], row: row) }
            }
        }
        return exact.sorted().map(MatchHit.init)
    }

    /// Extra candidates a batch gathers per probe before scoring them again.
    static let rescoreMargin = 8
    /// How far below the threshold a batch gathers: far more than the kernels ever differ.
    static let rescoreSlack: Float = 1e-4

    /// One row's clamped score exactly as ``search(_:probe:k:threshold:)`` computes it. The
    /// single-probe kernels reduce a group of four rows differently from a lone row, so the
    /// row is scored in the same company as in a scan: its group of four within its tile (tiles
    /// start every `tileRows` rows of a block), or alone if it is one of the tile's last
    /// `count % 4` rows.
    static func singleScore(_ snapshot: CollectionSnapshot, _ position: UInt64,
                                    probe: UnsafePointer<Float>, kernels: lineup_kernel_table) -> Float {
        let row = Int(position & 0xFFFF_FFFF)
        let block = snapshot.blocks[Int(position >> 32)]
        let kernel = kernels.single(for: block.encoding)
        let tileStart = row / tileRows * tileRows
        let tileCount = min(tileRows, block.count - tileStart)
        let grouped = tileCount - tileCount % 4
        let offset = row - tileStart
        let first = offset < grouped ? tileStart + offset / 4 * 4 : row
        let count = offset < grouped ? 4 : 1
        var scores: (Float, Float, Float, Float) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &scores) { out in
            block.source.withUnsafeVectors { rows, rowScales in
                kernel(rows + first * block.stride, block.stride, count, block.dimension, probe,
                       rowScales.map { $0 + first }, out.baseAddress!.assumingMemoryBound(to: Float.self))
            }
        }
        let score = withUnsafeBytes(of: &scores) { $0.load(fromByteOffset: (row - first) * 4, as: Float.self) }
        return min(max(score, -1), 1)
    }

    /// Offers the live rows of one scored tile whose score reaches the threshold.
    @inline(__always)
    private static func collect<C: HitCollector>(_ scores: UnsafeMutablePointer<Float>, count: Int, firstRow: Int,
                                                 block: VectorBlock, blockIndex: Int, threshold: Float, into top: inout C) {
        let floor = max(threshold, top.entryScore)
        for index in 0..<count {
            // A cosine lies in [-1, 1]; rounding can push a sum just past either end. Clamp
            // first, so that the threshold, the ranking and the tie-break all see the
            // similarity that is reported.
            let score = min(max(scores[index], -1), 1)
            guard score >= floor else { continue }
            let row = firstRow + index
            guard block.isLive(row) else { continue }
            top.offer(.init(score: score, position: UInt64(blockIndex) << 32 | UInt64(row)), block: block, row: row)
        }
    }
}

extension lineup_kernel_table {
    /// The single-probe kernel for rows stored as `encoding`.
    func single(for encoding: VectorCompression) -> lineup_scores_fn {
        switch encoding {
        case .none: scores_f32
        case .fp16: scores_f16
        case .int8: scores_i8
        }
    }

    /// The multi-probe kernel for rows stored as `encoding`.
    func many(for encoding: VectorCompression) -> lineup_scores_many_fn {
        switch encoding {
        case .none: scores_many_f32
        case .fp16: scores_many_f16
        case .int8: scores_many_i8
        }
    }
}

/// A kernel table handed to the workers: plain function pointers and a static string, immutable.
struct SendableKernels: @unchecked Sendable {
    let kernels: lineup_kernel_table
    init(_ kernels: lineup_kernel_table) { self.kernels = kernels }
}

extension ProcessInfo {
    /// Cores this process may use.
    static let activeProcessors = ProcessInfo.processInfo.activeProcessorCount
}

/// A 64-byte-aligned buffer of floats, freed with the object; read-only once filled.
final class AlignedFloats: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
            .initializeMemory(as: Float.self, repeating: 0, count: count)
    }

    deinit { pointer.deallocate() }
}

/// Slots that concurrent workers fill, each its own index exactly once.
final class ResultSlots<Value>: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<Value?>
    private let count: Int

    init(count: Int) {
        self.count = count
        storage = .allocate(capacity: max(count, 1))
        storage.initialize(repeating: nil, count: count)
    }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    /// Sets slot `index`; each index from one worker only.
    func set(_ index: Int, _ value: Value) {
        precondition(index >= 0 && index < count)
        storage[index] = value
    }

    /// Every slot, in order; call after all workers have finished.
    func values() -> [Value] {
        (0..<count).map { storage[$0]! }
    }
}
