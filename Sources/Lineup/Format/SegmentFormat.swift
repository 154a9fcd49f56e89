import CLZ4

/// A segment file's header (FORMAT.md, "Segment files"): what the file holds and where.
///
///       0  8    magic "LNUPSEGM"
///       8  u16  segment version (1, or 2 with compact codes)
///      10  u8   encoding (0 float32, 1 float16, 2 int8)
///      11  u8   zero
///      12  u32  dimension
///      16  u64  segment number (as in the file name)
///      24  u32  collection id
///      28  u32  row count
///      32  u64  row stride (bytes; a multiple of 64)
///      40  16   store id
///      56  u64  file size
///      64  n × 24 section table (n = 8 in version 1, 10 in version 2): u64 offset, u64
///              length, u32 CRC32C of the section, u32 zero (zero for the vectors and the
///              codes, which checksum sections cover per MiB)
///  64+24n  …    zero
///     316  u32  CRC32C of bytes 0 ..< 316
struct SegmentHeader: Equatable {
    /// The sections, in file order.
    enum Section: Int, CaseIterable {
        case vectors, scales, uuids, uuidOrder, identityIndex, identityBlocks, identityData, vectorChecksums
        /// Version 2: the compact code of every row (``CompactCode``), `codeStride` bytes apart;
        /// empty for int8 segments.
        case codes
        /// Version 2: every row's code scale (f32), then every row's bound (f32), then one
        /// CRC32C a MiB of the codes; empty for int8 segments.
        case codeTable
    }

    /// The sections in the order they lie in the file: in version 2 the codes follow the
    /// vectors (both are streamed while the rows are written), and the code table comes last.
    static func fileOrder(version: UInt16) -> [Section] {
        version == 1 ? Array(Section.allCases.prefix(FormatConstants.segmentSectionCountV1))
            : [.vectors, .codes, .scales, .uuids, .uuidOrder, .identityIndex, .identityBlocks, .identityData,
               .vectorChecksums, .codeTable]
    }

    /// Bytes from one code to the next: an int8 row's stride.
    var codeStride: Int { Lineup.rowStride(dimension: dimension, encoding: .int8) }

    /// The segment keeps compact codes (version 2, float32 or fp16).
    var hasCodes: Bool { sections.count > Section.codes.rawValue && sections[Section.codes.rawValue].length > 0 }

    /// Checksum-table entries for a vector section of `length` bytes: one a MiB.
    static func vectorChecksumCount(_ length: Int) -> Int {
        (length + FormatConstants.vectorChecksumBlock - 1) / FormatConstants.vectorChecksumBlock
    }

    struct SectionEntry: Equatable {
        var offset: Int
        var length: Int
        var checksum: UInt32
    }

