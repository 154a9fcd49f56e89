import Foundation
import Testing
@testable import Lineup

/// Calibration from a collection's own pairs: which pairs are scored, the maximum-likelihood
/// curve, and FAR/FRR, against distributions whose answers are known.
@Suite struct CalibrationTests {
    /// Standard normal upper tail, Q(z) = P(Z ≥ z).
    static func upperTail(_ z: Double) -> Double { 0.5 * erfc(z / 2.squareRoot()) }

    /// Genuine similarities ~ N(0.5, 0.1²), impostor ~ N(0.2, 0.1²): with equal variances the
    /// log-odds are linear in s, slope (0.5 − 0.2) / 0.1² = 30, even odds at 0.35.
    static func gaussianScores(genuine: Int, impostor: Int, seed: UInt64) -> Calibration.Scores {
        var rng = SeededGenerator(seed: seed)
        return Calibration.Scores(genuine: (0..<genuine).map { _ in 0.5 + 0.1 * rng.gaussian() },
                                  impostor: (0..<impostor).map { _ in 0.2 + 0.1 * rng.gaussian() })
    }

    @Test func theFitRecoversAKnownLogisticCurve() throws {
        let scores = Self.gaussianScores(genuine: 20_000, impostor: 50_000, seed: 1)
        let curve = try #require(Calibration.fit(scores))
        // Five standard deviations of the estimates at these sizes (0.00057 and 0.32, from 20
        // seeds of the same fit in numpy).
        #expect(abs(curve.midpoint - 0.35) < 0.003, "\(curve)")
        #expect(abs(curve.steepness - 30) < 1.6, "\(curve)")
    }

