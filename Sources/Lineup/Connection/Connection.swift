import Synchronization

/// A connection to one database: its backend and the collections loaded through it.
///
/// There is at most one current connection per process (``ProcessConnection``), shared by
/// every ``SDK`` instance, so a collection is loaded once however many instances use it.
/// Thread-safe.
final class Connection: Sendable {
    let dbms: DatabaseManagementSystem
    let backend: any StorageBackend
    private let loaded = Mutex<[ExactText: any CollectionStore]>([:])

    init(dbms: DatabaseManagementSystem, backend: any StorageBackend) {
        self.dbms = dbms
        self.backend = backend
    }

    /// Loads every collection in `names`, or none: a missing one throws `noCollectionFound`
    /// before anything is loaded. Loading a loaded collection loads it again, picking up what
    /// other processes changed.
    func load(_ names: [String]) throws {
        var stores: [ExactText: any CollectionStore] = [:]
        for name in names where stores[ExactText(name)] == nil {
            stores[ExactText(name)] = try backend.loadCollection(name)
        }
        loaded.withLock { loaded in
            loaded.merge(stores) { _, new in new }
        }
    }

    /// The loaded collection `name`, or nil when it is not loaded.
    func loadedStore(_ name: String) -> (any CollectionStore)? {
        loaded.withLock { $0[ExactText(name)] }
    }

    /// Forgets the loaded collection `name`, if it is loaded.
    func unload(_ name: String) {
        _ = loaded.withLock { $0.removeValue(forKey: ExactText(name)) }
    }

    /// The loaded collection a call names, following the contract (Lineup.docc/TheContract.md, "Collections and their names"): `""` means the only loaded one.
    ///
    /// - Throws: `collectionNotLoaded` when none is loaded, or the named one exists but is not
    ///   loaded; `noCollectionSpecified` when `""` and several are; `noCollectionFound` when
    ///   the named one does not exist.
    func resolve(_ name: String) throws -> any CollectionStore {
        let found: (any CollectionStore)?
        let loadedCount: Int
        (found, loadedCount) = loaded.withLock { loaded in
            name.isEmpty ? (loaded.count == 1 ? loaded.first!.value : nil, loaded.count)
                         : (loaded[ExactText(name)], loaded.count)
        }
        if let found { return found }
        if name.isEmpty {
            if loadedCount == 0 {
                throw LineupError(.collectionNotLoaded, "no collection is loaded; call loadCollection first")
            }
            throw LineupError(.noCollectionSpecified,
                              "\(loadedCount) collections are loaded; name the one to use")
        }
        guard try backend.collectionExists(name) else { throw LineupError.noCollection(name) }
        throw LineupError(.collectionNotLoaded,
                          "the collection \(JSONText.quoted(name)) exists but is not loaded; call loadCollection first")
    }
}

/// The process-wide connection that every ``SDK`` instance shares.
enum ProcessConnection {
    private static let current = Mutex<Connection?>(nil)

    /// The process's one in-memory database, alive until the process exits.
    static let memoryDatabase = MemoryBackend()

    /// The current connection, if any.
    static var connection: Connection? { current.withLock { $0 } }

    /// Makes `connection` the process's connection, closing the one it replaces.
    static func replace(with connection: Connection) {
        let previous = current.withLock { current in
            let previous = current
            current = connection
            return previous
        }
        if let previous, previous.backend !== connection.backend {
            previous.backend.close()
        }
    }

    /// The current connection; when there is none, the in-memory database becomes it.
    static func connectToMemoryIfNone() -> Connection {
        current.withLock { current in
            if let current { return current }
            let connection = Connection(dbms: .none, backend: memoryDatabase)
            current = connection
            return connection
        }
    }

    /// Drops the current connection, closing its backend.
    static func disconnect() {
        resetForTesting()
    }

    /// Drops the current connection without replacing it (for tests).
    static func resetForTesting() {
        let previous = current.withLock { current in
            let previous = current
            current = nil
            return previous
        }
        previous?.backend.close()
    }
}
