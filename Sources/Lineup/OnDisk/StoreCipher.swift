import CCrypto
import Dispatch
import Foundation
import Synchronization

/// An encrypted store's keys and every sealing and opening of its blocks (FORMAT.md,
/// "Encryption").
///
/// **Keys.** A random 256-bit data key encrypts every block. It is stored only wrapped, in
/// `KEY`, under a key derived from the passphrase (PBKDF2-HMAC-SHA256, random salt), so a
/// rekey rewrites that one small file. The data key lives in locked memory and is wiped when
/// the store closes; the passphrase's key is wiped as soon as it has (un)wrapped it.
///
/// **Session keys and nonces.** Blocks are not sealed under the data key itself: each writer
/// session draws a random 96-bit salt and seals under HMAC-SHA256(data key, "LNUPSESS" ‖ salt),
/// storing the salt beside its blocks. Its nonces are the session's epoch (4 bytes) and a
/// counter (8 bytes): the writer raises the epoch in `KEY`, durably, before it seals
/// anything, and the counter only grows. So a (key, nonce) pair never repeats — not after a
/// crash (the epoch), and not when a copy of the store, or a restored backup, is written by
/// two sessions that read the same epoch (the salts differ). Readers never seal.
package final class StoreCipher: @unchecked Sendable {
    let storeID: RecordID
    private let dataKey: SecretBytes
    /// This session's epoch; nil for a reader.
    private let epoch: UInt32?
    private let counter = Atomic<UInt64>(0)
    /// A writer's session salt and key.
    private let session: (salt: [UInt8], key: SecretBytes)?
    /// Session keys derived for reading, by salt (a store holds blocks of few sessions).
    private let sessionKeys = Mutex<[[UInt8]: SecretBytes]>([:])

    private init(storeID: RecordID, dataKey: SecretBytes, epoch: UInt32?) throws {
        self.storeID = storeID
        self.dataKey = dataKey
        self.epoch = epoch
        if epoch != nil {
            let salt = try Crypto.randomBytes(Crypto.nonceBytes)
            session = (salt, try StoreCipher.sessionKey(dataKey, salt: salt))
        } else {
            session = nil
        }
    }

    private static func sessionKey(_ dataKey: SecretBytes, salt: [UInt8]) throws -> SecretBytes {
        try Crypto.hmacSHA256(key: dataKey, message: FormatConstants.sessionKeyLabel + salt)
    }

    /// The key of the session that used `salt`.
    private func key(forSalt salt: [UInt8]) throws -> SecretBytes {
        if let session, session.salt == salt { return session.key }
        return try sessionKeys.withLock { keys in
            if let key = keys[salt] { return key }
            if keys.count >= 64 { keys.removeAll() }
            let key = try StoreCipher.sessionKey(dataKey, salt: salt)
            keys[salt] = key
            return key
        }
    }

    // MARK: The key file

    /// Whether the store at `path` is encrypted (has a key file).
    static func isEncrypted(_ path: String, fileSystem: any FileSystem) -> Bool {
        fileSystem.fileType(path + "/" + FormatConstants.keyName) != nil
    }

    /// Writes a new store's key file: a fresh data key wrapped under `passphrase`, epoch 0.
    static func createKeyFile(in path: String, fileSystem: any FileSystem, storeID: RecordID, passphrase: String,
                              iterations: Int) throws {
        var dataKey = try Crypto.randomBytes(Crypto.keyBytes)
        defer { Crypto.wipe(&dataKey) }
        let secret = dataKey.withUnsafeBytes { SecretBytes(copying: $0) }
        let file = try wrap(secret, storeID: storeID, epoch: 0, passphrase: passphrase, iterations: iterations)
        try fileSystem.replaceFile(in: path, name: FormatConstants.keyName, temporaryName: FormatConstants.keyTemporaryName,
                                   bytes: file.encoded())
    }

    /// Opens the keys of the store at `path`: nil when it is not encrypted and no passphrase
    /// is given. A `writer` raises the epoch in the key file, durably, before returning.
    ///
    /// - Throws: `wrongEncryptionKey` without a passphrase for an encrypted store, with one for
    ///   a store that is not encrypted, or with a wrong one; `corruptStore` for a damaged key
    ///   file.
    static func open(_ path: String, fileSystem: any FileSystem, passphrase: String?, writer: Bool) throws -> StoreCipher? {
        guard isEncrypted(path, fileSystem: fileSystem) else {
            // Without a passphrase, reading the manifest reports an encrypted one (corruptStore);
            // with one, tell a missing key file from a store that is not encrypted.
            if passphrase != nil, let manifest = try? fileSystem.readWholeFile(path + "/" + FormatConstants.manifestName),
               manifest.withUnsafeBytes({ EnvelopeHeader.isEnvelope($0) }) {
                throw LineupError(.corruptStore, "the store is encrypted, and its key file is missing")
            }
            if passphrase != nil {
                throw LineupError(.wrongEncryptionKey, "the store at \(path) is not encrypted, and a key was given")
            }
            return nil
        }
        guard let passphrase else {
            throw LineupError(.wrongEncryptionKey, "the store at \(path) is encrypted; give its passphrase")
        }
        let bytes: [UInt8]
        do {
            bytes = try fileSystem.readWholeFile(path + "/" + FormatConstants.keyName)
        } catch let error as LineupError {
            throw LineupError(.corruptStore, "the key file is unreadable", cause: error)
        }
        var file = try KeyFile.decode(bytes)
        let wrappingKey = try Crypto.deriveKey(passphrase: passphrase, salt: file.salt, iterations: file.iterations)
        let dataKey = try unwrap(file, wrappingKey: wrappingKey)
        guard writer else { return try StoreCipher(storeID: file.storeID, dataKey: dataKey, epoch: nil) }
        guard file.epoch < UInt32.max else {
            throw LineupError(.readOnly, "the store has used every writer epoch; copy it into a new store")
        }
        // The same passphrase key and salt, a fresh random nonce: one derivation per open.
        file.epoch += 1
        try seal(dataKey, into: &file, wrappingKey: wrappingKey)
        try fileSystem.replaceFile(in: path, name: FormatConstants.keyName, temporaryName: FormatConstants.keyTemporaryName,
                                   bytes: file.encoded())
        return try StoreCipher(storeID: file.storeID, dataKey: dataKey, epoch: file.epoch)
    }

    /// A new random data key wrapped under `passphrase`, as the bytes of a key file (FORMAT.md
    /// §11.1; store ID zero): for backends that keep the wrapped key elsewhere (PostgreSQL).
    package static func newWrappedKey(passphrase: String, iterations: Int = KeyFile.defaultIterations) throws -> (file: [UInt8], key: SecretBytes) {
        var raw = try Crypto.randomBytes(Crypto.keyBytes)
        defer { Crypto.wipe(&raw) }
        let key = raw.withUnsafeBytes { SecretBytes(copying: $0) }
        let file = try wrap(key, storeID: RecordID(high: 0, low: 0), epoch: 0, passphrase: passphrase, iterations: iterations)
        return (file.encoded(), key)
    }

    /// The data key in key-file bytes made by ``newWrappedKey(passphrase:iterations:)``.
    ///
    /// - Throws: `wrongEncryptionKey` for a wrong passphrase; `corruptStore` for damage.
    package static func unwrapKey(_ bytes: [UInt8], passphrase: String) throws -> SecretBytes {
        let file = try KeyFile.decode(bytes)
        let wrappingKey = try Crypto.deriveKey(passphrase: passphrase, salt: file.salt, iterations: file.iterations)
        return try unwrap(file, wrappingKey: wrappingKey)
    }

    /// Wraps the data key under `newPassphrase` (new salt) and replaces the key file
    /// atomically: a crash leaves the old file or the new one. The epoch is kept.
    func rekey(in path: String, fileSystem: any FileSystem, newPassphrase: String, iterations: Int) throws {
        precondition(epoch != nil, "only the writer rekeys")
        // Writers opened since this one (shared mode) raised the epoch: it never goes back.
        let onDisk = (try? KeyFile.decode(fileSystem.readWholeFile(path + "/" + FormatConstants.keyName)))?.epoch ?? 0
        let file = try StoreCipher.wrap(dataKey, storeID: storeID, epoch: max(epoch!, onDisk), passphrase: newPassphrase,
                                        iterations: iterations)
        try fileSystem.replaceFile(in: path, name: FormatConstants.keyName, temporaryName: FormatConstants.keyTemporaryName,
                                   bytes: file.encoded())
    }

    /// A key file holding `dataKey` under a key derived from `passphrase` with a new salt.
    private static func wrap(_ dataKey: SecretBytes, storeID: RecordID, epoch: UInt32, passphrase: String,
                             iterations: Int) throws -> KeyFile {
        var file = KeyFile(iterations: iterations, salt: try Crypto.randomBytes(Crypto.saltBytes), storeID: storeID,
                           epoch: epoch, wrapNonce: [], wrappedKey: [])
        let wrappingKey = try Crypto.deriveKey(passphrase: passphrase, salt: file.salt, iterations: iterations)
        try seal(dataKey, into: &file, wrappingKey: wrappingKey)
        return file
    }

    /// Wraps `dataKey` into `file` under `wrappingKey`, with a fresh random nonce,
    /// authenticating the file's parameters, store ID and epoch.
    private static func seal(_ dataKey: SecretBytes, into file: inout KeyFile, wrappingKey: SecretBytes) throws {
        file.wrapNonce = try Crypto.randomBytes(Crypto.nonceBytes)
        var wrapped = [UInt8](repeating: 0, count: Crypto.keyBytes + Crypto.tagBytes)
        let aad = file.authenticatedPrefix
        try dataKey.withUnsafeBytes { key in
            try file.wrapNonce.withUnsafeBytes { nonce in
                try aad.withUnsafeBytes { aad in
                    try wrapped.withUnsafeMutableBytes { out in
                        try Crypto.seal(key: wrappingKey, nonce: nonce, aad: aad, plaintext: key, into: out)
                    }
                }
            }
        }
        file.wrappedKey = wrapped
    }

    private static func unwrap(_ file: KeyFile, wrappingKey: SecretBytes) throws -> SecretBytes {
        let dataKey = SecretBytes(count: Crypto.keyBytes)
        let aad = file.authenticatedPrefix
        let ok = file.wrapNonce.withUnsafeBytes { nonce in
            aad.withUnsafeBytes { aad in
                file.wrappedKey.withUnsafeBytes { sealed in
                    dataKey.withUnsafeMutableBytes { Crypto.open(key: wrappingKey, nonce: nonce, aad: aad, sealed: sealed, into: $0) }
                }
            }
        }
        guard ok else { throw LineupError(.wrongEncryptionKey, "the passphrase does not open this store") }
        return dataKey
    }

    /// The next nonce of this writer session.
    private func nextNonce() -> [UInt8] {
        guard let epoch else { preconditionFailure("a reader never seals") }
        var writer = ByteWriter(capacity: Crypto.nonceBytes)
        writer.u32(epoch)
        writer.u64(counter.add(1, ordering: .relaxed).oldValue)
        return writer.bytes
    }

    // MARK: Journal records

    /// The additional authenticated data of a journal record's payload (FORMAT.md,
    /// "Encrypted journal records").
    func journalAAD(_ record: JournalFormat.Record, journalNumber: UInt64, offset: Int, length: Int) -> [UInt8] {
        var writer = ByteWriter(capacity: FormatConstants.journalRecordAADSize)
        writer.raw(FormatConstants.journalRecordAADLabel)
        writer.recordID(storeID)
        writer.u64(journalNumber)
        writer.u64(UInt64(offset))
        writer.u64(record.sequence)
        writer.u32(record.collectionID)
        writer.u8(record.type.rawValue)
        writer.u8((record.isCommit ? 1 : 0) | (record.isFirst ? 2 : 0))
        writer.u16(0)
        writer.u32(UInt32(length))
        return writer.bytes
    }

    /// Bytes a sealed journal payload adds: session salt, nonce, tag.
    static let journalOverhead = Crypto.nonceBytes + Crypto.nonceBytes + Crypto.tagBytes

    /// `record` with its payload sealed: session salt, nonce, ciphertext, tag. `offset` is
    /// where the record will start in journal `journalNumber`.
    func sealJournalRecord(_ record: JournalFormat.Record, journalNumber: UInt64, offset: Int) throws -> JournalFormat.Record {
        guard let session else { preconditionFailure("a reader never seals") }
        let nonce = nextNonce()
        let aad = journalAAD(record, journalNumber: journalNumber, offset: offset, length: record.payload.count)
        let header = session.salt.count + nonce.count
        var sealed = [UInt8](repeating: 0, count: header + record.payload.count + Crypto.tagBytes)
        sealed.replaceSubrange(0..<header, with: session.salt + nonce)
        try sealed.withUnsafeMutableBytes { out in
            try nonce.withUnsafeBytes { nonce in
                try aad.withUnsafeBytes { aad in
                    try record.payload.withUnsafeBytes { plaintext in
                        try Crypto.seal(key: session.key, nonce: nonce, aad: aad, plaintext: plaintext,
                                        into: UnsafeMutableRawBufferPointer(rebasing: out[header...]))
                    }
                }
            }
        }
        var result = record
        result.payload = sealed
        return result
    }

    /// The plaintext payload of a record read back from `offset` of journal `journalNumber`.
    ///
    /// - Throws: `corruptStore` when it does not authenticate.
    func openJournalRecord(_ record: JournalFormat.Record, journalNumber: UInt64, offset: Int) throws -> [UInt8] {
        let damaged = LineupError(.corruptStore, "journal record \(record.sequence) fails its authentication")
        guard record.payload.count >= StoreCipher.journalOverhead else { throw damaged }
        let length = record.payload.count - StoreCipher.journalOverhead
        let aad = journalAAD(record, journalNumber: journalNumber, offset: offset, length: length)
        let key = try key(forSalt: Array(record.payload[0..<Crypto.nonceBytes]))
        var plaintext = [UInt8](repeating: 0, count: length)
        let header = 2 * Crypto.nonceBytes
        let ok = record.payload.withUnsafeBytes { sealed in
            aad.withUnsafeBytes { aad in
                plaintext.withUnsafeMutableBytes {
                    Crypto.open(key: key, nonce: UnsafeRawBufferPointer(rebasing: sealed[Crypto.nonceBytes..<header]), aad: aad,
                                sealed: UnsafeRawBufferPointer(rebasing: sealed[header...]), into: $0)
                }
            }
        }
        guard ok else { throw damaged }
        return plaintext
    }

    // MARK: Envelopes

    /// A writer of one enveloped file; see ``EnvelopeWriter``. With `retaining`, it also keeps
    /// the plaintext (at most that many bytes) in locked memory, for ``EnvelopeWriter/retained()``.
    func envelopeWriter(kind: EnvelopeHeader.Kind, number: UInt64, retaining capacity: Int? = nil,
                        output: @escaping (UnsafeRawBufferPointer, Int) throws -> Void) throws -> EnvelopeWriter {
        EnvelopeWriter(cipher: self, kind: kind, number: number, output: output,
                       retained: try capacity.map { try SecureRegion(count: $0, reserveOnly: true) })
    }

    /// `plaintext` as a whole enveloped file.
    func sealFile(kind: EnvelopeHeader.Kind, number: UInt64, plaintext: [UInt8]) throws -> [UInt8] {
        var file: [UInt8] = []
        let writer = try envelopeWriter(kind: kind, number: number) { bytes, offset in
            if file.count < offset + bytes.count { file += [UInt8](repeating: 0, count: offset + bytes.count - file.count) }
            file.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[offset..<(offset + bytes.count)]).copyMemory(from: bytes) }
        }
        try plaintext.withUnsafeBytes { try writer.write($0, at: 0) }
        _ = try writer.finish()
        return file
    }

    /// The session salt envelopes written by this writer carry.
    fileprivate var sessionSalt: [UInt8] {
        guard let session else { preconditionFailure("a reader never seals") }
        return session.salt
    }

    fileprivate func sealChunk(_ header: EnvelopeHeader, index: Int, last: Bool, plaintext: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard let session else { preconditionFailure("a reader never seals") }
        let nonce = nextNonce()
        let aad = header.chunkAAD(index, last: last)
        var out = [UInt8](repeating: 0, count: plaintext.count + EnvelopeHeader.overhead)
        out.replaceSubrange(0..<Crypto.nonceBytes, with: nonce)
        try out.withUnsafeMutableBytes { out in
            try nonce.withUnsafeBytes { nonce in
                try aad.withUnsafeBytes { aad in
                    try Crypto.seal(key: session.key, nonce: nonce, aad: aad, plaintext: plaintext,
                                    into: UnsafeMutableRawBufferPointer(rebasing: out[Crypto.nonceBytes...]))
                }
            }
        }
        return out
    }

    /// Checks and decrypts a whole enveloped file of `size` bytes, read through `read`
    /// (`pread`-like: fill the buffer from the offset, return the bytes read), into fresh
    /// memory that is locked where permitted, kept out of core dumps, read-only once filled,
    /// and wiped when released. Each chunk is read into private memory before its tag is
    /// checked and it is decrypted — never decrypted from a shared mapping another process
    /// could change in between. Chunks are opened on every core.
    ///
    /// - Throws: `corruptStore` when the header is damaged, names another kind, number or
    ///   store, the size does not match, or any chunk fails its tag (no plaintext is returned).
    func openFile(size: Int, read: @Sendable (UnsafeMutableRawBufferPointer, Int) throws -> Int,
                  kind: EnvelopeHeader.Kind, number: UInt64?, name: String) throws -> (EnvelopeHeader, MappedRegion) {
        var headerBytes = [UInt8](repeating: 0, count: EnvelopeHeader.size)
        let got = try headerBytes.withUnsafeMutableBytes { try read($0, 0) }
        guard got == EnvelopeHeader.size else { throw LineupError(.corruptStore, "\(name) is too short for its header") }
        let header = try headerBytes.withUnsafeBytes { try EnvelopeHeader.decode($0) }
        guard header.kind == kind, number.map({ $0 == header.number }) ?? true, header.storeID == storeID else {
            throw LineupError(.corruptStore, "\(name) belongs to another file or store")
        }
        guard size == header.fileSize else {
            throw LineupError(.corruptStore, "\(name) has \(size) bytes; its header says \(header.fileSize)")
        }
        let key = try key(forSalt: header.sessionSalt)
        let region = try SecureRegion(count: header.plaintextLength)
        let failed = Atomic<Int>(0)   // 1 damaged, 2 unreadable
        DispatchQueue.concurrentPerform(iterations: header.chunkCount) { index in
            let chunk = header.chunk(index)
            let aad = header.chunkAAD(index, last: index == header.chunkCount - 1)
            var sealed = [UInt8](repeating: 0, count: chunk.length + EnvelopeHeader.overhead)
            let ok: Bool = sealed.withUnsafeMutableBytes { sealed in
                guard (try? read(sealed, chunk.fileOffset)) == sealed.count else {
                    failed.store(2, ordering: .relaxed)
                    return true
                }
                return aad.withUnsafeBytes { aad in
                    Crypto.open(key: key, nonce: UnsafeRawBufferPointer(rebasing: sealed[0..<Crypto.nonceBytes]), aad: aad,
                                sealed: UnsafeRawBufferPointer(rebasing: sealed[Crypto.nonceBytes...]),
                                into: UnsafeMutableRawBufferPointer(rebasing: region.writable[chunk.plaintextOffset..<(chunk.plaintextOffset + chunk.length)]))
                }
            }
            if !ok { failed.store(1, ordering: .relaxed) }
        }
        switch failed.load(ordering: .relaxed) {
        case 1: throw LineupError(.corruptStore, "\(name) fails its authentication")
        case 2: throw LineupError(.corruptStore, "\(name) could not be read whole")
        default: return (header, region.sealed())
        }
    }

    /// ``openFile(size:read:kind:number:name:)`` of bytes already in memory.
    func openFile(_ bytes: [UInt8], kind: EnvelopeHeader.Kind, number: UInt64?, name: String) throws -> (EnvelopeHeader, MappedRegion) {
        try openFile(size: bytes.count, read: { buffer, offset in
            let count = min(buffer.count, max(0, bytes.count - offset))
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count)])) }
            return count
        }, kind: kind, number: number, name: name)
    }
}

