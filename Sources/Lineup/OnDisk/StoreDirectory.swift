/// A store's directory and the files in it (FORMAT.md §2): creating a store's first files,
/// reading and replacing the manifest, reading the journal, starting a new journal, and
/// removing what a crash left behind. Holds no state beyond where the store is: the open
/// store (``Store``), the inspector and the backup all read the same files through it.
struct StoreDirectory: Sendable {
    let path: String
    let fileSystem: any FileSystem

    /// The path of `name` inside the store.
    func file(_ name: String) -> String { path + "/" + name }

    // MARK: Creating

    /// Makes sure `path` is a directory that is, or can become, a store.
    func prepare() throws {
        switch fileSystem.fileType(path) {
        case nil:
            do {
                try fileSystem.makeDirectory(path)
            } catch let error as LineupError {
                throw LineupError(.databaseConnectionError, "cannot create the store", cause: error)
            }
        case .directory, .symbolicLink:
            break
        default:
            throw LineupError(.databaseConnectionError, "\(path) exists and is not a store directory")
        }
        if fileSystem.fileType(file(FormatConstants.manifestName)) != nil { return }
        let names = (try? fileSystem.listDirectory(path)) ?? []
        guard names.allSatisfy(StoreDirectory.isLeftover) else {
            throw LineupError(.databaseConnectionError, "\(path) is a directory with other files and no Lineup manifest")
        }
    }

    /// A name an interrupted creation of a store may leave behind.
    private static func isLeftover(_ name: String) -> Bool {
        name == FormatConstants.lockName || name == FormatConstants.keyName || name.hasSuffix(".tmp")
            || (name.hasPrefix("journal-") && name.hasSuffix(".log"))
    }

    /// Writes an empty store's first files unless the manifest exists, and opens the store's
    /// keys as its writer (raising the key file's epoch). The caller holds the store lock.
    func createIfMissing(passphrase: String?, kdfIterations: Int) throws -> StoreCipher? {
        let exists = fileSystem.fileType(file(FormatConstants.manifestName)) != nil
        var storeID = RecordID(high: 0, low: 0)
        if !exists {
            // A new store: the key file (when encrypted), journal 1, then the manifest that
            // names it. A crash before the manifest leaves a directory this same step recreates.
            var generator = SystemRandomNumberGenerator()
            storeID = RecordID(high: generator.next(), low: generator.next())
            if let passphrase {
                try StoreCipher.createKeyFile(in: path, fileSystem: fileSystem, storeID: storeID, passphrase: passphrase,
                                              iterations: kdfIterations)
            } else {
                try? fileSystem.unlink(file(FormatConstants.keyName))
            }
        }
        let cipher = try StoreCipher.open(path, fileSystem: fileSystem, passphrase: passphrase, writer: true)
        if exists { return cipher }
        let manifest = Manifest.empty(storeID: storeID)
        let journal = try createJournal(number: manifest.journalNumber, storeID: storeID,
                                        firstSequence: manifest.checkpointSequence + 1)
        fileSystem.close(journal)
        try writeManifest(manifest, cipher: cipher)
        return cipher
    }

    /// Creates journal `number` holding only its header, durably, in place of any file of
    /// that name (one a failed attempt left), and returns it open for writing. The caller
    /// closes it, and publishes it in a manifest.
    func createJournal(number: UInt64, storeID: RecordID, firstSequence: UInt64) throws -> Int32 {
        let journalPath = file(FormatConstants.journalName(number))
        try? fileSystem.unlink(journalPath)
        let descriptor = try fileSystem.open(journalPath, writable: true, create: true, exclusive: true)
        do {
            let header = JournalFormat.encodeHeader(.init(storeID: storeID, journalNumber: number, firstSequence: firstSequence))
            try header.withUnsafeBytes { try fileSystem.write(descriptor, $0, at: 0) }
            try fileSystem.sync(descriptor)
        } catch {
            fileSystem.close(descriptor)
            throw error
        }
        return descriptor
    }

    // MARK: The manifest and the journal

    /// Writes `manifest` durably and atomically (sealed in an envelope when encrypted).
    func writeManifest(_ manifest: Manifest, cipher: StoreCipher?) throws {
        let plaintext = manifest.encoded()
        let bytes = try cipher?.sealFile(kind: .manifest, number: manifest.generation, plaintext: plaintext) ?? plaintext
        try fileSystem.replaceFile(in: path, name: FormatConstants.manifestName,
                                   temporaryName: FormatConstants.manifestTemporaryName, bytes: bytes)
    }

