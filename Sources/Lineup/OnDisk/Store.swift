import Foundation
import Synchronization

/// How far an acknowledged change survives (FORMAT.md, "Durability").
public enum Durability: Sendable, Equatable {
    /// Every commit group is fsynced before any of its calls returns: an acknowledged change
    /// survives a process crash and a power loss. The default.
    case full
    /// Commit groups are written to the journal but not fsynced: an acknowledged change
    /// survives a crash of the process (the kernel holds the written pages), not a power loss
    /// or a kernel crash, which may lose the most recent changes (never corrupt older ones).
    case processCrash
}

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
    let durability: Durability
    /// Opened read-only on request: never writes, creates, truncates or deletes a byte.
    let isReadOnlyRequested: Bool

    static let defaultSealRows = 65_536
    static let defaultJournalLimit = 64 << 20
    /// The most zero bytes a commit group that passes the end of the journal file writes after
    /// itself, so that the groups after it overwrite space the file already has: their fsync
    /// then changes no metadata (FORMAT.md §5, "Reserved space"). A small journal reserves as
    /// much as it holds, from 16 KiB: the file doubles up to this step, then grows by it.
    static let journalReservation = 1 << 20
    static let smallestJournalReservation = 16 << 10
    let sealRows: Int
    let journalLimit: Int
    let compactionPolicy: CompactionPolicy
    /// Shared mode (`.shared`): several processes write, each taking the store lock for one
    /// write at a time and catching up with the others first (Store+Shared.swift).
    let isShared: Bool
    /// How deep this process is in the shared lock (guarded by `leaderActive` ownership).
    var sharedLockDepth = 0
    /// Set when a commit gave the store lock back before its fsync (``releaseSharedLockEarly()``).
    var sharedLockReleasedEarly = false
    /// The manifest file as of the last catch-up (guarded by `condition`).
    var manifestStamp: FileStamp?
    /// The manifest file as of the last catch-up of a writer in shared mode, held open: while
    /// it still has a name, no process has replaced it (a replacement renames a new file over
    /// it, and an open file's inode cannot be reused), so the writer need not read it again.
    /// Guarded by `leaderActive` ownership.
    var heldManifest: (descriptor: Int32, generation: UInt64)?
    /// Held for the whole of a compaction: one at a time, explicit or background.
    let compactionLock = NSLock()
    /// Background compactions queued or running; ``close()`` waits for them.
    let compactionsRunning = DispatchGroup()
    /// An encrypted store's keys; nil for a plaintext store.
    let cipher: StoreCipher?
    var isEncrypted: Bool { cipher != nil }

    let condition = NSCondition()
    // Everything below is guarded by `condition`.
    var lockDescriptor: Int32?
    var journalDescriptor: Int32?
    var manifest: Manifest
    var journalLength = 0
    /// The journal file's size as last seen: its records, then reserved zeros.
    var journalFileSize = 0
    var nextSequence: UInt64 = 1
    private var pending: [PendingRecord] = []
    /// Whether a background compaction is queued (``scheduleCompactionIfDue()``).
    var compactionScheduled = false
    var leaderActive = false
    var failure: LineupError?
    var closed = false
    var collections: [ExactText: CollectionState] = [:]

    final class PendingRecord {
        var record: JournalFormat.Record
        let apply: () -> Int
        /// Takes back what `prepare` reserved, for a change that was not written.
        let undo: () -> Void
        var result: Result<Int, LineupError>?

        init(record: JournalFormat.Record, apply: @escaping () -> Int, undo: @escaping () -> Void) {
            self.record = record
            self.apply = apply
            self.undo = undo
        }
    }

    /// Whether this process may write (it holds the store's lock).
    var isWriter: Bool { condition.withLock { lockDescriptor != nil } }

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
        self.durability = durability
        self.isReadOnlyRequested = readOnly
        self.sealRows = sealRows
        self.journalLimit = journalLimit
        self.compactionPolicy = shared ? .manual : compaction
        self.isShared = shared
        self.manifest = .empty(storeID: RecordID(high: 0, low: 0))

        var createdLock: Int32?
        do {
            var cipher: StoreCipher?
            // A backup interrupted before it was finished is no store (FORMAT.md §14).
            if fileSystem.fileType(path + "/" + Store.backupMarkerName) != nil {
                throw LineupError(.databaseConnectionError, "\(path) is an incomplete backup (it holds \(Store.backupMarkerName)); it cannot be opened")
            }
            if !readOnly {
                // Directory first, then the lock, then (holding it) a new store's first files,
                // so two processes creating one store at once cannot interleave.
                try Store.prepareDirectory(path, fileSystem: fileSystem)
                let descriptor = try fileSystem.open(path + "/" + FormatConstants.lockName, writable: true, create: true, exclusive: false)
                // Shared mode waits for the lock (another process may be in the middle of a
                // write) and gives it back once the store is open.
                if try fileSystem.lock(descriptor, exclusive: true, wait: shared) {
                    createdLock = descriptor
                    cipher = try Store.createIfMissing(path, fileSystem: fileSystem, passphrase: passphrase,
                                                       kdfIterations: kdfIterations)
                } else {
                    fileSystem.close(descriptor)
                }
            }
            if fileSystem.fileType(path + "/" + FormatConstants.manifestName) != .regular {
                throw LineupError(.databaseConnectionError, "no Lineup store at \(path)")
            }
            if createdLock == nil {
                cipher = try StoreCipher.open(path, fileSystem: fileSystem, passphrase: passphrase, writer: false)
            }
            self.cipher = cipher
            lockDescriptor = createdLock
            if createdLock == nil { try loadAsReader() } else { try loadFromDisk(asWriter: true) }
            if shared, let createdLock { fileSystem.unlock(createdLock) }
        } catch {
            if let createdLock { fileSystem.unlock(createdLock); fileSystem.close(createdLock) }
            if let journalDescriptor { fileSystem.close(journalDescriptor) }
            throw error
        }
    }

    deinit {
        closeFiles()
    }

    // MARK: Creating and loading

    /// Makes sure `path` is a directory that is, or can become, a store.
    private static func prepareDirectory(_ path: String, fileSystem: any FileSystem) throws {
        switch fileSystem.fileType(path) {
        case nil:
            do {
                try fileSystem.makeDirectory(path)
            } catch let error as LineupError {
                throw LineupError(.databaseConnectionError, "cannot create the store: \(error.message)", errno: error.underlyingErrno)
            }
        case .directory, .symbolicLink:
            break
        default:
            throw LineupError(.databaseConnectionError, "\(path) exists and is not a store directory")
        }
        if fileSystem.fileType(path + "/" + FormatConstants.manifestName) != nil { return }
        let names = (try? fileSystem.listDirectory(path)) ?? []
        guard names.allSatisfy(isLeftover) else {
            throw LineupError(.databaseConnectionError, "\(path) is a directory with other files and no Lineup manifest")
        }
    }

    /// A name an interrupted creation of a store may leave behind.
    private static func isLeftover(_ name: String) -> Bool {
        name == FormatConstants.lockName || name == FormatConstants.keyName || name.hasSuffix(".tmp")
            || (name.hasPrefix("journal-") && name.hasSuffix(".log"))
    }

    /// Writes an empty store's first files unless the manifest exists, and opens the store's
    /// keys as its writer (raising the key file's epoch). The caller holds the lock.
    private static func createIfMissing(_ path: String, fileSystem: any FileSystem, passphrase: String?,
                                        kdfIterations: Int) throws -> StoreCipher? {
        let exists = fileSystem.fileType(path + "/" + FormatConstants.manifestName) != nil
        var storeID = RecordID(high: 0, low: 0)
        if !exists {
            // A new store: the key file (when encrypted), journal 1, then the manifest that
            // names it. A crash before the manifest leaves a directory this same step recreates.
            var generator = SystemRandomNumberGenerator()
            storeID = RecordID(high: generator.next(), low: generator.next())
            if let passphrase {
                try StoreCipher.createKeyFile(in: path, fileSystem: fileSystem, storeID: storeID, passphrase: passphrase,
                                              iterations: kdfIterations)
            } else {
                try? fileSystem.unlink(path + "/" + FormatConstants.keyName)
            }
        }
        let cipher = try StoreCipher.open(path, fileSystem: fileSystem, passphrase: passphrase, writer: true)
        if exists { return cipher }
        let manifest = Manifest.empty(storeID: storeID)
        let journalPath = path + "/" + FormatConstants.journalName(manifest.journalNumber)
        try? fileSystem.unlink(journalPath)
        let journal = try fileSystem.open(journalPath, writable: true, create: true, exclusive: true)
        defer { fileSystem.close(journal) }
        let header = JournalFormat.encodeHeader(.init(storeID: storeID, journalNumber: manifest.journalNumber,
                                                      firstSequence: manifest.checkpointSequence + 1))
        try header.withUnsafeBytes { try fileSystem.write(journal, $0, at: 0) }
        try fileSystem.sync(journal)
        try writeManifest(manifest, in: path, fileSystem: fileSystem, cipher: cipher)
        return cipher
    }

    /// Writes `manifest` durably and atomically (sealed in an envelope when encrypted).
    static func writeManifest(_ manifest: Manifest, in path: String, fileSystem: any FileSystem,
                                      cipher: StoreCipher?) throws {
        let plaintext = manifest.encoded()
        let bytes = try cipher?.sealFile(kind: .manifest, number: manifest.generation, plaintext: plaintext) ?? plaintext
        try fileSystem.replaceFile(in: path, name: FormatConstants.manifestName,
                                   temporaryName: FormatConstants.manifestTemporaryName, bytes: bytes)
    }

    /// Reads and checks the manifest of the store at `path`, opening its envelope when the
    /// store is encrypted.
    ///
    /// - Throws: `corruptStore` when it is missing, damaged, or encrypted while the store is
    ///   not (or the reverse).
    static func readManifest(in path: String, fileSystem: any FileSystem, cipher: StoreCipher?) throws -> Manifest {
        let bytes: [UInt8]
        do {
            bytes = try fileSystem.readWholeFile(path + "/" + FormatConstants.manifestName)
        } catch let error as LineupError where error.code == .ioError {
            throw LineupError(.corruptStore, "the manifest is missing or unreadable: \(error.message)")
        }
        let isEnvelope = bytes.withUnsafeBytes { EnvelopeHeader.isEnvelope($0) }
        guard let cipher else {
            if isEnvelope { throw LineupError(.corruptStore, "the manifest is encrypted, and the store has no key file") }
            return try Manifest.decode(bytes)
        }
        guard isEnvelope else { throw LineupError(.corruptStore, "the manifest of an encrypted store is not encrypted") }
        let (header, region) = try cipher.openFile(bytes, kind: .manifest, number: nil, name: "the manifest")
        let manifest = try Manifest.decode(region.withUnsafeBytes { Array($0) })
        guard manifest.generation == header.number, manifest.storeID == cipher.storeID else {
            throw LineupError(.corruptStore, "the manifest belongs to another store or generation")
        }
        return manifest
    }

    /// Reads the journal `manifest` names: its valid records, payloads in plaintext.
    ///
    /// - Throws: `corruptStore` when it is missing, damaged before acknowledged records, or a
    ///   record fails its authentication.
    static func readJournal(in path: String, fileSystem: any FileSystem, manifest: Manifest,
                            cipher: StoreCipher?) throws -> (scan: JournalReader.Scan, fileLength: Int) {
        let bytes: [UInt8]
        do {
            bytes = try fileSystem.readWholeFile(path + "/" + FormatConstants.journalName(manifest.journalNumber))
        } catch let error as LineupError where error.code == .ioError {
            throw LineupError(.corruptStore, "the journal is missing or unreadable: \(error.message)")
        }
        var scan = try bytes.withUnsafeBytes {
            try JournalReader.scan($0, journalNumber: manifest.journalNumber, storeID: manifest.storeID)
        }
        guard scan.header.firstSequence == manifest.checkpointSequence + 1 else {
            throw LineupError(.corruptStore, "the journal does not continue the manifest's checkpoint")
        }
        if let cipher {
            for index in scan.records.indices {
                scan.records[index].payload = try cipher.openJournalRecord(scan.records[index], journalNumber: manifest.journalNumber,
                                                                           offset: scan.offsets[index])
            }
        }
        return (scan, bytes.count)
    }

    private func readFile(_ name: String) throws -> [UInt8] {
        try fileSystem.readWholeFile(path + "/" + name)
    }

    /// Reads the manifest, maps the segments, replays the journal after the checkpoint, and
    /// (as the writer) cuts a torn journal tail and deletes orphaned files. Cost: the number of
    /// segments plus the journal tail — plus, for now, one checksum pass over each segment.
    ///
    /// `asWriter` (this process holds the store lock) also cuts a torn tail, deletes orphans
    /// and opens the journal for appending. Segments this process has mapped already are
    /// reused, and collections it has loaded keep their objects (updated in place), so that
    /// loading again, or catching up with another process, costs only what changed.
    func loadFromDisk(asWriter: Bool) throws {
        let manifest = try Store.readManifest(in: path, fileSystem: fileSystem, cipher: cipher)
        let existing = condition.withLock { collections }
        var mapped: [UInt64: Segment] = [:]
        for state in existing.values {
            for segment in state.sealed().segments { mapped[segment.header.segmentNumber] = segment }
        }
        var states: [UInt32: CollectionState] = [:]
        for entry in manifest.collections {
            var segments: [Segment] = []
            var removed: [DeletionBitmap?] = []
            for segmentEntry in entry.segments {
                let segment: Segment
                if let known = mapped[segmentEntry.number], known.fileSize == segmentEntry.fileSize,
                   known.header.collectionID == entry.id {
                    segment = known
                } else {
                    segment = try Segment(fileSystem: fileSystem, path: path + "/" + FormatConstants.segmentName(segmentEntry.number),
                                          number: segmentEntry.number, collectionID: entry.id,
                                          fileSize: segmentEntry.fileSize, storeID: manifest.storeID,
                                          verification: .vectorsOnFirstUse, cipher: cipher)
                }
                guard segment.rowCount == segmentEntry.rowCount, segment.header.dimension == entry.dimension,
                      segment.header.encoding == entry.settings.compression else {
                    throw LineupError(.corruptStore, "segment \(FormatConstants.segmentName(segmentEntry.number)) does not match the manifest")
                }
                segments.append(segment)
                removed.append(segmentEntry.removedRows.isEmpty ? nil
                               : DeletionBitmap(rows: segment.rowCount).removing(segmentEntry.removedRows.map { Int($0) }, capacity: segment.rowCount))
            }
            states[entry.id] = CollectionState(id: entry.id, name: entry.name, settings: entry.settings,
                                               dimension: entry.dimension, segments: segments, removed: removed)
        }

        // The journal after the checkpoint.
        let journalName = FormatConstants.journalName(manifest.journalNumber)
        let (scan, fileLength) = try Store.readJournal(in: path, fileSystem: fileSystem, manifest: manifest, cipher: cipher)
        // A reader applies whole commit groups only: a group still being written (or cut back
        // after a full disk) is left for the next catch-up.
        let appliedRecords = asWriter ? scan.records.count : JournalReader.wholeGroupCount(scan.records)
        let validLength = appliedRecords < scan.records.count ? scan.offsets[appliedRecords] : scan.validLength
        for record in scan.records.prefix(appliedRecords) {
            try Store.apply(record, to: states)
        }

        var journalDescriptor: Int32?
        let knownJournal = condition.withLock { self.journalDescriptor == nil ? nil : self.manifest.journalNumber }
        if asWriter || (isShared && lockDescriptor != nil && knownJournal != manifest.journalNumber) {
            // The writer's own journal; in shared mode also after another process started a
            // new one (this process may append to it later, once it holds the lock).
            let descriptor = try fileSystem.open(path + "/" + journalName, writable: true, create: false, exclusive: false)
            journalDescriptor = descriptor
        }
        if asWriter, let descriptor = journalDescriptor {
            if scan.hasTornTail {
                do {
                    try fileSystem.truncate(descriptor, to: scan.validLength)
                    try fileSystem.sync(descriptor)
                } catch {
                    fileSystem.close(descriptor)
                    throw error
                }
            }
            removeOrphans(manifest)
        }
        condition.withLock {
            self.manifest = manifest
            if let journalDescriptor {
                if let old = self.journalDescriptor { fileSystem.close(old) }
                self.journalDescriptor = journalDescriptor
            }
            self.journalLength = validLength
            self.journalFileSize = asWriter && scan.hasTornTail ? scan.validLength : fileLength
            self.nextSequence = scan.header.firstSequence + UInt64(appliedRecords)
            // Loaded collections keep their objects: the new state moves into them.
            var merged: [ExactText: CollectionState] = [:]
            let existingByID = Dictionary(uniqueKeysWithValues: existing.values.map { ($0.id, $0) })
            for state in states.values {
                if let old = existingByID[state.id] {
                    old.adopt(state)
                    merged[ExactText(old.name)] = old
                } else {
                    merged[ExactText(state.name)] = state
                }
            }
            for old in existing.values where states[old.id] == nil { old.drop() }
            self.collections = merged
        }
    }

    /// Applies one journal record to the collection it names (none: a deleted collection).
    ///
    /// - Throws: `corruptStore` for a malformed record or one that does not fit.
    static func apply(_ record: JournalFormat.Record, to states: [UInt32: CollectionState]) throws {
        guard let state = states[record.collectionID] else { return }
        switch record.type {
        case .enroll:
            guard let entries = try? JournalFormat.decodeEnrollments(record.payload, compression: state.settings.compression) else {
                throw LineupError(.corruptStore, "journal record \(record.sequence) is malformed")
            }
            do {
                try state.applyEnroll(entries.map {
                    PreparedEnrollment(id: $0.id, identity: $0.identity, vector: $0.vector, dimension: $0.dimension)
                })
            } catch {
                throw LineupError(.corruptStore, "journal record \(record.sequence) does not fit its collection")
            }
            state.reservedDimension = state.dimension
        case .remove:
            guard let ids = try? JournalFormat.decodeRemovals(record.payload) else {
                throw LineupError(.corruptStore, "journal record \(record.sequence) is malformed")
            }
            state.applyRemove(ids)
        }
    }

    /// Deletes files a crash left behind: segments and journals no manifest names, temporaries.
    private func removeOrphans(_ manifest: Manifest) {
        let live = Set(manifest.collections.flatMap { $0.segments.map { FormatConstants.segmentName($0.number) } })
            .union([FormatConstants.journalName(manifest.journalNumber), FormatConstants.manifestName, FormatConstants.lockName])
        for name in (try? fileSystem.listDirectory(path)) ?? [] where !live.contains(name) {
            if name.hasSuffix(".tmp") || (name.hasPrefix("segment-") && name.hasSuffix(".seg"))
                || (name.hasPrefix("journal-") && name.hasSuffix(".log")) {
                try? fileSystem.unlink(path + "/" + name)
            }
        }
    }

    /// Brings this process's view up to date with another process's changes: only what is
    /// new (journal records, segments, a replaced manifest). A no-op for the one writer of a
    /// `.file` store, which makes every change itself.
    func refresh() throws {
        guard isShared || !isWriter else { return }
        try sync()
    }

    /// A reader's load: the writer may checkpoint between our reading the manifest and the
    /// journal it names (and delete that journal). When a load fails and the manifest has
    /// changed meanwhile, it is tried again.
    private func loadAsReader() throws {
        var attempt = 0
        while true {
            let before = try? readFile(FormatConstants.manifestName)
            do {
                try loadFromDisk(asWriter: false)
                return
            } catch let error as LineupError where error.code == .corruptStore && attempt < 8 {
                guard let after = try? readFile(FormatConstants.manifestName), after != before else { throw error }
                attempt += 1
            }
        }
    }

    func close() {
        condition.withLock {
            closed = true
            while leaderActive { condition.wait() }
        }
        compactionsRunning.wait()
        closeFiles()
    }

    private func closeFiles() {
        condition.withLock {
            // The one writer gives the reserved space back (not after a failed write: then the
            // file stays as the failure left it, for the next open to read).
            if !isShared, failure == nil, lockDescriptor != nil, let journalDescriptor, journalFileSize > journalLength,
               (try? fileSystem.truncate(journalDescriptor, to: journalLength)) != nil {
                journalFileSize = journalLength
            }
            if let journalDescriptor { fileSystem.close(journalDescriptor) }
            journalDescriptor = nil
            if let heldManifest { fileSystem.close(heldManifest.descriptor) }
            heldManifest = nil
            if let lockDescriptor {
                fileSystem.unlock(lockDescriptor)
                fileSystem.close(lockDescriptor)
            }
            lockDescriptor = nil
        }
    }

    // MARK: Catalog

    var storeID: RecordID { condition.withLock { manifest.storeID } }

    func collectionNames() -> [String] {
        condition.withLock { collections.keys.sorted().map(\.string) }
    }

    func collection(_ name: String) throws -> CollectionState {
        guard let state = condition.withLock({ collections[ExactText(name)] }) else { throw LineupError.noCollection(name) }
        return state
    }

    func createCollection(_ name: String, settings: CollectionSettings) throws {
        try exclusively {
            guard collections[ExactText(name)] == nil else { return }
            var next = manifest
            let id = next.nextCollectionID
            next.nextCollectionID += 1
            next.generation += 1
            next.collections.append(.init(id: id, name: name, settings: settings, dimension: 0, segments: []))
            try publish(next)
            collections[ExactText(name)] = CollectionState(id: id, name: name, settings: settings, dimension: 0, segments: [], removed: [])
        }
    }

    func deleteCollection(_ name: String) throws {
        try exclusively {
            guard let state = collections[ExactText(name)] else { throw LineupError.noCollection(name) }
            var next = manifest
            let removedSegments = next.collections.first { $0.id == state.id }?.segments ?? []
            next.collections.removeAll { $0.id == state.id }
            next.generation += 1
            try publish(next)
            collections[ExactText(name)] = nil
            state.drop()
            for segment in removedSegments {
                try? fileSystem.unlink(path + "/" + FormatConstants.segmentName(segment.number))
            }
            // The journal may still hold the collection's enrollments: a checkpoint starts a new
            // one without them and deletes the old (FORMAT.md, "Compaction": erasure).
            if journalLength > FormatConstants.journalHeaderSize {
                leaderActive = true
                let problem = checkpoint()
                leaderActive = false
                condition.broadcast()
                if let problem { throw problem }
            }
        }
    }

    // MARK: Group commit

    /// Runs `body` as the only writer of the journal and manifest, the commit lock held.
    ///
    /// In shared mode it also holds the store lock, having caught up with other processes.
    func exclusively<R>(_ body: () throws -> R) throws -> R {
        condition.lock()
        defer { condition.unlock() }
        try checkWritable()
        while leaderActive { condition.wait() }
        try checkWritable()
        guard isShared else { return try body() }
        return try asSharedWriter(body)
    }

    /// Runs `body` as this process's only writer holding the store lock (shared mode), caught
    /// up with the other processes. Called with the commit lock held and no leader active.
    private func asSharedWriter<R>(_ body: () throws -> R) throws -> R {
        leaderActive = true
        defer {
            leaderActive = false
            condition.broadcast()
        }
        try acquireSharedLock()
        defer { releaseSharedLock() }
        return try body()
    }

    func checkWritable() throws {
        if isReadOnlyRequested { throw LineupError(.readOnly, "the store was opened read-only") }
        if closed { throw LineupError(.databaseNotConnected, "the store is closed") }
        if let failure { throw failure }
        if lockDescriptor == nil {
            throw LineupError(.storeLocked, "another process is writing this store; it is open read-only here")
        }
    }

    /// Publishes `next` as the manifest; a failure turns the store read-only.
    func publish(_ next: Manifest) throws {
        do {
            try Store.writeManifest(next, in: path, fileSystem: fileSystem, cipher: cipher)
            manifest = next
        } catch let error as LineupError {
            failure = LineupError(.readOnly, "the store turned read-only after a failed manifest write: \(error.message)", errno: error.underlyingErrno)
            throw failure!
        }
    }

    /// Appends a record and waits until it is durable and applied. `prepare` runs under the
    /// commit lock: it validates the change against the state including changes in flight
    /// (throwing changes nothing) and returns the record's payload, the in-memory `apply`,
    /// which runs under the lock once the record is durable, in sequence order, and returns
    /// the call's count, and `undo`, which takes back what `prepare` reserved when the record
    /// could not be written.
    func commit(collection state: CollectionState, type: RecordType,
                prepare: () throws -> (payload: [UInt8], apply: () -> Int, undo: () -> Void)) throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        try checkWritable()
        guard !state.isDropped else { throw LineupError.noCollection(state.name) }
        if isShared {
            // One record at a time, the store lock held, validated against the state as caught
            // up with the other processes.
            while leaderActive { condition.wait() }
            try checkWritable()
            return try asSharedWriter {
                guard !state.isDropped else { throw LineupError.noCollection(state.name) }
                let (payload, apply, undo) = try prepare()
                let entry = PendingRecord(record: .init(sequence: nextSequence, collectionID: state.id, type: type,
                                                        isCommit: false, payload: payload), apply: apply, undo: undo)
                nextSequence += 1
                writeGroup([entry])
                return try entry.result!.get()
            }
        }
        let (payload, apply, undo) = try prepare()
        let entry = PendingRecord(record: .init(sequence: nextSequence, collectionID: state.id, type: type,
                                                isCommit: false, payload: payload), apply: apply, undo: undo)
        nextSequence += 1
        pending.append(entry)
        while entry.result == nil {
            if leaderActive {
                condition.wait()
            } else {
                lead()
            }
        }
        return try entry.result!.get()
    }

    /// Writes and syncs every pending record, applies them, and checkpoints when due. Called
    /// with the lock held; releases it during I/O.
    private func lead() {
        leaderActive = true
        let batch = pending
        pending = []
        writeGroup(batch)
        leaderActive = false
        condition.broadcast()
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
        if let failure {
            for entry in batch { entry.result = .failure(failure) }
        } else {
            let descriptor = journalDescriptor!
            let offset = journalLength
            let fileSize = journalFileSize
            let journalNumber = manifest.journalNumber
            let releaseEarly = isShared && sharedLockDepth == 1
            let largestTail = releaseEarly ? collections.values.reduce(0) { max($0, $1.tail.rowCount) } : 0
            // Encoding and I/O happen without the lock, so callers keep queueing meanwhile.
            condition.unlock()
            var bytes: [UInt8] = []
            var reserved = 0
            var ioFailure: LineupError?
            var written = false   // past the write: a failure now is the fsync's
            do {
                for (index, entry) in batch.enumerated() {
                    var record = entry.record
                    record.isCommit = index == batch.count - 1
                    record.isFirst = index == 0
                    if let cipher {
                        record = try cipher.sealJournalRecord(record, journalNumber: journalNumber, offset: offset + bytes.count)
                    }
                    bytes += JournalFormat.encodeRecord(record, journalNumber: journalNumber)
                }
                func write(_ bytes: [UInt8]) throws {
                    try bytes.withUnsafeBytes { try fileSystem.write(descriptor, $0, at: offset) }
                }
                reserved = reservation(after: offset + bytes.count, fileSize: fileSize)
                do {
                    try write(reserved > 0 ? bytes + repeatElement(0, count: reserved) : bytes)
                } catch let error as LineupError where reserved > 0 && [ENOSPC, EDQUOT].contains(error.underlyingErrno) {
                    // No room to reserve: the group alone (what the refused write left past
                    // it is a prefix of the group and the zeros, which the group overwrites).
                    reserved = 0
                    try write(bytes)
                }
                written = true
                if releaseEarly && offset + bytes.count < journalLimit && largestTail + batch.count < sealRows {
                    releaseSharedLockEarly()
                }
                if durability == .full { try fileSystem.sync(descriptor) }
            } catch let error as LineupError {
                ioFailure = error
            } catch {
                ioFailure = LineupError(.ioError, "\(error)")
            }
            condition.lock()
            if let ioFailure {
                let notDurable = LineupError(ioFailure.code, "the change was not made durable: \(ioFailure.message)",
                                             errno: ioFailure.underlyingErrno)
                // A full disk refused the write (no fsync failed, nothing durable was lost):
                // cut what may have been written and go on — writes resume once there is
                // space. Every change waiting behind this group fails with it, so that the
                // sequence numbers stay contiguous. Any other failure is for good (FORMAT.md §8).
                if !written, [ENOSPC, EDQUOT].contains(ioFailure.underlyingErrno),
                   (try? fileSystem.truncate(descriptor, to: offset)) != nil {
                    journalFileSize = offset
                    let dropped = batch + pending
                    pending = []
                    for entry in dropped.reversed() {
                        entry.undo()
                        entry.result = .failure(notDurable)
                    }
                    nextSequence = batch[0].record.sequence
                } else {
                    failure = LineupError(.readOnly, "the store turned read-only after a failed journal write: \(ioFailure.message)",
                                          errno: ioFailure.underlyingErrno)
                    for entry in batch { entry.result = .failure(notDurable) }
                }
            } else {
                journalLength += bytes.count
                journalFileSize = max(journalFileSize, journalLength + reserved)
                for entry in batch { entry.result = .success(entry.apply()) }
                if checkpointDue() { checkpoint() }
                scheduleCompactionIfDue()
            }
        }
    }

    /// How many zero bytes to write after a group ending at `end`: none while the file has
    /// space past it, none past the journal limit (a checkpoint starts a new journal there).
    private func reservation(after end: Int, fileSize: Int) -> Int {
        guard end > fileSize, end < journalLimit else { return 0 }
        return min(Store.journalReservation, max(Store.smallestJournalReservation, end), journalLimit - end)
    }

    private func checkpointDue() -> Bool {
        journalLength >= journalLimit || collections.values.contains { $0.tail.rowCount >= sealRows }
    }

    /// Seals every tail into a segment, starts a new journal, and publishes both. Called by the
    /// leader with the lock held (released during I/O); other writers wait meanwhile.
    ///
    /// Returns the error when it failed for want of space and left the store as it was
    /// (writable; the journal still holds everything); other failures turn the store read-only.
    @discardableResult
    func checkpoint() -> LineupError? {
        let states = Array(collections.values)
        var next = manifest
        let checkpointSequence = nextSequence - 1 - UInt64(pending.count)
        condition.unlock()
        var sealed: [(CollectionState, Segment?)] = []
        var oldJournal: Int32?
        var newJournal: Int32?
        var publishing = false
        do {
            for state in states {
                let tail = state.tail
                let rows = tail.liveRows()
                var segment: Segment?
                if !rows.isEmpty {
                    let number = next.nextSegmentNumber
                    next.nextSegmentNumber += 1
                    segment = try writeSegment(number: number, for: state, dimension: tail.dimension,
                                               count: rows.count, storeID: next.storeID) { index in
                        let (chunk, row) = rows[index]
                        return SegmentWriter.Row(id: chunk.recordID(at: row), identity: chunk.identity(at: row),
                                                 vector: chunk.storedBytes(at: row), scale: chunk.scale(at: row))
                    }
                }
                sealed.append((state, segment))
            }
            // The new journal, then the manifest that names it and the new segments.
            next.generation += 1
            next.journalNumber += 1
            next.checkpointSequence = checkpointSequence
            let journalPath = path + "/" + FormatConstants.journalName(next.journalNumber)
            try? fileSystem.unlink(journalPath)
            let descriptor = try fileSystem.open(journalPath, writable: true, create: true, exclusive: true)
            newJournal = descriptor
            try JournalFormat.encodeHeader(.init(storeID: next.storeID, journalNumber: next.journalNumber,
                                                 firstSequence: checkpointSequence + 1))
                .withUnsafeBytes { try fileSystem.write(descriptor, $0, at: 0) }
            try fileSystem.sync(descriptor)
            for (state, segment) in sealed {
                guard let index = next.collections.firstIndex(where: { $0.id == state.id }) else { continue }
                var removed = state.removedRows()
                if segment != nil { removed.append([]) }
                var entries = next.collections[index].segments
                if let segment {
                    entries.append(.init(number: segment.header.segmentNumber, rowCount: segment.rowCount,
                                         fileSize: segment.fileSize, removedRows: []))
                }
                for position in entries.indices { entries[position].removedRows = removed[position] }
                next.collections[index].segments = entries
                next.collections[index].dimension = state.dimension
            }
            publishing = true
            try Store.writeManifest(next, in: path, fileSystem: fileSystem, cipher: cipher)
        } catch let error as LineupError {
            condition.lock()
            if let newJournal { fileSystem.close(newJournal) }
            if !publishing, [ENOSPC, EDQUOT].contains(error.underlyingErrno) {
                // No room for the new files: nothing was published and the journal still
                // holds everything. Take the new files back and try again at a later commit.
                try? fileSystem.unlink(path + "/" + FormatConstants.journalName(next.journalNumber))
                for case let (_, segment?) in sealed {
                    try? fileSystem.unlink(path + "/" + FormatConstants.segmentName(segment.header.segmentNumber))
                }
                return LineupError(error.code, "the checkpoint found no room: \(error.message)", errno: error.underlyingErrno)
            }
            failure = LineupError(.readOnly, "the store turned read-only after a failed checkpoint: \(error.message)",
                                  errno: error.underlyingErrno)
            return failure
        } catch {
            condition.lock()
            failure = LineupError(.readOnly, "the store turned read-only after a failed checkpoint")
            return failure
        }
        condition.lock()
        for (state, segment) in sealed { state.installSegment(segment) }
        oldJournal = journalDescriptor
        let oldName = FormatConstants.journalName(manifest.journalNumber)
        manifest = next
        journalDescriptor = newJournal
        journalLength = FormatConstants.journalHeaderSize
        journalFileSize = FormatConstants.journalHeaderSize
        if let oldJournal { fileSystem.close(oldJournal) }
        try? fileSystem.unlink(path + "/" + oldName)
        return nil
    }

    /// Writes segment `number` of `state`'s collection durably and opens it (without reading
    /// back what was just written). The caller publishes it in a manifest.
    func writeSegment(number: UInt64, for state: CollectionState, dimension: Int, count: Int,
                              storeID: RecordID, row: (Int) throws -> SegmentWriter.Row) throws -> Segment {
        let (size, plaintext) = try SegmentWriter(fileSystem: fileSystem, directory: path, storeID: storeID, cipher: cipher)
            .write(number: number, collectionID: state.id, encoding: state.settings.compression,
                   dimension: dimension, count: count, row: row)
        if let plaintext {
            return try Segment(region: plaintext, fileSize: size, number: number, collectionID: state.id, storeID: storeID,
                               verification: .justWritten, authenticated: true)
        }
        return try Segment(fileSystem: fileSystem, path: path + "/" + FormatConstants.segmentName(number),
                           number: number, collectionID: state.id, fileSize: size, storeID: storeID,
                           verification: .justWritten, cipher: cipher)
    }

    /// Rows a bulk import puts in one segment file.
    static let importSegmentRows = 262_144

    /// Enrolls a large batch straight into new segment files, all or none, bypassing the
    /// journal: seals the tails first (so the batch follows every earlier enrollment), writes
    /// the segments, and publishes them with one manifest replacement. Durable on return.
    ///
    /// - Throws: `enrollmentError` on a dimension mismatch; `readOnly` after an I/O failure.
    func bulkEnroll(collection state: CollectionState, batch: [PreparedEnrollment]) throws {
        guard let first = batch.first else { return }
        for entry in batch where entry.dimension != first.dimension {
            throw LineupError(.enrollmentError,
                              "the Faceprint has \(entry.dimension) dimensions; the collection holds \(first.dimension)-dimensional vectors")
        }
        try bulkEnroll(collection: state, count: batch.count, dimension: first.dimension, checkingIDs: false) { batch[$0] }
    }

    /// Enrolls `count` rows of `dimension` elements that `row` hands over one at a time, in
    /// order, straight into new segment files, all or none — the streaming form of
    /// ``bulkEnroll(collection:batch:)``: no more than one segment's small sections is held,
    /// whatever `count` is. `row` may throw (a file it reads fails, or `checkingIDs` finds a
    /// UUID already live in the collection): nothing is published then, the files written so
    /// far are removed, and the store stays writable.
    func bulkEnroll(collection state: CollectionState, count total: Int, dimension: Int, checkingIDs: Bool,
                    row: (Int) throws -> PreparedEnrollment) throws {
        guard total > 0 else { return }
        condition.lock()
        defer { condition.unlock() }
        try checkWritable()
        while leaderActive { condition.wait() }
        try checkWritable()
        guard !state.isDropped else { throw LineupError.noCollection(state.name) }
        if state.reservedDimension != 0 && state.reservedDimension != dimension {
            throw LineupError(.enrollmentError,
                              "the Faceprint has \(dimension) dimensions; the collection holds \(state.reservedDimension)-dimensional vectors")
        }
        leaderActive = true
        defer {
            leaderActive = false
            condition.broadcast()
        }
        if isShared {
            try acquireSharedLock()
            // Caught up with the other processes: check again what they may have changed.
            let fixed = state.reservedDimension
            guard !state.isDropped, fixed == 0 || fixed == dimension else {
                releaseSharedLock()
                if state.isDropped { throw LineupError.noCollection(state.name) }
                throw LineupError(.enrollmentError,
                                  "the Faceprints have \(dimension) dimensions; the collection holds \(fixed)-dimensional vectors")
            }
        }
        defer { if isShared { releaseSharedLock() } }
        if journalLength > FormatConstants.journalHeaderSize || collections.values.contains(where: { $0.tail.rowCount > 0 }) {
            // The batch must follow every earlier enrollment: the tails are sealed first, or
            // nothing is imported.
            if let problem = checkpoint() { throw problem }
        }
        var next = manifest
        guard let index = next.collections.firstIndex(where: { $0.id == state.id }) else {
            throw LineupError.noCollection(state.name)
        }
        condition.unlock()
        var segments: [Segment] = []
        var outcome: LineupError?
        var publishing = false
        var refused = false   // `row` threw something other than an I/O failure
        do {
            var start = 0
            while start < total {
                let count = min(Store.importSegmentRows, total - start)
                let number = next.nextSegmentNumber
                next.nextSegmentNumber += 1
                let base = start
                let segment = try writeSegment(number: number, for: state, dimension: dimension, count: count,
                                               storeID: next.storeID) { index in
                    let entry: PreparedEnrollment
                    do {
                        entry = try row(base + index)
                        guard entry.dimension == dimension else {
                            throw LineupError(.enrollmentError, "row \(base + index + 1) has \(entry.dimension) dimensions, not \(dimension)")
                        }
                        if checkingIDs, state.locate(entry.id) != nil {
                            throw LineupError.uuidTaken(entry.id)
                        }
                    } catch let error as LineupError where error.code != .ioError {
                        refused = true
                        throw error
                    }
                    return SegmentWriter.Row(id: entry.id, identity: entry.identity, vector: entry.vector.bytes,
                                             scale: entry.vector.scale)
                }
                segments.append(segment)
                next.collections[index].segments.append(.init(number: number, rowCount: count,
                                                              fileSize: segment.fileSize, removedRows: []))
                start += count
            }
            next.collections[index].dimension = dimension
            next.generation += 1
            publishing = true
            try Store.writeManifest(next, in: path, fileSystem: fileSystem, cipher: cipher)
        } catch let error as LineupError {
            outcome = error
        } catch {
            outcome = LineupError(.ioError, "\(error)")
        }
        condition.lock()
        if let outcome {
            if !publishing, refused || [ENOSPC, EDQUOT].contains(outcome.underlyingErrno) {
                // No room: nothing was published; the files written so far go, the store stays
                // writable.
                for segment in segments {
                    try? fileSystem.unlink(path + "/" + FormatConstants.segmentName(segment.header.segmentNumber))
                }
            } else {
                failure = LineupError(.readOnly, "the store turned read-only after a failed import: \(outcome.message)",
                                      errno: outcome.underlyingErrno)
            }
            if refused { throw outcome }
            throw LineupError(outcome.code, "the import was not made durable: \(outcome.message)", errno: outcome.underlyingErrno)
        }
        manifest = next
        state.reservedDimension = dimension
        state.appendSegments(segments, dimension: dimension)
    }

    /// Wraps the data key under `newPassphrase` and replaces the key file atomically: at every
    /// crash point the store opens with the old passphrase or the new one. Nothing else is
    /// rewritten.
    ///
    /// - Throws: `invalidArgument` for a store that is not encrypted or an empty passphrase;
    ///   `readOnly` when this process is not the writer or the store failed.
    func rekey(newPassphrase: String, kdfIterations: Int = KeyFile.defaultIterations) throws {
        guard let cipher else { throw LineupError(.invalidArgument, "the store is not encrypted; there is no key to change") }
        guard !newPassphrase.isEmpty else { throw LineupError(.invalidArgument, "the new passphrase is empty") }
        // A failure leaves the old key file or the new one in place, either of which opens the
        // store, and touches no data: the store stays writable.
        try exclusively {
            do {
                try cipher.rekey(in: path, fileSystem: fileSystem, newPassphrase: newPassphrase, iterations: kdfIterations)
            } catch let error as LineupError {
                throw LineupError(error.code, "the new passphrase may not be in place: \(error.message)", errno: error.underlyingErrno)
            }
        }
    }

    /// Seals and checkpoints now (import, close, tests).
    func checkpointNow() throws {
        try exclusively {
            leaderActive = true
            let problem = checkpoint()
            leaderActive = false
            condition.broadcast()
            if let problem { throw problem }
        }
    }
}
