import Foundation

/// Shared mode (`DatabaseManagementSystem.shared`) and catching up with other processes
/// (FORMAT.md, "Sharing a store").
///
/// **Writers** in any number of processes serialise on the `flock` of `LOCK`, taken for one
/// write at a time (a commit, a checkpoint, a catalog change, an import; a whole compaction).
/// Holding it, a writer first catches up with what the others wrote — new journal records,
/// or a replaced manifest — and, since no other writer can be in the middle of a write, cuts
/// a torn journal tail left by one that died (kill -9 included: the kernel releases its lock).
/// Only then does it validate and write its own change.
///
/// **Readers** never take the lock. Every process catches up on its own schedule: in shared
/// mode every `notificationCheckInterval` seconds and when the directory changes (inotify, on
/// Linux); in `.file` mode each time a collection is loaded. Catching up reads the manifest
/// (a few hundred bytes) and, when its generation is unchanged, only the journal bytes after
/// the last record applied; a new generation (a checkpoint, an import, a compaction, a
/// catalog change) reloads the catalog, reusing every segment already mapped.
extension Store {
    /// Takes the store lock for this process (if it does not hold it already) and catches up.
    /// Called by the owner of `leaderActive`, the commit lock held; it is released meanwhile.
    func acquireSharedLock() throws {
        sharedLockDepth += 1
        guard sharedLockDepth == 1 else { return }
        condition.unlock()
        var outcome: Error?
        do {
            guard let descriptor = lockDescriptor else { throw LineupError(.readOnly, "the store was opened read-only") }
            _ = try fileSystem.lock(descriptor, exclusive: true, wait: true)
            do {
                try catchUp(repair: true)
            } catch {
                fileSystem.unlock(descriptor)
                throw error
            }
        } catch {
            outcome = error
        }
        condition.lock()
        if let outcome {
            sharedLockDepth -= 1
            throw outcome
        }
    }

    /// Gives the store lock back when this was the outermost hold. The commit lock held.
    func releaseSharedLock() {
        if sharedLockReleasedEarly {
            sharedLockReleasedEarly = false
            return
        }
        sharedLockDepth -= 1
        if sharedLockDepth == 0, let descriptor = lockDescriptor { fileSystem.unlock(descriptor) }
    }

    /// Gives the outermost hold of the store lock back before its holder is done (a commit
    /// group written, its fsync still to come); the holder's ``releaseSharedLock()`` is then a
    /// no-op. Called by the owner of `leaderActive`, which keeps this process's other threads
    /// out until it has finished.
    func releaseSharedLockEarly() {
        guard sharedLockDepth == 1, let descriptor = lockDescriptor else { return }
        sharedLockDepth = 0
        sharedLockReleasedEarly = true
        fileSystem.unlock(descriptor)
    }

    /// Holds the store lock across several operations (a compaction in shared mode), while
    /// this process's other threads keep writing under it.
    func holdSharedLock() throws {
        condition.lock()
        defer { condition.unlock() }
        while leaderActive { condition.wait() }
        try checkWritable()
        leaderActive = true
        defer {
            leaderActive = false
            condition.broadcast()
        }
        try acquireSharedLock()
    }

    func dropSharedLock() {
        condition.lock()
        defer { condition.unlock() }
        // Not while another thread of this process is between catching up and writing.
        while leaderActive { condition.wait() }
        releaseSharedLock()
    }

    /// Catches up with changes other processes made, without taking the store lock.
    func sync() throws {
        // Whether there is anything new (usually not: this process's own commits wake the
        // directory watch too) is decided before becoming the leader, so that this process's
        // writers never wait for the answer.
        guard hasNews() else { return }
        condition.lock()
        while leaderActive { condition.wait() }
        if closed {
            condition.unlock()
            return
        }
        leaderActive = true
        // Repairs only while this process holds the store lock, which cannot be given back
        // while this thread is the leader.
        let repair = sharedLockDepth > 0
        condition.unlock()
        defer {
            condition.withLock {
                leaderActive = false
                condition.broadcast()
            }
        }
        try catchUp(repair: repair)
    }

