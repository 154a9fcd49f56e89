import Foundation
import Testing
@testable import Lineup

/// Evidence stays untouched: every read-only command leaves every file of the store — its
/// bytes, name, size, mode, inode and modification time — as it was, plaintext and encrypted,
/// intact and damaged. And the examiner's report checks out.
@Suite(.enabled(if: LineupExecutable.path != nil, "the lineup executable was not found; run `swift build` first"))
struct ReadOnlyCommandTests {
    struct FileState: Equatable, CustomStringConvertible {
        var size: Int
        var mode: UInt32
        var inode: UInt64
        var modified: Int
        var sha256: String
        var description: String { "\(size) bytes, mode \(String(mode, radix: 8)), inode \(inode), mtime \(modified), \(sha256.prefix(12))" }
    }

    static func snapshot(_ path: String) throws -> [String: FileState] {
        var result: [String: FileState] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            var info = stat()
            #expect(lstat(path + "/" + name, &info) == 0)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
            result[name] = FileState(size: Int(info.st_size), mode: UInt32(info.st_mode), inode: UInt64(info.st_ino),
                                     modified: Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec),
                                     sha256: try Crypto.SHA256.hex(of: bytes))
        }
        var info = stat()
        #expect(lstat(path, &info) == 0)
        result["."] = FileState(size: 0, mode: UInt32(info.st_mode), inode: UInt64(info.st_ino),
                                modified: Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec), sha256: "")
        return result
    }

    enum Damage: CaseIterable { case none, flippedSegmentByte, tornJournalTail }

    @Test(arguments: [false, true], Damage.allCases)
    func readOnlyCommandsChangeNothing(encrypted: Bool, damage: Damage) throws {
        let directory = try CLITests.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/store"
        try "evidence passphrase\n".write(toFile: directory + "/pass", atomically: true, encoding: .utf8)
        let key = encrypted ? ["--passphrase-file", directory + "/pass"] : []
        var rng = SeededGenerator(seed: 12)
        let rows = (0..<5_000).map { _ in rng.vector(16) }
        try Data(CLITests.npy(rows)).write(to: URL(fileURLWithPath: directory + "/v.npy"))
        try Data((0..<5_000).map { "p\($0 % 300)\n" }.joined().utf8).write(to: URL(fileURLWithPath: directory + "/i.txt"))
        try Data(CLITests.npy(Array(rows[0..<2]))).write(to: URL(fileURLWithPath: directory + "/probes.npy"))
        CLITests.expectSuccess(try CLITests.run(["create", store, "c"] + (encrypted ? ["--encrypt"] : []) + key, in: directory), "create")
        CLITests.expectSuccess(try CLITests.run(["import", store, "c", "--vectors", directory + "/v.npy",
                                                 "--identities", directory + "/i.txt"] + key, in: directory), "import")
        let lines = (0..<5).map { index in
            "{\"identity\": \"tail \(index)\", \"feature_vector\": [\(rng.vector(16).map { "\($0)" }.joined(separator: ","))]}\n"
        }.joined()
        CLITests.expectSuccess(try CLITests.run(["enroll", store, "c"] + key, input: lines, in: directory), "enroll")
        switch damage {
        case .none: break
        case .flippedSegmentByte:
            let segment = try FileManager.default.contentsOfDirectory(atPath: store).first { $0.hasSuffix(".seg") }!
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: store + "/" + segment)))
            bytes[bytes.count / 2] ^= 0x10
            try Data(bytes).write(to: URL(fileURLWithPath: store + "/" + segment))
        case .tornJournalTail:
            let journal = try FileManager.default.contentsOfDirectory(atPath: store).first { $0.hasSuffix(".log") }!
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: store + "/" + journal))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data([0x4C, 0x4E, 0x55, 0x50, 1, 2, 3, 4, 5]))
            try handle.close()
        }
        usleep(20_000)   // so that any write would show in the modification times
        let before = try Self.snapshot(store)
        let commands: [[String]] = [
            ["verify", store], ["verify", store, "--json"], ["info", store, "c"], ["info", store, "c", "--json", "--space"],
            ["collections", store], ["identities", store, "c", "--json"], ["dump", store, "--records"],
            ["identify", store, "c", "--probes", directory + "/probes.npy", "--read-only"],
            ["export", store, "c", "--json-lines", "-"],
        ]
        for command in commands {
            let output = try CLITests.run(command + key, in: directory)
            if damage == .none {
                CLITests.expectSuccess(output, "\(command)")
            }
            let after = try Self.snapshot(store)
            #expect(after == before, "\(command) (encrypted \(encrypted), \(damage)) changed the store: \(after.filter { before[$0.key] != $0.value })")
        }

        // The examiner's report: its digest recomputes, its file hashes are the files'.
        let output = try CLITests.run(["verify", store, "--json"] + key, in: directory)
        #expect(output.status == (damage == .flippedSegmentByte ? 2 : 0), "\(output.stderr)")
        let line = Array(output.stdout.utf8.dropLast())
        let prefix = Array("{\"report\":".utf8)
        #expect(Array(line.prefix(prefix.count)) == prefix)
        let marker = Array(",\"digest\":".utf8)
        let end = (0...(line.count - marker.count)).last { Array(line[$0..<($0 + marker.count)]) == marker }!
        let object = try CLITests.json(output.stdout) as! [String: Any]
        #expect(try Crypto.SHA256.hex(of: Array(line[prefix.count..<end])) == object["digest"] as? String)
        let report = object["report"] as! [String: Any]
        #expect(report["intact"] as? Bool == (damage != .flippedSegmentByte))
        for file in report["files"] as! [[String: Any]] {
            let name = file["name"] as! String
            #expect(file["sha256"] as? String == before[name]?.sha256, "\(name)")
            #expect(file["size"] as? Int == before[name]?.size, "\(name)")
        }
        let facts = report["store"] as! [String: Any]
        #expect(facts["encrypted"] as? Bool == encrypted)
        let journal = facts["journal"] as? [String: Any]
        #expect(journal?["torn_tail"] as? Bool == (damage == .tornJournalTail))
        let collections = facts["collections"] as? [[String: Any]]
        if damage != .flippedSegmentByte {
            #expect(collections?.first?["live_faceprints"] as? Int == 5_005)
            #expect(collections?.first?["live_identities"] as? Int == 305)
        }
    }
}
