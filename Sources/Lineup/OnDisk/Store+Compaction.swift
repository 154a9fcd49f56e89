import Dispatch
import Foundation

/// When compaction runs on its own (FORMAT.md, "Compaction").
struct CompactionPolicy: Sendable, Equatable {
    /// Whether the store compacts in the background, a bounded piece at a time.
    var automatic: Bool
    /// A segment is rewritten once this fraction of its rows is removed.
    var deadFraction = 0.25
    /// Segments with fewer rows are small; small segments are merged…
    var smallSegmentRows = 65_536
    /// …once a collection has this many of them.
    var smallSegmentsToMerge = 4

    static let automatic = CompactionPolicy(automatic: true)
    static let manual = CompactionPolicy(automatic: false)
}

extension Store {
    /// One rewrite: consecutive segments of one collection, replaced by at most one new file.
    private struct Group {
        var state: CollectionState
        var segments: [Segment]
        /// Each segment's deletion bitmap when the rewrite began.
        var removed: [DeletionBitmap?]
        var number: UInt64
    }

    /// Compacts `collection` (every collection when nil): first a checkpoint, which drops the
    /// journal — removed enrollments included — and seals the tails; then every segment with
    /// a removed row is rewritten without it, and small segments are merged, each new file
    /// published by a manifest swap. Enrollment and identification go on meanwhile: the
    /// rewrite holds no lock; only the checkpoint and each publication wait for the commit
    /// lock. Replaced files are deleted once no snapshot of this process uses them.
    ///
    /// Erasure: when this returns, no Faceprint removed before the call exists in any file
    /// of the store (FORMAT.md, "Compaction", for what the file system and device may keep).
    ///
    /// - Throws: `noCollectionFound`; `readOnly` / `storeLocked` when this process may not
    ///   write; `corruptStore` when a segment being copied is damaged (nothing changes).
    @discardableResult
    func compact(collection name: String? = nil) throws -> CompactionReport {
        try compactionLock.withLock {
            // Shared mode: the whole compaction holds the store lock (its new files must not
            // look like orphans to another process's writer); readers never wait for it.
            if isShared { try holdSharedLock() }
            defer { if isShared { dropSharedLock() } }
            try exclusively {
                if let name, locked.collections[ExactText(name)] == nil { throw LineupError.noCollection(name) }
                try checkpointAsLeader()
            }
            var report = CompactionReport()
            // Only what exists now: files this compaction writes are not compacted again, so
            // removals made meanwhile cannot keep it going.
            let firstNew = commitLock.withLock { locked.manifest.nextSegmentNumber }
            while let group = try nextGroup(collection: name, policy: nil, before: firstNew) {
                try rewrite(group, into: &report)
            }
            return report
        }
    }

    /// One bounded piece of automatic compaction, if the policy finds one due.
    func compactInBackground() {
        compactionLock.withLock {
            do {
                guard let group = try nextGroup(collection: nil, policy: compactionPolicy, before: nil) else { return }
                var report = CompactionReport()
                try rewrite(group, into: &report)
            } catch let error as LineupError where error.code == .databaseNotConnected {
                // Closed meanwhile: nothing to report.
            } catch {
                BackgroundFailures.report(error, while: "background compaction", store: path)
            }
        }
        // The next piece, if any: decided under the commit lock, like every caller's.
        commitLock.withLock { scheduleCompactionIfDue() }
    }

    /// Starts one background piece when the policy finds work and none is running. Called by
    /// the commit leader after removals and checkpoints (the lock held).
    func scheduleCompactionIfDue() {
        guard compactionPolicy.automatic, locked.lockDescriptor != nil, locked.failure == nil, !locked.closed,
              !locked.compactionScheduled, locked.collections.values.contains(where: { !Store.groups(of: $0, policy: compactionPolicy, before: nil).isEmpty }) else { return }
        locked.compactionScheduled = true
        compactionsRunning.enter()
        DispatchQueue.global(qos: .utility).async { [self] in
            defer { compactionsRunning.leave() }
            commitLock.withLock { locked.compactionScheduled = false }
            guard !commitLock.withLock({ locked.closed }) else { return }
            compactInBackground()
        }
    }

    /// The segments of `state` to rewrite together, in order: with a `policy`, those past its
    /// dead fraction and (when there are enough) the small ones; without, every segment with
    /// a removed row and every small segment. Groups hold at most ``importSegmentRows`` live
    /// rows and at least two segments unless one has removed rows. Segments numbered `before`
    /// or later are left alone.
    private static func groups(of state: CollectionState, policy: CompactionPolicy?, before: UInt64?) -> [[Int]] {
        let (segments, removed) = state.sealed()
        let small = segments.indices.filter { segments[$0].rowCount < (policy ?? CompactionPolicy(automatic: false)).smallSegmentRows }
        let mergeSmall = policy.map { small.count >= $0.smallSegmentsToMerge } ?? (small.count >= 2)
        var groups: [[Int]] = []
        var current: [Int] = []
        var currentRows = 0
        func close() {
            let dirty = current.contains { (removed[$0]?.removedCount ?? 0) > 0 }
            if current.count >= 2 || dirty { groups.append(current) }
            current = []
            currentRows = 0
        }
        for index in segments.indices {
            let dead = removed[index]?.removedCount ?? 0
            let live = segments[index].rowCount - dead
            let selected: Bool
            if let policy {
                selected = Double(dead) >= policy.deadFraction * Double(segments[index].rowCount)
                    || (mergeSmall && small.contains(index))
            } else {
                selected = dead > 0 || (mergeSmall && small.contains(index))
            }
            guard selected, before.map({ segments[index].header.segmentNumber < $0 }) ?? true else {
                close()   // groups are runs of consecutive segments
                continue
            }
            if currentRows + live > importSegmentRows && !current.isEmpty { close() }
            current.append(index)
            currentRows += live
        }
        close()
        return groups
    }

