import Foundation
import Lineup
import Testing

/// The tool in a hostile process environment: standard descriptors closed, standard output
/// closed or full, huge and negative numeric arguments, paths that are no store.
@Suite(.enabled(if: LineupExecutable.path != nil, "the lineup executable was not found; run `swift build` first"))
struct CLIEnvironmentTests {
    typealias Output = CLITests.Output

    /// Runs `lineup arguments…` through `/bin/sh` with `redirections` applied to it (for
    /// example `>&- 2>&-` to start it with standard output and error closed). Standard output
    /// and error, where left open, go to files whose contents are returned.
    static func run(_ arguments: [String], redirections: String, in directory: String,
                    environment extra: [String: String] = [:]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        let id = UUID().uuidString
        let outPath = directory + "/.out-\(id)", errPath = directory + "/.err-\(id)"
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        // $1 and $2 are the capture files; the tool's arguments follow.
        process.arguments = ["-c", "out=$1; err=$2; shift 2; exec \"$0\" \"$@\" \(redirections)",
                             LineupExecutable.path!, outPath, errPath] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LINEUP_PASSPHRASE"] = nil
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        func contents(_ path: String) -> String {
            (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }
        return Output(status: process.terminationStatus, stdout: contents(outPath), stderr: contents(errPath))
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
    }

    static func enrollmentLines(_ count: Int, dimension: Int = 8, seed: UInt64) -> String {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            let vector = rng.vector(dimension).map { "\($0)" }.joined(separator: ",")
            return "{\"identity\": \"person \(index)\", \"feature_vector\": [\(vector)]}\n"
        }.joined()
    }

    /// No file of the store ever becomes descriptor 0, 1 or 2: every command that writes one
    /// kind of store file (KEY and MANIFEST by create, journal and LOCK by enroll, segments by
    /// import, a new manifest and segments by compact, a new KEY by rekey) runs with its
    /// standard descriptors closed, and the store is intact afterwards with nothing stray
    /// written into it.
    @Test func storeFilesNeverBecomeStandardDescriptors() throws {
        let directory = try CLITests.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/store"
        let closed = "<&- >&- 2>&-"
        try "first passphrase\n".write(toFile: directory + "/pass", atomically: true, encoding: .utf8)
        try "second passphrase\n".write(toFile: directory + "/pass2", atomically: true, encoding: .utf8)
        let key = ["--passphrase-file", directory + "/pass"]

        var output = try Self.run(["create", store, "people", "--encrypt"] + key, redirections: closed, in: directory)
        #expect(output.status == 0, "create with every standard descriptor closed")

        // Bulk import: straight into segment files.
        var rng = SeededGenerator(seed: 3)
        let rows = (0..<4096).map { _ in rng.vector(8) }
        try Data(CLITests.npy(rows)).write(to: URL(fileURLWithPath: directory + "/bulk.npy"))
        try Data((0..<4096).map { "bulk \($0 % 100)\n" }.joined().utf8).write(to: URL(fileURLWithPath: directory + "/bulk.txt"))
        output = try Self.run(["import", store, "people", "--vectors", directory + "/bulk.npy",
                               "--identities", directory + "/bulk.txt"] + key, redirections: "<&- 2>&- >\"$out\"", in: directory)
        #expect(output.status == 0 && output.stdout == "4096\n", "import: \(output)")

        // Enrollment with standard error closed and a bad last line: the error message has
        // nowhere to go, and must not land in the journal or the lock file.
        try (Self.enrollmentLines(5, seed: 4) + "{bad\n").write(toFile: directory + "/lines", atomically: true, encoding: .utf8)
        output = try Self.run(["enroll", store, "people"] + key,
                              redirections: "<'\(directory)/lines' >\"$out\" 2>&-", in: directory)
        #expect(output.status != 0, "the bad line fails the command")
        #expect(output.stdout.split(separator: "\n").count == 5, "every good line acknowledged: \(output.stdout)")

        // Standard output closed: the first enrollment is durable, cannot be acknowledged,
        // and the command stops with an error instead of writing the UUID into a store file.
        output = try Self.run(["enroll", store, "people"] + key, redirections: "<'\(directory)/lines' >&- 2>\"$err\"", in: directory)
        #expect(output.status != 0)
        #expect(output.stderr.hasPrefix("error: line 1 was enrolled as "), "\(output.stderr)")
        #expect(output.stderr.contains("standard output"), "\(output.stderr)")

        // Both print a report, so standard output is a file here; input and error stay closed.
        output = try Self.run(["compact", store] + key, redirections: "<&- 2>&- >\"$out\"", in: directory)
        #expect(output.status == 0, "compact with standard input and error closed")
        output = try Self.run(["rekey", store, "--new-passphrase-file", directory + "/pass2"] + key,
                              redirections: "<&- 2>&- >\"$out\"", in: directory)
        #expect(output.status == 0, "rekey with standard input and error closed")

        #expect(Self.size(store + "/LOCK") == 0, "nothing was ever written into LOCK")
        let key2 = ["--passphrase-file", directory + "/pass2"]
        let verify = try CLITests.run(["verify", store] + key2, in: directory)
        #expect(verify.status == 0 && verify.stdout.hasSuffix("intact\n"), "verify: \(verify.stdout) \(verify.stderr)")
        let info = try CLITests.run(["info", store, "people", "--json"] + key2, in: directory)
        let metadata = try CLITests.json(info.stdout) as? [String: Any]
        #expect(metadata?["num_faceprints"] as? Int == 4096 + 5 + 1, "import, five lines, and the unacknowledged one: \(info)")
    }

