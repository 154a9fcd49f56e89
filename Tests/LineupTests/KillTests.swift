import Foundation
import Testing
@testable import Lineup

/// kill -9 of a real `lineup enroll` process in the middle of heavy enrollment: every UUID it
/// printed (printed only once durable) is in the store afterwards, and the store verifies
/// clean. `LINEUP_KILL_TRIALS` sets the number of trials (default 3; `make torture`: 300).
@Suite struct KillTests {
    static var executable: String? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("lineup").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        let fallback = FileManager.default.currentDirectoryPath + "/.build/debug/lineup"
        return FileManager.default.isExecutableFile(atPath: fallback) ? fallback : nil
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable!)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func killDuringEnrollmentLosesNothingAcknowledged() throws {
        guard Self.executable != nil else {
            Issue.record("the lineup executable was not found next to the tests; build it with `swift build`")
            return
        }
        // Writing to the killed process's stdin must fail with EPIPE, not kill the test runner.
        signal(SIGPIPE, SIG_IGN)
        let trials = Int(ProcessInfo.processInfo.environment["LINEUP_KILL_TRIALS"] ?? "") ?? 3
        var totalAcknowledged = 0
        for trial in 0..<trials {
            let directory = try TemporaryDirectory()
            let store = directory.path + "/store"
            #expect(try Self.run(["create", store, "people"]).status == 0)

            let writer = try SharedProcessTests.Running(["enroll", store, "people"])
            writer.feed(100_000, prefix: "p", seed: UInt64(trial + 1), close: false)
            let delay = UInt32.random(in: 30_000...250_000)
            usleep(delay)
            kill(writer.process.processIdentifier, SIGKILL)
            writer.finish()
            try? writer.input.fileHandleForWriting.close()

            let acknowledgedIDs = writer.lines.value
            totalAcknowledged += acknowledgedIDs.count
            for id in acknowledgedIDs { #expect(id.count == 36, "trial \(trial): malformed acknowledgement \(id)") }
            let identities = try Self.run(["identities", store, "people", "--json"])
            #expect(identities.status == 0)
            guard let map = try JSONSerialization.jsonObject(with: Data(identities.output.utf8)) as? [String: String] else {
                Issue.record("trial \(trial): identities did not print a JSON object")
                continue
            }
            let lost = acknowledgedIDs.filter { map[$0] == nil }
            #expect(lost.isEmpty, "trial \(trial) (killed after \(delay / 1000) ms): \(lost.count) of \(acknowledgedIDs.count) acknowledged enrollments lost")
            // The store may hold at most the one enrollment in flight beyond the acknowledged.
            #expect(map.count <= acknowledgedIDs.count + 1, "trial \(trial): more in the store than acknowledged plus the one in flight")
            let verify = try Self.run(["verify", store])
            #expect(verify.status == 0, "trial \(trial): verify failed: \(verify.output)")
        }
        #expect(totalAcknowledged > 0, "no enrollment was acknowledged in any trial")
    }
}

/// A value behind a lock, for collecting results across threads.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value { lock.withLock { stored } }

    func mutate(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}
