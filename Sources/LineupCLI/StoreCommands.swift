import ArgumentParser
import Foundation
import Lineup
#if PostgreSQL
import LineupPostgreSQL
#endif

// The store commands (README, "Command-line tool"), on an on-disk store (`.file`).

/// Options every command that opens a store shares.
struct StoreOptions: ParsableArguments {
    @Argument(help: "The store's path (a directory).")
    var store: String

    @Option(name: .customLong("passphrase-file"), help: "A file holding the store's passphrase.")
    var passphraseFile: String?

    @Flag(name: .customLong("shared"),
          help: "Shared mode: several processes write the store, and each receives the others' changes on its own.")
    var shared = false

    @Flag(name: .customLong("postgresql"),
          help: "STORE is a libpq conninfo string (host=… port=… dbname=… user=…): the collections live on a PostgreSQL server, and each process receives the others' changes on its own. Needs a build with the trait PostgreSQL.")
    var postgresql = false

    @Option(name: .customLong("check-interval"),
            help: "Seconds between change checks in shared mode, 0.001…31,536,000 (default: DB_NOTIFICATION_CHECK_FREQUENCY, else 30).")
    var checkInterval: Double?

    /// The passphrase from `--passphrase-file` (its first line), else `LINEUP_PASSPHRASE`;
    /// nil when neither is given.
    func passphrase() throws -> String? {
        if let passphraseFile { return try readPassphrase(passphraseFile) }
        if let value = ProcessInfo.processInfo.environment["LINEUP_PASSPHRASE"] {
            guard !value.isEmpty else { throw LineupError(.invalidArgument, "LINEUP_PASSPHRASE is empty") }
            return value
        }
        return nil
    }

    /// An SDK connected to the store, with `configure` applied to its options first.
    func connect(readOnly: Bool = false, configure: (inout ConfigurationOptions) -> Void = { _ in }) throws -> SDK {
        var options = ConfigurationOptions()
        options.dbms = postgresql ? .postgresql : shared ? .shared : .file
        #if PostgreSQL
        if postgresql { LineupPostgreSQL.enable() }
        #endif
        options.readOnly = readOnly
        options.notificationCheckInterval = checkInterval
        options.encryptionKey = try passphrase()
        configure(&options)
        let sdk = SDK(options: options)
        try sdk.createDatabaseConnection(store)
        return sdk
    }
}

/// A passphrase file's contents: one line of UTF-8, its line ending (`\n` or `\r\n`)
/// removed. Invalid UTF-8, NUL bytes and further lines are refused rather than guessed at.
func readPassphrase(_ path: String) throws -> String {
    var bytes = try readFileBytes(path, what: "passphrase")
    if bytes.last == 0x0A { bytes.removeLast() }
    if bytes.last == 0x0D { bytes.removeLast() }
    guard !bytes.isEmpty else { throw LineupError(.invalidArgument, "the passphrase file \(path) is empty") }
    guard let text = String(validating: bytes, as: UTF8.self), !bytes.contains(0), !bytes.contains(0x0A), !bytes.contains(0x0D) else {
        throw LineupError(.invalidArgument, "the passphrase file \(path) must hold one line of UTF-8 text")
    }
    return text
}

/// `--read-only`: open without writing a byte (forensic work).
struct ReadOnlyFlag: ParsableArguments {
    @Flag(name: .customLong("read-only"), help: "Open the store without writing a byte (evidence stays untouched).")
    var readOnly = false
}

/// Writes one line to standard output at once (nothing is buffered), so a reader sees it
/// as soon as it is true.
///
/// - Throws: `ioError` when standard output cannot be written (closed, full, a broken pipe).
func emit(_ line: String) throws {
    try StandardOutput.write(line + "\n")
}

func readFileBytes(_ path: String, what: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw LineupError(.invalidArgument, "cannot read the \(what) file \(path)")
    }
    return [UInt8](data)
}

