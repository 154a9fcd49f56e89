import Foundation
import Testing
@testable import Lineup

/// Encrypted stores (FORMAT.md, "Encryption"): round trips, no plaintext on disk, keys,
/// tampering (flipped bytes, swapped, moved and replayed blocks), rekey crash safety, nonces.
@Suite struct EncryptionTests {
    /// PBKDF2 iterations for test stores: the format stores the count, and the default's cost
    /// (600,000) would only slow the tests down.
    static let iterations = 1_000
    static let passphrase = "correct horse battery staple"
    static let collectionName = "secret-collection-name"

    struct Enrolled {
        var id: RecordID
        var identity: String
        var vector: [Float]
    }

    static func enrollment(_ index: Int, dimension: Int) -> (PreparedEnrollment, Enrolled) {
        var generator = SeededGenerator(seed: UInt64(index + 7))
        let unit = VectorEncoder.normalized(generator.vector(dimension))
        let id = RecordID.generate()
        let identity = "secret-identity-\(index)"
        return (PreparedEnrollment(id: id, identity: identity, vector: VectorEncoder.encode(unit: unit, as: .none), dimension: dimension),
                Enrolled(id: id, identity: identity, vector: unit))
    }

    static func open(_ path: String, passphrase: String? = EncryptionTests.passphrase,
                     fileSystem: any FileSystem = PosixFileSystem.shared, readOnly: Bool = false) throws -> Store {
        try Store(path: path, fileSystem: fileSystem, readOnly: readOnly, passphrase: passphrase, kdfIterations: iterations)
    }

    /// An encrypted store with `journaled` enrollments sealed into a segment, a bulk batch of
    /// `bulk` (its own segments), then `tail` journaled enrollments and two removals left in
    /// the journal.
    static func makeStore(_ path: String, dimension: Int = 16, journaled: Int = 6, bulk: Int = 0,
                          tail: Int = 3) throws -> (live: [Enrolled], removed: [Enrolled]) {
        let store = try open(path)
        defer { store.close() }
        try store.createCollection(collectionName, settings: CollectionSettings(modelName: "SECRETMODEL", compression: .none))
        let collection = FileCollection(store: store, state: try store.collection(collectionName))
        var all: [Enrolled] = []
        for index in 0..<journaled {
            let (prepared, enrolled) = enrollment(index, dimension: dimension)
            try collection.enroll([prepared])
            all.append(enrolled)
        }
        try store.checkpointNow()
        if bulk > 0 {
            let batch = (0..<bulk).map { enrollment(1000 + $0, dimension: dimension) }
            try collection.enroll(batch.map(\.0))
            all += batch.map(\.1)
        }
        for index in 0..<tail {
            let (prepared, enrolled) = enrollment(100 + index, dimension: dimension)
            try collection.enroll([prepared])
            all.append(enrolled)
        }
        let removed = [all[1], all[all.count - 1]]
        for victim in removed { try collection.remove(id: victim.id) }
        return (all.filter { entry in !removed.contains { $0.id == entry.id } }, removed)
    }

    /// Every file of the store, by name.
    static func files(_ path: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            files[name] = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
        }
        return files
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// The live records of the collection, UUID → identity.
    static func contents(_ store: Store) throws -> [String: String] {
        try store.collection(collectionName).identityMap()
    }

    // MARK: Round trips

    @Test func roundTripThroughJournalSegmentsAndBulkImport() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let (live, removed) = try Self.makeStore(path, dimension: 128, journaled: 20, bulk: 4_200, tail: 5)
        let store = try Self.open(path)
        defer { store.close() }
        let state = try store.collection(Self.collectionName)
        #expect(try Self.contents(store) == Dictionary(uniqueKeysWithValues: live.map { ($0.id.string, $0.identity) }))
        for victim in removed { #expect(state.locate(victim.id) == nil) }
        // Identification over the decrypted segments and the replayed tail.
        let snapshot = state.snapshot()
        for entry in [live[0], live[30], live[live.count - 1]] {
            let hits = try Matcher.search(snapshot, probe: entry.vector, k: 1, threshold: 0.5)
            #expect(hits.count == 1 && abs(hits[0].score - 1) < 1e-4)
            #expect(snapshot.blocks[hits[0].block].source.recordID(at: hits[0].row) == entry.id)
        }
        #expect(state.metadata(encrypted: store.isEncrypted).encrypted)
        let report = StoreInspector.verify(path: path, passphrase: Self.passphrase)
        #expect(report.isIntact, "\(report.problems)")
    }

