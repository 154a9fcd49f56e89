/// What the on-disk store's maintenance calls report: space, compaction, backup.

/// Live and removed Faceprints of a collection and the space they take on disk
/// (``SDK/getCollectionSpace(_:)``, `lineup info`).
public struct CollectionSpace: Sendable, Equatable, Codable {
    /// Faceprints that identification can return.
    public var liveFaceprints = 0
    /// Removed Faceprints whose rows still sit in segment files, awaiting compaction.
    public var removedFaceprints = 0
    /// Bytes of the collection's segment files holding live rows (each file's size shared out
    /// by rows), plus the journal tail's live rows at their stored size.
    public var liveBytes = 0
    /// Bytes of segment files holding removed rows: what compaction gives back.
    public var deadBytes = 0
    /// Sealed segment files.
    public var segments = 0

    public init(liveFaceprints: Int = 0, removedFaceprints: Int = 0, liveBytes: Int = 0, deadBytes: Int = 0, segments: Int = 0) {
        self.liveFaceprints = liveFaceprints
        self.removedFaceprints = removedFaceprints
        self.liveBytes = liveBytes
        self.deadBytes = deadBytes
        self.segments = segments
    }
}

/// What one compaction did.
public struct CompactionReport: Sendable, Equatable {
    /// Segment files replaced, and written in their place.
    public var segmentsRewritten = 0
    public var segmentsWritten = 0
    /// Removed Faceprints whose rows were dropped (erased from the store's files).
    public var faceprintsErased = 0
    /// Live Faceprints copied into the new files.
    public var faceprintsCopied = 0
    /// Bytes of the replaced files, and of the new ones.
    public var bytesBefore = 0
    public var bytesAfter = 0

    public init() {}
}

/// What ``SDK/backup(to:forceCopy:progress:)`` did.
public struct BackupReport: Sendable, Equatable {
    /// Files linked to the source's (same file system, immutable segments only).
    public var filesLinked: Int
    /// Files copied byte for byte.
    public var filesCopied: Int
    /// Bytes copied (linked files not counted).
    public var bytesCopied: Int
    /// The manifest generation and journal length the copy was taken at.
    public var generation: UInt64
    public var journalLength: Int
}
