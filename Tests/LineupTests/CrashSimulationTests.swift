import Foundation
import Testing
@testable import Lineup

/// Power loss at every durability point of a workload, and I/O faults, through the
/// file-system layer (FORMAT.md §8–9).
@Suite struct CrashSimulationTests {
    static let settings = CollectionSettings(modelName: "M", compression: .none)

    /// What a workload did before it died.
    struct History {
        var attemptedEnrollments: [RecordID] = []
        var acknowledgedEnrollments: [RecordID] = []
        var attemptedRemovals: Set<RecordID> = []
        var acknowledgedRemovals: Set<RecordID> = []
    }

    static func enrollment(_ id: RecordID, _ index: Int, dimension: Int = 8) -> PreparedEnrollment {
        var generator = SeededGenerator(seed: UInt64(index + 1))
        let vector = (0..<dimension).map { _ in Float.random(in: -1...1, using: &generator) }
        let unit = VectorEncoder.normalized(vector)
        return PreparedEnrollment(id: id, identity: "person-\(index % 5)",
                                  vector: VectorEncoder.encode(unit: unit, as: .none), dimension: dimension)
    }

    /// A store at `path` with collection "c", through `fileSystem`.
    static func openCollection(_ path: String, fileSystem: any FileSystem) throws -> (Store, FileCollection) {
        let store = try Store(path: path, fileSystem: fileSystem)
        try store.createCollection("c", settings: settings)
        return (store, FileCollection(store: store, state: try store.collection("c")))
    }

    /// The live UUIDs of collection "c", reopening the store with the real file system.
    static func liveIDs(_ path: String, passphrase: String? = nil) throws -> Set<String> {
        let store = try Store(path: path, passphrase: passphrase)
        defer { store.close() }
        return Set(try store.collection("c").identityMap().keys)
    }

    /// Enrolls `count` Faceprints one by one, removing one every few, with checkpoints every
    /// `sealRows` rows; stops at the first error (the simulated death).
    static func workload(_ path: String, fileSystem: any FileSystem, count: Int, sealRows: Int,
                         passphrase: String? = nil) -> History {
        var history = History()
        do {
            let store = try Store(path: path, fileSystem: fileSystem, sealRows: sealRows, passphrase: passphrase,
                                  kdfIterations: EncryptionTests.iterations)
            defer { store.close() }
            try store.createCollection("c", settings: settings)
            let collection = FileCollection(store: store, state: try store.collection("c"))
            for index in 0..<count {
                if index == count / 2 {
                    // One bulk enrollment, which goes straight into a segment file.
                    let ids = (0..<FileCollection.bulkThreshold).map { _ in RecordID.generate() }
                    history.attemptedEnrollments += ids
                    try collection.enroll(ids.enumerated().map { enrollment($1, 1000 + $0) })
                    history.acknowledgedEnrollments += ids
                }
                let id = RecordID.generate()
                history.attemptedEnrollments.append(id)
                try collection.enroll([enrollment(id, index)])
                history.acknowledgedEnrollments.append(id)
                if index % 4 == 3 {
                    let victim = history.acknowledgedEnrollments[history.acknowledgedEnrollments.count - 3]
                    history.attemptedRemovals.insert(victim)
                    try collection.remove(id: victim)
                    history.acknowledgedRemovals.insert(victim)
                }
            }
        } catch {}
        return history
    }