/// Writes one enveloped file from plaintext handed over at increasing offsets, chunk by chunk,
/// with one exception: bytes of the first chunk may be written at any time (a segment writes
/// its header last), since the first chunk is sealed only by ``finish()``.
final class EnvelopeWriter {
    private let cipher: StoreCipher
    private let kind: EnvelopeHeader.Kind
    private let number: UInt64
    private let chunkSize = EnvelopeHeader.defaultChunkSize
    private let output: (UnsafeRawBufferPointer, Int) throws -> Void
    private var first: [UInt8]
    private var current: [UInt8]
    private var currentIndex = 1
    private var length = 0
    private let retainedPlaintext: SecureRegion?

    fileprivate init(cipher: StoreCipher, kind: EnvelopeHeader.Kind, number: UInt64,
                     output: @escaping (UnsafeRawBufferPointer, Int) throws -> Void, retained: SecureRegion?) {
        self.cipher = cipher
        self.kind = kind
        self.number = number
        self.output = output
        self.retainedPlaintext = retained
        first = [UInt8](repeating: 0, count: chunkSize)
        current = [UInt8](repeating: 0, count: chunkSize)
    }

    /// The header for `length` bytes of plaintext.
    private func header(length: Int) -> EnvelopeHeader {
        EnvelopeHeader(kind: kind, chunkSize: chunkSize, number: number, storeID: cipher.storeID, plaintextLength: length,
                       sessionSalt: cipher.sessionSalt)
    }

