import Foundation

/// Publishing segment files: a checkpoint sealing the journal's tails, a bulk import writing
/// straight into segments, and (Store+Compaction.swift) a compaction's rewrite. Each writes
/// its new files without the commit lock, then publishes them with one manifest replacement,
/// and all three fail the same way (``Store/unpublished(_:segments:journal:)``).
extension Store {
    /// What a failure before the manifest names the new files leaves (FORMAT.md §8): for want
    /// of space (`ENOSPC`, `EDQUOT`), or when `refused` (the input, not the disk, failed),
    /// nothing was published and nothing acknowledged depends on the new files: they are
    /// removed and the store stays writable. Any other failure — a failed fsync above all —
    /// turns the store read-only for good. Returns whether the store stays writable. The
    /// commit lock held.
    func unpublished(_ error: LineupError, while what: String, refused: Bool = false,
                     segments: [UInt64], journal: UInt64? = nil) -> Bool {
        guard refused || error.isNoSpace else {
            turnReadOnly(after: "a failed \(what)", error)
            return false
        }
        if let journal { directory.removeJournal(journal) }
        directory.removeSegments(segments)
        return true
    }

    /// Seals every tail into a segment, starts a new journal, and publishes both. Called by the
    /// leader with the lock held (released during I/O); other writers wait meanwhile.
    ///
    /// Returns the error when it failed for want of space and left the store as it was
    /// (writable; the journal still holds everything); other failures turn the store read-only.
    @discardableResult
    func checkpoint() -> LineupError? {
        let states = Array(locked.collections.values)
        var next = locked.manifest
        let checkpointSequence = locked.nextSequence - 1 - UInt64(locked.pending.count)
        commitLock.unlock()
        var sealed: [(CollectionState, Segment?)] = []
        var newJournal: Int32?
        var startedJournal: UInt64?   // the new journal's number, once its file may exist
        var publishing = false
        var outcome: LineupError?
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
            startedJournal = next.journalNumber
            newJournal = try directory.createJournal(number: next.journalNumber, storeID: next.storeID,
                                                     firstSequence: checkpointSequence + 1)
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
            try directory.writeManifest(next, cipher: cipher)
        } catch {
            outcome = .from(error)
        }
        commitLock.lock()
        if let outcome {
            if let newJournal { fileSystem.close(newJournal) }
            // No room for the new files: nothing was published and the journal still holds
            // everything; the checkpoint is tried again at a later commit. No room for the
            // manifest itself turns the store read-only (it may have been renamed into place).
            guard !publishing, unpublished(outcome, while: "checkpoint", segments: sealed.compactMap { $0.1?.header.segmentNumber },
                                           journal: startedJournal) else {
                if locked.failure == nil { turnReadOnly(after: "a failed checkpoint", outcome) }
                return locked.failure
            }
            return LineupError(outcome.code, "the checkpoint found no room", cause: outcome)
        }
        for (state, segment) in sealed { state.installSegment(segment) }
        let oldJournal = locked.journal
        locked.manifest = next
        locked.journal = newJournal.map {
            JournalWriter(fileSystem: fileSystem, descriptor: $0, number: next.journalNumber, limit: journalLimit,
                          fileSize: FormatConstants.journalHeaderSize)
        }
        locked.journalLength = FormatConstants.journalHeaderSize
        if let oldJournal {
            fileSystem.close(oldJournal.descriptor)
            directory.removeJournal(oldJournal.number)
        }
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
        return try Segment(fileSystem: fileSystem, path: directory.file(FormatConstants.segmentName(number)),
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
        try Enrollments.checkDimensions(batch, fixed: first.dimension)
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
        commitLock.lock()
        defer { commitLock.unlock() }
        try waitToWrite()
        guard !state.isDropped else { throw LineupError.noCollection(state.name) }
        try Enrollments.checkDimension(dimension, fixed: state.reservedDimension)
        try asLeader {
            if isShared {
                try acquireSharedLock()
                // Caught up with the other processes: check again what they may have changed.
                do {
                    guard !state.isDropped else { throw LineupError.noCollection(state.name) }
                    try Enrollments.checkDimension(dimension, fixed: state.reservedDimension)
                } catch {
                    releaseSharedLock()
                    throw error
                }
            }
            defer { if isShared { releaseSharedLock() } }
            if locked.journalLength > FormatConstants.journalHeaderSize
                || locked.collections.values.contains(where: { $0.tail.rowCount > 0 }) {
                // The batch must follow every earlier enrollment: the tails are sealed first, or
                // nothing is imported.
                if let problem = checkpoint() { throw problem }
            }
            try publishImport(into: state, count: total, dimension: dimension, checkingIDs: checkingIDs, row: row)
        }
    }

    /// The import itself: segments written without the commit lock, one manifest naming them.
    /// Called by the leader with the lock held (and in shared mode the store lock).
    private func publishImport(into state: CollectionState, count total: Int, dimension: Int, checkingIDs: Bool,
                               row: (Int) throws -> PreparedEnrollment) throws {
        var next = locked.manifest
        guard let index = next.collections.firstIndex(where: { $0.id == state.id }) else {
            throw LineupError.noCollection(state.name)
        }
        commitLock.unlock()
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
            try directory.writeManifest(next, cipher: cipher)
        } catch {
            outcome = .from(error)
        }
        commitLock.lock()
        if let outcome {
            if publishing || !unpublished(outcome, while: "import", refused: refused,
                                          segments: segments.map(\.header.segmentNumber)) {
                if locked.failure == nil { turnReadOnly(after: "a failed import", outcome) }
            }
            if refused { throw outcome }
            throw LineupError(outcome.code, "the import was not made durable", cause: outcome)
        }
        locked.manifest = next
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
                throw LineupError(error.code, "the new passphrase may not be in place", cause: error)
            }
        }
    }

    /// Seals and checkpoints now (import, close, tests).
    func checkpointNow() throws {
        try exclusively { try checkpointAsLeader() }
    }
}
