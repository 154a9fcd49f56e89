/// Read-only inspection of a store for `lineup verify` and `lineup dump`: opens nothing for
/// writing, takes no lock, creates no file — evidence stays untouched.
public enum StoreInspector {
    /// What ``StoreInspector/verify(path:passphrase:)`` found.
    public struct Report: Sendable {
        /// Damage: each entry names the file and what does not hold. Empty when intact.
        public var problems: [String] = []
        /// Set when the store could not be checked for want of the right passphrase
        /// (`wrongEncryptionKey`); `problems` then says why.
        public var keyError: LineupError?
        /// Facts worth knowing that are not damage (a torn journal tail, orphaned files).
        public var notes: [String] = []
        /// Set when `path` holds no store at all (`databaseConnectionError`): missing, not a
        /// directory (a symbolic link is not followed), or a directory with none of a store's
        /// files. A missing store is not a damaged one; `problems` is empty then.
        public var storeError: LineupError?
        public var isIntact: Bool { problems.isEmpty && storeError == nil }
        /// What was examined, as far as the checks got (the examiner's report).
        public var facts = Facts()
    }

    /// The facts a verification establishes, for ``ExaminationReport``.
    public struct Facts: Codable, Sendable, Equatable {
        public var encrypted = false
        public var storeID: String?
        public var manifestGeneration: UInt64?
        public var journalNumber: UInt64?
        public var checkpointSequence: UInt64?
        public var journal: JournalFacts?
        public var collections: [CollectionFacts] = []

        enum CodingKeys: String, CodingKey {
            case encrypted, collections, journal
            case storeID = "store_id", manifestGeneration = "manifest_generation", journalNumber = "journal_number"
            case checkpointSequence = "checkpoint_sequence"
        }
    }

    public struct JournalFacts: Codable, Sendable, Equatable {
        public var name: String
        public var fileLength: Int
        /// Bytes up to the end of the last complete record.
        public var validLength: Int
        public var records: Int
        /// Bytes after the last complete record: a write cut short, never acknowledged.
        public var tornTail: Bool

        enum CodingKeys: String, CodingKey {
            case name, records
            case fileLength = "file_length", validLength = "valid_length", tornTail = "torn_tail"
        }
    }

    public struct CollectionFacts: Codable, Sendable, Equatable {
        public var name: String
        public var model: String
        public var compression: String
        public var dimension: Int
        public var segments: Int
        /// Live Faceprints: in segments and not removed, plus enrolled in the journal and not removed.
        public var liveFaceprints: Int
        public var liveIdentities: Int

        enum CodingKeys: String, CodingKey {
            case name, model, compression, dimension, segments
            case liveFaceprints = "live_faceprints", liveIdentities = "live_identities"
        }
    }

    /// Checks every checksum, authentication tag and cross-reference of the store at `path`:
    /// the key file and manifest, each segment (header, every section's CRC32C — or, encrypted,
    /// every chunk's tag —, lookup tables, identity blocks, agreement with the manifest), the
    /// journal (header, every record and its tag, continuity with the checkpoint), and that no
    /// UUID is live twice. An encrypted store needs its `passphrase`; without it, or with a
    /// wrong one, the report says so and checks nothing else.
    public static func verify(path: String, passphrase: String? = nil) -> Report {
        verify(path: path, passphrase: passphrase, fileSystem: PosixFileSystem.shared)
    }

    /// Whether `path` is a directory holding at least one of a store's own files (manifest,
    /// key file, a journal or a segment): a directory with some of them is a store, damaged
    /// when the manifest is missing; one with none of them is no store.
    static func isStore(_ path: String, fileSystem: any FileSystem) -> Bool {
        guard fileSystem.fileType(path) == .directory else { return false }
        if fileSystem.fileType(path + "/" + FormatConstants.manifestName) != nil { return true }
        guard let names = try? fileSystem.listDirectory(path) else { return false }
        return names.contains { name in
            name == FormatConstants.keyName || name == Store.backupMarkerName
                || (name.hasPrefix("journal-") && name.hasSuffix(".log"))
                || (name.hasPrefix("segment-") && name.hasSuffix(".seg"))
        }
    }

