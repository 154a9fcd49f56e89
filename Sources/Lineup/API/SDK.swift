/// The 1:N identification façade, spelled as the contract fixes it (Lineup.docc/TheContract.md).
///
/// **Sharing.** All instances in a process share one database connection and one set of
/// loaded collections: connecting and loading through one instance makes the collections, with
/// the same enrollments, available through every other. An instance differs from another only
/// in its ``ConfigurationOptions``, which matter when it connects (`dbms`, `encryptionKey`) and
/// when it creates a collection (`frModel`, `vectorCompression`).
///
/// **Thread safety.** Every method may be called from any number of threads at once.
/// Identification never waits for enrollment or removal, nor for other identifications.
///
/// **Durability.** With `.none`, nothing persists. With the on-disk backends, a call that
/// changes data has made the change durable when it returns.
///
/// **Errors.** Every throwing method throws ``LineupError``; a call that throws has changed
/// nothing.
public final class SDK: Sendable {
    /// The options this instance was made with.
    public let options: ConfigurationOptions

    public init(options: ConfigurationOptions = ConfigurationOptions()) {
        self.options = options
    }

    // MARK: Database

    /// Connects the process to a database, replacing (and unloading) the previous connection.
    ///
    /// With `.none` the string is ignored and the process's in-memory database becomes the
    /// connection. With `.file` and `.shared` it is the path of the store, created when missing
    /// (its parent directory must exist). With `.postgresql` it is a libpq conninfo string.
    ///
    /// - Throws: `databaseConnectionError` when the database cannot be opened or created;
    ///   `featureNotSupported` for a backend this build does not have. The previous connection
    ///   stays in place when this throws.
    public func createDatabaseConnection(_ connectionString: String) throws {
        // No store file, socket or watch descriptor may become standard input, output or
        // error of a process started with those closed.
        StandardDescriptors.reserve()
        let backend: any StorageBackend
        switch options.dbms {
        case .none:
            backend = ProcessConnection.memoryDatabase
        case .file, .shared:
            backend = try fileBackend(connectionString)
        case .postgresql:
            guard let factory = BackendRegistry.postgreSQL else {
                throw LineupError(.featureNotSupported, BackendRegistry.postgreSQLMissingReason)
            }
            backend = try factory(connectionString, options)
        }
        ProcessConnection.replace(with: Connection(dbms: options.dbms, backend: backend))
    }

    /// The on-disk backend for `connectionString` with this instance's options (`.file` or
    /// `.shared`). One open store per path in a process: connecting again to the store this
    /// process has open, with the same options, reuses it; with other options, closes it
    /// first (its lock would otherwise keep the new connection from writing) — after checking
    /// a changed key, so that a wrong one leaves the connection in place.
    private func fileBackend(_ connectionString: String) throws -> FileBackend {
        if options.encryptionKey?.isEmpty == true {
            throw LineupError(.invalidArgument, "the encryption key is empty")
        }
        var fileOptions = FileBackend.FileBackendOptions(readOnly: options.readOnly, durability: options.durability,
                                                         passphrase: options.encryptionKey,
                                                         compaction: options.automaticCompaction ? .automatic : .manual)
        if options.dbms == .shared {
            fileOptions.shared = true
            fileOptions.compaction = .manual
            fileOptions.checkInterval = try options.resolvedNotificationCheckInterval()
        }
        return try FileBackend.connect(path: connectionString, options: fileOptions,
                                       current: ProcessConnection.connection?.backend,
                                       disconnect: { ProcessConnection.disconnect() })
    }

    /// Closes the process's database connection: every loaded collection is unloaded and the
    /// store's files, lock and watchers are released. Changes already acknowledged stay
    /// durable; calls made afterwards throw `databaseNotConnected` until the next
    /// ``createDatabaseConnection(_:)``. Closing when nothing is connected does nothing.
    public func closeDatabaseConnection() {
        ProcessConnection.disconnect()
    }

    // MARK: Collections

    /// ``createCollection(_:)`` then ``loadCollection(_:)``.
    public func createLoadCollection(_ collectionName: String) throws {
        try createCollection(collectionName)
        try loadCollection(collectionName)
    }