    /// Applies what changed on disk since this process last looked. `repair` (the store lock
    /// held) cuts a torn journal tail. Called by the owner of `leaderActive`, the commit lock
    /// not held.
    func catchUp(repair: Bool) throws {
        // Asked again as the leader: what looked new may have been this process's own commit.
        if !repair && !hasNews() { return }
        let stamp = fileStamp(FormatConstants.manifestName)
        // A writer holding the lock always reads the manifest (a few hundred bytes), unless the
        // one it holds open is still the store's: inode numbers are reused and modification
        // times are coarse, so ``hasNews()`` is for readers.
        if repair, let held = heldManifest, fileSystem.linkCount(held.descriptor).map({ $0 > 0 }) == true,
           condition.withLock({ manifest.generation }) == held.generation {
            // The manifest this process read last is still the store's: only the journal can
            // have grown.
            try applyJournalTail(of: condition.withLock { manifest }, repair: repair)
            return
        }
        var attempts = 0
        while true {
            let known = condition.withLock { manifest.generation }
            let held = repair ? try? fileSystem.open(path + "/" + FormatConstants.manifestName, writable: false, create: false, exclusive: false) : nil
            let onDisk: Manifest
            do {
                onDisk = try Store.readManifest(in: path, fileSystem: fileSystem, cipher: cipher)
            } catch {
                if let held { fileSystem.close(held) }
                throw error
            }
            // Opened before the read: if another process replaced the file in between, the
            // held one is already unlinked and the next catch-up reads again. A reader's
            // catch-up leaves the writer's one alone (its generation says whether it still
            // holds).
            if let held {
                if let old = heldManifest { fileSystem.close(old.descriptor) }
                heldManifest = (held, onDisk.generation)
            }
            do {
                if onDisk.generation == known {
                    try applyJournalTail(of: onDisk, repair: repair)
                } else {
                    try loadFromDisk(asWriter: repair)
                }
                // Recorded only once caught up: a failed catch-up is tried again in full.
                if let stamp { condition.withLock { manifestStamp = stamp } }
                return
            } catch let error as LineupError where error.code == .corruptStore && !repair && attempts < 8 {
                // Another process may have checkpointed between the two reads (and deleted the
                // journal): when the manifest changed meanwhile, look again.
                guard let again = try? Store.readManifest(in: path, fileSystem: fileSystem, cipher: cipher),
                      again.generation != onDisk.generation else { throw error }
                attempts += 1
            }
        }
    }

    /// Whether another process may have changed the store since the last catch-up: the
    /// manifest is another file than last time, or the journal has a record past the last one
    /// applied. A stat and a read of one record header, no lock.
    func hasNews() -> Bool {
        let stamp = fileStamp(FormatConstants.manifestName)
        let (knownStamp, journalName, length, isClosed) = condition.withLock {
            (manifestStamp, FormatConstants.journalName(manifest.journalNumber), journalLength, self.closed)
        }
        guard !isClosed else { return false }
        guard let stamp, stamp == knownStamp else { return true }
        return journalHasBytes(journalName, at: length)
    }

    /// Whether the journal holds anything but reserved zeros (or its end) at `offset`: the
    /// start of a record another process wrote. True when it cannot be read (the full
    /// catch-up then says why).
    func journalHasBytes(_ name: String, at offset: Int) -> Bool {
        guard let descriptor = try? fileSystem.open(path + "/" + name, writable: false, create: false, exclusive: false) else {
            return true
        }
        defer { fileSystem.close(descriptor) }
        var head = [UInt8](repeating: 0, count: FormatConstants.recordHeaderSize)
        guard let got = try? head.withUnsafeMutableBytes({ try fileSystem.read(descriptor, into: $0, at: offset) }) else {
            return true
        }
        return head.prefix(got).contains { $0 != 0 }
    }

