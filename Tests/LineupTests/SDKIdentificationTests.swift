import Foundation
import Testing
@testable import Lineup

extension SDKTests {
    /// Lineup.docc/TheContract.md, "Identification": identification, thresholds, top-k, batches.
    @Suite struct Identification {
        /// A fresh SDK with a loaded collection "people" of `count` random Faceprints.
        static func gallery(count: Int, dimension: Int = 32, seed: UInt64 = 30,
                            compression: VectorCompression = .none) throws -> (SDK, [(Faceprint, String)]) {
            var rng = SeededGenerator(seed: seed)
            let sdk = try freshSDK(compression: compression)
            try sdk.createLoadCollection("people")
            var enrolled: [(Faceprint, String)] = []
            for index in 0..<count {
                let faceprint = rng.faceprint(dimension)
                enrolled.append((faceprint, try sdk.enrollFaceprint(faceprint, identity: "person-\(index)")))
            }
            return (sdk, enrolled)
        }

        // MARK: Self-match and thresholds

        @Test func exactSelfMatch() throws {
            let (sdk, enrolled) = try Self.gallery(count: 100)
            for (index, (faceprint, uuid)) in enrolled.enumerated() {
                let candidate = try #require(try sdk.identifyTopCandidate(faceprint, threshold: 0.99))
                #expect(candidate.uuid == uuid)
                #expect(candidate.identity == "person-\(index)")
                #expect(abs(candidate.similarityMeasure - 1) < 1e-5)
                #expect(candidate.similarityMeasure <= 1)
                // Length does not matter: a scaled probe matches the same way.
                let scaled = Faceprint(featureVector: faceprint.featureVector.map { $0 * 1000 })
                #expect(try sdk.identifyTopCandidate(scaled, threshold: 0.99)?.uuid == uuid)
            }
        }

        @Test func similarityIsTheCosine() throws {
            var rng = SeededGenerator(seed: 31)
            let (sdk, enrolled) = try Self.gallery(count: 40)
            for _ in 0..<5 {
                let probe = rng.faceprint(32)
                let candidates = try sdk.identifyTopCandidates(probe, numCandidates: 40, threshold: -1)
                #expect(candidates.count == 40)
                let byUUID = Dictionary(uniqueKeysWithValues: enrolled.map { ($0.1, $0.0) })
                for candidate in candidates {
                    let stored = try #require(byUUID[candidate.uuid])
                    #expect(abs(Double(candidate.similarityMeasure) - cosine(probe.featureVector, stored.featureVector)) < 1e-5)
                }
            }
        }

        @Test(arguments: [0.9, 0.5, 0.4, 0.0, -0.3])
        func thresholdIsInclusive(target: Double) throws {
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            let uuid = try sdk.enrollFaceprint(Faceprint(featureVector: axis(0, dimension: 8)), identity: "e0")
            let probe = Faceprint(featureVector: vector(withCosine: target, dimension: 8))
            // The similarity the engine computes for this pair...
            let all = try sdk.identifyTopCandidates(probe, numCandidates: 1, threshold: -1)
            let similarity = try #require(all.first).similarityMeasure
            #expect(abs(Double(similarity) - target) < 1e-5)
            // ...matches a threshold equal to it (≥), and not the next Float above.
            #expect(try sdk.identifyTopCandidate(probe, threshold: similarity)?.uuid == uuid)
            #expect(try sdk.identifyTopCandidates(probe, numCandidates: 5, threshold: similarity).map(\.uuid) == [uuid])
            #expect(try sdk.batchIdentifyTopCandidate([probe], threshold: similarity) == [all.first])
            #expect(try sdk.identifyTopCandidate(probe, threshold: similarity.nextUp) == nil)
            #expect(try sdk.identifyTopCandidates(probe, numCandidates: 5, threshold: similarity.nextUp).isEmpty)
            #expect(try sdk.batchIdentifyTopCandidate([probe], threshold: similarity.nextUp) == [nil])
        }

