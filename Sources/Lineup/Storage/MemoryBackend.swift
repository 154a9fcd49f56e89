import Synchronization

/// The memory-only backend (`DatabaseManagementSystem.none`): collections live in process
/// memory and vanish when the process exits. There is one per process
/// (``ProcessConnection/memoryDatabase``), so every SDK instance sees the same collections.
///
/// Thread safety: every method may be called from any thread. Durability: none.
final class MemoryBackend: StorageBackend {
    private let galleries = Mutex<[ExactText: Gallery]>([:])

    var isEncrypted: Bool { false }

    func collectionNames() throws -> [String] {
        galleries.withLock { $0.keys.sorted().map(\.string) }
    }

    func collectionExists(_ name: String) throws -> Bool {
        galleries.withLock { $0[ExactText(name)] != nil }
    }

    func createCollection(_ name: String, settings: CollectionSettings) throws {
        galleries.withLock { galleries in
            if galleries[ExactText(name)] == nil {
                galleries[ExactText(name)] = Gallery(settings: settings)
            }
        }
    }

    func deleteCollection(_ name: String) throws {
        let removed = galleries.withLock { $0.removeValue(forKey: ExactText(name)) }
        guard let removed else { throw LineupError.noCollection(name) }
        removed.drop()
    }

    func loadCollection(_ name: String) throws -> any CollectionStore {
        MemoryCollection(name: name, gallery: try gallery(name))
    }

    func metadata(of name: String) throws -> CollectionMetadata {
        try MemoryCollection(name: name, gallery: gallery(name)).metadata()
    }

    func identities(of name: String) throws -> [String: String] {
        try gallery(name).identities()
    }

    /// The memory database outlives every connection to it: closing is a no-op.
    func close() {}

    private func gallery(_ name: String) throws -> Gallery {
        guard let gallery = galleries.withLock({ $0[ExactText(name)] }) else { throw LineupError.noCollection(name) }
        return gallery
    }
}

/// A loaded collection of the memory backend: a name over a ``Gallery``.
final class MemoryCollection: CollectionStore {
    let name: String
    let gallery: Gallery

    init(name: String, gallery: Gallery) {
        self.name = name
        self.gallery = gallery
    }

    var settings: CollectionSettings { gallery.settings }

    func enroll(_ batch: [PreparedEnrollment]) throws { try gallery.append(batch) }

    func remove(id: RecordID) throws { try gallery.remove(id: id) }

    func remove(identity: String) throws -> Int { try gallery.remove(identity: identity) }

    func snapshot() throws -> CollectionSnapshot { gallery.snapshot() }

    func metadata() throws -> CollectionMetadata {
        let counts = gallery.counts
        return CollectionMetadata(collectionName: name, encrypted: false,
                                  featureVectorSizeBytes: gallery.dimension * settings.compression.bytesPerDimension,
                                  modelName: settings.modelName, modelOptions: settings.modelOptionsJSON,
                                  numFaceprints: counts.faceprints, numIdentities: counts.identities)
    }

    func identities() throws -> [String: String] { gallery.identities() }

    var calibratedCurve: MatchProbability? { gallery.curve }

    func setCalibratedCurve(_ curve: MatchProbability) throws { gallery.curve = curve }
}

extension LineupError {
    /// `noCollectionFound` for `name`.
    package static func noCollection(_ name: String) -> LineupError {
        LineupError(.noCollectionFound, "no collection named \(JSONText.quoted(name))")
    }

    /// `invalidArgument`: a kept UUID (an import's or a restore's) is live in the collection already.
    package static func uuidTaken(_ id: RecordID) -> LineupError {
        LineupError(.invalidArgument, "UUID \(id.string) belongs to a Faceprint of the collection already")
    }
}
