import Foundation
import Synchronization

/// An on-disk store: a directory with a manifest, one write-ahead journal and immutable
/// segment files (FORMAT.md). One instance per open store in a process.
///
/// **Writes** go through group commit: callers append records to a pending list under the
/// commit lock; one of them (the leader) writes every pending record with one `pwrite`, makes
/// them durable with one `fsync`, applies them to memory in sequence order, and wakes the
/// others. Nothing returns before its record is durable. A failed fsync, or a write failing
/// for another reason than a full disk, turns the store read-only for good (`readOnly`): the
/// fsync is never retried, since the kernel may have dropped the pages it failed to write. A
/// full disk only fails the writes it hits (FORMAT.md §8).
///
/// **Checkpoint.** When a collection's tail passes ``sealRows`` rows, or the journal passes
/// ``journalLimit`` bytes, the leader seals each tail into a segment file, starts a new
/// journal, publishes both in a new manifest (atomic replace) and deletes the old journal.
///
/// **Locking.** In `.file` mode a writer holds an exclusive `flock` on `LOCK` for as long as it
/// is open; another process opening the store meanwhile gets a read-only view (writes throw
/// `storeLocked`), caught up each time it loads a collection. In shared mode every process
/// takes the lock for one write at a time (Store+Shared.swift).
final class Store: @unchecked Sendable {
    let path: String
    let fileSystem: any FileSystem
    /// The store's files: reading and writing the manifest and journal, creating and removing.
    let directory: StoreDirectory
    let durability: Durability
    /// Opened read-only on request: never writes, creates, truncates or deletes a byte.
    let isReadOnlyRequested: Bool

    static let defaultSealRows = 65_536
    static let defaultJournalLimit = 64 << 20
    let sealRows: Int
    let journalLimit: Int
    let compactionPolicy: CompactionPolicy
    /// Shared mode (`.shared`): several processes write, each taking the store lock for one
    /// write at a time and catching up with the others first (Store+Shared.swift).
    let isShared: Bool
    /// Held for the whole of a compaction: one at a time, explicit or background.
    let compactionLock = NSLock()
    /// Background compactions queued or running; ``close()`` waits for them.
    let compactionsRunning = DispatchGroup()
    /// An encrypted store's keys; nil for a plaintext store.
    let cipher: StoreCipher?
    var isEncrypted: Bool { cipher != nil }

    /// Everything about the open store that changes, reachable only with the commit lock held.
    struct State {
        /// The `LOCK` file, held open (and `flock`ed in `.file` mode) by a process that may
        /// write; nil for a read-only view.
        var lockDescriptor: Int32?
        /// The journal's appending end: the writer's (and in shared mode every process's).
        var journal: JournalWriter?
        var manifest: Manifest
        /// The end of the journal's records applied here.
        var journalLength = 0
        var nextSequence: UInt64 = 1
        /// Records appended and waiting for the leader (``Store/commit(collection:type:prepare:)``).
        var pending: [PendingRecord] = []
        /// Whether a background compaction is queued (``Store/scheduleCompactionIfDue()``).
        var compactionScheduled = false
        /// Whether some thread leads: writes the journal or manifest, or catches up. The
        /// others wait, and the leader may give the lock up during its I/O.
        var leaderActive = false
        /// The failure that turned the store read-only for good.
        var failure: LineupError?
        var closed = false
        var collections: [ExactText: CollectionState] = [:]
        /// How deep this process is in the shared lock.
        var sharedLockDepth = 0
        /// Set when a commit gave the store lock back before its fsync
        /// (``Store/releaseSharedLockEarly()``).
        var sharedLockReleasedEarly = false
        /// The manifest file as of the last catch-up.
        var manifestStamp: FileStamp?
        /// The manifest file as of the last catch-up of a writer in shared mode, held open:
        /// while it still has a name, no process has replaced it (a replacement renames a new
        /// file over it, and an open file's inode cannot be reused), so the writer need not
        /// read it again.
        var heldManifest: (descriptor: Int32, generation: UInt64)?
    }

    /// The commit lock, with the state it guards.
    let commitLock: CommitLock<State>

    /// The state; the commit lock must be held.
    var locked: State {
        _read { yield commitLock.state }
        _modify { yield &commitLock.state }
    }

