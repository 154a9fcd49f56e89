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
        let collectors = try scanMany(snapshot, ProbeBatch(snapshot, probes: [probe], kernels: lineup_kernels().pointee, codes: false),
                                      collectors: { _ in DistinctTopK(capacity: k) }) { scores, count, firstRow, block, blockIndex, _, _, top in
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
        guard probes.count > 1 else {
            let perWorker = try scanMany(snapshot, ProbeBatch(snapshot, probes: probes, kernels: kernels, codes: false),
                                         collectors: { _ in TopK(capacity: k) }) { scores, count, firstRow, block, blockIndex, _, _, top in
                collect(scores, count: count, firstRow: firstRow, block: block, blockIndex: blockIndex, threshold: threshold, into: &top)
            }
            var merged = perWorker[0][0]
            for worker in perWorker.dropFirst() { merged.merge(worker[0]) }
            return [merged.sorted().map(MatchHit.init)]
        }
        return try searchGathered(snapshot, probes: probes, k: k, threshold: threshold, kernels: kernels, codes: codes,
                                  collector: { TopK(capacity: k) }) { probe in
            try searchBatch(snapshot, probes: [probe], k: k, threshold: threshold, kernels: kernels, codes: codes)[0]
        }
    }

    /// ``searchDistinct(_:probe:k:threshold:)`` for each probe, in one blocked, parallel pass:
    /// every probe's candidates are gathered by approximate scores (the quantised kernel's, or
    /// the multi-probe kernel's, whose difference from the single-probe scores is far below
    /// ``rescoreSlack``) under the bound of ``BoundedGather``, with the k-th best *identity*
    /// setting the floor, and scored again exactly: each probe gets the answer it gets alone.
    static func searchDistinctBatch(_ snapshot: CollectionSnapshot, probes: [[Float]], k: Int, threshold: Float,
                                    kernels: lineup_kernel_table = lineup_kernels().pointee,
                                    codes: Bool = true) throws -> [[MatchHit]] {
        guard probes.count > 1 else {
            return try probes.map { try searchDistinct(snapshot, probe: $0, k: k, threshold: threshold, codes: codes) }
        }
        return try searchGathered(snapshot, probes: probes, k: k, threshold: threshold, kernels: kernels, codes: codes,
                                  collector: { DistinctTopK(capacity: k) }) { probe in
            try searchDistinct(snapshot, probe: probe, k: k, threshold: threshold, codes: codes)
        }
    }

    /// Several probes in one blocked pass, each gathering its candidates by approximate scores
    /// into a ``BoundedGather`` whose collector `collector` makes (the k best rows or
    /// identities), then scored exactly: each probe gets the answer it gets alone, or from
    /// `alone` (a search of it alone) when its gather overflowed.
    private static func searchGathered<Best: HitCollector>(_ snapshot: CollectionSnapshot, probes: [[Float]], k: Int, threshold: Float,
                                                           kernels: lineup_kernel_table, codes: Bool,
                                                           collector: @escaping @Sendable () -> Best,
                                                           alone: ([Float]) throws -> [MatchHit]) throws -> [[MatchHit]] {
        let batch = ProbeBatch(snapshot, probes: probes, kernels: kernels, codes: codes)
        let perWorker = try scanMany(snapshot, batch, collectors: { _ in BoundedGather(lower: collector(), k: k, threshold: threshold) }) {
            scores, count, firstRow, block, blockIndex, error, probe, gather in
            switch error {
            case .uniform(let errors):
                let error = errors[probe]
                gather.offer(scores, count: count, firstRow: firstRow, block: block, blockIndex: blockIndex, largestError: error) { _ in error }
            case .coded(let bounds, let largestBound, let normCeiling):
                // ‖p‖ · B + ‖c q‖ · e, each product and the sum rounded up.
                let quantized = batch.quantized!
                let (norm, codeError) = (quantized.norms[probe], quantized.codeErrors[probe])
                let normError = (normCeiling * codeError).nextUp
                let largestError = ((norm * largestBound).nextUp + normError).nextUp
                gather.offer(scores, count: count, firstRow: firstRow, block: block, blockIndex: blockIndex, largestError: largestError) {
                    ((norm * bounds[$0]).nextUp + normError).nextUp
                }
            }
        }
        // Each probe's survivors scored exactly, the probes shared among the cores.
        let answers = ResultSlots<Result<[MatchHit]?, any Error>>(count: probes.count)
        let table = SendableKernels(kernels)
        DispatchQueue.concurrentPerform(iterations: min(ProcessInfo.activeProcessors, probes.count)) { worker in
            for probeIndex in stride(from: worker, to: probes.count, by: ProcessInfo.activeProcessors) {
                answers.set(probeIndex, Result {
                    try rescore(snapshot, probe: batch.probe(probeIndex), kernels: table.kernels, perWorker.map { $0[probeIndex] },
                                exact: collector(), threshold: threshold)
                })
            }
        }
        return try answers.values().enumerated().map { probeIndex, answer in
            try answer.get() ?? alone(probes[probeIndex])
        }
    }

    /// The probes of a batch as one 64-byte-aligned matrix (the multi-probe kernels load them
    /// as whole cache lines), the kernels, and the probes' int8 form when the table has the
    /// exact integer kernel and a block can use it (an int8 block, or one with compact codes
    /// when `codes` allows them).
    private struct ProbeBatch: @unchecked Sendable {
        let matrix: AlignedFloats
        let count: Int
        let dimension: Int
        let kernels: lineup_kernel_table
        let quantized: QuantizedProbes?
        /// Whether blocks with compact codes are scored from them (with `quantized`).
        let codes: Bool
        /// What the multi-probe kernels may differ from the single-probe ones, per probe.
        let slack: [Float]

        init(_ snapshot: CollectionSnapshot, probes: [[Float]], kernels: lineup_kernel_table, codes: Bool) {
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
            let codes = probes.count > 1 && codes && CodedSearchCounters.enabled.load(ordering: .relaxed)
            self.codes = codes
            let useful = snapshot.blocks.contains { block in
                block.encoding == .int8 || (codes && block.source.withUnsafeCodes { _ in true } ?? false)
            }
            quantized = if probes.count > 1, kernels.scores_many_i8q != nil, useful {
                QuantizedProbes(matrix.pointer, count: probes.count, dimension: dimension)
            } else {
                nil
            }
            slack = Array(repeating: rescoreSlack, count: probes.count)
        }

        func probe(_ index: Int) -> UnsafePointer<Float> { UnsafePointer(matrix.pointer + index * dimension) }
    }

    /// How far one tile's approximate scores may be from the exact ones, for each probe.
    enum TileError {
        /// Probe p's scores are within errors[p] of the exact ones (0 for a lone probe's).
        case uniform([Float])
        /// Scored from compact codes with the quantised probes: row r's score for probe p is
        /// within ‖p‖ · bounds[r] + normCeiling · e_p (``QuantizedProbes/codeErrors``), the
        /// ceiling at least every row's ‖c q‖ (``CompactCodes/normCeiling(rows:dimension:)``).
        case coded(bounds: UnsafePointer<Float>, largestBound: Float, normCeiling: Float)
    }

    /// Every probe of `batch` over every live row of `snapshot`, one tile of rows at a time
    /// against all probes, on every core: for a lone probe the single-probe kernel (exact
    /// scores); for several, the quantised kernel over compact codes and int8 blocks where
    /// `batch` has quantised probes, else the multi-probe kernel. Each worker hands each
    /// probe's scores of each tile, with their ``TileError``, to `offer` with a collector of its
    /// own per probe; the workers' collectors are returned, `[worker][probe]`, for the caller
    /// to merge.
    private static func scanMany<C>(_ snapshot: CollectionSnapshot, _ batch: ProbeBatch,
                                    collectors: @escaping @Sendable (_ probe: Int) -> C,
                                    offer: @Sendable (UnsafeMutablePointer<Float>, _ count: Int, _ firstRow: Int, VectorBlock,
                                                      _ blockIndex: Int, TileError, _ probe: Int, inout C) -> Void) throws -> [[C]] {
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
            let exactError = TileError.uniform(Array(repeating: 0, count: probeCount))
            scores.withUnsafeMutableBufferPointer { scores in
                while true {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < items.count else { break }
                    let item = items[index]
                    let block = snapshot.blocks[item.block]
                    let rows = item.start..<(item.start + item.count)
                    if let quantized = batch.quantized, batch.codes, let quantizedKernel = kernels.scores_many_i8q,
                       let coded = block.source.withUnsafeCodes({ codes -> Bool in
                           guard block.source.checkCodes(rows: rows) else { return false }
                           var start = item.start
                           while start < rows.upperBound {
                               let count = min(tileRows, rows.upperBound - start)
                               quantizedKernel(codes.codes + start * codes.stride, codes.stride, count, block.dimension,
                                               quantized.elements, quantized.stride, probeCount, quantized.steps,
                                               codes.scales + start, scores.baseAddress, tileRows)
                               let error = TileError.coded(
                                   bounds: codes.bounds + start, largestBound: codes.largestBound,
                                   normCeiling: codes.normCeiling(rows: start..<(start + count), dimension: block.dimension))
                               for probeIndex in 0..<probeCount {
                                   offer(scores.baseAddress! + probeIndex * tileRows, count, start, block, item.block, error,
                                         probeIndex, &tops[probeIndex])
                               }
                               start += count
                           }
                           return true
                       }) {
                        if !coded { damaged.store(true, ordering: .relaxed) }
                        continue
                    }
                    // Mapped segments check each MiB of vectors the first time a scan needs it.
                    guard block.source.checkVectors(rows: rows) else {
                        damaged.store(true, ordering: .relaxed)
                        continue
                    }
                    let (single, many) = (kernels.single(for: block.encoding), kernels.many(for: block.encoding))
                    let quantized = block.encoding == .int8 ? batch.quantized : nil
                    let error = probeCount == 1 ? exactError : .uniform(quantized?.bounds ?? batch.slack)
                    block.source.withUnsafeVectors { vectors, rowScales in
                        var start = item.start
                        while start < rows.upperBound {
                            let count = min(tileRows, rows.upperBound - start)
                            let tile = vectors + start * block.stride
                            let tileScales = rowScales.map { $0 + start }
                            if let quantized, let quantizedKernel = kernels.scores_many_i8q {
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
                                offer(scores.baseAddress! + probeIndex * tileRows, count, start, block, item.block, error,
                                      probeIndex, &tops[probeIndex])
                            }
                            start += count
                        }
                    }
                }
            }
            results.set(worker, tops)
        }
        if damaged.load(ordering: .relaxed) {
            throw LineupError(.corruptStore, "a segment's vectors or codes fail their checksum; run lineup verify")
        }
        return results.values()
    }

    /// The bound a batch uses for the multi-probe kernels' scores: they sum in another order
    /// than the single-probe kernels, so they may differ in the last bits — far less than this.
    static let rescoreSlack: Float = 1e-4

    /// One row's clamped score exactly as ``search(_:probe:k:threshold:)`` computes it. The
    /// single-probe kernels reduce a group of four rows differently from a lone row, so the
    /// row is scored in the same place as in a scan: at its position in its group of four
    /// within its tile (tiles start every `tileRows` rows of a block), or alone if it is one of
    /// the tile's last `count % 4` rows. Each row of a group is summed on its own (the four
    /// are only stored together), so the group is the row itself four times (stride 0): the
    /// same bits, reading one row instead of four.
    static func singleScore(_ snapshot: CollectionSnapshot, _ position: UInt64,
                                    probe: UnsafePointer<Float>, kernels: lineup_kernel_table) -> Float {
        let row = Int(position & 0xFFFF_FFFF)
        let block = snapshot.blocks[Int(position >> 32)]
        let kernel = kernels.single(for: block.encoding)
        let tileStart = row / tileRows * tileRows
        let tileCount = min(tileRows, block.count - tileStart)
        let grouped = tileCount - tileCount % 4
        let offset = row - tileStart
        let (count, place) = offset < grouped ? (4, offset % 4) : (1, 0)
        var scores: (Float, Float, Float, Float) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &scores) { out in
            block.source.withUnsafeVectors { rows, rowScales in
                let scale = rowScales.map { $0[row] } ?? 0
                let scales: (Float, Float, Float, Float) = (scale, scale, scale, scale)
                withUnsafeBytes(of: scales) { scales in
                    kernel(rows + row * block.stride, 0, count, block.dimension, probe,
                           rowScales == nil ? nil : scales.baseAddress!.assumingMemoryBound(to: Float.self),
                           out.baseAddress!.assumingMemoryBound(to: Float.self))
                }
            }
        }
        let score = withUnsafeBytes(of: &scores) { $0.load(fromByteOffset: place * 4, as: Float.self) }
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
