#if PostgreSQL
import CLibPQ
import Foundation
import Lineup
import Synchronization

/// The PostgreSQL backend (`DatabaseManagementSystem.postgresql`): collections live in a
/// PostgreSQL database that many processes, on many machines, share.
///
/// Each process keeps every collection it loads in memory, in the same ``Gallery`` the
/// matcher scans for the other backends. A change (enrollment, removal) is one transaction on
/// the server that numbers it within its collection (`last_seq`, with the collection's row
/// locked, so numbers commit in order) and sends `NOTIFY lineup_changes` with
/// `collection-id:number`. Every process listens on that channel on a second connection and
/// applies what it has not seen yet — rows with a number above the last one it applied — so
/// nothing is missed however notifications are lost (a reconnect, a restart). Besides the
/// notifications, it asks for each loaded collection's number every `notificationCheckInterval`
/// seconds (`DB_NOTIFICATION_CHECK_FREQUENCY`, default 30): the polling fallback.
///
/// POSTGRESQL.md documents the schema.
///
/// Thread safety: every method may be called from any thread. Statements of one process go
/// through one connection, one at a time; identification never touches the server.
/// Durability: a change is committed on the server when the call returns.
final class PostgresBackend: StorageBackend, @unchecked Sendable {
    /// The schema version this code writes and reads (it upgrades a version-1 database on its
    /// first writable connection, and reads one as it is on a read-only connection).
    static let schemaVersion: Int64 = 2
    /// The channel changes are announced on.
    static let channel = "lineup_changes"

    let conninfo: String
    let checkInterval: Double
    let readOnly: Bool
    /// The database's schema has the column `curve` (version 2): calibrations can be stored
    /// and read. A read-only connection to a version-1 database reads every collection as
    /// never calibrated.
    let storesCurves: Bool

    /// The connection every API call uses, one statement (or transaction) at a time.
    private let main: Mutex<PGConnection?>
    /// Loaded collections by collection id: the ones the listener keeps up to date.
    private let loaded = Mutex<[Int64: PostgresCollection]>([:])
    private let closed = Atomic<Bool>(false)
    private let listenerDone = DispatchSemaphore(value: 0)
    /// Written to wake the listener when the backend closes.
    private let wakePipe: (read: Int32, write: Int32)

    /// What is stored is encrypted (`encryptionKey`): POSTGRESQL.md, "Encryption".
    let cipher: PostgresCipher?
    var isEncrypted: Bool { cipher != nil }
    var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Connects, creating the database when it does not exist (through the server's
    /// maintenance database `postgres`; not when the environment variable `HOSTED_DATABASE` is
    /// set) and the schema on first use, then starts listening for other processes' changes.
    ///
    /// - Throws: `databaseConnectionError` when the server cannot be reached or the database
    ///   cannot be created; `wrongEncryptionKey` for a missing, superfluous or wrong key;
    ///   `unsupportedFormatVersion` for a schema newer than this code.
    init(conninfo: String, options: ConfigurationOptions) throws {
        if options.encryptionKey?.isEmpty == true { throw LineupError(.invalidArgument, "the encryption key is empty") }
        self.conninfo = conninfo
        self.checkInterval = try options.resolvedNotificationCheckInterval()
        self.readOnly = options.readOnly
        let connection = try PostgresBackend.connectCreatingDatabase(conninfo)
        storesCurves = try PostgresBackend.prepareSchema(connection, readOnly: options.readOnly) >= 2
        cipher = try PostgresBackend.openKey(connection, passphrase: options.encryptionKey, readOnly: options.readOnly)
        main = Mutex(connection)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw LineupError(.ioError, "cannot create a pipe", errno: errno) }
        wakePipe = (fds[0], fds[1])
        let thread = Thread { [unowned self] in self.listen() }
        thread.name = "lineup.postgresql-listener"
        thread.start()
    }

    // MARK: Connecting

    private static func connectCreatingDatabase(_ conninfo: String) throws -> PGConnection {
        do {
            return try PGConnection(conninfo: conninfo)
        } catch let error as LineupError where error.message.contains("does not exist") && error.message.contains("database") {
            guard ProcessInfo.processInfo.environment["HOSTED_DATABASE"] == nil,
                  let database = PGConnection.conninfoValue(conninfo, "dbname"), !database.isEmpty else { throw error }
            let maintenance = try PGConnection(conninfo: conninfo, database: "postgres")
            do {
                try maintenance.execute("CREATE DATABASE \(try maintenance.quotedIdentifier(database)) ENCODING 'UTF8' TEMPLATE template0")
            } catch let refused as PGError where refused.sqlState == "42P04" {
                // Another process created it first.
            } catch let refused as PGError {
                throw LineupError(.databaseConnectionError, "cannot create the database: \(refused.message)")
            }
            return try PGConnection(conninfo: conninfo)
        }
    }

