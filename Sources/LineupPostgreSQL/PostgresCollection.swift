#if PostgreSQL
import Lineup
import Synchronization

/// A loaded collection of the PostgreSQL backend: the collection's live Faceprints in a
/// ``Gallery``, kept equal to the server's as of change number ``appliedSeq``.
///
/// Writes go to the server first (one function call each, see ``PostgresSchema``); the
/// gallery then applies the change — directly when the server numbered it right after the
/// last one applied, else by catching up on every change above that number (another process
/// wrote in between). Changes of other processes arrive through ``catchUp(_:)``, called by the
/// backend's listener. Identification reads the gallery only.
///
/// Thread safety: every method may be called from any thread; applying changes serialises on
/// one lock, which identification never takes.
final class PostgresCollection: CollectionStore, @unchecked Sendable {
    let name: String
    let settings: CollectionSettings
    /// The collection's row id on the server (a collection deleted and created again under the
    /// same name is another collection).
    let id: Int64
    let gallery: Gallery
    private unowned let backend: PostgresBackend
    /// The last change number applied to the gallery; held while applying.
    private let applied: Mutex<Int64>

    /// Rows fetched at a time while loading.
    static let loadBatchRows = 10_000

    private init(name: String, settings: CollectionSettings, id: Int64, gallery: Gallery,
                 backend: PostgresBackend, appliedSeq: Int64) {
        self.name = name
        self.settings = settings
        self.id = id
        self.gallery = gallery
        self.backend = backend
        self.applied = Mutex(appliedSeq)
    }

    /// Reads the collection `name` and its live Faceprints, in change order, from one snapshot
    /// of the database.
    ///
    /// - Throws: `noCollectionFound` when there is none by that name.
    static func load(_ name: String, backend: PostgresBackend, connection: PGConnection) throws -> PostgresCollection {
        try backend.inTransaction(connection, readOnly: true) {
            let row = try connection.execute("""
                SELECT id, model, compression, dimension, last_seq, \(curveColumn(backend)) FROM lineup_collections WHERE name = $1
                """, [.text(name)])
            guard row.rowCount == 1 else { throw LineupError.noCollection(name) }
            let id = row.int(0, 0)
            let settings = try PostgresBackend.settings(model: row.text(0, 1), compression: row.text(0, 2))
            let gallery = Gallery(settings: settings, dimension: Int(row.int(0, 3)))
            gallery.curve = try curve(row, 5, collection: id, cipher: backend.cipher)
            try connection.execute("""
                DECLARE lineup_load NO SCROLL CURSOR FOR
                SELECT uuid, identity, vector, scale FROM lineup_faceprints
                WHERE collection_id = $1 AND removed_seq IS NULL ORDER BY seq
                """, [.int(id)])
            while true {
                let rows = try connection.execute("FETCH FORWARD \(loadBatchRows) FROM lineup_load")
                if rows.rowCount == 0 { break }
                try gallery.append(enrollments(rows, compression: settings.compression, collection: id, cipher: backend.cipher))
            }
            return PostgresCollection(name: name, settings: settings, id: id, gallery: gallery,
                                      backend: backend, appliedSeq: row.int(0, 4))
        }
    }

    /// The select-list item for a collection's curve: NULL where the schema has none.
    private static func curveColumn(_ backend: PostgresBackend) -> String {
        backend.storesCurves ? "curve" : "NULL::bytea"
    }

    /// The curve in column `column` of the first row, nil for NULL.
    ///
    /// - Throws: `corruptStore` when it does not authenticate or is malformed.
    private static func curve(_ rows: PGResult, _ column: Int, collection: Int64,
                              cipher: PostgresCipher?) throws -> MatchProbability? {
        guard !rows.isNull(0, column) else { return nil }
        let stored = rows.bytes(0, column)
        return try PostgresSchema.curve(try cipher?.openCurve(stored, collection: collection) ?? stored)
    }

