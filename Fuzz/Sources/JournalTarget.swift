/// `journal`: a journal file, as the input, through ``JournalReader/scan`` and every record's
/// payload through the enrollment and removal decoders — once as given, once with its
/// checksums recomputed so that mutations reach the structural checks behind them.
///
/// Checks of what is accepted: records lie inside the valid prefix in order, re-encoding a
/// record gives back its bytes, and decoded payloads re-encode to themselves.
enum JournalTarget {
    static let target = FuzzTarget(name: "journal", seeds: seeds, run: run)

    static func seeds() throws -> [String: [UInt8]] {
        var seeds: [String: [UInt8]] = [:]
        for (name, bytes) in Fixtures.files(try Fixtures.image(encrypted: false), prefix: "journal-") {
            seeds["plain-\(name)"] = bytes
        }
        for (name, bytes) in Fixtures.files(try Fixtures.image(encrypted: true), prefix: "journal-") {
            seeds["encrypted-\(name)"] = bytes
        }
        // A header alone, and a journal cut inside its second record.
        if let (_, journal) = seeds.first(where: { $0.key.hasPrefix("plain-") }).map({ ($0.key, $0.value) }) {
            seeds["header-only"] = Array(journal[0..<FormatConstants.journalHeaderSize])
            seeds["torn"] = Array(journal[0..<min(journal.count, FormatConstants.journalHeaderSize + 200)])
        }
        return seeds
    }

    static func run(_ input: [UInt8]) {
        check(input)
        let repaired = ChecksumRepair.journal(input)
        if repaired != input { check(repaired) }
    }

    static func check(_ bytes: [UInt8]) {
        // The journal number and store ID the header claims: the reader checks them against
        // the manifest's, which a fuzzer cannot know.
        let number = ChecksumRepair.u64(bytes, at: 32) ?? 1
        let storeID = bytes.count >= 32
            ? bytes.withUnsafeBytes { raw in
                var reader = ByteReader(raw, offset: 16)
                return (try? reader.recordID()) ?? RecordID(high: 0, low: 0)
            }
            : RecordID(high: 0, low: 0)
        let scan: JournalReader.Scan
        do {
            scan = try bytes.withUnsafeBytes { try JournalReader.scan($0, journalNumber: number, storeID: storeID) }
        } catch let error as LineupError {
            fuzzCheck(error.code == .corruptStore || error.code == .unsupportedFormatVersion, "journal scan threw \(error)")
            decodeAnywhere(bytes, number: number)
            return
        } catch {
            fuzzCheck(false, "journal scan threw a non-Lineup error \(error)")
            return
        }
        fuzzCheck(scan.validLength <= bytes.count && scan.validLength >= FormatConstants.journalHeaderSize, "valid length out of range")
        // Past the valid prefix: reserved space (zeros to the end) or a torn tail (anything else).
        let reserved = bytes[scan.validLength...].allSatisfy { $0 == 0 }
        fuzzCheck(scan.hasTornTail == !reserved, "torn tail flag")
        fuzzCheck(scan.records.count == scan.offsets.count, "records and offsets differ")
        var expected = scan.header.firstSequence
        var offset = FormatConstants.journalHeaderSize
        for (record, start) in zip(scan.records, scan.offsets) {
            fuzzCheck(start == offset, "record at \(start), expected at \(offset)")
            fuzzCheck(record.sequence == expected, "sequence \(record.sequence), expected \(expected)")
            let encoded = JournalFormat.encodeRecord(record, journalNumber: number)
            fuzzCheck(start + encoded.count <= bytes.count && Array(bytes[start..<(start + encoded.count)]) == encoded,
                      "record \(record.sequence) does not re-encode to its bytes")
            offset = start + encoded.count
            expected += 1
            payloads(record)
        }
        fuzzCheck(offset == scan.validLength, "valid length \(scan.validLength), records end at \(offset)")
        fuzzCheck(scan.nextSequence == expected, "next sequence")
        decodeAnywhere(bytes, number: number)
    }

    /// Every payload decoder on a record, whatever its type.
    static func payloads(_ record: JournalFormat.Record) {
        for compression in VectorCompression.allCases {
            if let entries = try? JournalFormat.decodeEnrollments(record.payload, compression: compression) {
                fuzzCheck(JournalFormat.encodeEnrollments(entries) == record.payload, "enrollments do not re-encode")
                for entry in entries {
                    fuzzCheck(entry.vector.bytes.count == entry.dimension * compression.bytesPerDimension, "vector length")
                }
            }
        }
        if let ids = try? JournalFormat.decodeRemovals(record.payload) {
            fuzzCheck(JournalFormat.encodeRemovals(ids) == record.payload, "removals do not re-encode")
        }
    }

    /// ``JournalFormat/decodeRecord(_:at:journalNumber:)`` at every aligned offset, as the
    /// reader's tail check does.
    static func decodeAnywhere(_ bytes: [UInt8], number: UInt64) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                if case .record(let record, let next) = JournalFormat.decodeRecord(raw, at: offset, journalNumber: number) {
                    fuzzCheck(next > offset && next <= raw.count && next % FormatConstants.recordAlignment == offset % FormatConstants.recordAlignment,
                              "next offset \(next) after \(offset)")
                    payloads(record)
                }
                offset += FormatConstants.recordAlignment
            }
        }
    }
}