    /// Reads and checks the store's manifest, opening its envelope when the store is
    /// encrypted.
    ///
    /// - Throws: `corruptStore` when it is missing, damaged, or encrypted while the store is
    ///   not (or the reverse).
    func readManifest(cipher: StoreCipher?) throws -> Manifest {
        let bytes: [UInt8]
        do {
            bytes = try fileSystem.readWholeFile(file(FormatConstants.manifestName))
        } catch let error as LineupError where error.code == .ioError {
            throw LineupError(.corruptStore, "the manifest is missing or unreadable", cause: error)
        }
        let isEnvelope = bytes.withUnsafeBytes { EnvelopeHeader.isEnvelope($0) }
        guard let cipher else {
            if isEnvelope { throw LineupError(.corruptStore, "the manifest is encrypted, and the store has no key file") }
            return try Manifest.decode(bytes)
        }
        guard isEnvelope else { throw LineupError(.corruptStore, "the manifest of an encrypted store is not encrypted") }
        let (header, region) = try cipher.openFile(bytes, kind: .manifest, number: nil, name: "the manifest")
        let manifest = try Manifest.decode(region.withUnsafeBytes { Array($0) })
        guard manifest.generation == header.number, manifest.storeID == cipher.storeID else {
            throw LineupError(.corruptStore, "the manifest belongs to another store or generation")
        }
        return manifest
    }

    /// The manifest file's bytes as they are, for telling whether it changed.
    func manifestBytes() throws -> [UInt8] {
        try fileSystem.readWholeFile(file(FormatConstants.manifestName))
    }

    /// Opens the journal `number` for reading.
    ///
    /// - Throws: `corruptStore` when it is missing or cannot be opened.
    func openJournal(_ number: UInt64) throws -> Int32 {
        do {
            return try fileSystem.open(file(FormatConstants.journalName(number)), writable: false, create: false, exclusive: false)
        } catch let error as LineupError {
            throw LineupError(.corruptStore, "the journal is missing or unreadable", cause: error)
        }
    }

    /// Reads the journal `manifest` names: its valid records, payloads in plaintext.
    ///
    /// - Throws: `corruptStore` when it is missing, damaged before acknowledged records, or a
    ///   record fails its authentication.
    func readJournal(of manifest: Manifest, cipher: StoreCipher?) throws -> (scan: JournalReader.Scan, fileLength: Int) {
        let bytes: [UInt8]
        do {
            bytes = try fileSystem.readWholeFile(file(FormatConstants.journalName(manifest.journalNumber)))
        } catch let error as LineupError where error.code == .ioError {
            throw LineupError(.corruptStore, "the journal is missing or unreadable", cause: error)
        }
        var scan = try bytes.withUnsafeBytes {
            try JournalReader.scan($0, journalNumber: manifest.journalNumber, storeID: manifest.storeID)
        }
        guard scan.header.firstSequence == manifest.checkpointSequence + 1 else {
            throw LineupError(.corruptStore, "the journal does not continue the manifest's checkpoint")
        }
        if let cipher {
            for index in scan.records.indices {
                scan.records[index].payload = try cipher.openJournalRecord(scan.records[index], journalNumber: manifest.journalNumber,
                                                                           offset: scan.offsets[index])
            }
        }
        return (scan, bytes.count)
    }

    // MARK: Removing

    /// Deletes segment files (best effort: what stays is an orphan the next writable open
    /// removes).
    func removeSegments(_ numbers: some Sequence<UInt64>) {
        for number in numbers { try? fileSystem.unlink(file(FormatConstants.segmentName(number))) }
    }

    /// Deletes journal `number` (best effort, as ``removeSegments(_:)``).
    func removeJournal(_ number: UInt64) {
        try? fileSystem.unlink(file(FormatConstants.journalName(number)))
    }

    /// Deletes files a crash left behind: segments and journals `manifest` does not name,
    /// temporaries.
    func removeOrphans(_ manifest: Manifest) {
        let live = Set(manifest.collections.flatMap { $0.segments.map { FormatConstants.segmentName($0.number) } })
            .union([FormatConstants.journalName(manifest.journalNumber), FormatConstants.manifestName, FormatConstants.lockName])
        for name in (try? fileSystem.listDirectory(path)) ?? [] where !live.contains(name) {
            if name.hasSuffix(".tmp") || (name.hasPrefix("segment-") && name.hasSuffix(".seg"))
                || (name.hasPrefix("journal-") && name.hasSuffix(".log")) {
                try? fileSystem.unlink(file(name))
            }
        }
    }
}
