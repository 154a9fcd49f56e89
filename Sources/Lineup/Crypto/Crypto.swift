import CCrypto
import Foundation

/// Bytes that must not outlive their use: each in its own anonymous pages, locked against
/// swapping where the system permits (`mlock`), kept out of core dumps, and wiped with
/// `OPENSSL_cleanse` when released. (Pages of their own, because `mlock` does not nest: two
/// secrets sharing a page would unlock each other.)
package final class SecretBytes: @unchecked Sendable {
    package let count: Int
    private let pointer: UnsafeMutableRawPointer
    private let mapped: Int

    /// `count` zero bytes.
    package init(count: Int) {
        self.count = count
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        mapped = max(page, (count + page - 1) / page * page)
        guard let address = mmap(nil, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              address != MAP_FAILED else {
            fatalError("cannot map \(mapped) bytes for key material")
        }
        pointer = address
        #if os(Linux)
        _ = madvise(address, mapped, MADV_DONTDUMP)
        #endif
        _ = mlock(address, mapped)
    }

    package convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count)
        if let base = bytes.baseAddress { pointer.copyMemory(from: base, byteCount: bytes.count) }
    }

    deinit {
        OPENSSL_cleanse(pointer, mapped)
        _ = munlock(pointer, mapped)
        _ = munmap(pointer, mapped)
    }

    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    package func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: pointer, count: count))
    }
}

