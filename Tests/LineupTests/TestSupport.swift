import Foundation
import Synchronization
import Testing
@testable import Lineup

// Shared helpers for the test suite: a seeded generator, synthetic vectors, a fresh SDK over the
// process's in-memory database, and error assertions.

extension SeededGenerator {
    /// A standard normal sample.
    mutating func gaussian() -> Float { Float(standardNormal()) }

    /// A random vector with Gaussian components (not normalised), never all zero.
    mutating func vector(_ dimension: Int) -> [Float] {
        while true {
            let v = (0..<dimension).map { _ in gaussian() }
            if v.contains(where: { $0 != 0 }) { return v }
        }
    }

    /// A random Faceprint of the default model.
    mutating func faceprint(_ dimension: Int, model: String = "TFV5_2") -> Faceprint {
        Faceprint(featureVector: vector(dimension), modelName: model)
    }
}

/// Cosine similarity in double precision: the reference the engine's answers are held to.
func cosine(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var dot = 0.0, na = 0.0, nb = 0.0
    for i in a.indices {
        dot += Double(a[i]) * Double(b[i])
        na += Double(a[i]) * Double(a[i])
        nb += Double(b[i]) * Double(b[i])
    }
    return dot / (na.squareRoot() * nb.squareRoot())
}

/// A vector whose cosine with the unit vector e₀ is exactly-ish `similarity` (dimension ≥ 2).
func vector(withCosine similarity: Double, dimension: Int) -> [Float] {
    var v = [Float](repeating: 0, count: dimension)
    v[0] = Float(similarity)
    v[1] = Float((1 - similarity * similarity).squareRoot())
    return v
}

/// The unit vector along axis `axis`.
func axis(_ axis: Int, dimension: Int) -> [Float] {
    var v = [Float](repeating: 0, count: dimension)
    v[axis] = 1
    return v
}

/// Options for an SDK over the in-memory database.
func memoryOptions(model: String = "TFV5_2", compression: VectorCompression = .none) -> ConfigurationOptions {
    var options = ConfigurationOptions()
    options.dbms = .none
    options.frModel = model
    options.vectorCompression = compression
    return options
}

/// A `.none` SDK on a fresh process connection over an empty in-memory database.
///
/// Use only inside the serialized ``SDKTests`` suite: the connection and the memory database
/// are process-wide.
func freshSDK(model: String = "TFV5_2", compression: VectorCompression = .none) throws -> SDK {
    ProcessConnection.resetForTesting()
    let sdk = SDK(options: memoryOptions(model: model, compression: compression))
    try sdk.createDatabaseConnection("")
    for name in try sdk.getCollectionNames() {
        try sdk.deleteCollection(name)
    }
    #expect(try sdk.getCollectionNames().isEmpty)
    return sdk
}

/// Expects `body` to throw a ``LineupError`` with `code`.
func expectError<T>(_ code: ErrorCode, _ comment: Comment? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () throws -> T) {
    do {
        let value = try body()
        Issue.record("expected \(code.name), but the call returned \(value)\(comment.map { " (\($0))" } ?? "")",
                     sourceLocation: sourceLocation)
    } catch let error as LineupError {
        #expect(error.code == code, "expected \(code.name), got \(error)\(comment.map { " (\($0))" } ?? "")",
                sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected LineupError \(code.name), got \(type(of: error)): \(error)",
                     sourceLocation: sourceLocation)
    }
}

/// The error a call throws, or `nil`.
func lineupError<T>(_ body: () throws -> T) -> LineupError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? LineupError
    }
}

extension String {
    /// `count` copies of `unit`.
    static func repeating(_ unit: String, _ count: Int) -> String {
        String(repeating: unit, count: count)
    }
}

/// Whether `s` is a lowercase 8-4-4-4-12 hex UUID string.
func isLowercaseUUIDString(_ s: String) -> Bool {
    let bytes = Array(s.utf8)
    guard bytes.count == 36 else { return false }
    for (i, b) in bytes.enumerated() {
        if [8, 13, 18, 23].contains(i) {
            if b != UInt8(ascii: "-") { return false }
        } else if !((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66)) {
            return false
        }
    }
    return true
}

/// A value behind a lock, to collect results from concurrent workers.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<R: Sendable>(_ body: (inout Value) throws -> R) rethrows -> R {
        try mutex.withLock { try body(&$0) }
    }

    var value: Value { mutex.withLock { $0 } }
}

/// An SDK on a fresh process connection to the process's memory database (`.none`). The
/// memory database outlives connections: collections of earlier tests may be there.
func memorySDK() throws -> SDK {
    ProcessConnection.resetForTesting()
    var options = ConfigurationOptions()
    options.dbms = .none
    let sdk = SDK(options: options)
    try sdk.createDatabaseConnection("")
    return sdk
}
