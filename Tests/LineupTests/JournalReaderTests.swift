import Testing
@testable import Lineup

/// FORMAT.md §9 "Recovery", steps 5–6, on journals built in memory: a torn tail is cut back
/// silently; damage before a later acknowledged group is `corruptStore`; nothing changed is
/// ever returned.
@Suite struct JournalReaderTests {
    static let storeID = RecordID(high: 0xA1A2_A3A4_A5A6_A7A8, low: 0xB1B2_B3B4_B5B6_B7B8)
    static let journalNumber: UInt64 = 7
    static let firstSequence: UInt64 = 41

    /// A journal of several commit groups: records, where each starts and ends, and the group
    /// of each record.
    struct Journal {
        var bytes: [UInt8]
        var records: [JournalFormat.Record]
        var starts: [Int]
        var ends: [Int]
        var groupOfRecord: [Int]
        var groupCount: Int

        /// Byte range of group `g`: from its first record's start to its last record's end.
        func range(ofGroup group: Int) -> Range<Int> {
            let members = records.indices.filter { groupOfRecord[$0] == group }
            return starts[members.first!]..<ends[members.last!]
        }
    }

    /// Groups of 1, 3, 2, 1 and 2 records: enroll payloads of assorted lengths (not multiples of
    /// 8, so records carry padding) and remove payloads.
    static func makeJournal(groupSizes: [Int] = [1, 3, 2, 1, 2]) -> Journal {
        var rng = SeededGenerator(seed: 2024)
        var bytes = JournalFormat.encodeHeader(.init(storeID: storeID, journalNumber: journalNumber, firstSequence: firstSequence))
        var journal = Journal(bytes: [], records: [], starts: [], ends: [], groupOfRecord: [], groupCount: groupSizes.count)
        var sequence = firstSequence
        for (group, size) in groupSizes.enumerated() {
            for index in 0..<size {
                let payload: [UInt8]
                let type: RecordType
                if (group + index) % 3 == 2 {
                    type = .remove
                    payload = JournalFormat.encodeRemovals((0...index).map { _ in RecordID.generate() })
                } else {
                    type = .enroll
                    let dimension = 3 + (group + index) % 4
                    payload = JournalFormat.encodeEnrollments((0...(index % 2)).map { entry in
                        .init(id: .generate(), identity: "person \(group)-\(index)-\(entry) ✓",
                              vector: VectorEncoder.encode(unit: VectorEncoder.normalized(rng.vector(dimension)), as: .none),
                              dimension: dimension)
                    })
                }
                let record = JournalFormat.Record(sequence: sequence, collectionID: UInt32(1 + group % 2), type: type,
                                                  isCommit: index == size - 1, payload: payload, isFirst: index == 0)
                sequence += 1
                journal.starts.append(bytes.count)
                bytes += JournalFormat.encodeRecord(record, journalNumber: journalNumber)
                journal.ends.append(bytes.count)
                journal.records.append(record)
                journal.groupOfRecord.append(group)
            }
        }
        journal.bytes = bytes
        return journal
    }

    static func scan(_ bytes: [UInt8], journalNumber: UInt64 = journalNumber, storeID: RecordID = storeID) throws -> JournalReader.Scan {
        try bytes.withUnsafeBytes { try JournalReader.scan($0, journalNumber: journalNumber, storeID: storeID) }
    }

    // MARK: Intact journals

    @Test func intactJournalReadsEveryRecord() throws {
        let journal = Self.makeJournal()
        let scan = try Self.scan(journal.bytes)
        #expect(scan.records == journal.records)
        #expect(scan.validLength == journal.bytes.count)
        #expect(!scan.hasTornTail)
        #expect(scan.nextSequence == Self.firstSequence + UInt64(journal.records.count))
        #expect(scan.header == .init(storeID: Self.storeID, journalNumber: Self.journalNumber, firstSequence: Self.firstSequence))
    }

    @Test func headerOnlyJournalIsEmpty() throws {
        let journal = Self.makeJournal()
        let scan = try Self.scan(Array(journal.bytes[0..<64]))
        #expect(scan.records.isEmpty)
        #expect(scan.validLength == 64)
        #expect(!scan.hasTornTail)
        #expect(scan.nextSequence == Self.firstSequence)
    }

    // MARK: (a) Cut at every offset

