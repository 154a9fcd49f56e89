/// The appending end of a store's journal (FORMAT.md §5): a commit group encoded as one run
/// of records, written with one `pwrite` — followed by reserved zeros when it passes the end
/// of the file — and made durable with one `fsync`.
///
/// A value, not a lock holder: the commit leader takes a copy under the commit lock, writes
/// through it without the lock, and records what happened (``didAppend(_:)``, ``cut(to:)``)
/// in the store's state under the lock again.
struct JournalWriter {
    let fileSystem: any FileSystem
    let descriptor: Int32
    /// The journal's number (its name, and part of every record's checksum and nonce).
    let number: UInt64
    /// Past this many bytes a checkpoint starts a new journal; no space is reserved there.
    let limit: Int
    /// The file's size as last seen: its records, then reserved zeros.
    var fileSize: Int

    /// The most zero bytes a group that passes the end of the file writes after itself, so
    /// that the groups after it overwrite space the file already has: their fsync then
    /// changes no metadata (FORMAT.md §5, "Reserved space"). A small journal reserves as much
    /// as it holds, from 16 KiB: the file doubles up to this step, then grows by it.
    static let reservation = 1 << 20
    static let smallestReservation = 16 << 10

    /// One group on its way to the file.
    struct Append {
        /// Where the group starts: the end of the journal's records.
        var offset: Int
        /// The group's records, encoded (and sealed, in an encrypted store).
        var bytes: [UInt8]
        /// Zeros written after them.
        var reserved = 0
        var end: Int { offset + bytes.count }
    }

    /// Encodes `records` as one commit group that starts at `offset`: the first record marks
    /// the start, the last carries the commit flag; each is sealed first when `cipher` is set.
    func encodeGroup(_ records: [JournalFormat.Record], at offset: Int, cipher: StoreCipher?) throws -> Append {
        var bytes: [UInt8] = []
        for (index, original) in records.enumerated() {
            var record = original
            record.isCommit = index == records.count - 1
            record.isFirst = index == 0
            if let cipher {
                record = try cipher.sealJournalRecord(record, journalNumber: number, offset: offset + bytes.count)
            }
            bytes += JournalFormat.encodeRecord(record, journalNumber: number)
        }
        return Append(offset: offset, bytes: bytes)
    }

    /// Writes the group, reserving space after it when it passes the end of the file. No
    /// room to reserve (`ENOSPC`, `EDQUOT`) writes the group alone: what the refused write
    /// left past it is a prefix of the group and the zeros, which the group overwrites.
    func write(_ append: inout Append) throws {
        append.reserved = reservation(after: append.end)
        func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try fileSystem.write(descriptor, $0, at: append.offset) }
        }
        do {
            try write(append.reserved > 0 ? append.bytes + repeatElement(0, count: append.reserved) : append.bytes)
        } catch let error as LineupError where append.reserved > 0 && error.isNoSpace {
            append.reserved = 0
            try write(append.bytes)
        }
    }

    /// Makes every byte written so far durable. After a failure the caller must never retry
    /// (FORMAT.md §8).
    func sync() throws {
        try fileSystem.sync(descriptor)
    }

    /// Records a group written (and, when due, synced).
    mutating func didAppend(_ append: Append) {
        fileSize = max(fileSize, append.end + append.reserved)
    }

    /// Cuts the file back to `length` (a refused write's remains, or a torn tail) and makes
    /// that durable when `sync`.
    mutating func cut(to length: Int, sync: Bool = false) throws {
        try fileSystem.truncate(descriptor, to: length)
        fileSize = length
        if sync { try fileSystem.sync(descriptor) }
    }

    /// How many zero bytes to write after a group ending at `end`: none while the file has
    /// space past it, none past the journal limit (a checkpoint starts a new journal there).
    private func reservation(after end: Int) -> Int {
        guard end > fileSize, end < limit else { return 0 }
        return min(JournalWriter.reservation, max(JournalWriter.smallestReservation, end), limit - end)
    }
}
