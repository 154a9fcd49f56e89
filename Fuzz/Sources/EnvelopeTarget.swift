import Foundation

/// `envelope`: the encrypted forms, opened with a fixed test key. The input's first byte
/// chooses what the rest is:
///
/// - 0: an enveloped manifest — ``EnvelopeHeader/decode(_:)``, then
///   ``StoreCipher/openFile(_:kind:number:name:)`` and ``Manifest/decode(_:)`` of the plaintext;
/// - 1: an enveloped segment — opened in memory, then as a ``Segment`` from a file;
/// - 2: an encrypted store's journal — scanned, each record's payload opened with
///   ``StoreCipher/openJournalRecord(_:journalNumber:offset:)``;
/// - 3: a key file — ``KeyFile/decode(_:)``, then, for iteration counts a fuzzer can afford,
///   ``StoreCipher/open(_:fileSystem:passphrase:writer:)`` of a store holding it.
///
/// Every input also goes through both header decoders. Whatever authenticates must be intact:
/// its plaintext decodes.
enum EnvelopeTarget {
    static let target = FuzzTarget(name: "envelope", setUp: setUp, seeds: seeds, run: run)

    nonisolated(unsafe) static var cipher: StoreCipher!
    nonisolated(unsafe) static var storeID = RecordID(high: 0, low: 0)

    /// The key: the committed seed `key`'s when `LINEUP_FUZZ_ENVELOPE_KEY` names it (`Fuzz/run`
    /// does), so that the committed seeds, sealed under it, authenticate; otherwise (writing
    /// seeds) that of a freshly built encrypted image.
    static func setUp() throws {
        var directory = Fixtures.directory(encrypted: true)
        if let seed = ProcessInfo.processInfo.environment["LINEUP_FUZZ_ENVELOPE_KEY"],
           ProcessInfo.processInfo.environment["LINEUP_FUZZ_SEEDS"] == nil {
            let bytes = try Fixtures.readFile(seed)
            directory = Fixtures.scratch + "/envelope-key"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            Fixtures.writeFile(Array(bytes.dropFirst()), directory + "/" + FormatConstants.keyName)
        } else {
            _ = try Fixtures.image(encrypted: true)
        }
        cipher = try StoreCipher.open(directory, fileSystem: PosixFileSystem.shared, passphrase: Fixtures.passphrase,
                                      writer: false)
        storeID = cipher.storeID
    }

    static func seeds() throws -> [String: [UInt8]] {
        let image = try Fixtures.image(encrypted: true)
        var seeds: [String: [UInt8]] = ["manifest": [0] + image.files[FormatConstants.manifestName]!,
                                        "key": [3] + image.files[FormatConstants.keyName]!]
        for (name, bytes) in Fixtures.files(image, prefix: "segment-") { seeds[name] = [1] + bytes }
        for (name, bytes) in Fixtures.files(image, prefix: "journal-") { seeds[name] = [2] + bytes }
        return seeds
    }

    static var directory: String { Fixtures.scratch + "/envelope-under-test" }

    static func run(_ input: [UInt8]) {
        guard let mode = input.first else { return }
        let bytes = Array(input.dropFirst())
        _ = bytes.withUnsafeBytes { try? EnvelopeHeader.decode($0) }
        _ = try? KeyFile.decode(bytes)
        do {
            switch mode % 4 {
            case 0: try manifest(bytes)
            case 1: try segment(bytes)
            case 2: try journal(bytes)
            default: try key(bytes)
            }
        } catch let error as LineupError {
            fuzzCheck([.corruptStore, .unsupportedFormatVersion, .wrongEncryptionKey].contains(error.code), "threw \(error)")
        } catch {
            fuzzCheck(false, "threw a non-Lineup error \(error)")
        }
    }

    static func manifest(_ bytes: [UInt8]) throws {
        let (header, plaintext) = try cipher.openFile(bytes, kind: .manifest, number: nil, name: "the manifest")
        fuzzCheck(header.plaintextLength == plaintext.count, "plaintext length")
        do {
            _ = try Manifest.decode(plaintext.withUnsafeBytes { Array($0) })
        } catch {
            fuzzCheck(false, "an authenticated manifest does not decode: \(error)")
        }
    }

    static func segment(_ bytes: [UInt8]) throws {
        let (header, plaintext) = try cipher.openFile(bytes, kind: .segment, number: nil, name: "a segment")
        let segmentHeader: SegmentHeader
        do {
            segmentHeader = try plaintext.withUnsafeBytes { try SegmentHeader.decode($0, fileSize: header.plaintextLength) }
        } catch {
            fuzzCheck(false, "an authenticated segment's header does not decode: \(error)")
            return
        }
        let path = Fixtures.scratch + "/encrypted-segment-under-test"
        Fixtures.writeFile(bytes, path)
        do {
            let segment = try Segment(fileSystem: PosixFileSystem.shared, path: path, number: header.number,
                                      collectionID: segmentHeader.collectionID, fileSize: UInt64(bytes.count),
                                      storeID: storeID, verification: .full, cipher: cipher)
            SegmentTarget.exercise(segment)
        } catch {
            fuzzCheck(false, "an authenticated segment does not open: \(error)")
        }
    }

    static func journal(_ bytes: [UInt8]) throws {
        let number = ChecksumRepair.u64(bytes, at: 32) ?? 1
        let scan = try bytes.withUnsafeBytes { try JournalReader.scan($0, journalNumber: number, storeID: storeID) }
        for (record, offset) in zip(scan.records, scan.offsets) {
            let payload = try cipher.openJournalRecord(record, journalNumber: number, offset: offset)
            switch record.type {
            case .enroll:
                fuzzCheck(VectorCompression.allCases.contains { (try? JournalFormat.decodeEnrollments(payload, compression: $0)) != nil },
                          "an authenticated enrollment record does not decode")
            case .remove:
                fuzzCheck((try? JournalFormat.decodeRemovals(payload)) != nil, "an authenticated removal record does not decode")
            }
        }
    }

    static func key(_ bytes: [UInt8]) throws {
        let file = try KeyFile.decode(bytes)
        fuzzCheck(file.encoded() == bytes, "the key file does not re-encode")
        // Deriving the key costs the stored iterations; past this a run measures PBKDF2.
        guard file.iterations <= 20_000 else { return }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        Fixtures.writeFile(bytes, directory + "/" + FormatConstants.keyName)
        let opened = try StoreCipher.open(directory, fileSystem: PosixFileSystem.shared, passphrase: Fixtures.passphrase, writer: false)
        fuzzCheck(opened?.storeID == storeID, "a key file opened with another store's ID")
    }
}