    var version: UInt16 = FormatConstants.segmentVersion
    var encoding: VectorCompression
    var dimension: Int
    var segmentNumber: UInt64
    var collectionID: UInt32
    var rowCount: Int
    var rowStride: Int
    var storeID: RecordID
    var fileSize: Int
    var sections: [SectionEntry]

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: FormatConstants.segmentHeaderSize)
        writer.raw(FormatConstants.segmentMagic)
        writer.u16(version)
        writer.u8(encoding.formatCode)
        writer.u8(0)
        writer.u32(UInt32(dimension))
        writer.u64(segmentNumber)
        writer.u32(collectionID)
        writer.u32(UInt32(rowCount))
        writer.u64(UInt64(rowStride))
        writer.recordID(storeID)
        writer.u64(UInt64(fileSize))
        for section in sections {
            writer.u64(UInt64(section.offset))
            writer.u64(UInt64(section.length))
            writer.u32(section.checksum)
            writer.u32(0)
        }
        writer.zeros(FormatConstants.segmentHeaderSize - 4 - writer.count)
        writer.u32(Checksum.crc32c(writer.bytes))
        return writer.bytes
    }

    /// Decodes and checks the header: checksum, magic, version, and that every section lies
    /// inside the file where the format puts it, with the length the row count implies.
    static func decode(_ bytes: UnsafeRawBufferPointer, fileSize: Int) throws -> SegmentHeader {
        let damaged = LineupError(.corruptStore, "a segment header is damaged")
        var (version, reader) = try FramedHeader.open(bytes, magic: FormatConstants.segmentMagic,
                                                      length: FormatConstants.segmentHeaderSize, newest: FormatConstants.segmentVersion,
                                                      damaged: damaged) { _ in "a segment was written by a newer version of Lineup" }
        do {
            guard let encoding = VectorCompression(formatCode: try reader.u8()),
                  try reader.u8() == 0 else { throw damaged }
            var header = SegmentHeader(
                encoding: encoding, dimension: Int(try reader.u32()), segmentNumber: try reader.u64(),
                collectionID: try reader.u32(), rowCount: Int(try reader.u32()),
                rowStride: Int(clamping: try reader.u64()), storeID: try reader.recordID(),
                fileSize: Int(clamping: try reader.u64()), sections: [])
            header.version = version
            let sectionCount = version == 1 ? FormatConstants.segmentSectionCountV1 : FormatConstants.segmentSectionCount
            for _ in 0..<sectionCount {
                let offset = Int(clamping: try reader.u64())
                let length = Int(clamping: try reader.u64())
                let checksum = try reader.u32()
                guard try reader.u32() == 0 else { throw damaged }
                header.sections.append(SectionEntry(offset: offset, length: length, checksum: checksum))
            }
            guard bytes[reader.offset..<(FormatConstants.segmentHeaderSize - 4)].allSatisfy({ $0 == 0 }),
                  header.fileSize == fileSize, header.rowCount > 0,
                  header.dimension > 0, header.dimension <= Validation.maximumDimension,
                  header.rowStride == Lineup.rowStride(dimension: header.dimension, encoding: encoding) else { throw damaged }
            let rows = header.rowCount
            let expectedLengths: [Section: Int] = [
                .vectors: rows * header.rowStride,
                .scales: encoding == .int8 ? rows * 4 : 0,
                .uuids: rows * 16,
                .uuidOrder: rows * 4,
                .identityIndex: rows * 12,
                .identityBlocks: (rows + FormatConstants.identityBlockRows - 1) / FormatConstants.identityBlockRows * 16,
                .vectorChecksums: vectorChecksumCount(rows * header.rowStride) * 4,
                .codes: encoding == .int8 ? 0 : rows * header.codeStride,
                .codeTable: encoding == .int8 ? 0 : rows * 8 + vectorChecksumCount(rows * header.codeStride) * 4,
            ]
            guard header.sections[Section.vectors.rawValue].checksum == 0,
                  header.sections.count <= Section.codes.rawValue || header.sections[Section.codes.rawValue].checksum == 0
            else { throw damaged }
            var end = FormatConstants.segmentHeaderSize
            for section in fileOrder(version: version) {
                let entry = header.sections[section.rawValue]
                guard entry.offset == alignedOffset(end), entry.length >= 0,
                      entry.offset <= fileSize, entry.length <= fileSize - entry.offset,
                      expectedLengths[section].map({ $0 == entry.length }) ?? true else { throw damaged }
                end = entry.offset + entry.length
            }
            guard end == fileSize else { throw damaged }
            return header
        } catch let error as LineupError {
            throw error
        } catch {
            throw damaged
        }
    }

    static func alignedOffset(_ offset: Int) -> Int {
        (offset + FormatConstants.sectionAlignment - 1) / FormatConstants.sectionAlignment * FormatConstants.sectionAlignment
    }
}

