#if PostgreSQL
import Lineup
import Synchronization

/// Encryption of what the PostgreSQL backend stores (POSTGRESQL.md, "Encryption"), with the
/// engine's cryptography (AES-256-GCM, PBKDF2, HMAC-SHA256 through libcrypto).
///
/// A random data key, wrapped under the passphrase exactly as in an encrypted store's `KEY`
/// file (FORMAT.md §11.1), lives in the table `lineup_keys`. From it: a **token key** that
/// turns a UUID or an identity into a keyed hash the server can look up (removal by UUID or by
/// identity) without learning either, and per-session **sealing keys**
/// HMAC-SHA256(data key, "LNUPSESS" ‖ salt) under which each row's UUID, identity, scale and
/// vector are sealed together (random 96-bit nonces under a key of the process's own: far
/// below GCM's bound). The row's associated data binds it to its collection and its UUID
/// token, so rows cannot be moved between collections or swapped.
final class PostgresCipher: @unchecked Sendable {
    private let dataKey: SecretBytes
    private let tokenKey: SecretBytes
    private let salt: [UInt8]
    private let sessionKey: SecretBytes
    private let otherKeys = Mutex<[[UInt8]: SecretBytes]>([:])

    init(dataKey: SecretBytes) throws {
        self.dataKey = dataKey
        tokenKey = try Crypto.hmacSHA256(key: dataKey, message: Array("LNUPPGTOKEN".utf8))
        salt = try Crypto.randomBytes(Crypto.nonceBytes)
        sessionKey = try Crypto.hmacSHA256(key: dataKey, message: Array("LNUPSESS".utf8) + salt)
    }

    private func token(_ message: [UInt8]) -> [UInt8] {
        (try? Crypto.hmacSHA256(key: tokenKey, message: message))?.withUnsafeBytes { Array($0) } ?? []
    }