    /// A crash can leave the journal cut anywhere: the scan never throws and returns exactly
    /// the records wholly inside the cut.
    @Test func cutAtEveryOffsetReturnsTheWholeRecordsBeforeIt() throws {
        let journal = Self.makeJournal()
        for cut in 64...journal.bytes.count {
            let scan: JournalReader.Scan
            do {
                scan = try Self.scan(Array(journal.bytes[0..<cut]))
            } catch {
                Issue.record("cut at \(cut): threw \(error)")
                continue
            }
            let whole = journal.ends.filter { $0 <= cut }.count
            #expect(scan.records == Array(journal.records.prefix(whole)), "cut at \(cut)")
            let expectedLength = whole == 0 ? 64 : journal.ends[whole - 1]
            #expect(scan.validLength == expectedLength, "cut at \(cut)")
            #expect(scan.validLength <= cut, "cut at \(cut)")
            #expect(scan.hasTornTail == (cut != expectedLength), "cut at \(cut)")
            #expect(scan.nextSequence == Self.firstSequence + UInt64(whole), "cut at \(cut)")
        }
    }

    /// A file preallocated or extended with zeros (a torn write of a whole page) is a torn tail.
    /// Zeros to the end of the file are reserved space (FORMAT.md §5): the clean end, not a
    /// torn tail. Zeros followed by anything else are a torn tail, cut as before.
    @Test func zeroFilledTailIsReservedSpace() throws {
        let journal = Self.makeJournal()
        for extra in [1, 7, 8, 31, 32, 4096, 1 << 20] {
            let scan = try Self.scan(journal.bytes + [UInt8](repeating: 0, count: extra))
            #expect(scan.records == journal.records, "\(extra) zero bytes")
            #expect(scan.validLength == journal.bytes.count)
            #expect(!scan.hasTornTail, "\(extra) zero bytes are reserved space")
            for nonzero in [0, extra / 2, extra - 1] {
                var bytes = journal.bytes + [UInt8](repeating: 0, count: extra)
                bytes[journal.bytes.count + nonzero] = 0x5a
                let torn = try Self.scan(bytes)
                #expect(torn.records == journal.records)
                #expect(torn.validLength == journal.bytes.count)
                #expect(torn.hasTornTail, "a byte \(nonzero) into \(extra) zeros makes them a torn tail")
            }
        }
    }

    // MARK: (b) Flip every bit

    enum Outcome { case corrupt, prefix(Int) }

    /// Scans `bytes`, failing the test for anything but `corruptStore` or a prefix of the
    /// original records.
    static func outcome(_ bytes: [UInt8], _ journal: Journal, comment: String) -> Outcome? {
        do {
            let scan = try scan(bytes)
            guard scan.records.count <= journal.records.count,
                  scan.records == Array(journal.records.prefix(scan.records.count)) else {
                Issue.record("\(comment): the scan returned changed records")
                return nil
            }
            #expect(scan.validLength <= bytes.count, "\(comment)")
            return .prefix(scan.records.count)
        } catch let error as LineupError {
            #expect(error.code == .corruptStore, "\(comment): \(error)")
            return .corrupt
        } catch {
            Issue.record("\(comment): threw \(error)")
            return nil
        }
    }

    /// Every single-bit flip after the header is either reported as corruption or read as a
    /// prefix — never as a changed record — and the damaged record is never returned. When
    /// the damage is followed by a valid commit record and another valid record (FORMAT.md §9
    /// step 6), it is reported.
    @Test func everyFlippedBitIsCorruptionOrAnUnchangedPrefix() {
        let journal = Self.makeJournal()
        var missed: [String] = []
        for bit in (64 * 8)..<(journal.bytes.count * 8) {
            var bytes = journal.bytes
            let offset = bit / 8
            bytes[offset] ^= UInt8(1) << UInt8(bit % 8)
            let record = journal.starts.lastIndex { $0 <= offset }!
            guard let outcome = Self.outcome(bytes, journal, comment: "bit \(bit) (record \(record))") else { continue }
            if case .prefix(let count) = outcome {
                #expect(count <= record, "bit \(bit): the damaged record \(record) was returned")
                // After the damaged record: is there a commit record followed by another record?
                let laterCommit = journal.records.indices.contains { $0 > record && journal.records[$0].isCommit && $0 + 1 < journal.records.count }
                if laterCommit { missed.append("bit \(bit) in record \(record)") }
            }
        }
        #expect(missed.isEmpty, "damage before an acknowledged group read as a torn tail: \(missed.prefix(10)) (\(missed.count) in all)")
    }

