import Dispatch
import Foundation
import LineupKernels
import Synchronization

/// One probe's search through the compact codes (``CompactCode``): exactly the answer of the
/// full scan, reading a quarter of the bytes.
///
/// Every row of a block with codes is scored from its int8 code with the int8 kernel; its
/// exact score (the float kernels' over the stored vector) then lies within ‖p‖ · B of that,
/// B the row's stored bound, so each row has a lower bound ℓ and an upper bound u (clamped to
/// [−1, 1] like every score; clamping keeps the order). Rows of blocks without codes (the
/// journal's tail, int8 blocks, segments written before codes existed) are scored exactly, ℓ =
/// u. Write L for the k-th best ℓ over all live rows: at least k rows score at least L, so the
/// k-th best exact score is at least L, and a row of the exact answer scores at least max(T, L)
/// — hence has u ≥ max(T, L). The scan keeps every live row with u at or above that floor
/// (computed with the k-th best ℓ seen so far, which never exceeds L) and scores the kept ones
/// exactly, with the very kernel call the full scan makes for them (``Matcher/singleScore``):
/// ranking those (score, then enrollment order) gives the full scan's answer, bit for bit.
///
/// How many rows are kept depends on how many lie within about 2‖p‖B of the k-th best score:
/// a handful for face-like data, where the best matches stand well clear of the impostors.
/// A gallery of near-duplicates of the probe can keep thousands; past ``CandidateList/cap`` the
/// search gives up and the caller scans in full (the codes pass is then the whole extra cost).
extension Matcher {
    /// Above this many candidates a search scans in full: the floor is then the k-th of many,
    /// and the codes would save little.
    static let codedSearchLimit = 256

    /// ``search(_:probe:k:threshold:)`` through the codes, or nil when no block has codes, k is
    /// above ``codedSearchLimit``, or too many rows could not be ruled out (scan in full).
    ///
    /// - Throws: `corruptStore` when codes or vectors that the search reads fail their checksum.
    static func searchCoded(_ snapshot: CollectionSnapshot, probe: [Float], k: Int, threshold: Float,
                            kernels: lineup_kernel_table = lineup_kernels().pointee) throws -> [MatchHit]? {
        try searchCoded(snapshot, probe: probe, k: k, threshold: threshold, kernels: kernels) { TopK(capacity: k) }
    }

    /// ``searchDistinct(_:probe:k:threshold:)`` through the codes, or nil as for
    /// ``searchCoded(_:probe:k:threshold:kernels:)``. The k-th best *identity*'s lower bound
    /// sets the floor: at least k identities have a row scoring at least it, so the k-th best
    /// identity's exact score is at least it too, and the row at which an identity of the
    /// answer scores best (and any row of it that ties) has its upper bound at or above it.
    static func searchDistinctCoded(_ snapshot: CollectionSnapshot, probe: [Float], k: Int, threshold: Float,
                                    kernels: lineup_kernel_table = lineup_kernels().pointee) throws -> [MatchHit]? {
        try searchCoded(snapshot, probe: probe, k: k, threshold: threshold, kernels: kernels) { DistinctTopK(capacity: k) }
    }