    final class PendingRecord {
        var record: JournalFormat.Record
        /// Rows the record adds to its collection's tail (an enrollment's batch; 0 for a removal).
        let rows: Int
        let apply: () -> Int
        /// Takes back what `prepare` reserved, for a change that was not written.
        let undo: () -> Void
        var result: Result<Int, LineupError>?

        init(record: JournalFormat.Record, rows: Int, apply: @escaping () -> Int, undo: @escaping () -> Void) {
            self.record = record
            self.rows = rows
            self.apply = apply
            self.undo = undo
        }
    }

    /// Whether this process may write (it holds the store's lock).
    var isWriter: Bool { commitLock.withLock { locked.lockDescriptor != nil } }

    /// Opens the store at `path`, creating it when missing (its parent directory must exist),
    /// unless `readOnly`. A new store is encrypted when `passphrase` is given; an existing one
    /// must be opened with its passphrase exactly when it is encrypted.
    ///
    /// - Throws: `wrongEncryptionKey` for a missing, superfluous or wrong passphrase.
    init(path: String, fileSystem: any FileSystem = PosixFileSystem.shared, readOnly: Bool = false,
         durability: Durability = .full, sealRows: Int = Store.defaultSealRows,
         journalLimit: Int = Store.defaultJournalLimit, passphrase: String? = nil,
         kdfIterations: Int = KeyFile.defaultIterations, compaction: CompactionPolicy = .manual,
         shared: Bool = false) throws {
        self.path = path
        self.fileSystem = fileSystem
        let directory = StoreDirectory(path: path, fileSystem: fileSystem)
        self.directory = directory
        self.durability = durability
        self.isReadOnlyRequested = readOnly
        self.sealRows = sealRows
        self.journalLimit = journalLimit
        self.compactionPolicy = shared ? .manual : compaction
        self.isShared = shared
        let commitLock = CommitLock(State(manifest: .empty(storeID: RecordID(high: 0, low: 0))))
        self.commitLock = commitLock

        var createdLock: Int32?
        do {
            var cipher: StoreCipher?
            // A backup interrupted before it was finished is no store (FORMAT.md §14).
            if fileSystem.fileType(directory.file(Store.backupMarkerName)) != nil {
                throw LineupError(.databaseConnectionError, "\(path) is an incomplete backup (it holds \(Store.backupMarkerName)); it cannot be opened")
            }
            if !readOnly {
                // Directory first, then the lock, then (holding it) a new store's first files,
                // so two processes creating one store at once cannot interleave.
                try directory.prepare()
                let descriptor = try fileSystem.open(directory.file(FormatConstants.lockName), writable: true, create: true, exclusive: false)
                // Shared mode waits for the lock (another process may be in the middle of a
                // write) and gives it back once the store is open.
                if try fileSystem.lock(descriptor, exclusive: true, wait: shared) {
                    createdLock = descriptor
                    cipher = try directory.createIfMissing(passphrase: passphrase, kdfIterations: kdfIterations)
                } else {
                    fileSystem.close(descriptor)
                }
            }
            if fileSystem.fileType(directory.file(FormatConstants.manifestName)) != .regular {
                throw LineupError(.databaseConnectionError, "no Lineup store at \(path)")
            }
            if createdLock == nil {
                cipher = try StoreCipher.open(path, fileSystem: fileSystem, passphrase: passphrase, writer: false)
            }
            self.cipher = cipher
            commitLock.withLock { locked.lockDescriptor = createdLock }
            if createdLock == nil { try loadAsReader() } else { try loadFromDisk(asWriter: true) }
            if shared, let createdLock { fileSystem.unlock(createdLock) }
        } catch {
            if let createdLock { fileSystem.unlock(createdLock); fileSystem.close(createdLock) }
            // Forgotten as well as closed: the deinit's closeFiles() must not close them again.
            commitLock.lock()
            let journal = commitLock.state.journal
            commitLock.state.journal = nil
            commitLock.state.lockDescriptor = nil
            commitLock.unlock()
            if let journal { fileSystem.close(journal.descriptor) }
            throw error
        }
    }

    deinit {
        closeFiles()
    }

    /// Brings this process's view up to date with another process's changes: only what is
    /// new (journal records, segments, a replaced manifest). A no-op for the one writer of a
    /// `.file` store, which makes every change itself.
    func refresh() throws {
        guard isShared || !isWriter else { return }
        try sync()
    }

