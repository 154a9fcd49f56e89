import ArgumentParser
import Foundation
import Lineup

/// `lineup demo`: the main job on an embedded default. Enrolls synthetic identities with
/// several templates each, identifies noisy probes of enrolled people and of strangers, and
/// prints what it found and how fast.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Enroll synthetic identities, identify noisy probes, print results and speed.")

    @Option(help: "Keep the store at this path (default: a temporary store, removed afterwards).")
    var store: String?

    @Flag(help: "Keep everything in memory instead of on disk.")
    var memory = false

    @Option(help: "How many Faceprints to enroll.")
    var faceprints: Int = 20_000

    @Option(help: "Dimension of the synthetic feature vectors.")
    var dimension: Int = 512

    @Option(help: "Templates enrolled per identity.")
    var templatesPerIdentity: Int = 4

    @Option(help: "Vector compression: none, fp16 or int8.")
    var compression: String = "none"

    func validate() throws {
        guard (1...10_000_000).contains(faceprints) else { throw ValidationError("--faceprints must be 1…10,000,000") }
        guard (8...4096).contains(dimension) else { throw ValidationError("--dimension must be 8…4096") }
        guard (1...1_000).contains(templatesPerIdentity) else { throw ValidationError("--templates-per-identity must be 1…1,000") }
        guard VectorCompression(rawValue: compression) != nil else {
            throw ValidationError("--compression must be none, fp16 or int8")
        }
    }

    func run() throws {
        try reportingErrors {
            var options = ConfigurationOptions()
            options.dbms = memory ? .none : .file
            options.vectorCompression = VectorCompression(rawValue: compression)!
            var temporary: String?
            var path = store ?? ""
            if !memory && store == nil {
                var template = Array((NSTemporaryDirectory() + "/lineup-demo-XXXXXX").utf8CString)
                guard let made = mkdtemp(&template) else {
                    throw LineupError(.ioError, "cannot create a temporary directory")
                }
                temporary = String(cString: made)
                path = temporary! + "/store"
            }
            defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
            let sdk = SDK(options: options)
            try sdk.createDatabaseConnection(path)
            let collectionName = "demo"
            if try sdk.getCollectionNames().contains(collectionName) {
                try sdk.deleteCollection(collectionName)
            }
            try sdk.createLoadCollection(collectionName)
            let place = memory ? "in memory" : (temporary == nil ? "in the store \(path)" : "in a temporary store")
            try runDemo(sdk, collectionName: collectionName, place: place)
        }
    }

    private func runDemo(_ sdk: SDK, collectionName: String, place: String) throws {
        var random = SeededGenerator(seed: 0x11E_0_FACE)
        let identityCount = (faceprints + templatesPerIdentity - 1) / templatesPerIdentity
        // Templates of one person: their centre plus noise, so that two templates of one
        // person have cosine similarity ≈ 0.6 and two people ≈ 0.
        let noise = (0.6 / Double(dimension)).squareRoot()
        var centres: [[Float]] = []
        centres.reserveCapacity(identityCount)

        try emit("Lineup demo: \(faceprints) Faceprints of \(identityCount) synthetic identities, \(dimension)-d, compression \(compression), \(place)")
        var templates: [Faceprint] = []
        var owners: [String] = []
        for person in 0..<identityCount {
            let centre = random.gaussianVector(dimension, scale: (1 / Double(dimension)).squareRoot())
            centres.append(centre)
            for _ in 0..<templatesPerIdentity where templates.count < faceprints {
                templates.append(Faceprint(featureVector: random.perturbed(centre, noise: noise)))
                owners.append(String(format: "person-%06d", person))
            }
        }
        // Bulk enrollment for the gallery; then single, durable enrollments as a door
        // controller makes them, one person at a time.
        let singles = min(200, templates.count)
        let bulkStart = ContinuousClock.now
        if templates.count > singles {
            _ = try sdk.enrollFaceprints(Array(templates[singles...]), identities: Array(owners[singles...]),
                                         collectionName: collectionName)
        }
        let bulkSeconds = (ContinuousClock.now - bulkStart).seconds
        let singleStart = ContinuousClock.now
        for index in 0..<singles {
            _ = try sdk.enrollFaceprint(templates[index], identity: owners[index], collectionName: collectionName)
        }
        let singleEnrollSeconds = (ContinuousClock.now - singleStart).seconds

        // Probes: fresh captures of enrolled people, and strangers never enrolled.
        let probeCount = 16
        var probes: [Faceprint] = []
        var truths: [String] = []
        for index in 0..<probeCount {
            if index % 4 == 3 {
                probes.append(Faceprint(featureVector: random.gaussianVector(dimension, scale: 1)))
                truths.append("(stranger)")
            } else {
                let person = Int(random.next() % UInt64(identityCount))
                probes.append(Faceprint(featureVector: random.perturbed(centres[person], noise: noise)))
                truths.append(String(format: "person-%06d", person))
            }
        }

        let single = ContinuousClock.now
        var results: [Candidate?] = []
        for probe in probes {
            results.append(try sdk.identifyTopCandidate(probe, collectionName: collectionName))
        }
        let singleSeconds = (ContinuousClock.now - single).seconds / Double(probeCount)

        let batchStart = ContinuousClock.now
        let batch = try sdk.batchIdentifyTopCandidate(probes, collectionName: collectionName)
        let batchSeconds = (ContinuousClock.now - batchStart).seconds / Double(probeCount)
        precondition(batch.map { $0?.uuid } == results.map { $0?.uuid }, "batch and single answers differ")

        try emit("")
        try emit("probe  truth            top candidate    similarity  probability  verdict")
        var correct = 0
        for (index, result) in results.enumerated() {
            let found = result?.identity ?? "(no match)"
            let expected = truths[index] == "(stranger)" ? "(no match)" : truths[index]
            let verdict = found == expected ? "correct" : "WRONG"
            if found == expected { correct += 1 }
            let similarity = result.map { String(format: "%10.3f", $0.similarityMeasure) } ?? String(repeating: " ", count: 9) + "-"
            let probability = result.map { String(format: "%11.3f", $0.matchProbability) } ?? String(repeating: " ", count: 10) + "-"
            try emit(String(format: "%5d  ", index) + truths[index].padding(toLength: 17, withPad: " ", startingAt: 0)
                  + found.padding(toLength: 17, withPad: " ", startingAt: 0)
                  + similarity + "  " + probability + "  " + verdict)
        }
        let metadata = try sdk.getCollectionMetadata(collectionName)
        try emit("")
        try emit("\(correct)/\(probeCount) probes identified correctly (threshold 0.4)")
        if templates.count > singles {
            try emit(String(format: "bulk enrollment:   %.0f Faceprints/s (%d in one call)", Double(templates.count - singles) / bulkSeconds, templates.count - singles))
        }
        try emit(String(format: "single enrollment: %.0f Faceprints/s (%d, each durable before the next)", Double(singles) / singleEnrollSeconds, singles))
        try emit(String(format: "identify:          %.2f ms a probe over %d Faceprints (%.0f probes/s)",
                     singleSeconds * 1000, metadata.numFaceprints, 1 / singleSeconds))
        try emit(String(format: "batch identify:    %.2f ms a probe (%d probes in parallel)", batchSeconds * 1000, probeCount))
        try emit("collection:        \(metadata.numFaceprints) Faceprints, \(metadata.numIdentities) identities, \(metadata.featureVectorSizeBytes) bytes a vector, options \(metadata.modelOptions)")
    }
}

extension SeededGenerator {
    mutating func perturbed(_ centre: [Float], noise: Double) -> [Float] {
        centre.map { $0 + Float(standardNormal() * noise) }
    }
}

extension Duration {
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
