import Synchronization

extension PreparedEnrollment {
    /// A validated Faceprint, normalised and encoded for a collection stored as `compression`,
    /// with a new UUID.
    init(_ faceprint: Faceprint, identity: String, compression: VectorCompression) {
        self.init(id: .generate(), identity: identity,
                  vector: VectorEncoder.encodeNormalizing(faceprint.featureVector, as: compression),
                  dimension: faceprint.featureVector.count)
    }
}

/// The in-memory state of one collection: vectors in append-only chunks, deletion bitmaps,
/// and the indexes that map UUIDs and identities to rows.
///
/// Thread safety: every method may be called from any thread. Writers serialise on one short
/// lock that covers only the in-memory update (encoding happens before it); ``snapshot()``
/// takes the same lock just long enough to copy the list of chunks, so a reader never waits
/// for a scan, and a scan never waits for a writer.
package final class Gallery: Sendable {
    package let settings: CollectionSettings
    private let state: Mutex<State>

    /// Rows of the first chunk; each later chunk doubles, up to ``maximumChunkRows``.
    static let firstChunkRows = 1024
    static let maximumChunkRows = 65536

    struct RowReference: Hashable, Sendable {
        var chunk: Int32
        var row: Int32
    }

    private struct State {
        var dimension: Int
        var chunks: [GalleryChunk] = []
        var removed: [DeletionBitmap?] = []
        var rowsByID: [RecordID: RowReference] = [:]
        var rowsByIdentity: [ExactText: [RowReference]] = [:]
        var isDropped = false
        /// The calibrated match-probability curve (memory backend), nil until calibrated.
        var curve: MatchProbability?
    }

    package init(settings: CollectionSettings, dimension: Int = 0) {
        self.settings = settings
        self.state = Mutex(State(dimension: dimension))
    }

    /// The calibrated match-probability curve (the memory backend keeps it here).
    package var curve: MatchProbability? {
        get { state.withLock { $0.curve } }
        set { state.withLock { $0.curve = newValue } }
    }

    /// The fixed dimension, or 0 before the first enrollment.
    package var dimension: Int { state.withLock { $0.dimension } }

    /// Live Faceprints and distinct identities among them.
    package var counts: (faceprints: Int, identities: Int) {
        state.withLock { ($0.rowsByID.count, $0.rowsByIdentity.count) }
    }

    /// Appends every enrollment of `batch`, or none: the dimension of each must match the
    /// collection's (the first enrollment ever fixes it), and every UUID must be new.
    ///
    /// - Throws: `enrollmentError` on a dimension mismatch or a UUID already here,
    ///   `noCollectionFound` once dropped.
    package func append(_ batch: [PreparedEnrollment]) throws {
        try state.withLock { state in
            guard !state.isDropped else {
                throw LineupError(.noCollectionFound, "the collection was deleted")
            }
            try Enrollments.checkDimensions(batch, fixed: state.dimension)
            try Enrollments.checkNewIDs(batch) { state.rowsByID[$0] != nil }
            Gallery.insert(batch, into: &state, encoding: settings.compression)
        }
    }

    /// Appends `batch`, which the caller has checked (``Enrollments``) against this gallery and
    /// everything in flight: a durable record being applied, which must not fail. A dropped
    /// gallery takes nothing.
    package func appendChecked(_ batch: [PreparedEnrollment]) {
        state.withLock { state in
            guard !state.isDropped else { return }
            precondition((try? Enrollments.checkDimensions(batch, fixed: state.dimension)) != nil,
                         "an enrollment of another dimension reached the gallery")
            Gallery.insert(batch, into: &state, encoding: settings.compression)
        }
    }

    private static func insert(_ batch: [PreparedEnrollment], into state: inout State, encoding: VectorCompression) {
        guard let first = batch.first else { return }
        if state.dimension == 0 { state.dimension = first.dimension }
        for entry in batch {
            if state.chunks.last.map({ $0.isFull }) ?? true {
                let rows = state.chunks.last.map { min($0.capacity * 2, Gallery.maximumChunkRows) }
                    ?? Gallery.firstChunkRows
                state.chunks.append(GalleryChunk(capacity: rows, dimension: state.dimension, encoding: encoding))
                state.removed.append(nil)
            }
            let chunkIndex = state.chunks.count - 1
            let chunk = state.chunks[chunkIndex]
            let reference = RowReference(chunk: Int32(chunkIndex), row: Int32(chunk.written))
            precondition(state.rowsByID.updateValue(reference, forKey: entry.id) == nil, "a UUID reached the gallery twice")
            chunk.append(id: entry.id, identity: entry.identity, vector: entry.vector)
            state.rowsByIdentity[ExactText(entry.identity), default: []].append(reference)
        }
    }

    /// Removes the Faceprint `id`.
    ///
    /// - Throws: `noRecordFound` when no live Faceprint has that UUID.
    package func remove(id: RecordID) throws {
        try state.withLock { state in
            guard let reference = state.rowsByID.removeValue(forKey: id) else {
                throw LineupError(.noRecordFound, "no Faceprint has UUID \(id.string)")
            }
            let chunk = state.chunks[Int(reference.chunk)]
            let identity = chunk.identity(at: Int(reference.row))
            if var rows = state.rowsByIdentity[ExactText(identity)] {
                rows.removeAll { $0 == reference }
                state.rowsByIdentity[ExactText(identity)] = rows.isEmpty ? nil : rows
            }
            Gallery.markRemoved([reference], in: &state)
        }
    }

    /// Removes every Faceprint of `identity` and returns how many there were.
    ///
    /// - Throws: `noRecordFound` when the identity has no live Faceprint.
    package func remove(identity: String) throws -> Int {
        try state.withLock { state in
            guard let references = state.rowsByIdentity.removeValue(forKey: ExactText(identity)) else {
                throw LineupError(.noRecordFound, "no Faceprint has that identity")
            }
            for reference in references {
                let id = state.chunks[Int(reference.chunk)].recordID(at: Int(reference.row))
                state.rowsByID[id] = nil
            }
            Gallery.markRemoved(references, in: &state)
            return references.count
        }
    }

    private static func markRemoved(_ references: [RowReference], in state: inout State) {
        let byChunk = Dictionary(grouping: references, by: { Int($0.chunk) })
        for (chunkIndex, rows) in byChunk {
            let capacity = state.chunks[chunkIndex].capacity
            let old = state.removed[chunkIndex] ?? DeletionBitmap(rows: capacity)
            state.removed[chunkIndex] = old.removing(rows.map { Int($0.row) }, capacity: capacity)
        }
    }

    /// The distinct identities among the live Faceprints.
    func liveIdentities() -> [String] {
        state.withLock { $0.rowsByIdentity.keys.map(\.string) }
    }

    /// Rows written so far, live or removed.
    var rowCount: Int {
        state.withLock { $0.chunks.reduce(0) { $0 + $1.written } }
    }

    /// The UUIDs of the live Faceprints of `identity`, in enrollment order.
    func ids(of identity: String) -> [RecordID] {
        state.withLock { state in
            (state.rowsByIdentity[ExactText(identity)] ?? []).map { state.chunks[Int($0.chunk)].recordID(at: Int($0.row)) }
        }
    }

    /// Every live row, in enrollment order, for sealing into a segment.
    func liveRows() -> [(chunk: GalleryChunk, row: Int)] {
        state.withLock { state in
            var rows: [(chunk: GalleryChunk, row: Int)] = []
            rows.reserveCapacity(state.rowsByID.count)
            for (index, chunk) in state.chunks.enumerated() {
                for row in 0..<chunk.written where !(state.removed[index]?.isRemoved(row) ?? false) {
                    rows.append((chunk, row))
                }
            }
            return rows
        }
    }

    /// Whether a live Faceprint has UUID `id`.
    package func contains(id: RecordID) -> Bool {
        state.withLock { $0.rowsByID[id] != nil }
    }

    /// An immutable view of the gallery as of now, for the matcher.
    package func snapshot() -> CollectionSnapshot {
        state.withLock { state in
            var blocks: [VectorBlock] = []
            blocks.reserveCapacity(state.chunks.count)
            for (index, chunk) in state.chunks.enumerated() where chunk.written > 0 {
                blocks.append(VectorBlock(source: chunk, encoding: chunk.encoding,
                                          dimension: chunk.dimension, stride: chunk.stride,
                                          count: chunk.written, removed: state.removed[index]))
            }
            return CollectionSnapshot(dimension: state.dimension, encoding: settings.compression,
                                      blocks: blocks)
        }
    }

    /// UUID → identity for every live Faceprint.
    package func identities() -> [String: String] {
        state.withLock { state in
            var result: [String: String] = [:]
            result.reserveCapacity(state.rowsByID.count)
            for (id, reference) in state.rowsByID {
                result[id.string] = state.chunks[Int(reference.chunk)].identity(at: Int(reference.row))
            }
            return result
        }
    }

    /// Marks the gallery deleted: later writes throw `noCollectionFound`. Snapshots already
    /// taken stay valid.
    package func drop() {
        state.withLock { $0.isDropped = true }
    }
}