    func close() {
        commitLock.withLock {
            locked.closed = true
            waitForLeader()
            // Changes queued behind the last leader are never written now.
            failPending(LineupError(.databaseNotConnected, "the store is closed"))
        }
        compactionsRunning.wait()
        closeFiles()
    }

    private func closeFiles() {
        commitLock.withLock {
            // The one writer gives the reserved space back (not after a failed write: then the
            // file stays as the failure left it, for the next open to read).
            let length = locked.journalLength
            if !isShared, locked.failure == nil, locked.lockDescriptor != nil, let journal = locked.journal,
               journal.fileSize > length {
                try? locked.journal?.cut(to: length)
            }
            if let journal = locked.journal { fileSystem.close(journal.descriptor) }
            locked.journal = nil
            if let heldManifest = locked.heldManifest { fileSystem.close(heldManifest.descriptor) }
            locked.heldManifest = nil
            if let lockDescriptor = locked.lockDescriptor {
                fileSystem.unlock(lockDescriptor)
                fileSystem.close(lockDescriptor)
            }
            locked.lockDescriptor = nil
        }
    }

    // MARK: Catalog

    var storeID: RecordID { commitLock.withLock { locked.manifest.storeID } }

    func collectionNames() -> [String] {
        commitLock.withLock { locked.collections.keys.sorted().map(\.string) }
    }

    func collection(_ name: String) throws -> CollectionState {
        guard let state = commitLock.withLock({ locked.collections[ExactText(name)] }) else { throw LineupError.noCollection(name) }
        return state
    }

    func createCollection(_ name: String, settings: CollectionSettings) throws {
        try exclusively {
            guard locked.collections[ExactText(name)] == nil else { return }
            var next = locked.manifest
            let id = next.nextCollectionID
            next.nextCollectionID += 1
            next.generation += 1
            next.collections.append(.init(id: id, name: name, settings: settings, dimension: 0, segments: []))
            try publish(next)
            locked.collections[ExactText(name)] = CollectionState(id: id, name: name, settings: settings, dimension: 0,
                                                                  segments: [], removed: [])
        }
    }

    func deleteCollection(_ name: String) throws {
        try exclusively {
            guard let state = locked.collections[ExactText(name)] else { throw LineupError.noCollection(name) }
            var next = locked.manifest
            let removedSegments = next.collections.first { $0.id == state.id }?.segments ?? []
            next.collections.removeAll { $0.id == state.id }
            next.generation += 1
            try publish(next)
            locked.collections[ExactText(name)] = nil
            state.drop()
            directory.removeSegments(removedSegments.map(\.number))
            // The journal may still hold the collection's enrollments: a checkpoint starts a new
            // one without them and deletes the old (FORMAT.md, "Compaction": erasure).
            if locked.journalLength > FormatConstants.journalHeaderSize { try checkpointAsLeader() }
        }
    }

    /// Stores `curve` as `state`'s collection's match-probability curve: one manifest
    /// replacement, durable on return, carried by every later manifest (checkpoints, imports,
    /// compactions) until replaced.
    ///
    /// - Throws: `noCollectionFound` once deleted; `readOnly` after a failed write.
    func setCurve(_ curve: MatchProbability, of state: CollectionState) throws {
        try exclusively {
            guard !state.isDropped, let index = locked.manifest.collections.firstIndex(where: { $0.id == state.id }) else {
                throw LineupError.noCollection(state.name)
            }
            var next = locked.manifest
            next.collections[index].curve = curve
            next.generation += 1
            try publish(next)
            state.curve = curve
        }
    }

    // MARK: Leading

    /// Waits until no thread of this process leads. The commit lock held (given up meanwhile).
    func waitForLeader() {
        while locked.leaderActive { commitLock.wait() }
    }

    /// Waits to become the one writer of this process: checks that the store may be written,
    /// waits for the leader, and checks again (the leader may have failed meanwhile). The
    /// commit lock held.
    func waitToWrite() throws {
        try checkWritable()
        waitForLeader()
        try checkWritable()
    }

