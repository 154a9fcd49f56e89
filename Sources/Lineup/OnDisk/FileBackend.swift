import Foundation
import Synchronization

/// The on-disk backends: a ``Store`` behind the storage protocol.
///
/// `DatabaseManagementSystem.file` has the seed's SQLite semantics: the process that opens the
/// store first writes it; another process reads it and sees the writer's changes each time it
/// loads a collection. `.shared` has the seed's PostgreSQL semantics without a server: every
/// process writes (one write at a time, on the store lock) and every process receives the
/// others' changes on its own, every `notificationCheckInterval` seconds — sooner where the
/// platform reports changes to the directory (inotify).
final class FileBackend: StorageBackend {
    let store: Store
    /// The store's path with symbolic links resolved, to recognise the same store twice.
    let canonicalPath: String
    private let currentOptions: Mutex<FileBackendOptions>
    /// The options the store is open with (the passphrase follows a rekey).
    var options: FileBackendOptions { currentOptions.withLock { $0 } }

    struct FileBackendOptions: Equatable, Sendable {
        var readOnly: Bool
        var durability: Durability
        /// An encrypted store's passphrase (and a new store's: it is then created encrypted).
        var passphrase: String? = nil
        /// Background compaction (explicit compaction is always available).
        var compaction: CompactionPolicy = .automatic
        /// PBKDF2 iterations for a new store's key file.
        var kdfIterations: Int = KeyFile.defaultIterations
        /// `.shared`: several writing processes, kept in sync every `checkInterval` seconds.
        var shared = false
        var checkInterval: Double = 30
    }

    /// Shared mode's change checks: the interval timer and the directory watch.
    /// Set once in `init`, cancelled in `close()`.
    nonisolated(unsafe) private var watchers: [any DispatchSourceProtocol] = []
    private let syncQueue = DispatchQueue(label: "lineup.shared-sync", qos: .utility)

    init(path: String, options: FileBackendOptions, fileSystem: any FileSystem = PosixFileSystem.shared) throws {
        guard !path.isEmpty, !path.utf8.contains(0) else {
            throw LineupError(.databaseConnectionError, "the store path is empty or malformed")
        }
        currentOptions = Mutex(options)
        do {
            store = try Store(path: path, fileSystem: fileSystem, readOnly: options.readOnly, durability: options.durability,
                              passphrase: options.passphrase, kdfIterations: options.kdfIterations,
                              compaction: options.compaction, shared: options.shared)
        } catch let error as LineupError where error.code == .ioError {
            throw LineupError(.databaseConnectionError, "cannot open the store at \(path)", cause: error)
        }
        canonicalPath = fileSystem.canonicalPath(path)
        if options.shared { startWatching(path: path, interval: options.checkInterval, fileSystem: fileSystem) }
    }

    /// Checks for other processes' changes every `interval` seconds, and as soon as the store's
    /// directory changes where inotify is available.
    private func startWatching(path: String, interval: Double, fileSystem: any FileSystem) {
        let timer = DispatchSource.makeTimerSource(queue: syncQueue)
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(max(1, Int(interval * 50))))
        timer.setEventHandler { [weak self] in self?.syncNow() }
        timer.resume()
        watchers.append(timer)
        // LINEUP_SHARED_WATCH=interval leaves the interval alone (to measure it).
        guard ProcessInfo.processInfo.environment["LINEUP_SHARED_WATCH"] != "interval",
              let descriptor = fileSystem.watchDirectory(path) else { return }
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: syncQueue)
        nonisolated(unsafe) let watch = source
        let fileSystem = fileSystem
        source.setEventHandler { [weak self] in
            fileSystem.drainWatch(descriptor)
            // This process's own writes raise events too, one a commit. The source rests until
            // the catch-up 2 ms later has run, so that however fast anyone writes it wakes at
            // most once a catch-up (events meanwhile wait in the kernel).
            watch.suspend()
            guard let self else { return watch.resume() }
            self.syncQueue.asyncAfter(deadline: .now() + .milliseconds(2)) { [weak self] in
                self?.syncNow()
                watch.resume()
            }
        }
        source.setCancelHandler { fileSystem.close(descriptor) }
        source.resume()
        watchers.append(source)
    }

    /// One catch-up now (the timer, the directory watch).
    private func syncNow() {
        do {
            try store.sync()
        } catch {
            BackgroundFailures.report(error, while: "catching up with other processes", store: store.path)
        }
    }

    /// Opens the store at `path` with `options` for a new connection, where `current` is the
    /// process's connection now. One open store per path in a process: the store `current`
    /// has open, asked for with the same options, is reused; with other options it is closed
    /// first (`disconnect`: its lock would otherwise keep the new connection from writing) —
    /// after checking a changed passphrase, so that a wrong one leaves the connection in place.
    static func connect(path: String, options: FileBackendOptions, current: (any StorageBackend)?,
                        disconnect: () -> Void, fileSystem: any FileSystem = PosixFileSystem.shared) throws -> FileBackend {
        if let current = current as? FileBackend, current.canonicalPath == fileSystem.canonicalPath(path) {
            if current.options == options { return current }
            if current.options.passphrase != options.passphrase {
                _ = try StoreCipher.open(path, fileSystem: fileSystem, passphrase: options.passphrase, writer: false)
            }
            disconnect()
        }
        return try FileBackend(path: path, options: options, fileSystem: fileSystem)
    }

    var isEncrypted: Bool { store.isEncrypted }

    /// ``Store/rekey(newPassphrase:kdfIterations:)``; connecting again needs the new passphrase.
    func backup(to path: String, forceCopy: Bool, progress: (Int, Int) -> Void) throws -> BackupReport {
        try store.backup(to: path, forceCopy: forceCopy, progress: progress)
    }

    func rekey(newPassphrase: String) throws {
        try currentOptions.withLock { options in
            try store.rekey(newPassphrase: newPassphrase, kdfIterations: options.kdfIterations)
            options.passphrase = newPassphrase
        }
    }

    func compact(collection: String?) throws -> CompactionReport {
        try store.compact(collection: collection)
    }

    func space(of name: String, loaded: (any CollectionStore)?) throws -> CollectionSpace {
        // Shared mode keeps itself up to date in the background; .file readers look now.
        if !options.shared { try store.refresh() }
        return try store.collection(name).space()
    }

    func checkpoint() throws {
        try store.checkpointNow()
    }

    func collectionNames() throws -> [String] {
        try store.refresh()
        return store.collectionNames()
    }

    func collectionExists(_ name: String) throws -> Bool {
        store.collectionNames().contains(name)
    }

    func createCollection(_ name: String, settings: CollectionSettings) throws {
        try store.createCollection(name, settings: settings)
    }

    func deleteCollection(_ name: String) throws {
        try store.deleteCollection(name)
    }

    func loadCollection(_ name: String) throws -> any CollectionStore {
        try store.refresh()
        return FileCollection(store: store, state: try store.collection(name))
    }

    func metadata(of name: String) throws -> CollectionMetadata {
        if !options.shared { try store.refresh() }
        return try store.collection(name).metadata(encrypted: store.isEncrypted)
    }

    func identities(of name: String) throws -> [String: String] {
        if !options.shared { try store.refresh() }
        return try store.collection(name).identityMap()
    }

    func close() {
        for watcher in watchers { watcher.cancel() }
        syncQueue.sync {}   // a catch-up in progress finishes first
        store.close()
    }
}

