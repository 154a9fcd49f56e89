#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A small, valid store built when a target starts: its files' bytes and a model of what it
/// holds, against which a target checks what an open of a damaged copy returns.
struct StoreImage {
    struct Record {
        var identity: String
        /// The enrolled vector, L2-normalised.
        var vector: [Float]
    }

    struct CollectionModel {
        var compression: VectorCompression
        /// Every Faceprint ever enrolled, removed ones included: a store cut back to an earlier
        /// state may hold any of them, and nothing else.
        var records: [RecordID: Record] = [:]
        var order: [RecordID] = []
    }

    var files: [String: [UInt8]]
    var passphrase: String?
    var collections: [String: CollectionModel]
}

enum Fixtures {
    static let passphrase = "fuzzing passphrase"
    /// Low, so that every open of an encrypted image costs little (the format allows ≥ 1).
    static let iterations = 1000
    static let dimension = 16

    /// This process's scratch directory, removed at exit.
    static let scratch: String = {
        let path = NSTemporaryDirectory() + "/lineup-fuzz-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Fixtures.scratch) }
        return path
    }()

    /// A deterministic vector of ``dimension`` components in about [-1, 1] for `seed`.
    static func vector(_ seed: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<dimension).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Float(Int64(bitPattern: state % 2001) - 1000) / 1000 + 0.01
        }
    }

    nonisolated(unsafe) private static var built: [Bool: StoreImage] = [:]

    /// The plaintext or the encrypted image, built on first use (the directory it was built
    /// in stays, as ``directory(encrypted:)``).
    static func image(encrypted: Bool) throws -> StoreImage {
        if let image = built[encrypted] { return image }
        let image = try build(in: directory(encrypted: encrypted), encrypted: encrypted)
        built[encrypted] = image
        return image
    }

    static func directory(encrypted: Bool) -> String {
        scratch + (encrypted ? "/encrypted-image" : "/plain-image")
    }

    /// Three collections (float32, fp16, int8), each with a segment holding removed rows and a
    /// journal tail of enrollments and removals, so an open reads every kind of file and record.
    private static func build(in path: String, encrypted: Bool) throws -> StoreImage {
        try? FileManager.default.removeItem(atPath: path)
        let store = try Store(path: path, passphrase: encrypted ? passphrase : nil, kdfIterations: iterations)
        var models: [String: StoreImage.CollectionModel] = [:]
        var handles: [String: FileCollection] = [:]
        let plan: [(String, VectorCompression, Int, Int)] = [("alpha", .none, 300, 5), ("beta", .fp16, 40, 3), ("gamma", .int8, 20, 2)]
        var seed: UInt64 = 1
        func enroll(_ name: String, count: Int, prefix: String) throws -> [RecordID] {
            var model = models[name]!
            let raws = (0..<count).map { _ -> [Float] in
                seed += 1
                return vector(seed)
            }
            let batch = raws.enumerated().map { index, raw in
                PreparedEnrollment(Faceprint(featureVector: raw), identity: "\(prefix)-\(index / 3)",
                                   compression: model.compression)
            }
            for (entry, raw) in zip(batch, raws) {
                model.records[entry.id] = .init(identity: entry.identity, vector: VectorEncoder.normalized(raw))
                model.order.append(entry.id)
            }
            models[name] = model
            try handles[name]!.enroll(batch)
            return batch.map(\.id)
        }
        var bulk: [String: [RecordID]] = [:]
        for (name, compression, rows, _) in plan {
            try store.createCollection(name, settings: CollectionSettings(modelName: "TFV5_2", compression: compression))
            handles[name] = FileCollection(store: store, state: try store.collection(name))
            models[name] = .init(compression: compression)
            bulk[name] = try enroll(name, count: rows, prefix: "\(name)-person")
            try handles[name]!.remove(id: bulk[name]![1])
            try handles[name]!.remove(id: bulk[name]![rows - 2])
        }
        try store.checkpointNow()
        for (name, _, _, singles) in plan {
            var tail: [RecordID] = []
            for index in 0..<singles { tail += try enroll(name, count: 1, prefix: "\(name)-late\(index)") }
            try handles[name]!.remove(id: bulk[name]![4])
            try handles[name]!.remove(id: tail[0])
        }
        store.close()
        var files: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            files[name] = try readFile(path + "/" + name)
        }
        return StoreImage(files: files, passphrase: encrypted ? passphrase : nil, collections: models)
    }

    /// The file's bytes, read with POSIX calls (Foundation's `Data(contentsOf:)` leaks a
    /// buffer for an empty file, which LeakSanitizer would report on every run).
    static func readFile(_ path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw LineupError(.ioError, "cannot read \(path)") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            guard got >= 0 else { throw LineupError(.ioError, "cannot read \(path)") }
            if got == 0 { return bytes }
            bytes += buffer[0..<got]
        }
    }

    static func writeFile(_ bytes: [UInt8], _ path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(descriptor >= 0, "cannot write \(path)")
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + done, buffer.count - done)
                precondition(written > 0, "cannot write \(path)")
                done += written
            }
        }
        close(descriptor)
    }

    /// Replaces the files of `path` with `files`.
    static func install(_ files: [String: [UInt8]], in path: String) {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] where files[name] == nil {
            unlink(path + "/" + name)
        }
        for (name, bytes) in files { writeFile(bytes, path + "/" + name) }
    }

    /// The image's file of a kind (journal, segment of a collection…), by name prefix.
    static func files(_ image: StoreImage, prefix: String) -> [(String, [UInt8])] {
        image.files.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        var dot: Float = 0
        for index in a.indices { dot += a[index] * b[index] }
        return dot
    }
}

