import Foundation
import Lineup

/// How `lineup serve` listens, whom it lets in and how much it takes on (API.md §3).
public struct ServerConfiguration: Sendable {
    /// The address to listen on: loopback unless told otherwise.
    public var host = "127.0.0.1"
    /// The TCP port; 0 lets the system choose (the "listening on" line tells which).
    public var port = 8080
    /// Bearer tokens that may do everything.
    public var readWriteTokens: [Token] = []
    /// Bearer tokens that may only read and identify.
    public var readOnlyTokens: [Token] = []
    /// PEM files of the certificate chain and its private key: TLS when both are set.
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// The largest request body taken, in bytes; a larger one gets 413 before it is read whole.
    public var maxBodyBytes = 64 << 20
    /// Requests served at once; the next ones get 503 with `Retry-After`.
    public var maxInFlight = 256
    /// Seconds a connection may stay silent (idle, or stalled in the middle of a request)
    /// before it is closed.
    public var idleTimeout: Double = 30
    /// Concurrent single-probe identifications of one collection, with the same `top`,
    /// threshold and `distinct_identities`, are run together as one batch while the previous
    /// batch runs; no request waits for company when the engine is free.
    public var coalesceIdentifications = true
    /// Concurrent single enrollments into one collection are enrolled together, as one
    /// all-or-none batch (one journal record, one flush), while the previous batch is being
    /// made durable; each is answered once its batch is durable.
    public var coalesceEnrollments = true
    /// The most requests one coalesced batch holds.
    public var maxCoalescedBatch = 256
    /// Threads that run engine calls. Enrollments spend most of their time waiting for a disk
    /// flush, and the journal commits the enrollments waiting together as one group: so there
    /// are many more threads than cores (identification is parallel inside the engine, and
    /// coalesced, so it does not use them up).
    public var engineThreads = max(32, 8 * ProcessInfo.processInfo.activeProcessorCount)

    public init() {}

    /// Whether every route but health needs a token.
    var requiresToken: Bool { !readWriteTokens.isEmpty || !readOnlyTokens.isEmpty }
}

/// A bearer token, kept as its bytes. Its description never shows them.
public struct Token: Sendable, CustomStringConvertible {
    let bytes: [UInt8]

    public var description: String { "<token>" }

    /// The tokens of a token file: one a line, blank lines skipped, a line's `\r\n` ending
    /// taken as `\n`. Each is 16 to 4096 characters of RFC 6750's token alphabet
    /// (`A–Z a–z 0–9 - . _ ~ + /`, trailing `=`).
    ///
    /// - Throws: `invalidArgument` for an unreadable or empty file or a malformed token (the
    ///   message names the line, never the token).
    public static func load(file path: String) throws -> [Token] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LineupError(.invalidArgument, "cannot read the token file \(path)")
        }
        var tokens: [Token] = []
        for (index, line) in [UInt8](data).split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            var line = Array(line)
            if line.last == 0x0D { line.removeLast() }
            if line.isEmpty { continue }
            guard (16...4096).contains(line.count), isTokenText(line) else {
                throw LineupError(.invalidArgument,
                                  "line \(index + 1) of the token file \(path) is not a token (16 to 4096 characters of A-Z a-z 0-9 - . _ ~ + / and trailing =)")
            }
            tokens.append(Token(bytes: line))
        }
        guard !tokens.isEmpty else { throw LineupError(.invalidArgument, "the token file \(path) holds no token") }
        return tokens
    }

    private static func isTokenText(_ bytes: [UInt8]) -> Bool {
        var padding = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "="): padding = true
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                if padding { return false }
            default: return false
            }
        }
        return bytes.first != UInt8(ascii: "=")
    }

    /// Whether `candidate` is this token, in time that depends on the lengths only, never on
    /// where the bytes first differ.
    func matches(_ candidate: some Collection<UInt8>) -> Bool {
        var difference = UInt(bitPattern: bytes.count ^ candidate.count)
        var index = 0
        for byte in candidate {
            difference |= UInt(byte ^ bytes[index % bytes.count])
            index += 1
        }
        return difference == 0
    }
}
