import Foundation
import Testing
@testable import Lineup

/// Identities, collection names and enrollment-line keys are byte strings: two strings that
/// Unicode calls canonically equivalent ("café" written with U+00E9, and with "e" + U+0301)
/// are different identities, different collections and different keys — in the journal
/// tail, in sealed segments, in counts and in removals alike.
extension SDKTests {
    @Suite struct ExactBytes {
        static let composed = "caf\u{E9}"          // NFC: 63 61 66 C3 A9
        static let decomposed = "cafe\u{301}"      // NFD: 63 61 66 65 CC 81

        @Test func theTwinsAreEqualAsSwiftStringsButNotAsBytes() {
            #expect(Self.composed == Self.decomposed, "the premise: String == is canonical equivalence")
            #expect(ExactText(Self.composed) != ExactText(Self.decomposed))
            #expect(Set([ExactText(Self.composed), ExactText(Self.decomposed)]).count == 2)
            #expect(ExactText(Self.composed) == ExactText(String(decoding: Array(Self.composed.utf8), as: UTF8.self)))
        }

        /// Enrolls one Faceprint for each twin, then checks counts, the identity map and that
        /// removing one twin leaves the other — with `seal` checkpointing in between.
        static func checkIdentityTwins(_ sdk: SDK, seal: Bool, collection: String = "people") throws {
            var rng = SeededGenerator(seed: 7)
            try sdk.createLoadCollection(collection)
            let first = try sdk.enrollFaceprint(rng.faceprint(16), identity: composed, collectionName: collection)
            let second = try sdk.enrollFaceprint(rng.faceprint(16), identity: decomposed, collectionName: collection)
            _ = try sdk.enrollFaceprint(rng.faceprint(16), identity: decomposed, collectionName: collection)
            if seal { try sdk.checkpoint() }
            #expect(try sdk.getCollectionMetadata(collection).numIdentities == 2, "sealed: \(seal)")
            let map = try sdk.getCollectionIdentities(collection)
            #expect(map[first].map { Array($0.utf8) } == Array(composed.utf8))
            #expect(map[second].map { Array($0.utf8) } == Array(decomposed.utf8))

            #expect(try sdk.removeByIdentity(decomposed, collectionName: collection) == 2, "sealed: \(seal)")
            let after = try sdk.getCollectionIdentities(collection)
            #expect(after.count == 1 && after[first] != nil, "the composed twin stays (sealed: \(seal))")
            #expect(try sdk.getCollectionMetadata(collection).numIdentities == 1)
            #expect(throws: LineupError.self) { try sdk.removeByIdentity(decomposed, collectionName: collection) }
        }

        static func twinNames(_ sdk: SDK) throws -> [[UInt8]] {
            try sdk.getCollectionNames().map { Array($0.utf8) }
                .filter { $0 == Array(composed.utf8) || $0 == Array(decomposed.utf8) }
        }

        static func checkCollectionTwins(_ sdk: SDK) throws {
            try sdk.createCollection(composed)
            try sdk.createCollection(decomposed)
            let names = try twinNames(sdk)
            #expect(names.count == 2, "two collections, not one: \(names)")
            try sdk.loadCollection(composed)
            var rng = SeededGenerator(seed: 8)
            _ = try sdk.enrollFaceprint(rng.faceprint(16), identity: "x", collectionName: composed)
            #expect(try sdk.getCollectionMetadata(composed).numFaceprints == 1)
            #expect(try sdk.getCollectionMetadata(decomposed).numFaceprints == 0)
            #expect(throws: LineupError.self, "the decomposed twin is not loaded") {
                _ = try sdk.enrollFaceprint(rng.faceprint(16), identity: "x", collectionName: decomposed)
            }
            try sdk.deleteCollection(decomposed)
            #expect(try twinNames(sdk) == [Array(composed.utf8)])
        }

        @Test func identityTwinsInMemory() throws {
            defer { ProcessConnection.resetForTesting() }
            let sdk = try memorySDK()
            // The process's memory database outlives connections: start from no twins.
            for name in [Self.composed, Self.decomposed] { try? sdk.deleteCollection(name) }
            try Self.checkIdentityTwins(sdk, seal: false, collection: "exact-bytes-\(UUID().uuidString)")
            try Self.checkCollectionTwins(sdk)
        }

        @Test(arguments: [false, true])
        func identityTwinsOnDisk(sealed: Bool) throws {
            let directory = try FileStore.makeDirectory("twins")
            defer { FileStore.cleanUp(directory) }
            let sdk = try FileStore.connect(directory + "/store")
            try Self.checkIdentityTwins(sdk, seal: sealed)
            // After a reopen (recovery from the journal, or the segment) the twins stay apart.
            let reopened = try FileStore.connect(directory + "/store")
            try reopened.loadCollection("people")
            #expect(try reopened.getCollectionMetadata("people").numFaceprints == 1)
        }

        @Test func collectionTwinsOnDiskSurviveReopening() throws {
            let directory = try FileStore.makeDirectory("collection-twins")
            defer { FileStore.cleanUp(directory) }
            let sdk = try FileStore.connect(directory + "/store")
            try Self.checkCollectionTwins(sdk)
            let reopened = try FileStore.connect(directory + "/store")
            #expect(try Self.twinNames(reopened) == [Array(Self.composed.utf8)])
        }

        @Test func enrollmentLineKeysAreByteStrings() throws {
            // "é" and "e\u0301" are two keys, not a duplicate; the same bytes twice are one.
            let twins = "{\"identity\": \"a\", \"feature_vector\": [1, 2], \"\u{E9}\": 1, \"e\u{301}\": 2}"
            let line = try EnrollmentLine(jsonLine: Array(twins.utf8), defaultModelName: "TFV5_2")
            #expect(line.identity == "a")
            let duplicate = "{\"identity\": \"a\", \"feature_vector\": [1, 2], \"\u{E9}\": 1, \"\u{E9}\": 2}"
            #expect(throws: LineupError.self) {
                _ = try EnrollmentLine(jsonLine: Array(duplicate.utf8), defaultModelName: "TFV5_2")
            }
        }

        /// A huge `numCandidates` is the whole collection, never an overflow (single and batch).
        @Test func hugeCandidateCountsAreClampedToTheCollection() throws {
            defer { ProcessConnection.resetForTesting() }
            let sdk = try memorySDK()
            try sdk.createLoadCollection("huge")
            var rng = SeededGenerator(seed: 9)
            for index in 0..<10 { _ = try sdk.enrollFaceprint(rng.faceprint(16), identity: "p\(index)") }
            let probe = rng.faceprint(16)
            for count in [11, Int(Int32.max), Int.max - 1, Int.max] {
                #expect(try sdk.identifyTopCandidates(probe, numCandidates: count, threshold: -1).count == 10)
                let batch = try sdk.batchIdentifyTopCandidates([probe, probe, probe], numCandidates: count, threshold: -1)
                #expect(batch.map(\.count) == [10, 10, 10])
            }
            #expect(throws: LineupError.self) { try sdk.identifyTopCandidates(probe, numCandidates: 0) }
            #expect(throws: LineupError.self) { try sdk.identifyTopCandidates(probe, numCandidates: Int.min) }
        }
    }
}
