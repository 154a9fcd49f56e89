/// The journal's bytes (FORMAT.md, "Journal"): pure encoding and decoding, no I/O.
///
/// A journal file is a 64-byte header, then records. A record is a 32-byte header and a
/// payload, padded with zeros to a multiple of 8 bytes:
///
///     0  u32  CRC32C of bytes 4 ..< 32 + length
///     4  u32  payload length
///     8  u64  sequence number (one more than the previous record's)
///    16  u32  collection id
///    20  u8   type (RecordType)
///    21  u8   flags: bit 0 = last record of its commit group, bit 1 = first record of it
///    22  u16  zero
///    24  u64  journal number (the file's own, from its name and header)
enum JournalFormat {
    struct Header: Equatable {
        var storeID: RecordID
        var journalNumber: UInt64
        /// The sequence number the first record of this file carries.
        var firstSequence: UInt64
    }

    struct Record: Equatable {
        var sequence: UInt64
        var collectionID: UInt32
        var type: RecordType
        var isCommit: Bool
        var payload: [UInt8]
        /// Whether this is the first record of its commit group.
        var isFirst: Bool = false
    }

    static func encodeHeader(_ header: Header) -> [UInt8] {
        var writer = ByteWriter(capacity: FormatConstants.journalHeaderSize)
        writer.raw(FormatConstants.journalMagic)
        writer.u16(FormatConstants.formatVersion)
        writer.u16(UInt16(FormatConstants.journalHeaderSize))
        writer.u32(0)
        writer.recordID(header.storeID)
        writer.u64(header.journalNumber)
        writer.u64(header.firstSequence)
        writer.zeros(12)
        writer.u32(Checksum.crc32c(writer.bytes))
        return writer.bytes
    }

    enum HeaderProblem: Error { case damaged, newerVersion }

    static func decodeHeader(_ bytes: UnsafeRawBufferPointer) throws(HeaderProblem) -> Header {
        var reader: ByteReader
        do {
            (_, reader) = try FramedHeader.open(bytes, magic: FormatConstants.journalMagic, length: FormatConstants.journalHeaderSize)
        } catch {
            switch error {
            case .damaged: throw .damaged
            case .newerVersion: throw .newerVersion
            }
        }
        do {
            guard Int(try reader.u16()) == FormatConstants.journalHeaderSize, try reader.u32() == 0,
                  bytes[48..<60].allSatisfy({ $0 == 0 }) else {
                throw HeaderProblem.damaged
            }
            return Header(storeID: try reader.recordID(), journalNumber: try reader.u64(),
                          firstSequence: try reader.u64())
        } catch {
            throw .damaged
        }
    }

