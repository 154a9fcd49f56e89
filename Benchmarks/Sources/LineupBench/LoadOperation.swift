import ArgumentParser
import Foundation
import Synchronization
import Lineup

/// `lineup-bench load`: the in-process twin of the server's load benchmark — C client threads
/// in a closed loop, each identifying one probe at a time for the duration (requests per
/// second, p50 and p99 latency), then, with --batch B, B probes per call (median per call).
struct LoadOperation: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Time identification under concurrent in-process clients.")
    @OptionGroup var storeArguments: StoreArguments
    @Argument(help: "A .npy array of probes.") var probes: String
    @Option(help: "Concurrent client threads.") var clients = 1
    @Option(help: "Seconds each client runs.") var seconds: Double = 5
    @Option(help: "Candidates per probe.") var top = 1
    @Option(help: "The threshold.") var threshold: Float = 0.4
    @Option(help: "Probes per batch call (0: no batch run).") var batch = 0
    @Option(help: "Batch calls timed.") var batchRepeat = 5

    static func elapsed(since start: ContinuousClock.Instant) -> Double {
        let parts = (ContinuousClock.now - start).components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    func run() throws {
        let collection = storeArguments.collection
        let matrix = try readMatrix(probes)
        let faceprints = (0..<matrix.rows).map { Faceprint(featureVector: Array(matrix.row($0))) }
        let sdk = try connect(storeArguments.store, shared: false)
        try sdk.loadCollection(collection)
        _ = try sdk.identifyTopCandidates(faceprints[0], numCandidates: top, threshold: threshold, collectionName: collection)
        let (top, threshold, clients, duration) = (top, threshold, clients, seconds)
        let latencies = Mutex<[Double]>([])
        let finished = DispatchGroup()
        let start = ContinuousClock.now
        let deadline = start + .nanoseconds(Int64(duration * 1e9))
        for client in 0..<clients {
            finished.enter()
            Thread {
                var mine: [Double] = []
                var index = client * 7919
                while ContinuousClock.now < deadline {
                    let begin = ContinuousClock.now
                    do {
                        _ = try sdk.identifyTopCandidates(faceprints[index % faceprints.count], numCandidates: top,
                                                          threshold: threshold, collectionName: collection)
                    } catch {
                        fail("\(error)")
                    }
                    mine.append(Self.elapsed(since: begin))
                    index += clients
                }
                latencies.withLock { $0 += mine }
                finished.leave()
            }.start()
        }
        finished.wait()
        let elapsed = Self.elapsed(since: start)
        let sorted = latencies.withLock { $0 }.sorted()
        var values: [String: Any] = ["operation": "load", "clients": clients, "requests": sorted.count,
                                     "requests_per_second": Double(sorted.count) / elapsed,
                                     "p50_seconds": sorted[sorted.count / 2],
                                     "p99_seconds": sorted[min(sorted.count - 1, sorted.count * 99 / 100)]]
        if batch > 0 {
            let probes = (0..<batch).map { faceprints[$0 % faceprints.count] }
            var times: [Double] = []
            for _ in 0..<max(1, batchRepeat) {
                let begin = ContinuousClock.now
                _ = try sdk.batchIdentifyTopCandidates(probes, numCandidates: top, threshold: threshold, collectionName: collection)
                times.append(Self.elapsed(since: begin))
            }
            times.sort()
            values["batch"] = batch
            values["batch_median_seconds"] = times[times.count / 2]
        }
        report(values)
    }
}