        @Test func defaultThresholdIsPointFour() throws {
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: axis(0, dimension: 8)), identity: "e0")
            #expect(try sdk.identifyTopCandidate(Faceprint(featureVector: vector(withCosine: 0.45, dimension: 8))) != nil)
            #expect(try sdk.identifyTopCandidate(Faceprint(featureVector: vector(withCosine: 0.35, dimension: 8))) == nil)
            #expect(try sdk.identifyTopCandidates(Faceprint(featureVector: vector(withCosine: 0.35, dimension: 8)), numCandidates: 3).isEmpty)
            #expect(try sdk.batchIdentifyTopCandidate([Faceprint(featureVector: vector(withCosine: 0.35, dimension: 8))]) == [nil])
        }

        /// Similarities are in [-1, 1]: a threshold above 1 can never be reached, and every
        /// returned candidate reaches the threshold it was asked for.
        @Test func thresholdAboveOneNeverMatches() throws {
            let (sdk, enrolled) = try Self.gallery(count: 200, dimension: 17, seed: 32)
            var wrongly: [Float] = []
            for (faceprint, _) in enrolled {
                for candidate in try sdk.identifyTopCandidates(faceprint, numCandidates: 1, threshold: Float(1).nextUp) {
                    wrongly.append(candidate.similarityMeasure)
                }
            }
            #expect(wrongly.count == 0, "candidates returned for a threshold above 1, with similarities \(wrongly.prefix(5))")
        }

        /// Every similarity is at least −1: a threshold of −1 matches every Faceprint, the
        /// opposite vector included.
        @Test func thresholdMinusOneMatchesEverything() throws {
            var rng = SeededGenerator(seed: 33)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            var vectors: [[Float]] = []
            for _ in 0..<100 { vectors.append(rng.vector(17)) }
            for (index, v) in vectors.enumerated() {
                _ = try sdk.enrollFaceprint(Faceprint(featureVector: v.map { -$0 }), identity: "neg-\(index)")
            }
            var short: [Int] = []
            for (index, v) in vectors.enumerated() {
                let candidates = try sdk.identifyTopCandidates(Faceprint(featureVector: v), numCandidates: 1000, threshold: -1)
                if candidates.count != 100 { short.append(index) }
                #expect(candidates.allSatisfy { $0.similarityMeasure >= -1 && $0.similarityMeasure <= 1 })
            }
            #expect(short.count == 0, "\(short.count) of 100 probes got fewer than 100 candidates at threshold -1 (probes \(short.prefix(5)))")
        }

        /// Ties are judged on the similarity the caller sees: candidates reported with equal
        /// similarities come in enrollment order, even when they are all ≈ 1.
        @Test func reportedTiesComeInEnrollmentOrder() throws {
            var rng = SeededGenerator(seed: 42)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            var enrollmentIndex: [String: Int] = [:]
            var probes: [Faceprint] = []
            for group in 0..<10 {
                let base = rng.vector(16)
                probes.append(Faceprint(featureVector: base))
                // Copies of `base` perturbed in the last bits: similarities within an ulp or
                // two of 1, on both sides of it.
                for copy in 0..<30 {
                    let perturbed = base.map { copy == 0 ? $0 : (Bool.random(using: &rng) ? $0.nextUp : $0.nextDown) }
                    let uuid = try sdk.enrollFaceprint(Faceprint(featureVector: perturbed), identity: "g\(group)-\(copy)")
                    enrollmentIndex[uuid] = enrollmentIndex.count
                }
            }
            var violations: [String] = []
            for probe in probes {
                let candidates = try sdk.identifyTopCandidates(probe, numCandidates: 30, threshold: 0.99)
                #expect(candidates.count == 30)
                for (a, b) in zip(candidates, candidates.dropFirst()) {
                    #expect(a.similarityMeasure >= b.similarityMeasure)
                    if a.similarityMeasure == b.similarityMeasure && enrollmentIndex[a.uuid]! > enrollmentIndex[b.uuid]! {
                        violations.append("\(a.identity) before \(b.identity) at \(a.similarityMeasure)")
                    }
                }
            }
            #expect(violations.count == 0, "\(violations.count) tie(s) out of enrollment order, e.g. \(violations.prefix(3))")
        }

        @Test func candidatesReachTheirThreshold() throws {
            var rng = SeededGenerator(seed: 34)
            let (sdk, _) = try Self.gallery(count: 150, dimension: 16, seed: 134)
            for threshold: Float in [-0.5, 0, 0.1, 0.2, 0.3] {
                let probe = rng.faceprint(16)
                let candidates = try sdk.identifyTopCandidates(probe, numCandidates: 150, threshold: threshold)
                #expect(candidates.allSatisfy { $0.similarityMeasure >= threshold })
                // And nothing that reaches it is left out.
                let reference = try sdk.identifyTopCandidates(probe, numCandidates: 150, threshold: -1)
                #expect(candidates.count == reference.filter { $0.similarityMeasure >= threshold }.count)
            }
        }

        // MARK: Top-k

        @Test func topKOrderingAndBound() throws {
            var rng = SeededGenerator(seed: 35)
            let (sdk, enrolled) = try Self.gallery(count: 60, dimension: 24, seed: 135)
            for _ in 0..<10 {
                let probe = rng.faceprint(24)
                let reference = enrolled
                    .map { (uuid: $0.1, similarity: cosine(probe.featureVector, $0.0.featureVector)) }
                    .sorted { $0.similarity > $1.similarity }
                for k in [1, 2, 5, 10, 59, 60, 61, 1000, Int.max] {
                    let candidates = try sdk.identifyTopCandidates(probe, numCandidates: k, threshold: -1)
                    #expect(candidates.count == min(k, 60))
                    for (a, b) in zip(candidates, candidates.dropFirst()) {
                        #expect(a.similarityMeasure >= b.similarityMeasure, "highest first")
                    }
                    for (candidate, expected) in zip(candidates, reference) {
                        #expect(abs(Double(candidate.similarityMeasure) - expected.similarity) < 1e-5)
                    }
                    // The set is the reference's best k (random data: no near-ties at the cut).
                    #expect(candidates.first?.uuid == reference.first?.uuid)
                    #expect(try sdk.identifyTopCandidate(probe, threshold: -1) == candidates.first)
                }
                // With a threshold: everything clearly above it, nothing clearly below it.
                let thresholded = Set(try sdk.identifyTopCandidates(probe, numCandidates: 1000, threshold: 0.1).map(\.uuid))
                for entry in reference where abs(entry.similarity - 0.1) > 1e-5 {
                    #expect(thresholded.contains(entry.uuid) == (entry.similarity > 0.1))
                }
            }
        }

        @Test func tiesBrokenByEnrollmentOrder() throws {
            var rng = SeededGenerator(seed: 36)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            let shared = rng.faceprint(16)
            var twins: [String] = []
            for index in 0..<8 {
                _ = try sdk.enrollFaceprint(rng.faceprint(16), identity: "other-\(index)")
                twins.append(try sdk.enrollFaceprint(shared, identity: "twin-\(index)"))
            }
            let candidates = try sdk.identifyTopCandidates(shared, numCandidates: 8, threshold: 0.5)
            #expect(candidates.map(\.uuid) == twins, "equal similarities come in enrollment order")
            #expect(Set(candidates.map(\.similarityMeasure)).count == 1)
            #expect(try sdk.identifyTopCandidate(shared)?.uuid == twins[0])
            #expect(try sdk.identifyTopCandidates(shared, numCandidates: 3).map(\.uuid) == Array(twins.prefix(3)))
            #expect(try sdk.batchIdentifyTopCandidate([shared, shared]).map { $0?.uuid } == [twins[0], twins[0]])

            // Removing the first twin promotes the second; order otherwise unchanged.
            try sdk.removeByUUID(twins[0])
            try sdk.removeByUUID(twins[4])
            let expected = twins.enumerated().filter { $0.offset != 0 && $0.offset != 4 }.map(\.element)
            #expect(try sdk.identifyTopCandidates(shared, numCandidates: 8, threshold: 0.5).map(\.uuid) == expected)
            #expect(try sdk.identifyTopCandidate(shared)?.uuid == twins[1])
        }

        /// Ties across the gallery's internal chunk boundary (the first chunk holds 1024 rows).
        @Test func tiesAcrossChunksKeepEnrollmentOrder() throws {
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            let shared = Faceprint(featureVector: [1, 2, 3, 4, 5, 6, 7, 8])
            var uuids: [String] = []
            for index in 0..<(Gallery.firstChunkRows + 40) {
                uuids.append(try sdk.enrollFaceprint(shared, identity: "twin-\(index)"))
            }
            let all = try sdk.identifyTopCandidates(shared, numCandidates: uuids.count, threshold: 0.5)
            #expect(all.map(\.uuid) == uuids)
            #expect(try sdk.identifyTopCandidates(shared, numCandidates: 3).map(\.uuid) == Array(uuids.prefix(3)))
            // Remove the first chunk entirely: the winner is the first row of the second chunk.
            for uuid in uuids.prefix(Gallery.firstChunkRows) { try sdk.removeByUUID(uuid) }
            #expect(try sdk.identifyTopCandidate(shared)?.uuid == uuids[Gallery.firstChunkRows])
            #expect(try sdk.identifyTopCandidates(shared, numCandidates: 100).map(\.uuid) == Array(uuids.suffix(40)))
        }

        // MARK: Empty collections

        @Test func emptyCollectionGivesNothing() throws {
            var rng = SeededGenerator(seed: 37)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            let probe = rng.faceprint(16)
            #expect(try sdk.identifyTopCandidate(probe, threshold: -1) == nil)
            #expect(try sdk.identifyTopCandidates(probe, numCandidates: 10, threshold: -1).isEmpty)
            #expect(try sdk.batchIdentifyTopCandidate([probe, probe], threshold: -1) == [nil, nil])
            #expect(try sdk.batchIdentifyTopCandidate([], threshold: -1).isEmpty)

            // Emptied by removal: the same.
            let uuid = try sdk.enrollFaceprint(probe, identity: "a")
            try sdk.removeByUUID(uuid)
            #expect(try sdk.identifyTopCandidate(probe, threshold: -1) == nil)
            #expect(try sdk.identifyTopCandidates(probe, numCandidates: 10, threshold: -1).isEmpty)
            #expect(try sdk.batchIdentifyTopCandidate([probe, probe], threshold: -1) == [nil, nil])
        }

        // MARK: Argument errors

        @Test(arguments: [0, -1, Int.min])
        func numCandidatesBelowOneIsInvalidArgument(k: Int) throws {
            let (sdk, enrolled) = try Self.gallery(count: 3)
            expectError(.invalidArgument) { try sdk.identifyTopCandidates(enrolled[0].0, numCandidates: k) }
        }

        @Test(arguments: [Float.nan, .infinity, -.infinity, .signalingNaN])
        func nonFiniteThresholdIsInvalidArgument(threshold: Float) throws {
            let (sdk, enrolled) = try Self.gallery(count: 3)
            let probe = enrolled[0].0
            expectError(.invalidArgument) { try sdk.identifyTopCandidate(probe, threshold: threshold) }
            expectError(.invalidArgument) { try sdk.identifyTopCandidates(probe, numCandidates: 2, threshold: threshold) }
            expectError(.invalidArgument) { try sdk.batchIdentifyTopCandidate([probe], threshold: threshold) }
            expectError(.invalidArgument, "even with no probes") { try sdk.batchIdentifyTopCandidate([], threshold: threshold) }
            // Also on an empty collection, where there is nothing to compare.
            try sdk.createLoadCollection("empty")
            expectError(.invalidArgument) { try sdk.identifyTopCandidate(probe, threshold: threshold, collectionName: "empty") }
        }

        @Test func probeModelMismatchIsInvalidArgument() throws {
            let (sdk, enrolled) = try Self.gallery(count: 3)
            let probe = Faceprint(featureVector: enrolled[0].0.featureVector, modelName: "LITE")
            expectError(.invalidArgument) { try sdk.identifyTopCandidate(probe, threshold: -1) }
            expectError(.invalidArgument) { try sdk.identifyTopCandidates(probe, numCandidates: 2, threshold: -1) }
            expectError(.invalidArgument) { try sdk.batchIdentifyTopCandidate([enrolled[0].0, probe], threshold: -1) }
            // On an empty collection of another model too.
            try sdk.createLoadCollection("empty")
            expectError(.invalidArgument) { try sdk.identifyTopCandidate(probe, collectionName: "empty") }
        }

        @Test(arguments: [1, 31, 33, 64])
        func probeDimensionMismatchIsInvalidArgument(dimension: Int) throws {
            let (sdk, enrolled) = try Self.gallery(count: 3)
            let probe = Faceprint(featureVector: Array(repeating: 1, count: dimension))
            expectError(.invalidArgument) { try sdk.identifyTopCandidate(probe, threshold: -1) }
            expectError(.invalidArgument) { try sdk.identifyTopCandidates(probe, numCandidates: 2, threshold: -1) }
            expectError(.invalidArgument) { try sdk.batchIdentifyTopCandidate([enrolled[0].0, probe], threshold: -1) }
        }

        @Test func badProbeVectors() throws {
            let (sdk, _) = try Self.gallery(count: 3)
            var probe = [Float](repeating: 1, count: 32)
            expectError(.inputIsEmpty) { try sdk.identifyTopCandidate(Faceprint(featureVector: [])) }
            expectError(.inputIsEmpty) { try sdk.batchIdentifyTopCandidate([Faceprint(featureVector: [])]) }
            for bad: Float in [.nan, .infinity, -.infinity] {
                probe[7] = bad
                expectError(.invalidArgument) { try sdk.identifyTopCandidate(Faceprint(featureVector: probe)) }
                expectError(.invalidArgument) { try sdk.identifyTopCandidates(Faceprint(featureVector: probe), numCandidates: 3) }
                expectError(.invalidArgument) { try sdk.batchIdentifyTopCandidate([Faceprint(featureVector: probe)]) }
            }
            expectError(.invalidArgument) { try sdk.identifyTopCandidate(Faceprint(featureVector: Array(repeating: 0, count: 32))) }
        }

        // MARK: Batches

        @Test func batchMatchesSingleProbesInOrder() throws {
            var rng = SeededGenerator(seed: 38)
            let (sdk, enrolled) = try Self.gallery(count: 80, dimension: 24, seed: 138)
            var probes: [Faceprint] = []
            for index in stride(from: 0, to: 80, by: 3) {
                probes.append(enrolled[index].0)           // a match
                probes.append(rng.faceprint(24))           // most likely none at 0.4
            }
            for threshold: Float in [0.4, 0.2, -1] {
                let batch = try sdk.batchIdentifyTopCandidate(probes, threshold: threshold)
                #expect(batch.count == probes.count)
                let singles = try probes.map { try sdk.identifyTopCandidate($0, threshold: threshold) }
                #expect(batch == singles)
            }
            let batch = try sdk.batchIdentifyTopCandidate(probes, threshold: 0.9)
            for (offset, index) in stride(from: 0, to: 80, by: 3).enumerated() {
                #expect(batch[2 * offset]?.uuid == enrolled[index].1)
                #expect(batch[2 * offset + 1] == nil)
            }
        }

        // MARK: Removal

        @Test func removedFaceprintsAreNeverReturned() throws {
            let (sdk, enrolled) = try Self.gallery(count: 40, dimension: 16, seed: 39)
            var removed = Set<String>()
            for index in stride(from: 0, to: 40, by: 4) {
                try sdk.removeByUUID(enrolled[index].1)
                removed.insert(enrolled[index].1)
            }
            #expect(try sdk.removeByIdentity("person-1") == 1)
            removed.insert(enrolled[1].1)

            for (faceprint, uuid) in enrolled {
                let all = try sdk.identifyTopCandidates(faceprint, numCandidates: 100, threshold: -1)
                #expect(all.count == 40 - removed.count)
                #expect(removed.isDisjoint(with: all.map(\.uuid)))
                let top = try sdk.identifyTopCandidate(faceprint, threshold: 0.99)
                if removed.contains(uuid) {
                    #expect(top == nil, "a removed Faceprint does not match itself")
                } else {
                    #expect(top?.uuid == uuid)
                }
            }
            let batch = try sdk.batchIdentifyTopCandidate(enrolled.map(\.0), threshold: -1)
            #expect(batch.allSatisfy { $0 != nil && !removed.contains($0!.uuid) })
        }

        // MARK: Match probability

        @Test(arguments: ["TFV5_2", "LITE", "SOME_UNREGISTERED_MODEL"])
        func matchProbabilityIsMonotoneInUnitInterval(model: String) throws {
            let sdk = try freshSDK(model: model)
            try sdk.createLoadCollection("people")
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: axis(0, dimension: 8), modelName: model), identity: "e0")
            var points: [(Float, Float)] = []
            for step in 0...200 {
                let target = -1 + Double(step) / 100
                let probe = Faceprint(featureVector: vector(withCosine: target, dimension: 8), modelName: model)
                let candidate = try #require(try sdk.identifyTopCandidate(probe, threshold: -1))
                #expect(candidate.matchProbability >= 0 && candidate.matchProbability <= 1)
                points.append((candidate.similarityMeasure, candidate.matchProbability))
            }
            points.sort { $0.0 < $1.0 }
            for (a, b) in zip(points, points.dropFirst()) {
                #expect(a.1 <= b.1, "p(\(a.0)) = \(a.1) > p(\(b.0)) = \(b.1)")
            }
            // Not constant: a match is likelier than a non-match.
            #expect(points.first!.1 < 0.1)
            #expect(points.last!.1 > 0.9)
        }

        @Test func matchProbabilityFollowsRankWithinOneAnswer() throws {
            var rng = SeededGenerator(seed: 40)
            let (sdk, _) = try Self.gallery(count: 60, dimension: 8, seed: 140)
            let candidates = try sdk.identifyTopCandidates(rng.faceprint(8), numCandidates: 60, threshold: -1)
            #expect(candidates.count == 60)
            for (a, b) in zip(candidates, candidates.dropFirst()) {
                #expect(a.matchProbability >= b.matchProbability)
            }
        }

        // MARK: Compression

        @Test(arguments: [VectorCompression.fp16, .int8])
        func compressedSimilaritiesAreClose(compression: VectorCompression) throws {
            var rng = SeededGenerator(seed: 41)
            _ = try freshSDK()
            let plain = SDK(options: memoryOptions(compression: .none))
            let packed = SDK(options: memoryOptions(compression: compression))
            try plain.createLoadCollection("plain")
            try packed.createLoadCollection("packed")
            let dimension = 64
            var enrolled: [Faceprint] = []
            for index in 0..<100 {
                let faceprint = rng.faceprint(dimension)
                enrolled.append(faceprint)
                _ = try plain.enrollFaceprint(faceprint, identity: "p\(index)", collectionName: "plain")
                _ = try packed.enrollFaceprint(faceprint, identity: "p\(index)", collectionName: "packed")
            }
            #expect(try plain.getCollectionMetadata("packed").featureVectorSizeBytes == dimension * compression.bytesPerDimension)
            var worst: Float = 0
            for probeIndex in 0..<10 {
                // Half the probes are near an enrolled vector (similarity ≈ 0.9), half random.
                let probe = probeIndex % 2 == 0 ? rng.faceprint(dimension)
                    : Faceprint(featureVector: zip(enrolled[probeIndex].featureVector, rng.vector(dimension)).map { $0 + 0.4 * $1 })
                let exact = try plain.identifyTopCandidates(probe, numCandidates: 100, threshold: -1, collectionName: "plain")
                let approx = try packed.identifyTopCandidates(probe, numCandidates: 100, threshold: -1, collectionName: "packed")
                #expect(exact.count == 100 && approx.count == 100)
                let approxByIdentity = Dictionary(uniqueKeysWithValues: approx.map { ($0.identity, $0.similarityMeasure) })
                for candidate in exact {
                    let other = try #require(approxByIdentity[candidate.identity])
                    worst = max(worst, abs(other - candidate.similarityMeasure))
                }
            }
            #expect(worst < 0.02, "\(compression): worst difference \(worst)")
            // Self-identification still finds the right one.
            for (index, faceprint) in enrolled.enumerated() {
                #expect(try packed.identifyTopCandidate(faceprint, threshold: 0.9, collectionName: "packed")?.identity == "p\(index)")
            }
        }

        // MARK: Value types

        @Test func candidateDictionary() throws {
            let (sdk, enrolled) = try Self.gallery(count: 3)
            let candidate = try #require(try sdk.identifyTopCandidate(enrolled[1].0))
            let dictionary = candidate.toDictionary()
            #expect(Set(dictionary.keys) == ["uuid", "identity", "similarity_measure", "match_probability"])
            #expect(dictionary["uuid"] as? String == enrolled[1].1)
            #expect(dictionary["identity"] as? String == "person-1")
            #expect(dictionary["similarity_measure"] as? Float == candidate.similarityMeasure)
            #expect(dictionary["match_probability"] as? Float == candidate.matchProbability)

            let data = try JSONEncoder().encode(candidate)
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(Set(object.keys) == ["uuid", "identity", "similarity_measure", "match_probability"])
            #expect(try JSONDecoder().decode(Candidate.self, from: data) == candidate)
        }
    }
}

