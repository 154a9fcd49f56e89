#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The libFuzzer entry points of `lineup-fuzz`: one binary holding every target, the target
/// chosen by the environment variable `LINEUP_FUZZ_TARGET` (`Fuzz/run` sets it).
///
/// Each target is a function of the input bytes that must return for every input: a decoder
/// may reject bytes (throw), never crash, hang or leak, and whatever it accepts must satisfy
/// the target's checks (``FuzzCheck``). With `LINEUP_FUZZ_SEEDS=DIR` the process writes the
/// target's seed inputs into DIR instead and exits (`Fuzz/run --seeds`).
struct FuzzTarget {
    var name: String
    /// Runs once, before the first input (builds fixtures such as store images).
    var setUp: () throws -> Void = {}
    /// Valid inputs, by file name: what the committed corpus starts from.
    var seeds: () throws -> [String: [UInt8]]
    var run: ([UInt8]) -> Void
}

enum FuzzTargets {
    static let all: [FuzzTarget] = [
        JournalTarget.target, SegmentTarget.target, ManifestTarget.target, EnvelopeTarget.target,
        NpyTarget.target, FaceprintJSONTarget.target, StoreTarget.target,
    ]

    nonisolated(unsafe) static var selected: FuzzTarget?
}

/// A property a target checks of what a decoder accepted: a violation aborts the process, which
/// libFuzzer reports as a crash and saves the input.
func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
               file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        fputs("lineup-fuzz: check failed at \(file):\(line): \(message())\n", stderr)
        abort()
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func lineupFuzzInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> Int32 {
    let environment = ProcessInfo.processInfo.environment
    if environment["LINEUP_FUZZ_LIST"] != nil {
        for target in FuzzTargets.all { print(target.name) }
        exit(0)
    }
    guard let name = environment["LINEUP_FUZZ_TARGET"],
          let target = FuzzTargets.all.first(where: { $0.name == name }) else {
        fputs("lineup-fuzz: set LINEUP_FUZZ_TARGET to one of: \(FuzzTargets.all.map(\.name).joined(separator: " "))\n", stderr)
        exit(2)
    }
    do {
        try target.setUp()
        if let directory = environment["LINEUP_FUZZ_SEEDS"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (file, bytes) in try target.seeds().sorted(by: { $0.key < $1.key }) {
                try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + file))
            }
            exit(0)
        }
    } catch {
        fputs("lineup-fuzz: setting up \(name) failed: \(error)\n", stderr)
        exit(2)
    }
    FuzzTargets.selected = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func lineupFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzTargets.selected!.run(bytes)
    return 0
}
