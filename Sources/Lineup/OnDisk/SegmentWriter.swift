/// Writes one immutable segment file (FORMAT.md, "Segment files") from rows held in memory,
/// durably: a temporary name, fsync, rename, fsync of the directory. The new file becomes part
/// of the store only when a manifest names it; until then a crash leaves an orphan that the
/// next writer's open deletes.
struct SegmentWriter {
    /// One row to write.
    struct Row {
        var id: RecordID
        var identity: String
        /// The stored vector, `dimension × bytes-a-dimension` bytes.
        var vector: [UInt8]
        var scale: Float
    }

    let fileSystem: any FileSystem
    let directory: String
    let storeID: RecordID
    /// An encrypted store's cipher: the file is then an envelope of the segment's bytes
    /// (FORMAT.md, "Encrypted envelope"), and plaintext never reaches the disk.
    var cipher: StoreCipher? = nil

    /// Writes segment `number` holding `count` rows that `row` returns in order, and returns
    /// its file size (the envelope's, in an encrypted store) — and, in an encrypted store, the
    /// plaintext just written, kept in locked memory, so that the new segment need not be
    /// read back and decrypted.
    func write(number: UInt64, collectionID: UInt32, encoding: VectorCompression, dimension: Int,
               count: Int, row: (Int) throws -> Row) throws -> (fileSize: UInt64, plaintext: MappedRegion?) {
        precondition(count > 0 && count <= Int(UInt32.max))
        let stride = rowStride(dimension: dimension, encoding: encoding)
        let vectorBytes = dimension * encoding.bytesPerDimension
        typealias Section = SegmentHeader.Section

        // The small sections, built in memory; the vectors stream to the file.
        var scales = ByteWriter(capacity: encoding == .int8 ? count * 4 : 0)
        var uuids = ByteWriter(capacity: count * 16)
        var ids: [RecordID] = []
        ids.reserveCapacity(count)
        var hashes: [(hash: UInt64, row: UInt32)] = []
        hashes.reserveCapacity(count)
        var blockTable = ByteWriter()
        var identityData = ByteWriter()
        var blockIdentities: [String] = []
        func flushIdentityBlock() {
            let raw = IdentityBlock.encode(blockIdentities)
            let compressed = LZ4.compress(raw)
            blockTable.u64(UInt64(identityData.count))
            blockTable.u32(UInt32(compressed.count))
            blockTable.u32(UInt32(raw.count))
            identityData.raw(compressed)
            blockIdentities.removeAll(keepingCapacity: true)
        }

        let finalPath = directory + "/" + FormatConstants.segmentName(number)
        let temporaryPath = finalPath + FormatConstants.segmentTemporarySuffix
        try? fileSystem.unlink(temporaryPath)
        let descriptor = try fileSystem.open(temporaryPath, writable: true, create: true, exclusive: true)
        var closed = false
        defer { if !closed { fileSystem.close(descriptor); try? fileSystem.unlink(temporaryPath) } }
        let fileSystem = self.fileSystem
        // What the plaintext can take at most: the fixed-size sections, and identities at
        // their largest (1,024 bytes and a length each), LZ4's worst case, and alignment.
        let blocks = (count + FormatConstants.identityBlockRows - 1) / FormatConstants.identityBlockRows
        let identityBound = count * (Validation.maximumIdentityBytes + 2)
        let withCodes = encoding != .int8
        let codeStride = withCodes ? rowStride(dimension: dimension, encoding: .int8) : 0
        let bound = FormatConstants.segmentHeaderSize + count * stride + count * (4 + 16 + 4 + 12) + blocks * 16
            + identityBound + identityBound / 255 + blocks * 16 + SegmentHeader.vectorChecksumCount(count * stride) * 4
            + count * (codeStride + 8) + SegmentHeader.vectorChecksumCount(count * codeStride) * 4
            + FormatConstants.segmentSectionCount * FormatConstants.sectionAlignment
        let envelope = try cipher?.envelopeWriter(kind: .segment, number: number, retaining: bound) { bytes, offset in
            try fileSystem.write(descriptor, bytes, at: offset)
        }
        func put(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
            if let envelope { try envelope.write(bytes, at: offset) } else { try fileSystem.write(descriptor, bytes, at: offset) }
        }

        // Vectors: rows padded to the stride, written in batches of about 4 MiB. Their codes
        // (float32 and fp16) follow the vectors in the file: a plain file takes each batch's
        // codes at their place at once; an envelope, written front to back, takes them all
        // after the vectors.
        var offset = FormatConstants.segmentHeaderSize
        var vectorChecksums = MiBChecksums(length: count * stride)
        let codesOffset = SegmentHeader.alignedOffset(offset + count * stride)
        var codeChecksums = MiBChecksums(length: count * codeStride)
        var codeScales = ByteWriter(capacity: withCodes ? count * 4 : 0)
        var codeBounds = ByteWriter(capacity: withCodes ? count * 4 : 0)
        var heldCodes: [UInt8] = []
        if withCodes && envelope != nil { heldCodes.reserveCapacity(count * codeStride) }
        let batchRows = max(1, (4 << 20) / stride)
        var batch = [UInt8](repeating: 0, count: batchRows * stride)
        var codeBatch = [UInt8](repeating: 0, count: batchRows * codeStride)
        var decoded = [Float](repeating: 0, count: dimension)
        var rowIndex = 0
        while rowIndex < count {
            let rowsNow = min(batchRows, count - rowIndex)
            try batch.withUnsafeMutableBytes { buffer in
                for index in 0..<rowsNow {
                    let item = try row(rowIndex + index)
                    precondition(item.vector.count == vectorBytes)
                    let start = index * stride
                    item.vector.withUnsafeBytes {
                        UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + vectorBytes)]).copyMemory(from: $0)
                    }
                    if stride > vectorBytes {
                        buffer[(start + vectorBytes)..<(start + stride)].initializeMemory(as: UInt8.self, repeating: 0)
                    }
                    if encoding == .int8 { scales.f32(item.scale) }
                    uuids.recordID(item.id)
                    ids.append(item.id)
                    hashes.append((identityHash(item.identity), UInt32(rowIndex + index)))
                    blockIdentities.append(item.identity)
                    if blockIdentities.count == FormatConstants.identityBlockRows { flushIdentityBlock() }
                }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<(rowsNow * stride)])
                vectorChecksums.add(chunk)
                try put(chunk, at: offset)
                guard withCodes else { return }
                try codeBatch.withUnsafeMutableBytes { codes in
                    decoded.withUnsafeMutableBufferPointer { decoded in
                        for index in 0..<rowsNow {
                            encoding.decode(buffer.baseAddress! + index * stride, scale: nil, into: decoded)
                            let code = UnsafeMutableRawBufferPointer(rebasing: codes[(index * codeStride)..<((index + 1) * codeStride)])
                            code.initializeMemory(as: UInt8.self, repeating: 0)
                            let (scale, bound) = CompactCode.encode(UnsafeBufferPointer(decoded),
                                                                    into: code.bindMemory(to: Int8.self))
                            codeScales.f32(scale)
                            codeBounds.f32(bound)
                        }
                    }
                    let codeChunk = UnsafeRawBufferPointer(rebasing: codes[0..<(rowsNow * codeStride)])
                    codeChecksums.add(codeChunk)
                    if envelope == nil {
                        try put(codeChunk, at: codesOffset + rowIndex * codeStride)
                    } else {
                        heldCodes.append(contentsOf: codeChunk)
                    }
                }
            }
            offset += rowsNow * stride
            rowIndex += rowsNow
        }
        if !blockIdentities.isEmpty { flushIdentityBlock() }

        var uuidOrder = ByteWriter(capacity: count * 4)
        for row in (0..<count).sorted(by: { ids[$0] < ids[$1] }) { uuidOrder.u32(UInt32(row)) }
        var identityIndex = ByteWriter(capacity: count * 12)
        for entry in hashes.sorted(by: { ($0.hash, $0.row) < ($1.hash, $1.row) }) {
            identityIndex.u64(entry.hash)
            identityIndex.u32(entry.row)
        }

        var sections = [SegmentHeader.SectionEntry](repeating: .init(offset: 0, length: 0, checksum: 0),
                                                    count: Section.allCases.count)
        sections[Section.vectors.rawValue] = .init(offset: FormatConstants.segmentHeaderSize, length: count * stride, checksum: 0)
        /// Zeros up to the next section's place, and its start.
        func pad() throws -> Int {
            let start = SegmentHeader.alignedOffset(offset)
            if start > offset {
                try [UInt8](repeating: 0, count: start - offset).withUnsafeBytes { try put($0, at: offset) }
            }
            return start
        }
        let start = try pad()
        assert(start == codesOffset)
        if !heldCodes.isEmpty { try heldCodes.withUnsafeBytes { try put($0, at: start) } }
        sections[Section.codes.rawValue] = .init(offset: start, length: count * codeStride, checksum: 0)
        offset = start + count * codeStride
        let small: [(Section, [UInt8])] = [
            (.scales, scales.bytes), (.uuids, uuids.bytes), (.uuidOrder, uuidOrder.bytes), (.identityIndex, identityIndex.bytes),
            (.identityBlocks, blockTable.bytes), (.identityData, identityData.bytes), (.vectorChecksums, vectorChecksums.finish()),
            (.codeTable, codeScales.bytes + codeBounds.bytes + codeChecksums.finish()),
        ]
        for (section, bytes) in small {
            let start = try pad()
            try bytes.withUnsafeBytes { try put($0, at: start) }
            sections[section.rawValue] = .init(offset: start, length: bytes.count, checksum: Checksum.crc32c(bytes))
            offset = start + bytes.count
        }
        assert(SegmentHeader.fileOrder(version: FormatConstants.segmentVersion).map { sections[$0.rawValue].offset }
            == sections.map(\.offset).sorted())
        let header = SegmentHeader(encoding: encoding, dimension: dimension, segmentNumber: number,
                                   collectionID: collectionID, rowCount: count, rowStride: stride,
                                   storeID: storeID, fileSize: offset, sections: sections)
        try header.encoded().withUnsafeBytes { try put($0, at: 0) }
        let fileSize = try envelope?.finish() ?? offset
        try fileSystem.sync(descriptor)
        fileSystem.close(descriptor)
        closed = true
        try fileSystem.rename(temporaryPath, to: finalPath)
        try fileSystem.syncDirectory(directory)
        return (UInt64(fileSize), envelope?.retained())
    }
}

/// One CRC32C for each MiB of a section streamed in pieces, wherever the pieces fall
/// (FORMAT.md §6.2, sections 7 and 9).
struct MiBChecksums {
    private var table: ByteWriter
    private var crc: UInt32 = 0
    private var fill = 0

    init(length: Int) {
        table = ByteWriter(capacity: SegmentHeader.vectorChecksumCount(length) * 4)
    }

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var consumed = 0
        while consumed < bytes.count {
            let take = min(bytes.count - consumed, FormatConstants.vectorChecksumBlock - fill)
            crc = Checksum.crc32c(UnsafeRawBufferPointer(rebasing: bytes[consumed..<(consumed + take)]), seed: crc)
            fill += take
            consumed += take
            if fill == FormatConstants.vectorChecksumBlock {
                table.u32(crc)
                crc = 0
                fill = 0
            }
        }
    }

    /// The table: one entry per whole or partial MiB added.
    mutating func finish() -> [UInt8] {
        if fill > 0 { table.u32(crc) }
        fill = 0
        crc = 0
        return table.bytes
    }
}