    static func verify(path: String, passphrase: String? = nil, fileSystem: any FileSystem) -> Report {
        var report = Report()
        if !isStore(path, fileSystem: fileSystem) {
            report.storeError = LineupError(.databaseConnectionError, "no Lineup store at \(path)")
            return report
        }
        if fileSystem.fileType(path + "/" + Store.backupMarkerName) != nil {
            // Never mistaken for a good copy (FORMAT.md §14).
            report.problems.append("\(Store.backupMarkerName): an incomplete backup, interrupted before it was finished")
            return report
        }
        let manifest: Manifest
        let cipher: StoreCipher?
        do {
            cipher = try StoreCipher.open(path, fileSystem: fileSystem, passphrase: passphrase, writer: false)
        } catch let error as LineupError {
            report.problems.append("\(FormatConstants.keyName): \(error.message)")
            if error.code == .wrongEncryptionKey { report.keyError = error }
            return report
        } catch {
            report.problems.append("\(FormatConstants.keyName): unreadable")
            return report
        }
        do {
            manifest = try StoreDirectory(path: path, fileSystem: fileSystem).readManifest(cipher: cipher)
        } catch let error as LineupError {
            report.problems.append("\(FormatConstants.manifestName): \(error.message)")
            return report
        } catch {
            report.problems.append("\(FormatConstants.manifestName): unreadable")
            return report
        }
        report.facts.encrypted = cipher != nil
        report.facts.storeID = manifest.storeID.string
        report.facts.manifestGeneration = manifest.generation
        report.facts.journalNumber = manifest.journalNumber
        report.facts.checkpointSequence = manifest.checkpointSequence
        var collectionsByID: [UInt32: Manifest.CollectionEntry] = [:]
        var seen = Set<RecordID>()
        var duplicates = 0
        // Per collection: live UUID → identity, for the examiner's counts.
        var live: [UInt32: [RecordID: ExactText]] = [:]
        for collection in manifest.collections {
            collectionsByID[collection.id] = collection
            live[collection.id] = [:]
            for entry in collection.segments {
                let name = FormatConstants.segmentName(entry.number)
                do {
                    let segment = try Segment(fileSystem: fileSystem, path: path + "/" + name, number: entry.number,
                                              collectionID: collection.id, fileSize: entry.fileSize, storeID: manifest.storeID,
                                              cipher: cipher)
                    if segment.rowCount != entry.rowCount || segment.header.dimension != collection.dimension
                        || segment.header.encoding != collection.settings.compression {
                        report.problems.append("\(name): does not match the manifest (rows, dimension or encoding)")
                    }
                    let removed = Set(entry.removedRows)
                    for row in 0..<segment.rowCount where !removed.contains(UInt32(row)) {
                        if !seen.insert(segment.recordID(at: row)).inserted { duplicates += 1 }
                    }
                    segment.forEachRecord { row, id, identity in
                        if !removed.contains(UInt32(row)) { live[collection.id]![id] = ExactText(identity) }
                    }
                } catch let error as LineupError {
                    report.problems.append("\(name): \(error.message)")
                } catch {
                    report.problems.append("\(name): unreadable")
                }
            }
        }
        let journalName = FormatConstants.journalName(manifest.journalNumber)
        do {
            let (scan, fileLength) = try StoreDirectory(path: path, fileSystem: fileSystem).readJournal(of: manifest, cipher: cipher)
            for record in scan.records {
                guard let collection = collectionsByID[record.collectionID] else { continue }
                let change: JournalFormat.Change
                do {
                    change = try JournalFormat.decodeChange(record, compression: collection.settings.compression)
                } catch {
                    report.problems.append("\(journalName): record \(record.sequence) is malformed")
                    continue
                }
                switch change {
                case .enroll(let entries):
                    for entry in entries where !seen.insert(entry.id).inserted { duplicates += 1 }
                    for entry in entries { live[collection.id]![entry.id] = ExactText(entry.identity) }
                case .remove(let ids):
                    for id in ids {
                        seen.remove(id)
                        live[collection.id]![id] = nil
                    }
                }
            }
            report.facts.journal = JournalFacts(name: journalName, fileLength: fileLength, validLength: scan.validLength,
                                                records: scan.records.count, tornTail: scan.hasTornTail)
            if scan.hasTornTail {
                report.notes.append("\(journalName): \(fileLength - scan.validLength) bytes after the last complete record (a write cut short; never acknowledged; cut on the next writable open)")
            }
        } catch let error as LineupError {
            report.problems.append("\(journalName): \(error.message)")
        } catch {
            report.problems.append("\(journalName): unreadable")
        }
        if duplicates > 0 { report.problems.append("\(duplicates) UUIDs are live twice") }
        report.facts.collections = manifest.collections.map { collection in
            let rows = live[collection.id] ?? [:]
            return CollectionFacts(name: collection.name, model: collection.settings.modelName,
                                   compression: collection.settings.compression.rawValue, dimension: collection.dimension,
                                   segments: collection.segments.count, liveFaceprints: rows.count,
                                   liveIdentities: Set(rows.values).count)
        }.sorted { ExactText($0.name) < ExactText($1.name) }
        let known = Set(manifest.collections.flatMap { $0.segments.map { FormatConstants.segmentName($0.number) } })
            .union([journalName, FormatConstants.manifestName, FormatConstants.lockName])
            .union(cipher == nil ? [] : [FormatConstants.keyName])
        for name in ((try? fileSystem.listDirectory(path)) ?? []).sorted() where !known.contains(name) {
            report.notes.append("\(name): not part of the store (left by an interrupted write; removed on the next writable open)")
        }
        return report
    }