    /// Opens the store with the real file system and checks it against the history: it opens,
    /// verifies clean, holds every acknowledged change, and nothing that was never attempted.
    static func check(_ path: String, _ history: History, trial: String, passphrase: String? = nil) throws {
        let store: Store
        do {
            store = try Store(path: path, passphrase: passphrase)
        } catch {
            Issue.record("\(trial): the store did not open after the crash: \(error)")
            return
        }
        defer { store.close() }
        let live: Set<String>
        if let state = try? store.collection("c") {
            live = Set(state.identityMap().keys)
        } else {
            #expect(history.acknowledgedEnrollments.isEmpty, "\(trial): the collection vanished with acknowledged enrollments")
            live = []
        }
        for id in history.acknowledgedEnrollments where !history.attemptedRemovals.contains(id) {
            #expect(live.contains(id.string), "\(trial): acknowledged enrollment \(id.string) lost")
        }
        for id in history.acknowledgedRemovals {
            #expect(!live.contains(id.string), "\(trial): acknowledged removal of \(id.string) undone")
        }
        let attempted = Set(history.attemptedEnrollments.map(\.string))
        #expect(live.isSubset(of: attempted), "\(trial): the store holds something never enrolled")
        let report = StoreInspector.verify(path: path, passphrase: passphrase)
        #expect(report.isIntact, "\(trial): verify found \(report.problems)")
    }

    /// The workload in a plaintext store and in an encrypted one (whose writer opens also
    /// raise the key file's epoch).
    @Test(arguments: [false, true])
    func powerLossAtEveryDurabilityPoint(encrypted: Bool) throws {
        let torture = ProcessInfo.processInfo.environment["LINEUP_TORTURE"] != nil
        let count = torture ? 120 : (encrypted ? 12 : 24)
        let sealRows = 7
        let passphrase = encrypted ? "power loss" : nil
        // A dry run counts the durability points of the whole workload.
        let counting = FaultInjectingFileSystem()
        let dryRun = try TemporaryDirectory()
        _ = Self.workload(dryRun.path + "/store", fileSystem: counting, count: count, sealRows: sealRows, passphrase: passphrase)
        let points = counting.durabilityPoints
        #expect(points > count, "the workload syncs at least once an enrollment")
        var trials = 0
        for point in 1...points {
            for mode in FaultInjectingFileSystem.UnsyncedData.allCases {
                let directory = try TemporaryDirectory()
                let path = directory.path + "/store"
                let fileSystem = FaultInjectingFileSystem()
                fileSystem.crash(afterDurabilityPoint: point)
                let history = Self.workload(path, fileSystem: fileSystem, count: count, sealRows: sealRows, passphrase: passphrase)
                try fileSystem.simulatePowerLoss(path, unsynced: mode, seed: UInt64(point))
                try Self.check(path, history, trial: "power loss after durability point \(point) (\(mode))", passphrase: passphrase)
                trials += 1
            }
        }
        #expect(trials == points * 3)
    }

    @Test func failedFsyncTurnsTheStoreReadOnlyAndIsNeverRetried() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let fileSystem = FaultInjectingFileSystem()
        var acknowledged: [RecordID] = []
        do {
            let (store, collection) = try Self.openCollection(path, fileSystem: fileSystem)
            defer { store.close() }
            for index in 0..<3 {
                let id = RecordID.generate()
                try collection.enroll([Self.enrollment(id, index)])
                acknowledged.append(id)
            }
            fileSystem.fail(.sync, at: 1)
            #expect(throws: LineupError.self) { try collection.enroll([Self.enrollment(.generate(), 3)]) }
            let syncsAfterFailure = fileSystem.count(.sync)
            for index in 4..<6 {
                do {
                    try collection.enroll([Self.enrollment(.generate(), index)])
                    Issue.record("an enrollment was acknowledged after a failed fsync")
                } catch let error as LineupError {
                    #expect(error.code == .readOnly)
                }
            }
            #expect(throws: LineupError.self) { try collection.remove(id: acknowledged[0]) }
            #expect(throws: LineupError.self) { try store.createCollection("d", settings: Self.settings) }
            #expect(fileSystem.count(.sync) == syncsAfterFailure, "the failed fsync was retried")
            // Reads go on.
            #expect(store.collectionNames() == ["c"])
        }
        let live = try Self.liveIDs(path)
        for id in acknowledged { #expect(live.contains(id.string)) }
        #expect(StoreInspector.verify(path: path).isIntact)
    }

