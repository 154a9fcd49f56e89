import Foundation
import Testing
@testable import Lineup

/// Shared mode with real processes: two `lineup enroll --shared` writers and a
/// `lineup watch` process on one store; one writer is killed with SIGKILL in the middle of its
/// enrollments (often while it holds the store lock). The other writer carries on, a third
/// one starts after the kill, the watcher follows every change on its own, and every
/// acknowledged enrollment is in the store.
@Suite struct SharedProcessTests {
    /// A running `lineup` process whose standard output lines are collected.
    final class Running: @unchecked Sendable {
        let process = Process()
        let input = Pipe()
        let lines = LockedBox<[String]>([])
        private var reader: Thread?

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: KillTests.executable!)
            process.arguments = arguments
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let lines = self.lines
            let reader = Thread {
                var pending = Data()
                while true {
                    let chunk = output.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: 0x0A) {
                        let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                        pending.removeSubrange(pending.startIndex...newline)
                        lines.mutate { $0.append(line) }
                    }
                }
            }
            reader.start()
            self.reader = reader
        }

        /// Feeds `count` JSON-lines enrollments from a thread (stops quietly if the process dies).
        func feed(_ count: Int, prefix: String, seed: UInt64, close: Bool) {
            let handle = input.fileHandleForWriting
            Thread {
                var generator = SeededGenerator(seed: seed)
                for index in 0..<count {
                    let vector = (0..<16).map { _ in String(Float.random(in: -1...1, using: &generator)) }
                    let line = "{\"identity\":\"\(prefix)-\(index)\",\"feature_vector\":[\(vector.joined(separator: ","))]}\n"
                    do { try handle.write(contentsOf: Data(line.utf8)) } catch { return }
                }
                if close { try? handle.close() }
            }.start()
        }

        func finish() {
            process.waitUntilExit()
            while reader?.isExecuting == true { usleep(1000) }
        }
    }

    @Test func twoWritersAndAWatcherWithAWriterKilled() throws {
        guard KillTests.executable != nil else {
            Issue.record("the lineup executable was not found next to the tests; build it with `swift build`")
            return
        }
        signal(SIGPIPE, SIG_IGN)
        let directory = try TemporaryDirectory()
        let store = directory.path + "/store"
        #expect(try KillTests.run(["create", store, "people"]).status == 0)

        let watcher = try Running(["watch", store, "people", "--check-interval", "0.1", "--timeout", "120"])
        let a = try Running(["enroll", store, "people", "--shared"])
        let b = try Running(["enroll", store, "people", "--shared"])
        a.feed(300, prefix: "a", seed: 1, close: true)
        b.feed(100_000, prefix: "b", seed: 2, close: false)
        // Let both write, then kill B wherever it is.
        var waited = 0
        while b.lines.value.count < 40 && waited < 3_000 {
            usleep(1_000)
            waited += 1
        }
        usleep(UInt32.random(in: 0...20_000))
        kill(b.process.processIdentifier, SIGKILL)
        b.finish()
        try? b.input.fileHandleForWriting.close()
        a.finish()
        #expect(a.process.terminationStatus == 0, "the other writer failed after the kill")
        #expect(a.lines.value.count == 300)
        // A writer started after the kill: it takes the lock the dead one held, cuts what it left.
        let c = try Running(["enroll", store, "people", "--shared"])
        c.feed(50, prefix: "c", seed: 3, close: true)
        c.finish()
        #expect(c.process.terminationStatus == 0)
        #expect(c.lines.value.count == 50)

        let acknowledged = a.lines.value + b.lines.value + c.lines.value
        let identities = try KillTests.run(["identities", store, "people", "--json"])
        let map = try #require(try JSONSerialization.jsonObject(with: Data(identities.output.utf8)) as? [String: String])
        let lost = acknowledged.filter { map[$0] == nil }
        #expect(lost.isEmpty, "\(lost.count) of \(acknowledged.count) acknowledged enrollments lost")
        #expect(map.count <= acknowledged.count + 1, "more in the store than acknowledged plus the one in flight")
        // The watcher received every change on its own.
        waited = 0
        while watcher.lines.value.last.flatMap({ Int($0.split(separator: " ").last ?? "") }) != map.count && waited < 10_000 {
            usleep(1_000)
            waited += 1
        }
        let last = watcher.lines.value.last.flatMap { Int($0.split(separator: " ").last ?? "") }
        #expect(last == map.count, "the watcher saw \(String(describing: last)); the store holds \(map.count)")
        kill(watcher.process.processIdentifier, SIGKILL)
        watcher.finish()
        #expect(try KillTests.run(["verify", store]).status == 0)
    }
}
