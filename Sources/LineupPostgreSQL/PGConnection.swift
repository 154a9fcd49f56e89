#if PostgreSQL
import CLibPQ
import Foundation
import Lineup

/// A statement parameter: text (sent in PostgreSQL's text form) or bytes (sent binary, for
/// `bytea` columns). Parameters are always sent apart from the statement (`PQexecParams`), so
/// collection names and identities are data, never SQL.
enum PGParameter {
    case text(String)
    case bytes([UInt8])

    static func int(_ value: Int64) -> PGParameter { .text(String(value)) }
}

/// One libpq connection.
///
/// Not thread-safe: its owner serialises every use. Results come back in binary form
/// (integers big-endian, `uuid` as 16 bytes, `text` and `bytea` as their bytes).
final class PGConnection: @unchecked Sendable {
    private var handle: OpaquePointer?

    /// Connects with a conninfo string (or a `postgresql://` URI).
    ///
    /// - Throws: `databaseConnectionError` with libpq's reason when the server cannot be reached
    ///   or refuses the connection.
    init(conninfo: String) throws {
        handle = PQconnectdb(conninfo)
        try checkConnected()
    }

    /// Connects to `database` with the other parameters of `conninfo` (the first `dbname` of
    /// libpq's keyword list is expanded as a connection string; the second overrides it).
    init(conninfo: String, database: String) throws {
        let keywords = ["dbname", "dbname"], values = [conninfo, database]
        handle = PGConnection.withCStrings(keywords) { keywordPointers in
            PGConnection.withCStrings(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        try checkConnected()
    }

    deinit { if let handle { PQfinish(handle) } }

    private func checkConnected() throws {
        // The server's notices (and a shutdown's FATAL message) are not printed: errors reach
        // the caller as LineupErrors.
        if let handle { _ = PQsetNoticeProcessor(handle, { _, _ in }, nil) }
        guard PQstatus(handle) == CONNECTION_OK else {
            let reason = lastMessage
            PQfinish(handle)
            handle = nil
            throw LineupError(.databaseConnectionError, "cannot connect to the PostgreSQL server: \(reason)")
        }
    }

    /// libpq's last error message for this connection, on one line.
    var lastMessage: String {
        guard let handle, let text = PQerrorMessage(handle) else { return "no connection" }
        return PGConnection.oneLine(String(cString: text))
    }

    /// Whether the connection is up, as far as libpq knows without a round trip. Input the
    /// server sent while the connection sat idle (a shutdown notice, notifications) is read
    /// first, so a server restart is noticed here rather than by the next statement.
    var isHealthy: Bool {
        guard let handle else { return false }
        if PQconsumeInput(handle) == 0 { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Re-establishes a broken connection with the same parameters.
    ///
    /// - Throws: `databaseConnectionError` when the server is still unreachable.
    func reset() throws {
        guard let handle else { throw LineupError(.databaseConnectionError, "the PostgreSQL connection is closed") }
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw LineupError(.databaseConnectionError, "the connection to the PostgreSQL server is lost and cannot be re-established: \(lastMessage)")
        }
    }

    /// The socket, to wait for notifications on; -1 when closed.
    var socket: Int32 { handle.map { PQsocket($0) } ?? -1 }

    /// Runs one statement with `parameters` ($1, $2, …) and returns its rows (binary form).
    ///
    /// - Throws: `databaseConnectionError` when the connection is lost; otherwise a
    ///   ``PGError`` naming the server's SQLSTATE, for the caller to map.
    @discardableResult
    func execute(_ sql: String, _ parameters: [PGParameter] = []) throws -> PGResult {
        guard let handle else { throw LineupError(.databaseConnectionError, "the PostgreSQL connection is closed") }
        var buffers: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        defer { for buffer in buffers { buffer?.deallocate() } }
        for parameter in parameters {
            let bytes: [UInt8]
            switch parameter {
            case .text(let text):
                bytes = Array(text.utf8) + [0]
                formats.append(0)
            case .bytes(let raw):
                bytes = raw
                formats.append(1)
            }
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBufferPointer { source in
                if let base = source.baseAddress {
                    UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: source.count)
                }
            }
            buffers.append(buffer)
            lengths.append(Int32(bytes.count))
        }
        let result = buffers.withUnsafeBufferPointer { values in
            values.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(values.count, 1)) { valuePointer in
                PQexecParams(handle, sql, Int32(parameters.count), nil,
                             parameters.isEmpty ? nil : valuePointer, lengths, formats, 1)
            }
        }
        guard let result else {
            throw LineupError(.databaseConnectionError, "the PostgreSQL server did not answer: \(lastMessage)")
        }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            let message = PQresultErrorMessage(result).map { PGConnection.oneLine(String(cString: $0)) } ?? ""
            PQclear(result)
            if PQstatus(handle) != CONNECTION_OK || state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03" {
                throw LineupError(.databaseConnectionError,
                                  "the connection to the PostgreSQL server was lost: \(message.isEmpty ? lastMessage : message)")
            }
            throw PGError(sqlState: state, message: message)
        }
        return PGResult(result)
    }

    /// Runs several statements without parameters (schema creation, transaction control).
    func executeScript(_ sql: String) throws {
        guard let handle else { throw LineupError(.databaseConnectionError, "the PostgreSQL connection is closed") }
        guard let result = PQexec(handle, sql) else {
            throw LineupError(.databaseConnectionError, "the PostgreSQL server did not answer: \(lastMessage)")
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            if PQstatus(handle) != CONNECTION_OK || state.hasPrefix("08") || state.hasPrefix("57P") {
                throw LineupError(.databaseConnectionError, "the connection to the PostgreSQL server was lost: \(lastMessage)")
            }
            throw PGError(sqlState: state, message: PQresultErrorMessage(result).map { PGConnection.oneLine(String(cString: $0)) } ?? "")
        }
    }

    /// Notifications received so far, as (channel, payload); reads what the socket holds first.
    ///
    /// - Throws: `databaseConnectionError` when the connection is lost.
    func notifications() throws -> [(channel: String, payload: String)] {
        guard let handle, PQconsumeInput(handle) != 0 else {
            throw LineupError(.databaseConnectionError, "the connection to the PostgreSQL server was lost: \(lastMessage)")
        }
        var received: [(channel: String, payload: String)] = []
        while let notify = PQnotifies(handle) {
            received.append((String(cString: notify.pointee.relname), String(cString: notify.pointee.extra)))
            PQfreemem(notify)
        }
        return received
    }

    /// `identifier` quoted for SQL (for the one statement that cannot take a parameter:
    /// `CREATE DATABASE`).
    func quotedIdentifier(_ identifier: String) throws -> String {
        guard let handle, let quoted = PQescapeIdentifier(handle, identifier, identifier.utf8.count) else {
            throw LineupError(.databaseConnectionError, "cannot quote the database name: \(lastMessage)")
        }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    /// The value of `keyword` in a conninfo string (or URI), or nil when it is not given.
    static func conninfoValue(_ conninfo: String, _ keyword: String) -> String? {
        guard let options = PQconninfoParse(conninfo, nil) else { return nil }
        defer { PQconninfoFree(options) }
        var option = options
        while let name = option.pointee.keyword {
            if String(cString: name) == keyword { return option.pointee.val.map { String(cString: $0) } }
            option += 1
        }
        return nil
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
        defer { for copy in copies { free(copy) } }
        return copies.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { body($0) }
        }
    }
}

