import Lineup
import Synchronization

/// Runs concurrent single requests as batches: single-probe identifications (requests that
/// agree on collection, `top`, threshold and `distinct_identities` share a queue) and single
/// enrollments (one queue a collection: one `enrollFaceprints` call, one journal record).
///
/// Requests of one key share a queue. The first to find its queue idle starts a runner; a request arriving while the
/// runner is busy joins the queue, and the runner takes everything queued (up to a cap) as
/// its next batch. An idle engine therefore answers a lone request at once — nobody waits
/// for company — while under load the probes that piled up during one batch go through the
/// batch kernels together, which cost a fraction of as many single searches.
///
/// Every answer is the one the request would have had alone: a batch searches one snapshot
/// taken after all of its requests arrived, and a batch of enrollments is durable before any
/// of them is answered. A batch that fails (one probe of the wrong dimension, say) has changed
/// nothing — the engine's batch calls are all or none — and is run again one request at a
/// time, so each request gets its own answer or error.
final class Coalescer<Key: Hashable & Sendable, Input: Sendable, Output: Sendable>: Sendable {
    private struct Waiter {
        var probe: Input
        var continuation: CheckedContinuation<Output, any Error>
    }

    private struct Queue {
        var waiting: [Waiter] = []
    }

    /// Runs a batch of inputs (one or many) and gives one result per input, in order.
    typealias Search = @Sendable (_ key: Key, _ inputs: [Input]) async throws -> [Output]

    private let queues = Mutex<[Key: Queue]>([:])
    private let maxBatch: Int
    private let search: Search

    init(maxBatch: Int, search: @escaping Search) {
        self.maxBatch = max(1, maxBatch)
        self.search = search
    }

    /// The result for `probe`, run alone or in a batch with others of `key`.
    func run(_ probe: Input, key: Key) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            let startRunner = queues.withLock { queues in
                let idle = queues[key] == nil
                queues[key, default: Queue()].waiting.append(Waiter(probe: probe, continuation: continuation))
                return idle
            }
            if startRunner {
                Task { await self.run(key) }
            }
        }
    }

    /// Takes batches off the queue of `key` until it is empty, then removes the queue (the
    /// next request starts a new runner).
    private func run(_ key: Key) async {
        while true {
            let batch: [Waiter] = queues.withLock { queues in
                guard var queue = queues[key], !queue.waiting.isEmpty else {
                    queues[key] = nil
                    return []
                }
                let count = min(maxBatch, queue.waiting.count)
                let batch = Array(queue.waiting.prefix(count))
                queue.waiting.removeFirst(count)
                queues[key] = queue
                return batch
            }
            guard !batch.isEmpty else { return }
            await answer(batch, key: key)
        }
    }

    private func answer(_ batch: [Waiter], key: Key) async {
        do {
            let results = try await search(key, batch.map(\.probe))
            for (waiter, result) in zip(batch, results) { waiter.continuation.resume(returning: result) }
        } catch {
            guard batch.count > 1 else {
                batch[0].continuation.resume(throwing: error)
                return
            }
            for waiter in batch {
                do {
                    let result = try await search(key, [waiter.probe])
                    waiter.continuation.resume(returning: result[0])
                } catch {
                    waiter.continuation.resume(throwing: error)
                }
            }
        }
    }
}