    /// A forensic listing of the store: the manifest, each collection and segment, the
    /// journal's records; with `records`, every Faceprint with its UUID, identity, place and
    /// whether it is live.
    ///
    /// - Throws: `wrongEncryptionKey` for an encrypted store without its passphrase;
    ///   `corruptStore` for damage.
    public static func dump(path: String, records: Bool, passphrase: String? = nil) throws -> String {
        try dump(path: path, records: records, passphrase: passphrase, fileSystem: PosixFileSystem.shared)
    }

    static func dump(path: String, records: Bool, passphrase: String?, fileSystem: any FileSystem) throws -> String {
        let cipher = try StoreCipher.open(path, fileSystem: fileSystem, passphrase: passphrase, writer: false)
        let manifest = try StoreDirectory(path: path, fileSystem: fileSystem).readManifest(cipher: cipher)
        var out = "store \(manifest.storeID.string)\(cipher == nil ? "" : " (encrypted)")\n"
        out += "manifest generation \(manifest.generation), journal \(FormatConstants.journalName(manifest.journalNumber)), checkpoint sequence \(manifest.checkpointSequence)\n"
        let (scan, journalLength) = try StoreDirectory(path: path, fileSystem: fileSystem).readJournal(of: manifest, cipher: cipher)
        // Every record's change, read once (a malformed one counts as nothing, as `verify`
        // reports it).
        let collectionsByID = Dictionary(uniqueKeysWithValues: manifest.collections.map { ($0.id, $0) })
        let changes = scan.records.map { record in
            collectionsByID[record.collectionID].flatMap {
                try? JournalFormat.decodeChange(record, compression: $0.settings.compression)
            }
        }
        var removedInJournal = Set<RecordID>()
        for case .remove(let ids)? in changes { removedInJournal.formUnion(ids) }
        for collection in manifest.collections {
            out += "collection \(JSONText.quoted(collection.name)) id \(collection.id) model \(JSONText.quoted(collection.settings.modelName)) compression \(collection.settings.compression.rawValue) dimension \(collection.dimension)\n"
            for entry in collection.segments {
                let name = FormatConstants.segmentName(entry.number)
                out += "  segment \(name): \(entry.rowCount) rows, \(entry.removedRows.count) removed at checkpoint, \(entry.fileSize) bytes\n"
                guard records else { continue }
                let segment = try Segment(fileSystem: fileSystem, path: path + "/" + name, number: entry.number,
                                          collectionID: collection.id, fileSize: entry.fileSize, storeID: manifest.storeID,
                                          cipher: cipher)
                let removed = Set(entry.removedRows.map { Int($0) })
                segment.forEachRecord { row, id, identity in
                    let live = !removed.contains(row) && !removedInJournal.contains(id)
                    out += "    \(id.string) \(JSONText.quoted(identity)) row \(row) \(live ? "live" : "removed")\n"
                }
            }
            var enrolled = 0, removals = 0
            for (record, change) in zip(scan.records, changes) where record.collectionID == collection.id {
                switch change {
                case nil:
                    continue
                case .enroll(let entries):
                    enrolled += entries.count
                    if records {
                        for entry in entries {
                            out += "    \(entry.id.string) \(JSONText.quoted(entry.identity)) journal record \(record.sequence) \(removedInJournal.contains(entry.id) ? "removed" : "live")\n"
                        }
                    }
                case .remove(let ids):
                    removals += ids.count
                }
            }
            out += "  journal: \(enrolled) enrollments, \(removals) removals after the checkpoint\n"
        }
        out += "journal: \(scan.records.count) records, \(scan.validLength) valid bytes"
        if scan.hasTornTail {
            out += ", \(journalLength - scan.validLength) bytes of torn tail\n"
        } else {
            out += journalLength > scan.validLength ? ", \(journalLength - scan.validLength) bytes reserved\n" : "\n"
        }
        return out
    }
}

extension StoreInspector {
    /// What a directory holds, told from the store's own files without opening it.
    package enum StoreKind: Sendable, Equatable {
        /// No manifest: no store (or one whose creation never finished).
        case none
        case plaintext
        /// A store with a key file.
        case encrypted
    }

    /// What `path` holds (the tool's checks before it connects).
    package static func kind(at path: String) -> StoreKind {
        kind(at: path, fileSystem: PosixFileSystem.shared)
    }

    static func kind(at path: String, fileSystem: any FileSystem) -> StoreKind {
        let directory = StoreDirectory(path: path, fileSystem: fileSystem)
        guard fileSystem.fileType(directory.file(FormatConstants.manifestName)) != nil else { return .none }
        return fileSystem.fileType(directory.file(FormatConstants.keyName)) != nil ? .encrypted : .plaintext
    }
}