    /// Creates an empty collection that records this instance's `frModel` and
    /// `vectorCompression`. A no-op when the collection exists.
    ///
    /// - Throws: `invalidArgument` for a malformed name; `databaseNotConnected`.
    public func createCollection(_ collectionName: String) throws {
        try Validation.collectionName(collectionName)
        try Validation.modelName(options.frModel)
        let settings = CollectionSettings(modelName: options.frModel, compression: options.vectorCompression)
        try connection().backend.createCollection(collectionName, settings: settings)
    }

    /// Loads a collection, making it available for enrollment and identification to every
    /// instance in the process. Loading a loaded collection loads it again.
    ///
    /// - Throws: `noCollectionFound` when it does not exist.
    public func loadCollection(_ collectionName: String) throws {
        try Validation.collectionName(collectionName)
        try connection().load([collectionName])
    }

    /// Loads every collection in `collectionNames`, or none of them.
    ///
    /// - Throws: `inputIsEmpty` for an empty list; `noCollectionFound` when one does not exist.
    public func loadCollections(_ collectionNames: [String]) throws {
        guard !collectionNames.isEmpty else { throw LineupError(.inputIsEmpty, "the list of collection names is empty") }
        for name in collectionNames { try Validation.collectionName(name) }
        try connection().load(collectionNames)
    }

    /// Deletes a collection and every Faceprint in it, unloading it first.
    ///
    /// - Throws: `noCollectionFound` when it does not exist.
    public func deleteCollection(_ collectionName: String) throws {
        try Validation.collectionName(collectionName)
        let connection = try connection()
        try connection.backend.deleteCollection(collectionName)
        connection.unload(collectionName)
    }

    /// The names of every collection in the database, sorted.
    public func getCollectionNames() throws -> [String] {
        try connection().backend.collectionNames()
    }

    /// The metadata of a collection, loaded or not.
    ///
    /// - Throws: `noCollectionFound` when it does not exist.
    public func getCollectionMetadata(_ collectionName: String) throws -> CollectionMetadata {
        try Validation.collectionName(collectionName)
        return try connection().backend.metadata(of: collectionName)
    }

    /// UUID → identity for every Faceprint of a collection, loaded or not. Several UUIDs may
    /// map to one identity.
    ///
    /// - Throws: `noCollectionFound` when it does not exist.
    public func getCollectionIdentities(_ collectionName: String) throws -> [String: String] {
        try Validation.collectionName(collectionName)
        return try connection().backend.identities(of: collectionName)
    }

    // MARK: Enrollment and removal

    /// Enrolls a Faceprint under `identity` and returns its new UUID (RFC 9562, lowercase).
    ///
    /// The vector is stored L2-normalised, in the collection's compression. The first
    /// Faceprint of a collection fixes its dimension. On return the enrollment is durable
    /// (on-disk backends).
    ///
    /// - Throws: `inputIsEmpty` for an empty vector or identity; `invalidArgument` for NaN,
    ///   ±Inf, an all-zero vector or an identity over 1024 bytes; `enrollmentError` when the
    ///   model name or dimension differs from the collection's.
    public func enrollFaceprint(_ faceprint: Faceprint, identity: String,
                                collectionName: String = "") throws -> String {
        try Validation.featureVector(faceprint.featureVector)
        try Validation.identity(identity)
        try Validation.collectionReference(collectionName)
        let store = try connection().resolve(collectionName)
        guard faceprint.modelName == store.settings.modelName else {
            throw LineupError(.enrollmentError,
                              "the Faceprint's model \(JSONText.quoted(faceprint.modelName)) is not the collection's model \(JSONText.quoted(store.settings.modelName))")
        }
        let prepared = PreparedEnrollment(faceprint, identity: identity, compression: store.settings.compression)
        try store.enroll([prepared])
        return prepared.id.string
    }

    /// Removes the Faceprint with this UUID.
    ///
    /// - Throws: `inputIsEmpty` for an empty string; `noRecordFound` when no Faceprint of the
    ///   collection has it.
    public func removeByUUID(_ uuid: String, collectionName: String = "") throws {
        guard !uuid.isEmpty else { throw LineupError(.inputIsEmpty, "the UUID is empty") }
        try Validation.collectionReference(collectionName)
        let store = try connection().resolve(collectionName)
        guard let id = RecordID(string: uuid) else {
            throw LineupError(.noRecordFound, "no Faceprint has UUID \(JSONText.quoted(uuid)) (not a UUID)")
        }
        try store.remove(id: id)
    }

