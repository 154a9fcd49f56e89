/// The live Faceprints of a collection as of one moment, to be read out once in enrollment
/// order: what `lineup export` writes and what a migration to another system or model reads.
///
/// Made by ``SDK/export(collectionName:)``. It holds a snapshot: enrollments and removals
/// made afterwards are not in it, and nothing waits for it (writers go on; the files it reads
/// stay until it is released). ``forEach(_:)`` streams: it holds one row's decoded vector at a
/// time, so an export of a gallery larger than memory needs only the pages being read.
///
/// Thread safety: immutable; `forEach` may run from any thread, more than once.
public final class FaceprintExport: Sendable {
    /// Live Faceprints in the snapshot: how many times ``forEach(_:)`` calls its body.
    public let count: Int
    /// The collection's dimension; 0 when it has never held a Faceprint.
    public let dimension: Int
    /// The stored form the vectors are decoded from.
    public let compression: VectorCompression
    /// The model name the collection records.
    public let modelName: String

    private let snapshot: CollectionSnapshot

    init(snapshot: CollectionSnapshot, modelName: String) {
        self.snapshot = snapshot
        self.dimension = snapshot.dimension
        self.compression = snapshot.encoding
        self.modelName = modelName
        self.count = snapshot.blocks.reduce(0) { total, block in
            total + (block.removed == nil ? block.count : (0..<block.count).reduce(0) { $0 + (block.isLive($1) ? 1 : 0) })
        }
    }

    /// Calls `body` with each live Faceprint's UUID, identity and vector, in enrollment order.
    /// The vector is the stored one decoded to float32 (unit length; fp16 and int8 decoded
    /// exactly as the matcher reads them, float32 bit for bit) and valid only inside `body`.
    ///
    /// - Throws: `corruptStore` when stored vectors fail their checksum (nothing of the damaged
    ///   part is handed over); whatever `body` throws, which ends the pass.
    public func forEach(_ body: (_ uuid: String, _ identity: String, _ vector: UnsafeBufferPointer<Float>) throws -> Void) throws {
        let dimension = dimension
        var decoded = [Float](repeating: 0, count: dimension)
        for block in snapshot.blocks {
            // A MiB of rows at a time: checked against its checksum before any of it is used.
            let rowsPerStep = max(1, (1 << 20) / max(1, block.stride))
            var start = 0
            while start < block.count {
                let rows = start..<min(block.count, start + rowsPerStep)
                guard block.source.checkVectors(rows: rows) else {
                    throw LineupError(.corruptStore, "a segment's vectors fail their checksum; run lineup verify")
                }
                try block.source.withUnsafeVectors { base, scales in
                    try block.source.forEachIdentity(rows: rows) { row, identity in
                        guard block.isLive(row) else { return }
                        let stored = base + row * block.stride
                        decoded.withUnsafeMutableBufferPointer { output in
                            block.encoding.decode(stored, scale: scales.map { $0[row] }, into: output)
                        }
                        try decoded.withUnsafeBufferPointer { vector in
                            try body(block.source.recordID(at: row).string, identity, vector)
                        }
                    }
                }
                // What was read is on disk still: a gallery larger than memory streams out.
                block.source.releaseVectorPages(rows: rows)
                start = rows.upperBound
            }
        }
    }
}

extension SDK {
    /// The live Faceprints of a loaded collection as of now, for reading out in enrollment
    /// order (``FaceprintExport``).
    ///
    /// - Throws: as every call naming a collection: `collectionNotLoaded`,
    ///   `noCollectionSpecified`, `noCollectionFound`, `invalidArgument` for a malformed name.
    public func export(collectionName: String = "") throws -> FaceprintExport {
        try Validation.collectionReference(collectionName)
        let store = try connection().resolve(collectionName)
        return FaceprintExport(snapshot: try store.snapshot(), modelName: store.settings.modelName)
    }
}
