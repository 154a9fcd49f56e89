import ArgumentParser
import Foundation
import Synchronization
import Lineup

/// `lineup-bench coded`: single-probe identification through the compact codes beside the
/// full scan of the stored vectors, for each query (k and threshold), on the same store in one
/// process: medians over the probes, each probe run both ways in turn, and the rows the coded
/// search scored exactly.
struct CodedOperation: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "coded", abstract: "Time coded against full-scan identification.")
    @OptionGroup var storeArguments: StoreArguments
    @Argument(help: "A .npy array of probes.") var probes: String
    @Option(help: "Queries, k:threshold, comma-separated.") var queries = "1:0.4,5:0.6,10:-1"
    @Option(name: .customLong("repeat"), help: "Probes timed per query.") var repeatCount = 10

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
            func time(_ coded: Bool, _ probe: Faceprint) throws -> (Double, [Candidate]) {
                CodedSearchCounters.enabled.store(coded, ordering: .relaxed)
                let start = ContinuousClock.now
                let answer = try sdk.identifyTopCandidates(probe, numCandidates: k, threshold: threshold, collectionName: collection)
                return (seconds(since: start), answer)
            }
            _ = try time(false, faceprints[0])   // the page cache holds vectors and codes
            _ = try time(true, faceprints[0])
            var full: [Double] = [], coded: [Double] = []
            let rescoredBefore = CodedSearchCounters.rescoredRows.load(ordering: .relaxed)
            let searchesBefore = CodedSearchCounters.searches.load(ordering: .relaxed)
            for index in 0..<repeatCount {
                let probe = faceprints[index % faceprints.count]
                let (fullTime, fullAnswer) = try time(false, probe)
                let (codedTime, codedAnswer) = try time(true, probe)
                guard fullAnswer.map(\.uuid) == codedAnswer.map(\.uuid),
                      fullAnswer.map(\.similarityMeasure.bitPattern) == codedAnswer.map(\.similarityMeasure.bitPattern) else {
                    throw ValidationError("the coded answer differs from the full scan's for probe \(index), query \(query)")
                }
                full.append(fullTime)
                coded.append(codedTime)
            }
            full.sort()
            coded.sort()
            let searches = CodedSearchCounters.searches.load(ordering: .relaxed) - searchesBefore
            let rescored = CodedSearchCounters.rescoredRows.load(ordering: .relaxed) - rescoredBefore
            entries.append(["k": k, "threshold": Double(threshold),
                            "full_median_seconds": full[full.count / 2], "coded_median_seconds": coded[coded.count / 2],
                            "coded_searches": searches,
                            "rescored_fraction": searches == 0 ? 1.0 : Double(rescored) / Double(searches) / Double(faceprintCount)])
        }
        CodedSearchCounters.enabled.store(true, ordering: .relaxed)
        report(["operation": "coded", "faceprints": faceprintCount, "queries": entries])
    }
}