/// The cryptography Lineup uses, all of it through OpenSSL's libcrypto: AES-256-GCM,
/// PBKDF2-HMAC-SHA256, and its random generator. Errors never carry key material.
package enum Crypto {
    package static let keyBytes = 32
    package static let nonceBytes = 12
    package static let tagBytes = 16
    package static let saltBytes = 16

    /// `count` bytes from OpenSSL's cryptographically secure generator.
    package static func randomBytes(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try fillRandom($0) }
        return bytes
    }

    package static func fillRandom(_ buffer: UnsafeMutableRawBufferPointer) throws {
        guard buffer.count > 0 else { return }
        guard RAND_bytes(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(buffer.count)) == 1 else {
            throw LineupError(.ioError, "the system's random generator failed")
        }
    }

    /// PBKDF2-HMAC-SHA256 of `passphrase` (its UTF-8 bytes) into a 32-byte key.
    package static func deriveKey(passphrase: String, salt: [UInt8], iterations: Int) throws -> SecretBytes {
        let key = SecretBytes(count: keyBytes)
        var utf8 = Array(passphrase.utf8)
        defer { utf8.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) } }
        let status = utf8.withUnsafeBufferPointer { password in
            salt.withUnsafeBufferPointer { salt in
                key.withUnsafeMutableBytes { out in
                    password.withMemoryRebound(to: CChar.self) { password in
                        PKCS5_PBKDF2_HMAC(password.baseAddress, Int32(password.count), salt.baseAddress, Int32(salt.count),
                                          Int32(iterations), EVP_sha256(), Int32(keyBytes),
                                          out.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
        }
        guard status == 1 else { throw LineupError(.ioError, "the key derivation failed") }
        return key
    }

    /// HMAC-SHA256 of `message` under `key`, as a new secret (a derived key).
    package static func hmacSHA256(key: SecretBytes, message: [UInt8]) throws -> SecretBytes {
        let out = SecretBytes(count: 32)
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { key in
            message.withUnsafeBytes { message in
                out.withUnsafeMutableBytes {
                    HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), message.baseAddress?.assumingMemoryBound(to: UInt8.self),
                         message.count, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
                }
            }
        }
        guard result != nil, length == 32 else { throw LineupError(.ioError, "HMAC-SHA256 failed") }
        return out
    }

    /// AES-256-GCM encryption of `plaintext` into `output` (ciphertext, then the 16-byte tag;
    /// `plaintext.count + tagBytes` bytes), authenticating `aad` as well.
    package static func seal(key: SecretBytes, nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
                     plaintext: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        precondition(nonce.count == nonceBytes && output.count == plaintext.count + tagBytes)
        guard let context = EVP_CIPHER_CTX_new() else { throw LineupError(.ioError, "OpenSSL could not allocate a cipher") }
        defer { EVP_CIPHER_CTX_free(context) }
        let failed = LineupError(.ioError, "AES-256-GCM encryption failed")
        let out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var length: Int32 = 0
        try key.withUnsafeBytes { key in
            guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                     nonce.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 1 else { throw failed }
        }
        if aad.count > 0 {
            guard EVP_EncryptUpdate(context, nil, &length, aad.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                    Int32(aad.count)) == 1 else { throw failed }
        }
        var written = 0
        var offset = 0
        while offset < plaintext.count {
            let step = min(plaintext.count - offset, 1 << 30)
            guard EVP_EncryptUpdate(context, out + written, &length,
                                    plaintext.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, Int32(step)) == 1 else {
                throw failed
            }
            written += Int(length)
            offset += step
        }
        guard EVP_EncryptFinal_ex(context, out + written, &length) == 1 else { throw failed }
        written += Int(length)
        guard written == plaintext.count,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagBytes), out + written) == 1 else { throw failed }
    }

    /// AES-256-GCM decryption of `sealed` (ciphertext, then the tag) into `output`
    /// (`sealed.count - tagBytes` bytes). Returns false, with `output` wiped, when the tag
    /// does not authenticate: no byte of an unauthenticated block is ever handed on.
    package static func open(key: SecretBytes, nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
                     sealed: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Bool {
        precondition(nonce.count == nonceBytes)
        guard sealed.count >= tagBytes, output.count == sealed.count - tagBytes,
              let context = EVP_CIPHER_CTX_new() else { return false }
        defer { EVP_CIPHER_CTX_free(context) }
        let count = output.count
        let out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let input = sealed.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var length: Int32 = 0
        var scratch: UInt8 = 0
        let ok: Bool = key.withUnsafeBytes { key in
            guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                     nonce.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 1 else { return false }
            if aad.count > 0 {
                guard EVP_DecryptUpdate(context, nil, &length, aad.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                        Int32(aad.count)) == 1 else { return false }
            }
            var written = 0
            var offset = 0
            while offset < count {
                let step = min(count - offset, 1 << 30)
                guard EVP_DecryptUpdate(context, out! + written, &length, input + offset, Int32(step)) == 1 else { return false }
                written += Int(length)
                offset += step
            }
            var tag = [UInt8](UnsafeRawBufferPointer(rebasing: sealed[count...]))
            guard tag.withUnsafeMutableBytes({
                EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagBytes), $0.baseAddress)
            }) == 1 else { return false }
            if count > 0 { return EVP_DecryptFinal_ex(context, out! + written, &length) == 1 }
            return EVP_DecryptFinal_ex(context, &scratch, &length) == 1
        }
        if !ok, count > 0 { OPENSSL_cleanse(output.baseAddress, count) }
        return ok
    }

    /// Wipes `bytes` (key material that lived in an ordinary array).
    package static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
    }

    /// SHA-256, fed a piece at a time (an examiner's file hashes: no key involved).
    package final class SHA256 {
        private let context: OpaquePointer

        package init() throws {
            guard let context = EVP_MD_CTX_new() else { throw LineupError(.ioError, "OpenSSL could not allocate a digest") }
            guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
                EVP_MD_CTX_free(context)
                throw LineupError(.ioError, "SHA-256 could not start")
            }
            self.context = context
        }

        deinit { EVP_MD_CTX_free(context) }

        package func update(_ bytes: UnsafeRawBufferPointer) throws {
            guard bytes.isEmpty || EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1 else {
                throw LineupError(.ioError, "SHA-256 failed")
            }
        }

        /// The digest as 64 lowercase hexadecimal digits.
        package func finish() throws -> String {
            var digest = [UInt8](repeating: 0, count: 32)
            var length: UInt32 = 0
            guard EVP_DigestFinal_ex(context, &digest, &length) == 1, length == 32 else {
                throw LineupError(.ioError, "SHA-256 failed")
            }
            return digest.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        }

        package static func hex(of bytes: [UInt8]) throws -> String {
            let digest = try SHA256()
            try bytes.withUnsafeBytes { try digest.update($0) }
            return try digest.finish()
        }
    }
}
