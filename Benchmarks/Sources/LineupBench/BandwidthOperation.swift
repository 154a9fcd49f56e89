import ArgumentParser
import Foundation

/// `lineup-bench bandwidth`: the machine's read bandwidth, the floor a scan is compared with.
struct BandwidthOperation: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bandwidth",
                                                    abstract: "Read bandwidth of memchr over a buffer, best of 5.")
    @Option(help: "The buffer's size in MiB.") var megabytes = 2048
    @Option(help: "Threads reading it.") var threads = 2

    func run() throws {
        // Read bandwidth: each thread runs the C library's memchr (vectorised, with the
        // hardware's best loads) over its share of a buffer for a byte that is not there.
        // Best of 5.
        let threads = threads
        let bytes = megabytes << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        buffer.initializeMemory(as: UInt8.self, repeating: 1, count: bytes)
        nonisolated(unsafe) let shared = UnsafeRawPointer(buffer)
        let found = ResultBox()
        var best = Double.infinity
        for _ in 0..<5 {
            let start = ContinuousClock.now
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                let begin = bytes / threads * thread
                let end = thread == threads - 1 ? bytes : bytes / threads * (thread + 1)
                if memchr(shared + begin, 0, end - begin) != nil { found.add(1) }
            }
            best = min(best, seconds(since: start))
        }
        buffer.deallocate()
        report(["operation": "bandwidth", "threads": threads, "bytes": bytes,
                "bytes_per_second": Double(bytes) / best, "checksum": found.value])
    }
}

/// Keeps the bandwidth loop's sums alive so the compiler cannot drop the reads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var total: UInt64 = 0
    func add(_ value: UInt64) { lock.withLock { total &+= value } }
    var value: UInt64 { lock.withLock { total } }
}