    /// Output errors are errors: a closed or full standard output gives one `error:` line and
    /// a non-zero exit, never a trap (SIGILL) or a kill by SIGPIPE.
    @Test func closedFullAndBrokenStandardOutput() throws {
        let directory = try CLITests.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/store"
        CLITests.expectSuccess(try CLITests.run(["create", store, "people"], in: directory), "create")

        var output = try Self.run(["collections", store], redirections: ">&- 2>\"$err\"", in: directory)
        CLITests.expectFailure(output, "collections with standard output closed")
        #expect(output.status == 2, "ioError's status, not a trap (132)")

        try Self.enrollmentLines(1, seed: 5).write(toFile: directory + "/line", atomically: true, encoding: .utf8)
        output = try Self.run(["enroll", store, "people"], redirections: "<'\(directory)/line' >/dev/full 2>\"$err\"", in: directory)
        CLITests.expectFailure(output, "enroll into /dev/full")
        #expect(output.stderr.contains("(durable)") && output.stderr.contains("No space left"), "\(output.stderr)")

        // A reader that went away: `head -c 0` closes the pipe at once.
        output = try Self.run(["collections", store], redirections: "2>\"$err\" | head -c 0; exit $?", in: directory)
        #expect(output.status == 0, "the pipeline's last command decides; the tool must not hang")
        let broken = try Self.run(["demo", "--faceprints", "300"],
                                  redirections: "2>\"$err\" | (exec 0<&-; sleep 0.2); exit 0", in: directory)
        #expect(!broken.stderr.contains("Fatal error"), "\(broken.stderr)")

        #expect(try CLITests.run(["info", store, "people", "--json"], in: directory).stdout.contains("\"num_faceprints\":1"),
                "the enrollment into /dev/full is durable")
    }

    @Test func numericArgumentsAreCheckedBeforeUse() throws {
        let directory = try CLITests.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/store"
        CLITests.expectSuccess(try CLITests.run(["create", store, "people"], in: directory), "create")
        CLITests.expectSuccess(try CLITests.run(["enroll", store, "people"], input: Self.enrollmentLines(3, seed: 6), in: directory), "enroll")
        var rng = SeededGenerator(seed: 6)
        try Data(CLITests.npy([rng.vector(8), rng.vector(8)])).write(to: URL(fileURLWithPath: directory + "/probes.npy"))
        let probes = ["--probes", directory + "/probes.npy"]

        for top in ["9223372036854775807", "2147483648", "4"] {
            let output = try CLITests.run(["identify", store, "people", "--top", top, "--threshold", "-1"] + probes, in: directory)
            CLITests.expectSuccess(output, "--top \(top)")
            #expect(output.lines.count == 2, "one line a probe")
            for line in output.lines {
                let candidates = (try CLITests.json(line) as? [String: Any])?["candidates"] as? [Any]
                #expect(candidates?.count == 3, "--top larger than the collection gives all of it")
            }
        }
        for spelling in [["--threshold", "-1"], ["--threshold=-1"], ["--threshold", "-0.25"]] {
            CLITests.expectSuccess(try CLITests.run(["identify", store, "people"] + spelling + probes, in: directory), "\(spelling)")
        }
        for bad in [["--top", "0"], ["--top", "-3"], ["--top", "9223372036854775808"], ["--threshold", "nan"],
                    ["--threshold", "inf"], ["--threshold", "-1e999"]] {
            CLITests.expectFailure(try CLITests.run(["identify", store, "people"] + bad + probes, in: directory), "\(bad)")
        }
        for bad in [["--check-interval", "0"], ["--check-interval", "1e300"], ["--check-interval", "-1"]] {
            CLITests.expectFailure(try CLITests.run(["collections", store, "--shared"] + bad, in: directory), "\(bad)")
        }
        CLITests.expectFailure(try CLITests.run(["demo", "--faceprints", "9223372036854775807"], in: directory), "demo size")
    }

    /// A path that holds no store is "no store" (exit 1) for verify too, not a damaged store.
    @Test func verifyOfNoStoreIsNotDamage() throws {
        let directory = try CLITests.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createSymbolicLink(atPath: directory + "/loop", withDestinationPath: directory + "/loop")
        try FileManager.default.createDirectory(atPath: directory + "/empty", withIntermediateDirectories: false)
        for path in [directory + "/missing", directory + "/loop", directory + "/empty", "/etc"] {
            let output = try CLITests.run(["verify", path], in: directory)
            CLITests.expectFailure(output, "verify \(path)")
            #expect(output.status == 1 && output.stderr.contains("no Lineup store"), "\(path): \(output.stderr)")
        }
        // A store missing its manifest is damaged, not absent.
        let store = directory + "/store"
        CLITests.expectSuccess(try CLITests.run(["create", store, "people"], in: directory), "create")
        try FileManager.default.removeItem(atPath: store + "/MANIFEST")
        let output = try CLITests.run(["verify", store], in: directory)
        #expect(output.status == 2 && output.stdout.contains("damaged: MANIFEST"), "\(output)")
    }
}
