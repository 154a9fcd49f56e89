import Testing
@testable import Lineup

/// FORMAT.md §5 "Journal", byte by byte, in the style of LevelDB's log tests: build the bytes
/// in memory, poke them, and check one branch of `JournalFormat.decodeHeader` /
/// `decodeRecord` / the payload decoders per test.
@Suite struct JournalFormatTests {
    static let storeID = RecordID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
    static let journalNumber: UInt64 = 0x0000_0001_0000_0002

    // MARK: Helpers

    static func u16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    static func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    static func put32(_ value: UInt32, into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
    }

    static func put64(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }

    /// Recomputes the CRC of the record at `offset` after a poke, so that the poke reaches the
    /// check after the checksum.
    static func fixRecordCRC(_ bytes: inout [UInt8], at offset: Int = 0) {
        let length = Int(u32(bytes, offset + 4))
        let crc = Checksum.crc32c(bytes[(offset + 4)..<(offset + 32 + length)])
        put32(crc, into: &bytes, at: offset)
    }

    static func fixHeaderCRC(_ bytes: inout [UInt8]) {
        put32(Checksum.crc32c(bytes[0..<60]), into: &bytes, at: 60)
    }

    static func decode(_ bytes: [UInt8], at offset: Int = 0, journalNumber: UInt64 = journalNumber) -> JournalFormat.Decoded {
        bytes.withUnsafeBytes { JournalFormat.decodeRecord($0, at: offset, journalNumber: journalNumber) }
    }

    static func decodeHeader(_ bytes: [UInt8]) -> Result<JournalFormat.Header, JournalFormat.HeaderProblem> {
        bytes.withUnsafeBytes { raw in
            Result { () throws(JournalFormat.HeaderProblem) in try JournalFormat.decodeHeader(raw) }
        }
    }

    static func enrollment(_ identity: String, dimension: Int, compression: VectorCompression,
                           rng: inout SeededGenerator) -> PreparedEnrollment {
        let unit = VectorEncoder.normalized(rng.vector(dimension))
        return .init(id: .generate(), identity: identity,
                     vector: VectorEncoder.encode(unit: unit, as: compression), dimension: dimension)
    }

    /// A record whose payload is `payloadLength` bytes of a pattern (not a valid enroll
    /// payload: decodeRecord does not look inside).
    static func record(payloadLength: Int, sequence: UInt64 = 9, type: RecordType = .enroll,
                       commit: Bool = true) -> [UInt8] {
        let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        return JournalFormat.encodeRecord(.init(sequence: sequence, collectionID: 3, type: type, isCommit: commit,
                                                payload: payload), journalNumber: journalNumber)
    }

    // MARK: Header