    /// Runs `body` as the leader: this process's other writers wait until it returns, while
    /// `body` may give the commit lock up during its I/O (holding it again when it returns).
    /// Called with the commit lock held and no leader active.
    func asLeader<R>(_ body: () throws -> R) rethrows -> R {
        locked.leaderActive = true
        defer {
            locked.leaderActive = false
            commitLock.broadcast()
        }
        return try body()
    }

    /// Seals and checkpoints as the leader; throws what the checkpoint reports. Called with
    /// the commit lock held and no leader active.
    func checkpointAsLeader() throws {
        try asLeader {
            if let problem = checkpoint() { throw problem }
        }
    }

    /// Runs `body` as the only writer of the journal and manifest, the commit lock held.
    ///
    /// In shared mode it also holds the store lock, having caught up with other processes.
    func exclusively<R>(_ body: () throws -> R) throws -> R {
        commitLock.lock()
        defer { commitLock.unlock() }
        try waitToWrite()
        guard isShared else { return try body() }
        return try asSharedWriter(body)
    }

    /// Runs `body` as this process's only writer holding the store lock (shared mode), caught
    /// up with the other processes. Called with the commit lock held and no leader active.
    private func asSharedWriter<R>(_ body: () throws -> R) throws -> R {
        try asLeader {
            try acquireSharedLock()
            defer { releaseSharedLock() }
            return try body()
        }
    }

    func checkWritable() throws {
        if isReadOnlyRequested { throw LineupError(.readOnly, "the store was opened read-only") }
        if locked.closed { throw LineupError(.databaseNotConnected, "the store is closed") }
        if let failure = locked.failure { throw failure }
        if locked.lockDescriptor == nil {
            throw LineupError(.storeLocked, "another process is writing this store; it is open read-only here")
        }
    }

    /// Turns the store read-only for good after `error` (FORMAT.md §8) and returns the
    /// failure every later write throws. The commit lock held.
    @discardableResult
    func turnReadOnly(after what: String, _ error: LineupError) -> LineupError {
        let failure = LineupError(.readOnly, "the store turned read-only after \(what)", cause: error)
        locked.failure = failure
        return failure
    }

    /// Publishes `next` as the manifest; a failure turns the store read-only.
    func publish(_ next: Manifest) throws {
        do {
            try directory.writeManifest(next, cipher: cipher)
            locked.manifest = next
        } catch let error as LineupError {
            throw turnReadOnly(after: "a failed manifest write", error)
        }
    }

    // MARK: Group commit

    /// Appends a record and waits until it is durable and applied. `prepare` runs under the
    /// commit lock: it validates the change against the state including changes in flight
    /// (throwing changes nothing) and returns the record's payload, the in-memory `apply`,
    /// which runs under the lock once the record is durable, in sequence order, and returns
    /// the call's count, and `undo`, which takes back what `prepare` reserved when the record
    /// could not be written.
    /// `rows` is how many rows the record adds to the collection's tail (0 for a removal).
    func commit(collection state: CollectionState, type: RecordType, rows: Int = 0,
                prepare: () throws -> (payload: [UInt8], apply: () -> Int, undo: () -> Void)) throws -> Int {
        commitLock.lock()
        defer { commitLock.unlock() }
        try checkWritable()
        guard !state.isDropped else { throw LineupError.noCollection(state.name) }
        func append() throws -> PendingRecord {
            let (payload, apply, undo) = try prepare()
            let entry = PendingRecord(record: .init(sequence: locked.nextSequence, collectionID: state.id, type: type,
                                                    isCommit: false, payload: payload), rows: rows, apply: apply, undo: undo)
            locked.nextSequence += 1
            return entry
        }
        if isShared {
            // One record at a time, the store lock held, validated against the state as caught
            // up with the other processes.
            try waitToWrite()
            return try asSharedWriter {
                guard !state.isDropped else { throw LineupError.noCollection(state.name) }
                let entry = try append()
                writeGroup([entry])
                return try entry.result!.get()
            }
        }
        let entry = try append()
        locked.pending.append(entry)
        while entry.result == nil {
            if locked.leaderActive {
                commitLock.wait()
            } else if locked.closed {
                failPending(LineupError(.databaseNotConnected, "the store is closed"))
            } else {
                asLeader {
                    let batch = locked.pending
                    locked.pending = []
                    writeGroup(batch)
                }
            }
        }
        return try entry.result!.get()
    }

