/// The manifest (FORMAT.md, "Manifest"): the store's catalog of collections and their
/// segments, and where the journal starts. Replaced whole, atomically, never edited in place.
struct Manifest: Equatable, Sendable {
    struct SegmentEntry: Equatable, Sendable {
        var number: UInt64
        var rowCount: Int
        var fileSize: UInt64
        /// Rows removed since the segment was written, ascending.
        var removedRows: [UInt32]
    }

    struct CollectionEntry: Equatable, Sendable {
        var id: UInt32
        var name: String
        var settings: CollectionSettings
        /// 0 until the first enrollment fixes it.
        var dimension: Int
        var segments: [SegmentEntry]
        /// The match-probability curve fitted to the collection's own pairs
        /// (``SDK/calibrate(collectionName:)``); nil until calibrated.
        var curve: MatchProbability? = nil
    }

    var storeID: RecordID
    /// Raised by one on every replacement.
    var generation: UInt64
    /// The journal file holding every record after ``checkpointSequence``.
    var journalNumber: UInt64
    /// Every record up to and including this sequence number is reflected here and in the
    /// segments; replay starts after it.
    var checkpointSequence: UInt64
    var nextSegmentNumber: UInt64
    var nextCollectionID: UInt32
    var collections: [CollectionEntry]

    /// A collection entry's flag: a calibration curve follows its dimension (version 2).
    static let calibratedFlag: UInt8 = 1

    /// A new, empty store's first manifest.
    static func empty(storeID: RecordID) -> Manifest {
        Manifest(storeID: storeID, generation: 1, journalNumber: 1, checkpointSequence: 0,
                 nextSegmentNumber: 1, nextCollectionID: 1, collections: [])
    }

    /// FORMAT.md, "Manifest": header, collections, then a CRC32C of everything before it.
    func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.raw(FormatConstants.manifestMagic)
        // Version 2 only where it is needed (a calibrated collection), so that stores never
        // calibrated stay readable by builds that read version 1.
        writer.u16(collections.contains { $0.curve != nil } ? FormatConstants.manifestVersion : 1)
        writer.u16(0)
        writer.u32(0)
        writer.recordID(storeID)
        writer.u64(generation)
        writer.u64(journalNumber)
        writer.u64(checkpointSequence)
        writer.u64(nextSegmentNumber)
        writer.u32(nextCollectionID)
        writer.u32(UInt32(collections.count))
        for collection in collections {
            writer.u32(collection.id)
            writer.string16(collection.name)
            writer.string16(collection.settings.modelName)
            writer.u8(collection.settings.compression.formatCode)
            writer.u8(collection.curve == nil ? 0 : Manifest.calibratedFlag)
            writer.u16(0)
            writer.u32(UInt32(collection.dimension))
            if let curve = collection.curve {
                writer.f32(curve.midpoint)
                writer.f32(curve.steepness)
            }
            writer.u32(UInt32(collection.segments.count))
            for segment in collection.segments {
                writer.u64(segment.number)
                writer.u64(UInt64(segment.rowCount))
                writer.u64(segment.fileSize)
                writer.u32(UInt32(segment.removedRows.count))
                for row in segment.removedRows { writer.u32(row) }
            }
        }
        writer.u32(Checksum.crc32c(writer.bytes))
        return writer.bytes
    }

    /// Decodes and checks a manifest.
    ///
    /// - Throws: `corruptStore` for any damage; `unsupportedFormatVersion` for a newer format.
    static func decode(_ bytes: [UInt8]) throws -> Manifest {
        let damaged = LineupError(.corruptStore, "the manifest is damaged")
        do {
            return try bytes.withUnsafeBytes { raw in
                var (version, reader) = try FramedHeader.open(raw, magic: FormatConstants.manifestMagic, length: raw.count,
                                                              newest: FormatConstants.manifestVersion, damaged: damaged) {
                    "the store was written by a newer version of Lineup (format \($0))"
                }
                guard try reader.u16() == 0, try reader.u32() == 0 else { throw damaged }
                var manifest = Manifest(storeID: try reader.recordID(), generation: try reader.u64(),
                                        journalNumber: try reader.u64(), checkpointSequence: try reader.u64(),
                                        nextSegmentNumber: try reader.u64(), nextCollectionID: try reader.u32(),
                                        collections: [])
                let collectionCount = Int(try reader.u32())
                var ids = Set<UInt32>(), names = Set<ExactText>(), segmentNumbers = Set<UInt64>()
                for _ in 0..<collectionCount {
                    let id = try reader.u32()
                    let name = try reader.string16()
                    let model = try reader.string16()
                    guard let compression = VectorCompression(formatCode: try reader.u8()) else { throw damaged }
                    let flags = try reader.u8()
                    guard flags & ~(version >= 2 ? Manifest.calibratedFlag : 0) == 0, try reader.u16() == 0 else { throw damaged }
                    let dimension = Int(try reader.u32())
                    var curve: MatchProbability?
                    if flags & Manifest.calibratedFlag != 0 {
                        let midpoint = try reader.f32(), steepness = try reader.f32()
                        guard midpoint.isFinite, steepness.isFinite, steepness > 0 else { throw damaged }
                        curve = MatchProbability(midpoint: midpoint, steepness: steepness)
                    }
                    let segmentCount = Int(try reader.u32())
                    guard id > 0, id < manifest.nextCollectionID, ids.insert(id).inserted,
                          names.insert(ExactText(name)).inserted, !name.isEmpty, !model.isEmpty,
                          name.utf8.count <= Validation.maximumNameBytes, model.utf8.count <= Validation.maximumNameBytes,
                          dimension <= Validation.maximumDimension,
                          segmentCount <= reader.remaining / 28 else { throw damaged }
                    var segments: [SegmentEntry] = []
                    for _ in 0..<segmentCount {
                        let number = try reader.u64()
                        let rows = try reader.u64()
                        let size = try reader.u64()
                        let removedCount = Int(try reader.u32())
                        guard number < manifest.nextSegmentNumber, segmentNumbers.insert(number).inserted,
                              rows > 0, rows <= UInt64(UInt32.max), removedCount <= Int(rows),
                              removedCount <= reader.remaining / 4, dimension > 0 else { throw damaged }
                        var removed: [UInt32] = []
                        removed.reserveCapacity(removedCount)
                        for _ in 0..<removedCount {
                            let row = try reader.u32()
                            guard UInt64(row) < rows, removed.last.map({ $0 < row }) ?? true else { throw damaged }
                            removed.append(row)
                        }
                        segments.append(SegmentEntry(number: number, rowCount: Int(rows), fileSize: size, removedRows: removed))
                    }
                    manifest.collections.append(CollectionEntry(
                        id: id, name: name, settings: CollectionSettings(modelName: model, compression: compression),
                        dimension: dimension, segments: segments, curve: curve))
                }
                // Version 2 exactly when a collection is calibrated: one encoding per manifest.
                guard reader.remaining == 0, manifest.generation > 0, manifest.journalNumber > 0,
                      (version >= 2) == manifest.collections.contains(where: { $0.curve != nil }) else { throw damaged }
                return manifest
            }
        } catch let error as LineupError {
            throw error
        } catch {
            throw damaged
        }
    }
}
