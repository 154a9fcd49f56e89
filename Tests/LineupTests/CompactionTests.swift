import Foundation
import Testing
@testable import Lineup

/// Compaction (FORMAT.md, "Compaction"): space given back, erasure, crash safety at every
/// step, concurrency, the automatic policy, space accounting, deleteCollection.
@Suite struct CompactionTests {
    static let settings = CollectionSettings(modelName: "M", compression: .none)

    struct Fixture {
        var live: [EncryptionTests.Enrolled]
        var removed: [EncryptionTests.Enrolled]
    }

    /// A store with collection "c": `count` enrollments sealed every `sealRows` rows (so in
    /// several segments), then every other one of the first `removeFirst` removed.
    static func makeStore(_ path: String, count: Int = 120, sealRows: Int = 40, removeFirst: Int = 80,
                          passphrase: String? = nil) throws -> Fixture {
        let store = try Store(path: path, sealRows: sealRows, passphrase: passphrase, kdfIterations: EncryptionTests.iterations)
        defer { store.close() }
        try store.createCollection("c", settings: settings)
        let collection = FileCollection(store: store, state: try store.collection("c"))
        var all: [EncryptionTests.Enrolled] = []
        for index in 0..<count {
            let (prepared, enrolled) = EncryptionTests.enrollment(index, dimension: 16)
            try collection.enroll([prepared])
            all.append(enrolled)
        }
        try store.checkpointNow()
        var removed: [EncryptionTests.Enrolled] = []
        for index in stride(from: 0, to: removeFirst, by: 2) {
            try collection.remove(id: all[index].id)
            removed.append(all[index])
        }
        return Fixture(live: all.filter { entry in !removed.contains { $0.id == entry.id } }, removed: removed)
    }

