import Testing
@testable import Lineup

/// FORMAT.md §7 "Manifest": the layout, and that any damage is `corruptStore` — never a
/// silently different catalog.
@Suite struct ManifestTests {
    static let storeID = RecordID(high: 0x0011_2233_4455_6677, low: 0x8899_AABB_CCDD_EEFF)

    static func sample() -> Manifest {
        Manifest(
            storeID: storeID, generation: 17, journalNumber: 5, checkpointSequence: 1234,
            nextSegmentNumber: 9, nextCollectionID: 6,
            collections: [
                .init(id: 1, name: "people", settings: .init(modelName: "TFV5_2", compression: .none), dimension: 16,
                      segments: [
                        .init(number: 1, rowCount: 300, fileSize: 40_000, removedRows: [0, 7, 255, 256, 299]),
                        .init(number: 4, rowCount: 1, fileSize: 900, removedRows: []),
                      ]),
                .init(id: 3, name: "Überwachung 监控 😀", settings: .init(modelName: "ArcFace-r100", compression: .fp16),
                      dimension: 512, segments: [.init(number: 8, rowCount: 65_536, fileSize: 70_000_000, removedRows: [65_535])]),
                .init(id: 4, name: "empty", settings: .init(modelName: "m", compression: .int8), dimension: 0, segments: []),
                .init(id: 5, name: "int8", settings: .init(modelName: "m", compression: .int8), dimension: 32,
                      segments: [.init(number: 2, rowCount: 3, fileSize: 1000, removedRows: [0, 1, 2])]),
            ])
    }

