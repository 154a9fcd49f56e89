/// Reads a journal file's bytes back into records, deciding what a crash left behind
/// (FORMAT.md, "Recovery").
///
/// Records are read in order while each is valid and carries the next sequence number. The
/// first one that is not (cut short, failed checksum, wrong number) ends the valid prefix.
/// What follows decides between a torn tail and damage:
///
/// - A crash can tear only the commit group that was being written: its records were never
///   acknowledged, because acknowledgement waits for the group's fsync. Pages of that group
///   may reach the disk in any order, so valid records of the same group may follow the tear.
/// - The leader writes a group only after the previous group's fsync returned. So if, after the
///   first bad record, there is a valid record marked "first of its group", or a valid record
///   marked "last of its group" followed by yet another valid record, a later group reached
///   the file: the damage lies in a group that was complete and acknowledged. That is
///   corruption, reported as `corruptStore`.
/// - Otherwise the file is cut back to the valid prefix, silently.
///
/// Zero bytes after the valid prefix, and nothing else to the end of the file, are space the
/// writer reserved for the records to come (FORMAT.md, "Reserved space"): the clean end of the
/// journal, neither torn nor cut.
enum JournalReader {
    struct Scan {
        var header: JournalFormat.Header
        var records: [JournalFormat.Record]
        /// Where each record starts in the file.
        var offsets: [Int]
        /// Bytes of the valid prefix: header and whole valid records.
        var validLength: Int
        /// Whether bytes other than reserved zeros were found past the valid prefix (and will
        /// be cut by a writer).
        var hasTornTail: Bool
        /// The sequence number the next record must carry.
        var nextSequence: UInt64
    }

    static func scan(_ bytes: UnsafeRawBufferPointer, journalNumber: UInt64, storeID: RecordID) throws -> Scan {
        let header: JournalFormat.Header
        do {
            header = try JournalFormat.decodeHeader(bytes)
        } catch .newerVersion {
            throw LineupError(.unsupportedFormatVersion, "the journal was written by a newer version of Lineup")
        } catch {
            throw LineupError(.corruptStore, "the journal header is damaged")
        }
        guard header.journalNumber == journalNumber, header.storeID == storeID else {
            throw LineupError(.corruptStore, "the journal belongs to another store or generation")
        }
        let (records, offsets, offset) = validRecords(bytes, from: FormatConstants.journalHeaderSize,
                                                      journalNumber: journalNumber, expected: header.firstSequence)
        let expected = header.firstSequence + UInt64(records.count)
        let torn = !isReserved(bytes, from: offset)
        if torn {
            try checkTail(bytes, from: offset, journalNumber: journalNumber, after: expected)
        }
        return Scan(header: header, records: records, offsets: offsets, validLength: offset,
                    hasTornTail: torn, nextSequence: expected)
    }

    /// Whether every byte from `start` to the end is zero: reserved space, or nothing at all.
    static func isReserved(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Bool {
        var offset = start
        // Eight bytes at a time: the reserved space can run to a MiB.
        while offset < bytes.count && offset % 8 != 0 {
            if bytes[offset] != 0 { return false }
            offset += 1
        }
        while offset + 8 <= bytes.count {
            if bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != 0 { return false }
            offset += 8
        }
        while offset < bytes.count {
            if bytes[offset] != 0 { return false }
            offset += 1
        }
        return true
    }

    /// The records from `start` while each is valid and carries the next sequence number
    /// (the first `expected`), where each starts, and where the valid run ends.
    static func validRecords(_ bytes: UnsafeRawBufferPointer, from start: Int, journalNumber: UInt64,
                             expected: UInt64) -> (records: [JournalFormat.Record], offsets: [Int], end: Int) {
        var records: [JournalFormat.Record] = []
        var offsets: [Int] = []
        var offset = start
        while offset < bytes.count {
            guard case .record(let record, let next) = JournalFormat.decodeRecord(bytes, at: offset, journalNumber: journalNumber),
                  record.sequence == expected + UInt64(records.count) else { break }
            records.append(record)
            offsets.append(offset)
            offset = next
        }
        return (records, offsets, offset)
    }

    /// How many of `records` a reader that does not hold the store's lock applies: those up to
    /// the last one that ends a commit group. A group may still be being written, or be cut
    /// back after a full disk.
    static func wholeGroupCount(_ records: [JournalFormat.Record]) -> Int {
        records.lastIndex(where: \.isCommit).map { $0 + 1 } ?? 0
    }

    /// Throws `corruptStore` when the bytes from `start` hold a complete, acknowledged group
    /// after the damage (see the type's documentation).
    static func checkTail(_ bytes: UnsafeRawBufferPointer, from start: Int, journalNumber: UInt64,
                                  after expected: UInt64) throws {
        var sawCommit = false
        var offset = start + FormatConstants.recordAlignment
        while offset + FormatConstants.recordHeaderSize <= bytes.count {
            if case .record(let record, let next) = JournalFormat.decodeRecord(bytes, at: offset, journalNumber: journalNumber),
               record.sequence >= expected {
                if sawCommit || record.isFirst {
                    throw LineupError(.corruptStore,
                                      "the journal is damaged at byte \(start), before records that were acknowledged")
                }
                sawCommit = record.isCommit
                offset = next
            } else {
                offset += FormatConstants.recordAlignment
            }
        }
    }
}