    /// A full disk (ENOSPC on write, for the journal, a checkpoint's files or an import),
    /// first for a while, then freed: nothing is acknowledged that is not durable, the store
    /// does not turn read-only, writes resume once there is room, every acknowledged
    /// enrollment survives a power loss, and no file descriptor leaks.
    @Test func aFullDiskFailsWritesUntilSpaceIsFreed() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let fileSystem = FaultInjectingFileSystem()
        let descriptorsBefore = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        var acknowledged: [RecordID] = []
        var refused = 0
        do {
            let store = try Store(path: path, fileSystem: fileSystem, sealRows: 5)
            defer { store.close() }
            try store.createCollection("c", settings: Self.settings)
            let collection = FileCollection(store: store, state: try store.collection("c"))
            var index = 0
            func enroll() {
                let id = RecordID.generate()
                do {
                    try collection.enroll([Self.enrollment(id, index)])
                    acknowledged.append(id)
                } catch let error as LineupError {
                    #expect(error.underlyingErrno == ENOSPC, "\(error)")
                    refused += 1
                } catch {
                    Issue.record("\(error)")
                }
                index += 1
            }
            for _ in 0..<3 { enroll() }
            // Full from the next write on: journal appends, then checkpoints, are refused.
            for round in 0..<4 {
                fileSystem.fail(.write, at: 1 + round % 2, errno: ENOSPC, persistent: true)
                for _ in 0..<4 { enroll() }
                // An import is refused too, and changes nothing.
                let batch = (0..<FileCollection.bulkThreshold).map { Self.enrollment(.generate(), 10_000 + $0) }
                #expect(throws: LineupError.self) { try collection.enroll(batch) }
                fileSystem.heal(.write)
                for _ in 0..<4 { enroll() }
            }
            #expect(refused > 0 && acknowledged.count > 12)
            #expect(Set(try store.collection("c").identityMap().keys) == Set(acknowledged.map(\.string)))
        }
        try fileSystem.simulatePowerLoss(path, unsynced: .dropped)
        #expect(try Self.liveIDs(path) == Set(acknowledged.map(\.string)))
        #expect(StoreInspector.verify(path: path).isIntact)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count <= descriptorsBefore + 4)
    }

    /// A checkpoint that finds no room for its segment takes back only its own files: the
    /// journal it was sealing stays, so reopening, or a power loss, loses nothing acknowledged.
    @Test func aCheckpointWithNoRoomKeepsTheJournal() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let fileSystem = FaultInjectingFileSystem()
        var acknowledged: [RecordID] = []
        do {
            let store = try Store(path: path, fileSystem: fileSystem, sealRows: 3)
            defer { store.close() }
            try store.createCollection("c", settings: Self.settings)
            let collection = FileCollection(store: store, state: try store.collection("c"))
            for index in 0..<2 {
                let id = RecordID.generate()
                try collection.enroll([Self.enrollment(id, index)])
                acknowledged.append(id)
            }
            // The third enrollment's group is written (write 1); the checkpoint it makes due
            // finds no room for its segment (write 2).
            fileSystem.fail(.write, at: 2, errno: ENOSPC)
            let id = RecordID.generate()
            try collection.enroll([Self.enrollment(id, 2)])
            acknowledged.append(id)
            #expect(fileSystem.count(.write) >= 2, "the checkpoint ran")
        }
        #expect(try Self.liveIDs(path) == Set(acknowledged.map(\.string)))
        try fileSystem.simulatePowerLoss(path, unsynced: .dropped)
        #expect(try Self.liveIDs(path) == Set(acknowledged.map(\.string)))
        #expect(StoreInspector.verify(path: path).isIntact)
    }

    /// No room for reserved space (FORMAT.md §5.2): the group is written alone, acknowledged
    /// and durable; reserving is tried again by the next group that passes the end.
    @Test func noRoomToReserveWritesTheGroupAlone() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let fileSystem = FaultInjectingFileSystem()
        var acknowledged: [RecordID] = []
        do {
            let (store, collection) = try Self.openCollection(path, fileSystem: fileSystem)
            defer { store.close() }
            let number = try Manifest.decode([UInt8](Data(contentsOf: URL(fileURLWithPath: path + "/MANIFEST")))).journalNumber
            let journal = path + "/" + FormatConstants.journalName(number)
            let size = try FileManager.default.attributesOfItem(atPath: journal)[.size] as! Int
            fileSystem.fail(.write, at: 1, errno: ENOSPC)
            let first = RecordID.generate()
            try collection.enroll([Self.enrollment(first, 0)])
            acknowledged.append(first)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: journal)))
            #expect(bytes.count > size && bytes.count == EncryptionTests.journalRecords(bytes, number: number).last!.end,
                    "the group alone, no zeros after it")
            let second = RecordID.generate()
            try collection.enroll([Self.enrollment(second, 1)])
            acknowledged.append(second)
            let grown = [UInt8](try Data(contentsOf: URL(fileURLWithPath: journal)))
            #expect(grown.count > EncryptionTests.journalRecords(grown, number: number).last!.end, "the next group reserves")
        }
        try fileSystem.simulatePowerLoss(path, unsynced: .dropped)
        #expect(try Self.liveIDs(path) == Set(acknowledged.map(\.string)))
        #expect(StoreInspector.verify(path: path).isIntact)
    }

    @Test(arguments: [ENOSPC, EIO])
    func failedJournalWriteAcknowledgesNothing(errno: Int32) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let fileSystem = FaultInjectingFileSystem()
        var acknowledged: [RecordID] = []
        do {
            let (store, collection) = try Self.openCollection(path, fileSystem: fileSystem)
            defer { store.close() }
            let first = RecordID.generate()
            try collection.enroll([Self.enrollment(first, 0)])
            acknowledged.append(first)
            fileSystem.fail(.write, at: 1, errno: errno)
            do {
                try collection.enroll([Self.enrollment(.generate(), 1)])
                Issue.record("an enrollment was acknowledged although its journal write failed")
            } catch let error as LineupError {
                #expect(error.underlyingErrno == errno)
            }
            if errno == ENOSPC {
                // A refused write lost nothing durable: once there is room, writes go on.
                let next = RecordID.generate()
                try collection.enroll([Self.enrollment(next, 2)])
                acknowledged.append(next)
            } else {
                // Any other failure is for good.
                #expect(throws: LineupError.self) { try collection.enroll([Self.enrollment(.generate(), 2)]) }
            }
        }
        let live = try Self.liveIDs(path)
        for id in acknowledged { #expect(live.contains(id.string)) }
    }

    /// The N-th call of each operation fails, N rising until the workload completes: never an
    /// acknowledgement that is not durable, never a store that does not open.
    @Test(arguments: [FaultInjectingFileSystem.Operation.write, .sync, .rename, .syncDirectory, .open, .map, .truncate])
    func faultLoop(operation: FaultInjectingFileSystem.Operation) throws {
        for n in 1...40 {
            let directory = try TemporaryDirectory()
            let path = directory.path + "/store"
            let fileSystem = FaultInjectingFileSystem()
            fileSystem.fail(operation, at: n, errno: n % 2 == 0 ? ENOSPC : EIO)
            let history = Self.workload(path, fileSystem: fileSystem, count: 12, sealRows: 5)
            // Whatever was acknowledged is on disk even with nothing more synced.
            try fileSystem.simulatePowerLoss(path, unsynced: .dropped)
            try Self.check(path, history, trial: "\(operation) fails at call \(n)")
            if history.acknowledgedEnrollments.count == 12 && fileSystem.count(operation) < n { break }
        }
    }
}

/// A temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/lineup-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