    deinit {
        // Plaintext waiting in the buffers of a write that did not finish.
        OPENSSL_cleanse(&first, first.count)
        OPENSSL_cleanse(&current, current.count)
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        if let retainedPlaintext, !bytes.isEmpty {
            precondition(offset + bytes.count <= retainedPlaintext.count, "more plaintext than the writer retains")
            UnsafeMutableRawBufferPointer(rebasing: retainedPlaintext.writable[offset..<(offset + bytes.count)]).copyMemory(from: bytes)
        }
        var position = offset
        var source = 0
        while source < bytes.count {
            let index = position / chunkSize
            let within = position % chunkSize
            let take = min(bytes.count - source, chunkSize - within)
            let piece = UnsafeRawBufferPointer(rebasing: bytes[source..<(source + take)])
            if index == 0 {
                first.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[within..<(within + take)]).copyMemory(from: piece) }
            } else {
                precondition(index >= currentIndex, "an envelope is written front to back")
                while index > currentIndex {
                    // A later chunk is being written, so this one is whole and not the last.
                    try emit(index: currentIndex, bytes: current, count: chunkSize, last: false)
                    current.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
                    currentIndex += 1
                }
                current.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[within..<(within + take)]).copyMemory(from: piece) }
            }
            position += take
            source += take
            length = max(length, position)
        }
    }

    private func emit(index: Int, bytes: [UInt8], count: Int, last: Bool) throws {
        // The length is not known yet, and the chunk's tag does not depend on it.
        let partial = header(length: index * chunkSize + count)
        let sealed = try bytes.withUnsafeBytes {
            try cipher.sealChunk(partial, index: index, last: last, plaintext: UnsafeRawBufferPointer(rebasing: $0[0..<count]))
        }
        try sealed.withUnsafeBytes { try output($0, partial.chunk(index).fileOffset) }
    }

    /// Seals the last chunks and writes the header; returns the file's size.
    func finish() throws -> Int {
        precondition(length > 0)
        let final = header(length: length)
        let last = final.chunkCount - 1
        if last >= 1 {
            precondition(currentIndex == last)
            try emit(index: last, bytes: current, count: length - last * chunkSize, last: true)
        }
        try emit(index: 0, bytes: first, count: min(length, chunkSize), last: last == 0)
        try final.encoded().withUnsafeBytes { try output($0, 0) }
        return final.fileSize
    }

    /// After ``finish()``: the plaintext written, kept in locked, read-only memory (when the
    /// writer was made retaining it).
    func retained() -> MappedRegion? {
        retainedPlaintext?.sealed(length: length)
    }
}