    /// The next group to rewrite, its segment number reserved; nil when there is none.
    private func nextGroup(collection name: String?, policy: CompactionPolicy?, before: UInt64?) throws -> Group? {
        try exclusively {
            let states = name.map { locked.collections[ExactText($0)].map { [$0] } ?? [] }
                ?? locked.collections.values.sorted { $0.id < $1.id }
            for state in states {
                guard let indices = Store.groups(of: state, policy: policy, before: before).first else { continue }
                let (segments, removed) = state.sealed()
                let number = locked.manifest.nextSegmentNumber
                locked.manifest.nextSegmentNumber += 1   // reserved: published by whichever manifest comes next
                return Group(state: state, segments: indices.map { segments[$0] }, removed: indices.map { removed[$0] },
                             number: number)
            }
            return nil
        }
    }

    /// Writes the group's live rows into one new segment (none when no row is live), without
    /// the commit lock, then publishes it in place of the group's segments.
    private func rewrite(_ group: Group, into report: inout CompactionReport) throws {
        let state = group.state
        // Rows to keep, as of the group's bitmaps, and where each old row goes.
        var rows: [(segment: Int, row: Int, id: RecordID, identity: String)] = []
        var newRow: [[Int32]] = []
        for (index, segment) in group.segments.enumerated() {
            guard segment.checkVectors(rows: 0..<segment.rowCount) else {
                throw LineupError(.corruptStore, "segment \(FormatConstants.segmentName(segment.header.segmentNumber)) is damaged; compaction copies nothing from it")
            }
            var map = [Int32](repeating: -1, count: segment.rowCount)
            segment.forEachRecord { row, id, identity in
                guard !(group.removed[index]?.isRemoved(row) ?? false) else { return }
                map[row] = Int32(rows.count)
                rows.append((index, row, id, identity))
            }
            newRow.append(map)
        }
        var written: Segment?
        if !rows.isEmpty {
            let dimension = group.segments[0].header.dimension
            do {
                written = try writeSegment(number: group.number, for: state, dimension: dimension, count: rows.count,
                                           storeID: storeID) { index in
                    let entry = rows[index]
                    let segment = group.segments[entry.segment]
                    return SegmentWriter.Row(id: entry.id, identity: entry.identity, vector: segment.storedVector(at: entry.row),
                                             scale: segment.scale(at: entry.row))
                }
            } catch let error as LineupError {
                // Nothing was published: the store's own failure rule (Store+Publishing.swift).
                _ = commitLock.withLock { unpublished(error, while: "compaction", segments: [group.number]) }
                throw error
            }
        }
        try exclusively {
            guard !state.isDropped, let position = locked.manifest.collections.firstIndex(where: { $0.id == state.id }) else {
                directory.removeSegments([group.number])
                return
            }
            // Removals applied since the rewrite began: carry them over to the new rows.
            let (current, currentRemoved) = state.sealed()
            var carried: [Int] = []
            for (index, segment) in group.segments.enumerated() {
                guard let now = current.firstIndex(where: { $0 === segment }), let bitmap = currentRemoved[now] else { continue }
                for row in 0..<segment.rowCount where bitmap.isRemoved(row) && newRow[index][row] >= 0 {
                    carried.append(Int(newRow[index][row]))
                }
            }
            var bitmap: DeletionBitmap?
            if let written, !carried.isEmpty {
                bitmap = DeletionBitmap(rows: written.rowCount).removing(carried, capacity: written.rowCount)
            }
            var next = locked.manifest
            var entries = next.collections[position].segments
            let oldNumbers = Set(group.segments.map { $0.header.segmentNumber })
            guard let first = entries.firstIndex(where: { oldNumbers.contains($0.number) }) else {
                directory.removeSegments([group.number])
                return
            }
            entries.removeAll { oldNumbers.contains($0.number) }
            if let written {
                entries.insert(.init(number: group.number, rowCount: written.rowCount, fileSize: written.fileSize,
                                     removedRows: carried.sorted().map { UInt32($0) }), at: first)
            }
            next.collections[position].segments = entries
            next.generation += 1
            // A failed publication turns the store read-only and leaves the new file alone: the
            // manifest on disk may name it already (a rename that happened before a failed
            // directory sync). The next open deletes whichever files its manifest does not name.
            try publish(next)
            let replaced = state.replaceSegments(group.segments, with: written.map { [$0] } ?? [], removed: written == nil ? [] : [bitmap])
            assert(replaced, "the group's segments stay in place while the commit lock is held")
            for segment in group.segments {
                segment.removeFileWhenReleased(fileSystem: fileSystem,
                                               path: directory.file(FormatConstants.segmentName(segment.header.segmentNumber)))
            }
            report.segmentsRewritten += group.segments.count
            report.segmentsWritten += written == nil ? 0 : 1
            report.faceprintsCopied += rows.count
            report.faceprintsErased += group.segments.reduce(0) { $0 + $1.rowCount } - rows.count
            report.bytesBefore += group.segments.reduce(0) { $0 + Int($1.fileSize) }
            report.bytesAfter += Int(written?.fileSize ?? 0)
        }
    }
}