    /// Creates the schema when the database has none, or upgrades an older one when the
    /// connection may write (under an advisory lock, so that processes starting together do it
    /// once), checks its version and returns it.
    private static func prepareSchema(_ connection: PGConnection, readOnly: Bool) throws -> Int64 {
        do {
            try connection.executeScript("SET client_encoding TO 'UTF8'")
            let present = "SELECT to_regclass('lineup_schema') IS NOT NULL"
            if !(try connection.execute(present).withBytes(0, 0) { $0.first == 1 }) {
                guard !readOnly else {
                    throw LineupError(.readOnly, "the database has no Lineup schema and the connection is read-only")
                }
                try connection.executeScript("BEGIN; SELECT pg_advisory_xact_lock(\(PostgresSchema.advisoryLock))")
                // Another process may have created it while this one waited for the lock.
                if !(try connection.execute(present).withBytes(0, 0) { $0.first == 1 }) {
                    try connection.executeScript(PostgresSchema.version1)
                    try connection.executeScript(PostgresSchema.upgradeTo2)
                }
                try connection.executeScript("COMMIT")
            }
            var found = try version(connection)
            if found < schemaVersion && !readOnly {
                try connection.executeScript("BEGIN; SELECT pg_advisory_xact_lock(\(PostgresSchema.advisoryLock))")
                if try version(connection) == 1 { try connection.executeScript(PostgresSchema.upgradeTo2) }
                try connection.executeScript("COMMIT")
                found = try version(connection)
            }
            return found
        } catch let error as PGError {
            _ = try? connection.executeScript("ROLLBACK")
            throw LineupError(.databaseConnectionError, "cannot prepare the Lineup schema: \(error.message)")
        }
    }

    /// The schema version the database records.
    ///
    /// - Throws: `unsupportedFormatVersion` for one newer than this code; `corruptStore` for none.
    private static func version(_ connection: PGConnection) throws -> Int64 {
        let version = try connection.execute("SELECT max(version) FROM lineup_schema")
        guard version.rowCount == 1, !version.isNull(0, 0) else {
            throw LineupError(.corruptStore, "the table lineup_schema holds no version")
        }
        let found = version.int(0, 0)
        guard found <= schemaVersion else {
            throw LineupError(.unsupportedFormatVersion,
                              "the database's Lineup schema is version \(found); this build reads up to version \(schemaVersion)")
        }
        return found
    }

    /// The database's encryption: the data key wrapped in `lineup_keys` (made on the first
    /// encrypted connection to a database that holds no Faceprint yet).
    ///
    /// - Throws: `wrongEncryptionKey` without a passphrase for an encrypted database, with one
    ///   for a database that holds plaintext Faceprints, or with a wrong one.
    private static func openKey(_ connection: PGConnection, passphrase: String?, readOnly: Bool) throws -> PostgresCipher? {
        do {
            if !readOnly {
                try connection.executeScript("CREATE TABLE IF NOT EXISTS lineup_keys (id integer PRIMARY KEY, key bytea NOT NULL)")
            }
            let exists = try connection.execute("SELECT to_regclass('lineup_keys') IS NOT NULL").withBytes(0, 0) { $0.first == 1 }
            var stored = exists ? try connection.execute("SELECT key FROM lineup_keys WHERE id = 1") : nil
            if stored?.rowCount ?? 0 == 0 {
                guard let passphrase else { return nil }
                let plaintext = try connection.execute("SELECT EXISTS (SELECT 1 FROM lineup_faceprints)").withBytes(0, 0) { $0.first == 1 }
                guard !plaintext else {
                    throw LineupError(.wrongEncryptionKey, "the database holds Faceprints that are not encrypted, and a key was given")
                }
                guard !readOnly else { throw LineupError(.readOnly, "the database has no key yet and the connection is read-only") }
                let (file, _) = try StoreCipher.newWrappedKey(passphrase: passphrase)
                try connection.execute("INSERT INTO lineup_keys VALUES (1, $1) ON CONFLICT (id) DO NOTHING", [.bytes(file)])
                stored = try connection.execute("SELECT key FROM lineup_keys WHERE id = 1")   // another process's, if it won
            }
            guard let passphrase else {
                throw LineupError(.wrongEncryptionKey, "the database is encrypted; give its passphrase")
            }
            let key = try StoreCipher.unwrapKey(stored!.bytes(0, 0), passphrase: passphrase)
            return try PostgresCipher(dataKey: key)
        } catch let error as PGError {
            throw LineupError(.databaseConnectionError, "cannot read the database's key: \(error.message)")
        }
    }

