import Synchronization

/// The in-memory state of one collection of an on-disk store: its sealed segments (mapped),
/// their deletion bitmaps, and the tail of enrollments not yet sealed (a ``Gallery``).
///
/// Mutations come only from the store's commit leader, in sequence order. ``snapshot()`` may
/// be called from any thread and waits only for the short in-memory update of an apply.
final class CollectionState: Sendable {
    let id: UInt32
    let name: String
    let settings: CollectionSettings

    private struct Inner {
        var dimension: Int
        var segments: [Segment]
        var removed: [DeletionBitmap?]
        var tail: Gallery
        var isDropped = false
        /// The calibrated match-probability curve (the manifest's), nil until calibrated.
        var curve: MatchProbability?
    }

    private let inner: Mutex<Inner>

    /// Guarded by the store's commit lock: the dimension fixed by the first accepted enrollment
    /// (possibly not yet applied), and the UUIDs with an enrollment or a removal in flight.
    nonisolated(unsafe) var reservedDimension: Int
    nonisolated(unsafe) var pendingEnrollments: Set<RecordID> = []
    nonisolated(unsafe) var pendingRemovals: Set<RecordID> = []

    init(id: UInt32, name: String, settings: CollectionSettings, dimension: Int,
         segments: [Segment], removed: [DeletionBitmap?], curve: MatchProbability? = nil) {
        self.id = id
        self.name = name
        self.settings = settings
        self.reservedDimension = dimension
        inner = Mutex(Inner(dimension: dimension, segments: segments, removed: removed,
                            tail: Gallery(settings: settings, dimension: dimension), curve: curve))
    }

    /// The calibrated match-probability curve, nil until calibrated.
    var curve: MatchProbability? {
        get { inner.withLock { $0.curve } }
        set { inner.withLock { $0.curve = newValue } }
    }

    var isDropped: Bool { inner.withLock { $0.isDropped } }

    var dimension: Int { inner.withLock { $0.dimension } }

    func drop() { inner.withLock { $0.isDropped = true } }

    /// Where a live Faceprint is.
    enum Location: Equatable {
        case tail
        case segment(index: Int, row: Int)
    }

    func locate(_ id: RecordID) -> Location? {
        inner.withLock { inner in
            if inner.tail.contains(id: id) { return .tail }
            for (index, segment) in inner.segments.enumerated() {
                if let row = segment.row(of: id), !(inner.removed[index]?.isRemoved(row) ?? false) {
                    return .segment(index: index, row: row)
                }
            }
            return nil
        }
    }

    /// The UUIDs of every live Faceprint of `identity`.
    func liveIDs(of identity: String) -> [RecordID] {
        inner.withLock { inner in
            var ids: [RecordID] = []
            for (index, segment) in inner.segments.enumerated() {
                for row in segment.rows(of: identity) where !(inner.removed[index]?.isRemoved(row) ?? false) {
                    ids.append(segment.recordID(at: row))
                }
            }
            ids.append(contentsOf: inner.tail.ids(of: identity))
            return ids
        }
    }

    // MARK: Applying records (commit leader or replay only)

    /// Checks everything that could keep `batch` from being applied, before its record is
    /// written: the dimension (as fixed by changes in flight too) and its UUIDs — new to the
    /// batch, to the changes in flight and to the tail, and with `wholeCollection` to the
    /// segments too (a new enrollment; a record replayed from the journal was checked so when
    /// it was written). Returns the dimension the collection holds once it is in. The commit
    /// lock held, or recovery.
    @discardableResult
    func checkEnrollment(_ batch: [PreparedEnrollment], wholeCollection: Bool) throws(LineupError) -> Int {
        let dimension = try Enrollments.checkDimensions(batch, fixed: reservedDimension)
        let pending = pendingEnrollments
        try inner.withLock { inner throws(LineupError) in
            try Enrollments.checkNewIDs(batch) { id in
                if pending.contains(id) || inner.tail.contains(id: id) { return true }
                guard wholeCollection else { return false }
                return inner.segments.indices.contains { index in
                    inner.segments[index].row(of: id).map { !(inner.removed[index]?.isRemoved($0) ?? false) } ?? false
                }
            }
        }
        return dimension
    }