/// Anonymous memory for decrypted data: locked where permitted, excluded from core dumps,
/// made read-only once filled, wiped and unmapped when the last reference goes.
private final class SecureRegion: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    private(set) var count: Int
    private var mapped: Int
    private var locked: Bool
    /// Set once ``sealed(length:)`` handed the memory to a region that releases it.
    private var handedOver = false
    private static let page = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// `count` bytes, locked now; or, `reserveOnly`, address space for up to `count` bytes
    /// whose pages exist only once written, locked when sealed.
    init(count: Int, reserveOnly: Bool = false) throws {
        self.count = count
        mapped = max(SecureRegion.page, (count + SecureRegion.page - 1) / SecureRegion.page * SecureRegion.page)
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | (reserveOnly ? MAP_NORESERVE : 0)
        guard let address = mmap(nil, mapped, PROT_READ | PROT_WRITE, flags, -1, 0), address != MAP_FAILED else {
            throw LineupError(.ioError, "cannot allocate \(count) bytes for plaintext", errno: errno)
        }
        base = address
        #if os(Linux)
        _ = madvise(address, mapped, MADV_DONTDUMP)
        #endif
        locked = !reserveOnly && mlock(address, mapped) == 0
    }

    var writable: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: base, count: count) }

    /// A read-only region over the same memory; it wipes and frees it when released.
    deinit {
        guard !handedOver else { return }
        // A file that failed its tags: wipe what the good chunks decrypted, and free it.
        OPENSSL_cleanse(base, mapped)
        _ = munlock(base, mapped)
        _ = munmap(base, mapped)
    }

    /// The first `length` bytes (all when nil) as a read-only region that wipes and frees
    /// the memory when released; pages past them are returned now.
    func sealed(length: Int? = nil) -> MappedRegion {
        handedOver = true
        if let length {
            let keep = max(SecureRegion.page, (length + SecureRegion.page - 1) / SecureRegion.page * SecureRegion.page)
            if keep < mapped {
                _ = munmap(base + keep, mapped - keep)
                mapped = keep
            }
            count = length
        }
        if !locked { locked = mlock(base, mapped) == 0 }
        _ = mprotect(base, mapped, PROT_READ)
        let mapped = mapped
        return MappedRegion(base: UnsafeRawPointer(base), count: count) { base, _ in
            let pointer = UnsafeMutableRawPointer(mutating: base)
            _ = mprotect(pointer, mapped, PROT_READ | PROT_WRITE)
            OPENSSL_cleanse(pointer, mapped)
            _ = munlock(pointer, mapped)
            _ = munmap(pointer, mapped)
        }
    }
}
