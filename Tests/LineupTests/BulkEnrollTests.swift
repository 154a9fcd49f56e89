import Foundation
import Testing
@testable import Lineup

extension SDKTests {
    /// Large batches on the on-disk store go straight into segment files (Store.bulkEnroll).
    @Suite struct BulkEnroll {
        static func connect(_ path: String) throws -> SDK {
            ProcessConnection.resetForTesting()
            var options = ConfigurationOptions()
            options.dbms = .file
            let sdk = SDK(options: options)
            try sdk.createDatabaseConnection(path)
            return sdk
        }

        static func segmentFiles(_ path: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".seg") }.sorted()
        }

        @Test func bulkBatchLandsInASegmentAfterEarlierEnrollmentsAndSurvivesReopen() throws {
            let directory = try TemporaryDirectory()
            let path = directory.path + "/store"
            var rng = SeededGenerator(seed: 41)
            let sdk = try Self.connect(path)
            try sdk.createLoadCollection("c")
            let shared = rng.faceprint(16)
            let first = try sdk.enrollFaceprint(shared, identity: "first")   // in the journal
            var faceprints = (0..<(FileCollection.bulkThreshold + 10)).map { _ in rng.faceprint(16) }
            faceprints[7] = shared                                              // a tie with `first`
            let identities = faceprints.indices.map { "bulk-\($0 % 100)" }
            let ids = try sdk.enrollFaceprints(faceprints, identities: identities)
            #expect(ids.count == faceprints.count)
            #expect(try Self.segmentFiles(path).count == 2, "the journal's tail was sealed, then the batch written")
            let last = try sdk.enrollFaceprint(rng.faceprint(16), identity: "last")

            func check(_ sdk: SDK) throws {
                let metadata = try sdk.getCollectionMetadata("c")
                #expect(metadata.numFaceprints == faceprints.count + 2)
                #expect(metadata.numIdentities == 100 + 2)
                let tie = try sdk.identifyTopCandidates(shared, numCandidates: 2)
                #expect(tie.map(\.uuid) == [first, ids[7]], "ties in enrollment order across journal and bulk segment")
                for index in [0, 1000, faceprints.count - 1] {
                    #expect(try sdk.identifyTopCandidate(faceprints[index])?.uuid == ids[index])
                }
                let map = try sdk.getCollectionIdentities("c")
                #expect(map[last] == "last" && map[ids[5]] == "bulk-5")
            }
            try check(sdk)
            let reopened = try Self.connect(path)
            try reopened.loadCollection("c")
            try check(reopened)
            #expect(StoreInspector.verify(path: path).isIntact)
            ProcessConnection.resetForTesting()
        }

        @Test func bulkBatchWithAWrongDimensionChangesNothing() throws {
            let directory = try TemporaryDirectory()
            let path = directory.path + "/store"
            var rng = SeededGenerator(seed: 42)
            let sdk = try Self.connect(path)
            try sdk.createLoadCollection("c")
            _ = try sdk.enrollFaceprint(rng.faceprint(16), identity: "a")
            var faceprints = (0..<FileCollection.bulkThreshold).map { _ in rng.faceprint(16) }
            faceprints[100] = rng.faceprint(17)
            let before = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
            expectError(.enrollmentError) {
                _ = try sdk.enrollFaceprints(faceprints, identities: faceprints.indices.map { "p\($0)" })
            }
            #expect(try sdk.getCollectionMetadata("c").numFaceprints == 1)
            #expect(try FileManager.default.contentsOfDirectory(atPath: path).sorted() == before)
            // A bulk batch of a new collection fixes its dimension like any first enrollment.
            try sdk.createLoadCollection("d")
            let good = (0..<FileCollection.bulkThreshold).map { _ in rng.faceprint(8) }
            _ = try sdk.enrollFaceprints(good, identities: good.indices.map { "q\($0)" }, collectionName: "d")
            #expect(try sdk.getCollectionMetadata("d").featureVectorSizeBytes == 32)
            expectError(.enrollmentError) { _ = try sdk.enrollFaceprint(rng.faceprint(9), identity: "x", collectionName: "d") }
            ProcessConnection.resetForTesting()
        }

        /// A row-major matrix (what the C and Python bindings pass) enrolls what the same rows as
        /// Faceprints enroll — small batches through the journal, large ones streamed into
        /// segments — and every refusal (a bad row far down, a wrong model, a matrix of the
        /// wrong size) changes nothing.
        @Test(arguments: [100, FileCollection.bulkThreshold * 2 + 17])
        func aMatrixEnrollsWhatItsRowsAsFaceprintsEnroll(rows: Int) throws {
            let directory = try TemporaryDirectory()
            let path = directory.path + "/store"
            var rng = SeededGenerator(seed: 43)
            let sdk = try Self.connect(path)
            try sdk.createLoadCollection("c")
            _ = try sdk.enrollFaceprint(rng.faceprint(24), identity: "first")
            let faceprints = (0..<rows).map { _ in rng.faceprint(24) }
            var matrix = faceprints.flatMap(\.featureVector)
            let identities = faceprints.indices.map { "m-\($0 % 50)" }
            func enroll(_ matrix: [Float], _ identities: [String], model: String = "TFV5_2", dimension: Int = 24) throws -> [String] {
                try matrix.withUnsafeBufferPointer {
                    try sdk.enrollFaceprints(matrix: $0, dimension: dimension, identities: identities, modelName: model)
                }
            }
            // Refusals first: nothing changes.
            var bad = matrix
            bad[(rows - 3) * 24 + 5] = .nan
            #expect(lineupError { _ = try enroll(bad, identities) }?.code == .invalidArgument)
            for index in (rows - 2) * 24..<((rows - 1) * 24) { bad[index] = 0 }
            #expect(lineupError { _ = try enroll(bad, identities) }?.code == .invalidArgument)
            #expect(lineupError { _ = try enroll(matrix, identities, model: "other") }?.code == .enrollmentError)
            #expect(lineupError { _ = try enroll(Array(matrix.dropLast()), identities) }?.code == .invalidArgument)
            #expect(lineupError { _ = try enroll(matrix, identities, dimension: 0) }?.code == .inputIsEmpty)
            #expect(lineupError { _ = try enroll([], []) }?.code == .inputIsEmpty)
            var emptyName = identities
            emptyName[rows - 1] = ""
            #expect(lineupError { _ = try enroll(matrix, emptyName) }?.code == .inputIsEmpty)
            #expect(try sdk.getCollectionMetadata("c").numFaceprints == 1)
            // Then the batch: each row is found as itself, at its UUID, with its identity.
            let ids = try enroll(matrix, identities)
            #expect(ids.count == rows && Set(ids).count == rows)
            matrix = []   // the library kept nothing of it
            func check(_ sdk: SDK) throws {
                #expect(try sdk.getCollectionMetadata("c").numFaceprints == rows + 1)
                let map = try sdk.getCollectionIdentities("c")
                for index in [0, rows / 2, rows - 1] {
                    let found = try sdk.identifyTopCandidate(faceprints[index], threshold: 0.99)
                    #expect(found?.uuid == ids[index] && map[ids[index]] == identities[index])
                }
            }
            try check(sdk)
            let reopened = try Self.connect(path)
            try reopened.loadCollection("c")
            try check(reopened)
            #expect(StoreInspector.verify(path: path).isIntact)
            ProcessConnection.resetForTesting()
        }
    }
}