    /// FORMAT.md §9: "a bit flipped, after acknowledgement, inside the very last commit group
    /// cannot be told from a torn write, and that group is dropped. Every earlier group is
    /// protected." So a flip anywhere in a group that is followed by at least one complete later
    /// group must be `corruptStore`.
    @Test func everyFlippedBitInAGroupFollowedByAnotherGroupIsCorruption() {
        let journal = Self.makeJournal()
        // Per record: how many of its bit flips were read as a torn tail, of how many.
        var silent: [Int: (missed: Int, of: Int)] = [:]
        for group in 0..<(journal.groupCount - 1) {
            for offset in journal.range(ofGroup: group) {
                let record = journal.starts.lastIndex { $0 <= offset }!
                for bit in 0..<8 {
                    var bytes = journal.bytes
                    bytes[offset] ^= UInt8(1) << UInt8(bit)
                    guard let outcome = Self.outcome(bytes, journal, comment: "byte \(offset) bit \(bit)") else { continue }
                    silent[record, default: (0, 0)].of += 1
                    if case .prefix = outcome { silent[record, default: (0, 0)].missed += 1 }
                }
            }
        }
        let missed = silent.filter { $0.value.missed > 0 }.sorted { $0.key < $1.key }.map { record, counts in
            "record \(record) (group \(journal.groupOfRecord[record])\(journal.records[record].isCommit ? ", its commit record" : ""), "
                + "bytes \(journal.starts[record])..<\(journal.ends[record])): \(counts.missed) of \(counts.of) bit flips"
        }
        #expect(missed.isEmpty, """
            damage inside an acknowledged group followed by a complete later group was read as a torn tail, \
            silently dropping that group and every later one: \(missed.joined(separator: "; "))
            """)
    }

    /// The last group alone: a flip there may be reported or dropped, but never misread.
    @Test func flipsInTheLastGroupNeverChangeARecord() {
        let journal = Self.makeJournal()
        let last = journal.range(ofGroup: journal.groupCount - 1)
        let firstRecordOfLastGroup = journal.groupOfRecord.firstIndex(of: journal.groupCount - 1)!
        for offset in last {
            for bit in 0..<8 {
                var bytes = journal.bytes
                bytes[offset] ^= UInt8(1) << UInt8(bit)
                if case .prefix(let count) = Self.outcome(bytes, journal, comment: "byte \(offset) bit \(bit)") {
                    #expect(count >= firstRecordOfLastGroup, "byte \(offset) bit \(bit): earlier groups must survive")
                }
            }
        }
    }

    /// A torn final group whose pages reached the disk out of order: its first record is
    /// garbage but its later records (including the commit one) are intact. Torn, not corrupt.
    @Test func tornFinalGroupWithLaterPagesIntactIsATornTail() throws {
        let journal = Self.makeJournal(groupSizes: [2, 3])
        var bytes = journal.bytes
        let firstOfLast = journal.groupOfRecord.firstIndex(of: 1)!
        for offset in journal.starts[firstOfLast]..<journal.ends[firstOfLast] { bytes[offset] = 0 }
        let scan = try Self.scan(bytes)
        #expect(scan.records == Array(journal.records.prefix(firstOfLast)))
        #expect(scan.validLength == journal.starts[firstOfLast])
        #expect(scan.hasTornTail)
    }

    /// Damage in a middle record of an earlier group, found at an 8-byte boundary that is not
    /// where the damaged record said the next one starts.
    @Test func damagedLengthBeforeLaterGroupsIsCorruption() {
        let journal = Self.makeJournal()
        var bytes = journal.bytes
        // Record 1 is the first of group 1; make its length claim 8 more bytes (CRC now wrong).
        let start = journal.starts[1]
        bytes[start + 4] &+= 8
        #expect(throws: LineupError.self) { try Self.scan(bytes) }
        #expect(lineupError { try Self.scan(bytes) }?.code == .corruptStore)
    }

    /// Eight garbage bytes between two complete groups shift the later ones off the record
    /// boundary: the scan at every 8-byte boundary still finds them.
    @Test func garbageBetweenGroupsIsCorruption() {
        let journal = Self.makeJournal()
        var bytes = journal.bytes
        let boundary = journal.range(ofGroup: 1).upperBound
        bytes.insert(contentsOf: [0xDE, 0xAD, 0xBE, 0xEF, 0xDE, 0xAD, 0xBE, 0xEF], at: boundary)
        #expect(lineupError { try Self.scan(bytes) }?.code == .corruptStore)
    }

    /// A sequence number out of order ends the valid prefix like any other invalid record.
    @Test func sequenceGapEndsThePrefix() throws {
        // Records 41, 42, 44 (commit): the third is not the one expected.
        var bytes = JournalFormat.encodeHeader(.init(storeID: Self.storeID, journalNumber: Self.journalNumber, firstSequence: 41))
        let records = [(UInt64(41), true), (42, true), (44, true)].map {
            JournalFormat.Record(sequence: $0.0, collectionID: 1, type: .remove, isCommit: $0.1,
                                 payload: JournalFormat.encodeRemovals([.generate()]))
        }
        for record in records { bytes += JournalFormat.encodeRecord(record, journalNumber: Self.journalNumber) }
        let scan = try Self.scan(bytes)
        #expect(scan.records == Array(records.prefix(2)))
        #expect(scan.nextSequence == 43)
        #expect(scan.hasTornTail)

        // The first record must carry the header's first sequence.
        var wrongFirst = JournalFormat.encodeHeader(.init(storeID: Self.storeID, journalNumber: Self.journalNumber, firstSequence: 40))
        wrongFirst += JournalFormat.encodeRecord(records[0], journalNumber: Self.journalNumber)
        let none = try Self.scan(wrongFirst)
        #expect(none.records.isEmpty)
        #expect(none.validLength == 64)
        #expect(none.nextSequence == 40)
        #expect(none.hasTornTail)
    }

    /// Stale records (sequence numbers already seen) after the valid prefix are not evidence of
    /// damage: they are what a reused file could hold.
    @Test func staleRecordsAfterTheEndAreATornTail() throws {
        let journal = Self.makeJournal(groupSizes: [1, 2, 1])
        let bytes = journal.bytes + journal.bytes[64...]   // the same records again
        let scan = try Self.scan(bytes)
        #expect(scan.records == journal.records)
        #expect(scan.validLength == journal.bytes.count)
        #expect(scan.hasTornTail)
    }

    /// A record with another journal's number after the prefix is not counted.
    @Test func recordsOfAnotherJournalAreInvalid() throws {
        let journal = Self.makeJournal(groupSizes: [1, 1])
        var bytes = journal.bytes
        let next = Self.firstSequence + UInt64(journal.records.count)
        for offset in 0..<3 {
            bytes += JournalFormat.encodeRecord(.init(sequence: next + UInt64(offset), collectionID: 1, type: .remove, isCommit: true,
                                                      payload: JournalFormat.encodeRemovals([.generate()])),
                                                journalNumber: Self.journalNumber + 1)
        }
        let scan = try Self.scan(bytes)
        #expect(scan.records == journal.records)
        #expect(scan.hasTornTail)
    }

    // MARK: (c) Header damage

    @Test func everyDamagedHeaderByteIsCorruption() {
        let journal = Self.makeJournal(groupSizes: [1, 1])
        for offset in 0..<64 {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var bytes = journal.bytes
                bytes[offset] ^= mask
                let code = lineupError { try Self.scan(bytes) }?.code
                #expect(code == .corruptStore || code == .unsupportedFormatVersion, "byte \(offset) ^ \(mask): \(String(describing: code))")
                if !(8..<10).contains(offset) {
                    #expect(code == .corruptStore, "byte \(offset) ^ \(mask)")
                }
            }
        }
    }

    @Test func shortHeaderIsCorruption() {
        let journal = Self.makeJournal(groupSizes: [1])
        for length in 0..<64 {
            #expect(lineupError { try Self.scan(Array(journal.bytes[0..<length])) }?.code == .corruptStore, "length \(length)")
        }
    }

    @Test func newerHeaderVersionIsUnsupported() {
        var bytes = Self.makeJournal(groupSizes: [1]).bytes
        bytes[8] = 2
        JournalFormatTests.fixHeaderCRC(&bytes)
        #expect(lineupError { try Self.scan(bytes) }?.code == .unsupportedFormatVersion)
    }

    @Test func wrongStoreIDOrJournalNumberIsCorruption() {
        let bytes = Self.makeJournal(groupSizes: [1, 2]).bytes
        #expect(lineupError { try Self.scan(bytes, storeID: RecordID(high: 1, low: 2)) }?.code == .corruptStore)
        #expect(lineupError { try Self.scan(bytes, storeID: RecordID(high: Self.storeID.high, low: Self.storeID.low ^ 1)) }?.code == .corruptStore)
        #expect(lineupError { try Self.scan(bytes, journalNumber: Self.journalNumber + 1) }?.code == .corruptStore)
        #expect(lineupError { try Self.scan(bytes, journalNumber: Self.journalNumber - 1) }?.code == .corruptStore)
        #expect(lineupError { try Self.scan(bytes) } == nil)
    }
}