    /// Runs `body` with the main connection, re-established first when the server dropped it
    /// (a restart) while it sat idle. Server errors come back as `LineupError`s.
    func withConnection<R>(_ body: (PGConnection) throws -> R) throws -> R {
        guard !isClosed else { throw LineupError(.databaseNotConnected, "the PostgreSQL connection was closed") }
        return try main.withLock { connection in
            guard let connection else { throw LineupError(.databaseNotConnected, "the PostgreSQL connection was closed") }
            if !connection.isHealthy { try connection.reset() }
            do {
                return try body(connection)
            } catch let error as PGError {
                throw PostgresBackend.lineupError(error)
            }
        }
    }

    /// Runs `body` in a transaction (rolled back when it throws).
    func inTransaction<R>(_ connection: PGConnection, readOnly: Bool = false, _ body: () throws -> R) throws -> R {
        try connection.executeScript(readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN")
        do {
            let result = try body()
            try connection.executeScript("COMMIT")
            return result
        } catch {
            _ = try? connection.executeScript("ROLLBACK")
            throw error
        }
    }

    /// The SDK's error for a statement the server refused. The functions of the schema raise
    /// their own SQLSTATEs (class `LU`).
    static func lineupError(_ error: PGError) -> LineupError {
        switch error.sqlState {
        case "LU001": return LineupError(.enrollmentError, error.message)
        case "LU002": return LineupError(.noRecordFound, error.message)
        case "LU003": return LineupError(.noCollectionFound, "the collection was deleted")
        case "23505": return LineupError(.enrollmentError, "UUID collision; enroll again")
        case "25006": return LineupError(.readOnly, "the PostgreSQL session is read-only: \(error.message)")
        default: return LineupError(.ioError, "the PostgreSQL server refused a statement (SQLSTATE \(error.sqlState)): \(error.message)")
        }
    }

    private func checkWritable() throws {
        if readOnly { throw LineupError(.readOnly, "the connection is read-only") }
    }

    // MARK: StorageBackend

    func collectionNames() throws -> [String] {
        try withConnection { connection in
            let rows = try connection.execute("SELECT name FROM lineup_collections")
            return (0..<rows.rowCount).map { ExactText(rows.text($0, 0)) }.sorted().map(\.string)
        }
    }

    func collectionExists(_ name: String) throws -> Bool {
        try withConnection { connection in
            try connection.execute("SELECT 1 FROM lineup_collections WHERE name = $1", [.text(name)]).rowCount == 1
        }
    }

    func createCollection(_ name: String, settings: CollectionSettings) throws {
        try checkWritable()
        _ = try withConnection { connection in
            try connection.execute("""
                INSERT INTO lineup_collections (name, model, compression) VALUES ($1, $2, $3)
                ON CONFLICT (name) DO NOTHING
                """, [.text(name), .text(settings.modelName), .text(settings.compression.rawValue)])
        }
    }

    func deleteCollection(_ name: String) throws {
        try checkWritable()
        let deleted = try withConnection { connection in
            let rows = try connection.execute("""
                WITH deleted AS (DELETE FROM lineup_collections WHERE name = $1 RETURNING id)
                SELECT id, pg_notify('\(PostgresBackend.channel)', id || ':0') FROM deleted
                """, [.text(name)])
            return rows.rowCount == 1 ? rows.int(0, 0) : nil
        }
        guard let deleted else { throw LineupError.noCollection(name) }
        let collection = loaded.withLock { $0.removeValue(forKey: deleted) }
        collection?.gallery.drop()
    }

    func loadCollection(_ name: String) throws -> any CollectionStore {
        let collection = try withConnection { connection in
            try PostgresCollection.load(name, backend: self, connection: connection)
        }
        let replaced = loaded.withLock { loaded in
            let replaced = loaded[collection.id]
            loaded[collection.id] = collection
            return replaced
        }
        _ = replaced
        return collection
    }

    func metadata(of name: String) throws -> CollectionMetadata {
        try withConnection { connection in
            let rows = try connection.execute("""
                SELECT c.model, c.compression, c.dimension, count(f.uuid), count(DISTINCT f.identity)
                FROM lineup_collections c
                LEFT JOIN lineup_faceprints f ON f.collection_id = c.id AND f.removed_seq IS NULL
                WHERE c.name = $1 GROUP BY c.id
                """, [.text(name)])
            guard rows.rowCount == 1 else { throw LineupError.noCollection(name) }
            let settings = try PostgresBackend.settings(model: rows.text(0, 0), compression: rows.text(0, 1))
            return CollectionMetadata(collectionName: name, encrypted: isEncrypted,
                                      featureVectorSizeBytes: Int(rows.int(0, 2)) * settings.compression.bytesPerDimension,
                                      modelName: settings.modelName, modelOptions: settings.modelOptionsJSON,
                                      numFaceprints: Int(rows.int(0, 3)), numIdentities: Int(rows.int(0, 4)))
        }
    }

    func identities(of name: String) throws -> [String: String] {
        try withConnection { connection in
            let rows = try connection.execute("""
                SELECT f.uuid, f.identity, f.vector, c.id, c.compression FROM lineup_collections c
                LEFT JOIN lineup_faceprints f ON f.collection_id = c.id AND f.removed_seq IS NULL
                WHERE c.name = $1
                """, [.text(name)])
            guard rows.rowCount > 0 else { throw LineupError.noCollection(name) }
            var result: [String: String] = [:]
            result.reserveCapacity(rows.rowCount)
            for row in 0..<rows.rowCount where !rows.isNull(row, 0) {
                let words = rows.uuidWords(row, 0)
                if let cipher {
                    let compression = try PostgresBackend.settings(model: "M", compression: rows.text(row, 4)).compression
                    let entry = try cipher.open(rows.bytes(row, 2), token: RecordID(high: words.high, low: words.low),
                                                collection: rows.int(row, 3), compression: compression)
                    result[entry.id.string] = entry.identity
                } else {
                    result[RecordID(high: words.high, low: words.low).string] = rows.text(row, 1)
                }
            }
            return result
        }
    }

    func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
        listenerDone.wait()
        closeDescriptor(wakePipe.read)
        closeDescriptor(wakePipe.write)
        main.withLock { $0 = nil }
        let collections = loaded.withLock { loaded in
            let all = Array(loaded.values)
            loaded.removeAll()
            return all
        }
        _ = collections
    }