/// Recomputes the checksums of plaintext files, so that mutated bytes get past them and reach
/// the decoders' structural checks (which the checksums would otherwise shield from a fuzzer).
enum ChecksumRepair {
    static func setU32(_ bytes: inout [UInt8], _ value: UInt32, at offset: Int) {
        guard offset >= 0, offset + 4 <= bytes.count else { return }
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
    }

    static func u64(_ bytes: [UInt8], at offset: Int) -> UInt64? {
        guard offset >= 0, offset + 8 <= bytes.count else { return nil }
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
    }

    static func u32(_ bytes: [UInt8], at offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= bytes.count else { return nil }
        return bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    }

    static func crc(_ bytes: [UInt8], _ range: Range<Int>) -> UInt32 {
        Checksum.crc32c(bytes[range])
    }

    /// The manifest's trailing CRC.
    static func manifest(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        guard bytes.count >= 12 else { return bytes }
        setU32(&bytes, crc(bytes, 0..<(bytes.count - 4)), at: bytes.count - 4)
        return bytes
    }

    /// The journal header's CRC and every record's, following the records' lengths.
    static func journal(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        let headerSize = FormatConstants.journalHeaderSize
        guard bytes.count >= headerSize else { return bytes }
        setU32(&bytes, crc(bytes, 0..<60), at: 60)
        var offset = headerSize
        while offset + FormatConstants.recordHeaderSize <= bytes.count {
            let length = Int(u32(bytes, at: offset + 4)!)
            let end = offset + FormatConstants.recordHeaderSize + length
            guard length <= FormatConstants.maximumRecordPayload, end <= bytes.count else { break }
            setU32(&bytes, crc(bytes, (offset + 4)..<end), at: offset)
            offset = (end + FormatConstants.recordAlignment - 1) / FormatConstants.recordAlignment * FormatConstants.recordAlignment
        }
        return bytes
    }

    /// A segment's vector checksums, section checksums and header checksum, where the header's
    /// section table points inside the file.
    static func segment(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        let headerSize = FormatConstants.segmentHeaderSize
        guard bytes.count >= headerSize else { return bytes }
        func section(_ index: Int) -> Range<Int>? {
            guard let offset = u64(bytes, at: 64 + index * 24), let length = u64(bytes, at: 72 + index * 24),
                  offset <= UInt64(bytes.count), length <= UInt64(bytes.count) - offset else { return nil }
            return Int(offset)..<Int(offset + length)
        }
        let sections = SegmentHeader.Section.allCases
        if let vectors = section(SegmentHeader.Section.vectors.rawValue),
           let table = section(SegmentHeader.Section.vectorChecksums.rawValue) {
            let block = FormatConstants.vectorChecksumBlock
            var start = vectors.lowerBound, index = 0
            while start < vectors.upperBound, table.lowerBound + index * 4 + 4 <= table.upperBound {
                let end = min(start + block, vectors.upperBound)
                setU32(&bytes, crc(bytes, start..<end), at: table.lowerBound + index * 4)
                start = end
                index += 1
            }
        }
        for kind in sections where kind != .vectors {
            if let range = section(kind.rawValue) { setU32(&bytes, crc(bytes, range), at: 64 + kind.rawValue * 24 + 16) }
        }
        setU32(&bytes, crc(bytes, 0..<(headerSize - 4)), at: headerSize - 4)
        return bytes
    }
}
