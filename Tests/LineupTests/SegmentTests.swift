import Foundation
import Testing
@testable import Lineup

/// FORMAT.md §6 "Segment files": `SegmentWriter` writes what the format says, `Segment` reads it
/// back, and every damaged byte is `corruptStore` at open — never a crash, never a wrong answer.
@Suite struct SegmentTests {
    static let storeID = RecordID(high: 0x5EC0_0000_0000_0001, low: 0x0000_0000_0000_0002)

    /// A fresh temporary directory, removed by `remove()`.
    struct TemporaryDirectory {
        let path: String
        init(_ label: String) throws {
            path = FileManager.default.temporaryDirectory
                .appendingPathComponent("lineup-\(label)-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        func remove() { try? FileManager.default.removeItem(atPath: path) }
    }

    struct Row {
        var id: RecordID
        var identity: String
        var vector: EncodedVector
    }

    /// Rows with identities repeated across rows (row r has identity number r % 7, multibyte
    /// UTF-8) and random vectors in `encoding`.
    static func rows(_ count: Int, dimension: Int, encoding: VectorCompression, seed: UInt64) -> [Row] {
        var rng = SeededGenerator(seed: seed)
        let names = ["ana", "José Ñúñez", "王小明", "😀 emoji person", "Zoë", "Ольга", String(repeating: "ü", count: 300)]
        return (0..<count).map { index in
            let unit = VectorEncoder.normalized(rng.vector(dimension))
            return Row(id: RecordID(high: rng.next(), low: rng.next()), identity: names[index % names.count],
                       vector: VectorEncoder.encode(unit: unit, as: encoding))
        }
    }

    /// Writes `rows` as segment `number` and returns its file size.
    static func write(_ rows: [Row], in directory: String, number: UInt64 = 3, collectionID: UInt32 = 2,
                      encoding: VectorCompression, dimension: Int) throws -> UInt64 {
        let writer = SegmentWriter(fileSystem: PosixFileSystem.shared, directory: directory, storeID: storeID)
        return try writer.write(number: number, collectionID: collectionID, encoding: encoding, dimension: dimension,
                                count: rows.count) { index in
            SegmentWriter.Row(id: rows[index].id, identity: rows[index].identity, vector: rows[index].vector.bytes,
                              scale: rows[index].vector.scale)
        }.fileSize
    }

    static func open(_ directory: String, number: UInt64 = 3, collectionID: UInt32 = 2, fileSize: UInt64,
                     storeID: RecordID = storeID) throws -> Segment {
        try Segment(fileSystem: PosixFileSystem.shared, path: directory + "/" + FormatConstants.segmentName(number),
                    number: number, collectionID: collectionID, fileSize: fileSize, storeID: storeID)
    }

    static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    static func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func writeFile(_ bytes: [UInt8], _ path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static let rowCounts = [1, 255, 256, 257, 600]
    static let cases: [(VectorCompression, Int)] = VectorCompression.allCases.flatMap { encoding in rowCounts.map { (encoding, $0) } }

    // MARK: Reading back what was written

    @Test(arguments: cases)
    func writeThenReadBack(encoding: VectorCompression, count: Int) throws {
        let directory = try TemporaryDirectory("segment")
        defer { directory.remove() }
        let dimension = encoding == .none ? 20 : 24   // 80, 48 and 24 bytes: each padded to 64 or 128
        let rows = Self.rows(count, dimension: dimension, encoding: encoding, seed: UInt64(count) &* 31 &+ UInt64(encoding.formatCode))
        let size = try Self.write(rows, in: directory.path, encoding: encoding, dimension: dimension)
        // The temporary name is gone; only the final file is left.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [FormatConstants.segmentName(3)])

        let segment = try Self.open(directory.path, fileSize: size)
        #expect(segment.rowCount == count)
        #expect(segment.header.encoding == encoding)
        #expect(segment.header.dimension == dimension)
        #expect(segment.header.segmentNumber == 3 && segment.header.collectionID == 2 && segment.header.storeID == Self.storeID)
        let stride = segment.header.rowStride
        #expect(stride % 64 == 0)
        #expect(stride == rowStride(dimension: dimension, encoding: encoding))
        #expect(stride >= dimension * encoding.bytesPerDimension && stride < dimension * encoding.bytesPerDimension + 64)

        for (row, expected) in rows.enumerated() {
            #expect(segment.recordID(at: row) == expected.id, "row \(row)")
            #expect(segment.identity(at: row) == expected.identity, "row \(row)")
            #expect(segment.row(of: expected.id) == row, "row \(row)")
            #expect(segment.storedVector(at: row) == expected.vector.bytes, "row \(row)")
        }
        // Unknown UUIDs: below, above and between the stored ones.
        var rng = SeededGenerator(seed: 99)
        for _ in 0..<50 {
            let id = RecordID(high: rng.next(), low: rng.next())
            if !rows.contains(where: { $0.id == id }) { #expect(segment.row(of: id) == nil) }
        }
        #expect(segment.row(of: RecordID(high: 0, low: 0)) == nil)
        #expect(segment.row(of: RecordID(high: .max, low: .max)) == nil)
        #expect(segment.row(of: RecordID(high: rows[0].id.high, low: rows[0].id.low ^ 1)) == nil)

        // Identities repeated across rows.
        for identity in Set(rows.map(\.identity)) {
            let expected = rows.indices.filter { rows[$0].identity == identity }
            #expect(segment.rows(of: identity) == expected, "identity \(identity)")
        }
        #expect(segment.rows(of: "nobody").isEmpty)
        #expect(segment.rows(of: "ana ").isEmpty)
        #expect(segment.rows(of: "").isEmpty)

        var visited: [(Int, RecordID, String)] = []
        segment.forEachRecord { visited.append(($0, $1, $2)) }
        #expect(visited.map(\.0) == Array(0..<count))
        #expect(visited.map(\.1) == rows.map(\.id))
        #expect(visited.map(\.2) == rows.map(\.identity))

        // The vectors in place: 64-byte aligned rows, `stride` apart, padding zero; int8 scales.
        segment.withUnsafeVectors { base, scales in
            #expect(Int(bitPattern: base) % 64 == 0, "row 0 is 64-byte aligned in memory")
            let vectorBytes = dimension * encoding.bytesPerDimension
            for (row, expected) in rows.enumerated() {
                let start = base + row * stride
                #expect(Int(bitPattern: start) % 64 == 0)
                let stored = Array(UnsafeRawBufferPointer(start: start, count: vectorBytes))
                #expect(stored == expected.vector.bytes, "row \(row) in place")
                let padding = UnsafeRawBufferPointer(start: start + vectorBytes, count: stride - vectorBytes)
                #expect(padding.allSatisfy { $0 == 0 }, "row \(row) padding")
            }
            if encoding == .int8 {
                guard let scales else { Issue.record("int8 segment without scales"); return }
                for (row, expected) in rows.enumerated() {
                    #expect(scales[row] == expected.vector.scale, "row \(row) scale")
                }
            } else {
                #expect(scales == nil)
            }
        }
    }

    /// The bytes on disk, checked against FORMAT.md §6 independently of `Segment`.
    @Test(arguments: [(VectorCompression.none, 257), (.fp16, 3), (.int8, 600)])
    func fileLayout(encoding: VectorCompression, count: Int) throws {
        let directory = try TemporaryDirectory("layout")
        defer { directory.remove() }
        let dimension = 12
        let rows = Self.rows(count, dimension: dimension, encoding: encoding, seed: 5)
        let size = try Self.write(rows, in: directory.path, number: 0xABC, collectionID: 77, encoding: encoding, dimension: dimension)
        let bytes = try Self.readFile(directory.path + "/segment-0000000000000abc.seg")
        #expect(UInt64(bytes.count) == size)

        #expect(Array(bytes[0..<8]) == [0x4C, 0x4E, 0x55, 0x50, 0x53, 0x45, 0x47, 0x4D], "magic LNUPSEGM")
        #expect(bytes[8] == 2 && bytes[9] == 0, "version 2")
        #expect(bytes[10] == encoding.formatCode && bytes[11] == 0)
        #expect(Self.u32(bytes, 12) == UInt32(dimension))
        #expect(Self.u64(bytes, 16) == 0xABC)
        #expect(Self.u32(bytes, 24) == 77)
        #expect(Self.u32(bytes, 28) == UInt32(count))
        let stride = Int(Self.u64(bytes, 32))
        #expect(stride == 64, "12 dimensions of at most 4 bytes fit one 64-byte row")
        #expect(Array(bytes[40..<56]) == [0x5E, 0xC0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2], "store id")
        #expect(Self.u64(bytes, 56) == UInt64(bytes.count))
        #expect(bytes[304..<316].allSatisfy { $0 == 0 })
        #expect(Self.u32(bytes, 316) == Checksum.crc32c(bytes[0..<316]))

        let blocks = (count + 255) / 256
        let vectorBlocks = (count * stride + (1 << 20) - 1) / (1 << 20)
        let coded = encoding != .int8
        let codeStride = 64
        let codeBlocks = (count * codeStride + (1 << 20) - 1) / (1 << 20)
        let lengths = [count * stride, encoding == .int8 ? count * 4 : 0, count * 16, count * 4, count * 12, blocks * 16,
                       -1, vectorBlocks * 4, coded ? count * codeStride : 0, coded ? count * 8 + codeBlocks * 4 : 0]
        var end = 320
        var sections = [(offset: Int, length: Int)](repeating: (0, 0), count: 10)
        // In the file: the vectors, the codes, sections 1 to 7, the code table.
        for index in [0, 8, 1, 2, 3, 4, 5, 6, 7, 9] {
            let entry = 64 + 24 * index
            let offset = Int(Self.u64(bytes, entry)), length = Int(Self.u64(bytes, entry + 8))
            let aligned = (end + 63) / 64 * 64
            #expect(offset == aligned, "section \(index) starts at the first multiple of 64 after the previous")
            if lengths[index] >= 0 { #expect(length == lengths[index], "section \(index) length") }
            if index == 0 || index == 8 {
                #expect(Self.u32(bytes, entry + 16) == 0, "the vectors' and codes' checksums are in sections 7 and 9")
            } else {
                #expect(Self.u32(bytes, entry + 16) == Checksum.crc32c(bytes[offset..<(offset + length)]), "section \(index) CRC")
            }
            #expect(Self.u32(bytes, entry + 20) == 0)
            #expect(bytes[end..<offset].allSatisfy { $0 == 0 }, "the gap before section \(index) is zero")
            sections[index] = (offset, length)
            end = offset + length
        }
        #expect(end == bytes.count, "the last section ends at the end of the file")
        #expect(sections[0].offset == 320)
        // Codes: row r's at section 8 + r × 64, its scale and bound in section 9, then one
        // CRC32C a MiB of the codes.
        if coded {
            for (row, expected) in rows.enumerated() {
                var decoded = [Float](repeating: 0, count: dimension)
                expected.vector.bytes.withUnsafeBytes { stored in
                    decoded.withUnsafeMutableBufferPointer { encoding.decode(stored.baseAddress!, scale: nil, into: $0) }
                }
                var code = [Int8](repeating: 0, count: dimension)
                let (scale, bound) = decoded.withUnsafeBufferPointer { row in code.withUnsafeMutableBufferPointer { CompactCode.encode(row, into: $0) } }
                let start = sections[8].offset + row * codeStride
                #expect(Array(bytes[start..<(start + dimension)]) == code.map { UInt8(bitPattern: $0) }, "code of row \(row)")
                #expect(bytes[(start + dimension)..<(start + codeStride)].allSatisfy { $0 == 0 })
                #expect(Self.u32(bytes, sections[9].offset + 4 * row) == scale.bitPattern)
                #expect(Self.u32(bytes, sections[9].offset + 4 * count + 4 * row) == bound.bitPattern)
            }
            for block in 0..<codeBlocks {
                let start = sections[8].offset + block * (1 << 20)
                let stop = min(start + (1 << 20), sections[8].offset + count * codeStride)
                #expect(Self.u32(bytes, sections[9].offset + 8 * count + 4 * block) == Checksum.crc32c(bytes[start..<stop]))
            }
        }
        // One CRC32C a MiB of the vector section.
        for block in 0..<vectorBlocks {
            let start = 320 + block * (1 << 20)
            let stop = min(start + (1 << 20), 320 + count * stride)
            #expect(Self.u32(bytes, sections[7].offset + 4 * block) == Checksum.crc32c(bytes[start..<stop]))
        }

        // Vectors at 320 + r × stride, scales, UUIDs.
        for (row, expected) in rows.enumerated() {
            let start = 320 + row * stride
            #expect(Array(bytes[start..<(start + dimension * encoding.bytesPerDimension)]) == expected.vector.bytes)
            if encoding == .int8 {
                #expect(Self.u32(bytes, sections[1].offset + 4 * row) == expected.vector.scale.bitPattern)
            }
            var uuid = ByteWriter()
            uuid.recordID(expected.id)
            #expect(Array(bytes[(sections[2].offset + 16 * row)..<(sections[2].offset + 16 * row + 16)]) == uuid.bytes)
        }
        // UUID order: a permutation, strictly increasing by UUID.
        let order = (0..<count).map { Int(Self.u32(bytes, sections[3].offset + 4 * $0)) }
        #expect(order.sorted() == Array(0..<count))
        #expect(order == rows.indices.sorted { rows[$0].id < rows[$1].id })
        // Identity index: (FNV-1a-64 of the identity, row), sorted by hash then row.
        let index = (0..<count).map { (Self.u64(bytes, sections[4].offset + 12 * $0), Int(Self.u32(bytes, sections[4].offset + 12 * $0 + 8))) }
        #expect(index.map(\.1).sorted() == Array(0..<count))
        for (hash, row) in index { #expect(hash == identityHash(rows[row].identity)) }
        #expect(zip(index, index.dropFirst()).allSatisfy { ($0.0, $0.1) < ($1.0, $1.1) })
        // Identity blocks: LZ4 blocks of string16 identities, 256 rows each.
        for block in 0..<blocks {
            let entry = sections[5].offset + 16 * block
            let offset = Int(Self.u64(bytes, entry)), compressed = Int(Self.u32(bytes, entry + 8)), raw = Int(Self.u32(bytes, entry + 12))
            let start = sections[6].offset + offset
            let decoded = bytes[start..<(start + compressed)].withUnsafeBytes { LZ4.decompress($0, rawLength: raw) }
            let blockRows = rows[(block * 256)..<min(count, block * 256 + 256)]
            #expect(decoded == IdentityBlock.encode(blockRows.map(\.identity)), "block \(block)")
        }
    }

    @Test func identityHashIsFNV1a64() {
        #expect(identityHash("") == 0xCBF2_9CE4_8422_2325)
        #expect(identityHash("a") == 0xAF63_DC4C_8601_EC8C)
        #expect(identityHash("foobar") == 0x8594_4171_F739_67E8)
    }

    // MARK: Damage

    /// A small segment (3 rows) with every byte in turn flipped (XOR 0xFF): opening it throws
    /// `corruptStore` (or `unsupportedFormatVersion` for the version bytes), never succeeds,
    /// never crashes.
    @Test(arguments: VectorCompression.allCases)
    func everyFlippedByteIsCorruption(encoding: VectorCompression) throws {
        let directory = try TemporaryDirectory("flip")
        defer { directory.remove() }
        let rows = Self.rows(3, dimension: 8, encoding: encoding, seed: 8)
        let size = try Self.write(rows, in: directory.path, encoding: encoding, dimension: 8)
        let path = directory.path + "/" + FormatConstants.segmentName(3)
        let original = try Self.readFile(path)
        _ = try Self.open(directory.path, fileSize: size)

        var opened: [Int] = []
        for offset in original.indices {
            var bytes = original
            bytes[offset] ^= 0xFF
            try Self.writeFile(bytes, path)
            do {
                _ = try Self.open(directory.path, fileSize: size)
                opened.append(offset)
            } catch let error as LineupError {
                if (8..<10).contains(offset) {
                    #expect(error.code == .corruptStore || error.code == .unsupportedFormatVersion, "byte \(offset): \(error)")
                } else {
                    #expect(error.code == .corruptStore, "byte \(offset): \(error)")
                }
            }
        }
        // Describe the bytes that went unnoticed by where they lie: a section, or a gap between two.
        let header = try original.withUnsafeBytes { try SegmentHeader.decode($0, fileSize: original.count) }
        func place(_ offset: Int) -> String {
            if offset < 320 { return "header" }
            for (index, entry) in header.sections.enumerated() where offset >= entry.offset && offset < entry.offset + entry.length {
                return "section \(index)"
            }
            return "gap before section \(header.sections.firstIndex { $0.offset > offset } ?? 8)"
        }
        let places = Dictionary(grouping: opened, by: place).map { "\($0.key): bytes \($0.value.min()!)…\($0.value.max()!) (\($0.value.count))" }.sorted()
        let undetected = opened.count
        #expect(undetected == 0, "\(encoding): \(opened.count) of \(original.count) flipped bytes opened as valid — \(places.joined(separator: "; "))")
    }

    @Test func newerVersionIsUnsupported() throws {
        let directory = try TemporaryDirectory("version")
        defer { directory.remove() }
        let size = try Self.write(Self.rows(3, dimension: 8, encoding: .none, seed: 1), in: directory.path, encoding: .none, dimension: 8)
        let path = directory.path + "/" + FormatConstants.segmentName(3)
        var bytes = try Self.readFile(path)
        bytes[8] = 3
        let crc = Checksum.crc32c(bytes[0..<316])
        for index in 0..<4 { bytes[316 + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
        try Self.writeFile(bytes, path)
        #expect(lineupError { try Self.open(directory.path, fileSize: size) }?.code == .unsupportedFormatVersion)
    }

    /// FORMAT.md §6.1: bytes 256–315 are zero ("the zero fields hold"), checked even when the
    /// header CRC matches.
    @Test func nonzeroReservedHeaderBytesAreCorruption() throws {
        let directory = try TemporaryDirectory("reserved")
        defer { directory.remove() }
        let size = try Self.write(Self.rows(3, dimension: 8, encoding: .none, seed: 1), in: directory.path, encoding: .none, dimension: 8)
        let path = directory.path + "/" + FormatConstants.segmentName(3)
        let original = try Self.readFile(path)
        for offset in [11] + Array(304..<316) + (0..<10).map({ 64 + 24 * $0 + 20 }) {
            var bytes = original
            bytes[offset] = 0x01
            let crc = Checksum.crc32c(bytes[0..<316])
            for index in 0..<4 { bytes[316 + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
            try Self.writeFile(bytes, path)
            #expect(lineupError { try Self.open(directory.path, fileSize: size) }?.code == .corruptStore, "byte \(offset)")
        }
    }

    @Test func mismatchWithTheManifestIsCorruption() throws {
        let directory = try TemporaryDirectory("mismatch")
        defer { directory.remove() }
        let size = try Self.write(Self.rows(3, dimension: 8, encoding: .fp16, seed: 1), in: directory.path, encoding: .fp16, dimension: 8)
        _ = try Self.open(directory.path, fileSize: size)
        #expect(lineupError { try Self.open(directory.path, fileSize: size + 1) }?.code == .corruptStore, "file size")
        #expect(lineupError { try Self.open(directory.path, fileSize: size - 1) }?.code == .corruptStore, "file size")
        #expect(lineupError { try Self.open(directory.path, fileSize: 0) }?.code == .corruptStore, "file size")
        #expect(lineupError { try Self.open(directory.path, collectionID: 3, fileSize: size) }?.code == .corruptStore, "collection id")
        #expect(lineupError { try Self.open(directory.path, fileSize: size, storeID: RecordID(high: 1, low: 1)) }?.code == .corruptStore, "store id")
        // The file of segment 3 opened as segment 4.
        try FileManager.default.copyItem(atPath: directory.path + "/" + FormatConstants.segmentName(3),
                                         toPath: directory.path + "/" + FormatConstants.segmentName(4))
        #expect(lineupError { try Self.open(directory.path, number: 4, fileSize: size) }?.code == .corruptStore, "segment number")
        // A missing file.
        #expect(lineupError { try Self.open(directory.path, number: 5, fileSize: size) }?.code == .corruptStore, "missing file")
    }

    @Test func truncatedOrExtendedFileIsCorruption() throws {
        let directory = try TemporaryDirectory("truncate")
        defer { directory.remove() }
        let size = try Self.write(Self.rows(3, dimension: 8, encoding: .int8, seed: 1), in: directory.path, encoding: .int8, dimension: 8)
        let path = directory.path + "/" + FormatConstants.segmentName(3)
        let original = try Self.readFile(path)
        for length in [0, 1, 255, 256, 300, original.count - 1] {
            try Self.writeFile(Array(original[0..<length]), path)
            // Whether the manifest agrees with the short file or not, it is damage.
            #expect(lineupError { try Self.open(directory.path, fileSize: UInt64(length)) }?.code == .corruptStore, "cut to \(length)")
            #expect(lineupError { try Self.open(directory.path, fileSize: size) }?.code == .corruptStore, "cut to \(length)")
        }
        try Self.writeFile(original + [0], path)
        #expect(lineupError { try Self.open(directory.path, fileSize: size + 1) }?.code == .corruptStore, "one byte appended")
    }
}