    @Test func filesRevealNoIdentityVectorUUIDOrName() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let (live, removed) = try Self.makeStore(path, dimension: 32, journaled: 10, bulk: 4_100, tail: 4)
        let files = try Self.files(path)
        #expect(files.keys.filter { $0.hasPrefix("segment-") }.count == 2 && files.keys.contains { $0.hasPrefix("journal-") })
        func contains(_ needle: [UInt8]) -> String? {
            for (name, bytes) in files where bytes.count >= needle.count {
                for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
                    if Array(bytes[start..<(start + needle.count)]) == needle { return name }
                }
            }
            return nil
        }
        var needles: [(String, [UInt8])] = [("collection name", Array(Self.collectionName.utf8)), ("model name", Array("SECRETMODEL".utf8))]
        for entry in (live + removed).prefix(40) + (live + removed).suffix(20) {
            needles.append(("identity", Array(entry.identity.utf8)))
            var id = ByteWriter()
            id.recordID(entry.id)
            needles.append(("UUID", id.bytes))
            needles.append(("UUID text", Array(entry.id.string.utf8)))
            // Four consecutive float32 components, as the plaintext format would store them.
            var vector = ByteWriter()
            for value in entry.vector[4..<8] { vector.f32(value) }
            needles.append(("vector bytes", vector.bytes))
        }
        for (what, needle) in needles {
            if let file = contains(needle) { Issue.record("\(what) found in plaintext in \(file)") }
        }
    }

    @Test func filesAndDirectoryAreOwnerOnly() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        _ = try Self.makeStore(path)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o700)
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            #expect(try FileManager.default.attributesOfItem(atPath: path + "/" + name)[.posixPermissions] as? Int == 0o600, "\(name)")
        }
    }

    // MARK: Keys

    @Test func missingWrongOrSuperfluousKeyIsWrongEncryptionKeyAndWritesNothing() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        _ = try Self.makeStore(path)
        let before = try Self.files(path)
        for passphrase in [nil, "wrong", Self.passphrase + " "] as [String?] {
            for readOnly in [false, true] {
                expectError(.wrongEncryptionKey, "\(String(describing: passphrase))") {
                    try Self.open(path, passphrase: passphrase, readOnly: readOnly)
                }
            }
        }
        #expect(try Self.files(path) == before, "a failed open changed the store")
        #expect(StoreInspector.verify(path: path, passphrase: "wrong").keyError?.code == .wrongEncryptionKey)
        expectError(.wrongEncryptionKey) { try StoreInspector.dump(path: path, records: true) }

        let plain = directory.path + "/plain"
        Store.closing(try Store(path: plain))
        expectError(.wrongEncryptionKey) { try Self.open(plain) }
    }

    @Test func aNewStoreIsEncryptedOnlyWithAPassphrase() throws {
        let directory = try TemporaryDirectory()
        // An interrupted creation of an encrypted store (a key file, no manifest) is redone
        // plaintext when opened without a passphrase.
        let path = directory.path + "/store"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        try StoreCipher.createKeyFile(in: path, fileSystem: PosixFileSystem.shared, storeID: RecordID(high: 1, low: 2),
                                      passphrase: "x", iterations: Self.iterations)
        let store = try Store(path: path)
        #expect(!store.isEncrypted)
        #expect(!FileManager.default.fileExists(atPath: path + "/KEY"))
        store.close()
    }

    // MARK: Tampering

    /// Every byte of every file of a small store flipped in turn: the store opens with the
    /// same contents (or, for the journal's last group, a prefix of them: a torn tail), or
    /// fails with `corruptStore` / `wrongEncryptionKey`; never a crash, never other contents.
    @Test func everyFlippedByteIsDetected() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let (live, removed) = try Self.makeStore(path, dimension: 8, journaled: 3, tail: 2)
        let original = try Self.files(path)
        let expected = try { let store = try Self.open(path, readOnly: true); defer { store.close() }; return try Self.contents(store) }()
        // A torn tail may undo the last group (a removal): what was ever enrolled, by UUID.
        let enrolled = Dictionary(uniqueKeysWithValues: (live + removed).map { ($0.id.string, $0.identity) })
        var trials = 0
        for (name, bytes) in original.sorted(by: { $0.key < $1.key }) where name != "LOCK" {
            for offset in bytes.indices {
                var damaged = bytes
                damaged[offset] ^= 0x20
                try Self.write(damaged, to: path + "/" + name)
                do {
                    let store = try Self.open(path, readOnly: true)
                    let contents = try Self.contents(store)
                    store.close()
                    // Only damage to the journal's last group may be read as a torn tail.
                    #expect(name.hasPrefix("journal-"), "\(name) byte \(offset): flipped, yet the store opened")
                    for (id, identity) in contents { #expect(enrolled[id] == identity, "\(name) byte \(offset): a record changed") }
                } catch let error as LineupError {
                    #expect(error.code == .corruptStore || error.code == .wrongEncryptionKey,
                            "\(name) byte \(offset): \(error)")
                }
                trials += 1
            }
            try Self.write(bytes, to: path + "/" + name)
        }
        #expect(trials > 1_000)
        let store = try Self.open(path, readOnly: true)
        #expect(try Self.contents(store) == expected)
        store.close()
    }

    @Test func chunksSwappedOrMovedBetweenSegmentsAreCorruptStore() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        // Two equal bulk segments of 2.1 MiB each: three chunks apiece.
        let store = try Self.open(path)
        try store.createCollection("c", settings: CollectionSettings(modelName: "M", compression: .none))
        let collection = FileCollection(store: store, state: try store.collection("c"))
        for part in 0..<2 {
            // Identities of equal length, so that both files have the same size.
            try collection.enroll((0..<4_096).map { Self.enrollment((part + 1) * 10_000 + $0, dimension: 128).0 })
        }
        store.close()
        let first = path + "/segment-0000000000000001.seg", second = path + "/segment-0000000000000002.seg"
        let one = try Self.files(path)["segment-0000000000000001.seg"]!, two = try Self.files(path)["segment-0000000000000002.seg"]!
        #expect(one.count == two.count)
        let header = try one.withUnsafeBytes { try EnvelopeHeader.decode($0) }
        #expect(header.chunkCount == 3)
        let chunk0 = header.chunk(0), chunk1 = header.chunk(1)
        let span0 = chunk0.fileOffset..<(chunk0.fileOffset + chunk0.length + EnvelopeHeader.overhead)
        let span1 = chunk1.fileOffset..<(chunk1.fileOffset + chunk1.length + EnvelopeHeader.overhead)
        #expect(span0.count == span1.count)
        func expectCorrupt(_ what: String) {
            expectError(.corruptStore, Comment(rawValue: what)) { try Self.open(path, readOnly: true) }
        }
        // Two chunks of one file swapped.
        var swapped = one
        swapped.replaceSubrange(span0, with: one[span1])
        swapped.replaceSubrange(span1, with: one[span0])
        try Self.write(swapped, to: first)
        expectCorrupt("chunks swapped")
        // A chunk of the other segment at the same position.
        var moved = one
        moved.replaceSubrange(span1, with: two[span1])
        try Self.write(moved, to: first)
        expectCorrupt("a chunk from another file")
        // The other segment's chunks under this one's header.
        var transplanted = two
        transplanted.replaceSubrange(0..<EnvelopeHeader.size, with: one[0..<EnvelopeHeader.size])
        try Self.write(transplanted, to: first)
        expectCorrupt("another file's chunks")
        // Whole files exchanged.
        try Self.write(two, to: first)
        try Self.write(one, to: second)
        expectCorrupt("files exchanged")
        // Cut at a chunk boundary, with the header's length fixed up.
        var cut = EnvelopeHeader(kind: .segment, chunkSize: header.chunkSize, number: header.number, storeID: header.storeID,
                                 plaintextLength: 2 * header.chunkSize, sessionSalt: header.sessionSalt).encoded()
        cut += one[EnvelopeHeader.size..<header.chunk(2).fileOffset]
        try Self.write(cut, to: first)
        try Self.write(two, to: second)
        expectCorrupt("cut at a chunk boundary")
        try Self.write(one, to: first)
        let reopened = try Self.open(path, readOnly: true)
        #expect(try reopened.collection("c").identityMap().count == 8_192)
        reopened.close()
    }

    /// The journal's records with their offsets, as the reader sees them.
    static func journalRecords(_ bytes: [UInt8], number: UInt64) -> [(record: JournalFormat.Record, offset: Int, end: Int)] {
        var records: [(JournalFormat.Record, Int, Int)] = []
        var offset = FormatConstants.journalHeaderSize
        while case .record(let record, let next) = bytes.withUnsafeBytes({ JournalFormat.decodeRecord($0, at: offset, journalNumber: number) }) {
            records.append((record, offset, next))
            offset = next
        }
        return records
    }

    @Test func journalRecordsSwappedMovedOrReplayedAreCorruptStore() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let store = try Self.open(path)
        try store.createCollection("c", settings: CollectionSettings(modelName: "M", compression: .none))
        let collection = FileCollection(store: store, state: try store.collection("c"))
        for index in 0..<3 { try collection.enroll([Self.enrollment(index, dimension: 8).0]) }
        let oldName = "journal-0000000000000001.log"
        let old = try Self.files(path)[oldName]!
        try store.checkpointNow()
        for index in 3..<6 { try collection.enroll([Self.enrollment(index, dimension: 8).0]) }
        store.close()
        let name = "journal-0000000000000002.log"
        let journal = try Self.files(path)[name]!
        let records = Self.journalRecords(journal, number: 2)
        #expect(records.count == 3)

        func rebuilt(_ replace: [(index: Int, payload: [UInt8])]) -> [UInt8] {
            var bytes = Array(journal[0..<FormatConstants.journalHeaderSize])
            for (index, entry) in records.enumerated() {
                var record = entry.record
                if let swap = replace.first(where: { $0.index == index }) { record.payload = swap.payload }
                bytes += JournalFormat.encodeRecord(record, journalNumber: 2)   // valid CRC
            }
            return bytes
        }
        func expectCorrupt(_ bytes: [UInt8], _ what: String) throws {
            try Self.write(bytes, to: path + "/" + name)
            expectError(.corruptStore, Comment(rawValue: what)) { try Self.open(path, readOnly: true) }
        }
        // Payloads of two records exchanged (headers and checksums valid).
        try expectCorrupt(rebuilt([(0, records[1].record.payload), (1, records[0].record.payload)]), "payloads swapped")
        // The last record's payload in place of the first's.
        try expectCorrupt(rebuilt([(0, records[2].record.payload)]), "payload moved")
        // A record of the previous journal replayed at the same position of this one.
        let replay = Self.journalRecords(old, number: 1)[0].record.payload
        try expectCorrupt(rebuilt([(0, replay)]), "record replayed from an older journal")
        // The same record header with the sequence changed.
        var renumbered = Array(journal[0..<FormatConstants.journalHeaderSize])
        for (index, entry) in records.enumerated() {
            var record = entry.record
            if index == 2 { record.isFirst = false }
            renumbered += JournalFormat.encodeRecord(record, journalNumber: 2)
        }
        try expectCorrupt(renumbered, "flags changed")
        try Self.write(journal, to: path + "/" + name)
        let reopened = try Self.open(path, readOnly: true)
        #expect(try reopened.collection("c").identityMap().count == 6)
        reopened.close()
    }

    // MARK: Rekey

    @Test func rekeyKeepsTheDataAndChangesOnlyTheKeyFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let (live, _) = try Self.makeStore(path)
        let store = try Self.open(path)
        let before = try Self.files(path)
        try store.rekey(newPassphrase: "new passphrase", kdfIterations: Self.iterations)
        let after = try Self.files(path)
        #expect(after.filter { $0.key != "KEY" } == before.filter { $0.key != "KEY" })
        #expect(after["KEY"] != before["KEY"])
        // The store goes on writing under the same data key.
        let collection = FileCollection(store: store, state: try store.collection(Self.collectionName))
        try collection.enroll([Self.enrollment(500, dimension: 16).0])
        store.close()
        expectError(.wrongEncryptionKey) { try Self.open(path) }
        let reopened = try Self.open(path, passphrase: "new passphrase")
        #expect(try Self.contents(reopened).count == live.count + 1)
        reopened.close()
        let plain = directory.path + "/plain"
        let plainStore = try Store(path: plain)
        expectError(.invalidArgument) { try plainStore.rekey(newPassphrase: "x") }
        plainStore.close()
    }

    /// A power loss after each durability point of an open and a rekey, with unsynced data
    /// kept, dropped or garbled: the store opens with the old passphrase or the new one,
    /// with all its data.
    @Test func rekeyIsCrashSafeAtEveryStep() throws {
        let directory = try TemporaryDirectory()
        let template = directory.path + "/template"
        let (live, _) = try Self.makeStore(template)
        let expected = Dictionary(uniqueKeysWithValues: live.map { ($0.id.string, $0.identity) })
        let counting = FaultInjectingFileSystem()
        do {
            let store = try Self.open(template, fileSystem: counting)
            try store.rekey(newPassphrase: "second", kdfIterations: Self.iterations)
            store.close()
        }
        let points = counting.durabilityPoints
        #expect(points >= 4)
        var outcomes: [String: Int] = [:]
        for point in 1...points {
            for mode in FaultInjectingFileSystem.UnsyncedData.allCases {
                let path = directory.path + "/trial"
                try? FileManager.default.removeItem(atPath: path)
                try FileManager.default.copyItem(atPath: template, toPath: path)
                // Start from a key file that passed the second durability point: rekey it back.
                let setup = try Self.open(path, passphrase: "second")
                try setup.rekey(newPassphrase: Self.passphrase, kdfIterations: Self.iterations)
                setup.close()
                let fileSystem = FaultInjectingFileSystem()
                try fileSystem.adoptDurable(path)
                fileSystem.crash(afterDurabilityPoint: point)
                do {
                    let store = try Self.open(path, fileSystem: fileSystem)
                    try store.rekey(newPassphrase: "second", kdfIterations: Self.iterations)
                    store.close()
                } catch {}
                try fileSystem.simulatePowerLoss(path, unsynced: mode, seed: UInt64(point))
                var opened: String?
                for passphrase in [Self.passphrase, "second"] {
                    let store: Store
                    do {
                        store = try Self.open(path, passphrase: passphrase, readOnly: true)
                    } catch let error as LineupError {
                        #expect(error.code == .wrongEncryptionKey, "point \(point) \(mode): \(error)")
                        continue
                    }
                    #expect(try Self.contents(store) == expected, "point \(point) \(mode)")
                    store.close()
                    opened = passphrase
                }
                #expect(opened != nil, "after durability point \(point) (\(mode)) neither passphrase opens the store")
                outcomes[opened ?? "neither", default: 0] += 1
            }
        }
        #expect(outcomes[Self.passphrase, default: 0] > 0 && outcomes["second", default: 0] > 0)
    }

    // MARK: Nonces

    /// The session salts and nonces of a journal's sealed records: (salt, epoch, counter).
    static func nonces(_ bytes: [UInt8], number: UInt64) -> [(salt: [UInt8], epoch: UInt32, counter: UInt64)] {
        journalRecords(bytes, number: number).map { entry in
            entry.record.payload.withUnsafeBytes {
                (Array($0[0..<12]), UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self)),
                 UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
            }
        }
    }

    @Test func everyWriterSessionHasANewEpochEvenAfterACrash() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        // Session 1 writes records, and dies with them unsynced (durability .processCrash);
        // the power loss keeps them. Session 2 cuts nothing and appends: its nonces must use
        // a new epoch.
        var all: [(salt: [UInt8], epoch: UInt32, counter: UInt64)] = []
        let fileSystem = FaultInjectingFileSystem()
        do {
            let store = try Store(path: path, fileSystem: fileSystem, durability: .processCrash, passphrase: Self.passphrase,
                                  kdfIterations: Self.iterations)
            try store.createCollection("c", settings: CollectionSettings(modelName: "M", compression: .none))
            let collection = FileCollection(store: store, state: try store.collection("c"))
            for index in 0..<4 { try collection.enroll([Self.enrollment(index, dimension: 8).0]) }
            fileSystem.crash(afterDurabilityPoint: fileSystem.durabilityPoints + 1)
            try? collection.enroll([Self.enrollment(9, dimension: 8).0])
        }
        try fileSystem.simulatePowerLoss(path, unsynced: .kept)
        for session in 0..<3 {
            let store = try Self.open(path)
            let collection = FileCollection(store: store, state: try store.collection("c"))
            for index in 0..<3 { try collection.enroll([Self.enrollment(100 * (session + 1) + index, dimension: 8).0]) }
            store.close()
        }
        let journal = try Self.files(path)["journal-0000000000000001.log"]!
        all = Self.nonces(journal, number: 1)
        #expect(all.count >= 9)
        #expect(Set(all.map { "\($0.salt):\($0.epoch):\($0.counter)" }).count == all.count, "a nonce repeated")
        let epochs = all.map(\.epoch)
        #expect(epochs == epochs.sorted() && Set(epochs).count >= 4, "epochs \(epochs)")
        // One salt a session.
        #expect(Set(all.map(\.salt)).count == Set(epochs).count)
    }

    /// Two copies of one store (or a store and its restored backup) read the same epoch; their
    /// sessions still seal under different keys.
    @Test func copiesOfAStoreSealUnderDifferentSessionKeys() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store", copy = directory.path + "/copy"
        _ = try Self.makeStore(path)
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        var sealed: [(salt: [UInt8], epoch: UInt32, counter: UInt64)] = []
        for store in [path, copy] {
            let opened = try Self.open(store)
            let collection = FileCollection(store: opened, state: try opened.collection(Self.collectionName))
            try collection.enroll([Self.enrollment(777, dimension: 16).0])
            opened.close()
            let journal = try Self.files(store).first { $0.key.hasPrefix("journal-") }!
            let number = UInt64(journal.key.dropFirst(8).prefix(16), radix: 16)!
            sealed.append(Self.nonces(journal.value, number: number).last!)
        }
        #expect(sealed[0].epoch == sealed[1].epoch && sealed[0].counter == sealed[1].counter, "the same nonce")
        #expect(sealed[0].salt != sealed[1].salt, "under the same session key")
        // A missing key file is damage, not a wrong passphrase.
        try FileManager.default.removeItem(atPath: copy + "/KEY")
        expectError(.corruptStore) { try Self.open(copy) }
        expectError(.corruptStore) { try Self.open(copy, passphrase: nil) }
    }
}