    /// Applies a durable enrollment, checked by ``checkEnrollment(_:wholeCollection:)``: it
    /// cannot fail.
    func applyEnroll(_ batch: [PreparedEnrollment]) {
        inner.withLock { inner in
            inner.tail.appendChecked(batch)
            inner.dimension = inner.tail.dimension
        }
    }

    /// Removes the live ones among `ids`; returns how many were live.
    @discardableResult
    func applyRemove(_ ids: [RecordID]) -> Int {
        inner.withLock { inner in
            var count = 0
            var rowsBySegment: [Int: [Int]] = [:]
            for id in ids {
                if (try? inner.tail.remove(id: id)) != nil {
                    count += 1
                    continue
                }
                for (index, segment) in inner.segments.enumerated() {
                    if let row = segment.row(of: id), !(inner.removed[index]?.isRemoved(row) ?? false),
                       !(rowsBySegment[index]?.contains(row) ?? false) {
                        rowsBySegment[index, default: []].append(row)
                        count += 1
                        break
                    }
                }
            }
            for (index, rows) in rowsBySegment {
                let capacity = inner.segments[index].rowCount
                inner.removed[index] = (inner.removed[index] ?? DeletionBitmap(rows: capacity)).removing(rows, capacity: capacity)
            }
            return count
        }
    }

    // MARK: Checkpoint

    /// The tail as it stands, for sealing (the commit leader holds off every writer).
    var tail: Gallery { inner.withLock { $0.tail } }

    /// Replaces the sealed tail by its segment, in one step that snapshots see whole.
    func installSegment(_ segment: Segment?) {
        inner.withLock { inner in
            if let segment {
                inner.segments.append(segment)
                inner.removed.append(nil)
            }
            inner.tail = Gallery(settings: settings, dimension: inner.dimension)
        }
    }

    /// Appends segments written by a bulk import (the tail is empty: the import sealed it).
    func appendSegments(_ segments: [Segment], dimension: Int) {
        inner.withLock { inner in
            inner.segments.append(contentsOf: segments)
            inner.removed.append(contentsOf: segments.map { _ in nil })
            inner.dimension = dimension
            inner.tail = Gallery(settings: settings, dimension: dimension)
        }
    }

    /// The manifest entries of the sealed segments, with their removed rows as of now.
    func removedRows() -> [[UInt32]] {
        inner.withLock { inner in
            inner.segments.indices.map { index in
                guard let bitmap = inner.removed[index] else { return [] }
                return (0..<inner.segments[index].rowCount).filter { bitmap.isRemoved($0) }.map { UInt32($0) }
            }
        }
    }

    /// Takes over `other`'s contents (the same collection, read again from disk), in one step
    /// that snapshots see whole: loaded collections keep their object.
    func adopt(_ other: CollectionState) {
        let contents = other.inner.withLock { $0 }
        inner.withLock { $0 = contents }
        reservedDimension = other.reservedDimension
        pendingEnrollments = []
        pendingRemovals = []
    }

    // MARK: Compaction

    /// The sealed segments and their deletion bitmaps as they stand.
    func sealed() -> (segments: [Segment], removed: [DeletionBitmap?]) {
        inner.withLock { ($0.segments, $0.removed) }
    }