/// A statement the server refused, with its SQLSTATE (PostgreSQL's error code).
struct PGError: Error {
    var sqlState: String
    var message: String
}

/// The rows of one statement, in binary form. Freed when released.
final class PGResult: @unchecked Sendable {
    private let result: OpaquePointer

    init(_ result: OpaquePointer) { self.result = result }
    deinit { PQclear(result) }

    var rowCount: Int { Int(PQntuples(result)) }

    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(result, Int32(row), Int32(column)) != 0 }

    /// The raw bytes of a value.
    func withBytes<R>(_ row: Int, _ column: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        let pointer = PQgetvalue(result, Int32(row), Int32(column))
        return body(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    func bytes(_ row: Int, _ column: Int) -> [UInt8] { withBytes(row, column) { Array($0) } }

    func text(_ row: Int, _ column: Int) -> String {
        withBytes(row, column) { String(decoding: $0, as: UTF8.self) }
    }

    /// A `bigint`, `integer` or `smallint` value (big-endian in binary form).
    func int(_ row: Int, _ column: Int) -> Int64 {
        withBytes(row, column) { raw in
            var value: Int64 = 0
            for byte in raw { value = (value << 8) | Int64(byte) }
            switch raw.count {
            case 2: return Int64(Int16(truncatingIfNeeded: value))
            case 4: return Int64(Int32(truncatingIfNeeded: value))
            default: return value
            }
        }
    }

    /// A `real` value.
    func float(_ row: Int, _ column: Int) -> Float {
        Float(bitPattern: UInt32(truncatingIfNeeded: int(row, column)))
    }

    /// A `uuid` value as its two big-endian words.
    func uuidWords(_ row: Int, _ column: Int) -> (high: UInt64, low: UInt64) {
        withBytes(row, column) { raw in
            var high: UInt64 = 0, low: UInt64 = 0
            for index in 0..<8 { high = (high << 8) | UInt64(raw[index]) }
            for index in 8..<16 { low = (low << 8) | UInt64(raw[index]) }
            return (high, low)
        }
    }
}
#endif