    /// Removes every Faceprint of `identity` and returns how many.
    ///
    /// - Throws: `inputIsEmpty` for an empty identity; `noRecordFound` when none has it.
    public func removeByIdentity(_ identity: String, collectionName: String = "") throws -> Int {
        try Validation.identity(identity)
        try Validation.collectionReference(collectionName)
        return try connection().resolve(collectionName).remove(identity: identity)
    }

    // MARK: Identification

    /// The most similar Faceprint whose cosine similarity to the probe is at least
    /// `threshold`, or `nil` when none reaches it.
    public func identifyTopCandidate(_ faceprint: Faceprint, threshold: Float = 0.4,
                                     collectionName: String = "") throws -> Candidate? {
        try identifyTopCandidates(faceprint, numCandidates: 1, threshold: threshold,
                                  collectionName: collectionName).first
    }

    /// ``identifyTopCandidate(_:threshold:collectionName:)`` for each probe, in order, the
    /// probes run in parallel. An empty list gives an empty result.
    public func batchIdentifyTopCandidate(_ faceprints: [Faceprint], threshold: Float = 0.4,
                                          collectionName: String = "") throws -> [Candidate?] {
        try batchIdentifyTopCandidates(faceprints, numCandidates: 1, threshold: threshold,
                                       collectionName: collectionName).map { $0.first }
    }

    /// ``identifyTopCandidates(_:numCandidates:threshold:collectionName:)`` for each probe, in
    /// order, the probes run in parallel over one snapshot. An empty list gives an empty result.
    public func batchIdentifyTopCandidates(_ faceprints: [Faceprint], numCandidates: Int,
                                           threshold: Float = 0.4,
                                           collectionName: String = "") throws -> [[Candidate]] {
        try identify(faceprints, numCandidates: numCandidates, threshold: threshold, collectionName: collectionName) {
            try Matcher.searchBatch($0, probes: $1, k: $2, threshold: threshold)
        }
    }

    /// Up to `numCandidates` Faceprints whose cosine similarity to the probe is at least
    /// `threshold`, highest first, ties broken by enrollment order (earlier first).
    ///
    /// A `numCandidates` larger than the collection is taken as the collection's size (any
    /// value up to `Int.max` is accepted; no more candidates than Faceprints can match).
    ///
    /// - Throws: `invalidArgument` for `numCandidates < 1`, a non-finite threshold, a bad
    ///   vector, or a probe whose model or dimension differs from the collection's.
    public func identifyTopCandidates(_ faceprint: Faceprint, numCandidates: Int,
                                      threshold: Float = 0.4,
                                      collectionName: String = "") throws -> [Candidate] {
        try identify([faceprint], numCandidates: numCandidates, threshold: threshold, collectionName: collectionName) {
            [try Matcher.search($0, probe: $1[0], k: $2, threshold: threshold)]
        }[0]
    }

    /// The best `numCandidates` *people*: each identity at most once, at its best-scoring
    /// Faceprint (whose UUID the candidate carries), with the threshold, order, tie rules and
    /// similarities of ``identifyTopCandidates(_:numCandidates:threshold:collectionName:)`` —
    /// that list with every identity's later Faceprints struck out. One pass over the
    /// gallery, like identifyTopCandidates: the top-k keeps the best row of each identity.
    ///
    /// - Throws: what ``identifyTopCandidates(_:numCandidates:threshold:collectionName:)`` throws.
    public func identifyTopIdentities(_ faceprint: Faceprint, numCandidates: Int, threshold: Float = 0.4,
                                      collectionName: String = "") throws -> [Candidate] {
        try batchIdentifyTopIdentities([faceprint], numCandidates: numCandidates, threshold: threshold,
                                       collectionName: collectionName).first ?? []
    }

