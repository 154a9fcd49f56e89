/// The SQL-free storage protocol: what the façade needs from wherever collections live.
///
/// Backends give the seed's three database options their semantics without SQL:
/// ``MemoryBackend`` (memory only), the on-disk segment log (`.file`: one process; `.shared`:
/// several processes kept in sync) and, in its own module, PostgreSQL (many machines).
///
/// Thread safety: every method may be called from any thread at once. Durability: when a
/// mutating method returns, the change is as durable as the backend promises (nothing, for
/// the memory backend; on stable storage, for the on-disk ones).
package protocol StorageBackend: AnyObject, Sendable {
    /// Whether the store encrypts what it writes (`CollectionMetadata.encrypted`).
    var isEncrypted: Bool { get }

    /// Every collection's name, sorted.
    func collectionNames() throws -> [String]

    /// Whether a collection named `name` exists.
    func collectionExists(_ name: String) throws -> Bool

    /// Creates an empty collection with `settings`; a no-op when `name` exists already.
    func createCollection(_ name: String, settings: CollectionSettings) throws

    /// Deletes the collection and everything in it.
    ///
    /// - Throws: `noCollectionFound` when there is none by that name.
    func deleteCollection(_ name: String) throws

    /// Makes the collection ready for enrollment and identification. Loading again returns a
    /// handle that reflects every change made to the store so far, by any process.
    ///
    /// - Throws: `noCollectionFound` when there is none by that name.
    func loadCollection(_ name: String) throws -> any CollectionStore

    /// The metadata of a collection, loaded or not.
    func metadata(of name: String) throws -> CollectionMetadata

    /// UUID → identity for every live Faceprint of a collection, loaded or not.
    func identities(of name: String) throws -> [String: String]

    /// Releases files, locks and connections. Calls after `close` throw; handles already
    /// loaded from this backend throw too.
    func close()

    /// A consistent point-in-time copy of the whole store in the new directory `path`
    /// (``SDK/backup(to:)``).
    ///
    /// - Throws: `featureNotSupported` where the backend has no files to copy.
    func backup(to path: String, forceCopy: Bool, progress: (Int, Int) -> Void) throws -> BackupReport

    /// Compacts `collection` (every collection when nil): see ``SDK/compact(collectionName:)``.
    /// Backends that keep no files to compact check the name and report nothing done.
    ///
    /// - Throws: `noCollectionFound`.
    func compact(collection: String?) throws -> CompactionReport

    /// Live and removed Faceprints of a collection and the bytes they take. `loaded` is this
    /// process's handle on it, when loaded. Backends without files count the live ones at
    /// their stored size.
    ///
    /// - Throws: `noCollectionFound`.
    func space(of name: String, loaded: (any CollectionStore)?) throws -> CollectionSpace

    /// Wraps the store's data key under `newPassphrase` (``SDK/rekey(newEncryptionKey:)``).
    ///
    /// - Throws: `invalidArgument` where the backend has no encryption key of its own.
    func rekey(newPassphrase: String) throws

    /// Seals what the backend holds in its journal into its data files (``SDK/checkpoint()``);
    /// nothing where there is no journal.
    func checkpoint() throws
}

extension StorageBackend {
    package func compact(collection: String?) throws -> CompactionReport {
        if let collection, !(try collectionNames().contains(collection)) {
            throw LineupError.noCollection(collection)
        }
        return CompactionReport()
    }

    package func space(of name: String, loaded: (any CollectionStore)?) throws -> CollectionSpace {
        // A loaded collection answers from memory (PostgreSQL: what this process has received
        // so far); any other from the backend.
        let metadata = try loaded?.metadata() ?? metadata(of: name)
        return CollectionSpace(liveFaceprints: metadata.numFaceprints,
                               liveBytes: metadata.numFaceprints * (metadata.featureVectorSizeBytes + 48))
    }

    package func rekey(newPassphrase: String) throws {
        throw LineupError(.invalidArgument, "only an on-disk store has an encryption key")
    }

    package func checkpoint() throws {}

    package func backup(to path: String, forceCopy: Bool, progress: (Int, Int) -> Void) throws -> BackupReport {
        throw LineupError(.featureNotSupported,
                          "only an on-disk store (.file, .shared) can be backed up this way; the memory database keeps nothing, and PostgreSQL has pg_dump")
    }
}

/// A loaded collection: the handle enrollment, removal and identification go through.
///
/// Thread safety: every method may be called from any thread at once; ``snapshot()`` never
/// waits for a writer.
package protocol CollectionStore: AnyObject, Sendable {
    var name: String { get }
    var settings: CollectionSettings { get }

    /// Stores every enrollment of `batch`, or none. On return they are as durable as the
    /// backend promises.
    ///
    /// - Throws: `enrollmentError` on a dimension mismatch.
    func enroll(_ batch: [PreparedEnrollment]) throws

    /// - Throws: `noRecordFound` when no live Faceprint has UUID `id`.
    func remove(id: RecordID) throws

    /// Removes every Faceprint of `identity`, returning how many.
    ///
    /// - Throws: `noRecordFound` when none has that identity.
    func remove(identity: String) throws -> Int

    /// An immutable view as of now, for the matcher.
    func snapshot() throws -> CollectionSnapshot

    func metadata() throws -> CollectionMetadata

    func identities() throws -> [String: String]

    /// The curve fitted to the collection's own pairs (``SDK/calibrate(collectionName:)``),
    /// nil until calibrated: candidates then use their model's curve.
    var calibratedCurve: MatchProbability? { get }

    /// Stores `curve` with the collection, as durable as the backend promises, for every
    /// later candidate of it in any process.
    ///
    func setCalibratedCurve(_ curve: MatchProbability) throws

    /// Stores `count` enrollments of `dimension` elements that `row` hands over in order, all
    /// or none — a bulk import read from files. `checkingIDs`: refuse (`invalidArgument`) a
    /// UUID that belongs to a live Faceprint of the collection already. The on-disk store
    /// streams them into segment files, holding one row at a time; the default gathers them
    /// and calls ``enroll(_:)`` once.
    func enroll(count: Int, dimension: Int, checkingIDs: Bool, row: (Int) throws -> PreparedEnrollment) throws
}

extension CollectionStore {
    package func enroll(count: Int, dimension: Int, checkingIDs: Bool, row: (Int) throws -> PreparedEnrollment) throws {
        var batch: [PreparedEnrollment] = []
        batch.reserveCapacity(count)
        for index in 0..<count { batch.append(try row(index)) }
        if checkingIDs { try refuseLiveIDs(batch.map(\.id)) }
        try enroll(batch)
    }

    /// Throws `invalidArgument` naming the first of `ids` that belongs to a live Faceprint of
    /// the collection (kept UUIDs must be new to it; a removed one may return).
    package func refuseLiveIDs(_ ids: [RecordID]) throws {
        let live = try identities()
        if let taken = ids.first(where: { live[$0.string] != nil }) {
            throw LineupError.uuidTaken(taken)
        }
    }
}