    static func expected(_ entries: [EncryptionTests.Enrolled]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.id.string, $0.identity) })
    }

    static func directorySize(_ path: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: path).reduce(0) {
            $0 + ((try FileManager.default.attributesOfItem(atPath: path + "/" + $1)[.size] as? Int) ?? 0)
        }
    }

    /// Where `needle` occurs in the store's files, if anywhere.
    static func find(_ needle: [UInt8], in files: [String: [UInt8]]) -> String? {
        for (name, bytes) in files where bytes.count >= needle.count {
            for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
                if Array(bytes[start..<(start + needle.count)]) == needle { return name }
            }
        }
        return nil
    }

    static func needles(_ entry: EncryptionTests.Enrolled) -> [(String, [UInt8])] {
        var id = ByteWriter()
        id.recordID(entry.id)
        var vector = ByteWriter()
        for value in entry.vector[0..<4] { vector.f32(value) }
        return [("identity", Array((entry.identity + "\u{0}").utf8.dropLast())), ("UUID", id.bytes), ("vector", vector.bytes)]
    }

    @Test func compactionErasesRemovedFaceprintsAndGivesTheirSpaceBack() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let fixture = try Self.makeStore(path)
        // Before: the removed ones are still in the files (tombstones).
        let before = try EncryptionTests.files(path)
        #expect(fixture.removed.contains { entry in Self.needles(entry).contains { Self.find($0.1, in: before) != nil } })
        let sizeBefore = try Self.directorySize(path)

        let store = try Store(path: path, sealRows: 40)
        let spaceBefore = try store.collection("c").space()
        #expect(spaceBefore.removedFaceprints == fixture.removed.count && spaceBefore.deadBytes > 0)
        #expect(spaceBefore.liveFaceprints == fixture.live.count)
        let report = try store.compact()
        #expect(report.faceprintsErased == fixture.removed.count)
        #expect(report.faceprintsCopied + report.faceprintsErased == report.segmentsRewritten * 40 || report.segmentsRewritten > 0)
        let spaceAfter = try store.collection("c").space()
        #expect(spaceAfter.removedFaceprints == 0 && spaceAfter.deadBytes == 0)
        #expect(spaceAfter.liveFaceprints == fixture.live.count)
        #expect(try store.collection("c").identityMap() == Self.expected(fixture.live))
        // Identification is unchanged.
        let snapshot = try store.collection("c").snapshot()
        for entry in fixture.live.prefix(10) {
            let hits = try Matcher.search(snapshot, probe: entry.vector, k: 1, threshold: 0.9)
            #expect(hits.count == 1 && snapshot.blocks[hits[0].block].source.recordID(at: hits[0].row) == entry.id)
        }
        for entry in fixture.removed.prefix(10) {
            let hits = try Matcher.search(snapshot, probe: entry.vector, k: 1, threshold: 0.999)
            #expect(hits.isEmpty)
        }
        store.close()

        let after = try EncryptionTests.files(path)
        for entry in fixture.removed {
            for (what, needle) in Self.needles(entry) {
                if let file = Self.find(needle, in: after) { Issue.record("removed \(what) of \(entry.identity) still in \(file)") }
            }
        }
        // The needles would find live rows (identities are LZ4-compressed, so only UUIDs and
        // vectors are looked for).
        for entry in fixture.live.prefix(5) {
            for (what, needle) in Self.needles(entry) where what != "identity" { #expect(Self.find(needle, in: after) != nil, "\(what)") }
        }
        #expect(try Self.directorySize(path) < sizeBefore)
        #expect(StoreInspector.verify(path: path).isIntact)
        let reopened = try Store(path: path)
        #expect(try reopened.collection("c").identityMap() == Self.expected(fixture.live))
        reopened.close()
    }

    @Test func smallSegmentsAreMergedAndEmptySegmentsDropped() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let fixture = try Self.makeStore(path, count: 100, sealRows: 10, removeFirst: 0)
        let store = try Store(path: path)
        defer { store.close() }
        #expect(try store.collection("c").space().segments == 10)
        // Remove every row of the first segment: it disappears.
        let collection = FileCollection(store: store, state: try store.collection("c"))
        for entry in fixture.live.prefix(10) { try collection.remove(id: entry.id) }
        let report = try store.compact(collection: "c")
        #expect(report.segmentsRewritten == 10 && report.segmentsWritten == 1 && report.faceprintsErased == 10)
        #expect(try store.collection("c").space().segments == 1)
        #expect(try store.collection("c").identityMap() == Self.expected(Array(fixture.live.dropFirst(10))))
        let segmentFiles = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("segment-") }
        #expect(segmentFiles.count == 1)
        expectError(.noCollectionFound) { try store.compact(collection: "missing") }
        // Nothing to do: nothing changes.
        #expect(try store.compact().segmentsRewritten == 0)
    }

    @Test func aSnapshotKeepsReplacedFilesUntilReleased() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let fixture = try Self.makeStore(path)
        let store = try Store(path: path)
        defer { store.close() }
        var snapshot: CollectionSnapshot? = try store.collection("c").snapshot()
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("segment-") })
        try store.compact()
        let during = Set(try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("segment-") })
        #expect(before.isSubset(of: during), "a replaced file went while a snapshot still used it")
        // The old snapshot still answers as of its time.
        let entry = fixture.removed[0]
        let hits = try Matcher.search(snapshot!, probe: entry.vector, k: 1, threshold: 0.9)
        #expect(hits.isEmpty, "removed before the snapshot")
        let live = fixture.live[0]
        #expect(try Matcher.search(snapshot!, probe: live.vector, k: 1, threshold: 0.9).count == 1)
        snapshot = nil
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("segment-") })
        #expect(after.isDisjoint(with: before), "replaced files stay after the last snapshot went: \(after)")
    }

    /// A power loss after each durability point of a compaction (with unsynced data kept,
    /// dropped or garbled): the store is as before or as after — the same live Faceprints,
    /// none lost, none doubled — and verifies clean.
    @Test func compactionIsCrashSafeAtEveryStep() throws {
        let directory = try TemporaryDirectory()
        let template = directory.path + "/template"
        let fixture = try Self.makeStore(template)
        let expected = Self.expected(fixture.live)
        let counting = FaultInjectingFileSystem()
        try counting.adoptDurable(template)
        do {
            let copy = directory.path + "/count"
            try FileManager.default.copyItem(atPath: template, toPath: copy)
            try counting.adoptDurable(copy)
            let store = try Store(path: copy, fileSystem: counting)
            try store.compact()
            store.close()
        }
        let points = counting.durabilityPoints
        #expect(points >= 6)
        for point in 1...points {
            for mode in FaultInjectingFileSystem.UnsyncedData.allCases {
                let path = directory.path + "/trial"
                try? FileManager.default.removeItem(atPath: path)
                try FileManager.default.copyItem(atPath: template, toPath: path)
                let fileSystem = FaultInjectingFileSystem()
                try fileSystem.adoptDurable(path)
                fileSystem.crash(afterDurabilityPoint: point)
                do {
                    let store = try Store(path: path, fileSystem: fileSystem)
                    try store.compact()
                    store.close()
                } catch {}
                try fileSystem.simulatePowerLoss(path, unsynced: mode, seed: UInt64(point))
                let store = try Store(path: path)
                #expect(try store.collection("c").identityMap() == expected, "power loss after point \(point) (\(mode))")
                store.close()
                let report = StoreInspector.verify(path: path)
                #expect(report.isIntact, "point \(point) (\(mode)): \(report.problems)")
            }
        }
    }

    /// The N-th write, sync or rename of a compaction fails: nothing acknowledged is lost,
    /// the store reopens with the same contents, and no file descriptor leaks.
    @Test(arguments: [FaultInjectingFileSystem.Operation.write, .sync, .rename, .syncDirectory])
    func failedIOLeavesTheStoreAsItWas(operation: FaultInjectingFileSystem.Operation) throws {
        let directory = try TemporaryDirectory()
        let template = directory.path + "/template"
        let fixture = try Self.makeStore(template)
        let expected = Self.expected(fixture.live)
        let descriptorsBefore = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        var n = 1
        while n < 60 {
            let path = directory.path + "/trial"
            try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: template, toPath: path)
            let fileSystem = FaultInjectingFileSystem()
            let store = try Store(path: path, fileSystem: fileSystem)
            fileSystem.fail(operation, at: n)
            var completed = false
            do {
                try store.compact()
                completed = true
            } catch let error as LineupError {
                #expect([.ioError, .readOnly].contains(error.code), "\(operation) #\(n): \(error)")
            }
            // Whatever happened, the live Faceprints are the same, now and after a reopen.
            #expect(try store.collection("c").identityMap() == expected, "\(operation) #\(n)")
            store.close()
            let reopened = try Store(path: path)
            #expect(try reopened.collection("c").identityMap() == expected, "\(operation) #\(n) after reopen")
            reopened.close()
            if completed && fileSystem.count(operation) < n { break }
            n += 1
        }
        #expect(n > 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count <= descriptorsBefore + 8)
    }

    /// Enrollment, removal and identification from other threads while compactions run:
    /// every answer is right, and the end state holds exactly what was acknowledged.
    @Test func enrollmentAndIdentificationGoOnDuringCompaction() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let fixture = try Self.makeStore(path, count: 400, sealRows: 50, removeFirst: 200)
        let store = try Store(path: path, sealRows: 50)
        defer { store.close() }
        let collection = FileCollection(store: store, state: try store.collection("c"))
        let enrolled = Locked<[EncryptionTests.Enrolled]>([])
        let removedMeanwhile = Locked<[EncryptionTests.Enrolled]>([])
        let wrong = Locked<[String]>([])
        let done = Locked(false)
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            var index = 10_000
            while !done.withLock({ $0 }) {
                let (prepared, entry) = EncryptionTests.enrollment(index, dimension: 16)
                if (try? collection.enroll([prepared])) != nil { enrolled.withLock { $0.append(entry) } }
                index += 1
            }
        }
        DispatchQueue.global().async(group: group) {
            var position = 1
            while !done.withLock({ $0 }) && position < fixture.live.count {
                let victim = fixture.live[position]
                if (try? collection.remove(id: victim.id)) != nil { removedMeanwhile.withLock { $0.append(victim) } }
                position += 7
            }
        }
        DispatchQueue.global().async(group: group) {
            var round = 0
            while !done.withLock({ $0 }) {
                let entry = fixture.live[(round * 13) % fixture.live.count]
                let wasRemoved = removedMeanwhile.withLock { list in list.contains { $0.id == entry.id } }
                if let snapshot = try? collection.snapshot(), let hits = try? Matcher.search(snapshot, probe: entry.vector, k: 1, threshold: 0.99) {
                    let found = hits.first.map { snapshot.blocks[$0.block].source.recordID(at: $0.row) }
                    if let found, found != entry.id { wrong.withLock { $0.append("probe \(entry.identity) found another") } }
                    if found == nil && !wasRemoved && !removedMeanwhile.withLock({ list in list.contains { $0.id == entry.id } }) {
                        wrong.withLock { $0.append("probe \(entry.identity) found nothing") }
                    }
                }
                let removedEntry = fixture.removed[round % fixture.removed.count]
                if let snapshot = try? collection.snapshot(),
                   let hits = try? Matcher.search(snapshot, probe: removedEntry.vector, k: 1, threshold: 0.999), !hits.isEmpty {
                    wrong.withLock { $0.append("removed \(removedEntry.identity) returned") }
                }
                round += 1
            }
        }
        for _ in 0..<4 {
            try store.compact()
            Thread.sleep(forTimeInterval: 0.02)
        }
        done.withLock { $0 = true }
        group.wait()
        try store.compact()
        #expect(wrong.withLock { $0 }.isEmpty, "\(wrong.withLock { $0 }.prefix(5))")
        let gone = Set(removedMeanwhile.withLock { $0 }.map(\.id))
        let expected = Self.expected(fixture.live.filter { !gone.contains($0.id) } + enrolled.withLock { $0 })
        #expect(try store.collection("c").identityMap() == expected)
        #expect(try store.collection("c").space().removedFaceprints == 0)
        store.close()
        let reopened = try Store(path: path)
        #expect(try reopened.collection("c").identityMap() == expected)
        reopened.close()
    }

    @Test func automaticCompactionRewritesSegmentsPastTheDeadFraction() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let fixture = try Self.makeStore(path, count: 120, sealRows: 40, removeFirst: 0)
        let store = try Store(path: path, sealRows: 40, compaction: .automatic)
        let collection = FileCollection(store: store, state: try store.collection("c"))
        // A fifth of the first segment: below the quarter, nothing happens.
        for entry in fixture.live.prefix(8) { try collection.remove(id: entry.id) }
        store.compactionsRunning.wait()
        #expect(try store.collection("c").space().removedFaceprints == 8)
        // Past a quarter: the segment is rewritten in the background.
        for entry in fixture.live[8..<12] { try collection.remove(id: entry.id) }
        // The rewrite starts at the tenth removal; removals after it are carried over into the
        // new file as tombstones (too few to pass the threshold again).
        var waited = 0
        while try store.collection("c").space().removedFaceprints >= 10 && waited < 1_000 {
            Thread.sleep(forTimeInterval: 0.01)
            waited += 1
        }
        store.compactionsRunning.wait()
        let space = try store.collection("c").space()
        #expect(space.removedFaceprints < 10 && space.liveFaceprints == 108, "\(space)")
        #expect(try store.collection("c").identityMap() == Self.expected(Array(fixture.live.dropFirst(12))))
        store.close()
    }

    @Test func deletingACollectionFreesItsFilesAndJournalRecords() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let fixture = try Self.makeStore(path, count: 60, sealRows: 40, removeFirst: 0)
        let store = try Store(path: path)
        try store.createCollection("other", settings: Self.settings)
        let other = FileCollection(store: store, state: try store.collection("other"))
        let (kept, keptEntry) = EncryptionTests.enrollment(9_999, dimension: 16)
        try other.enroll([kept])
        try store.deleteCollection("c")
        store.close()
        let files = try EncryptionTests.files(path)
        for entry in fixture.live {
            for (what, needle) in Self.needles(entry) where what != "identity" {
                if let file = Self.find(needle, in: files) { Issue.record("\(what) of \(entry.identity) still in \(file)") }
            }
        }
        // Only the other collection's segment (its tail, sealed by the checkpoint) is left.
        #expect(files.keys.filter { $0.hasPrefix("segment-") }.count == 1)
        let reopened = try Store(path: path)
        #expect(try reopened.collection("other").identityMap() == [keptEntry.id.string: keptEntry.identity])
        reopened.close()
    }

    @Test func encryptedStoresCompactToo() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/store"
        let fixture = try Self.makeStore(path, passphrase: EncryptionTests.passphrase)
        let store = try EncryptionTests.open(path)
        let report = try store.compact()
        #expect(report.faceprintsErased == fixture.removed.count)
        store.close()
        let reopened = try EncryptionTests.open(path)
        #expect(try reopened.collection("c").identityMap() == Self.expected(fixture.live))
        #expect(try reopened.collection("c").space().removedFaceprints == 0)
        reopened.close()
        #expect(StoreInspector.verify(path: path, passphrase: EncryptionTests.passphrase).isIntact)
    }
}