    /// The rows' Faceprints (columns uuid, identity, vector, scale) as enrollments; opened
    /// with `cipher` in an encrypted database (the vector column then holds the sealed row).
    private static func enrollments(_ rows: PGResult, compression: VectorCompression, collection: Int64,
                                    cipher: PostgresCipher?, rowIndexes: [Int]? = nil) throws -> [PreparedEnrollment] {
        try (rowIndexes ?? Array(0..<rows.rowCount)).map { row in
            let words = rows.uuidWords(row, 0)
            if let cipher {
                return try cipher.open(rows.bytes(row, 2), token: RecordID(high: words.high, low: words.low),
                                       collection: collection, compression: compression)
            }
            let vector = rows.bytes(row, 2)
            return PreparedEnrollment(id: RecordID(high: words.high, low: words.low), identity: rows.text(row, 1),
                                      vector: EncodedVector(bytes: vector, scale: rows.float(row, 3)),
                                      dimension: vector.count / compression.bytesPerDimension)
        }
    }

    /// Applies every change above ``appliedSeq`` that the server holds, through `connection`.
    /// A collection gone from the server is dropped (writes throw `noCollectionFound`).
    func catchUp(_ connection: PGConnection) throws {
        try applied.withLock { applied in try catchUpLocked(connection, applied: &applied) }
    }

    private func catchUpLocked(_ connection: PGConnection, applied: inout Int64) throws {
        let quick = try connection.execute("SELECT last_seq FROM lineup_collections WHERE id = $1", [.int(id)])
        guard quick.rowCount == 1 else {
            gallery.drop()
            backend.forget(id)
            return
        }
        guard quick.int(0, 0) > applied else { return }
        let seen = applied
        applied = try backend.inTransaction(connection, readOnly: true) {
            let row = try connection.execute("""
                SELECT last_seq, \(PostgresCollection.curveColumn(backend)) FROM lineup_collections WHERE id = $1
                """, [.int(id)])
            guard row.rowCount == 1 else { return seen }
            let curve = try PostgresCollection.curve(row, 1, collection: id, cipher: backend.cipher)
            let rows = try connection.execute("""
                SELECT uuid, identity, vector, scale, seq, removed_seq FROM lineup_faceprints
                WHERE collection_id = $1 AND (seq > $2 OR removed_seq > $2) ORDER BY seq
                """, [.int(id), .int(seen)])
            var added: [Int] = []
            var removed: [RecordID] = []
            for index in 0..<rows.rowCount {
                let isRemoved = !rows.isNull(index, 5)
                if rows.int(index, 4) > seen {
                    if !isRemoved { added.append(index) }
                } else if isRemoved {
                    let words = rows.uuidWords(index, 0)
                    if let cipher = backend.cipher {
                        removed.append(try cipher.open(rows.bytes(index, 2), token: RecordID(high: words.high, low: words.low),
                                                       collection: id, compression: settings.compression).id)
                    } else {
                        removed.append(RecordID(high: words.high, low: words.low))
                    }
                }
            }
            try gallery.append(PostgresCollection.enrollments(rows, compression: settings.compression, collection: id,
                                                              cipher: backend.cipher, rowIndexes: added))
            for id in removed { try? gallery.remove(id: id) }
            gallery.curve = curve
            return row.int(0, 0)
        }
    }

    /// Applies this process's own change numbered `seq` with `apply` when it is the next one,
    /// else catches up (which includes it).
    private func applyOwn(_ seqs: ClosedRange<Int64>, _ connection: PGConnection, _ apply: () throws -> Void) throws {
        try applied.withLock { applied in
            if seqs.lowerBound == applied + 1 {
                try apply()
                applied = seqs.upperBound
            } else if seqs.upperBound > applied {
                try catchUpLocked(connection, applied: &applied)
            }
        }
    }

    // MARK: CollectionStore

