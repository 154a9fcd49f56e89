import Foundation

/// Reading the store from disk into memory: opening it (FORMAT.md §9), and catching up with
/// what other processes wrote (§13). Both are the same reading of journal runs: records in
/// sequence after the last one applied, a torn or half-written tail cut by a writer and left
/// alone by a reader, and each record's change applied through ``Store/apply(_:to:)``.
extension Store {
    /// Reads the manifest, maps the segments, replays the journal after the checkpoint, and
    /// (as the writer) cuts a torn journal tail and deletes orphaned files. Cost: the number of
    /// segments plus the journal tail — plus, for now, one checksum pass over each segment.
    ///
    /// `asWriter` (this process holds the store lock) also cuts a torn tail, deletes orphans
    /// and opens the journal for appending. Segments this process has mapped already are
    /// reused, and collections it has loaded keep their objects (updated in place), so that
    /// loading again, or catching up with another process, costs only what changed.
    func loadFromDisk(asWriter: Bool) throws {
        let manifest = try directory.readManifest(cipher: cipher)
        let (existing, knownJournal, holdsLock) = commitLock.withLock {
            (locked.collections, locked.journal?.number, locked.lockDescriptor != nil)
        }
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
                    segment = try Segment(fileSystem: fileSystem, path: directory.file(FormatConstants.segmentName(segmentEntry.number)),
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
                                               dimension: entry.dimension, segments: segments, removed: removed,
                                               curve: entry.curve)
        }

        // The journal after the checkpoint.
        let (scan, fileLength) = try directory.readJournal(of: manifest, cipher: cipher)
        let applied = Store.appliedPart(of: scan.records, offsets: scan.offsets, end: scan.validLength, asWriter: asWriter)
        for record in scan.records.prefix(applied.count) {
            try Store.apply(record, to: states)
        }