    @Test func ratesAreTheKnownTailsWithinSamplingError() throws {
        let (genuine, impostor) = (20_000, 50_000)
        let scores = Self.gaussianScores(genuine: genuine, impostor: impostor, seed: 2)
        let points = Calibration.rates(scores)
        #expect(points.count == 2001 && points.first?.threshold == -1 && points.last?.threshold == 1)
        #expect(zip(points, points.dropFirst()).allSatisfy {
            $0.threshold < $1.threshold && $0.falseAcceptRate >= $1.falseAcceptRate && $0.falseRejectRate <= $1.falseRejectRate
        })
        for threshold in [Float(0.2), 0.3, 0.4, 0.5, 0.6] {
            let point = try #require(points.first { abs($0.threshold - threshold) < 1e-4 })
            let far = Self.upperTail((Double(point.threshold) - 0.2) / 0.1)
            let frr = 1 - Self.upperTail((Double(point.threshold) - 0.5) / 0.1)
            // Four standard errors of a binomial proportion.
            #expect(abs(point.falseAcceptRate - far) <= 4 * (far * (1 - far) / Double(impostor)).squareRoot() + 1e-9,
                    "FAR at \(threshold)")
            #expect(abs(point.falseRejectRate - frr) <= 4 * (frr * (1 - frr) / Double(genuine)).squareRoot() + 1e-9,
                    "FRR at \(threshold)")
        }
        let report = CalibrationReport(genuinePairs: genuine, impostorPairs: impostor,
                                       curve: try #require(Calibration.fit(scores)), points: points)
        // FAR ≤ Q(2) ≈ 2.3 %: about two impostor standard deviations above their mean.
        let threshold = try #require(report.threshold(forFalseAcceptRate: Self.upperTail(2)))
        #expect(abs(threshold - 0.4) < 0.01, "\(threshold)")
        #expect(report.threshold(forFalseAcceptRate: 1) == -1)
        let decoded = try JSONDecoder().decode(CalibrationReport.self, from: JSONEncoder().encode(report))
        #expect(decoded == report)
    }

    @Test func noCurveWithoutBothKindsOfPairs() {
        #expect(Calibration.fit(.init(genuine: [], impostor: [0.1, 0.2])) == nil)
        #expect(Calibration.fit(.init(genuine: [0.9], impostor: [])) == nil)
        // Genuine pairs less similar than impostors: no increasing curve fits.
        #expect(Calibration.fit(Self.gaussianScores(genuine: 100, impostor: 100, seed: 3).swapped) == nil)
    }

    /// Every genuine pair and, in a small gallery, every impostor pair, each scored as the
    /// cosine of the two stored vectors; removed Faceprints take no part.
    @Test(arguments: VectorCompression.allCases)
    func everyPairOfASmallGalleryIsScored(compression: VectorCompression) throws {
        var rng = SeededGenerator(seed: 9)
        let gallery = Gallery(settings: .init(modelName: "M", compression: compression))
        let templates = [3, 1, 4, 2, 5]   // per identity
        var vectors: [(identity: Int, vector: [Float], id: RecordID)] = []
        for (identity, count) in templates.enumerated() {
            for _ in 0..<count {
                let unit = VectorEncoder.normalized(rng.vector(16))
                vectors.append((identity, unit, .generate()))
            }
        }
        try gallery.append(vectors.map {
            PreparedEnrollment(id: $0.id, identity: "person \($0.identity)", vector: VectorEncoder.encodeNormalizing($0.vector, as: compression),
                               dimension: 16)
        })
        // One of identity 4's templates goes.
        let removed = vectors.lastIndex { $0.identity == 4 }!
        try gallery.remove(id: vectors[removed].id)
        vectors.remove(at: removed)
        let scores = try Calibration.scores(gallery.snapshot(), impostorLimit: 10_000)
        let counts = templates.enumerated().map { $0.offset == 4 ? $0.element - 1 : $0.element }
        #expect(scores.genuine.count == counts.reduce(0) { $0 + $1 * ($1 - 1) / 2 })
        let total = vectors.count * (vectors.count - 1) / 2
        #expect(scores.impostor.count == total - scores.genuine.count)
        // The scores are the pairs' cosines (as stored: fp16 and int8 round the vectors).
        var expectedGenuine: [Float] = [], expectedImpostor: [Float] = []
        for first in vectors.indices {
            for second in (first + 1)..<vectors.count {
                let cosine = zip(vectors[first].vector, vectors[second].vector).reduce(0) { $0 + $1.0 * $1.1 }
                if vectors[first].identity == vectors[second].identity { expectedGenuine.append(cosine) } else { expectedImpostor.append(cosine) }
            }
        }
        let tolerance: Float = compression == .none ? 1e-5 : compression == .fp16 ? 2e-3 : 3e-2
        for (got, expected) in zip(scores.genuine.sorted(), expectedGenuine.sorted()) { #expect(abs(got - expected) < tolerance) }
        for (got, expected) in zip(scores.impostor.sorted(), expectedImpostor.sorted()) { #expect(abs(got - expected) < tolerance) }
    }

    /// A gallery with more impostor pairs than the limit: exactly the limit, drawn the same way
    /// for the same seed.
    @Test func impostorsAreSampledPastTheLimit() throws {
        var rng = SeededGenerator(seed: 10)
        let gallery = Gallery(settings: .init(modelName: "M", compression: .none))
        try gallery.append((0..<400).map { index in
            PreparedEnrollment(id: .generate(), identity: "person \(index / 4)",
                               vector: VectorEncoder.encodeNormalizing(rng.vector(8), as: .none), dimension: 8)
        })
        let snapshot = gallery.snapshot()
        let first = try Calibration.scores(snapshot, impostorLimit: 5_000, seed: 7)
        let again = try Calibration.scores(snapshot, impostorLimit: 5_000, seed: 7)
        #expect(first.impostor.count == 5_000 && first.impostor == again.impostor)
        #expect(first.genuine.count == 100 * 6)
    }
}

extension Calibration.Scores {
    /// The labels exchanged.
    var swapped: Calibration.Scores { .init(genuine: impostor, impostor: genuine) }
}

extension SDKTests.FileStore {
    /// A gallery of `people` identities, `templates` Faceprints each, clustered around a
    /// centre per person: genuine pairs well above impostor pairs, with some overlap.
    static func enrollClusters(_ sdk: SDK, into collection: String, people: Int, templates: Int, dimension: Int = 32,
                               seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        for person in 0..<people {
            let centre = rng.vector(dimension)
            for _ in 0..<templates {
                let vector = zip(centre, rng.vector(dimension)).map { $0 + 0.9 * $1 }
                _ = try sdk.enrollFaceprint(Faceprint(featureVector: vector), identity: "person \(person)", collectionName: collection)
            }
        }
    }

    /// `calibrate` stores the curve: every later candidate's probability comes from it, in
    /// this process and after reopening, through checkpoints and compaction; a collection never
    /// calibrated keeps its model's curve.
    @Test func aCalibratedCurveIsStoredAndUsed() throws {
        let directory = try Self.makeDirectory("calibrate")
        defer { Self.cleanUp(directory) }
        let path = directory + "/store"
        var sdk = try Self.connect(path)
        try sdk.createCollection("people")
        try sdk.createCollection("others")
        try sdk.loadCollection("people")
        try Self.enrollClusters(sdk, into: "people", people: 30, templates: 4, seed: 1)
        try sdk.loadCollection("others")
        try Self.enrollClusters(sdk, into: "others", people: 3, templates: 2, seed: 2)
        let report = try sdk.calibrate(collectionName: "people")
        #expect(report.genuinePairs == 30 * 6)
        #expect(report.impostorPairs == 120 * 119 / 2 - 30 * 6, "every impostor pair of a small gallery")
        #expect(report.curve.steepness > 0 && report.curve.midpoint > -1 && report.curve.midpoint < 1)
        #expect(report.points.count == 2001)

        let probe = try sdk.export(collectionName: "people")
        var first: (vector: [Float], identity: String)?
        try probe.forEach { _, identity, vector in if first == nil { first = (Array(vector), identity) } }
        let faceprint = Faceprint(featureVector: try #require(first).vector)
        func check(_ sdk: SDK, _ comment: Comment) throws {
            for candidate in try sdk.identifyTopCandidates(faceprint, numCandidates: 10, threshold: -1, collectionName: "people") {
                #expect(candidate.matchProbability == report.curve.probability(forSimilarity: candidate.similarityMeasure), comment)
            }
            let model = MatchProbability.curve(forModel: sdk.options.frModel)
            for candidate in try sdk.identifyTopCandidates(faceprint, numCandidates: 3, threshold: -1, collectionName: "others") {
                #expect(candidate.matchProbability == model.probability(forSimilarity: candidate.similarityMeasure),
                        "\(comment): a collection never calibrated keeps its model's curve")
            }
        }
        try check(sdk, "this process")
        try sdk.checkpoint()
        _ = try sdk.removeByIdentity("person 3", collectionName: "people")
        try sdk.compact(collectionName: "people")
        try check(sdk, "after a checkpoint and a compaction")
        sdk = try Self.connect(path)
        try sdk.loadCollection("people")
        try sdk.loadCollection("others")
        try check(sdk, "after reopening")
        #expect(StoreInspector.verify(path: path).isIntact)
    }

    @Test func calibrationNeedsBothKindsOfPairs() throws {
        let directory = try Self.makeDirectory("calibrate-refused")
        defer { Self.cleanUp(directory) }
        let sdk = try Self.connect(directory + "/store")
        try sdk.createCollection("one")
        try sdk.loadCollection("one")
        try Self.enrollClusters(sdk, into: "one", people: 1, templates: 3, seed: 3)
        expectError(.invalidArgument, "one identity") { _ = try sdk.calibrate(collectionName: "one") }
        try sdk.createCollection("singles")
        try sdk.loadCollection("singles")
        try Self.enrollClusters(sdk, into: "singles", people: 4, templates: 1, seed: 4)
        expectError(.invalidArgument, "no identity twice") { _ = try sdk.calibrate(collectionName: "singles") }
    }
}