extension SDKTests {
    /// Opening checks a segment's tables; its vectors are checked, a MiB at a time, the first
    /// time a scan needs them (FORMAT.md §6). Damage there is corruptStore at that scan.
    @Suite struct LazyVectorChecks {
        @Test func aDamagedVectorIsFoundByTheFirstScanNotByTheOpen() throws {
            let directory = try TemporaryDirectory()
            let path = directory.path + "/store"
            var rng = SeededGenerator(seed: 51)
            let sdk = try BulkEnroll.connect(path)
            try sdk.createLoadCollection("c")
            let faceprints = (0..<FileCollection.bulkThreshold).map { _ in rng.faceprint(32) }
            _ = try sdk.enrollFaceprints(faceprints, identities: faceprints.indices.map { "p\($0)" })
            ProcessConnection.resetForTesting()
            let segment = try BulkEnroll.segmentFiles(path).first!
            let file = path + "/" + segment
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            bytes[FormatConstants.segmentHeaderSize + 1000 * 128 + 5] ^= 0x40   // inside row 1000's vector
            try Data(bytes).write(to: URL(fileURLWithPath: file))

            let reopened = try BulkEnroll.connect(path)          // tables intact: opens
            try reopened.loadCollection("c")
            #expect(try reopened.getCollectionMetadata("c").numFaceprints == faceprints.count)
            expectError(.corruptStore) { _ = try reopened.identifyTopCandidate(faceprints[0]) }
            expectError(.corruptStore) { _ = try reopened.batchIdentifyTopCandidate(Array(faceprints[0..<3])) }
            let report = StoreInspector.verify(path: path)
            #expect(!report.isIntact && report.problems.contains { $0.contains(segment) })
            ProcessConnection.resetForTesting()
        }

    }
}