extension Store {
    /// Closes `store` (tests that only need a store to exist).
    static func closing(_ store: Store) { store.close() }
}

extension CLITests {
    /// The README's command-line tool on an encrypted store: `create --encrypt`, the passphrase from a file or
    /// `LINEUP_PASSPHRASE`, `info`, `verify`, `dump`, `rekey`, and the errors.
    @Test func encryptedStoreThroughTheTool() throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/store"
        var rng = SeededGenerator(seed: 5)
        let vectors = (0..<12).map { _ in rng.vector(16) }
        try Data(Self.npy(vectors)).write(to: URL(fileURLWithPath: directory + "/vectors.npy"))
        try Data((0..<12).map { "agent \($0)" }.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: directory + "/ids.txt"))
        try Data(Self.npy(Array(vectors[3..<4]))).write(to: URL(fileURLWithPath: directory + "/probe.npy"))
        let key = directory + "/key.txt", newKey = directory + "/new-key.txt", empty = directory + "/empty.txt"
        try Data("first passphrase\n".utf8).write(to: URL(fileURLWithPath: key))
        try Data("second passphrase\r\n".utf8).write(to: URL(fileURLWithPath: newKey))
        try Data().write(to: URL(fileURLWithPath: empty))
        let withKey = ["--passphrase-file", key]

        var output = try Self.run(["create", store, "people", "--encrypt"], in: directory)
        #expect(output.status == 1 && output.stderr.contains("invalidArgument"), "--encrypt without a passphrase")
        output = try Self.run(["create", store, "people", "--encrypt", "--passphrase-file", empty], in: directory)
        #expect(output.status == 1 && output.stderr.contains("empty"))
        output = try Self.run(["create", store, "people"], in: directory, environment: ["LINEUP_PASSPHRASE": "first passphrase"])
        #expect(output.status == 1 && output.stderr.contains("--encrypt"), "a passphrase for a new store needs --encrypt")
        #expect(!FileManager.default.fileExists(atPath: store + "/MANIFEST"))

        output = try Self.run(["create", store, "people", "--encrypt"] + withKey, in: directory, umask: "0")
        Self.expectSuccess(output, "create --encrypt")
        for name in try FileManager.default.contentsOfDirectory(atPath: store) {
            #expect(try FileManager.default.attributesOfItem(atPath: store + "/" + name)[.posixPermissions] as? Int == 0o600,
                    "\(name) under umask 0")
        }
        output = try Self.run(["import", store, "people", "--vectors", directory + "/vectors.npy",
                               "--identities", directory + "/ids.txt"], in: directory,
                              environment: ["LINEUP_PASSPHRASE": "first passphrase"])
        Self.expectSuccess(output, "import with LINEUP_PASSPHRASE")
        output = try Self.run(["info", store, "people", "--json"] + withKey, in: directory)
        Self.expectSuccess(output, "info")
        #expect((try Self.json(output.stdout) as? [String: Any])?["encrypted"] as? Bool == true)
        output = try Self.run(["verify", store] + withKey, in: directory)
        Self.expectSuccess(output, "verify")
        #expect(output.lines.last == "intact")

        for arguments in [["info", store, "people", "--json"], ["verify", store], ["dump", store],
                          ["identify", store, "people", "--probes", directory + "/probe.npy"]] {
            output = try Self.run(arguments, in: directory)
            #expect(output.status == 2 && output.stderr.contains("wrongEncryptionKey"), "\(arguments[0]) without the passphrase")
            output = try Self.run(arguments + ["--passphrase-file", newKey], in: directory)
            #expect(output.status == 2 && output.stderr.contains("wrongEncryptionKey"), "\(arguments[0]) with a wrong passphrase")
            #expect(!output.stderr.contains("passphrase\n") && !output.stderr.contains("second passphrase"), "no key material in errors")
        }

        output = try Self.run(["rekey", store, "--new-passphrase-file", newKey] + withKey, in: directory)
        Self.expectSuccess(output, "rekey")
        output = try Self.run(["info", store, "people", "--json"] + withKey, in: directory)
        #expect(output.status == 2 && output.stderr.contains("wrongEncryptionKey"), "the old passphrase after rekey")
        output = try Self.run(["identify", store, "people", "--probes", directory + "/probe.npy", "--passphrase-file", newKey],
                              in: directory)
        Self.expectSuccess(output, "identify with the new passphrase")
        #expect(output.stdout.contains("\"agent 3\""))
        output = try Self.run(["dump", store, "--records", "--passphrase-file", newKey], in: directory)
        Self.expectSuccess(output, "dump")
        #expect(output.stdout.contains("(encrypted)") && output.stdout.contains("\"agent 11\""))

        // compact, and info with space accounting.
        output = try Self.run(["remove", store, "people", "--identity", "agent 5", "--passphrase-file", newKey], in: directory)
        Self.expectSuccess(output, "remove")
        output = try Self.run(["info", store, "people", "--json", "--space", "--passphrase-file", newKey], in: directory)
        Self.expectSuccess(output, "info --space")
        var space = (try Self.json(output.stdout) as? [String: Any])?["space"] as? [String: Any]
        #expect(space?["removed_faceprints"] as? Int == 1 && (space?["dead_bytes"] as? Int ?? 0) > 0)
        output = try Self.run(["compact", store, "--passphrase-file", newKey], in: directory)
        Self.expectSuccess(output, "compact")
        #expect(output.stdout.contains("faceprints erased:  1"))
        output = try Self.run(["info", store, "people", "--json", "--space", "--passphrase-file", newKey], in: directory)
        space = (try Self.json(output.stdout) as? [String: Any])?["space"] as? [String: Any]
        #expect(space?["removed_faceprints"] as? Int == 0 && space?["dead_bytes"] as? Int == 0 && space?["live_faceprints"] as? Int == 11)
        output = try Self.run(["info", store, "people", "--passphrase-file", newKey], in: directory)
        #expect(output.stdout.contains("dead bytes:       0"))
        output = try Self.run(["compact", store, "nobody", "--passphrase-file", newKey], in: directory)
        #expect(output.status == 1 && output.stderr.contains("noCollectionFound"))
        output = try Self.run(["rekey", directory + "/no-such-store", "--new-passphrase-file", newKey] + withKey, in: directory)
        #expect(output.status != 0 && !FileManager.default.fileExists(atPath: directory + "/no-such-store"))

        // A plaintext store refuses a passphrase, and has none to change.
        let plain = directory + "/plain"
        Self.expectSuccess(try Self.run(["create", plain, "people"], in: directory, umask: "0277"), "create under umask 0277")
        #expect(try FileManager.default.attributesOfItem(atPath: plain)[.posixPermissions] as? Int == 0o700)
        output = try Self.run(["info", plain, "people", "--json"] + withKey, in: directory)
        #expect(output.status == 2 && output.stderr.contains("wrongEncryptionKey"))
        output = try Self.run(["rekey", plain, "--new-passphrase-file", newKey], in: directory)
        #expect(output.status != 0)
    }
}

