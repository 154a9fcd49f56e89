import Foundation
import Testing
@testable import Lineup

extension SDKTests {
    /// TheContract.md, "Collections and their names": creating, loading, deleting and describing collections.
    @Suite struct Collections {
        // MARK: Loading, all or nothing

        @Test func loadMissingCollection() throws {
            let sdk = try freshSDK()
            expectError(.noCollectionFound) { try sdk.loadCollection("missing") }
            expectError(.collectionNotLoaded, "nothing got loaded") { try sdk.identifyTopCandidate(Faceprint(featureVector: [1, 0])) }
        }

        @Test func loadCollectionsIsAllOrNothing() throws {
            let sdk = try freshSDK()
            try sdk.createCollection("a")
            try sdk.createCollection("b")
            expectError(.noCollectionFound) { try sdk.loadCollections(["a", "missing", "b"]) }
            // Neither a nor b got loaded.
            expectError(.collectionNotLoaded) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x") }
            expectError(.collectionNotLoaded) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x", collectionName: "a") }
            expectError(.collectionNotLoaded) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x", collectionName: "b") }

            // A malformed name anywhere in the list also loads nothing.
            expectError(.invalidArgument) { try sdk.loadCollections(["a", "bad\nname"]) }
            expectError(.collectionNotLoaded) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x", collectionName: "a") }

            try sdk.loadCollections(["a", "b"])
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x", collectionName: "a")
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "y", collectionName: "b")
            expectError(.noCollectionSpecified) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "z") }
        }

        @Test func loadCollectionsWithEmptyListIsInputIsEmpty() throws {
            let sdk = try freshSDK()
            expectError(.inputIsEmpty) { try sdk.loadCollections([]) }
        }

        @Test func loadCollectionsToleratesDuplicates() throws {
            let sdk = try freshSDK()
            try sdk.createCollection("a")
            try sdk.loadCollections(["a", "a"])
            // Exactly one collection loaded: "" resolves.
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x")
        }

        @Test func createLoadCollectionCreatesAndLoads() throws {
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            #expect(try sdk.getCollectionNames() == ["people"])
            let uuid = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 2, 3]), identity: "alice")
            #expect(try sdk.getCollectionIdentities("people") == [uuid: "alice"])
        }

        @Test func createLoadCollectionWithMalformedNameChangesNothing() throws {
            let sdk = try freshSDK()
            expectError(.invalidArgument) { try sdk.createLoadCollection("") }
            expectError(.invalidArgument) { try sdk.createLoadCollection("tab\there") }
            #expect(try sdk.getCollectionNames().isEmpty)
        }

        @Test func loadingIsRepeatable() throws {
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            let uuid = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 2, 3]), identity: "alice")
            try sdk.loadCollection("people")
            try sdk.loadCollection("people")
            // Still one loaded collection, with its enrollment.
            #expect(try sdk.identifyTopCandidate(Faceprint(featureVector: [1, 2, 3]))?.uuid == uuid)
        }

        // MARK: Creating

        @Test func createExistingCollectionIsNoOp() throws {
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            let uuid = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 2, 3]), identity: "alice")
            let before = try sdk.getCollectionMetadata("people")

            try sdk.createCollection("people")
            // Even from an instance with other settings: the existing collection keeps its own.
            let other = SDK(options: memoryOptions(model: "LITE", compression: .int8))
            try other.createCollection("people")
            try other.createLoadCollection("people")

            #expect(try sdk.getCollectionNames() == ["people"])
            #expect(try sdk.getCollectionMetadata("people") == before)
            #expect(try sdk.getCollectionIdentities("people") == [uuid: "alice"])
            #expect(try sdk.identifyTopCandidate(Faceprint(featureVector: [1, 2, 3]))?.uuid == uuid)
        }

        @Test(arguments: [
            String.repeating("a", 1),
            String.repeating("a", 255),
            String.repeating("é", 127) + "a",            // 255 bytes, 128 characters
            "Ünïcødé 名前 🙂",
            "with space/and/slashes/../..",               // data, never a path
            "-leading-dash",
        ])
        func validCollectionNames(name: String) throws {
            #expect(name.utf8.count <= 255)
            let sdk = try freshSDK()
            try sdk.createLoadCollection(name)
            #expect(try sdk.getCollectionNames() == [name])
            let metadata = try sdk.getCollectionMetadata(name)
            #expect(metadata.collectionName == name)
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x", collectionName: name)
            try sdk.deleteCollection(name)
            #expect(try sdk.getCollectionNames().isEmpty)
        }

        @Test(arguments: [
            "",
            String.repeating("a", 256),
            String.repeating("é", 128),                   // 256 bytes, 128 characters
            "\n",
            "line\nbreak",
            "\u{7F}",
            "nul\u{0}byte",
            "tab\t",
            "\u{1B}[31m",
            "c1\u{85}control",
        ])
        func malformedCollectionNames(name: String) throws {
            let sdk = try freshSDK()
            try sdk.createLoadCollection("valid")
            expectError(.invalidArgument) { try sdk.createCollection(name) }
            expectError(.invalidArgument) { try sdk.createLoadCollection(name) }
            expectError(.invalidArgument) { try sdk.loadCollection(name) }
            expectError(.invalidArgument) { try sdk.loadCollections([name]) }
            expectError(.invalidArgument) { try sdk.getCollectionMetadata(name) }
            expectError(.invalidArgument) { try sdk.getCollectionIdentities(name) }
            expectError(.invalidArgument) { try sdk.deleteCollection(name) }
            if !name.isEmpty {   // "" as collectionName: means "the only loaded one"
                expectError(.invalidArgument) {
                    try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x", collectionName: name)
                }
                expectError(.invalidArgument) {
                    try sdk.identifyTopCandidate(Faceprint(featureVector: [1, 0]), collectionName: name)
                }
            }
            #expect(try sdk.getCollectionNames() == ["valid"])
            #expect(try sdk.getCollectionMetadata("valid").numFaceprints == 0)
        }

        // MARK: Deleting

        @Test func deleteMissingCollection() throws {
            let sdk = try freshSDK()
            try sdk.createCollection("a")
            expectError(.noCollectionFound) { try sdk.deleteCollection("missing") }
            #expect(try sdk.getCollectionNames() == ["a"])
        }

        @Test func deleteUnloadsAndForgets() throws {
            var rng = SeededGenerator(seed: 10)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("a")
            let faceprint = rng.faceprint(16)
            _ = try sdk.enrollFaceprint(faceprint, identity: "alice")
            try sdk.deleteCollection("a")

            #expect(try sdk.getCollectionNames().isEmpty)
            expectError(.collectionNotLoaded, "no collection is loaded any more") { try sdk.identifyTopCandidate(faceprint) }
            expectError(.noCollectionFound) { try sdk.identifyTopCandidate(faceprint, collectionName: "a") }
            expectError(.noCollectionFound) { try sdk.enrollFaceprint(faceprint, identity: "bob", collectionName: "a") }
            expectError(.noCollectionFound) { try sdk.getCollectionMetadata("a") }
            expectError(.noCollectionFound) { try sdk.getCollectionIdentities("a") }
            expectError(.noCollectionFound) { try sdk.loadCollection("a") }
            expectError(.noCollectionFound) { try sdk.deleteCollection("a") }
        }

        @Test func deleteOneOfTwoLoadedLeavesTheOther() throws {
            var rng = SeededGenerator(seed: 11)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("a")
            try sdk.createLoadCollection("b")
            let faceprint = rng.faceprint(16)
            let uuid = try sdk.enrollFaceprint(faceprint, identity: "bob", collectionName: "b")
            expectError(.noCollectionSpecified) { try sdk.identifyTopCandidate(faceprint) }
            try sdk.deleteCollection("a")
            // Only b is loaded now: "" names it.
            #expect(try sdk.identifyTopCandidate(faceprint)?.uuid == uuid)
        }

        @Test func recreatedCollectionStartsEmptyWithNewSettings() throws {
            var rng = SeededGenerator(seed: 12)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("a")
            _ = try sdk.enrollFaceprint(rng.faceprint(16), identity: "alice")
            try sdk.deleteCollection("a")

            let fp16 = SDK(options: memoryOptions(model: "LITE", compression: .fp16))
            try fp16.createLoadCollection("a")
            let metadata = try fp16.getCollectionMetadata("a")
            #expect(metadata.numFaceprints == 0)
            #expect(metadata.numIdentities == 0)
            #expect(metadata.featureVectorSizeBytes == 0, "the old dimension is forgotten")
            #expect(metadata.modelName == "LITE")
            #expect(metadata.modelOptions.contains("fp16"))
            #expect(try fp16.getCollectionIdentities("a").isEmpty)
            // A new dimension is accepted.
            _ = try fp16.enrollFaceprint(rng.faceprint(8, model: "LITE"), identity: "bob")
            #expect(try fp16.getCollectionMetadata("a").featureVectorSizeBytes == 16)
        }

        // MARK: Names

        @Test func collectionNamesAreSorted() throws {
            let sdk = try freshSDK()
            let names = ["zeta", "alpha", "Beta", "mu", "alpha2", "Ωmega", "0"]
            for name in names { try sdk.createCollection(name) }
            try sdk.createCollection("mu")   // no-op, no duplicate
            let got = try sdk.getCollectionNames()
            #expect(got == names.sorted())
            #expect(got.count == names.count)
        }

        // MARK: Metadata

        @Test(arguments: [(VectorCompression.none, 4), (.fp16, 2), (.int8, 1)])
        func metadataOfLoadedAndUnloaded(compression: VectorCompression, bytesPerDimension: Int) throws {
            var rng = SeededGenerator(seed: 13)
            let sdk = try freshSDK(model: "TFV7", compression: compression)
            try sdk.createCollection("unloaded")
            try sdk.createLoadCollection("loaded")

            for name in ["unloaded", "loaded"] {
                let metadata = try sdk.getCollectionMetadata(name)
                #expect(metadata == CollectionMetadata(collectionName: name, encrypted: false,
                                                       featureVectorSizeBytes: 0, modelName: "TFV7",
                                                       modelOptions: metadata.modelOptions,
                                                       numFaceprints: 0, numIdentities: 0))
                #expect(metadata.modelOptions.contains(compression.rawValue),
                        "modelOptions names the compression: \(metadata.modelOptions)")
            }

            let dimension = 37
            _ = try sdk.enrollFaceprint(rng.faceprint(dimension, model: "TFV7"), identity: "alice", collectionName: "loaded")
            let loaded = try sdk.getCollectionMetadata("loaded")
            #expect(loaded.featureVectorSizeBytes == dimension * bytesPerDimension)
            #expect(loaded.numFaceprints == 1)
            #expect(loaded.numIdentities == 1)
            // The unloaded one is unaffected.
            #expect(try sdk.getCollectionMetadata("unloaded").featureVectorSizeBytes == 0)

            // Unloading (by reconnecting) does not change what metadata reports.
            try sdk.createDatabaseConnection("")
            #expect(try sdk.getCollectionMetadata("loaded") == loaded)
        }

        @Test func modelOptionsDistinguishCompressions() throws {
            _ = try freshSDK()
            var options: [String] = []
            for compression in VectorCompression.allCases {
                let sdk = SDK(options: memoryOptions(compression: compression))
                try sdk.createCollection("c-\(compression)")
                options.append(try sdk.getCollectionMetadata("c-\(compression)").modelOptions)
            }
            #expect(Set(options).count == 3, "each compression is named: \(options)")
            #expect(options[0].lowercased().contains("compression"))
        }

        @Test func metadataOfMissingCollection() throws {
            let sdk = try freshSDK()
            expectError(.noCollectionFound) { try sdk.getCollectionMetadata("missing") }
            expectError(.noCollectionFound) { try sdk.getCollectionIdentities("missing") }
        }

        @Test func countsFollowEnrollAndRemove() throws {
            var rng = SeededGenerator(seed: 14)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            func counts() throws -> (Int, Int) {
                let m = try sdk.getCollectionMetadata("people")
                return (m.numFaceprints, m.numIdentities)
            }
            #expect(try counts() == (0, 0))
            let a1 = try sdk.enrollFaceprint(rng.faceprint(16), identity: "alice")
            let a2 = try sdk.enrollFaceprint(rng.faceprint(16), identity: "alice")
            let b1 = try sdk.enrollFaceprint(rng.faceprint(16), identity: "bob")
            _ = try sdk.enrollFaceprint(rng.faceprint(16), identity: "carol")
            _ = try sdk.enrollFaceprint(rng.faceprint(16), identity: "carol")
            _ = try sdk.enrollFaceprint(rng.faceprint(16), identity: "carol")
            #expect(try counts() == (6, 3))

            try sdk.removeByUUID(a1)
            #expect(try counts() == (5, 3), "alice still has a Faceprint")
            try sdk.removeByUUID(b1)
            #expect(try counts() == (4, 2), "bob has none left")
            #expect(try sdk.removeByIdentity("carol") == 3)
            #expect(try counts() == (1, 1))
            try sdk.removeByUUID(a2)
            #expect(try counts() == (0, 0))
            // The dimension stays fixed after the last removal.
            #expect(try sdk.getCollectionMetadata("people").featureVectorSizeBytes == 64)
            expectError(.enrollmentError) { try sdk.enrollFaceprint(rng.faceprint(8), identity: "dave") }
        }

        @Test func identitiesMap() throws {
            var rng = SeededGenerator(seed: 15)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            try sdk.createCollection("empty")
            #expect(try sdk.getCollectionIdentities("people").isEmpty)
            #expect(try sdk.getCollectionIdentities("empty").isEmpty)

            var expected: [String: String] = [:]
            var order: [String] = []
            for index in 0..<20 {
                let identity = "person-\(index % 7)"
                let uuid = try sdk.enrollFaceprint(rng.faceprint(12), identity: identity)
                expected[uuid] = identity
                order.append(uuid)
            }
            #expect(expected.count == 20, "every UUID is new")
            #expect(try sdk.getCollectionIdentities("people") == expected)

            for uuid in order.prefix(3) {   // person-0, person-1, person-2
                try sdk.removeByUUID(uuid)
                expected[uuid] = nil
            }
            #expect(try sdk.removeByIdentity("person-6") == 2)   // enrollments 6 and 13
            expected = expected.filter { $0.value != "person-6" }
            #expect(try sdk.getCollectionIdentities("people") == expected)

            // Unloaded collections are described too.
            try sdk.createDatabaseConnection("")
            #expect(try sdk.getCollectionIdentities("people") == expected)
            #expect(try sdk.getCollectionIdentities("empty").isEmpty)
        }

        @Test func collectionRecordsCreatorsSettings() throws {
            var rng = SeededGenerator(seed: 16)
            _ = try freshSDK()
            let lite = SDK(options: memoryOptions(model: "LITE", compression: .int8))
            let tfv = SDK(options: memoryOptions(model: "TFV5_2", compression: .fp16))
            try lite.createCollection("lite")
            try tfv.createCollection("tfv")
            // Load both through the *other* instance: the collection's settings, not the
            // loader's, decide.
            try tfv.loadCollection("lite")
            try lite.loadCollection("tfv")

            let liteMeta = try tfv.getCollectionMetadata("lite")
            #expect(liteMeta.modelName == "LITE")
            #expect(liteMeta.modelOptions.contains("int8"))
            let tfvMeta = try lite.getCollectionMetadata("tfv")
            #expect(tfvMeta.modelName == "TFV5_2")
            #expect(tfvMeta.modelOptions.contains("fp16"))

            // Enrollment follows the collection's model, whoever enrolls.
            _ = try tfv.enrollFaceprint(rng.faceprint(10, model: "LITE"), identity: "x", collectionName: "lite")
            expectError(.enrollmentError) {
                try lite.enrollFaceprint(rng.faceprint(10, model: "LITE"), identity: "x", collectionName: "tfv")
            }
            _ = try lite.enrollFaceprint(rng.faceprint(10), identity: "x", collectionName: "tfv")
            #expect(try tfv.getCollectionMetadata("lite").featureVectorSizeBytes == 10)
            #expect(try tfv.getCollectionMetadata("tfv").featureVectorSizeBytes == 20)
        }

        @Test func malformedModelNameCannotCreate() throws {
            _ = try freshSDK()
            for model in ["", "bad\nmodel"] {
                let sdk = SDK(options: memoryOptions(model: model))
                expectError(.invalidArgument, "model \(model.debugDescription)") { try sdk.createCollection("c") }
            }
            #expect(try SDK(options: memoryOptions()).getCollectionNames().isEmpty)
        }

        @Test func metadataIsCodableWithSnakeCaseKeys() throws {
            let sdk = try freshSDK()
            try sdk.createCollection("people")
            let metadata = try sdk.getCollectionMetadata("people")
            let data = try JSONEncoder().encode(metadata)
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(Set(object.keys) == ["collection_name", "encrypted", "feature_vector_size_bytes",
                                         "model_name", "model_options", "num_faceprints", "num_identities"])
            #expect(try JSONDecoder().decode(CollectionMetadata.self, from: data) == metadata)
        }
    }
}