    /// ``identifyTopIdentities(_:numCandidates:threshold:collectionName:)`` for each probe, in
    /// order, over one snapshot. An empty list gives an empty result.
    public func batchIdentifyTopIdentities(_ faceprints: [Faceprint], numCandidates: Int, threshold: Float = 0.4,
                                           collectionName: String = "") throws -> [[Candidate]] {
        try identify(faceprints, numCandidates: numCandidates, threshold: threshold, collectionName: collectionName) { snapshot, probes, k in
            try Matcher.searchDistinctBatch(snapshot, probes: probes, k: k, threshold: threshold)
        }
    }

    /// The model name of a loaded collection (`name` empty: the one loaded collection),
    /// without reading the store: what a probe that names no model is taken to be.
    ///
    /// - Throws: as identification does when the collection cannot be resolved.
    package func modelName(ofLoaded collectionName: String) throws -> String {
        try Validation.collectionReference(collectionName)
        return try connection().resolve(collectionName).settings.modelName
    }

    // MARK: Internals

    /// What every identification does around its search: checks the arguments, resolves the
    /// collection, takes one snapshot, checks each probe against it, and turns the hits
    /// `search` finds (for the normalised probes and `numCandidates` clamped to the snapshot)
    /// into candidates. An empty list of probes, or an empty collection, searches nothing.
    private func identify(_ faceprints: [Faceprint], numCandidates: Int, threshold: Float, collectionName: String,
                          search: (CollectionSnapshot, [[Float]], Int) throws -> [[MatchHit]]) throws -> [[Candidate]] {
        try Validation.candidateCount(numCandidates)
        try Validation.threshold(threshold)
        for faceprint in faceprints { try Validation.featureVector(faceprint.featureVector) }
        try Validation.collectionReference(collectionName)
        let store = try connection().resolve(collectionName)
        let snapshot = try store.snapshot()
        for faceprint in faceprints { try checkProbe(faceprint, against: store, snapshot: snapshot) }
        guard !faceprints.isEmpty else { return [] }
        guard snapshot.dimension > 0 else { return faceprints.map { _ in [] } }
        let probes = faceprints.map { VectorEncoder.normalized($0.featureVector) }
        return try search(snapshot, probes, Self.clamped(numCandidates, snapshot)).map { hits in
            hits.map { candidate(for: $0, in: snapshot, store: store) }
        }
    }

    /// `numCandidates` clamped to the rows of `snapshot` (removed ones included, so never
    /// below the live count): the matcher sizes its per-probe buffers by k.
    private static func clamped(_ numCandidates: Int, _ snapshot: CollectionSnapshot) -> Int {
        max(1, min(numCandidates, snapshot.rowCount))
    }

    /// The process's connection; with `.none` and no connection yet, the in-memory database.
    func connection() throws -> Connection {
        if let connection = ProcessConnection.connection { return connection }
        if options.dbms == .none { return ProcessConnection.connectToMemoryIfNone() }
        throw LineupError(.databaseNotConnected, "no database connection; call createDatabaseConnection first")
    }

    private func checkProbe(_ faceprint: Faceprint, against store: any CollectionStore,
                            snapshot: CollectionSnapshot) throws {
        guard faceprint.modelName == store.settings.modelName else {
            throw LineupError(.invalidArgument,
                              "the probe's model \(JSONText.quoted(faceprint.modelName)) is not the collection's model \(JSONText.quoted(store.settings.modelName))")
        }
        if snapshot.dimension > 0 && faceprint.featureVector.count != snapshot.dimension {
            throw LineupError(.invalidArgument,
                              "the probe has \(faceprint.featureVector.count) dimensions; the collection holds \(snapshot.dimension)-dimensional vectors")
        }
    }

    private func candidate(for hit: MatchHit, in snapshot: CollectionSnapshot,
                           store: any CollectionStore) -> Candidate {
        let source = snapshot.blocks[hit.block].source
        let similarity = hit.score
        return Candidate(uuid: source.recordID(at: hit.row).string,
                         identity: source.identity(at: hit.row),
                         similarityMeasure: similarity,
                         matchProbability: (store.calibratedCurve ?? MatchProbability.curve(forModel: store.settings.modelName))
                            .probability(forSimilarity: similarity))
    }
}