    static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    static func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    static func fixCRC(_ bytes: inout [UInt8]) {
        let crc = Checksum.crc32c(bytes[0..<(bytes.count - 4)])
        for index in 0..<4 { bytes[bytes.count - 4 + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
    }

    static func code(_ bytes: [UInt8]) -> ErrorCode? {
        lineupError { try Manifest.decode(bytes) }?.code
    }

    // MARK: Round trip and layout

    @Test func roundTrip() throws {
        let manifest = Self.sample()
        #expect(try Manifest.decode(manifest.encoded()) == manifest)
        let empty = Manifest.empty(storeID: Self.storeID)
        #expect(try Manifest.decode(empty.encoded()) == empty)
        #expect(empty.generation == 1 && empty.journalNumber == 1 && empty.checkpointSequence == 0)
        #expect(empty.nextSegmentNumber == 1 && empty.nextCollectionID == 1 && empty.collections.isEmpty)
    }

    @Test func layout() {
        let bytes = Self.sample().encoded()
        #expect(Array(bytes[0..<8]) == [0x4C, 0x4E, 0x55, 0x50, 0x4D, 0x41, 0x4E, 0x49], "magic LNUPMANI")
        #expect(bytes[8] == 1 && bytes[9] == 0, "format version 1")
        #expect(bytes[10..<16].allSatisfy { $0 == 0 })
        #expect(Array(bytes[16..<32]) == [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                          0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF])
        #expect(Self.u64(bytes, 32) == 17, "generation")
        #expect(Self.u64(bytes, 40) == 5, "journal number")
        #expect(Self.u64(bytes, 48) == 1234, "checkpoint sequence")
        #expect(Self.u64(bytes, 56) == 9, "next segment number")
        #expect(Self.u32(bytes, 64) == 6, "next collection id")
        #expect(Self.u32(bytes, 68) == 4, "collection count")
        // The first collection.
        #expect(Self.u32(bytes, 72) == 1, "collection id")
        #expect(Array(bytes[76..<84]) == [6, 0] + Array("people".utf8), "name as string16")
        #expect(Array(bytes[84..<92]) == [6, 0] + Array("TFV5_2".utf8), "model as string16")
        #expect(bytes[92] == 0, "encoding none")
        #expect(bytes[93..<96].allSatisfy { $0 == 0 })
        #expect(Self.u32(bytes, 96) == 16, "dimension")
        #expect(Self.u32(bytes, 100) == 2, "segment count")
        #expect(Self.u64(bytes, 104) == 1, "segment number")
        #expect(Self.u64(bytes, 112) == 300, "row count")
        #expect(Self.u64(bytes, 120) == 40_000, "file size")
        #expect(Self.u32(bytes, 128) == 5, "removed count")
        #expect((0..<5).map { Self.u32(bytes, 132 + 4 * $0) } == [0, 7, 255, 256, 299])
        #expect(Self.u32(bytes, bytes.count - 4) == Checksum.crc32c(bytes[0..<(bytes.count - 4)]), "CRC of every byte before it")
        // The encoding codes of the other collections.
        let fp16 = Manifest(storeID: Self.storeID, generation: 1, journalNumber: 1, checkpointSequence: 0, nextSegmentNumber: 1,
                            nextCollectionID: 2, collections: [.init(id: 1, name: "a", settings: .init(modelName: "m", compression: .fp16),
                                                                     dimension: 0, segments: [])]).encoded()
        #expect(fp16[72 + 4 + 3 + 3] == 1, "fp16 is code 1")
        var int8 = Manifest(storeID: Self.storeID, generation: 1, journalNumber: 1, checkpointSequence: 0, nextSegmentNumber: 1,
                            nextCollectionID: 2, collections: [.init(id: 1, name: "a", settings: .init(modelName: "m", compression: .int8),
                                                                     dimension: 0, segments: [])]).encoded()
        #expect(int8[82] == 2, "int8 is code 2")
        int8[82] = 3
        Self.fixCRC(&int8)
        #expect(Self.code(int8) == .corruptStore, "unknown encoding code 3")
    }

    // MARK: Damage

    @Test func everySingleBitFlipIsCorruption() {
        let bytes = Self.sample().encoded()
        for bit in 0..<(bytes.count * 8) {
            var copy = bytes
            copy[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
            let code = Self.code(copy)
            if (8..<10).contains(bit / 8) {
                #expect(code == .corruptStore || code == .unsupportedFormatVersion, "bit \(bit): \(String(describing: code))")
            } else {
                #expect(code == .corruptStore, "bit \(bit): \(String(describing: code))")
            }
        }
    }

    @Test func truncationAtEveryLengthIsCorruption() {
        let bytes = Self.sample().encoded()
        for length in 0..<bytes.count {
            #expect(Self.code(Array(bytes[0..<length])) == .corruptStore, "length \(length)")
        }
    }

    @Test func extraBytesAreCorruption() {
        let bytes = Self.sample().encoded()
        #expect(Self.code(bytes + [0]) == .corruptStore)
        // Extra bytes before the CRC, with the CRC fixed: the reader must reach the end exactly.
        for extra in [1, 4, 28] {
            var longer = Array(bytes.dropLast(4)) + [UInt8](repeating: 0, count: extra) + [0, 0, 0, 0]
            Self.fixCRC(&longer)
            #expect(Self.code(longer) == .corruptStore, "\(extra) extra bytes")
        }
    }

    @Test func newerVersionIsUnsupported() {
        // Version 2 is the current manifest's (a calibrated collection); 3 is newer.
        for version: UInt16 in [3, 4, 0xFFFF] {
            var bytes = Self.sample().encoded()
            bytes[8] = UInt8(truncatingIfNeeded: version)
            bytes[9] = UInt8(truncatingIfNeeded: version >> 8)
            Self.fixCRC(&bytes)
            #expect(Self.code(bytes) == .unsupportedFormatVersion, "version \(version)")
        }
        // Even a newer manifest whose later bytes a version-1 reader could not parse.
        var newer = Manifest.empty(storeID: Self.storeID).encoded()
        newer[8] = 3
        newer.insert(contentsOf: [1, 2, 3, 4, 5], at: newer.count - 4)
        Self.fixCRC(&newer)
        #expect(Self.code(newer) == .unsupportedFormatVersion)
    }

    /// A calibrated collection's curve: written as version 2 (only then), read back exactly;
    /// the flag in a version-1 manifest, an unknown flag or a curve no calibration gives is
    /// damage.
    @Test func calibrationCurvesRoundTripInVersionTwo() throws {
        var manifest = Self.sample()
        #expect(manifest.encoded()[8] == 1, "no curve: version 1, readable by builds that read only it")
        manifest.collections[0].curve = MatchProbability(midpoint: 0.41, steepness: 17.5)
        let bytes = manifest.encoded()
        #expect(bytes[8] == 2)
        #expect(try Manifest.decode(bytes) == manifest)
        var asVersionOne = bytes
        asVersionOne[8] = 1
        Self.fixCRC(&asVersionOne)
        #expect(Self.code(asVersionOne) == .corruptStore, "the flag in a version-1 manifest")
        var versionTwoWithoutCurves = Self.sample().encoded()
        versionTwoWithoutCurves[8] = 2
        Self.fixCRC(&versionTwoWithoutCurves)
        #expect(Self.code(versionTwoWithoutCurves) == .corruptStore, "version 2 without a calibrated collection")
        // The flag byte follows the first collection's encoding byte.
        let name = manifest.collections[0].name.utf8.count, model = manifest.collections[0].settings.modelName.utf8.count
        let flagOffset = 8 + 2 + 2 + 4 + 16 + 8 * 4 + 4 + 4 + 4 + 2 + name + 2 + model + 1
        #expect(bytes[flagOffset] == 1)
        var unknown = bytes
        unknown[flagOffset] = 3
        Self.fixCRC(&unknown)
        #expect(Self.code(unknown) == .corruptStore, "an unknown flag")
        for (midpoint, steepness) in [(Float.nan, Float(1)), (0.4, 0), (0.4, -2), (0.4, .infinity)] {
            var bad = bytes
            withUnsafeBytes(of: midpoint.bitPattern.littleEndian) { bad.replaceSubrange((flagOffset + 7)..<(flagOffset + 11), with: $0) }
            withUnsafeBytes(of: steepness.bitPattern.littleEndian) { bad.replaceSubrange((flagOffset + 11)..<(flagOffset + 15), with: $0) }
            Self.fixCRC(&bad)
            #expect(Self.code(bad) == .corruptStore, "curve \(midpoint), \(steepness)")
        }
    }

    @Test func versionZeroIsCorruption() {
        var bytes = Self.sample().encoded()
        bytes[8] = 0
        Self.fixCRC(&bytes)
        #expect(Self.code(bytes) == .corruptStore)
    }

    @Test func nonzeroReservedBytesAreCorruption() {
        let bytes = Self.sample().encoded()
        // Bytes 10–15 of the header, and the three zero bytes after the first collection's encoding.
        for offset in [10, 11, 12, 15, 93, 94, 95] {
            var copy = bytes
            copy[offset] = 1
            Self.fixCRC(&copy)
            #expect(Self.code(copy) == .corruptStore, "byte \(offset)")
        }
    }

    @Test func badMagicIsCorruption() {
        var bytes = Self.sample().encoded()
        bytes[7] = UInt8(ascii: "J")
        Self.fixCRC(&bytes)
        #expect(Self.code(bytes) == .corruptStore)
    }

    @Test func invalidUTF8NameIsCorruption() {
        var bytes = Self.sample().encoded()
        #expect(Array(bytes[78..<84]) == Array("people".utf8))
        bytes[79] = 0xFF
        Self.fixCRC(&bytes)
        #expect(Self.code(bytes) == .corruptStore)
    }

    /// Each rule of FORMAT.md §7 broken in an otherwise well-formed manifest (valid CRC).
    @Test func brokenCrossReferencesAreCorruption() {
        typealias Edit = (String, (inout Manifest) -> Void)
        let edits: [Edit] = [
            ("collection id 0", { $0.collections[0].id = 0 }),
            ("collection id equal to the next collection id", { $0.collections[0].id = $0.nextCollectionID }),
            ("collection id above the next collection id", { $0.collections[0].id = 100 }),
            ("duplicate collection id", { $0.collections[1].id = $0.collections[0].id }),
            ("duplicate collection name", { $0.collections[1].name = $0.collections[0].name }),
            ("empty collection name", { $0.collections[0].name = "" }),
            ("empty model name", { $0.collections[0].settings.modelName = "" }),
            ("segment number equal to the next segment number", { $0.collections[0].segments[0].number = $0.nextSegmentNumber }),
            ("segment number above the next segment number", { $0.collections[0].segments[0].number = 1000 }),
            ("duplicate segment number in one collection", { $0.collections[0].segments[1].number = $0.collections[0].segments[0].number }),
            ("duplicate segment number across collections", { $0.collections[1].segments[0].number = $0.collections[0].segments[0].number }),
            ("segment with no rows", { $0.collections[0].segments[1].rowCount = 0; $0.collections[0].segments[1].removedRows = [] }),
            ("removed rows not increasing", { $0.collections[0].segments[0].removedRows = [7, 0] }),
            ("removed row repeated", { $0.collections[0].segments[0].removedRows = [7, 7] }),
            ("removed row past the row count", { $0.collections[0].segments[0].removedRows = [0, 300] }),
            ("more removed rows than rows", { $0.collections[3].segments[0].removedRows = [0, 1, 2, 3] }),
            ("segments in a collection of dimension 0", { $0.collections[0].dimension = 0 }),
            ("dimension over the maximum", { $0.collections[0].dimension = Validation.maximumDimension + 1 }),
            ("generation 0", { $0.generation = 0 }),
            ("journal number 0", { $0.journalNumber = 0 }),
        ]
        for (comment, edit) in edits {
            var manifest = Self.sample()
            edit(&manifest)
            #expect(Self.code(manifest.encoded()) == .corruptStore, "\(comment)")
        }
    }

    /// FORMAT.md §7: a collection name is 1–255 bytes.
    @Test func overlongCollectionNameIsCorruption() {
        var manifest = Self.sample()
        manifest.collections[2].name = String(repeating: "n", count: 256)
        #expect(Self.code(manifest.encoded()) == .corruptStore)
        manifest.collections[2].name = String(repeating: "n", count: 255)
        #expect(Self.code(manifest.encoded()) == nil, "255 bytes is the longest allowed name")
    }

    /// A forged segment count or removed count must not make the reader allocate or loop for
    /// billions of entries: it fails as damage, at once.
    @Test func forgedCountsAreCorruption() {
        let bytes = Self.sample().encoded()
        for (offset, comment) in [(68, "collection count"), (100, "segment count"), (128, "removed count")] {
            var copy = bytes
            for index in 0..<4 { copy[offset + index] = 0xFF }
            Self.fixCRC(&copy)
            #expect(Self.code(copy) == .corruptStore, "\(comment) 2³²−1")
        }
    }
}