    func enroll(_ batch: [PreparedEnrollment]) throws {
        guard let first = batch.first else { return }
        if backend.readOnly { throw LineupError(.readOnly, "the connection is read-only") }
        for entry in batch where entry.dimension != first.dimension {
            throw LineupError(.enrollmentError, "the Faceprints of one batch differ in dimension")
        }
        let dimension = gallery.dimension
        if dimension != 0 && dimension != first.dimension {
            throw LineupError(.enrollmentError,
                              "the Faceprint has \(first.dimension) dimensions; the collection holds \(dimension)-dimensional vectors")
        }
        try backend.withConnection { connection in
            let statement = "SELECT lineup_enroll($1, $2, $3, $4, $5, $6)"
            func call(_ entry: PreparedEnrollment) throws -> Int64 {
                if let cipher = backend.cipher {
                    // The server sees keyed hashes of the UUID and identity, and the sealed row.
                    return try connection.execute(statement, [.int(id), .int(Int64(entry.dimension)),
                                                              .text(cipher.uuidToken(entry.id, collection: id).string),
                                                              .bytes(cipher.identityToken(entry.identity, collection: id)),
                                                              .bytes(try cipher.seal(entry, collection: id)), .text("0")]).int(0, 0)
                }
                return try connection.execute(statement, [.int(id), .int(Int64(entry.dimension)), .text(entry.id.string),
                                                          .bytes(Array(entry.identity.utf8)), .bytes(entry.vector.bytes),
                                                          .text(String(entry.vector.scale))]).int(0, 0)
            }
            let seqs: ClosedRange<Int64>
            if batch.count == 1 {
                let seq = try call(first)
                seqs = seq...seq
            } else {
                let numbers = try backend.inTransaction(connection) { try batch.map(call) }
                seqs = numbers.first!...numbers.last!
            }
            try applyOwn(seqs, connection) { try gallery.append(batch) }
        }
    }

    func remove(id record: RecordID) throws {
        if backend.readOnly { throw LineupError(.readOnly, "the connection is read-only") }
        try backend.withConnection { connection in
            let stored = backend.cipher?.uuidToken(record, collection: id) ?? record
            let seq = try connection.execute("SELECT lineup_remove_uuid($1, $2)", [.int(id), .text(stored.string)]).int(0, 0)
            try applyOwn(seq...seq, connection) { try gallery.remove(id: record) }
        }
    }

    func remove(identity: String) throws -> Int {
        if backend.readOnly { throw LineupError(.readOnly, "the connection is read-only") }
        return try backend.withConnection { connection in
            let result = try connection.execute("SELECT o_seq, o_removed FROM lineup_remove_identity($1, $2)",
                                                [.int(id), .bytes(backend.cipher?.identityToken(identity, collection: id)
                                                                  ?? Array(identity.utf8))])
            let seq = result.int(0, 0)
            try applyOwn(seq...seq, connection) { _ = try gallery.remove(identity: identity) }
            return Int(result.int(0, 1))
        }
    }

    /// As of the last change applied.
    var calibratedCurve: MatchProbability? { gallery.curve }

    /// One change (`lineup_calibrate`), sealed in an encrypted database.
    ///
    /// - Throws: `readOnly` on a read-only connection (a writable one has upgraded the schema
    ///   to version 2, which stores curves).
    func setCalibratedCurve(_ curve: MatchProbability) throws {
        if backend.readOnly { throw LineupError(.readOnly, "the connection is read-only") }
        try backend.withConnection { connection in
            let bytes = PostgresSchema.curveBytes(curve)
            let stored = try backend.cipher?.sealCurve(bytes, collection: id) ?? bytes
            let seq = try connection.execute("SELECT lineup_calibrate($1, $2)", [.int(id), .bytes(stored)]).int(0, 0)
            try applyOwn(seq...seq, connection) { gallery.curve = curve }
        }
    }

    func snapshot() throws -> CollectionSnapshot {
        if backend.isClosed { throw LineupError(.databaseNotConnected, "the PostgreSQL connection was closed") }
        return gallery.snapshot()
    }

    /// From memory: what this process has applied so far.
    func metadata() throws -> CollectionMetadata {
        let counts = gallery.counts
        return CollectionMetadata(collectionName: name, encrypted: backend.isEncrypted,
                                  featureVectorSizeBytes: gallery.dimension * settings.compression.bytesPerDimension,
                                  modelName: settings.modelName, modelOptions: settings.modelOptionsJSON,
                                  numFaceprints: counts.faceprints, numIdentities: counts.identities)
    }

    func identities() throws -> [String: String] { gallery.identities() }

    /// The last change number applied.
    var appliedSeq: Int64 { applied.withLock { $0 } }
}
#endif
