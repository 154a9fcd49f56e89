/// FORMAT.md, "Key file": an encrypted store's `KEY`, 116 bytes, the only plaintext file of
/// an encrypted store besides `LOCK` and journal headers:
///
///      0  8   magic "LNUPKEYS"
///      8  u16 format version
///     10  u16 key derivation: 1 = PBKDF2-HMAC-SHA256
///     12  u32 iterations
///     16  16  salt
///     32  16  store ID
///     48  u32 epoch: writer sessions begun so far
///     52  12  nonce of the wrapped key
///     64  48  the data key, AES-256-GCM under the passphrase's key: 32 bytes, then the tag
///    112  u32 CRC32C of bytes 0 ..< 112
///
/// The wrap authenticates bytes 0 ..< 52, so the parameters, the store ID and the epoch cannot
/// be changed without the passphrase.
package struct KeyFile: Equatable {
    static let size = FormatConstants.keyFileSize
    static let authenticatedLength = FormatConstants.keyAuthenticatedLength
    static let pbkdf2SHA256: UInt16 = 1
    /// PBKDF2-HMAC-SHA256 iterations for new keys (OWASP's 2023 figure).
    package static let defaultIterations = 600_000
    /// Stored iteration counts outside this range are damage (the cap bounds what a
    /// tampered file can make an open spend before the tag fails).
    static let iterationRange = 1...10_000_000

    /// The format version the file was written in (new files: this code's).
    var version = FormatConstants.formatVersion
    var iterations: Int
    var salt: [UInt8]
    var storeID: RecordID
    var epoch: UInt32
    var wrapNonce: [UInt8]
    var wrappedKey: [UInt8]

    /// Bytes 0 ..< 52: what the wrap authenticates.
    var authenticatedPrefix: [UInt8] {
        var writer = ByteWriter(capacity: KeyFile.authenticatedLength)
        writer.raw(FormatConstants.keyMagic)
        writer.u16(version)
        writer.u16(KeyFile.pbkdf2SHA256)
        writer.u32(UInt32(iterations))
        writer.raw(salt)
        writer.recordID(storeID)
        writer.u32(epoch)
        return writer.bytes
    }

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: KeyFile.size)
        writer.raw(authenticatedPrefix)
        writer.raw(wrapNonce)
        writer.raw(wrappedKey)
        writer.u32(Checksum.crc32c(writer.bytes))
        return writer.bytes
    }

    /// - Throws: `corruptStore` for damage; `unsupportedFormatVersion` for a newer format.
    static func decode(_ bytes: [UInt8]) throws -> KeyFile {
        let damaged = LineupError(.corruptStore, "the key file is damaged")
        guard bytes.count == size else { throw damaged }
        return try bytes.withUnsafeBytes { raw in
            var (version, reader) = try FramedHeader.open(raw, magic: FormatConstants.keyMagic, length: size, damaged: damaged) { _ in
                "the key file was written by a newer version of Lineup"
            }
            do {
                let kdf = try reader.u16()
                let iterations = Int(try reader.u32())
                guard kdf == pbkdf2SHA256, iterationRange.contains(iterations) else { throw damaged }
                return KeyFile(version: version, iterations: iterations, salt: try reader.bytes(Crypto.saltBytes), storeID: try reader.recordID(),
                               epoch: try reader.u32(), wrapNonce: try reader.bytes(Crypto.nonceBytes),
                               wrappedKey: try reader.bytes(Crypto.keyBytes + Crypto.tagBytes))
            } catch let error as LineupError {
                throw error
            } catch {
                throw damaged
            }
        }
    }
}

