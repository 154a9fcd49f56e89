import Dispatch
import LineupKernels

/// One match the scan found: its score and where it is in the snapshot.
struct MatchHit: Sendable, Equatable {
    var score: Float
    var block: Int
    var row: Int
}

/// The exact matcher: scores every live row of a snapshot against a probe with the kernels of
/// the dispatch table, and keeps a bounded top-k. Records (UUID, identity) are resolved only
/// for the winners, after the scan.
///
/// Stateless and thread-safe; each call allocates its own scratch.
enum Matcher {
    /// Rows scored per kernel call: small enough that the scores stay in L1.
    static let tileRows = 512

    /// The best `k` live rows whose similarity to `probe` is at least `threshold`, best first,
    /// ties broken by enrollment order.
    ///
    /// - Parameters:
    ///   - probe: a unit vector with the snapshot's dimension.
    static func search(_ snapshot: CollectionSnapshot, probe: [Float], k: Int, threshold: Float) -> [MatchHit] {
        precondition(probe.count == snapshot.dimension || snapshot.blocks.isEmpty)
        var top = TopK(capacity: k)
        let kernels = lineup_kernels().pointee
        var scores = [Float](repeating: 0, count: tileRows)
        probe.withUnsafeBufferPointer { probe in
            scores.withUnsafeMutableBufferPointer { scores in
                for (blockIndex, block) in snapshot.blocks.enumerated() {
                    let kernel: lineup_scores_fn = switch block.encoding {
                    case .none: kernels.scores_f32
                    case .fp16: kernels.scores_f16
                    case .int8: kernels.scores_i8
                    }
                    block.source.withUnsafeVectors { rows, rowScales in
                        var start = 0
                        while start < block.count {
                            let count = min(tileRows, block.count - start)
                            kernel(rows + start * block.stride, block.stride, count, block.dimension,
                                   probe.baseAddress, rowScales.map { $0 + start }, scores.baseAddress)
                            let floor = max(threshold, top.entryScore)
                            for index in 0..<count {
                                // A cosine lies in [-1, 1]; rounding can push a sum just past
                                // either end. Clamp first, so that the threshold, the ranking
                                // and the tie-break all see the similarity that is reported.
                                let score = min(max(scores[index], -1), 1)
                                guard score >= floor else { continue }
                                let row = start + index
                                guard block.isLive(row) else { continue }
                                top.offer(.init(score: score, position: UInt64(blockIndex) << 32 | UInt64(row)))
                            }
                            start += count
                        }
                    }
                }
            }
        }
        return top.sorted().map {
            MatchHit(score: $0.score, block: Int($0.position >> 32), row: Int($0.position & 0xFFFF_FFFF))
        }
    }

    /// ``search(_:probe:k:threshold:)`` for each probe, the probes spread over every core.
    static func searchBatch(_ snapshot: CollectionSnapshot, probes: [[Float]], k: Int,
                            threshold: Float) -> [[MatchHit]] {
        let results = ResultSlots<[MatchHit]>(count: probes.count)
        DispatchQueue.concurrentPerform(iterations: probes.count) { index in
            results.set(index, search(snapshot, probe: probes[index], k: k, threshold: threshold))
        }
        return results.values()
    }
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
