import Foundation
import Testing
@testable import Lineup

/// Shared mode (FORMAT.md, "Sharing a store"): several writers on one store, each catching up
/// with the others before it writes; readers catching up without the lock. Two `Store`
/// instances in one process stand for two processes here (each has its own `flock` on its own
/// open of `LOCK`); SharedProcessTests runs real processes.
@Suite struct SharedStoreTests {
    static let settings = CollectionSettings(modelName: "M", compression: .none)

    static func open(_ path: String, sealRows: Int = Store.defaultSealRows) throws -> Store {
        try Store(path: path, sealRows: sealRows, shared: true)
    }

    static func collection(_ store: Store, _ name: String = "c") throws -> FileCollection {
        FileCollection(store: store, state: try store.collection(name))
    }

    static func enroll(_ store: Store, _ index: Int, dimension: Int = 8) throws -> EncryptionTests.Enrolled {
        let (prepared, entry) = EncryptionTests.enrollment(index, dimension: dimension)
        try collection(store).enroll([prepared])
        return entry
    }

    @Test func writersTakeTurnsAndEachSeesTheOther() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let a = try Self.open(path), b = try Self.open(path)
        defer { a.close(); b.close() }
        try a.createCollection("c", settings: Self.settings)
        try b.sync()
        let stateB = try b.collection("c")   // a loaded collection: kept up to date in place
        var all: [EncryptionTests.Enrolled] = []
        for index in 0..<20 {
            all.append(try Self.enroll(index % 2 == 0 ? a : b, index))
        }
        try a.sync()
        try b.sync()
        let expected = Dictionary(uniqueKeysWithValues: all.map { ($0.id.string, $0.identity) })
        #expect(try a.collection("c").identityMap() == expected)
        #expect(stateB.identityMap() == expected)
        #expect(try b.collection("c") === stateB)
        // Removals from either side.
        try Self.collection(b).remove(id: all[0].id)
        try Self.collection(a).remove(id: all[1].id)
        try a.sync()
        try b.sync()
        #expect(try a.collection("c").identityMap().count == 18)
        #expect(stateB.identityMap().count == 18)
        // A third opener, and a reopen, see the same.
        let c = try Self.open(path)
        #expect(try c.collection("c").identityMap() == a.collection("c").identityMap())
        c.close()
        #expect(StoreInspector.verify(path: path).isIntact)
    }

    @Test func checkpointsImportsAndCompactionsOfOneAreTakenUpByTheOther() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let a = try Self.open(path, sealRows: 16), b = try Self.open(path, sealRows: 16)
        defer { a.close(); b.close() }
        try a.createCollection("c", settings: Self.settings)
        var all: [EncryptionTests.Enrolled] = []
        for index in 0..<50 { all.append(try Self.enroll(a, index)) }   // three checkpoints
        try b.sync()
        let stateB = try b.collection("c")
        #expect(stateB.space().segments == 3)
        #expect(stateB.identityMap().count == 50)
        // A bulk import by B; A maps the new segments and keeps the ones it has.
        let earlierA = try a.collection("c").sealed().segments
        let batch = (0..<FileCollection.bulkThreshold).map { EncryptionTests.enrollment(10_000 + $0, dimension: 8) }
        try Self.collection(b).enroll(batch.map(\.0))
        all += batch.map(\.1)
        try a.sync()
        #expect(try a.collection("c").identityMap().count == all.count)
        let laterA = try a.collection("c").sealed().segments
        #expect(laterA.count == earlierA.count + 2 && zip(earlierA, laterA).allSatisfy { $0 === $1 },
                "segments already mapped were mapped again")
        // Removals, then a compaction by A; B remaps only what changed.
        for entry in all.prefix(20) { try Self.collection(b).remove(id: entry.id) }
        let report = try a.compact()
        #expect(report.faceprintsErased == 20)
        try b.sync()
        #expect(stateB.space().removedFaceprints == 0)
        #expect(stateB.identityMap().count == all.count - 20)
        let probe = all[30]
        let hits = try Matcher.search(stateB.snapshot(), probe: probe.vector, k: 1, threshold: 0.99)
        #expect(hits.count == 1)
        #expect(StoreInspector.verify(path: path).isIntact)
    }

    @Test func aWriterThatDiedMidWriteIsCutByTheNextAndReadersNeverSeeIt() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let a = try Self.open(path), b = try Self.open(path)
        defer { a.close(); b.close() }
        try a.createCollection("c", settings: Self.settings)
        var all = [try Self.enroll(a, 0), try Self.enroll(a, 1)]
        // A writer died halfway through its record: half a record after the last one (over
        // the space reserved there).
        let journal = path + "/" + FormatConstants.journalName(1)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: journal)))
        let records = EncryptionTests.journalRecords(bytes, number: 1)
        let last = records.last!
        let torn = Array(bytes[last.offset..<(last.offset + (last.end - last.offset) / 2)])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: journal))
        try handle.seek(toOffset: UInt64(last.end))
        try handle.write(contentsOf: Data(torn))
        try handle.close()
        // A reader stops before it; the next writer cuts it and appends.
        try b.sync()
        #expect(try b.collection("c").identityMap().count == 2)
        all.append(try Self.enroll(b, 2))
        try a.sync()
        #expect(try a.collection("c").identityMap() == Dictionary(uniqueKeysWithValues: all.map { ($0.id.string, $0.identity) }))
        #expect(StoreInspector.verify(path: path).isIntact)
    }

    /// Another process's checkpoint starts a new journal; this process, having caught up
    /// through a plain sync (timer, inotify, a load), must append to the new journal, not to
    /// the one that was deleted.
    @Test func aWriteAfterAnotherProcessCheckpointedGoesToTheNewJournal() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let a = try Self.open(path), b = try Self.open(path)
        defer { a.close(); b.close() }
        try a.createCollection("c", settings: Self.settings)
        try b.sync()
        var all = [try Self.enroll(a, 0)]
        try a.checkpointNow()
        try b.sync()
        all.append(try Self.enroll(b, 1))
        try a.sync()
        let expected = Dictionary(uniqueKeysWithValues: all.map { ($0.id.string, $0.identity) })
        #expect(try a.collection("c").identityMap() == expected)
        let fresh = try Self.open(path)
        #expect(try fresh.collection("c").identityMap() == expected)
        fresh.close()
        // The same after an import and a compaction by the other.
        let batch = (0..<FileCollection.bulkThreshold).map { EncryptionTests.enrollment(20_000 + $0, dimension: 8) }
        try Self.collection(a).enroll(batch.map(\.0))
        try Self.collection(a).remove(id: batch[0].1.id)
        try a.compact()
        try b.sync()
        all.append(try Self.enroll(b, 2))
        let reopened = try Self.open(path)
        #expect(try reopened.collection("c").identityMap().count == all.count + batch.count - 1)
        reopened.close()
        #expect(StoreInspector.verify(path: path).isIntact)
    }

    @Test func readersNeverWaitForTheLock() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let a = try Self.open(path), b = try Self.open(path)
        defer { a.close(); b.close() }
        try a.createCollection("c", settings: Self.settings)
        _ = try Self.enroll(a, 0)
        try a.holdSharedLock()   // as during a long compaction
        let start = Date()
        try b.sync()
        #expect(try b.collection("c").identityMap().count == 1)
        _ = try b.collection("c").snapshot()
        #expect(Date().timeIntervalSince(start) < 5)
        // A writer waits, and goes on once the lock is given back.
        let done = Locked(false)
        let thread = Thread {
            _ = try? Self.enroll(b, 1)
            done.withLock { $0 = true }
        }
        thread.start()
        Thread.sleep(forTimeInterval: 0.2)
        #expect(!done.withLock { $0 }, "a writer wrote while another process held the lock")
        a.dropSharedLock()
        var waited = 0
        while !done.withLock({ $0 }) && waited < 500 {
            Thread.sleep(forTimeInterval: 0.01)
            waited += 1
        }
        #expect(done.withLock { $0 })
        try a.sync()
        #expect(try a.collection("c").identityMap().count == 2)
    }

    @Test func validationUsesWhatOtherWritersDid() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let a = try Self.open(path), b = try Self.open(path)
        defer { a.close(); b.close() }
        try a.createCollection("c", settings: Self.settings)
        try b.sync()
        let first = try Self.enroll(a, 0, dimension: 8)
        // B has not caught up, yet its enrollment is checked against A's: the dimension is 8.
        expectError(.enrollmentError) { try Self.enroll(b, 1, dimension: 16) }
        // A removal of something the other already removed finds nothing.
        try Self.collection(a).remove(id: first.id)
        expectError(.noRecordFound) { try Self.collection(b).remove(id: first.id) }
        // A collection the other deleted.
        try a.deleteCollection("c")
        let state = try b.collection("c")
        expectError(.noCollectionFound) { try FileCollection(store: b, state: state).enroll([EncryptionTests.enrollment(3, dimension: 8).0]) }
        #expect(StoreInspector.verify(path: path).isIntact)
    }
}