/// FORMAT.md, "Encrypted envelope": how an encrypted store writes a whole file (manifest,
/// segment). A 64-byte header, then the plaintext in chunks of `chunkSize` bytes (the last may
/// be shorter), each stored as a 12-byte nonce, the AES-256-GCM ciphertext and a 16-byte tag:
///
///      0  8   magic "LNUPENVL"
///      8  u16 format version
///     10  u8  kind: 1 manifest, 2 segment
///     11  u8  zero
///     12  u32 chunk size (a power of two, 4 KiB ... 16 MiB)
///     16  u64 file number: the manifest's generation, or the segment's number
///     24  16  store ID
///     40  u64 plaintext length (more than zero)
///     48  12  session salt: the writer session's key is HMAC-SHA256(data key, "LNUPSESS" ‖ salt)
///     60  u32 CRC32C of bytes 0 ..< 60
///
/// Chunk i authenticates bytes 0 ..< 40 of the header, then u64 i, then u8 1 for the last
/// chunk and 0 for the others: a chunk read at another position, in another file, kind or
/// store, or a file cut or extended at a chunk boundary, fails its tag.
struct EnvelopeHeader: Equatable {
    enum Kind: UInt8 {
        case manifest = 1
        case segment = 2
    }

    static let size = FormatConstants.envelopeHeaderSize
    static let defaultChunkSize = 1 << 20
    static let overhead = Crypto.nonceBytes + Crypto.tagBytes

    /// The format version the file was written in (new files: this code's).
    var version = FormatConstants.formatVersion
    var kind: Kind
    var chunkSize: Int
    var number: UInt64
    var storeID: RecordID
    var plaintextLength: Int
    /// The salt of the session key that sealed the chunks (``StoreCipher``).
    var sessionSalt: [UInt8]

    var chunkCount: Int { (plaintextLength + chunkSize - 1) / chunkSize }
    var fileSize: Int { EnvelopeHeader.size + plaintextLength + chunkCount * EnvelopeHeader.overhead }

    /// Where chunk `index` lies: in the file (nonce first) and in the plaintext.
    func chunk(_ index: Int) -> (fileOffset: Int, plaintextOffset: Int, length: Int) {
        let start = index * chunkSize
        return (EnvelopeHeader.size + index * (chunkSize + EnvelopeHeader.overhead), start,
                min(chunkSize, plaintextLength - start))
    }

    /// The additional authenticated data of chunk `index`, `last` or not. It does not depend
    /// on the plaintext length, so a writer seals chunks before it knows the length.
    func chunkAAD(_ index: Int, last: Bool) -> [UInt8] {
        var writer = ByteWriter(capacity: 49)
        writer.raw(encoded()[0..<40])
        writer.u64(UInt64(index))
        writer.u8(last ? 1 : 0)
        return writer.bytes
    }

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: EnvelopeHeader.size)
        writer.raw(FormatConstants.envelopeMagic)
        writer.u16(version)
        writer.u8(kind.rawValue)
        writer.u8(0)
        writer.u32(UInt32(chunkSize))
        writer.u64(number)
        writer.recordID(storeID)
        writer.u64(UInt64(plaintextLength))
        writer.raw(sessionSalt)
        writer.u32(Checksum.crc32c(writer.bytes))
        return writer.bytes
    }

    /// Whether `bytes` begin like an envelope (and not like a plaintext file).
    static func isEnvelope(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 8 && Array(bytes[0..<8]) == FormatConstants.envelopeMagic
    }

    /// - Throws: `corruptStore` for damage or a file size that does not match;
    ///   `unsupportedFormatVersion` for a newer format.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> EnvelopeHeader {
        let damaged = LineupError(.corruptStore, "an encrypted file's header is damaged")
        var (version, reader) = try FramedHeader.open(bytes, magic: FormatConstants.envelopeMagic, length: size, damaged: damaged) {
            "the store was written by a newer version of Lineup (format \($0))"
        }
        do {
            guard let kind = Kind(rawValue: try reader.u8()), try reader.u8() == 0 else { throw damaged }
            let chunkSize = Int(try reader.u32())
            let number = try reader.u64()
            let storeID = try reader.recordID()
            let length = try reader.u64()
            guard chunkSize >= 4096, chunkSize <= 16 << 20, chunkSize & (chunkSize - 1) == 0,
                  length > 0, length < 1 << 48 else { throw damaged }
            return EnvelopeHeader(version: version, kind: kind, chunkSize: chunkSize, number: number, storeID: storeID,
                                  plaintextLength: Int(length), sessionSalt: try reader.bytes(Crypto.nonceBytes))
        } catch let error as LineupError {
            throw error
        } catch {
            throw damaged
        }
    }
}
