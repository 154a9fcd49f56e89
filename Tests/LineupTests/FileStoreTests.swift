import Foundation
import Testing
@testable import Lineup

/// The on-disk store (`.file`) through the SDK and directly: everything acknowledged survives
/// a reopen, whether it sits in segments or the journal tail; recovery, locking, read-only
/// opens and damage behave as FORMAT.md §§8–10 say.
extension SDKTests {
    @Suite struct FileStore {
        // MARK: Helpers

        /// A fresh, empty temporary directory (the parent of the store); remove it when done.
        static func makeDirectory(_ label: String) throws -> String {
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent("lineup-filestore-\(label)-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            return path
        }

        static func cleanUp(_ directory: String) {
            ProcessConnection.resetForTesting()
            try? FileManager.default.removeItem(atPath: directory)
        }

        static func options(compression: VectorCompression = .none, readOnly: Bool = false) -> ConfigurationOptions {
            var options = ConfigurationOptions()
            options.dbms = .file
            options.vectorCompression = compression
            options.readOnly = readOnly
            return options
        }

        /// A new process connection to the store at `path` (like a new process opening it).
        static func connect(_ path: String, compression: VectorCompression = .none, readOnly: Bool = false) throws -> SDK {
            ProcessConnection.resetForTesting()
            let sdk = SDK(options: options(compression: compression, readOnly: readOnly))
            try sdk.createDatabaseConnection(path)
            return sdk
        }

        static func names(_ path: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
        }

        static func segmentFiles(_ path: String) -> [String] {
            names(path).filter { $0.hasPrefix("segment-") && $0.hasSuffix(".seg") }
        }

        static func read(_ path: String) throws -> [UInt8] {
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        }

        static func write(_ bytes: [UInt8], _ path: String) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }

        /// Every file's name and bytes.
        static func contents(_ path: String) throws -> [String: [UInt8]] {
            var result: [String: [UInt8]] = [:]
            for name in names(path) { result[name] = try read(path + "/" + name) }
            return result
        }

        static func manifest(_ path: String) throws -> Manifest {
            try Manifest.decode(read(path + "/MANIFEST"))
        }

        static func journalPath(_ path: String) throws -> String {
            path + "/" + FormatConstants.journalName(try manifest(path).journalNumber)
        }

        /// Everything a user can observe of one collection.
        struct Observed: Equatable {
            var identities: [String: String]
            var metadata: CollectionMetadata
            var answers: [[Candidate]]
        }

        static func observe(_ sdk: SDK, _ collection: String, probes: [Faceprint]) throws -> Observed {
            Observed(identities: try sdk.getCollectionIdentities(collection),
                     metadata: try sdk.getCollectionMetadata(collection),
                     answers: try probes.map {
                         try sdk.identifyTopCandidates($0, numCandidates: 5, threshold: -1, collectionName: collection)
                     })
        }

        /// Enrolls `count` random Faceprints over `identities` distinct identities; returns
        /// UUID → identity and the vectors.
        @discardableResult
        static func enroll(_ sdk: SDK, _ collection: String, count: Int, identities: Int = 10, prefix: String = "person",
                           dimension: Int = 16, rng: inout SeededGenerator) throws -> [String: String] {
            var enrolled: [String: String] = [:]
            for index in 0..<count {
                let identity = "\(prefix) \(index % identities) — Ünïcödé"
                let uuid = try sdk.enrollFaceprint(rng.faceprint(dimension), identity: identity, collectionName: collection)
                enrolled[uuid] = identity
            }
            return enrolled
        }

        static func probes(_ count: Int, dimension: Int = 16, seed: UInt64 = 999) -> [Faceprint] {
            var rng = SeededGenerator(seed: seed)
            return (0..<count).map { _ in rng.faceprint(dimension) }
        }

        // MARK: Reopening

        @Test func newStoreLayout() throws {
            let directory = try Self.makeDirectory("layout")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            let sdk = try Self.connect(path)
            try sdk.createLoadCollection("people")
            #expect(Self.names(path) == ["LOCK", "MANIFEST", "journal-0000000000000001.log"])
            var rng = SeededGenerator(seed: 1)
            try Self.enroll(sdk, "people", count: 5, rng: &rng)
            try sdk.checkpoint()
            #expect(Self.names(path) == ["LOCK", "MANIFEST", "journal-0000000000000002.log", "segment-0000000000000001.seg"])
            // FORMAT.md §1: the directory 0700, the files 0600.
            let directoryMode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(directoryMode == 0o700)
            for name in Self.names(path) {
                let mode = try FileManager.default.attributesOfItem(atPath: path + "/" + name)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(name)")
            }
            let manifest = try Self.manifest(path)
            #expect(manifest.journalNumber == 2)
            #expect(manifest.collections.map(\.name) == ["people"])
            #expect(manifest.collections[0].segments.map(\.rowCount) == [5])
            #expect(manifest.checkpointSequence == 5, "five enrollments, five records")
        }

        @Test func journalEnrollmentsSurviveReopen() throws {
            let directory = try Self.makeDirectory("journal")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 2)
            var sdk = try Self.connect(path)
            try sdk.createLoadCollection("people")
            let enrolled = try Self.enroll(sdk, "people", count: 40, rng: &rng)
            let probes = Self.probes(6)
            let before = try Self.observe(sdk, "people", probes: probes)
            #expect(before.identities == enrolled)
            #expect(before.metadata.numFaceprints == 40 && before.metadata.numIdentities == 10)
            #expect(Self.segmentFiles(path).isEmpty)

            sdk = try Self.connect(path)
            #expect(try sdk.getCollectionNames() == ["people"])
            try sdk.loadCollection("people")
            #expect(try Self.observe(sdk, "people", probes: probes) == before)
        }

