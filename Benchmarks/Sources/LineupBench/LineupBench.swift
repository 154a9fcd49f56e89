// lineup-bench: timed operations on a Lineup store, each printing one JSON object.
//
//   lineup-bench import  STORE COLLECTION VECTORS.npy IDENTITIES.txt [--compression none|fp16|int8]
//   lineup-bench enroll  STORE COLLECTION --threads T --count N --dimension D [--shared]
//   lineup-bench open-probe STORE COLLECTION PROBES.npy
//   lineup-bench probe   STORE COLLECTION PROBES.npy [--repeat N] [--batch B]
//   lineup-bench bandwidth --megabytes M --threads T
//   lineup-bench compact STORE COLLECTION PROBES.npy [--remove-every K]
//   lineup-bench load    STORE COLLECTION PROBES.npy --clients C --seconds S [--top K] [--threshold T] [--batch B]
//
// Times come from the monotonic clock around the operation alone (not process start-up or
// reading input files). Stores open encrypted when LINEUP_PASSPHRASE is set; --shared
// (import, enroll, open-probe, probe) opens them in shared mode.
import ArgumentParser
import Foundation
import Lineup

@main
struct LineupBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineup-bench",
        abstract: "Timed operations on a Lineup store, each printing one JSON object.",
        subcommands: [ImportOperation.self, EnrollOperation.self, OpenProbeOperation.self, ProbeOperation.self,
                      BandwidthOperation.self, CompactOperation.self, CalibrateOperation.self,
                      CodedOperation.self, LoadOperation.self])

    /// Parses the arguments and runs the operation. A ``LineupError`` prints one `error:` line
    /// and exits with status 1; usage mistakes and help are the argument parser's.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as LineupError {
            fail(error.description)
        } catch {
            exit(withError: error)
        }
    }
}

/// The store and collection every store operation names first.
struct StoreArguments: ParsableArguments {
    @Argument(help: "The store's path.") var store: String
    @Argument(help: "The collection.") var collection: String
}

/// `--shared`: open the store in shared mode.
struct SharedFlag: ParsableArguments {
    @Flag(name: .customLong("shared"), help: "Open the store in shared mode.") var shared = false
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let parts = (ContinuousClock.now - start).components
    return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
}

/// Prints `values` as one JSON object, keys sorted: the line the harnesses read.
func report(_ values: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: values, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// Connects to `store`; with `LINEUP_PASSPHRASE` set, as an encrypted store; `shared`, in
/// shared mode.
func connect(_ store: String, shared: Bool, compression: VectorCompression = .none) throws -> SDK {
    var options = ConfigurationOptions()
    options.dbms = shared ? .shared : .file
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