/// A loaded collection of an on-disk store.
final class FileCollection: CollectionStore {
    let store: Store
    let state: CollectionState

    init(store: Store, state: CollectionState) {
        self.store = store
        self.state = state
    }

    var name: String { state.name }
    var settings: CollectionSettings { state.settings }

    /// Batches at least this large go straight into segment files (``Store/bulkEnroll``).
    static let bulkThreshold = 4096

    func enroll(count: Int, dimension: Int, checkingIDs: Bool, row: (Int) throws -> PreparedEnrollment) throws {
        try store.bulkEnroll(collection: state, count: count, dimension: dimension, checkingIDs: checkingIDs, row: row)
    }

    func enroll(_ batch: [PreparedEnrollment]) throws {
        guard let first = batch.first else { return }
        // Large batches, by count or by bytes (a journal record holds at most 64 MiB).
        if batch.count >= FileCollection.bulkThreshold
            || batch.count * first.vector.bytes.count > FormatConstants.maximumRecordPayload / 2 {
            try store.bulkEnroll(collection: state, batch: batch)
            return
        }
        let state = self.state
        // The payload depends on nothing the commit lock guards: build it before taking it.
        let payload = JournalFormat.encodeEnrollments(batch)
        let ids = batch.map(\.id)
        _ = try store.commit(collection: state, type: .enroll, rows: batch.count) {
            // Everything that could fail is checked here, before the record is written.
            state.reservedDimension = try state.checkEnrollment(batch, wholeCollection: true)
            state.pendingEnrollments.formUnion(ids)
            return (payload, {
                state.applyEnroll(batch)
                state.pendingEnrollments.subtract(ids)
                return batch.count
            }, {
                state.pendingEnrollments.subtract(ids)
                if state.dimension == 0 { state.reservedDimension = 0 }
            })
        }
    }

    func remove(id: RecordID) throws {
        _ = try remove(ids: { [state] in
            guard !state.pendingRemovals.contains(id), state.locate(id) != nil else {
                throw LineupError(.noRecordFound, "no Faceprint has UUID \(id.string)")
            }
            return [id]
        })
    }

    func remove(identity: String) throws -> Int {
        try remove(ids: { [state] in
            let ids = state.liveIDs(of: identity).filter { !state.pendingRemovals.contains($0) }
            guard !ids.isEmpty else { throw LineupError(.noRecordFound, "no Faceprint has that identity") }
            return ids
        })
    }

    private func remove(ids find: @escaping () throws -> [RecordID]) throws -> Int {
        let state = self.state
        return try store.commit(collection: state, type: .remove) {
            let ids = try find()
            state.pendingRemovals.formUnion(ids)
            return (JournalFormat.encodeRemovals(ids), {
                let count = state.applyRemove(ids)
                state.pendingRemovals.subtract(ids)
                return count
            }, {
                state.pendingRemovals.subtract(ids)
            })
        }
    }

    func snapshot() throws -> CollectionSnapshot {
        guard !state.isDropped else { throw LineupError.noCollection(name) }
        return state.snapshot()
    }

    func metadata() throws -> CollectionMetadata { state.metadata(encrypted: store.isEncrypted) }

    var calibratedCurve: MatchProbability? { state.curve }

    func setCalibratedCurve(_ curve: MatchProbability) throws {
        try store.setCurve(curve, of: state)
    }

    func identities() throws -> [String: String] { state.identityMap() }
}
