#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import Foundation
import Lineup

/// `lineup export`: the live Faceprints of a collection, in enrollment order, in the forms
/// `import` and `enroll` read back.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a collection's live Faceprints, in enrollment order, as import or enroll reads them.",
        discussion: """
            With --vectors and --identities: a float32 .npy array of shape (N, D) — the vectors as \
            stored, fp16 and int8 decoded to float32 — and a text file of N identities, one a line \
            (--uuids adds their UUIDs, one a line). With --json-lines FILE (- for standard output): one \
            line {"identity", "feature_vector", "model_name", "uuid"} a Faceprint, which lineup enroll \
            reads back. Output is streamed (memory stays bounded whatever the gallery's size) and each \
            file appears only once complete. Identities holding a line break need --json-lines.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Option(help: "Write the vectors to this .npy file.") var vectors: String?
    @Option(help: "Write the identities to this text file, one a line.") var identities: String?
    @Option(help: "Also write the UUIDs to this text file, one a line.") var uuids: String?
    @Option(name: .customLong("json-lines"), help: "Write JSON lines to this file instead (- for standard output).")
    var jsonLines: String?

    func validate() throws {
        if jsonLines != nil {
            guard vectors == nil, identities == nil, uuids == nil else {
                throw ValidationError("--json-lines cannot be combined with --vectors, --identities or --uuids")
            }
        } else {
            guard vectors != nil, identities != nil else {
                throw ValidationError("give --vectors and --identities, or --json-lines")
            }
        }
        let paths = [vectors, identities, uuids].compactMap { $0 }
        guard Set(paths).count == paths.count else { throw ValidationError("the output files must differ") }
    }

    func run() throws {
        try reportingErrors {
            let sdk = try storeOptions.connect(readOnly: true)
            try sdk.loadCollection(collection)
            let export = try sdk.export(collectionName: collection)
            let progress = ExportProgress(total: export.count)
            if let jsonLines {
                try writeJSONLines(export, to: jsonLines, progress: progress)
            } else {
                try writeArrays(export, progress: progress)
            }
            progress.finish()
            if jsonLines != "-" { try emit("\(export.count)") }
        }
    }

    private func writeArrays(_ export: FaceprintExport, progress: ExportProgress) throws {
        let vectorFile = try OutputFile(vectors!)
        let identityFile = try OutputFile(identities!)
        let uuidFile = try uuids.map { try OutputFile($0) }
        try vectorFile.write(Self.npyHeader(rows: export.count, columns: export.dimension))
        var written = 0
        try export.forEach { uuid, identity, vector in
            guard !identity.utf8.contains(0x0A), !identity.utf8.contains(0x0D) else {
                throw LineupError(.invalidArgument,
                                  "the identity of \(uuid) holds a line break, which a text file of identities cannot: use --json-lines")
            }
            try vectorFile.write(UnsafeRawBufferPointer(vector))
            try identityFile.write(identity + "\n")
            try uuidFile?.write(uuid + "\n")
            written += 1
            progress.advance(written)
        }
        guard written == export.count else { throw LineupError(.corruptStore, "the collection changed while being exported") }
        try vectorFile.commit()
        try identityFile.commit()
        try uuidFile?.commit()
    }

    private func writeJSONLines(_ export: FaceprintExport, to path: String, progress: ExportProgress) throws {
        let file = path == "-" ? nil : try OutputFile(path)
        var written = 0
        var line = ""
        try export.forEach { uuid, identity, vector in
            line.removeAll(keepingCapacity: true)
            JSONOutput.members(["identity": .string(identity),
                                "feature_vector": .floats(Array(vector)),
                                "model_name": .string(export.modelName),
                                "uuid": .string(uuid)]).write(to: &line)
            line += "\n"
            if let file { try file.write(line) } else { try StandardOutput.write(line) }
            written += 1
            progress.advance(written)
        }
        try file?.commit()
    }

    /// A `.npy` (format 1.0) header for a little-endian float32 C-order array.
    static func npyHeader(rows: Int, columns: Int) -> [UInt8] {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes += [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        return bytes + Array(header.utf8)
    }
}

/// Progress on standard error when it is a terminal, never on standard output.
final class ExportProgress {
    private let total: Int
    private let shown = isatty(2) == 1
    private var last = ContinuousClock.now

    init(total: Int) { self.total = total }

    func advance(_ done: Int) {
        guard shown, done & 0xFFF == 0 else { return }
        let now = ContinuousClock.now
        guard now - last > .milliseconds(200) else { return }
        last = now
        StandardError.write("\rexported \(done)/\(total)")
    }

    func finish() {
        if shown { StandardError.write("\rexported \(total)/\(total)\n") }
    }
}

/// An output file written through a buffer and published by rename once complete, so a
/// failed or interrupted command never leaves a partial file under the name asked for.
final class OutputFile {
    private let path: String
    private let partial: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private static let bufferSize = 1 << 20

    init(_ path: String) throws {
        self.path = path
        self.partial = path + ".partial-\(getpid())"
        descriptor = Glibc.open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.failure("cannot create", partial) }
        buffer.reserveCapacity(Self.bufferSize)
    }

    deinit {
        if descriptor >= 0 {
            _ = Glibc.close(descriptor)
            _ = unlink(partial)
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.bufferSize { try flush() }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    private func flush() throws {
        try buffer.withUnsafeBytes { bytes in
            var done = 0
            while done < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw Self.failure("cannot write", partial)
                }
                done += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered, makes the file durable and gives it its name.
    func commit() throws {
        try flush()
        guard fsync(descriptor) == 0 else { throw Self.failure("cannot sync", partial) }
        _ = Glibc.close(descriptor)
        descriptor = -1
        guard rename(partial, path) == 0 else {
            let error = Self.failure("cannot rename to", path)
            _ = unlink(partial)
            throw error
        }
    }

    private static func failure(_ what: String, _ path: String) -> LineupError {
        LineupError(.ioError, "\(what) \(path): \(String(cString: strerror(errno)))", errno: errno)
    }
}
