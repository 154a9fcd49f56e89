/// The examiner's report (`lineup verify STORE --json`): what a verification checked and
/// found, every file's size and SHA-256, and one digest over all of it that an examiner can
/// write in a report.
///
/// Computing the digest: the report prints as `{"report":R,"digest":"H"}` on one line, where
/// R is the report object exactly as printed (keys sorted, no whitespace, UTF-8) and H is the
/// SHA-256 of R's bytes in lowercase hex. To check it, hash the bytes between `{"report":` and
/// `,"digest":` — for example
/// `python3 -c 'import sys,hashlib;t=open(sys.argv[1],"rb").read().strip();print(hashlib.sha256(t[10:t.rindex(b",\"digest\":")]).hexdigest())' report.json`.
public struct ExaminationReport: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        public var name: String
        public var size: Int
        /// Lowercase hex; nil when the file could not be read (the reason is in `problems`).
        public var sha256: String?
    }

    /// The format version this build of Lineup reads and writes.
    public var formatVersion: Int
    public var intact: Bool
    public var problems: [String]
    public var notes: [String]
    public var files: [File]
    public var store: StoreInspector.Facts

    enum CodingKeys: String, CodingKey {
        case intact, problems, notes, files, store
        case formatVersion = "format_version"
    }

    /// The report object as printed, and its digest.
    public func canonical() throws -> (json: String, digest: String) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = [UInt8](try encoder.encode(self))
        return (String(decoding: bytes, as: UTF8.self), try Crypto.SHA256.hex(of: bytes))
    }

    /// The line `lineup verify --json` prints: `{"report":…,"digest":"…"}`.
    public func printed() throws -> String {
        let (json, digest) = try canonical()
        return "{\"report\":\(json),\"digest\":\"\(digest)\"}"
    }
}

import Foundation

extension StoreInspector {
    /// Verifies the store at `path` (``verify(path:passphrase:)``) and hashes every file in
    /// its directory, writing nothing: the examiner's report. A path that holds no store
    /// gives its `storeError` in the verification instead (see ``Report/storeError``).
    public static func examine(path: String, passphrase: String? = nil) -> (report: Report, examination: ExaminationReport?) {
        examine(path: path, passphrase: passphrase, fileSystem: PosixFileSystem.shared)
    }

    static func examine(path: String, passphrase: String?, fileSystem: any FileSystem) -> (report: Report, examination: ExaminationReport?) {
        let report = verify(path: path, passphrase: passphrase, fileSystem: fileSystem)
        guard report.storeError == nil else { return (report, nil) }
        var problems = report.problems
        var files: [ExaminationReport.File] = []
        let names = ((try? fileSystem.listDirectory(path)) ?? []).sorted { ExactText($0) < ExactText($1) }
        for name in names {
            let filePath = path + "/" + name
            guard fileSystem.fileType(filePath) == .regular else {
                files.append(.init(name: name, size: 0, sha256: nil))
                continue
            }
            do {
                let (size, digest) = try hash(filePath, fileSystem: fileSystem)
                files.append(.init(name: name, size: size, sha256: digest))
            } catch let error as LineupError {
                files.append(.init(name: name, size: 0, sha256: nil))
                problems.append("\(name): cannot be read to hash it: \(error.message)")
            } catch {
                files.append(.init(name: name, size: 0, sha256: nil))
            }
        }
        // No path, time or host in it: the same evidence gives the same digest wherever it is examined.
        let examination = ExaminationReport(formatVersion: Int(FormatConstants.formatVersion),
                                            intact: problems.isEmpty, problems: problems, notes: report.notes,
                                            files: files, store: report.facts)
        return (report, examination)
    }

    /// A file's size and SHA-256, read a MiB at a time through a read-only descriptor.
    private static func hash(_ path: String, fileSystem: any FileSystem) throws -> (Int, String) {
        let descriptor = try fileSystem.open(path, writable: false, create: false, exclusive: false)
        defer { fileSystem.close(descriptor) }
        let digest = try Crypto.SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset = 0
        while true {
            let got = try buffer.withUnsafeMutableBytes { try fileSystem.read(descriptor, into: $0, at: offset) }
            if got == 0 { break }
            try buffer.withUnsafeBytes { try digest.update(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
            offset += got
            if got < buffer.count { break }
        }
        return (offset, try digest.finish())
    }
}
