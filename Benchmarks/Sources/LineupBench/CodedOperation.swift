import ArgumentParser
import Foundation
import Synchronization
import Lineup

/// `lineup-bench coded`: identification through the compact codes beside the full scan of the
/// stored vectors, for each query (k and threshold), on the same store in one process: medians
/// over the probes (with `--batch N`, over batches of N probes, as seconds a probe), each run
/// both ways in turn with the answers checked equal, and the rows scored exactly.
struct CodedOperation: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "coded", abstract: "Time coded against full-scan identification.")
    @OptionGroup var storeArguments: StoreArguments
    @Argument(help: "A .npy array of probes.") var probes: String
    @Option(help: "Queries, k:threshold, comma-separated.") var queries = "1:0.4,5:0.6,10:-1"
    @Option(name: .customLong("repeat"), help: "Probes (batches) timed per query.") var repeatCount = 10
    @Option(help: "Probes a batch (batchIdentifyTopCandidates); 1 times single probes.") var batch = 1

    func run() throws {
        let collection = storeArguments.collection
        let probes = try readMatrix(probes)
        let faceprints = (0..<probes.rows).map { Faceprint(featureVector: Array(probes.row($0))) }
        let sdk = try connect(storeArguments.store, shared: false)
        try sdk.loadCollection(collection)
        let faceprintCount = try sdk.getCollectionMetadata(collection).numFaceprints
        var entries: [[String: Any]] = []
        for query in queries.split(separator: ",") {
            let parts = query.split(separator: ":")
            guard parts.count == 2, let k = Int(parts[0]), let threshold = Float(parts[1]) else {
                throw ValidationError("a query is k:threshold, not \(query)")
            }
            // The probes of run `index`: one, or `batch` of them from the matrix, cycled.
            func probes(_ index: Int) -> [Faceprint] {
                (0..<batch).map { faceprints[(index * batch + $0) % faceprints.count] }
            }
            func time(_ coded: Bool, _ probes: [Faceprint]) throws -> (Double, [[Candidate]]) {
                CodedSearchCounters.enabled.store(coded, ordering: .relaxed)
                let start = ContinuousClock.now
                let answer = batch == 1
                    ? [try sdk.identifyTopCandidates(probes[0], numCandidates: k, threshold: threshold, collectionName: collection)]
                    : try sdk.batchIdentifyTopCandidates(probes, numCandidates: k, threshold: threshold, collectionName: collection)
                return (seconds(since: start) / Double(probes.count), answer)
            }
            _ = try time(false, probes(0))   // the page cache holds vectors and codes
            _ = try time(true, probes(0))
            var full: [Double] = [], coded: [Double] = []
            // Rows rescored and probes answered by the coded runs only (a full batch rescores too).
            var rescored = 0, searches = 0
            for index in 0..<repeatCount {
                let (fullTime, fullAnswer) = try time(false, probes(index))
                let rescoredBefore = CodedSearchCounters.rescoredRows.load(ordering: .relaxed)
                let searchesBefore = CodedSearchCounters.searches.load(ordering: .relaxed)
                let (codedTime, codedAnswer) = try time(true, probes(index))
                rescored += CodedSearchCounters.rescoredRows.load(ordering: .relaxed) - rescoredBefore
                searches += CodedSearchCounters.searches.load(ordering: .relaxed) - searchesBefore
                guard fullAnswer.map({ $0.map(\.uuid) }) == codedAnswer.map({ $0.map(\.uuid) }),
                      fullAnswer.map({ $0.map(\.similarityMeasure.bitPattern) })
                      == codedAnswer.map({ $0.map(\.similarityMeasure.bitPattern) }) else {
                    throw ValidationError("the coded answer differs from the full scan's for run \(index), query \(query)")
                }
                full.append(fullTime)
                coded.append(codedTime)
            }
            full.sort()
            coded.sort()
            entries.append(["k": k, "threshold": Double(threshold),
                            "full_median_seconds": full[full.count / 2], "coded_median_seconds": coded[coded.count / 2],
                            "coded_searches": searches,
                            "rescored_fraction": searches == 0 ? 1.0 : Double(rescored) / Double(searches) / Double(faceprintCount)])
        }
        CodedSearchCounters.enabled.store(true, ordering: .relaxed)
        report(["operation": "coded", "faceprints": faceprintCount, "batch": batch, "queries": entries])
    }
}