        /// Reading a store's files leaves their access time alone (O_NOATIME, for the files'
        /// owner): a read of a file written since it was last read would otherwise dirty its
        /// inode (relatime), and in shared mode each commit's fsync would write it; and the
        /// read-only commands leave the evidence's times as they were.
        @Test func readsLeaveTheAccessTimeAlone() throws {
            #if os(Linux)
            let directory = try Self.makeDirectory("atime")
            defer { Self.cleanUp(directory) }
            let path = directory + "/file"
            try Self.write([UInt8](repeating: 7, count: 4096), path)
            // Accessed in 2000, modified now: `relatime` would update the access time at a read.
            var times = [timespec(tv_sec: 946_684_800, tv_nsec: 0), timespec(tv_sec: time(nil), tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
            let fileSystem = PosixFileSystem.shared
            for writable in [false, true] {
                let descriptor = try fileSystem.open(path, writable: writable, create: false, exclusive: false)
                var buffer = [UInt8](repeating: 0, count: 4096)
                #expect(try buffer.withUnsafeMutableBytes { try fileSystem.read(descriptor, into: $0, at: 0) } == 4096)
                fileSystem.close(descriptor)
                var info = stat()
                #expect(stat(path, &info) == 0)
                if info.st_uid == geteuid() || geteuid() == 0 {
                    #expect(info.st_atim.tv_sec == 946_684_800, "writable \(writable): the read left the access time alone")
                }
            }
            #endif
        }

        /// FORMAT.md §5.2 "Reserved space": while a writer has the store open the journal ends
        /// in zeros after its records; a copy taken then (what a crash leaves) opens with every
        /// record, reports nothing, keeps the zeros and writes over them; a clean close gives
        /// the space back.
        @Test func reservedJournalSpaceIsTheCleanEnd() throws {
            let directory = try Self.makeDirectory("reserved")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store", copy = directory + "/copy"
            var rng = SeededGenerator(seed: 21)
            var sdk = try Self.connect(path)
            try sdk.createLoadCollection("people")
            let enrolled = try Self.enroll(sdk, "people", count: 30, rng: &rng)
            let journal = try Self.read(Self.journalPath(path))
            let records = EncryptionTests.journalRecords(journal, number: 1)
            #expect(records.count == 30)
            let end = records.last!.end
            #expect(journal.count >= JournalWriter.smallestReservation, "space reserved")
            #expect(journal.count > end && journal[end...].allSatisfy { $0 == 0 }, "zeros after the records")

            // What a crash would leave: the files as they are now.
            try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
            for name in Self.names(path) where name != "LOCK" {
                try Self.write(Self.read(path + "/" + name), copy + "/" + name)
            }
            let report = StoreInspector.verify(path: copy)
            #expect(report.isIntact && report.notes.isEmpty, "reserved space is neither damage nor a torn tail: \(report.notes)")
            #expect(report.facts.journal?.tornTail == false)
            sdk = try Self.connect(copy)
            try sdk.loadCollection("people")
            #expect(try sdk.getCollectionIdentities("people") == enrolled)
            let copyJournal = try Self.journalPath(copy)
            #expect(try Self.read(copyJournal).count == journal.count, "an open keeps reserved space")
            let more = try Self.enroll(sdk, "people", count: 3, prefix: "later", rng: &rng)
            let grown = try Self.read(copyJournal)
            #expect(grown.count == journal.count, "new records are written over the zeros")
            #expect(EncryptionTests.journalRecords(grown, number: 1).count == 33)
            ProcessConnection.resetForTesting()
            let closed = try Self.read(copyJournal)
            #expect(closed.count == EncryptionTests.journalRecords(closed, number: 1).last!.end, "a clean close gives the space back")
            sdk = try Self.connect(copy)
            try sdk.loadCollection("people")
            #expect(try sdk.getCollectionIdentities("people") == enrolled.merging(more) { $1 })
        }

        @Test func checkpointedEnrollmentsSurviveReopen() throws {
            let directory = try Self.makeDirectory("checkpoint")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 3)
            var sdk = try Self.connect(path)
            try sdk.createLoadCollection("people")
            let enrolled = try Self.enroll(sdk, "people", count: 40, rng: &rng)
            let probes = Self.probes(6)
            let before = try Self.observe(sdk, "people", probes: probes)
            try sdk.checkpoint()
            #expect(Self.segmentFiles(path).count == 1)
            #expect(try Self.observe(sdk, "people", probes: probes) == before, "a checkpoint changes no answer")
            // The new journal holds nothing but its header.
            #expect(try Self.read(Self.journalPath(path)).count == 64)

            sdk = try Self.connect(path)
            try sdk.loadCollection("people")
            let after = try Self.observe(sdk, "people", probes: probes)
            #expect(after == before)
            #expect(after.identities == enrolled)
        }

        @Test func segmentsAndJournalTailTogether() throws {
            let directory = try Self.makeDirectory("mixed")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 4)
            var sdk = try Self.connect(path)
            try sdk.createLoadCollection("people")
            var enrolled = try Self.enroll(sdk, "people", count: 30, prefix: "a", rng: &rng)
            try sdk.checkpoint()
            enrolled.merge(try Self.enroll(sdk, "people", count: 25, prefix: "b", rng: &rng)) { $1 }
            try sdk.checkpoint()
            enrolled.merge(try Self.enroll(sdk, "people", count: 20, prefix: "c", rng: &rng)) { $1 }
            #expect(Self.segmentFiles(path).count == 2)
            let probes = Self.probes(8)
            let before = try Self.observe(sdk, "people", probes: probes)
            #expect(before.identities == enrolled)
            #expect(before.metadata.numFaceprints == 75 && before.metadata.numIdentities == 30)

            sdk = try Self.connect(path)
            try sdk.loadCollection("people")
            #expect(try Self.observe(sdk, "people", probes: probes) == before)
            // Each enrolled vector finds itself first, wherever it lives.
            let tailProbe = rng.faceprint(16)
            let uuid = try sdk.enrollFaceprint(tailProbe, identity: "self", collectionName: "people")
            #expect(try sdk.identifyTopCandidate(tailProbe, collectionName: "people")?.uuid == uuid)
        }

