// lineup-bench: timed operations on a Lineup store, each printing one JSON object.
//
//   lineup-bench import  STORE COLLECTION VECTORS.npy IDENTITIES.txt [--compression none|fp16|int8]
//   lineup-bench enroll  STORE COLLECTION --threads T --count N --dimension D
//   lineup-bench open-probe STORE COLLECTION PROBES.npy
//
// Times come from the monotonic clock around the operation alone (not process start-up or
// reading input files).
import Foundation
import Lineup

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

func connect(_ store: String, compression: VectorCompression = .none) throws -> SDK {
    var options = ConfigurationOptions()
    options.dbms = .file
    options.vectorCompression = compression
    let sdk = SDK(options: options)
    try sdk.createDatabaseConnection(store)
    return sdk
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
        var generator = SystemRandomNumberGenerator()
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

    default:
        fail("unknown command \(command)")
    }
} catch let error as LineupError {
    fail(error.description)
} catch {
    fail("\(error)")
}