    /// The bytes of one record, padding included.
    static func encodeRecord(_ record: Record, journalNumber: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: FormatConstants.recordHeaderSize + record.payload.count + 8)
        writer.u32(0)
        writer.u32(UInt32(record.payload.count))
        writer.u64(record.sequence)
        writer.u32(record.collectionID)
        writer.u8(record.type.rawValue)
        writer.u8((record.isCommit ? 1 : 0) | (record.isFirst ? 2 : 0))
        writer.u16(0)
        writer.u64(journalNumber)
        writer.raw(record.payload)
        let crc = writer.bytes.withUnsafeBytes { Checksum.crc32c(UnsafeRawBufferPointer(rebasing: $0[4...])) }
        writer.setU32(crc, at: 0)
        writer.pad(toMultipleOf: FormatConstants.recordAlignment)
        return writer.bytes
    }

    /// What ``decodeRecord(_:at:journalNumber:)`` finds at an offset.
    enum Decoded: Equatable {
        /// A valid record and the offset of the next one.
        case record(Record, next: Int)
        /// Fewer bytes remain than the record needs: a write cut short, or the end.
        case truncated
        /// The bytes are not a valid record.
        case invalid
    }

    /// Decodes the record at `offset`, checking its checksum, journal number, type, flags and
    /// padding. The sequence number is the caller's to check.
    static func decodeRecord(_ bytes: UnsafeRawBufferPointer, at offset: Int, journalNumber: UInt64) -> Decoded {
        let available = bytes.count - offset
        guard available >= FormatConstants.recordHeaderSize else { return .truncated }
        var reader = ByteReader(bytes, offset: offset)
        guard let storedCRC = try? reader.u32(), let length = try? reader.u32(),
              let sequence = try? reader.u64(), let collectionID = try? reader.u32(),
              let typeCode = try? reader.u8(), let flags = try? reader.u8(),
              let reserved = try? reader.u16(), let number = try? reader.u64() else { return .truncated }
        guard Int(length) <= FormatConstants.maximumRecordPayload else { return .invalid }
        let end = offset + FormatConstants.recordHeaderSize + Int(length)
        let padded = (end + FormatConstants.recordAlignment - 1) / FormatConstants.recordAlignment
            * FormatConstants.recordAlignment
        guard padded <= bytes.count else { return .truncated }
        guard Checksum.crc32c(UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<end])) == storedCRC,
              number == journalNumber, reserved == 0, flags & ~3 == 0,
              let type = RecordType(rawValue: typeCode),
              bytes[end..<padded].allSatisfy({ $0 == 0 }) else { return .invalid }
        let payload = Array(bytes[(offset + FormatConstants.recordHeaderSize)..<end])
        return .record(Record(sequence: sequence, collectionID: collectionID, type: type,
                              isCommit: flags & 1 != 0, payload: payload, isFirst: flags & 2 != 0), next: padded)
    }

    // MARK: Payloads

    /// What one record changes: the one reading of a record's payload that recovery, the
    /// catch-up, `verify` and `dump` share.
    enum Change {
        case enroll([PreparedEnrollment])
        case remove([RecordID])
    }

    /// Decodes `record`'s payload (in plaintext) for a collection stored as `compression`.
    ///
    /// - Throws: `corruptStore` when it is malformed.
    static func decodeChange(_ record: Record, compression: VectorCompression) throws(LineupError) -> Change {
        do {
            switch record.type {
            case .enroll: return .enroll(try decodeEnrollments(record.payload, compression: compression))
            case .remove: return .remove(try decodeRemovals(record.payload))
            }
        } catch {
            throw LineupError(.corruptStore, "journal record \(record.sequence) is malformed")
        }
    }

    /// Enroll payload: u32 count, then per entry: 16-byte UUID, u16 identity length, identity
    /// UTF-8, u16 dimension, f32 scale, dimension × bytes-a-dimension vector bytes.
    static func encodeEnrollments(_ entries: [PreparedEnrollment]) -> [UInt8] {
        var writer = ByteWriter()
        writer.u32(UInt32(entries.count))
        for entry in entries {
            writer.recordID(entry.id)
            writer.string16(entry.identity)
            writer.u16(UInt16(entry.dimension))
            writer.f32(entry.vector.scale)
            writer.raw(entry.vector.bytes)
        }
        return writer.bytes
    }

    struct MalformedPayload: Error {}

    static func decodeEnrollments(_ payload: [UInt8], compression: VectorCompression) throws(MalformedPayload) -> [PreparedEnrollment] {
        do {
            return try payload.withUnsafeBytes { bytes in
                var reader = ByteReader(bytes)
                let count = Int(try reader.u32())
                var entries: [PreparedEnrollment] = []
                entries.reserveCapacity(min(count, 4096))
                for _ in 0..<count {
                    let id = try reader.recordID()
                    let identity = try reader.string16()
                    let dimension = Int(try reader.u16())
                    let scale = try reader.f32()
                    guard dimension > 0, dimension <= Validation.maximumDimension, !identity.isEmpty,
                          identity.utf8.count <= Validation.maximumIdentityBytes, scale.isFinite else { throw MalformedPayload() }
                    let vector = try reader.bytes(dimension * compression.bytesPerDimension)
                    entries.append(PreparedEnrollment(id: id, identity: identity, vector: EncodedVector(bytes: vector, scale: scale),
                                                      dimension: dimension))
                }
                guard reader.remaining == 0 else { throw MalformedPayload() }
                return entries
            }
        } catch {
            throw MalformedPayload()
        }
    }

    /// Remove payload: u32 count, then that many 16-byte UUIDs.
    static func encodeRemovals(_ ids: [RecordID]) -> [UInt8] {
        var writer = ByteWriter(capacity: 4 + 16 * ids.count)
        writer.u32(UInt32(ids.count))
        for id in ids { writer.recordID(id) }
        return writer.bytes
    }

    static func decodeRemovals(_ payload: [UInt8]) throws(MalformedPayload) -> [RecordID] {
        do {
            return try payload.withUnsafeBytes { bytes in
                var reader = ByteReader(bytes)
                let count = Int(try reader.u32())
                guard count * 16 == reader.remaining else { throw MalformedPayload() }
                return try (0..<count).map { _ in try reader.recordID() }
            }
        } catch {
            throw MalformedPayload()
        }
    }
}