func readMatrix(_ path: String) throws -> NumpyMatrix {
    let bytes = try readFileBytes(path, what: ".npy")
    do {
        return try NumpyMatrix(npyBytes: bytes)
    } catch {
        throw LineupError(.invalidArgument, "\(path): \(error.message)")
    }
}

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a store (if needed) and a collection.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Option(help: "The model name the collection accepts.") var model: String = "TFV5_2"
    @Option(help: "Vector compression: none, fp16 or int8.") var compression: String = "none"
    @Flag(help: "Encrypt the store.") var encrypt = false

    func run() throws {
        try reportingErrors {
            guard let compression = VectorCompression(rawValue: compression) else {
                throw LineupError(.invalidArgument, "--compression must be none, fp16 or int8")
            }
            let kind = StoreInspector.kind(at: storeOptions.store)
            let exists = kind != .none
            let passphrase = try storeOptions.passphrase()
            if encrypt && passphrase == nil {
                throw LineupError(.invalidArgument, "--encrypt needs a passphrase: --passphrase-file FILE or LINEUP_PASSPHRASE")
            }
            if !exists && !encrypt && passphrase != nil {
                throw LineupError(.invalidArgument, "a passphrase was given for a new store: add --encrypt to create it encrypted")
            }
            if encrypt && kind == .plaintext {
                throw LineupError(.invalidArgument, "the store exists and is not encrypted; --encrypt applies to new stores")
            }
            let sdk = try storeOptions.connect {
                $0.frModel = model
                $0.vectorCompression = compression
            }
            try sdk.createCollection(collection)
        }
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bulk-enroll a .npy array of vectors with a file of identities.",
        discussion: """
            All or none: the files are checked first (header, size, every identity, UUID and vector), \
            then streamed into segment files published together, so memory stays bounded whatever \
            their size. --uuids keeps the UUIDs of an export instead of making new ones.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Option(help: "A .npy float32 or float64 array of shape (N, D), C order.") var vectors: String
    @Option(help: "A text file of N identities, one a line.") var identities: String
    @Option(help: "A text file of N UUIDs, one a line, for the Faceprints to keep (lineup export --uuids).")
    var uuids: String?

    func run() throws {
        try reportingErrors {
            let sdk = try storeOptions.connect()
            try sdk.loadCollection(collection)
            let start = ContinuousClock.now
            let showProgress = isatty(2) == 1
            var last = start
            let done = try sdk.importFaceprints(vectorsPath: vectors, identitiesPath: identities, uuidsPath: uuids,
                                                collectionName: collection) { done, total in
                let now = ContinuousClock.now
                guard showProgress, now - last > .milliseconds(200) else { return }
                last = now
                StandardError.write("\rimported \(done)/\(total)")
            }
            try sdk.checkpoint()
            let seconds = (ContinuousClock.now - start).seconds
            if showProgress {
                StandardError.write(String(format: "\rimported %d Faceprints in %.2f s (%.0f a second)\n", done, seconds, Double(done) / seconds))
            }
            try emit("\(done)")
        }
    }
}

struct EnrollCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Enroll JSON lines from standard input, printing each UUID once durable.",
        discussion: #"""
            Each line: {"identity": ..., "feature_vector": [...], "model_name": ...}; model_name defaults \#
            to the collection's. A line is refused (and the command stops, keeping what came before) when it is \#
            not one JSON object, repeats a key, or nests deeper than 64 levels. Keys and identities are exact \#
            UTF-8 byte strings: "café" written with U+00E9 and with "e" + U+0301 are two identities.
            """#)
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String

    func run() throws {
        try reportingErrors {
            let sdk = try storeOptions.connect()
            try sdk.loadCollection(collection)
            let model = try sdk.getCollectionMetadata(collection).modelName
            var number = 0
            var input = InputLines()
            while let bytes = input.next() {
                number += 1
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                let line: EnrollmentLine
                do {
                    line = try EnrollmentLine(jsonLine: bytes.last == 0x0D ? Array(bytes.dropLast()) : bytes,
                                              defaultModelName: model)
                } catch let error as LineupError {
                    throw LineupError(error.code, "line \(number): \(error.message)")
                }
                let uuid: String
                do {
                    uuid = try sdk.enrollFaceprint(line.faceprint, identity: line.identity, collectionName: collection)
                } catch let error as LineupError {
                    throw LineupError(error.code, "line \(number): \(error.message)", errno: error.underlyingErrno)
                }
                do {
                    try emit(uuid)
                } catch let error as LineupError {
                    // Durable, but not acknowledged on standard output: say which one it was.
                    throw LineupError(error.code, "line \(number) was enrolled as \(uuid) (durable), but \(error.message)",
                                      errno: error.underlyingErrno)
                }
            }
        }
    }
}

/// Standard input's lines as bytes, without their newlines, each handed over as soon as it
/// has arrived (an enrollment is acknowledged while later lines are still being written).
struct InputLines {
    private var buffer: [UInt8] = []
    private var start = 0
    private var finished = false

    mutating func next() -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                if start >= 1 << 16 {
                    buffer.removeFirst(start)
                    start = 0
                }
                return line
            }
            if finished {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return Array(buffer[start...])
            }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let count = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer += chunk[0..<count]
            } else if count == 0 || errno != EINTR {
                finished = true
            }
        }
    }
}

struct IdentifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "identify", abstract: "Identify each probe of a .npy array; one JSON line per probe.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var readOnly: ReadOnlyFlag
    @Argument var collection: String
    @Option(help: "A .npy float32 or float64 array of probes, shape (P, D).") var probes: String
    @Option(help: "Candidates per probe: 1 or more (more than the collection holds gives every match).")
    var top: Int = 1
    // `.unconditional`: `--threshold -1` is a value, not an option.
    @Option(parsing: .unconditional,
            help: "Similarity threshold: a finite number (similarities lie in -1…1; -1 matches every Faceprint). Written --threshold -1 or --threshold=-1.")
    var threshold: Float = 0.4
    @Flag(help: "Candidates are people: each identity at most once, at its best-scoring Faceprint.")
    var distinctIdentities = false

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard threshold.isFinite else { throw ValidationError("--threshold must be a finite number") }
    }


    func run() throws {
        try reportingErrors {
            let matrix = try readMatrix(probes)
            let sdk = try storeOptions.connect(readOnly: readOnly.readOnly)
            try sdk.loadCollection(collection)
            let model = try sdk.getCollectionMetadata(collection).modelName
            let faceprints = (0..<matrix.rows).map { Faceprint(featureVector: Array(matrix.row($0)), modelName: model) }
            let results = distinctIdentities
                ? try sdk.batchIdentifyTopIdentities(faceprints, numCandidates: top, threshold: threshold,
                                                     collectionName: collection)
                : try sdk.batchIdentifyTopCandidates(faceprints, numCandidates: top, threshold: threshold,
                                                     collectionName: collection)
            for (index, candidates) in results.enumerated() {
                // Keys in the contract's order: probe, candidates; uuid, identity, similarity, match_probability.
                try emit(JSONOutput.members(["probe": .integer(index),
                                             "candidates": .array(candidates.map(\.json))]).text)
            }
        }
    }
}

struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove by UUID or by identity, printing the count.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Option var uuid: String?
    @Option var identity: String?

    func validate() throws {
        guard (uuid == nil) != (identity == nil) else { throw ValidationError("give exactly one of --uuid and --identity") }
    }

    func run() throws {
        try reportingErrors {
            let sdk = try storeOptions.connect()
            try sdk.loadCollection(collection)
            if let uuid {
                try sdk.removeByUUID(uuid, collectionName: collection)
                try emit("1")
            } else if let identity {
                try emit("\(try sdk.removeByIdentity(identity, collectionName: collection))")
            }
        }
    }
}

struct CollectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "collections", abstract: "List the collections, one name a line.")
    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        try reportingErrors {
            for name in try storeOptions.connect(readOnly: true).getCollectionNames() { try emit(name) }
        }
    }
}

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "A collection's metadata.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Flag(help: "As JSON with snake_case keys.") var json = false
    @Flag(help: "With --json, add a \"space\" object: live and dead bytes and Faceprints, segments.") var space = false

    func run() throws {
        try reportingErrors {
            let sdk = try storeOptions.connect(readOnly: true)
            let metadata = try sdk.getCollectionMetadata(collection)
            let usage = try sdk.getCollectionSpace(collection)
            if json {
                try emit(JSONOutput.object(metadata.jsonMembers + (space ? [("space", usage.json)] : [])).text)
            } else {
                try emit("collection:       \(metadata.collectionName)")
                try emit("model:            \(metadata.modelName)")
                try emit("options:          \(metadata.modelOptions)")
                try emit("encrypted:        \(metadata.encrypted)")
                try emit("bytes a vector:   \(metadata.featureVectorSizeBytes)")
                try emit("faceprints:       \(metadata.numFaceprints)")
                try emit("identities:       \(metadata.numIdentities)")
                try emit("live bytes:       \(usage.liveBytes)")
                try emit("dead bytes:       \(usage.deadBytes) (\(usage.removedFaceprints) removed Faceprints awaiting compaction)")
                try emit("segments:         \(usage.segments)")
            }
        }
    }
}

struct IdentitiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "identities", abstract: "A collection's UUID → identity map.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Flag(help: "As one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            let map = try storeOptions.connect(readOnly: true).getCollectionIdentities(collection)
            if json {
                // Keys in the order of their UTF-8 bytes.
                let members = map.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                try emit(JSONOutput.object(members.map { (key: $0.key, value: .string($0.value)) }).text)
            } else {
                for (uuid, identity) in map.sorted(by: { $0.key < $1.key }) { try emit("\(uuid)\t\(identity)") }
            }
        }
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum, tag and cross-reference; exit 0 when intact. Read-only.",
        discussion: """
            Exit status 0: intact; 1: no store at the path; 2: damaged (or a wrong passphrase). \
            --json prints the examiner's report instead, one line {"report":R,"digest":"H"}: every \
            file's name, size and SHA-256, the manifest's generation and store ID, each collection's \
            model, compression, dimension and live counts, the journal's valid length and whether a \
            torn tail was found, the problems and notes — and H, the SHA-256 of R's bytes exactly as \
            printed (hash the text between {"report": and ,"digest": to check it). Nothing in the \
            store is written, renamed or touched.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Flag(help: "Print the examiner's report as JSON, with a digest over it.") var json = false

    func run() throws {
        let report: StoreInspector.Report
        let examination: ExaminationReport?
        do {
            let passphrase = try storeOptions.passphrase()
            if json {
                (report, examination) = StoreInspector.examine(path: storeOptions.store, passphrase: passphrase)
            } else {
                report = StoreInspector.verify(path: storeOptions.store, passphrase: passphrase)
                examination = nil
            }
        } catch let error as LineupError {
            StandardError.write("error: \(error.message) (\(error.code.name))\n")
            throw ExitCode(exitStatus(for: error.code))
        }
        if let storeError = report.storeError {
            StandardError.write("error: \(storeError.message) (\(storeError.code.name))\n")
            throw ExitCode(exitStatus(for: storeError.code))
        }
        if let keyError = report.keyError {
            StandardError.write("error: \(keyError.message) (\(keyError.code.name))\n")
            throw ExitCode(exitStatus(for: keyError.code))
        }
        let intact = examination?.intact ?? report.isIntact
        try reportingErrors {
            if let examination {
                try emit(try examination.printed())
            } else {
                for note in report.notes { try emit("note: \(note)") }
                for problem in report.problems { try emit("damaged: \(problem)") }
                if intact { try emit("intact") }
            }
        }
        if !intact {
            let count = examination?.problems.count ?? report.problems.count
            StandardError.write("error: the store is damaged (\(count) problems) (corruptStore)\n")
            throw ExitCode(exitStatus(for: .corruptStore))
        }
    }
}

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dump", abstract: "A forensic listing: segments, records, what is live. Read-only.")
    @OptionGroup var storeOptions: StoreOptions
    @Flag(help: "List every Faceprint.") var records = false

    func run() throws {
        try reportingErrors {
            try StandardOutput.write(try StoreInspector.dump(path: storeOptions.store, records: records,
                                                              passphrase: storeOptions.passphrase()))
        }
    }
}

struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Rewrite segments without removed Faceprints, merge small ones, and erase what was removed.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "One collection (default: all).") var collection: String?
    func run() throws {
        try reportingErrors {
            let sdk = try storeOptions.connect()
            let report = try sdk.compact(collectionName: collection)
            try emit("segments rewritten: \(report.segmentsRewritten) into \(report.segmentsWritten)")
            try emit("faceprints erased:  \(report.faceprintsErased)")
            try emit("faceprints copied:  \(report.faceprintsCopied)")
            try emit("bytes:              \(report.bytesBefore) -> \(report.bytesAfter)")
        }
    }
}

struct RekeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rekey", abstract: "Change an encrypted store's passphrase.")
    @OptionGroup var storeOptions: StoreOptions
    @Option(name: .customLong("new-passphrase-file"), help: "A file holding the new passphrase.") var newPassphraseFile: String
    func run() throws {
        try reportingErrors {
            let newPassphrase = try readPassphrase(newPassphraseFile)
            guard StoreInspector.kind(at: storeOptions.store) != .none else {
                throw LineupError(.databaseConnectionError, "no Lineup store at \(storeOptions.store)")
            }
            guard try storeOptions.passphrase() != nil else {
                throw LineupError(.wrongEncryptionKey, "give the current passphrase: --passphrase-file FILE or LINEUP_PASSPHRASE")
            }
            let sdk = try storeOptions.connect()
            try sdk.rekey(newEncryptionKey: newPassphrase)
        }
    }
}

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow a collection in shared mode (or on PostgreSQL with --postgresql): one line \"TIME COUNT\" each time its live count changes.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument var collection: String
    @Option(help: "Stop once the count reaches this.") var until: Int?
    @Option(help: "Stop after this many seconds.") var timeout: Double = 3600

    func run() throws {
        try reportingErrors {
            var options = storeOptions
            options.shared = !options.postgresql
            let sdk = try options.connect()
            try sdk.loadCollection(collection)
            let deadline = Date().addingTimeInterval(timeout)
            var last = -1
            while Date() < deadline {
                // The shared connection catches up in the background; this only reads memory.
                let count = try sdk.getCollectionSpace(collection).liveFaceprints
                if count != last {
                    try emit(String(format: "%.6f %d", Date().timeIntervalSince1970, count))
                    last = count
                    if let until, count >= until { return }
                }
                usleep(1_000)
            }
            if let until, last < until { throw ExitCode(4) }
        }
    }
}
