import Foundation
import Synchronization
import Testing
@testable import Lineup

/// Online backup (FORMAT.md §14): a consistent point-in-time copy taken while others write,
/// compaction included; a failed or interrupted backup leaves nothing that passes for a copy.
@Suite struct BackupTests {
    static let settings = CompactionTests.settings

    static func makeDirectory(_ label: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lineup-backup-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    static func identities(_ path: String, passphrase: String? = nil) throws -> [String: String] {
        let store = try Store(path: path, readOnly: true, passphrase: passphrase)
        defer { store.close() }
        return try store.collection("c").identityMap()
    }

    /// While two threads enroll and one removes, backups are taken: each copy verifies
    /// clean, opens on its own, holds every enrollment acknowledged before the backup began
    /// and nothing that was never acknowledged.
    @Test(arguments: [false, true])
    func backupWhileOthersWrite(forceCopy: Bool) throws {
        let directory = try Self.makeDirectory("online")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/store"
        let fixture = try CompactionTests.makeStore(path, count: 200, sealRows: 60, removeFirst: 40)
        let store = try Store(path: path, sealRows: 60)
        defer { store.close() }
        let collection = FileCollection(store: store, state: try store.collection("c"))
        let acknowledged = Mutex<[String: String]>(CompactionTests.expected(fixture.live))
        let stop = Atomic<Bool>(false)
        let writers = DispatchGroup()
        for writer in 0..<2 {
            DispatchQueue.global().async(group: writers) {
                var index = 1_000 * (writer + 1)
                while !stop.load(ordering: .relaxed) {
                    let (prepared, enrolled) = EncryptionTests.enrollment(index, dimension: 16)
                    if (try? collection.enroll([prepared])) != nil {
                        acknowledged.withLock { $0[enrolled.id.string] = enrolled.identity }
                    }
                    index += 1
                }
            }
        }
        var copies: [(String, [String: String])] = []
        for trial in 0..<4 {
            usleep(20_000)
            let before = acknowledged.withLock { $0 }
            let copy = directory + "/copy-\(trial)"
            let report = try store.backup(to: copy, forceCopy: forceCopy)
            #expect(forceCopy ? report.filesLinked == 0 : report.filesLinked > 0, "\(report)")
            copies.append((copy, before))
        }
        stop.store(true, ordering: .relaxed)
        writers.wait()
        let all = acknowledged.withLock { $0 }
        for (copy, before) in copies {
            let verify = StoreInspector.verify(path: copy)
            #expect(verify.isIntact, "\(verify.problems)")
            let held = try Self.identities(copy)
            for (uuid, identity) in before { #expect(held[uuid] == identity, "acknowledged before the backup") }
            for (uuid, identity) in held { #expect(all[uuid] == identity, "nothing unacknowledged") }
            #expect(!FileManager.default.fileExists(atPath: copy + "/" + Store.backupMarkerName))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".partial-") }
        #expect(leftovers.isEmpty)
    }

    /// Compactions running meanwhile (rewriting and deleting segments) do not break a copy.
    @Test func backupDuringCompaction() throws {
        let directory = try Self.makeDirectory("compaction")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/store"
        let fixture = try CompactionTests.makeStore(path, count: 400, sealRows: 50, removeFirst: 0)
        let store = try Store(path: path, sealRows: 50)
        defer { store.close() }
        let collection = FileCollection(store: store, state: try store.collection("c"))
        let removedBefore = Mutex<[String]>([])
        let done = Atomic<Bool>(false)
        let compactor = DispatchGroup()
        DispatchQueue.global().async(group: compactor) {
            for (index, entry) in fixture.live.enumerated() where index % 3 == 0 {
                if done.load(ordering: .relaxed) { break }
                try? collection.remove(id: entry.id)
                removedBefore.withLock { $0.append(entry.id.string) }
                if index % 30 == 0 { _ = try? store.compact() }
            }
        }
        for trial in 0..<5 {
            let copy = directory + "/copy-\(trial)"
            let gone = removedBefore.withLock { $0 }
            _ = try store.backup(to: copy)
            let verify = StoreInspector.verify(path: copy)
            #expect(verify.isIntact, "\(verify.problems)")
            let held = try Self.identities(copy)
            for uuid in gone { #expect(held[uuid] == nil, "removed before the backup") }
            #expect(held.count <= fixture.live.count)
        }
        done.store(true, ordering: .relaxed)
        compactor.wait()
    }

    @Test func encryptedCopiesStayEncryptedUnderTheSameKey() throws {
        let directory = try Self.makeDirectory("encrypted")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/store"
        let fixture = try CompactionTests.makeStore(path, count: 100, sealRows: 40, removeFirst: 10, passphrase: EncryptionTests.passphrase)
        let store = try Store(path: path, passphrase: EncryptionTests.passphrase)
        _ = try store.backup(to: directory + "/copy")
        store.close()
        #expect(FileManager.default.fileExists(atPath: directory + "/copy/KEY"))
        #expect(StoreInspector.verify(path: directory + "/copy", passphrase: EncryptionTests.passphrase).isIntact)
        #expect(try Self.identities(directory + "/copy", passphrase: EncryptionTests.passphrase) == CompactionTests.expected(fixture.live))
        #expect(throws: LineupError.self) { _ = try Self.identities(directory + "/copy", passphrase: "wrong") }
        #expect(throws: LineupError.self) { _ = try Self.identities(directory + "/copy") }
    }

    /// A failed write or sync anywhere in the copy (a full disk, EIO) fails the backup
    /// cleanly: the source is as it was, and neither the destination nor a partial copy is
    /// left behind.
    @Test(arguments: [FaultInjectingFileSystem.Operation.write, .sync, .open, .rename, .syncDirectory])
    func failedWritesRemoveThePartialCopy(operation: FaultInjectingFileSystem.Operation) throws {
        let directory = try Self.makeDirectory("faults")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/store"
        let fixture = try CompactionTests.makeStore(path, count: 150, sealRows: 40, removeFirst: 20)
        let expected = CompactionTests.expected(fixture.live)
        var n = 1
        var completed = false
        while n < 40 && !completed {
            let fileSystem = FaultInjectingFileSystem()
            let store = try Store(path: path, fileSystem: fileSystem)
            let sourceBefore = try FileStoreTestsSupport.contents(path)
            fileSystem.fail(operation, at: fileSystem.count(operation) + n, errno: n % 2 == 0 ? ENOSPC : EIO)
            let copy = directory + "/copy"
            do {
                _ = try store.backup(to: copy)
                completed = true
            } catch let error as LineupError {
                #expect([.ioError, .readOnly].contains(error.code), "\(operation) #\(n): \(error)")
                #expect(!FileManager.default.fileExists(atPath: copy), "\(operation) #\(n): no destination")
            }
            store.close()
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(!names.contains { $0.contains(".partial-") }, "\(operation) #\(n): partial copy left: \(names)")
            #expect(try FileStoreTestsSupport.contents(path).filter { $0.key != "LOCK" } == sourceBefore.filter { $0.key != "LOCK" },
                    "\(operation) #\(n): the source untouched")
            if completed {
                #expect(try Self.identities(copy) == expected)
            }
            try? FileManager.default.removeItem(atPath: copy)
            n += 1
        }
        #expect(completed, "\(operation): the backup succeeds once the faults are past")
    }

    @Test func badDestinationsAndBackends() throws {
        let directory = try Self.makeDirectory("bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/store"
        _ = try CompactionTests.makeStore(path, count: 10, sealRows: 40, removeFirst: 0)
        let store = try Store(path: path)
        defer { store.close() }
        for bad in [path, directory, directory + "/missing/copy"] {
            #expect(throws: LineupError.self, "\(bad)") { _ = try store.backup(to: bad) }
        }
        let reader = try Store(path: path, readOnly: true)
        defer { reader.close() }
        #expect(throws: LineupError.self, "a read-only connection cannot pin") { _ = try reader.backup(to: directory + "/copy") }
        #expect(!FileManager.default.fileExists(atPath: directory + "/copy"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["store"])

        defer { ProcessConnection.resetForTesting() }
        let sdk = try memorySDK()
        #expect { try sdk.backup(to: directory + "/memory") } throws: { ($0 as? LineupError)?.code == .featureNotSupported }
    }
}

/// Whole-directory snapshots for the backup tests.
enum FileStoreTestsSupport {
    static func contents(_ path: String) throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            result[name] = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
        }
        return result
    }
}

/// `lineup backup` killed with SIGKILL at random moments, and beside two shared-mode
/// writer processes.
@Suite(.enabled(if: LineupExecutable.path != nil, "the lineup executable was not found; run `swift build` first"))
struct BackupProcessTests {
    static func populate(_ store: String, in directory: String, rows: Int) throws {
        var rng = SeededGenerator(seed: 77)
        let vectors = (0..<rows).map { _ in rng.vector(256) }
        try Data(CLITests.npy(vectors)).write(to: URL(fileURLWithPath: directory + "/bulk.npy"))
        try Data((0..<rows).map { "p\($0 % 97)\n" }.joined().utf8).write(to: URL(fileURLWithPath: directory + "/bulk.txt"))
        CLITests.expectSuccess(try CLITests.run(["create", store, "c"], in: directory), "create")
        CLITests.expectSuccess(try CLITests.run(["import", store, "c", "--vectors", directory + "/bulk.npy",
                                                 "--identities", directory + "/bulk.txt"], in: directory), "import")
    }

    @Test func killDuringBackupLeavesNoFalseCopy() throws {
        let directory = try CLITests.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/store"
        try Self.populate(store, in: directory, rows: 40_000)
        let before = try FileStoreTestsSupport.contents(store)
        for trial in 0..<6 {
            let copy = directory + "/copy-\(trial)"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: LineupExecutable.path!)
            process.arguments = ["backup", store, copy, "--copy"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32(5_000 + trial * 15_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if FileManager.default.fileExists(atPath: copy) {
                let output = try CLITests.run(["verify", copy], in: directory)
                #expect(output.status == 0, "a copy under its name is complete (trial \(trial)): \(output.stdout)")
            }
            for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasPrefix("copy-\(trial).partial-") {
                let output = try CLITests.run(["verify", directory + "/" + name], in: directory)
                #expect(output.status != 0, "a partial copy never passes for a store (trial \(trial))")
                let open = try CLITests.run(["collections", directory + "/" + name], in: directory)
                #expect(open.status != 0, "nor opens as one")
            }
        }
        #expect(try FileStoreTestsSupport.contents(store) == before, "the source untouched")
    }

    @Test func backupOfASharedStoreWithTwoWriters() throws {
        let directory = try CLITests.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/store"
        CLITests.expectSuccess(try CLITests.run(["create", store, "c"], in: directory), "create")
        var writers: [Process] = []
        for writer in 0..<2 {
            var rng = SeededGenerator(seed: UInt64(writer + 40))
            let lines = (0..<3_000).map { index in
                "{\"identity\": \"w\(writer)-\(index)\", \"feature_vector\": [\(rng.vector(32).map { "\($0)" }.joined(separator: ","))]}\n"
            }.joined()
            try lines.write(toFile: directory + "/lines-\(writer)", atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "exec \"$0\" enroll \"$1\" c --shared < \"$2\" > /dev/null", LineupExecutable.path!,
                                 store, directory + "/lines-\(writer)"]
            try process.run()
            writers.append(process)
        }
        var copies: [String] = []
        for trial in 0..<3 {
            usleep(100_000)
            let copy = directory + "/copy-\(trial)"
            let output = try CLITests.run(["backup", store, copy, "--shared"], in: directory)
            CLITests.expectSuccess(output, "backup beside two writers: \(output.stderr)")
            copies.append(copy)
        }
        for writer in writers { writer.waitUntilExit() }
        var previous = -1
        for copy in copies {
            let verify = try CLITests.run(["verify", copy], in: directory)
            #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
            let info = try CLITests.json(try CLITests.run(["info", copy, "c", "--json"], in: directory).stdout) as? [String: Any]
            let count = info?["num_faceprints"] as? Int ?? -1
            #expect(count >= previous, "later copies hold no less")
            previous = count
        }
    }
}