    /// Fails every change still waiting for a leader with `error`, taking back what each
    /// reserved, latest first, so that the sequence numbers stay contiguous. The commit lock
    /// held, no leader active.
    private func failPending(_ error: LineupError) {
        let dropped = locked.pending
        guard let first = dropped.first else { return }
        locked.pending = []
        for entry in dropped.reversed() {
            entry.undo()
            entry.result = .failure(error)
        }
        locked.nextSequence = first.record.sequence
        commitLock.broadcast()
    }

    /// Writes and syncs `batch` as one commit group, applies it, and checkpoints when due.
    /// Called by the leader with the lock held; releases it during I/O.
    ///
    /// In shared mode, with the store lock held once (a commit, not a compaction): once the group
    /// is written, the store lock goes back before the fsync, so that another process appends
    /// its record while this one waits for the disk — their syncs overlap. That is safe: a
    /// record is acknowledged only after an fsync of the journal, which makes every byte
    /// before it durable too, and a checkpoint by the other process seals this record into a
    /// segment (synced) before it deletes the journal. A group after which a checkpoint may be
    /// due keeps the lock (a checkpoint needs it).
    private func writeGroup(_ batch: [PendingRecord]) {
        if let failure = locked.failure {
            for entry in batch.reversed() {
                entry.undo()
                entry.result = .failure(failure)
            }
            if let first = batch.first { locked.nextSequence = first.record.sequence }
            return
        }
        let writer = locked.journal!
        let offset = locked.journalLength
        let releaseEarly = isShared && locked.sharedLockDepth == 1
        let largestTail = releaseEarly ? locked.collections.values.reduce(0) { max($0, $1.tail.rowCount) } : 0
        let addedRows = batch.reduce(0) { $0 + $1.rows }
        // Encoding and I/O happen without the lock, so callers keep queueing meanwhile.
        commitLock.unlock()
        var append = JournalWriter.Append(offset: offset, bytes: [])
        var ioFailure: LineupError?
        var written = false   // past the write: a failure now is the fsync's
        do {
            append = try writer.encodeGroup(batch.map(\.record), at: offset, cipher: cipher)
            try writer.write(&append)
            written = true
            if releaseEarly && append.end < journalLimit && largestTail + addedRows < sealRows {
                releaseSharedLockEarly()
            }
            if durability == .full { try writer.sync() }
        } catch {
            ioFailure = .from(error)
        }
        commitLock.lock()
        guard let ioFailure else {
            locked.journalLength = append.end
            locked.journal?.didAppend(append)
            for entry in batch { entry.result = .success(entry.apply()) }
            // Not in shared mode once the store lock went back early (a checkpoint needs it;
            // the next commit makes it, holding the lock).
            if checkpointDue() && (!isShared || locked.sharedLockDepth > 0) { checkpoint() }
            scheduleCompactionIfDue()
            return
        }
        let notDurable = LineupError(ioFailure.code, "the change was not made durable", cause: ioFailure)
        // A full disk refused the write (no fsync failed, nothing durable was lost): cut what
        // may have been written and go on — writes resume once there is space. Every change
        // waiting behind this group fails with it, so that the sequence numbers stay
        // contiguous. Any other failure is for good (FORMAT.md §8).
        if !written, ioFailure.isNoSpace, (try? locked.journal?.cut(to: offset)) != nil {
            let dropped = batch + locked.pending
            locked.pending = []
            for entry in dropped.reversed() {
                entry.undo()
                entry.result = .failure(notDurable)
            }
            locked.nextSequence = batch[0].record.sequence
        } else {
            let failure = turnReadOnly(after: "a failed journal write", ioFailure)
            // What reserved state the changes hold goes back, as for a full disk: the group's
            // changes fail as not durable, those queued behind it with the store's failure.
            let queued = locked.pending
            locked.pending = []
            for entry in queued.reversed() {
                entry.undo()
                entry.result = .failure(failure)
            }
            for entry in batch.reversed() {
                entry.undo()
                entry.result = .failure(notDurable)
            }
            locked.nextSequence = batch[0].record.sequence
        }
    }

    private func checkpointDue() -> Bool {
        locked.journalLength >= journalLimit || locked.collections.values.contains { $0.tail.rowCount >= sealRows }
    }
}