extension SDKTests {
    /// `ConfigurationOptions.encryptionKey` on the on-disk backend, and `rekey(newEncryptionKey:)`.
    @Suite struct Encryption {
        @Test func encryptedStoreThroughTheSDK() throws {
            ProcessConnection.resetForTesting()
            defer { ProcessConnection.resetForTesting() }
            let directory = try TemporaryDirectory()
            let path = directory.path + "/store"
            var rng = SeededGenerator(seed: 11)
            var options = ConfigurationOptions()
            options.dbms = .file
            options.encryptionKey = "sdk passphrase"
            options.vectorCompression = .fp16
            let sdk = SDK(options: options)
            try sdk.createDatabaseConnection(path)
            try sdk.createLoadCollection("people")
            let faceprint = rng.faceprint(32)
            let uuid = try sdk.enrollFaceprint(faceprint, identity: "alice")
            let metadata = try sdk.getCollectionMetadata("people")
            #expect(metadata.encrypted && metadata.featureVectorSizeBytes == 64)
            let connection = ProcessConnection.connection

            // Without the key, or with a wrong or empty one: the connection in place stays.
            for key in [nil, "wrong", ""] as [String?] {
                var other = options
                other.encryptionKey = key
                expectError(key == "" ? .invalidArgument : .wrongEncryptionKey) { try SDK(options: other).createDatabaseConnection(path) }
                #expect(ProcessConnection.connection === connection)
            }
            #expect(try sdk.identifyTopCandidate(faceprint)?.uuid == uuid)

            try sdk.rekey(newEncryptionKey: "rotated")
            expectError(.invalidArgument) { try sdk.rekey(newEncryptionKey: "") }
            // The old key no longer connects, even to the store this process has open.
            expectError(.wrongEncryptionKey) { try SDK(options: options).createDatabaseConnection(path) }
            var rotated = options
            rotated.encryptionKey = "rotated"
            let again = SDK(options: rotated)
            try again.createDatabaseConnection(path)
            try again.loadCollection("people")
            #expect(try again.identifyTopCandidate(faceprint)?.uuid == uuid)
            #expect(try again.getCollectionMetadata("people").encrypted)

            // The memory backend has no key to change.
            try freshSDK().createLoadCollection("m")
            expectError(.invalidArgument) { try SDK(options: memoryOptions()).rekey(newEncryptionKey: "x") }
        }
    }
}