    /// A file's inode, size and modification time: a replaced manifest (renamed over the old
    /// one) has another inode.
    func fileStamp(_ name: String) -> FileStamp? {
        var info = stat()
        guard lstat(path + "/" + name, &info) == 0 else { return nil }
        return FileStamp(inode: UInt64(info.st_ino), size: Int(info.st_size),
                         modified: Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec))
    }

    /// Reads the journal after the last record applied and applies the new records. A record
    /// still being written (or torn) ends the read; with `repair`, a torn tail is cut, unless
    /// acknowledged records follow the damage (`corruptStore`).
    ///
    /// It reads a window of the file, grown while a record runs past it, not the whole
    /// reserved space. A window that ends in zeros after the records is the clean end: a
    /// writer that died in the middle of a write (the lock held, as `repair` requires) left
    /// the start of its record at the end of the valid ones, since a write reaches the page
    /// cache in order; damage anywhere else is what opening the store reads the whole
    /// journal for.
    private func applyJournalTail(of manifest: Manifest, repair: Bool) throws {
        let name = FormatConstants.journalName(manifest.journalNumber)
        let (start, expected, current, open) = condition.withLock {
            (journalLength, nextSequence, self.manifest.journalNumber, journalDescriptor)
        }
        let descriptor: Int32
        let owned: Bool
        if let open, current == manifest.journalNumber {
            // This process has that journal open already (as a writer).
            descriptor = open
            owned = false
        } else {
            do {
                descriptor = try fileSystem.open(path + "/" + name, writable: false, create: false, exclusive: false)
            } catch let error as LineupError {
                throw LineupError(.corruptStore, "the journal is missing or unreadable: \(error.message)")
            }
            owned = true
        }
        defer { if owned { fileSystem.close(descriptor) } }
        // No fstat on the way: a file whose times were looked at gets fine-grained ones at its
        // next write (multigrain timestamps, Linux 6.13), and each such write dirties the
        // inode, which the writer's fsync then writes too. The window's read says enough: a
        // short read is the end of the file.
        func read(_ count: Int) throws -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: count)
            let got = try bytes.withUnsafeMutableBytes { try fileSystem.read(descriptor, into: $0, at: start) }
            bytes.removeLast(bytes.count - got)
            return bytes
        }
        var asked = 8 << 10   // grown while a record runs past it
        var bytes = try read(asked)
        if bytes.isEmpty {
            // Nothing after the records read: the end of the file, unless it shrank.
            guard try fileSystem.size(descriptor) >= start else {
                throw LineupError(.corruptStore, "the journal is shorter than the records already read")
            }
            if current == manifest.journalNumber { condition.withLock { journalFileSize = start } }
            return
        }
        var run = bytes.withUnsafeBytes {
            JournalReader.validRecords($0, from: 0, journalNumber: manifest.journalNumber, expected: expected)
        }
        while bytes.count == asked, bytes.withUnsafeBytes({
            JournalFormat.decodeRecord($0, at: run.end, journalNumber: manifest.journalNumber) == .truncated
        }) {
            // A record runs past the window.
            asked *= 4
            bytes = try read(asked)
            run = bytes.withUnsafeBytes {
                JournalReader.validRecords($0, from: 0, journalNumber: manifest.journalNumber, expected: expected)
            }
        }
        // The file reaches at least this far (exactly, after a short read).
        let seen = start + bytes.count
        let torn = bytes.withUnsafeBytes { !JournalReader.isReserved($0, from: run.end) }
        if repair && torn {
            let size = try fileSystem.size(descriptor)
            if seen < size { bytes = try read(size - start) }
            try bytes.withUnsafeBytes { buffer in
                try JournalReader.checkTail(buffer, from: run.end, journalNumber: manifest.journalNumber,
                                            after: expected + UInt64(run.records.count))
            }
        }
        let (records, relativeOffsets, position) = run
        let offsets = relativeOffsets.map { start + $0 }
        // A reader applies whole commit groups only; a writer holding the lock keeps every
        // valid record, as recovery does, and cuts what follows.
        let applied = repair ? records.count : JournalReader.wholeGroupCount(records)
        let validEnd = applied < records.count ? offsets[applied] : start + position
        // Every payload opened before any is applied: a failure leaves the state as it was.
        var plain = Array(records.prefix(applied))
        if let cipher {
            for index in plain.indices {
                plain[index].payload = try cipher.openJournalRecord(records[index], journalNumber: manifest.journalNumber,
                                                                    offset: offsets[index])
            }
        }
        let states = condition.withLock { Dictionary(uniqueKeysWithValues: collections.values.map { ($0.id, $0) }) }
        for record in plain { try Store.apply(record, to: states) }
        if repair && torn {
            // A writer died in the middle of a write (its change was never acknowledged).
            guard let journal = condition.withLock({ journalDescriptor }) else {
                throw LineupError(.readOnly, "the journal is not open for writing")
            }
            try fileSystem.truncate(journal, to: validEnd)
            try fileSystem.sync(journal)
        }
        condition.withLock {
            if repair && torn {
                journalFileSize = validEnd
            } else if current == manifest.journalNumber {
                journalFileSize = bytes.count < asked ? seen : max(journalFileSize, seen)
            }
            journalLength = validEnd
            nextSequence = expected + UInt64(applied)
        }
    }
}

/// What ``Store/fileStamp(_:)`` compares.
struct FileStamp: Equatable, Sendable {
    var inode: UInt64
    var size: Int
    var modified: Int
}