extension SDKTests {
    /// `.shared` through the SDK: the interval from the options or the environment, and a
    /// loaded collection that follows another writer without being loaded again.
    @Suite struct Shared {
        @Test func aLoadedCollectionFollowsAnotherWriter() throws {
            ProcessConnection.resetForTesting()
            defer { ProcessConnection.resetForTesting() }
            let directory = try TemporaryDirectory()
            let path = directory.path + "/store"
            var options = ConfigurationOptions()
            options.dbms = .shared
            options.notificationCheckInterval = 0.05
            let sdk = SDK(options: options)
            try sdk.createDatabaseConnection(path)
            try sdk.createLoadCollection("people")
            var rng = SeededGenerator(seed: 3)
            let mine = rng.faceprint(16)
            _ = try sdk.enrollFaceprint(mine, identity: "mine")
            // Another writer (standing for another process).
            let other = try SharedStoreTests.open(path)
            defer { other.close() }
            let theirs = rng.faceprint(16)
            let prepared = PreparedEnrollment(theirs, identity: "theirs", compression: .none)
            try SharedStoreTests.collection(other, "people").enroll([prepared])
            var seen = false
            for _ in 0..<200 where !seen {
                seen = try sdk.identifyTopCandidate(theirs)?.identity == "theirs"
                if !seen { Thread.sleep(forTimeInterval: 0.01) }
            }
            #expect(seen, "the other writer's enrollment did not arrive")
            #expect(try sdk.getCollectionMetadata("people").numFaceprints == 2)
        }

        @Test func theIntervalComesFromTheOptionsOrTheEnvironment() throws {
            var options = ConfigurationOptions()
            #expect(try options.resolvedNotificationCheckInterval() == (ProcessInfo.processInfo.environment["DB_NOTIFICATION_CHECK_FREQUENCY"].flatMap(Double.init) ?? 30))
            options.notificationCheckInterval = 0.25
            #expect(try options.resolvedNotificationCheckInterval() == 0.25)
            for bad in [0, -1, Double.nan, .infinity] {
                options.notificationCheckInterval = bad
                expectError(.invalidArgument, "\(bad)") { try options.resolvedNotificationCheckInterval() }
            }
        }
    }
}