        var journal: JournalWriter?
        if asWriter || (isShared && holdsLock && knownJournal != manifest.journalNumber) {
            // The writer's own journal; in shared mode also after another process started a
            // new one (this process may append to it later, once it holds the lock).
            let descriptor = try fileSystem.open(directory.file(FormatConstants.journalName(manifest.journalNumber)),
                                                 writable: true, create: false, exclusive: false)
            journal = JournalWriter(fileSystem: fileSystem, descriptor: descriptor, number: manifest.journalNumber,
                                    limit: journalLimit, fileSize: fileLength)
        }
        if asWriter, var writer = journal {
            if scan.hasTornTail {
                do {
                    try writer.cut(to: scan.validLength, sync: true)
                    journal = writer
                } catch {
                    fileSystem.close(writer.descriptor)
                    throw error
                }
            }
            directory.removeOrphans(manifest)
        }
        commitLock.withLock {
            locked.manifest = manifest
            if let journal {
                if let old = locked.journal { fileSystem.close(old.descriptor) }
                locked.journal = journal
            } else if locked.journal?.number == manifest.journalNumber {
                locked.journal?.fileSize = fileLength   // the file as read, reserved space included
            }
            locked.journalLength = applied.end
            locked.nextSequence = scan.header.firstSequence + UInt64(applied.count)
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
            locked.collections = merged
        }
    }

    /// How much of a run of valid journal records a process applies, and where what it
    /// applies ends: a writer (holding the store lock) every record, as recovery does, and
    /// cuts what follows; a reader whole commit groups only — a group still being written (or
    /// cut back after a full disk) is left for the next catch-up.
    static func appliedPart(of records: [JournalFormat.Record], offsets: [Int], end: Int,
                            asWriter: Bool) -> (count: Int, end: Int) {
        let count = asWriter ? records.count : JournalReader.wholeGroupCount(records)
        return (count, count < records.count ? offsets[count] : end)
    }

    /// Applies one journal record to the collection it names (none: a deleted collection).
    ///
    /// - Throws: `corruptStore` for a malformed record or one that does not fit.
    static func apply(_ record: JournalFormat.Record, to states: [UInt32: CollectionState]) throws {
        guard let state = states[record.collectionID] else { return }
        switch try JournalFormat.decodeChange(record, compression: state.settings.compression) {
        case .enroll(let entries):
            do {
                try state.checkEnrollment(entries, wholeCollection: false)
            } catch {
                throw LineupError(.corruptStore, "journal record \(record.sequence) does not fit its collection")
            }
            state.applyEnroll(entries)
            state.reservedDimension = state.dimension
        case .remove(let ids):
            state.applyRemove(ids)
        }
    }

    /// A reader's load: the writer may checkpoint between our reading the manifest and the
    /// journal it names (and delete that journal). When a load fails and the manifest has
    /// changed meanwhile, it is tried again.
    func loadAsReader() throws {
        var attempt = 0
        while true {
            let before = try? directory.manifestBytes()
            do {
                try loadFromDisk(asWriter: false)
                return
            } catch let error as LineupError where error.code == .corruptStore && attempt < 8 {
                guard let after = try? directory.manifestBytes(), after != before else { throw error }
                attempt += 1
            }
        }
    }

    // MARK: Catching up

    /// Applies what changed on disk since this process last looked. `repair` (the store lock
    /// held) cuts a torn journal tail. Called by the owner of `leaderActive`, the commit lock
    /// not held.
    func catchUp(repair: Bool) throws {
        // Asked again as the leader: what looked new may have been this process's own commit.
        if !repair && !hasNews() { return }
        let stamp = fileSystem.stamp(directory.file(FormatConstants.manifestName))
        // A writer holding the lock always reads the manifest (a few hundred bytes), unless the
        // one it holds open is still the store's: inode numbers are reused and modification
        // times are coarse, so ``hasNews()`` is for readers.
        let (heldManifest, generation) = commitLock.withLock { (locked.heldManifest, locked.manifest.generation) }
        if repair, let held = heldManifest, fileSystem.linkCount(held.descriptor).map({ $0 > 0 }) == true,
           generation == held.generation {
            // The manifest this process read last is still the store's: only the journal can
            // have grown.
            try applyJournalTail(of: commitLock.withLock { locked.manifest }, repair: repair)
            return
        }
        var attempts = 0
        while true {
            let known = commitLock.withLock { locked.manifest.generation }
            let held = repair ? try? fileSystem.open(directory.file(FormatConstants.manifestName), writable: false,
                                                     create: false, exclusive: false) : nil
            let onDisk: Manifest
            do {
                onDisk = try directory.readManifest(cipher: cipher)
            } catch {
                if let held { fileSystem.close(held) }
                throw error
            }
            // Opened before the read: if another process replaced the file in between, the
            // held one is already unlinked and the next catch-up reads again. A reader's
            // catch-up leaves the writer's one alone (its generation says whether it still
            // holds).
            if let held {
                let old = commitLock.withLock {
                    defer { locked.heldManifest = (held, onDisk.generation) }
                    return locked.heldManifest
                }
                if let old { fileSystem.close(old.descriptor) }
            }
            do {
                if onDisk.generation == known {
                    try applyJournalTail(of: onDisk, repair: repair)
                } else {
                    try loadFromDisk(asWriter: repair)
                }
                // Recorded only once caught up: a failed catch-up is tried again in full.
                if let stamp { commitLock.withLock { locked.manifestStamp = stamp } }
                return
            } catch let error as LineupError where error.code == .corruptStore && !repair && attempts < 8 {
                // Another process may have checkpointed between the two reads (and deleted the
                // journal): when the manifest changed meanwhile, look again.
                guard let again = try? directory.readManifest(cipher: cipher),
                      again.generation != onDisk.generation else { throw error }
                attempts += 1
            }
        }
    }

    /// Whether another process may have changed the store since the last catch-up: the
    /// manifest is another file than last time, or the journal has a record past the last one
    /// applied. A stat and a read of one record header, no lock.
    func hasNews() -> Bool {
        let stamp = fileSystem.stamp(directory.file(FormatConstants.manifestName))
        let (knownStamp, journalNumber, length, isClosed) = commitLock.withLock {
            (locked.manifestStamp, locked.manifest.journalNumber, locked.journalLength, locked.closed)
        }
        guard !isClosed else { return false }
        guard let stamp, stamp == knownStamp else { return true }
        return journalHasBytes(journalNumber, at: length)
    }

    /// Whether the journal holds anything but reserved zeros (or its end) at `offset`: the
    /// start of a record another process wrote. True when it cannot be read (the full
    /// catch-up then says why).
    private func journalHasBytes(_ journalNumber: UInt64, at offset: Int) -> Bool {
        guard let descriptor = try? directory.openJournal(journalNumber) else { return true }
        defer { fileSystem.close(descriptor) }
        var head = [UInt8](repeating: 0, count: FormatConstants.recordHeaderSize)
        guard let got = try? head.withUnsafeMutableBytes({ try fileSystem.read(descriptor, into: $0, at: offset) }) else {
            return true
        }
        return head.prefix(got).contains { $0 != 0 }
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
        let (start, expected, writer) = commitLock.withLock { (locked.journalLength, locked.nextSequence, locked.journal) }
        let descriptor: Int32
        let owned: Bool
        if let writer, writer.number == manifest.journalNumber {
            // This process has that journal open already (as a writer).
            descriptor = writer.descriptor
            owned = false
        } else {
            descriptor = try directory.openJournal(manifest.journalNumber)
            owned = true
        }
        defer { if owned { fileSystem.close(descriptor) } }
        let isOwnJournal = !owned
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
            if isOwnJournal { commitLock.withLock { locked.journal?.fileSize = start } }
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
        let offsets = run.offsets.map { start + $0 }
        let applied = Store.appliedPart(of: run.records, offsets: offsets, end: start + run.end, asWriter: repair)
        // Every payload opened before any is applied: a failure leaves the state as it was.
        var plain = Array(run.records.prefix(applied.count))
        if let cipher {
            for index in plain.indices {
                plain[index].payload = try cipher.openJournalRecord(plain[index], journalNumber: manifest.journalNumber,
                                                                    offset: offsets[index])
            }
        }
        let states = commitLock.withLock { Dictionary(uniqueKeysWithValues: locked.collections.values.map { ($0.id, $0) }) }
        for record in plain { try Store.apply(record, to: states) }
        if repair && torn {
            // A writer died in the middle of a write (its change was never acknowledged).
            guard var journal = commitLock.withLock({ locked.journal }) else {
                throw LineupError(.readOnly, "the journal is not open for writing")
            }
            try journal.cut(to: applied.end, sync: true)
        }
        commitLock.withLock {
            if repair && torn {
                locked.journal?.fileSize = applied.end
            } else if isOwnJournal {
                let known = locked.journal?.fileSize ?? 0
                locked.journal?.fileSize = bytes.count < asked ? seen : max(known, seen)
            }
            locked.journalLength = applied.end
            locked.nextSequence = expected + UInt64(applied.count)
        }
    }
}

/// What ``FileSystem/stamp(_:)`` gives, to tell whether a file changed: a replaced manifest
/// (renamed over the old one) has another inode.
struct FileStamp: Equatable, Sendable {
    var inode: UInt64
    var size: Int
    var modified: Int
}
