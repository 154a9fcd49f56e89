import LineupKernels

/// Appends little-endian values to a growing byte array: the only way encoders build bytes.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    var count: Int { bytes.count }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { append(littleEndian: value) }
    mutating func u32(_ value: UInt32) { append(littleEndian: value) }
    mutating func u64(_ value: UInt64) { append(littleEndian: value) }
    mutating func f32(_ value: Float) { append(littleEndian: value.bitPattern) }
    mutating func raw(_ data: some Collection<UInt8>) { bytes.append(contentsOf: data) }
    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }
    mutating func recordID(_ id: RecordID) {
        append(bigEndian: id.high)
        append(bigEndian: id.low)
    }
    /// A string as u16 length then its UTF-8 bytes. The caller has bounded its length.
    mutating func string16(_ value: String) {
        let utf8 = Array(value.utf8)
        precondition(utf8.count <= Int(UInt16.max))
        u16(UInt16(utf8.count))
        raw(utf8)
    }
    mutating func pad(toMultipleOf alignment: Int) {
        let remainder = bytes.count % alignment
        if remainder != 0 { zeros(alignment - remainder) }
    }
    /// Overwrites 4 bytes at `offset` (for checksums and lengths written after the fact).
    mutating func setU32(_ value: UInt32, at offset: Int) {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
    }
    mutating func setU64(_ value: UInt64, at offset: Int) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }

    private mutating func append<T: FixedWidthInteger>(littleEndian value: T) {
        var little = value.littleEndian
        withUnsafeBytes(of: &little) { bytes.append(contentsOf: $0) }
    }

    private mutating func append<T: FixedWidthInteger>(bigEndian value: T) {
        var big = value.bigEndian
        withUnsafeBytes(of: &big) { bytes.append(contentsOf: $0) }
    }
}

/// Reads little-endian values from a byte range with every access bounds-checked: a short or
/// damaged input throws ``ByteReader/OutOfBounds``, never reads past the end.
struct ByteReader {
    struct OutOfBounds: Error {}

    private let buffer: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    var remaining: Int { buffer.count - offset }

    mutating func skip(_ count: Int) throws {
        guard count >= 0, count <= remaining else { throw OutOfBounds() }
        offset += count
    }

    mutating func u8() throws -> UInt8 { try load(UInt8.self) }
    mutating func u16() throws -> UInt16 { try load(UInt16.self) }
    mutating func u32() throws -> UInt32 { try load(UInt32.self) }
    mutating func u64() throws -> UInt64 { try load(UInt64.self) }
    mutating func f32() throws -> Float { Float(bitPattern: try load(UInt32.self)) }

    mutating func recordID() throws -> RecordID {
        guard remaining >= 16 else { throw OutOfBounds() }
        let high = UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        let low = UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
        offset += 16
        return RecordID(high: high, low: low)
    }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= remaining else { throw OutOfBounds() }
        defer { offset += count }
        return Array(buffer[offset..<(offset + count)])
    }

    /// A u16 length then that many bytes of UTF-8; invalid UTF-8 throws.
    mutating func string16() throws -> String {
        let length = Int(try u16())
        let utf8 = try bytes(length)
        guard let string = String(validating: utf8, as: UTF8.self) else { throw OutOfBounds() }
        return string
    }

    private mutating func load<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard MemoryLayout<T>.size <= remaining else { throw OutOfBounds() }
        defer { offset += MemoryLayout<T>.size }
        return T(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

/// CRC32C (Castagnoli) as FORMAT.md, "Checksums", defines it.
enum Checksum {
    static func crc32c(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        lineup_crc32c(seed, bytes.baseAddress, bytes.count)
    }

    /// Whether the CRC32C of `bytes[0 ..< length - 4]` is the little-endian u32 at
    /// `length - 4`: how every framed header and the key file end. False when too short.
    static func trailingCRC32CMatches(_ bytes: UnsafeRawBufferPointer, length: Int) -> Bool {
        guard length >= 4, bytes.count >= length else { return false }
        return crc32c(UnsafeRawBufferPointer(rebasing: bytes[0..<(length - 4)]))
            == UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self))
    }

    static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { crc32c($0) }
    }

    static func crc32c(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { crc32c($0) }
    }
}

/// The frame every header of the store shares (FORMAT.md §2, §3): an 8-byte magic, a u16
/// format version, and, in the last 4 bytes of the header, the CRC32C of the bytes before
/// them. The journal header, the manifest, segment headers, the key file and the envelope
/// header are read through it; each decoder then reads its own fields.
enum FramedHeader {
    enum Problem: Error {
        /// Too short, another magic, a checksum that does not hold, or version 0.
        case damaged
        /// Written by a newer version of the format than this one reads.
        case newerVersion(UInt16)
    }

    /// Checks the frame of `bytes[0 ..< length]` (a version from 1 to `newest`) and returns its
    /// version and a reader over the bytes before the checksum, positioned after the version.
    static func open(_ bytes: UnsafeRawBufferPointer, magic: [UInt8], length: Int,
                     newest: UInt16 = FormatConstants.formatVersion) throws(Problem) -> (version: UInt16, reader: ByteReader) {
        guard length >= magic.count + 6, bytes.count >= length, bytes.prefix(magic.count).elementsEqual(magic),
              Checksum.trailingCRC32CMatches(bytes, length: length) else { throw .damaged }
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[0..<(length - 4)]), offset: magic.count)
        guard let version = try? reader.u16(), version >= 1 else { throw .damaged }
        guard version <= newest else { throw .newerVersion(version) }
        return (version, reader)
    }

    /// ``open(_:magic:length:)`` for decoders that throw `LineupError`: `corruptStore` as
    /// `damaged`, `unsupportedFormatVersion` saying that `what` was written by a newer version.
    static func open(_ bytes: UnsafeRawBufferPointer, magic: [UInt8], length: Int,
                     newest: UInt16 = FormatConstants.formatVersion, damaged: LineupError,
                     newer: (UInt16) -> String) throws(LineupError) -> (version: UInt16, reader: ByteReader) {
        do {
            return try open(bytes, magic: magic, length: length, newest: newest)
        } catch {
            switch error {
            case .damaged: throw damaged
            case .newerVersion(let version): throw LineupError(.unsupportedFormatVersion, newer(version))
            }
        }
    }
}

/// FNV-1a, 64 bits, over an identity's UTF-8: the key of a segment's identity index. Only a
/// bucket: every hit is confirmed against the stored identity.
func identityHash(_ identity: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in identity.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01B3
    }
    return hash
}