    /// Replaces the segments `old` (consecutive, in order) by `new` with their bitmaps, in one
    /// step that snapshots see whole. False when `old` is no longer there.
    func replaceSegments(_ old: [Segment], with new: [Segment], removed: [DeletionBitmap?]) -> Bool {
        inner.withLock { inner in
            guard let first = inner.segments.firstIndex(where: { $0 === old.first }),
                  first + old.count <= inner.segments.count,
                  zip(inner.segments[first..<(first + old.count)], old).allSatisfy({ $0 === $1 }) else { return false }
            inner.segments.replaceSubrange(first..<(first + old.count), with: new)
            inner.removed.replaceSubrange(first..<(first + old.count), with: removed)
            return true
        }
    }

    /// Live and removed Faceprints and the bytes they take: a segment's file size shared out
    /// by rows; tail rows at their stored size plus identity and UUID.
    func space() -> CollectionSpace {
        inner.withLock { inner in
            var space = CollectionSpace(segments: inner.segments.count)
            for (index, segment) in inner.segments.enumerated() {
                let removed = inner.removed[index]?.removedCount ?? 0
                let live = segment.rowCount - removed
                let size = Double(segment.fileSize)
                space.liveFaceprints += live
                space.removedFaceprints += removed
                space.liveBytes += Int((size * Double(live) / Double(segment.rowCount)).rounded())
                space.deadBytes += Int((size * Double(removed) / Double(segment.rowCount)).rounded())
            }
            let counts = inner.tail.counts
            let rowBytes = inner.dimension * settings.compression.bytesPerDimension + 16 + 32
            space.liveFaceprints += counts.faceprints
            space.liveBytes += counts.faceprints * rowBytes
            return space
        }
    }

    // MARK: Reading

    func snapshot() -> CollectionSnapshot {
        inner.withLock { inner in
            var blocks: [VectorBlock] = []
            for (index, segment) in inner.segments.enumerated() {
                let header = segment.header
                blocks.append(VectorBlock(source: segment, encoding: header.encoding, dimension: header.dimension,
                                          stride: header.rowStride, count: header.rowCount,
                                          removed: inner.removed[index]))
            }
            let tail = inner.tail.snapshot()
            blocks.append(contentsOf: tail.blocks)
            return CollectionSnapshot(dimension: inner.dimension, encoding: settings.compression, blocks: blocks)
        }
    }

    /// UUID → identity of every live Faceprint.
    func identityMap() -> [String: String] {
        let (segments, removed, tail) = inner.withLock { ($0.segments, $0.removed, $0.tail) }
        var map = tail.identities()
        for (index, segment) in segments.enumerated() {
            segment.forEachRecord { row, id, identity in
                if !(removed[index]?.isRemoved(row) ?? false) { map[id.string] = identity }
            }
        }
        return map
    }

    /// The collection's metadata. Counting Faceprints costs O(segments); counting distinct
    /// identities reads the segments' identity indexes (12 bytes a row, no decompression) and
    /// counts distinct 64-bit identity hashes — exact unless two live identities collide in
    /// FNV-1a-64, about one chance in 10¹⁰ for a million identities.
    func metadata(encrypted: Bool) -> CollectionMetadata {
        let (segments, removed, tail, dimension) = inner.withLock { ($0.segments, $0.removed, $0.tail, $0.dimension) }
        var faceprints = tail.counts.faceprints
        var hashes: [UInt64] = tail.liveIdentities().map(identityHash)
        for (index, segment) in segments.enumerated() {
            faceprints += segment.rowCount - (removed[index]?.removedCount ?? 0)
            segment.forEachIdentityHash { hash, row in
                if !(removed[index]?.isRemoved(row) ?? false) { hashes.append(hash) }
            }
        }
        hashes.sort()
        var distinct = 0
        for (index, hash) in hashes.enumerated() where index == 0 || hashes[index - 1] != hash { distinct += 1 }
        return CollectionMetadata(collectionName: name, encrypted: encrypted,
                                  featureVectorSizeBytes: dimension * settings.compression.bytesPerDimension,
                                  modelName: settings.modelName, modelOptions: settings.modelOptionsJSON,
                                  numFaceprints: faceprints, numIdentities: distinct)
    }
}