    /// The coded search with `collector` choosing what is kept: the k best rows (``TopK``) or
    /// the k best identities (``DistinctTopK``), of lower bounds while scanning and of exact
    /// scores after.
    private static func searchCoded<Best: HitCollector>(_ snapshot: CollectionSnapshot, probe: [Float], k: Int, threshold: Float,
                                                        kernels: lineup_kernel_table,
                                                        collector: @escaping @Sendable () -> Best) throws -> [MatchHit]? {
        guard k <= codedSearchLimit, CodedSearchCounters.enabled.load(ordering: .relaxed), snapshot.blocks.contains(where: { $0.source.withUnsafeCodes { _ in true } ?? false })
        else { return nil }
        precondition(probe.count == snapshot.dimension)
        let probeMatrix = AlignedFloats(count: max(1, snapshot.dimension))
        probe.withUnsafeBufferPointer { probeMatrix.pointer.update(from: $0.baseAddress!, count: probe.count) }
        // ‖p‖, rounded up: the bounds scale with it.
        let probeNorm = Float(VectorEncoder.squaredNorm(probe).squareRoot() * (1 + 1e-12)).nextUp
        // With an exact integer kernel (VNNI), the probe is quantised too and the codes scored
        // in integers (``QuantizedProbes``): a row's score is then within ‖p‖ · B + ‖c q‖ · e of
        // the exact one, e the probe's own quantisation error.
        let quantized: QuantizedProbes? = kernels.scores_many_i8q != nil
            ? QuantizedProbes(probeMatrix.pointer, count: 1, dimension: snapshot.dimension) : nil
        let items = plan(snapshot)
        let workers = max(1, min(ProcessInfo.activeProcessors, items.count))
        let results = ResultSlots<BoundedGather<Best>>(count: workers)
        let next = Atomic<Int>(0)
        let damaged = Atomic<Bool>(false)
        let table = SendableKernels(kernels)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let kernels = table.kernels
            let probePointer = UnsafePointer(probeMatrix.pointer)
            var gather = BoundedGather(lower: collector(), k: k, threshold: threshold)
            var scores = [Float](repeating: 0, count: tileRows)
            scores.withUnsafeMutableBufferPointer { scores in
                let out = scores.baseAddress!
                while !gather.overflowed {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < items.count else { break }
                    let item = items[index]
                    let block = snapshot.blocks[item.block]
                    let rows = item.start..<(item.start + item.count)
                    let coded: Bool? = block.source.withUnsafeCodes { codes in
                        guard block.source.checkCodes(rows: rows) else { return false }
                        var first = item.start
                        if let quantized, let integer = kernels.scores_many_i8q {
                            let (norm, codeError) = (quantized.norms[0], quantized.codeErrors[0])
                            while first < rows.upperBound {
                                let count = min(tileRows, rows.upperBound - first)
                                integer(codes.codes + first * codes.stride, codes.stride, count, block.dimension,
                                        quantized.elements, quantized.stride, 1, quantized.steps, codes.scales + first, out, tileRows)
                                let bounds = codes.bounds + first
                                // The tile's largest ‖c q‖ stands for each row's own.
                                let normError = (codes.normCeiling(rows: first..<(first + count), dimension: block.dimension)
                                                 * codeError).nextUp
                                let tileError = ((norm * codes.largestBound).nextUp + normError).nextUp
                                gather.offer(out, count: count, firstRow: first, block: block, blockIndex: item.block,
                                             largestError: tileError) { ((norm * bounds[$0]).nextUp + normError).nextUp }
                                first += count
                            }
                            return true
                        }
                        // At least every row's own error (`error` below), rounded up the same way.
                        let largestError = (probeNorm * codes.largestBound).nextUp
                        while first < rows.upperBound {
                            let count = min(tileRows, rows.upperBound - first)
                            kernels.scores_i8(codes.codes + first * codes.stride, codes.stride, count, block.dimension,
                                              probePointer, codes.scales + first, out)
                            let bounds = codes.bounds + first
                            gather.offer(out, count: count, firstRow: first, block: block, blockIndex: item.block,
                                         largestError: largestError) { (probeNorm * bounds[$0]).nextUp }
                            first += count
                        }
                        return true
                    }
                    if coded == false {
                        damaged.store(true, ordering: .relaxed)
                        continue
                    }
                    if coded == true { continue }
                    // No codes: the stored vectors, scored exactly as the full scan scores them.
                    guard block.source.checkVectors(rows: rows) else {
                        damaged.store(true, ordering: .relaxed)
                        continue
                    }
                    let single = kernels.single(for: block.encoding)
                    block.source.withUnsafeVectors { vectors, rowScales in
                        var first = item.start
                        while first < rows.upperBound {
                            let count = min(tileRows, rows.upperBound - first)
                            single(vectors + first * block.stride, block.stride, count, block.dimension, probePointer,
                                   rowScales.map { $0 + first }, out)
                            gather.offerExact(out, count: count, firstRow: first, block: block, blockIndex: item.block)
                            first += count
                        }
                    }
                }
            }
            results.set(worker, gather)
        }
        if damaged.load(ordering: .relaxed) {
            throw LineupError(.corruptStore, "a segment's vectors or codes fail their checksum; run lineup verify")
        }
        return try rescore(snapshot, probe: probeMatrix.pointer, kernels: kernels, results.values(), exact: collector(),
                           threshold: threshold)
    }

    /// One probe's answer from its workers' gathers (``BoundedGather``), or nil when one of
    /// them overflowed: the workers' lower bounds give the k-th best of the whole snapshot,
    /// hence the final floor; the candidates whose upper bound reaches it are scored exactly
    /// (with the full scan's own kernel call, ``singleScore``) and offered to `exact`.
    ///
    /// - Throws: `corruptStore` when the vectors of a row to rescore fail their checksum.
    static func rescore<Best: HitCollector>(_ snapshot: CollectionSnapshot, probe: UnsafePointer<Float>, kernels: lineup_kernel_table,
                                            _ gathered: [BoundedGather<Best>], exact: Best, threshold: Float) throws -> [MatchHit]? {
        if gathered.contains(where: \.overflowed) { return nil }
        var lower = gathered[0].lower
        for gather in gathered.dropFirst() { lower.merge(gather.lower) }
        let floor = max(threshold, lower.entryScore)
        var exact = exact
        var rescored = 0
        defer {
            CodedSearchCounters.rescoredRows.add(rescored, ordering: .relaxed)
            CodedSearchCounters.searches.add(1, ordering: .relaxed)
        }
        for gather in gathered {
            for candidate in gather.candidates where candidate.upper >= floor {
                let score: Float
                let block = snapshot.blocks[Int(candidate.position >> 32)]
                let row = Int(candidate.position & 0xFFFF_FFFF)
                if candidate.exact {
                    score = candidate.score
                } else {
                    guard block.source.checkVectors(rows: row..<(row + 1)) else {
                        throw LineupError(.corruptStore, "a segment's vectors fail their checksum; run lineup verify")
                    }
                    score = singleScore(snapshot, candidate.position, probe: probe, kernels: kernels)
                    rescored += 1
                }
                if score >= threshold { exact.offer(.init(score: score, position: candidate.position), block: block, row: row) }
            }
        }
        return exact.sorted().map(MatchHit.init)
    }
}

/// Rows scored exactly after coded searches ruled the others out, and coded searches answered,
/// since the process started (what the benchmarks report); and whether identification may
/// search through codes at all (true unless a benchmark times the full scan beside it).
package enum CodedSearchCounters {
    package static let rescoredRows = Atomic<Int>(0)
    package static let searches = Atomic<Int>(0)
    package static let enabled = Atomic<Bool>(true)
}