        @Test func removalsPersistAcrossCheckpointAndReopen() throws {
            let directory = try Self.makeDirectory("removals")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 5)
            var sdk = try Self.connect(path)
            try sdk.createLoadCollection("people")
            var expected = try Self.enroll(sdk, "people", count: 40, prefix: "p", rng: &rng)   // 10 identities × 4
            // Removed in the tail, before any checkpoint.
            let first = expected.keys.sorted()[0]
            try sdk.removeByUUID(first, collectionName: "people")
            expected[first] = nil
            let identityZero = "p 0 — Ünïcödé"
            let removedZero = expected.filter { $0.value == identityZero }.count
            #expect(try sdk.removeByIdentity(identityZero, collectionName: "people") == removedZero)
            expected = expected.filter { $0.value != identityZero }
            try sdk.checkpoint()
            #expect(try Self.manifest(path).collections[0].segments.map(\.rowCount) == [expected.count],
                    "a segment holds only the live rows of the tail")

            // Removed from the segment (journaled, not yet checkpointed).
            let second = expected.keys.sorted()[1]
            try sdk.removeByUUID(second, collectionName: "people")
            expected[second] = nil
            // An identity with rows in the segment and in the tail.
            let identityOne = "p 1 — Ünïcödé"
            let fresh = try sdk.enrollFaceprint(rng.faceprint(16), identity: identityOne, collectionName: "people")
            expected[fresh] = identityOne
            let removedOne = expected.filter { $0.value == identityOne }.count
            #expect(removedOne >= 2)
            #expect(try sdk.removeByIdentity(identityOne, collectionName: "people") == removedOne)
            expected = expected.filter { $0.value != identityOne }
            let probes = Self.probes(6)
            let before = try Self.observe(sdk, "people", probes: probes)
            #expect(before.identities == expected)

            sdk = try Self.connect(path)
            try sdk.loadCollection("people")
            #expect(try Self.observe(sdk, "people", probes: probes) == before, "removals in the journal replayed")
            expectError(.noRecordFound) { try sdk.removeByUUID(second, collectionName: "people") }
            expectError(.noRecordFound) { try sdk.removeByIdentity(identityOne, collectionName: "people") }

            // Checkpoint again: the removed segment rows go into the manifest.
            try sdk.checkpoint()
            let segments = try Self.manifest(path).collections[0].segments
            #expect(segments.count == 1, "an empty tail makes no segment")
            #expect(segments[0].removedRows.count == segments[0].rowCount - expected.count)
            sdk = try Self.connect(path)
            try sdk.loadCollection("people")
            #expect(try Self.observe(sdk, "people", probes: probes) == before, "removed rows in the manifest")
            expectError(.noRecordFound) { try sdk.removeByUUID(first, collectionName: "people") }
            expectError(.noRecordFound) { try sdk.removeByUUID(second, collectionName: "people") }
            // Removing one more from the segment after the reopen, then reopening.
            let third = expected.keys.sorted()[2]
            try sdk.removeByUUID(third, collectionName: "people")
            expected[third] = nil
            sdk = try Self.connect(path)
            #expect(try sdk.getCollectionIdentities("people") == expected)
        }

        @Test func tiesBrokenByEnrollmentOrderAcrossSegmentsAndTail() throws {
            let directory = try Self.makeDirectory("ties")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 6)
            var sdk = try Self.connect(path)
            try sdk.createLoadCollection("people")
            let same = rng.faceprint(16)
            try Self.enroll(sdk, "people", count: 5, prefix: "noise", rng: &rng)
            let order = ["first", "second", "third", "fourth", "fifth"]
            _ = try sdk.enrollFaceprint(same, identity: order[0], collectionName: "people")
            try sdk.checkpoint()
            _ = try sdk.enrollFaceprint(same, identity: order[1], collectionName: "people")
            try Self.enroll(sdk, "people", count: 3, prefix: "noise", rng: &rng)
            _ = try sdk.enrollFaceprint(same, identity: order[2], collectionName: "people")
            try sdk.checkpoint()
            _ = try sdk.enrollFaceprint(same, identity: order[3], collectionName: "people")
            _ = try sdk.enrollFaceprint(same, identity: order[4], collectionName: "people")
            let top = try sdk.identifyTopCandidates(same, numCandidates: 5, collectionName: "people")
            #expect(top.map(\.identity) == order)
            #expect(Set(top.map(\.similarityMeasure)).count == 1, "a tie")
            #expect(try sdk.identifyTopCandidates(same, numCandidates: 2, collectionName: "people").map(\.identity) == ["first", "second"])
            #expect(try sdk.identifyTopCandidate(same, collectionName: "people")?.identity == "first")

            sdk = try Self.connect(path)
            try sdk.loadCollection("people")
            #expect(try sdk.identifyTopCandidates(same, numCandidates: 5, collectionName: "people") == top)
            try sdk.checkpoint()
            sdk = try Self.connect(path)
            try sdk.loadCollection("people")
            #expect(try sdk.identifyTopCandidates(same, numCandidates: 5, collectionName: "people") == top, "all in segments")
        }

        @Test(arguments: [VectorCompression.fp16, .int8])
        func compressedCollectionsRoundTrip(compression: VectorCompression) throws {
            let directory = try Self.makeDirectory("compressed")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 7)
            var sdk = try Self.connect(path, compression: compression)
            try sdk.createLoadCollection("people")
            var vectors: [String: Faceprint] = [:]
            for index in 0..<30 {
                let faceprint = rng.faceprint(24)
                vectors[try sdk.enrollFaceprint(faceprint, identity: "id \(index % 9)", collectionName: "people")] = faceprint
                if index == 17 { try sdk.checkpoint() }
            }
            let probes = Self.probes(6, dimension: 24)
            let before = try Self.observe(sdk, "people", probes: probes)
            #expect(before.metadata.featureVectorSizeBytes == 24 * compression.bytesPerDimension)
            #expect(before.metadata.modelOptions.contains(compression.rawValue))

            sdk = try Self.connect(path)   // the collection keeps its own compression
            try sdk.loadCollection("people")
            let after = try Self.observe(sdk, "people", probes: probes)
            #expect(after == before)
            for (uuid, faceprint) in vectors {
                let top = try #require(try sdk.identifyTopCandidate(faceprint, collectionName: "people"))
                #expect(top.uuid == uuid)
                #expect(abs(top.similarityMeasure - 1) < 0.02, "\(compression): \(top.similarityMeasure)")
            }
            let segment = try Self.manifest(path).collections[0]
            #expect(segment.settings.compression == compression)
            #expect(segment.segments.map(\.rowCount) == [18])
        }

        @Test func deleteCollectionRemovesItAndItsSegmentFiles() throws {
            let directory = try Self.makeDirectory("delete")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 8)
            var sdk = try Self.connect(path)
            try sdk.createLoadCollection("doomed")
            try sdk.createLoadCollection("kept")
            try Self.enroll(sdk, "doomed", count: 12, rng: &rng)
            let kept = try Self.enroll(sdk, "kept", count: 9, rng: &rng)
            try sdk.checkpoint()
            try Self.enroll(sdk, "doomed", count: 4, rng: &rng)
            try sdk.checkpoint()
            try Self.enroll(sdk, "doomed", count: 3, rng: &rng)   // journal records of the doomed collection
            let manifest = try Self.manifest(path)
            let doomedFiles = manifest.collections.first { $0.name == "doomed" }!.segments.map { FormatConstants.segmentName($0.number) }
            let keptFiles = manifest.collections.first { $0.name == "kept" }!.segments.map { FormatConstants.segmentName($0.number) }
            #expect(doomedFiles.count == 2 && keptFiles.count == 1)
            #expect(Set(Self.segmentFiles(path)) == Set(doomedFiles + keptFiles))

            try sdk.deleteCollection("doomed")
            #expect(try sdk.getCollectionNames() == ["kept"])
            #expect(Self.segmentFiles(path) == keptFiles, "the deleted collection's segment files are gone")
            expectError(.noCollectionFound) { try sdk.getCollectionMetadata("doomed") }
            expectError(.noCollectionFound) { try sdk.loadCollection("doomed") }

            // Reopen: its journal records are skipped; a new collection of the same name is empty.
            sdk = try Self.connect(path)
            #expect(try sdk.getCollectionNames() == ["kept"])
            #expect(try sdk.getCollectionIdentities("kept") == kept)
            try sdk.createLoadCollection("doomed")
            #expect(try sdk.getCollectionMetadata("doomed").numFaceprints == 0)
            sdk = try Self.connect(path)
            #expect(try sdk.getCollectionMetadata("doomed").numFaceprints == 0, "old records never resurrect")
            #expect(try sdk.getCollectionIdentities("kept") == kept)
            #expect(StoreInspector.verify(path: path).isIntact)
        }

        // MARK: Paths that are not stores

        @Test func missingParentIsConnectionError() throws {
            let directory = try Self.makeDirectory("parent")
            defer { Self.cleanUp(directory) }
            ProcessConnection.resetForTesting()
            let sdk = SDK(options: Self.options())
            expectError(.databaseConnectionError) { try sdk.createDatabaseConnection(directory + "/missing/store") }
            #expect(!FileManager.default.fileExists(atPath: directory + "/missing"))
            expectError(.databaseNotConnected) { try sdk.createCollection("people") }
        }

        @Test func regularFileIsConnectionError() throws {
            let directory = try Self.makeDirectory("file")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            try Self.write(Array("not a store".utf8), path)
            ProcessConnection.resetForTesting()
            expectError(.databaseConnectionError) { try SDK(options: Self.options()).createDatabaseConnection(path) }
            expectError(.databaseConnectionError) { try SDK(options: Self.options(readOnly: true)).createDatabaseConnection(path) }
            #expect(try Self.read(path) == Array("not a store".utf8))
        }

        @Test func directoryWithForeignFilesIsConnectionError() throws {
            let directory = try Self.makeDirectory("foreign")
            defer { Self.cleanUp(directory) }
            try Self.write(Array("my thesis".utf8), directory + "/thesis.txt")
            ProcessConnection.resetForTesting()
            expectError(.databaseConnectionError) { try SDK(options: Self.options()).createDatabaseConnection(directory) }
            #expect(Self.names(directory) == ["thesis.txt"], "nothing created in someone else's directory")
            #expect(try Self.read(directory + "/thesis.txt") == Array("my thesis".utf8))
        }

        @Test func readOnlyOpenOfMissingStoreCreatesNothing() throws {
            let directory = try Self.makeDirectory("missing")
            defer { Self.cleanUp(directory) }
            ProcessConnection.resetForTesting()
            expectError(.databaseConnectionError) { try SDK(options: Self.options(readOnly: true)).createDatabaseConnection(directory + "/store") }
            #expect(Self.names(directory).isEmpty)
        }

        // MARK: Locking

        @Test func secondStoreOnTheSamePathIsNotTheWriter() throws {
            let directory = try Self.makeDirectory("lock")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            let settings = CollectionSettings(modelName: "TFV5_2", compression: .none)
            let first = try Store(path: path)
            #expect(first.isWriter)
            try first.createCollection("people", settings: settings)
            var rng = SeededGenerator(seed: 9)
            func prepared(_ identity: String) -> PreparedEnrollment {
                PreparedEnrollment(id: .generate(), identity: identity,
                                   vector: VectorEncoder.encode(unit: VectorEncoder.normalized(rng.vector(8)), as: .none), dimension: 8)
            }
            let one = prepared("one")
            try FileCollection(store: first, state: try first.collection("people")).enroll([one])

            let second = try Store(path: path)
            #expect(!second.isWriter)
            #expect(second.collectionNames() == ["people"])
            #expect(try second.collection("people").identityMap() == [one.id.string: "one"])
            let collection = FileCollection(store: second, state: try second.collection("people"))
            expectError(.storeLocked) { try second.createCollection("other", settings: settings) }
            expectError(.storeLocked) { try second.deleteCollection("people") }
            expectError(.storeLocked) { try collection.enroll([prepared("two")]) }
            expectError(.storeLocked) { try collection.remove(id: one.id) }
            expectError(.storeLocked) { _ = try collection.remove(identity: "one") }
            expectError(.storeLocked) { try second.checkpointNow() }

            // The writer goes on; the reader sees its changes when it reads the store again.
            let three = prepared("three")
            try FileCollection(store: first, state: try first.collection("people")).enroll([three])
            try second.refresh()
            #expect(try second.collection("people").identityMap() == [one.id.string: "one", three.id.string: "three"])
            #expect(!second.isWriter)
            second.close()
            first.close()

            // With the first closed, a new open is the writer again.
            let third = try Store(path: path)
            #expect(third.isWriter)
            #expect(try third.collection("people").identityMap().count == 2)
            third.close()
        }

        // MARK: Read-only opens

        /// Builds a store with two segments, a journal tail and removals; returns what it holds.
        static func buildStore(_ path: String, rng: inout SeededGenerator) throws -> (expected: [String: String], probes: [Faceprint]) {
            let sdk = try connect(path)
            try sdk.createLoadCollection("people")
            var expected = try enroll(sdk, "people", count: 20, prefix: "a", rng: &rng)
            try sdk.checkpoint()
            expected.merge(try enroll(sdk, "people", count: 10, prefix: "b", rng: &rng)) { $1 }
            try sdk.checkpoint()
            expected.merge(try enroll(sdk, "people", count: 10, prefix: "c", rng: &rng)) { $1 }
            let victim = expected.keys.sorted()[3]
            try sdk.removeByUUID(victim, collectionName: "people")
            expected[victim] = nil
            ProcessConnection.resetForTesting()
            return (expected, probes(5))
        }

        @Test func readOnlyOpenReadsAndWritesNothing() throws {
            let directory = try Self.makeDirectory("readonly")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 10)
            let (expected, probes) = try Self.buildStore(path, rng: &rng)
            var sdk = try Self.connect(path)
            try sdk.loadCollection("people")
            let reference = try Self.observe(sdk, "people", probes: probes)
            #expect(reference.identities == expected)
            ProcessConnection.resetForTesting()
            let before = try Self.contents(path)

            sdk = try Self.connect(path, readOnly: true)
            #expect(try sdk.getCollectionNames() == ["people"])
            try sdk.loadCollection("people")
            #expect(try Self.observe(sdk, "people", probes: probes) == reference)
            let someone = expected.keys.sorted()[0]
            expectError(.readOnly) { try sdk.createCollection("other") }
            expectError(.readOnly) { try sdk.createLoadCollection("other") }
            expectError(.readOnly) { try sdk.deleteCollection("people") }
            expectError(.readOnly) { try sdk.enrollFaceprint(rng.faceprint(16), identity: "new", collectionName: "people") }
            expectError(.readOnly) { try sdk.enrollFaceprints([rng.faceprint(16)], identities: ["new"], collectionName: "people") }
            expectError(.readOnly) { try sdk.removeByUUID(someone, collectionName: "people") }
            expectError(.readOnly) { try sdk.removeByIdentity(expected[someone]!, collectionName: "people") }
            expectError(.readOnly) { try sdk.checkpoint() }
            #expect(try Self.observe(sdk, "people", probes: probes) == reference, "the failed writes changed nothing")
            ProcessConnection.resetForTesting()
            #expect(try Self.contents(path) == before, "a read-only open leaves every file byte for byte as it was")
        }

        @Test func readOnlyOpenKeepsATornTailAndAWritableOpenCutsIt() throws {
            let directory = try Self.makeDirectory("torn")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 11)
            let (expected, probes) = try Self.buildStore(path, rng: &rng)
            let journal = try Self.journalPath(path)
            let intact = try Self.read(journal)
            #expect(intact.count > 64)
            let garbage = (0..<123).map { _ in UInt8.random(in: 0...255, using: &rng) }
            try Self.write(intact + garbage, journal)
            let before = try Self.contents(path)

            var sdk = try Self.connect(path, readOnly: true)
            try sdk.loadCollection("people")
            let seen = try Self.observe(sdk, "people", probes: probes)
            #expect(seen.identities == expected, "the torn tail is ignored in memory")
            expectError(.readOnly) { try sdk.enrollFaceprint(rng.faceprint(16), identity: "x", collectionName: "people") }
            ProcessConnection.resetForTesting()
            #expect(try Self.contents(path) == before, "read-only: the torn tail is not cut")
            let report = StoreInspector.verify(path: path)
            #expect(report.isIntact, "a torn tail is not damage: \(report.problems)")
            #expect(!report.notes.isEmpty, "but verify notes it")
            #expect(try Self.contents(path) == before, "verify writes nothing")

            sdk = try Self.connect(path)
            try sdk.loadCollection("people")
            #expect(try Self.read(journal) == intact, "a writable open cuts the journal back to its valid prefix")
            #expect(try Self.observe(sdk, "people", probes: probes) == seen)
            // Appending after the cut works and survives.
            let uuid = try sdk.enrollFaceprint(rng.faceprint(16), identity: "after the cut", collectionName: "people")
            sdk = try Self.connect(path)
            #expect(try sdk.getCollectionIdentities("people")[uuid] == "after the cut")
        }

        @Test func orphansAreDeletedByAWriterOnly() throws {
            let directory = try Self.makeDirectory("orphans")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 12)
            let (expected, _) = try Self.buildStore(path, rng: &rng)
            let store = Set(Self.names(path))
            let orphans = ["segment-00000000000000ff.seg", "journal-00000000000000ff.log", "MANIFEST.tmp",
                           "segment-0000000000000100.seg.tmp"]
            for name in orphans + ["notes.txt"] { try Self.write([1, 2, 3], path + "/" + name) }

            var sdk = try Self.connect(path, readOnly: true)
            #expect(try sdk.getCollectionIdentities("people") == expected)
            ProcessConnection.resetForTesting()
            #expect(Set(Self.names(path)) == store.union(orphans + ["notes.txt"]), "a read-only open deletes nothing")

            sdk = try Self.connect(path)
            #expect(try sdk.getCollectionIdentities("people") == expected)
            #expect(Set(Self.names(path)) == store.union(["notes.txt"]), "a writer deletes Lineup's leftovers and nothing else")
            #expect(try Self.read(path + "/notes.txt") == [1, 2, 3])
        }

        // MARK: Damage

        @Test func damagedManifestIsCorruption() throws {
            let directory = try Self.makeDirectory("manifest")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 13)
            _ = try Self.buildStore(path, rng: &rng)
            let original = try Self.read(path + "/MANIFEST")
            for offset in [0, 9, 20, 40, original.count / 2, original.count - 1] {
                var bytes = original
                bytes[offset] ^= 0x10
                try Self.write(bytes, path + "/MANIFEST")
                let before = try Self.contents(path)
                ProcessConnection.resetForTesting()
                expectError(.corruptStore, "byte \(offset)") { try SDK(options: Self.options()).createDatabaseConnection(path) }
                expectError(.corruptStore, "byte \(offset), read-only") {
                    try SDK(options: Self.options(readOnly: true)).createDatabaseConnection(path)
                }
                #expect(try Self.contents(path) == before, "a damaged store is left as it was")
                #expect(!StoreInspector.verify(path: path).isIntact)
            }
            // A newer manifest version is refused, and not modified.
            var newer = original
            newer[8] = 3
            let crc = Checksum.crc32c(newer[0..<(newer.count - 4)])
            for index in 0..<4 { newer[newer.count - 4 + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
            try Self.write(newer, path + "/MANIFEST")
            ProcessConnection.resetForTesting()
            expectError(.unsupportedFormatVersion) { try SDK(options: Self.options()).createDatabaseConnection(path) }
            #expect(try Self.read(path + "/MANIFEST") == newer)
            // Restored, the store opens again.
            try Self.write(original, path + "/MANIFEST")
            _ = try Self.connect(path)
        }

        @Test func damageBeforeAcknowledgedJournalRecordsIsCorruption() throws {
            let directory = try Self.makeDirectory("journaldamage")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 14)
            var sdk = try Self.connect(path)
            try sdk.createLoadCollection("people")
            var uuids: [String] = []
            for index in 0..<3 {   // three commit groups of one record each
                uuids.append(try sdk.enrollFaceprint(rng.faceprint(16), identity: "p\(index)", collectionName: "people"))
            }
            ProcessConnection.resetForTesting()
            let journal = try Self.journalPath(path)
            let intact = try Self.read(journal)
            let recordLength = (intact.count - 64) / 3

            // A flipped byte in the first record: acknowledged groups follow it.
            var damaged = intact
            damaged[64 + 40] ^= 0x01
            try Self.write(damaged, journal)
            expectError(.corruptStore) { try SDK(options: Self.options()).createDatabaseConnection(path) }
            expectError(.corruptStore) { try SDK(options: Self.options(readOnly: true)).createDatabaseConnection(path) }
            #expect(try Self.read(journal) == damaged, "evidence is not cut")
            #expect(!StoreInspector.verify(path: path).isIntact)

            // A flipped byte in the last record: indistinguishable from a torn write; dropped.
            damaged = intact
            damaged[64 + 2 * recordLength + 40] ^= 0x01
            try Self.write(damaged, journal)
            sdk = try Self.connect(path)
            #expect(try sdk.getCollectionIdentities("people") == [uuids[0]: "p0", uuids[1]: "p1"])
            #expect(try Self.read(journal) == Array(intact[0..<(64 + 2 * recordLength)]))
        }

        @Test func verifyReportsIntactAndDamagedSegments() throws {
            let directory = try Self.makeDirectory("verify")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 15)
            _ = try Self.buildStore(path, rng: &rng)
            let report = StoreInspector.verify(path: path)
            #expect(report.isIntact, "\(report.problems)")
            #expect(report.problems.isEmpty)

            let segment = Self.segmentFiles(path)[0]
            var bytes = try Self.read(path + "/" + segment)
            bytes[300] ^= 0x01   // in the vectors section
            try Self.write(bytes, path + "/" + segment)
            let damaged = StoreInspector.verify(path: path)
            #expect(!damaged.isIntact)
            #expect(damaged.problems.contains { $0.contains(segment) }, "\(damaged.problems)")
            ProcessConnection.resetForTesting()
            expectError(.corruptStore) { try SDK(options: Self.options()).createDatabaseConnection(path) }

            // A missing segment file is damage too.
            try FileManager.default.removeItem(atPath: path + "/" + segment)
            #expect(StoreInspector.verify(path: path).problems.contains { $0.contains(segment) })
            expectError(.corruptStore) { try SDK(options: Self.options()).createDatabaseConnection(path) }
        }

        // MARK: Automatic checkpoints

        static func prepared(_ identity: String, dimension: Int = 16, rng: inout SeededGenerator) -> PreparedEnrollment {
            PreparedEnrollment(id: .generate(), identity: identity,
                               vector: VectorEncoder.encode(unit: VectorEncoder.normalized(rng.vector(dimension)), as: .none),
                               dimension: dimension)
        }

        @Test func automaticCheckpointWhenATailReachesSealRows() throws {
            let directory = try Self.makeDirectory("sealrows")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 16)
            var expected: [String: String] = [:]
            do {
                let store = try Store(path: path, sealRows: 50)
                defer { store.close() }
                try store.createCollection("people", settings: .init(modelName: "TFV5_2", compression: .none))
                let collection = FileCollection(store: store, state: try store.collection("people"))
                for batch in 0..<13 {
                    let entries = (0..<10).map { Self.prepared("b\(batch)-\($0 % 3)", rng: &rng) }
                    try collection.enroll(entries)
                    for entry in entries { expected[entry.id.string] = entry.identity }
                }
                let manifest = try Self.manifest(path)
                #expect(manifest.collections[0].segments.map(\.rowCount) == [50, 50], "sealed at 50 and 100 rows")
                #expect(Self.segmentFiles(path).count == 2)
                #expect(manifest.journalNumber == 3)
                #expect(manifest.checkpointSequence == 10, "ten records of ten enrollments were sealed")
                #expect(try collection.identities() == expected)
                // A removal from the first segment, journaled.
                let gone = try #require(expected.keys.sorted().first)
                try collection.remove(id: RecordID(string: gone)!)
                expected[gone] = nil
            }
            let reopened = try Store(path: path)
            defer { reopened.close() }
            #expect(try reopened.collection("people").identityMap() == expected)
            #expect(reopened.isWriter)
        }

        @Test func automaticCheckpointWhenTheJournalReachesItsLimit() throws {
            let directory = try Self.makeDirectory("journallimit")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 17)
            var expected: [String: String] = [:]
            do {
                let store = try Store(path: path, journalLimit: 4096)
                defer { store.close() }
                try store.createCollection("people", settings: .init(modelName: "TFV5_2", compression: .none))
                let collection = FileCollection(store: store, state: try store.collection("people"))
                for index in 0..<60 {   // ~130-byte records: past 4096 bytes about every 31
                    let entry = Self.prepared("p\(index % 7)", rng: &rng)
                    try collection.enroll([entry])
                    expected[entry.id.string] = entry.identity
                }
                let manifest = try Self.manifest(path)
                #expect(manifest.journalNumber >= 2, "the journal limit started a new journal")
                #expect(!manifest.collections[0].segments.isEmpty)
                #expect(try Self.read(Self.journalPath(path)).count < 4096 + 200)
                #expect(Self.names(path).filter { $0.hasPrefix("journal-") }.count == 1, "the old journal is deleted")
            }
            let reopened = try Store(path: path)
            defer { reopened.close() }
            #expect(try reopened.collection("people").identityMap() == expected)
        }

        // MARK: More recovery checks

        @Test func missingJournalOrBrokenChainIsCorruption() throws {
            let directory = try Self.makeDirectory("chain")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 18)
            _ = try Self.buildStore(path, rng: &rng)
            let journal = try Self.journalPath(path)
            let intact = try Self.read(journal)

            // A journal whose first sequence does not continue the manifest's checkpoint.
            var header = intact
            header[40] &+= 1
            JournalFormatTests.fixHeaderCRC(&header)
            try Self.write(header, journal)
            ProcessConnection.resetForTesting()
            expectError(.corruptStore, "first sequence ≠ checkpoint + 1") { try SDK(options: Self.options()).createDatabaseConnection(path) }
            #expect(try Self.read(journal) == header)

            // The journal the manifest names is missing.
            try FileManager.default.removeItem(atPath: journal)
            expectError(.corruptStore, "missing journal") { try SDK(options: Self.options()).createDatabaseConnection(path) }
            #expect(!FileManager.default.fileExists(atPath: journal), "a writer does not invent a missing journal")
            try Self.write(intact, journal)

            // A manifest whose segment entry disagrees with the segment file (row count).
            let original = try Self.read(path + "/MANIFEST")
            var manifest = try Manifest.decode(original)
            manifest.collections[0].segments[0].rowCount += 1
            try Self.write(manifest.encoded(), path + "/MANIFEST")
            expectError(.corruptStore, "row count") { try SDK(options: Self.options()).createDatabaseConnection(path) }
            #expect(!StoreInspector.verify(path: path).isIntact)
            try Self.write(original, path + "/MANIFEST")
            _ = try Self.connect(path)
        }

        // MARK: Fault injection

        /// The real file system, with counters and switches to make `write` or `sync` fail.
        final class FaultyFileSystem: FileSystem {
            struct State: Sendable {
                var failWrites = false
                var failSyncs = false
                var syncs = 0
                var failedSyncs = 0
            }
            let state = Locked(State())
            let base = PosixFileSystem.shared

            func open(_ path: String, writable: Bool, create: Bool, exclusive: Bool) throws -> Int32 {
                try base.open(path, writable: writable, create: create, exclusive: exclusive)
            }
            func close(_ descriptor: Int32) { base.close(descriptor) }
            func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
                if state.value.failWrites { throw LineupError(.ioError, "injected write failure", errno: 5) }
                try base.write(descriptor, bytes, at: offset)
            }
            func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
                try base.read(descriptor, into: buffer, at: offset)
            }
            func sync(_ descriptor: Int32) throws {
                let fail = state.withLock { state -> Bool in
                    state.syncs += 1
                    if state.failSyncs { state.failedSyncs += 1 }
                    return state.failSyncs
                }
                if fail { throw LineupError(.ioError, "injected fsync failure", errno: 5) }
                try base.sync(descriptor)
            }
            func truncate(_ descriptor: Int32, to length: Int) throws { try base.truncate(descriptor, to: length) }
            func size(_ descriptor: Int32) throws -> Int { try base.size(descriptor) }
            func rename(_ from: String, to: String) throws { try base.rename(from, to: to) }
            func unlink(_ path: String) throws { try base.unlink(path) }
            func syncDirectory(_ path: String) throws { try base.syncDirectory(path) }
            func makeDirectory(_ path: String) throws { try base.makeDirectory(path) }
            func listDirectory(_ path: String) throws -> [String] { try base.listDirectory(path) }
            func fileType(_ path: String) -> FileType? { base.fileType(path) }
            func map(_ descriptor: Int32, length: Int) throws -> MappedRegion { try base.map(descriptor, length: length) }
            func lock(_ descriptor: Int32, exclusive: Bool, wait: Bool) throws -> Bool {
                try base.lock(descriptor, exclusive: exclusive, wait: wait)
            }
            func unlock(_ descriptor: Int32) { base.unlock(descriptor) }
        }

        /// FORMAT.md §8 "Failed writes": after a failed journal fsync the store is read-only for
        /// the rest of the connection, and the fsync is never retried.
        @Test func failedSyncTurnsTheStoreReadOnly() throws {
            let directory = try Self.makeDirectory("fsync")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 19)
            let fileSystem = FaultyFileSystem()
            let kept = Self.prepared("kept", rng: &rng)
            do {
                let store = try Store(path: path, fileSystem: fileSystem)
                defer { store.close() }
                try store.createCollection("people", settings: .init(modelName: "TFV5_2", compression: .none))
                let collection = FileCollection(store: store, state: try store.collection("people"))
                try collection.enroll([kept])

                fileSystem.state.withLock { $0.failSyncs = true }
                let failed = lineupError { try collection.enroll([Self.prepared("lost", rng: &rng)]) }
                #expect(failed != nil, "a failed fsync fails the call")
                #expect(failed?.code != .readOnly, "the call whose fsync failed reports the I/O failure: \(String(describing: failed))")
                #expect(try collection.identities() == [kept.id.string: "kept"], "nothing unsynced is applied")
                fileSystem.state.withLock { $0.failSyncs = false }
                let syncsAfterFailure = fileSystem.state.value.syncs

                expectError(.readOnly) { try collection.enroll([Self.prepared("later", rng: &rng)]) }
                expectError(.readOnly) { try collection.remove(id: kept.id) }
                expectError(.readOnly) { _ = try collection.remove(identity: "kept") }
                expectError(.readOnly) { try store.createCollection("other", settings: .init(modelName: "m", compression: .none)) }
                expectError(.readOnly) { try store.deleteCollection("people") }
                expectError(.readOnly) { try store.checkpointNow() }
                #expect(fileSystem.state.value.syncs == syncsAfterFailure, "the fsync is never retried")
                #expect(try collection.identities() == [kept.id.string: "kept"])
            }
            // Reopening replays the journal from disk: the acknowledged enrollment is there.
            let reopened = try Store(path: path)
            defer { reopened.close() }
            #expect(try reopened.collection("people").identityMap()[kept.id.string] == "kept")
            #expect(reopened.isWriter)
        }

        @Test func failedJournalWriteTurnsTheStoreReadOnly() throws {
            let directory = try Self.makeDirectory("write")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            var rng = SeededGenerator(seed: 20)
            let fileSystem = FaultyFileSystem()
            let kept = Self.prepared("kept", rng: &rng)
            do {
                let store = try Store(path: path, fileSystem: fileSystem)
                defer { store.close() }
                try store.createCollection("people", settings: .init(modelName: "TFV5_2", compression: .none))
                let collection = FileCollection(store: store, state: try store.collection("people"))
                try collection.enroll([kept])
                fileSystem.state.withLock { $0.failWrites = true }
                #expect(lineupError { try collection.enroll([Self.prepared("lost", rng: &rng)]) } != nil)
                fileSystem.state.withLock { $0.failWrites = false }
                expectError(.readOnly) { try collection.enroll([Self.prepared("later", rng: &rng)]) }
                #expect(try collection.identities() == [kept.id.string: "kept"])
            }
            let reopened = try Store(path: path)
            defer { reopened.close() }
            #expect(try reopened.collection("people").identityMap() == [kept.id.string: "kept"])
        }

        /// `.processCrash` writes the journal without fsync; `.full` syncs every commit group.
        @Test func durabilitySettingDecidesTheJournalSync() throws {
            let directory = try Self.makeDirectory("durability")
            defer { Self.cleanUp(directory) }
            var rng = SeededGenerator(seed: 21)
            for durability in [Durability.full, .processCrash] {
                let path = directory + "/store-\(durability)"
                let fileSystem = FaultyFileSystem()
                var expected: [String: String] = [:]
                do {
                    let store = try Store(path: path, fileSystem: fileSystem, durability: durability)
                    defer { store.close() }
                    try store.createCollection("people", settings: .init(modelName: "TFV5_2", compression: .none))
                    let collection = FileCollection(store: store, state: try store.collection("people"))
                    let before = fileSystem.state.value.syncs
                    for index in 0..<5 {
                        let entry = Self.prepared("p\(index)", rng: &rng)
                        try collection.enroll([entry])
                        expected[entry.id.string] = entry.identity
                    }
                    let syncs = fileSystem.state.value.syncs - before
                    #expect(syncs == (durability == .full ? 5 : 0), "\(durability): \(syncs) fsyncs for 5 sequential commits")
                }
                let reopened = try Store(path: path)
                defer { reopened.close() }
                #expect(try reopened.collection("people").identityMap() == expected, "\(durability)")
            }
        }

        /// Group commit under contention: every call returns only once durable, each record
        /// keeps its own sequence number, and everything survives a reopen.
        @Test func concurrentWritersAllSurviveReopen() throws {
            let directory = try Self.makeDirectory("concurrent")
            defer { Self.cleanUp(directory) }
            let path = directory + "/store"
            let enrolled = Locked([String: String]())
            let failures = Locked([String]())
            do {
                let store = try Store(path: path, sealRows: 70)
                defer { store.close() }
                try store.createCollection("people", settings: .init(modelName: "TFV5_2", compression: .none))
                let collection = FileCollection(store: store, state: try store.collection("people"))
                DispatchQueue.concurrentPerform(iterations: 8) { worker in
                    var rng = SeededGenerator(seed: 100 + UInt64(worker))
                    for index in 0..<20 {
                        let entry = Self.prepared("w\(worker)-\(index % 4)", rng: &rng)
                        do {
                            try collection.enroll([entry])
                            enrolled.withLock { $0[entry.id.string] = entry.identity }
                        } catch {
                            failures.withLock { $0.append("\(error)") }
                        }
                    }
                }
                #expect(failures.value.isEmpty, "\(failures.value.prefix(3))")
                #expect(try collection.identities() == enrolled.value)
                #expect(!Self.segmentFiles(path).isEmpty, "160 rows with sealRows 70 checkpointed")
            }
            #expect(StoreInspector.verify(path: path).isIntact)
            let reopened = try Store(path: path)
            defer { reopened.close() }
            #expect(try reopened.collection("people").identityMap() == enrolled.value)
            #expect(enrolled.value.count == 160)
        }
    }
}