    static func settings(model: String, compression: String) throws -> CollectionSettings {
        guard let compression = VectorCompression(rawValue: compression) else {
            throw LineupError(.corruptStore, "a collection records an unknown vector compression \(JSONText.quoted(compression))")
        }
        return CollectionSettings(modelName: model, compression: compression)
    }

    /// Forgets a collection that is gone from the server.
    func forget(_ id: Int64) {
        _ = loaded.withLock { $0.removeValue(forKey: id) }
    }

    // MARK: Following other processes

    /// The listener thread: a second connection that LISTENs on ``channel``. Applies a loaded
    /// collection's changes as soon as a notification names it, and every collection's every
    /// `checkInterval` seconds whatever arrived; after a lost connection, reconnects (every
    /// `min(checkInterval, 1)` seconds) and catches up on everything.
    private func listen() {
        defer { listenerDone.signal() }
        var connection: PGConnection?
        var lastPoll = Date()
        while !isClosed {
            if connection == nil {
                do {
                    let fresh = try PGConnection(conninfo: conninfo)
                    try fresh.executeScript("LISTEN \(PostgresBackend.channel)")
                    connection = fresh
                    try catchUpAll(fresh)
                    lastPoll = Date()
                } catch {
                    if wait(socket: -1, seconds: min(checkInterval, 1)) { return }
                    continue
                }
            }
            guard let current = connection else { continue }
            do {
                // Notifications that arrived while this connection ran the last catch-up's
                // queries are already in libpq's queue, not on the socket: take them before
                // sleeping on the socket, or they would wait for the next poll.
                var named = try collectionsNamed(current)
                if named.isEmpty {
                    let remaining = max(0, checkInterval - Date().timeIntervalSince(lastPoll))
                    if wait(socket: current.socket, seconds: remaining) { return }
                    named = try collectionsNamed(current)
                }
                if Date().timeIntervalSince(lastPoll) >= checkInterval {
                    try catchUpAll(current)
                    lastPoll = Date()
                } else {
                    for id in named {
                        guard let collection = loaded.withLock({ $0[id] }) else { continue }
                        try collection.catchUp(current)
                    }
                }
            } catch {
                connection = nil
            }
        }
    }

    /// The collections named by the notifications `connection` has received.
    private func collectionsNamed(_ connection: PGConnection) throws -> Set<Int64> {
        var named = Set<Int64>()
        for notification in try connection.notifications() where notification.channel == PostgresBackend.channel {
            if let id = notification.payload.split(separator: ":").first.flatMap({ Int64($0) }) { named.insert(id) }
        }
        return named
    }

    /// Catches every loaded collection up through `connection`.
    private func catchUpAll(_ connection: PGConnection) throws {
        for collection in loaded.withLock({ Array($0.values) }) {
            try collection.catchUp(connection)
        }
    }

    /// Waits until `socket` is readable, `seconds` pass or the backend closes (→ true).
    private func wait(socket: Int32, seconds: Double) -> Bool {
        var fds = [pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)]
        if socket >= 0 { fds.append(pollfd(fd: socket, events: Int16(POLLIN), revents: 0)) }
        _ = poll(&fds, nfds_t(fds.count), Int32(min(seconds * 1000, Double(Int32.max)).rounded(.up)))
        return isClosed
    }
}

/// `close(2)`, named apart from ``PostgresBackend/close()``.
private func closeDescriptor(_ descriptor: Int32) {
    _ = Glibc.close(descriptor)
}
#endif