    @Test func headerRoundTripAndLayout() throws {
        let header = JournalFormat.Header(storeID: Self.storeID, journalNumber: Self.journalNumber, firstSequence: 0x1122_3344_5566_7788)
        let bytes = JournalFormat.encodeHeader(header)
        #expect(bytes.count == 64)
        #expect(Array(bytes[0..<8]) == [0x4C, 0x4E, 0x55, 0x50, 0x4A, 0x52, 0x4E, 0x4C], "magic LNUPJRNL")
        #expect(Self.u16(bytes, 8) == 1, "format version 1")
        #expect(Self.u16(bytes, 10) == 64, "header size")
        #expect(Self.u32(bytes, 12) == 0)
        #expect(Array(bytes[16..<32]) == [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
                                          0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10], "store id in RFC 9562 byte order")
        #expect(Self.u64(bytes, 32) == Self.journalNumber)
        #expect(Self.u64(bytes, 40) == 0x1122_3344_5566_7788)
        #expect(bytes[48..<60].allSatisfy { $0 == 0 })
        #expect(Self.u32(bytes, 60) == Checksum.crc32c(bytes[0..<60]))
        #expect(try Self.decodeHeader(bytes).get() == header)
        // Bytes after the header do not matter to the header.
        #expect(try Self.decodeHeader(bytes + [1, 2, 3]).get() == header)
    }

    @Test func shortHeaderIsDamaged() {
        let bytes = JournalFormat.encodeHeader(.init(storeID: Self.storeID, journalNumber: 1, firstSequence: 1))
        for length in 0..<64 {
            #expect(throws: JournalFormat.HeaderProblem.damaged, "length \(length)") {
                try Self.decodeHeader(Array(bytes[0..<length])).get()
            }
        }
    }

    @Test func everyDamagedHeaderByteIsDamage() {
        let bytes = JournalFormat.encodeHeader(.init(storeID: Self.storeID, journalNumber: 1, firstSequence: 1))
        for offset in 0..<64 {
            var copy = bytes
            copy[offset] ^= 0x01
            #expect(throws: JournalFormat.HeaderProblem.damaged, "byte \(offset)") { try Self.decodeHeader(copy).get() }
        }
    }

    @Test func newerVersionWithValidChecksumIsNewerVersion() {
        var bytes = JournalFormat.encodeHeader(.init(storeID: Self.storeID, journalNumber: 1, firstSequence: 1))
        for version: UInt16 in [2, 0x100, 0xFFFF] {
            bytes[8] = UInt8(truncatingIfNeeded: version)
            bytes[9] = UInt8(truncatingIfNeeded: version >> 8)
            Self.fixHeaderCRC(&bytes)
            #expect(throws: JournalFormat.HeaderProblem.newerVersion, "version \(version)") { try Self.decodeHeader(bytes).get() }
        }
    }

    @Test func versionZeroWithValidChecksumIsDamaged() {
        var bytes = JournalFormat.encodeHeader(.init(storeID: Self.storeID, journalNumber: 1, firstSequence: 1))
        bytes[8] = 0
        Self.fixHeaderCRC(&bytes)
        #expect(throws: JournalFormat.HeaderProblem.damaged) { try Self.decodeHeader(bytes).get() }
    }

    @Test func wrongHeaderSizeWithValidChecksumIsDamaged() {
        for size: UInt8 in [0, 32, 63, 65, 128] {
            var bytes = JournalFormat.encodeHeader(.init(storeID: Self.storeID, journalNumber: 1, firstSequence: 1))
            bytes[10] = size
            Self.fixHeaderCRC(&bytes)
            #expect(throws: JournalFormat.HeaderProblem.damaged, "size \(size)") { try Self.decodeHeader(bytes).get() }
        }
    }

    @Test func badMagicWithValidChecksumIsDamaged() {
        var bytes = JournalFormat.encodeHeader(.init(storeID: Self.storeID, journalNumber: 1, firstSequence: 1))
        bytes[4] = UInt8(ascii: "S")   // LNUPSRNL
        Self.fixHeaderCRC(&bytes)
        #expect(throws: JournalFormat.HeaderProblem.damaged) { try Self.decodeHeader(bytes).get() }
    }

    /// FORMAT.md §5.1: bytes 12–15 and 48–59 are zero. A nonzero byte there (with a matching
    /// CRC) is not a version-1 header: a reader must refuse it rather than misread it.
    @Test func nonzeroReservedHeaderBytesWithValidChecksumAreDamaged() {
        for offset in Array(12..<16) + Array(48..<60) {
            var bytes = JournalFormat.encodeHeader(.init(storeID: Self.storeID, journalNumber: 1, firstSequence: 1))
            bytes[offset] = 0x01
            Self.fixHeaderCRC(&bytes)
            #expect(throws: JournalFormat.HeaderProblem.damaged, "reserved byte \(offset)") { try Self.decodeHeader(bytes).get() }
        }
    }

    // MARK: Records

    /// FORMAT.md §5.4, the worked example, byte for byte, at the offsets its listing gives.
    /// (The listing's offsets put the payload at 0x20 ..< 0x4F: 47 bytes, 0x2F, and the record
    /// at 80 bytes; the "payload length 63" and "32 + 63 = 95, padded to 96" in FORMAT.md
    /// disagree with its own listing and with §5.3's entry layout.)
    @Test func workedExample() throws {
        let id = RecordID(high: 0x0189_0A5D_AC96_774B, low: 0xBCCE_B302_099A_8057)
        let unit: [Float] = [0.5, 0.5, 0.5, 0.5]
        let payload = JournalFormat.encodeEnrollments([.init(id: id, identity: "ana",
                                                             vector: VectorEncoder.encode(unit: unit, as: .none), dimension: 4)])
        #expect(payload.count == 0x4F - 0x20, "count, UUID, \"ana\", dimension, scale, four f32")
        let bytes = JournalFormat.encodeRecord(.init(sequence: 7, collectionID: 1, type: .enroll, isCommit: true, payload: payload),
                                               journalNumber: 2)
        #expect(bytes.count == 0x50, "32 + 47 = 79 bytes, padded to 0x50")
        #expect(Self.u32(bytes, 0x00) == Checksum.crc32c(bytes[4..<0x4F]), "CRC of bytes 4 ..< 32 + length")
        #expect(Array(bytes[0x04..<0x08]) == [0x2F, 0, 0, 0], "payload length 47")
        #expect(Array(bytes[0x08..<0x10]) == [7, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(bytes[0x10..<0x14]) == [1, 0, 0, 0])
        #expect(bytes[0x14] == 1, "enroll")
        #expect(bytes[0x15] == 1, "commit")
        #expect(Array(bytes[0x16..<0x18]) == [0, 0])
        #expect(Array(bytes[0x18..<0x20]) == [2, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(bytes[0x20..<0x24]) == [1, 0, 0, 0], "one entry")
        #expect(Array(bytes[0x24..<0x34]) == [0x01, 0x89, 0x0A, 0x5D, 0xAC, 0x96, 0x77, 0x4B,
                                              0xBC, 0xCE, 0xB3, 0x02, 0x09, 0x9A, 0x80, 0x57], "UUID in RFC 9562 order")
        #expect(Array(bytes[0x34..<0x39]) == [0x03, 0x00, 0x61, 0x6E, 0x61], "\"ana\"")
        #expect(Array(bytes[0x39..<0x3B]) == [0x04, 0x00], "dimension 4")
        #expect(Array(bytes[0x3B..<0x3F]) == [0x00, 0x00, 0x80, 0x3F], "scale 1.0")
        #expect(Array(bytes[0x3F..<0x4F]) == Array(repeating: [0x00, 0x00, 0x00, 0x3F], count: 4).flatMap { $0 }, "four f32 0.5")
        #expect(bytes[0x4F] == 0, "padding")

        guard case .record(let record, let next) = Self.decode(bytes, journalNumber: 2) else {
            Issue.record("the worked example does not decode"); return
        }
        #expect(next == 0x50)
        #expect(record == .init(sequence: 7, collectionID: 1, type: .enroll, isCommit: true, payload: payload))
        let entries = try JournalFormat.decodeEnrollments(record.payload, compression: .none)
        #expect(entries == [PreparedEnrollment(id: id, identity: "ana", vector: EncodedVector(bytes: bytes[0x3F..<0x4F].map { $0 }, scale: 1),
                                          dimension: 4)])
    }

    @Test(arguments: VectorCompression.allCases)
    func enrollRecordRoundTrip(compression: VectorCompression) throws {
        var rng = SeededGenerator(seed: 11)
        let entries = [
            Self.enrollment("ana", dimension: 5, compression: compression, rng: &rng),
            Self.enrollment("José Ñúñez", dimension: 5, compression: compression, rng: &rng),
            Self.enrollment("王小明 😀", dimension: 5, compression: compression, rng: &rng),
            Self.enrollment(String(repeating: "x", count: 1024), dimension: 5, compression: compression, rng: &rng),
        ]
        if compression == .int8 {
            #expect(entries.allSatisfy { $0.vector.scale != 1 && $0.vector.scale > 0 }, "int8 carries a real per-vector scale")
        } else {
            #expect(entries.allSatisfy { $0.vector.scale == 1 })
        }
        let payload = JournalFormat.encodeEnrollments(entries)
        let expectedLength = 4 + entries.reduce(0) { $0 + 16 + 2 + $1.identity.utf8.count + 2 + 4 + 5 * compression.bytesPerDimension }
        #expect(payload.count == expectedLength)
        #expect(try JournalFormat.decodeEnrollments(payload, compression: compression) == entries)

        for commit in [false, true] {
            let record = JournalFormat.Record(sequence: 123_456_789_012, collectionID: 0xDEAD_BEEF, type: .enroll,
                                              isCommit: commit, payload: payload)
            let bytes = JournalFormat.encodeRecord(record, journalNumber: Self.journalNumber)
            #expect(bytes.count % 8 == 0 && bytes.count >= 32 + payload.count && bytes.count < 32 + payload.count + 8)
            #expect(bytes[21] == (commit ? 1 : 0))
            #expect(Self.decode(bytes) == .record(record, next: bytes.count))
        }
    }

    @Test func removeRecordRoundTrip() throws {
        let ids = (0..<5).map { _ in RecordID.generate() }
        let payload = JournalFormat.encodeRemovals(ids)
        #expect(payload.count == 4 + 16 * 5)
        #expect(Self.u32(payload, 0) == 5)
        #expect(try JournalFormat.decodeRemovals(payload) == ids)
        let record = JournalFormat.Record(sequence: 2, collectionID: 1, type: .remove, isCommit: true, payload: payload)
        let bytes = JournalFormat.encodeRecord(record, journalNumber: Self.journalNumber)
        #expect(bytes[20] == 2, "type remove")
        #expect(Self.decode(bytes) == .record(record, next: bytes.count))
    }

    @Test func recordsBackToBackAfterTheHeader() {
        let header = JournalFormat.encodeHeader(.init(storeID: Self.storeID, journalNumber: Self.journalNumber, firstSequence: 9))
        var bytes = header
        var starts: [Int] = []
        for (index, length) in [0, 1, 7, 8, 9, 63, 64].enumerated() {
            starts.append(bytes.count)
            bytes += Self.record(payloadLength: length, sequence: 9 + UInt64(index), commit: index == 6)
        }
        var offset = 64
        for (index, start) in starts.enumerated() {
            #expect(offset == start)
            #expect(offset % 8 == 0, "every record starts 8-aligned")
            guard case .record(let record, let next) = Self.decode(bytes, at: offset) else {
                Issue.record("record \(index) does not decode"); return
            }
            #expect(record.sequence == 9 + UInt64(index))
            #expect(record.isCommit == (index == 6))
            offset = next
        }
        #expect(offset == bytes.count)
    }

    @Test func emptyPayloadRecord() {
        let bytes = Self.record(payloadLength: 0)
        #expect(bytes.count == 32)
        guard case .record(let record, let next) = Self.decode(bytes) else { Issue.record("no record"); return }
        #expect(record.payload.isEmpty && next == 32)
    }

    // MARK: decodeRecord, one branch each

    @Test func fewerThanAHeaderIsTruncated() {
        let bytes = Self.record(payloadLength: 20)
        for length in 0..<32 {
            #expect(Self.decode(Array(bytes[0..<length])) == .truncated, "length \(length)")
        }
        // At an offset: fewer than 32 bytes after it.
        let two = Self.record(payloadLength: 0, sequence: 1) + Self.record(payloadLength: 0, sequence: 2)
        #expect(Self.decode(Array(two[0..<63]), at: 32) == .truncated)
        #expect(Self.decode(two, at: 64) == .truncated, "nothing at the end")
    }

    @Test func payloadOrPaddingCutShortIsTruncated() {
        let bytes = Self.record(payloadLength: 21)   // 53 bytes, padded to 56
        #expect(bytes.count == 56)
        for length in 32..<56 {
            #expect(Self.decode(Array(bytes[0..<length])) == .truncated, "length \(length)")
        }
        #expect(Self.decode(bytes) != .truncated)
    }

    @Test func badChecksumIsInvalid() {
        let bytes = Self.record(payloadLength: 21)
        // Every bit of the CRC, the header fields after it, and the payload.
        for bit in 0..<(53 * 8) {
            var copy = bytes
            copy[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
            let decoded = Self.decode(copy)
            if bit / 8 >= 4 && bit / 8 < 8 {
                // The length field: a changed length makes the record end elsewhere.
                #expect(decoded == .invalid || decoded == .truncated, "bit \(bit)")
            } else {
                #expect(decoded == .invalid, "bit \(bit)")
            }
        }
    }

    @Test func wrongJournalNumberIsInvalid() {
        let bytes = Self.record(payloadLength: 12)
        #expect(Self.decode(bytes, journalNumber: Self.journalNumber + 1) == .invalid)
        #expect(Self.decode(bytes, journalNumber: 0) == .invalid)
        // With the CRC recomputed, so that only the journal-number check can catch it.
        var copy = bytes
        Self.put64(Self.journalNumber + 1, into: &copy, at: 24)
        Self.fixRecordCRC(&copy)
        #expect(Self.decode(copy) == .invalid)
        #expect(Self.decode(copy, journalNumber: Self.journalNumber + 1) != .invalid, "the record is valid in its own journal")
    }

    @Test func unknownTypeIsInvalid() {
        for type: UInt8 in [0, 3, 4, 0x7F, 0x81, 0xFF] {
            var bytes = Self.record(payloadLength: 12)
            bytes[20] = type
            Self.fixRecordCRC(&bytes)
            #expect(Self.decode(bytes) == .invalid, "type \(type)")
        }
    }

    @Test func nonzeroReservedBytesAreInvalid() {
        for (offset, value) in [(22, UInt8(1)), (22, 0x80), (23, 1), (23, 0xFF)] {
            var bytes = Self.record(payloadLength: 12)
            bytes[offset] = value
            Self.fixRecordCRC(&bytes)
            #expect(Self.decode(bytes) == .invalid, "byte \(offset) = \(value)")
        }
    }

    @Test func unknownFlagBitIsInvalid() {
        for commit in [false, true] {
            for bit in 2..<8 {   // bit 0: commit, bit 1: first of its group
                var bytes = Self.record(payloadLength: 12, commit: commit)
                bytes[21] |= UInt8(1) << UInt8(bit)
                Self.fixRecordCRC(&bytes)
                #expect(Self.decode(bytes) == .invalid, "flag bit \(bit), commit \(commit)")
            }
        }
    }

    @Test func nonzeroPaddingIsInvalid() {
        let bytes = Self.record(payloadLength: 17)   // 49 bytes, 7 of padding
        #expect(bytes.count == 56)
        for offset in 49..<56 {
            for value: UInt8 in [0x01, 0x80] {
                var copy = bytes
                copy[offset] = value
                #expect(Self.decode(copy) == .invalid, "padding byte \(offset) = \(value)")
            }
        }
    }

    @Test func lengthOverTheMaximumIsInvalid() {
        let maximum = UInt32(64 << 20)
        #expect(FormatConstants.maximumRecordPayload == 64 << 20)
        for length in [maximum + 1, maximum + 8, UInt32.max] {
            var bytes = Self.record(payloadLength: 12)
            Self.put32(length, into: &bytes, at: 4)
            #expect(Self.decode(bytes) == .invalid, "length \(length)")
        }
        // Exactly the maximum is allowed: with too few bytes it is merely cut short.
        var bytes = Self.record(payloadLength: 12)
        Self.put32(maximum, into: &bytes, at: 4)
        #expect(Self.decode(bytes) == .truncated)
    }

    @Test func decodingDoesNotCheckTheSequence() {
        // The sequence number is the reader's to check (JournalReader).
        for sequence: UInt64 in [0, 1, .max] {
            let bytes = Self.record(payloadLength: 4, sequence: sequence)
            guard case .record(let record, _) = Self.decode(bytes) else { Issue.record("sequence \(sequence)"); continue }
            #expect(record.sequence == sequence)
        }
    }

    // MARK: Malformed payloads

    static func validEnrollPayload(count: Int = 2, identity: String = "ana", dimension: Int = 4) -> [UInt8] {
        var rng = SeededGenerator(seed: 3)
        return JournalFormat.encodeEnrollments((0..<count).map { _ in
            enrollment(identity, dimension: dimension, compression: .none, rng: &rng)
        })
    }

    static func expectMalformedEnroll(_ payload: [UInt8], compression: VectorCompression = .none, _ comment: Comment,
                                      sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: JournalFormat.MalformedPayload.self, comment, sourceLocation: sourceLocation) {
            try JournalFormat.decodeEnrollments(payload, compression: compression)
        }
    }

    @Test func enrollCountMismatchThrows() {
        var payload = Self.validEnrollPayload(count: 2)
        Self.put32(3, into: &payload, at: 0)
        Self.expectMalformedEnroll(payload, "count 3, two entries")
        Self.put32(0xFFFF_FFFF, into: &payload, at: 0)
        Self.expectMalformedEnroll(payload, "count 2³²−1, two entries")
        Self.put32(1, into: &payload, at: 0)
        Self.expectMalformedEnroll(payload, "count 1, two entries: the second is trailing bytes")
        Self.put32(0, into: &payload, at: 0)
        Self.expectMalformedEnroll(payload, "count 0, two entries")
    }

    @Test func enrollTrailingOrMissingBytesThrow() {
        let payload = Self.validEnrollPayload(count: 1)
        Self.expectMalformedEnroll(payload + [0], "one trailing byte")
        Self.expectMalformedEnroll(payload + [0, 0, 0, 0], "four trailing bytes")
        for length in 0..<payload.count {
            Self.expectMalformedEnroll(Array(payload[0..<length]), "cut to \(length) bytes")
        }
    }

    @Test func enrollInvalidUTF8IdentityThrows() {
        for bad: [UInt8] in [[0xFF, 0x41, 0x41], [0xC3, 0x28, 0x41], [0xED, 0xA0, 0x80], [0x41, 0x41, 0xE2]] {
            var payload = Self.validEnrollPayload(count: 1, identity: "abc")
            // The identity's bytes follow the count (4) and the UUID (16) and its length (2).
            #expect(Array(payload[20..<25]) == [3, 0, 0x61, 0x62, 0x63])
            payload.replaceSubrange(22..<25, with: bad)
            Self.expectMalformedEnroll(payload, "identity bytes \(bad)")
        }
    }

    @Test func enrollEmptyIdentityThrows() {
        // An entry with a zero-length identity, dimension 4, scale 1 and 16 vector bytes.
        var writer = ByteWriter()
        writer.u32(1)
        writer.recordID(.generate())
        writer.u16(0)
        writer.u16(4)
        writer.f32(1)
        writer.zeros(16)
        Self.expectMalformedEnroll(writer.bytes, "empty identity")
    }

    @Test func enrollOverlongIdentityThrows() {
        // FORMAT.md §5.3: an identity is 1–1024 bytes.
        var writer = ByteWriter()
        writer.u32(1)
        writer.recordID(.generate())
        writer.string16(String(repeating: "y", count: 1025))
        writer.u16(4)
        writer.f32(1)
        writer.raw([UInt8](repeating: 0, count: 12) + [0, 0, 0x80, 0x3F])
        Self.expectMalformedEnroll(writer.bytes, "an identity of 1025 bytes")
    }

    @Test func enrollZeroDimensionThrows() {
        var writer = ByteWriter()
        writer.u32(1)
        writer.recordID(.generate())
        writer.string16("ana")
        writer.u16(0)
        writer.f32(1)
        Self.expectMalformedEnroll(writer.bytes, "dimension 0")
    }

    @Test func enrollNonFiniteScaleThrows() {
        for scale in [Float.nan, .infinity, -.infinity] {
            var writer = ByteWriter()
            writer.u32(1)
            writer.recordID(.generate())
            writer.string16("ana")
            writer.u16(4)
            writer.f32(scale)
            writer.zeros(4)
            Self.expectMalformedEnroll(writer.bytes, compression: .int8, "scale \(scale)")
        }
    }

    @Test func enrollPayloadOfAnotherEncodingThrows() {
        // Written as float32 (16 bytes a vector), read as fp16 or int8: the entries do not line up.
        let payload = Self.validEnrollPayload(count: 1)
        Self.expectMalformedEnroll(payload, compression: .fp16, "float32 payload read as fp16")
        Self.expectMalformedEnroll(payload, compression: .int8, "float32 payload read as int8")
    }

    @Test func removeMalformedPayloadsThrow() {
        let ids = (0..<3).map { _ in RecordID.generate() }
        let payload = JournalFormat.encodeRemovals(ids)
        var cases: [([UInt8], String)] = [([], "empty"), ([1, 0, 0], "short count"), (payload + [0], "trailing byte"),
                                          (payload + [UInt8](repeating: 0, count: 16), "an extra UUID"),
                                          (Array(payload.dropLast()), "one byte short")]
        var more = payload
        Self.put32(4, into: &more, at: 0)
        cases.append((more, "count 4, three UUIDs"))
        var fewer = payload
        Self.put32(2, into: &fewer, at: 0)
        cases.append((fewer, "count 2, three UUIDs"))
        var huge = payload
        Self.put32(0xFFFF_FFFF, into: &huge, at: 0)
        cases.append((huge, "count 2³²−1"))
        for (bytes, comment) in cases {
            #expect(throws: JournalFormat.MalformedPayload.self, "\(comment)") { try JournalFormat.decodeRemovals(bytes) }
        }
    }
}
