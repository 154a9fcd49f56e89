// lineup-bench: timed operations on a Lineup store, each printing one JSON object.
//
//   lineup-bench import  STORE COLLECTION VECTORS.npy IDENTITIES.txt [--compression none|fp16|int8]
//   lineup-bench enroll  STORE COLLECTION --threads T --count N --dimension D [--shared]
//   lineup-bench open-probe STORE COLLECTION PROBES.npy
//   lineup-bench probe   STORE COLLECTION PROBES.npy [--repeat N] [--batch B]
//   lineup-bench bandwidth --megabytes M --threads T
//   lineup-bench compact STORE COLLECTION PROBES.npy [--remove-every K]
//
// Times come from the monotonic clock around the operation alone (not process start-up or
// reading input files).
import Foundation
import Lineup
import Synchronization

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let parts = (ContinuousClock.now - start).components
    return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
}

func option(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func report(_ values: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: values, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// Connects to `store`; with `LINEUP_PASSPHRASE` set, as an encrypted store; with `--shared`
/// among the arguments, in shared mode.
func connect(_ store: String, compression: VectorCompression = .none) throws -> SDK {
    var options = ConfigurationOptions()
    options.dbms = CommandLine.arguments.contains("--shared") ? .shared : .file
    options.vectorCompression = compression
    options.encryptionKey = ProcessInfo.processInfo.environment["LINEUP_PASSPHRASE"]
    let sdk = SDK(options: options)
    try sdk.createDatabaseConnection(store)
    return sdk
}

/// The process's resident memory (VmRSS), where /proc has it.
func residentBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kilobytes * 1024
}

func readMatrix(_ path: String) throws -> NumpyMatrix {
    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
    return try NumpyMatrix(npyBytes: [UInt8](data))
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail("usage: lineup-bench import|enroll|open-probe …") }

do {
    switch command {
    case "import":
        guard arguments.count >= 5 else { fail("usage: lineup-bench import STORE COLLECTION VECTORS.npy IDENTITIES.txt") }
        let compression = VectorCompression(rawValue: option("--compression", in: arguments) ?? "none") ?? .none
        let matrix = try readMatrix(arguments[3])
        let identities = String(decoding: FileManager.default.contents(atPath: arguments[4]) ?? Data(), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        guard identities.count == matrix.rows else { fail("identities and vectors differ in count") }
        let faceprints = (0..<matrix.rows).map { Faceprint(featureVector: Array(matrix.row($0))) }
        let sdk = try connect(arguments[1], compression: compression)
        try sdk.createLoadCollection(arguments[2])
        let start = ContinuousClock.now
        let batch = 262_144   // one segment file a call (Store.importSegmentRows)
        var done = 0
        while done < faceprints.count {
            let end = min(done + batch, faceprints.count)
            _ = try sdk.enrollFaceprints(Array(faceprints[done..<end]), identities: Array(identities[done..<end]),
                                         collectionName: arguments[2])
            done = end
        }
        try sdk.checkpoint()
        let elapsed = seconds(since: start)
        report(["operation": "import", "rows": done, "seconds": elapsed, "rows_per_second": Double(done) / elapsed])

    case "enroll":
        guard arguments.count >= 3 else { fail("usage: lineup-bench enroll STORE COLLECTION --threads T --count N --dimension D") }
        let threads = Int(option("--threads", in: arguments) ?? "1") ?? 1
        let count = Int(option("--count", in: arguments) ?? "1000") ?? 1000
        let dimension = Int(option("--dimension", in: arguments) ?? "512") ?? 512
        let sdk = try connect(arguments[1])
        try sdk.createLoadCollection(arguments[2])
        // Seeded and cheap: the system's generator costs a system call a number, which would
        // compete for the cores with another process's timed enrollments.
        var generator = SeededGenerator(seed: UInt64(getpid()))
        let faceprints = (0..<count).map { _ in
            Faceprint(featureVector: (0..<dimension).map { _ in Float.random(in: -1...1, using: &generator) })
        }
        // Real threads, as many as asked: concurrentPerform would cap them at the core count,
        // and enrollers spend most of their time waiting for the disk, not computing.
        let finished = DispatchGroup()
        let start = ContinuousClock.now
        for thread in 0..<threads {
            finished.enter()
            Thread {
                var index = thread
                while index < count {
                    do {
                        _ = try sdk.enrollFaceprint(faceprints[index], identity: "person-\(index)", collectionName: arguments[2])
                    } catch {
                        fail("\(error)")
                    }
                    index += threads
                }
                finished.leave()
            }.start()
        }
        finished.wait()
        let elapsed = seconds(since: start)
        report(["operation": "enroll", "threads": threads, "count": count, "seconds": elapsed,
                "enrollments_per_second": Double(count) / elapsed])

    case "open-probe":
        guard arguments.count >= 4 else { fail("usage: lineup-bench open-probe STORE COLLECTION PROBES.npy") }
        let probes = try readMatrix(arguments[3])
        let faceprint = Faceprint(featureVector: Array(probes.row(0)))
        let start = ContinuousClock.now
        let sdk = try connect(arguments[1])
        try sdk.loadCollection(arguments[2])
        let opened = seconds(since: start)
        _ = try sdk.identifyTopCandidate(faceprint, collectionName: arguments[2])
        let firstAnswer = seconds(since: start)
        let secondStart = ContinuousClock.now
        _ = try sdk.identifyTopCandidate(faceprint, collectionName: arguments[2])
        let scan = seconds(since: secondStart)
        let faceprints = try sdk.getCollectionMetadata(arguments[2]).numFaceprints
        report(["operation": "open-probe", "faceprints": faceprints, "open_seconds": opened,
                "open_and_first_probe_seconds": firstAnswer, "warm_probe_seconds": scan])

    case "probe":
        // Single-probe latency (median of --repeat runs, each a different probe) and, with
        // --batch B, the time per probe of one batch of B probes.
        guard arguments.count >= 4 else { fail("usage: lineup-bench probe STORE COLLECTION PROBES.npy [--repeat N] [--batch B]") }
        let repeatCount = Int(option("--repeat", in: arguments) ?? "10") ?? 10
        let batchSize = Int(option("--batch", in: arguments) ?? "0") ?? 0
        let probes = try readMatrix(arguments[3])
        let faceprints = (0..<probes.rows).map { Faceprint(featureVector: Array(probes.row($0))) }
        let residentBeforeOpen = residentBytes()
        let sdk = try connect(arguments[1])
        try sdk.loadCollection(arguments[2])
        _ = try sdk.identifyTopCandidate(faceprints[0], collectionName: arguments[2])   // warm the page cache
        var times: [Double] = []
        for index in 0..<repeatCount {
            let start = ContinuousClock.now
            _ = try sdk.identifyTopCandidates(faceprints[index % faceprints.count], numCandidates: 10,
                                              threshold: -1, collectionName: arguments[2])
            times.append(seconds(since: start))
        }
        times.sort()
        var values: [String: Any] = ["operation": "probe", "single_median_seconds": times[times.count / 2],
                                     "single_best_seconds": times[0],
                                     "faceprints": try sdk.getCollectionMetadata(arguments[2]).numFaceprints]
        // Resident memory after a scan: the mapped segments' pages plus the heap (VmRSS), and
        // what the process held before opening the store (runtime, probes), so that the
        // collection's own share can be told from the process's.
        if let after = residentBytes(), let before = residentBeforeOpen {
            values["resident_bytes_after_scan"] = after
            values["resident_bytes_before_open"] = before
        }
        if batchSize > 0 {
            let batch = (0..<batchSize).map { faceprints[$0 % faceprints.count] }
            var best = Double.infinity
            for _ in 0..<2 {
                let start = ContinuousClock.now
                _ = try sdk.batchIdentifyTopCandidates(batch, numCandidates: 10, threshold: -1, collectionName: arguments[2])
                best = min(best, seconds(since: start))
            }
            values["batch"] = batchSize
            values["batch_seconds_per_probe"] = best / Double(batchSize)
        }
        report(values)

    case "compact":
        // Removes every K-th Faceprint (default 2: half), then times an explicit compaction
        // while this thread keeps probing, against probes with no compaction running.
        guard arguments.count >= 4 else { fail("usage: lineup-bench compact STORE COLLECTION PROBES.npy [--remove-every K]") }
        let every = Int(option("--remove-every", in: arguments) ?? "2") ?? 2
        let probes = try readMatrix(arguments[3])
        let faceprints = (0..<probes.rows).map { Faceprint(featureVector: Array(probes.row($0))) }
        func storeBytes() -> Int {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: arguments[1])) ?? []
            return names.reduce(0) { total, name in
                total + (((try? FileManager.default.attributesOfItem(atPath: arguments[1] + "/" + name))?[.size] as? Int) ?? 0)
            }
        }
        // Removals are not what is measured: journal them without an fsync each.
        var options = ConfigurationOptions()
        options.dbms = .file
        options.durability = .processCrash
        options.automaticCompaction = false   // the explicit compaction below is what is timed
        options.encryptionKey = ProcessInfo.processInfo.environment["LINEUP_PASSPHRASE"]
        let sdk = SDK(options: options)
        try sdk.createDatabaseConnection(arguments[1])
        try sdk.loadCollection(arguments[2])
        let uuids = try sdk.getCollectionIdentities(arguments[2]).keys.sorted()
        let removeStart = ContinuousClock.now
        for (index, uuid) in uuids.enumerated() where index % every == 0 {
            try sdk.removeByUUID(uuid, collectionName: arguments[2])
        }
        let removeSeconds = seconds(since: removeStart)
        try sdk.checkpoint()
        let sizeBefore = storeBytes()
        let spaceBefore = try sdk.getCollectionSpace(arguments[2])
        func probeOnce(_ index: Int) throws -> Double {
            let start = ContinuousClock.now
            _ = try sdk.identifyTopCandidates(faceprints[index % faceprints.count], numCandidates: 10, threshold: -1,
                                              collectionName: arguments[2])
            return seconds(since: start)
        }
        _ = try probeOnce(0)
        var idle: [Double] = []
        for index in 0..<15 { idle.append(try probeOnce(index)) }
        idle.sort()
        nonisolated(unsafe) var compaction = CompactionReport()
        nonisolated(unsafe) var compactError: Error?
        let finished = Atomic<Bool>(false)
        let compactStart = ContinuousClock.now
        let thread = Thread {
            do { compaction = try sdk.compact(collectionName: arguments[2]) } catch { compactError = error }
            finished.store(true, ordering: .releasing)
        }
        thread.start()
        var during: [Double] = []
        var index = 0
        while !finished.load(ordering: .acquiring) {
            during.append(try probeOnce(index))
            index += 1
        }
        let compactSeconds = seconds(since: compactStart)
        if let compactError { throw compactError }
        during.sort()
        let spaceAfter = try sdk.getCollectionSpace(arguments[2])
        var values: [String: Any] = ["operation": "compact", "removed": (uuids.count + every - 1) / every]
        values["remove_seconds"] = removeSeconds
        values["compact_seconds"] = compactSeconds
        values["bytes_rewritten"] = compaction.bytesAfter
        values["bytes_replaced"] = compaction.bytesBefore
        values["faceprints_copied"] = compaction.faceprintsCopied
        values["faceprints_erased"] = compaction.faceprintsErased
        values["live_megabytes_per_second"] = Double(compaction.bytesAfter) / 1e6 / compactSeconds
        values["store_bytes_before"] = sizeBefore
        values["store_bytes_after"] = storeBytes()
        values["dead_bytes_before"] = spaceBefore.deadBytes
        values["dead_bytes_after"] = spaceAfter.deadBytes
        values["idle_probe_median_seconds"] = idle[idle.count / 2]
        values["probes_during_compaction"] = during.count
        values["during_probe_median_seconds"] = during.isEmpty ? 0 : during[during.count / 2]
        values["during_probe_worst_seconds"] = during.last ?? 0
        report(values)

    case "bandwidth":
        // Read bandwidth: each thread runs the C library's memchr (vectorised, with the
        // hardware's best loads) over its share of a buffer for a byte that is not there.
        // Best of 5.
        let megabytes = Int(option("--megabytes", in: arguments) ?? "2048") ?? 2048
        let threads = Int(option("--threads", in: arguments) ?? "2") ?? 2
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

    default:
        fail("unknown command \(command)")
    }
} catch let error as LineupError {
    fail(error.description)
} catch {
    fail("\(error)")
}

/// Keeps the bandwidth loop's sums alive so the compiler cannot drop the reads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var total: UInt64 = 0
    func add(_ value: UInt64) { lock.withLock { total &+= value } }
    var value: UInt64 { lock.withLock { total } }
}
