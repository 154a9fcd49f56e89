import Testing
@testable import Lineup

extension SDKTests {
    /// TheContract.md, "Enrollment": enrollment, removal, their UUIDs and every error case (each changes nothing).
    @Suite struct Enrollment {
        /// What a call must leave unchanged when it throws.
        struct State: Equatable {
            var names: [String]
            var metadata: [CollectionMetadata]
            var identities: [[String: String]]
        }

        static func state(_ sdk: SDK) throws -> State {
            let names = try sdk.getCollectionNames()
            return State(names: names,
                         metadata: try names.map { try sdk.getCollectionMetadata($0) },
                         identities: try names.map { try sdk.getCollectionIdentities($0) })
        }

        /// A fresh SDK with one loaded collection "people" holding three Faceprints of dimension 16.
        static func populated() throws -> (SDK, [String]) {
            var rng = SeededGenerator(seed: 20)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            let uuids = try ["alice", "alice", "bob"].map { try sdk.enrollFaceprint(rng.faceprint(16), identity: $0) }
            return (sdk, uuids)
        }

        // MARK: UUIDs

        @Test func uuidFormat() throws {
            var rng = SeededGenerator(seed: 21)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            var seen = Set<String>()
            for index in 0..<200 {
                let uuid = try sdk.enrollFaceprint(rng.faceprint(8), identity: "p\(index)")
                #expect(isLowercaseUUIDString(uuid), "\(uuid)")
                #expect(uuid.count == 36)
                let characters = Array(uuid)
                #expect(characters[14] == "7", "version 7: \(uuid)")
                #expect("89ab".contains(characters[19]), "RFC 9562 variant: \(uuid)")
                let parsed = try #require(RecordID(string: uuid))
                #expect(parsed.string == uuid)
                seen.insert(uuid)
            }
            #expect(seen.count == 200, "every enrollment gets a new UUID")
            #expect(Set(try sdk.getCollectionIdentities("people").keys) == seen)
        }

        @Test func uuidsOfLaterEnrollmentsDoNotGoBackInTime() throws {
            var rng = SeededGenerator(seed: 22)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            let first = try sdk.enrollFaceprint(rng.faceprint(8), identity: "a")
            let start = ContinuousClock.now
            while ContinuousClock.now - start < .milliseconds(3) {}
            let second = try sdk.enrollFaceprint(rng.faceprint(8), identity: "b")
            // Version 7: the first 48 bits are a millisecond timestamp.
            let t1 = try #require(RecordID(string: first)).high >> 16
            let t2 = try #require(RecordID(string: second)).high >> 16
            #expect(t2 > t1)
            #expect(try #require(RecordID(string: first)) < #require(RecordID(string: second)))
        }

        // MARK: Storage form