/// ``Faceprint``'s JSON form: pure, no SDK state.
@Suite struct FaceprintJSONTests {
    @Test func roundTrip() throws {
        var rng = SeededGenerator(seed: 50)
        for dimension in [1, 3, 17, 64] {
            for _ in 0..<20 {
                let faceprint = Faceprint(featureVector: rng.vector(dimension), modelName: "TFV5_2", modelOptions: "{\"a\":1}")
                #expect(try Faceprint(json: faceprint.json()) == faceprint)
            }
        }
        let edges: [Float] = [0, -0.0, 1, -1, .leastNonzeroMagnitude, .leastNormalMagnitude,
                              .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0.1, 1e-7, 3.4e38,
                              Float(1).nextUp, Float(1).nextDown, 16777216, 123456.79]
        let edgy = Faceprint(featureVector: edges, modelName: "名前 \"quoted\" \\ \n\t\u{1}", modelOptions: "")
        let decoded = try Faceprint(json: edgy.json())
        #expect(decoded.featureVector.map(\.bitPattern) == edges.map(\.bitPattern), "exact, sign of zero included")
        #expect(decoded.modelName == edgy.modelName)
    }

    @Test func keys() throws {
        let faceprint = Faceprint(featureVector: [1, 2.5], modelName: "LITE", modelOptions: "opts")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(faceprint.json().utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["feature_vector", "model_name", "model_options"])
        #expect(object["model_name"] as? String == "LITE")
        #expect(object["model_options"] as? String == "opts")
        #expect((object["feature_vector"] as? [NSNumber])?.map(\.floatValue) == [1, 2.5])
        // Codable uses the same keys.
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(faceprint)) as? [String: Any]
        #expect(Set(encoded?.keys ?? [:].keys) == ["feature_vector", "model_name", "model_options"])
    }

    @Test func optionalKeysDefault() throws {
        let faceprint = try Faceprint(json: #"{"feature_vector": [1, 2, 3]}"#)
        #expect(faceprint == Faceprint(featureVector: [1, 2, 3]))
        #expect(faceprint.modelName == "TFV5_2")
        #expect(faceprint.modelOptions == "")
    }

    @Test(arguments: [
        "",
        "{",
        "null",
        "[]",
        "[1, 2, 3]",
        #"{"model_name": "TFV5_2"}"#,
        #"{"feature_vector": "1,2,3"}"#,
        #"{"feature_vector": [1, "2", 3]}"#,
        #"{"feature_vector": [1, null]}"#,
        #"{"feature_vector": [1, 2], "model_name": 5}"#,
        #"{"feature_vector": [1, 2]} trailing"#,
        "not json at all",
    ])
    func malformedJSONIsInvalidArgument(json: String) {
        expectError(.invalidArgument, "\(json)") { try Faceprint(json: json) }
    }

    /// RFC 8259 allows no trailing comma: such text is malformed JSON (TheContract.md: malformed JSON
    /// -> invalidArgument), however lenient the underlying decoder is.
    @Test(arguments: [
        #"{"feature_vector": [1, 2],}"#,
        #"{"feature_vector": [1, 2,]}"#,
    ])
    func trailingCommaIsMalformed(json: String) {
        expectError(.invalidArgument, "\(json)") { try Faceprint(json: json) }
    }

    @Test func nonFiniteComponentsDoNotRoundTripSilently() {
        let faceprint = Faceprint(featureVector: [1, .nan, .infinity])
        let json = faceprint.json()
        #expect(!json.contains("nan") && !json.contains("inf"), "\(json) must stay valid JSON")
        // It reads back as an error, never as a different, valid vector.
        expectError(.invalidArgument) { try Faceprint(json: json) }
    }
}