    private static func bytes(_ value: Int64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

    private static func bytes(_ id: RecordID) -> [UInt8] {
        withUnsafeBytes(of: id.high.bigEndian) { Array($0) } + withUnsafeBytes(of: id.low.bigEndian) { Array($0) }
    }

    /// The UUID the server stores for `id` in `collection`: a keyed hash in UUID form.
    func uuidToken(_ id: RecordID, collection: Int64) -> RecordID {
        let hash = token(Array("uuid".utf8) + PostgresCipher.bytes(collection) + PostgresCipher.bytes(id))
        let high = hash[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = hash[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return RecordID(high: high, low: low)
    }

    /// What the server stores in place of `identity` in `collection`.
    func identityToken(_ identity: String, collection: Int64) -> [UInt8] {
        token(Array("identity".utf8) + PostgresCipher.bytes(collection) + Array(identity.utf8))
    }

    private func aad(collection: Int64, token: RecordID) -> [UInt8] {
        Array("LNUPPGRW".utf8) + PostgresCipher.bytes(collection) + PostgresCipher.bytes(token)
    }

    /// The sealed row: salt (12) ‖ nonce (12) ‖ ciphertext of (UUID, identity, scale, vector) ‖ tag.
    func seal(_ entry: PreparedEnrollment, collection: Int64) throws -> [UInt8] {
        var plain = PostgresCipher.bytes(entry.id)
        let identity = Array(entry.identity.utf8)
        plain += withUnsafeBytes(of: UInt16(identity.count).littleEndian) { Array($0) } + identity
        plain += withUnsafeBytes(of: entry.vector.scale.bitPattern.littleEndian) { Array($0) }
        plain += entry.vector.bytes
        defer { Crypto.wipe(&plain) }
        return try seal(plain, aad: aad(collection: collection, token: uuidToken(entry.id, collection: collection)))
    }

    /// Opens a sealed row stored under UUID token `token` in `collection`.
    ///
    /// - Throws: `corruptStore` when it does not authenticate or is malformed.
    func open(_ sealed: [UInt8], token: RecordID, collection: Int64,
              compression: VectorCompression) throws -> PreparedEnrollment {
        let damaged = LineupError(.corruptStore, "a Faceprint row fails its authentication")
        guard sealed.count >= 2 * Crypto.nonceBytes + Crypto.tagBytes + 22,
              var plain = try open(sealed, aad: aad(collection: collection, token: token)) else { throw damaged }
        defer { Crypto.wipe(&plain) }
        let high = plain[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = plain[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let length = Int(plain[16]) | Int(plain[17]) << 8
        guard 18 + length + 4 <= plain.count else { throw damaged }
        guard let identity = String(validating: plain[18..<(18 + length)], as: UTF8.self) else { throw damaged }
        let scaleBits = plain[(18 + length)..<(22 + length)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let vector = Array(plain[(22 + length)...])
        guard compression.bytesPerDimension > 0, vector.count % compression.bytesPerDimension == 0, !vector.isEmpty else { throw damaged }
        let id = RecordID(high: high, low: low)
        guard uuidToken(id, collection: collection) == token else { throw damaged }
        return PreparedEnrollment(id: id, identity: identity,
                                  vector: EncodedVector(bytes: vector, scale: Float(bitPattern: scaleBits)),
                                  dimension: vector.count / compression.bytesPerDimension)
    }

    /// A collection's sealed calibration curve: salt ‖ nonce ‖ ciphertext of its 8 bytes ‖ tag,
    /// with `LNUPPGCV` ‖ collection id as associated data (a curve moved to another collection
    /// fails its tag).
    func sealCurve(_ bytes: [UInt8], collection: Int64) throws -> [UInt8] {
        try seal(bytes, aad: Array("LNUPPGCV".utf8) + PostgresCipher.bytes(collection))
    }

    /// The 8 bytes of `collection`'s sealed curve.
    ///
    /// - Throws: `corruptStore` when it does not authenticate.
    func openCurve(_ sealed: [UInt8], collection: Int64) throws -> [UInt8] {
        guard let plain = try open(sealed, aad: Array("LNUPPGCV".utf8) + PostgresCipher.bytes(collection)) else {
            throw LineupError(.corruptStore, "a collection's calibration curve fails its authentication")
        }
        return plain
    }

    /// `plain` sealed under this session's key: salt (12) ‖ nonce (12, random) ‖ ciphertext ‖ tag.
    private func seal(_ plain: [UInt8], aad: [UInt8]) throws -> [UInt8] {
        let nonce = try Crypto.randomBytes(Crypto.nonceBytes)
        var out = [UInt8](repeating: 0, count: plain.count + Crypto.tagBytes)
        try out.withUnsafeMutableBytes { out in
            try nonce.withUnsafeBytes { nonce in
                try aad.withUnsafeBytes { aad in
                    try plain.withUnsafeBytes { try Crypto.seal(key: sessionKey, nonce: nonce, aad: aad, plaintext: $0, into: out) }
                }
            }
        }
        return salt + nonce + out
    }

    /// The plaintext of `sealed` (written by any session: its salt names the key), nil when it
    /// is too short or does not authenticate.
    private func open(_ sealed: [UInt8], aad: [UInt8]) throws -> [UInt8]? {
        let header = 2 * Crypto.nonceBytes
        guard sealed.count >= header + Crypto.tagBytes else { return nil }
        let rowSalt = Array(sealed[0..<Crypto.nonceBytes])
        let key: SecretBytes
        if rowSalt == salt {
            key = sessionKey
        } else {
            key = try otherKeys.withLock { keys in
                if let key = keys[rowSalt] { return key }
                if keys.count >= 256 { keys.removeAll() }
                let key = try Crypto.hmacSHA256(key: dataKey, message: Array("LNUPSESS".utf8) + rowSalt)
                keys[rowSalt] = key
                return key
            }
        }
        var plain = [UInt8](repeating: 0, count: sealed.count - header - Crypto.tagBytes)
        let ok = sealed.withUnsafeBytes { sealed in
            aad.withUnsafeBytes { aad in
                plain.withUnsafeMutableBytes {
                    Crypto.open(key: key, nonce: UnsafeRawBufferPointer(rebasing: sealed[Crypto.nonceBytes..<header]), aad: aad,
                                sealed: UnsafeRawBufferPointer(rebasing: sealed[header...]), into: $0)
                }
            }
        }
        guard ok else {
            Crypto.wipe(&plain)
            return nil
        }
        return plain
    }
}
#endif