        @Test func enrollmentStoresTheUnitVector() throws {
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: [3, 0, -4, 0]), identity: "a")
            let store = try #require(ProcessConnection.connection).resolve("people")
            let snapshot = try store.snapshot()
            let chunk = try #require(snapshot.blocks.first?.source as? GalleryChunk)
            let bytes = chunk.storedBytes(at: 0)
            let stored = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            #expect(stored == [0.6, 0, -0.8, 0])
            // Scaling the vector changes nothing: the direction is what is stored.
            let candidate = try #require(try sdk.identifyTopCandidate(Faceprint(featureVector: [300, 0, -400, 0]), threshold: 0.999))
            #expect(abs(candidate.similarityMeasure - 1) < 1e-6)
        }

        // MARK: Vector errors

        @Test func emptyVectorIsInputIsEmpty() throws {
            let (sdk, _) = try Self.populated()
            let before = try Self.state(sdk)
            expectError(.inputIsEmpty) { try sdk.enrollFaceprint(Faceprint(featureVector: []), identity: "x") }
            #expect(try Self.state(sdk) == before)
        }

        @Test(arguments: [(String, [Float])]([
            ("NaN", [1, Float.nan, 2]),
            ("signalling NaN", [Float.signalingNaN, 1]),
            ("+Inf", [1, Float.infinity]),
            ("-Inf", [-Float.infinity, 1, 2]),
            ("all zero", [0, 0, 0, 0]),
            ("negative zeros", [-0.0, 0.0]),
        ]))
        func nonFiniteOrZeroVectorIsInvalidArgument(label: String, vector: [Float]) throws {
            let (sdk, _) = try Self.populated()
            let before = try Self.state(sdk)
            expectError(.invalidArgument, "\(label)") { try sdk.enrollFaceprint(Faceprint(featureVector: vector), identity: "x") }
            // Also into an empty collection, whose dimension the vector would have fixed.
            try sdk.createLoadCollection("empty")
            expectError(.invalidArgument, "\(label)") {
                try sdk.enrollFaceprint(Faceprint(featureVector: vector), identity: "x", collectionName: "empty")
            }
            #expect(try sdk.getCollectionMetadata("empty").featureVectorSizeBytes == 0)
            try sdk.deleteCollection("empty")
            #expect(try Self.state(sdk) == before)
        }

        @Test func errorMessagesDoNotContainVectorValues() throws {
            let (sdk, _) = try Self.populated()
            let vectors: [[Float]] = [
                [1.2345678, .nan, 9.876543],
                [1.2345678, .infinity, 9.876543],
                Array(repeating: 1.2345678, count: 15),        // wrong dimension
            ]
            for vector in vectors {
                let error = try #require(lineupError { try sdk.enrollFaceprint(Faceprint(featureVector: vector), identity: "x") })
                #expect(!error.message.contains("1.234"), "\(error.message)")
                #expect(!error.message.contains("9.876"), "\(error.message)")
                let probeError = try #require(lineupError { try sdk.identifyTopCandidate(Faceprint(featureVector: vector)) })
                #expect(!probeError.message.contains("1.234"), "\(probeError.message)")
                #expect(!probeError.message.contains("9.876"), "\(probeError.message)")
            }
        }

        // MARK: Identity errors

        @Test func emptyIdentityIsInputIsEmpty() throws {
            let (sdk, _) = try Self.populated()
            let before = try Self.state(sdk)
            expectError(.inputIsEmpty) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 2]), identity: "") }
            expectError(.inputIsEmpty) { try sdk.removeByIdentity("") }
            #expect(try Self.state(sdk) == before)
        }

        @Test(arguments: [
            String.repeating("a", 1024),
            String.repeating("€", 341) + "a",       // 1024 bytes, 342 characters
            String.repeating("é", 512),             // 1024 bytes
        ])
        func identityOf1024BytesIsAccepted(identity: String) throws {
            #expect(identity.utf8.count == 1024)
            let (sdk, _) = try Self.populated()
            let uuid = try sdk.enrollFaceprint(Faceprint(featureVector: Array(repeating: 1, count: 16)), identity: identity)
            #expect(try sdk.getCollectionIdentities("people")[uuid] == identity)
            #expect(try sdk.removeByIdentity(identity) == 1)
        }

        @Test(arguments: [
            String.repeating("a", 1025),
            String.repeating("€", 342),                        // 1026 bytes
            String.repeating("é", 512) + "a",                  // 1025 bytes
            String.repeating("a", 1023) + "é",                 // 1025 bytes, 1024 characters
        ])
        func identityOver1024BytesIsInvalidArgument(identity: String) throws {
            #expect(identity.utf8.count > 1024)
            let (sdk, _) = try Self.populated()
            let before = try Self.state(sdk)
            expectError(.invalidArgument, "\(identity.utf8.count) bytes") {
                try sdk.enrollFaceprint(Faceprint(featureVector: Array(repeating: 1, count: 16)), identity: identity)
            }
            #expect(try Self.state(sdk) == before)
        }

        @Test func identitiesAreDataKeptExactly() throws {
            let (sdk, _) = try Self.populated()
            for (index, identity) in ["Zoë 名前 🙂", "line\nbreak", "  spaces  ", "a\"quote\\", "ALICE"].enumerated() {
                let vector = axis(index, dimension: 16)   // orthogonal to one another
                let uuid = try sdk.enrollFaceprint(Faceprint(featureVector: vector), identity: identity)
                #expect(try sdk.getCollectionIdentities("people")[uuid] == identity)
                let candidate = try #require(try sdk.identifyTopCandidate(Faceprint(featureVector: vector), threshold: 0.9999))
                #expect(candidate.identity == identity)
            }
            // Identities are case-sensitive: "ALICE" is not "alice".
            #expect(try sdk.removeByIdentity("ALICE") == 1)
            #expect(try sdk.removeByIdentity("alice") == 2)
        }

        // MARK: Collection mismatches

        @Test func modelMismatchIsEnrollmentError() throws {
            let (sdk, _) = try Self.populated()
            let before = try Self.state(sdk)
            expectError(.enrollmentError) {
                try sdk.enrollFaceprint(Faceprint(featureVector: Array(repeating: 1, count: 16), modelName: "LITE"), identity: "x")
            }
            expectError(.enrollmentError, "model names are compared exactly") {
                try sdk.enrollFaceprint(Faceprint(featureVector: Array(repeating: 1, count: 16), modelName: "tfv5_2"), identity: "x")
            }
            #expect(try Self.state(sdk) == before)
        }

        @Test func modelMismatchIntoEmptyCollectionIsEnrollmentError() throws {
            let sdk = try freshSDK(model: "LITE")
            try sdk.createLoadCollection("lite")
            expectError(.enrollmentError) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 2, 3]), identity: "x") }
            let metadata = try sdk.getCollectionMetadata("lite")
            #expect(metadata.numFaceprints == 0)
            #expect(metadata.featureVectorSizeBytes == 0, "a refused Faceprint does not fix the dimension")
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 2], modelName: "LITE"), identity: "x")
            #expect(try sdk.getCollectionMetadata("lite").featureVectorSizeBytes == 8)
        }

        @Test(arguments: [1, 15, 17, 32])
        func dimensionMismatchIsEnrollmentError(dimension: Int) throws {
            let (sdk, _) = try Self.populated()
            let before = try Self.state(sdk)
            expectError(.enrollmentError) {
                try sdk.enrollFaceprint(Faceprint(featureVector: Array(repeating: 1, count: dimension)), identity: "x")
            }
            #expect(try Self.state(sdk) == before)
        }

        @Test func firstFaceprintFixesTheDimension() throws {
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            #expect(try sdk.getCollectionMetadata("people").featureVectorSizeBytes == 0)
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 2, 3, 4, 5]), identity: "a")
            #expect(try sdk.getCollectionMetadata("people").featureVectorSizeBytes == 20)
            expectError(.enrollmentError) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 2, 3, 4]), identity: "b") }
            expectError(.enrollmentError) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 2, 3, 4, 5, 6]), identity: "b") }
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: [5, 4, 3, 2, 1]), identity: "b")
            #expect(try sdk.getCollectionMetadata("people").numFaceprints == 2)
        }

        // MARK: Naming the collection

        @Test func unnamedWithNoneLoadedIsCollectionNotLoaded() throws {
            let sdk = try freshSDK()
            try sdk.createCollection("exists")
            let before = try Self.state(sdk)
            let faceprint = Faceprint(featureVector: [1, 2])
            expectError(.collectionNotLoaded) { try sdk.enrollFaceprint(faceprint, identity: "x") }
            expectError(.collectionNotLoaded) { try sdk.removeByUUID("01890a5d-ac96-774b-bcce-b302099a8057") }
            expectError(.collectionNotLoaded) { try sdk.removeByIdentity("x") }
            expectError(.collectionNotLoaded) { try sdk.identifyTopCandidate(faceprint) }
            expectError(.collectionNotLoaded) { try sdk.identifyTopCandidates(faceprint, numCandidates: 2) }
            expectError(.collectionNotLoaded) { try sdk.batchIdentifyTopCandidate([faceprint]) }
            #expect(try Self.state(sdk) == before)
        }

        @Test func unnamedWithSeveralLoadedIsNoCollectionSpecified() throws {
            let (sdk, uuids) = try Self.populated()
            try sdk.createLoadCollection("second")
            let before = try Self.state(sdk)
            let faceprint = Faceprint(featureVector: Array(repeating: 1, count: 16))
            expectError(.noCollectionSpecified) { try sdk.enrollFaceprint(faceprint, identity: "x") }
            expectError(.noCollectionSpecified) { try sdk.removeByUUID(uuids[0]) }
            expectError(.noCollectionSpecified) { try sdk.removeByIdentity("alice") }
            expectError(.noCollectionSpecified) { try sdk.identifyTopCandidate(faceprint) }
            expectError(.noCollectionSpecified) { try sdk.identifyTopCandidates(faceprint, numCandidates: 2) }
            expectError(.noCollectionSpecified) { try sdk.batchIdentifyTopCandidate([faceprint]) }
            #expect(try Self.state(sdk) == before)
            // Naming it works.
            try sdk.removeByUUID(uuids[0], collectionName: "people")
            #expect(try sdk.getCollectionMetadata("people").numFaceprints == 2)
        }

        @Test func namedMissingIsNoCollectionFound() throws {
            let (sdk, uuids) = try Self.populated()
            let before = try Self.state(sdk)
            let faceprint = Faceprint(featureVector: Array(repeating: 1, count: 16))
            expectError(.noCollectionFound) { try sdk.enrollFaceprint(faceprint, identity: "x", collectionName: "missing") }
            expectError(.noCollectionFound) { try sdk.removeByUUID(uuids[0], collectionName: "missing") }
            expectError(.noCollectionFound) { try sdk.removeByIdentity("alice", collectionName: "missing") }
            expectError(.noCollectionFound) { try sdk.identifyTopCandidate(faceprint, collectionName: "missing") }
            expectError(.noCollectionFound) { try sdk.identifyTopCandidates(faceprint, numCandidates: 2, collectionName: "missing") }
            expectError(.noCollectionFound) { try sdk.batchIdentifyTopCandidate([faceprint], collectionName: "missing") }
            #expect(try Self.state(sdk) == before)
        }

        @Test func namedExistingButNotLoadedIsCollectionNotLoaded() throws {
            let (sdk, uuids) = try Self.populated()
            try sdk.createCollection("unloaded")
            let before = try Self.state(sdk)
            let faceprint = Faceprint(featureVector: Array(repeating: 1, count: 16))
            expectError(.collectionNotLoaded) { try sdk.enrollFaceprint(faceprint, identity: "x", collectionName: "unloaded") }
            expectError(.collectionNotLoaded) { try sdk.removeByUUID(uuids[0], collectionName: "unloaded") }
            expectError(.collectionNotLoaded) { try sdk.removeByIdentity("alice", collectionName: "unloaded") }
            expectError(.collectionNotLoaded) { try sdk.identifyTopCandidate(faceprint, collectionName: "unloaded") }
            expectError(.collectionNotLoaded) { try sdk.identifyTopCandidates(faceprint, numCandidates: 2, collectionName: "unloaded") }
            expectError(.collectionNotLoaded) { try sdk.batchIdentifyTopCandidate([faceprint], collectionName: "unloaded") }
            #expect(try Self.state(sdk) == before)
            // The one loaded collection is still "" — the unloaded one does not count.
            _ = try sdk.enrollFaceprint(faceprint, identity: "x")
        }

        // MARK: Removal

        @Test func removeByUUID() throws {
            let (sdk, uuids) = try Self.populated()
            try sdk.removeByUUID(uuids[1])
            #expect(try sdk.getCollectionIdentities("people") == [uuids[0]: "alice", uuids[2]: "bob"])
            // A second removal of the same UUID finds nothing.
            expectError(.noRecordFound) { try sdk.removeByUUID(uuids[1]) }
            #expect(try sdk.getCollectionMetadata("people").numFaceprints == 2)
        }

        @Test(arguments: [
            "01890a5d-ac96-774b-bcce-b302099a8057",   // well-formed, never enrolled
            "00000000-0000-0000-0000-000000000000",
            "not-a-uuid",
            "01890a5d-ac96-774b-bcce-b302099a805",    // 35 characters
            "01890a5d-ac96-774b-bcce-b302099a80577",  // 37 characters
            "01890a5dXac96-774b-bcce-b302099a8057",   // misplaced hyphen
            "01890a5d-ac96-774b-bcce-b302099a805g",   // not hex
            "{01890a5d-ac96-774b-bcce-b302099a8057}",
        ])
        func removeUnknownOrMalformedUUIDIsNoRecordFound(uuid: String) throws {
            let (sdk, _) = try Self.populated()
            let before = try Self.state(sdk)
            expectError(.noRecordFound) { try sdk.removeByUUID(uuid) }
            #expect(try Self.state(sdk) == before)
        }

        @Test func removeEmptyUUIDChangesNothing() throws {
            let (sdk, _) = try Self.populated()
            let before = try Self.state(sdk)
            let error = try #require(lineupError { try sdk.removeByUUID("") })
            #expect(error.code == .noRecordFound || error.code == .inputIsEmpty, "\(error)")
            #expect(try Self.state(sdk) == before)
        }

        @Test func removeUUIDOfAnotherCollectionIsNoRecordFound() throws {
            let (sdk, uuids) = try Self.populated()
            try sdk.createLoadCollection("other")
            let otherUUID = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 2]), identity: "alice", collectionName: "other")
            let before = try Self.state(sdk)
            expectError(.noRecordFound) { try sdk.removeByUUID(uuids[0], collectionName: "other") }
            expectError(.noRecordFound) { try sdk.removeByUUID(otherUUID, collectionName: "people") }
            #expect(try Self.state(sdk) == before)
            // removeByIdentity is scoped to the named collection too.
            #expect(try sdk.removeByIdentity("alice", collectionName: "other") == 1)
            #expect(try sdk.getCollectionMetadata("people").numFaceprints == 3)
        }

        @Test func removeByIdentity() throws {
            let (sdk, uuids) = try Self.populated()
            #expect(try sdk.removeByIdentity("alice") == 2)
            #expect(try sdk.getCollectionIdentities("people") == [uuids[2]: "bob"])
            let before = try Self.state(sdk)
            expectError(.noRecordFound) { try sdk.removeByIdentity("alice") }
            expectError(.noRecordFound) { try sdk.removeByIdentity("nobody") }
            expectError(.noRecordFound, "identities are not prefixes") { try sdk.removeByIdentity("bo") }
            #expect(try Self.state(sdk) == before)
            #expect(try sdk.removeByIdentity("bob") == 1)
            #expect(try sdk.getCollectionMetadata("people").numFaceprints == 0)
        }

        @Test func removedIdentityCanBeEnrolledAgain() throws {
            let (sdk, uuids) = try Self.populated()
            #expect(try sdk.removeByIdentity("alice") == 2)
            let fresh = try sdk.enrollFaceprint(Faceprint(featureVector: Array(repeating: 1, count: 16)), identity: "alice")
            #expect(!uuids.contains(fresh))
            let metadata = try sdk.getCollectionMetadata("people")
            #expect(metadata.numFaceprints == 2)
            #expect(metadata.numIdentities == 2)
            #expect(try sdk.removeByIdentity("alice") == 1)
        }
    }
}