/// LZ4 block compression through liblz4, for identity blocks.
enum LZ4 {
    static func compress(_ input: [UInt8]) -> [UInt8] {
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        var output = [UInt8](repeating: 0, count: max(bound, 1))
        let written = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                LZ4_compress_default(source.baseAddress?.assumingMemoryBound(to: CChar.self),
                                     destination.baseAddress!.assumingMemoryBound(to: CChar.self),
                                     Int32(input.count), Int32(destination.count))
            }
        }
        precondition(written > 0 || input.isEmpty, "LZ4 compression into a bound-sized buffer cannot fail")
        output.removeSubrange(Int(written)...)
        return output
    }

    /// The largest raw length a block may claim: a bound on what a damaged table can make
    /// a reader allocate.
    static let maximumRawLength = 64 << 20

    /// Decompresses a block that must expand to exactly `rawLength` bytes; `nil` otherwise.
    static func decompress(_ input: UnsafeRawBufferPointer, rawLength: Int) -> [UInt8]? {
        guard rawLength >= 0, rawLength <= maximumRawLength else { return nil }
        var output = [UInt8](repeating: 0, count: rawLength)
        return output.withUnsafeMutableBytes { decompress(input, into: $0) } ? output : nil
    }

    /// Decompresses a block that must expand to exactly `output.count` bytes into `output`;
    /// false otherwise (what `output` then holds is unspecified).
    static func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard output.count <= maximumRawLength else { return false }
        if output.isEmpty { return input.isEmpty }
        let produced = LZ4_decompress_safe(input.baseAddress?.assumingMemoryBound(to: CChar.self),
                                           output.baseAddress!.assumingMemoryBound(to: CChar.self),
                                           Int32(input.count), Int32(output.count))
        return produced == Int32(output.count)
    }
}

/// A decoded identity block: the identities of up to 256 consecutive rows.
/// Raw form: for each row, u16 length and that many bytes of UTF-8.
enum IdentityBlock {
    static func encode(_ identities: some Collection<String>) -> [UInt8] {
        var writer = ByteWriter()
        for identity in identities { writer.string16(identity) }
        return writer.bytes
    }

    /// Whether `raw` holds exactly `rows` non-empty string16 entries of valid UTF-8, without
    /// making a String of any (the check a segment's open makes of every block).
    static func isWellFormed(_ raw: UnsafeRawBufferPointer, rows: Int) -> Bool {
        raw.withMemoryRebound(to: UInt8.self) { bytes in
            var offset = 0
            for _ in 0..<rows {
                guard offset + 2 <= bytes.count else { return false }
                let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
                offset += 2
                guard length > 0, offset + length <= bytes.count,
                      isValidUTF8(UnsafeBufferPointer(rebasing: bytes[offset..<(offset + length)])) else { return false }
                offset += length
            }
            return offset == bytes.count
        }
    }

    /// Whether `bytes` are well-formed UTF-8 (RFC 3629: no overlongs, surrogates or values
    /// past U+10FFFF), ASCII taken eight bytes at a time.
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            if index + 8 <= count,
               UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                index += 8
                continue
            }
            let lead = bytes[index]
            if lead < 0x80 { index += 1; continue }
            let length: Int
            var minimum: UInt32
            var scalar: UInt32
            switch lead {
            case 0xC2...0xDF: length = 2; minimum = 0x80; scalar = UInt32(lead & 0x1F)
            case 0xE0...0xEF: length = 3; minimum = 0x800; scalar = UInt32(lead & 0x0F)
            case 0xF0...0xF4: length = 4; minimum = 0x10000; scalar = UInt32(lead & 0x07)
            default: return false
            }
            guard index + length <= count else { return false }
            for continuation in 1..<length {
                let byte = bytes[index + continuation]
                guard byte & 0xC0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(byte & 0x3F)
            }
            guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return false }
            index += length
        }
        return true
    }

    /// Every identity of a block: what a pass over its rows uses.
    static func decode(_ raw: UnsafeRawBufferPointer, rows: Int) -> [String]? {
        var reader = ByteReader(raw)
        var result: [String] = []
        result.reserveCapacity(rows)
        for _ in 0..<rows {
            guard let identity = try? reader.string16(), !identity.isEmpty else { return nil }
            result.append(identity)
        }
        return reader.remaining == 0 ? result : nil
    }

    /// The identity of entry `index` of a block, making a String of that entry alone (the
    /// lookup for one result): the entries before it are skipped by their lengths. Nil when
    /// the block has no such entry, or it is empty or not UTF-8.
    static func identity(at index: Int, in raw: UnsafeRawBufferPointer) -> String? {
        var reader = ByteReader(raw)
        do {
            for _ in 0..<index { try reader.skip(Int(try reader.u16())) }
            let length = Int(try reader.u16())
            guard length > 0, length <= reader.remaining else { return nil }
            let utf8 = UnsafeRawBufferPointer(rebasing: raw[reader.offset..<(reader.offset + length)])
            return String(validating: utf8.bindMemory(to: UInt8.self), as: UTF8.self)
        } catch {
            return nil
        }
    }
}
