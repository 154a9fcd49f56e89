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

/// The exact matcher: scores every live row of a snapshot against one or more probes with the
/// kernels of the dispatch table, and keeps a bounded top-k per probe. Records (UUID,
/// identity) are resolved only for the winners, after the scan.
///
/// **Parallel.** The snapshot's rows are cut into work items that the process's cores take
/// in turn, so one probe uses every core; each worker keeps its own top-k, merged at the end.
///
/// **Blocked.** For several probes, a worker scores one tile of rows (small enough to stay in
/// the L2 cache) against every probe before moving on, so memory is read once per batch
/// rather than once per probe.
///
/// Stateless and thread-safe; each call allocates its own scratch.
enum Matcher {
    /// Rows scored per kernel call: the tile that stays in cache while every probe visits it.
    static let tileRows = 256
    /// Rows per work item handed to a core.
    static let itemRows = 32_768

    /// The best `k` live rows whose similarity to `probe` is at least `threshold`, best first,
    /// ties broken by enrollment order.
    ///
    /// - Parameters:
    ///   - probe: a unit vector with the snapshot's dimension.
    static func search(_ snapshot: CollectionSnapshot, probe: [Float], k: Int, threshold: Float) -> [MatchHit] {
        searchBatch(snapshot, probes: [probe], k: k, threshold: threshold)[0]
    }

    /// ``search(_:probe:k:threshold:)`` for each probe, in one blocked, parallel pass.
    static func searchBatch(_ snapshot: CollectionSnapshot, probes: [[Float]], k: Int,
                            threshold: Float) -> [[MatchHit]] {
        guard !probes.isEmpty else { return [] }
        for probe in probes { precondition(probe.count == snapshot.dimension || snapshot.blocks.isEmpty) }
        var plan: [(block: Int, start: Int, count: Int)] = []
        for (blockIndex, block) in snapshot.blocks.enumerated() {
            var start = 0
            while start < block.count {
                let count = min(itemRows, block.count - start)
                plan.append((blockIndex, start, count))
                start += count
            }
        }
        let items = plan
        let workers = max(1, min(ProcessInfo.activeProcessors, items.count))
        let results = ResultSlots<[TopK]>(count: workers)
        let next = Atomic<Int>(0)
        let flatProbes = probes.flatMap { $0 }
        let dimension = snapshot.dimension
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var tops = (0..<probes.count).map { _ in TopK(capacity: k) }
            var scores = [Float](repeating: 0, count: tileRows)
            let kernels = lineup_kernels().pointee
            flatProbes.withUnsafeBufferPointer { allProbes in
                scores.withUnsafeMutableBufferPointer { scores in
                    while true {
                        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard index < items.count else { break }
                        let item = items[index]
                        let block = snapshot.blocks[item.block]
                        let kernel: lineup_scores_fn = switch block.encoding {
                        case .none: kernels.scores_f32
                        case .fp16: kernels.scores_f16
                        case .int8: kernels.scores_i8
                        }
                        block.source.withUnsafeVectors { rows, rowScales in
                            var start = item.start
                            let end = item.start + item.count
                            while start < end {
                                let count = min(tileRows, end - start)
                                let tile = rows + start * block.stride
                                let tileScales = rowScales.map { $0 + start }
                                for probeIndex in 0..<probes.count {
                                    kernel(tile, block.stride, count, block.dimension,
                                           allProbes.baseAddress! + probeIndex * dimension, tileScales, scores.baseAddress)
                                    collect(scores, count: count, firstRow: start, block: block, blockIndex: item.block,
                                            threshold: threshold, into: &tops[probeIndex])
                                }
                                start += count
                            }
                        }
                    }
                }
            }
            results.set(worker, tops)
        }
        // Merge every worker's top-k into the first's.
        let perWorker = results.values()
        return (0..<probes.count).map { probeIndex in
            var merged = perWorker[0][probeIndex]
            for worker in perWorker.dropFirst() {
                for entry in worker[probeIndex].sorted() { merged.offer(entry) }
            }
            return merged.sorted().map {
                MatchHit(score: $0.score, block: Int($0.position >> 32), row: Int($0.position & 0xFFFF_FFFF))
            }
        }
    }

    /// Offers the live rows of one scored tile whose score reaches the threshold.
    @inline(__always)
    private static func collect(_ scores: UnsafeMutableBufferPointer<Float>, count: Int, firstRow: Int,
                                block: VectorBlock, blockIndex: Int, threshold: Float, into top: inout TopK) {
        let floor = max(threshold, top.entryScore)
        for index in 0..<count {
            // A cosine lies in [-1, 1]; rounding can push a sum just past either end. Clamp
            // first, so that the threshold, the ranking and the tie-break all see the
            // similarity that is reported.
            let score = min(max(scores[index], -1), 1)
            guard score >= floor else { continue }
            let row = firstRow + index
            guard block.isLive(row) else { continue }
            top.offer(.init(score: score, position: UInt64(blockIndex) << 32 | UInt64(row)))
        }
    }
}

extension ProcessInfo {
    /// Cores this process may use.
    static let activeProcessors = ProcessInfo.processInfo.activeProcessorCount
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
