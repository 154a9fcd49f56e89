import Foundation
import Testing
@testable import Lineup

/// Every committed fuzz input (`Fuzz/corpus/TARGET/*`: the seeds, and the input of every crash
/// the fuzzers found, kept as `regression-*` once fixed) replayed through its decoders in the
/// default suite: each decodes or throws the typed error its target allows, never crashes.
@Suite struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/corpus").path

    /// The inputs of one target, by file name.
    static func inputs(_ target: String) throws -> [(String, [UInt8])] {
        let directory = corpus + "/" + target
        return try FileManager.default.contentsOfDirectory(atPath: directory).sorted().map {
            ($0, [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0))))
        }
    }

    static func expectStoreError(_ error: any Error, _ name: String) {
        let code = (error as? LineupError)?.code
        #expect(code == .corruptStore || code == .unsupportedFormatVersion, "\(name): \(error)")
    }

    static func u64(_ bytes: [UInt8], at offset: Int) -> UInt64? {
        guard offset + 8 <= bytes.count else { return nil }
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
    }

    static func recordID(_ bytes: [UInt8], at offset: Int) -> RecordID {
        bytes.withUnsafeBytes { raw in
            var reader = ByteReader(raw, offset: offset)
            return (try? reader.recordID()) ?? RecordID(high: 0, low: 0)
        }
    }

    @Test func corpusIsPresent() throws {
        for target in ["journal", "segment", "manifest", "envelope", "npy", "faceprint-json", "store"] {
            #expect(try !Self.inputs(target).isEmpty, "no inputs for \(target)")
        }
    }

    @Test func journalInputs() throws {
        for (name, bytes) in try Self.inputs("journal") {
            do {
                let scan = try bytes.withUnsafeBytes {
                    try JournalReader.scan($0, journalNumber: Self.u64(bytes, at: 32) ?? 1, storeID: Self.recordID(bytes, at: 16))
                }
                for record in scan.records {
                    for compression in VectorCompression.allCases {
                        _ = try? JournalFormat.decodeEnrollments(record.payload, compression: compression)
                    }
                    _ = try? JournalFormat.decodeRemovals(record.payload)
                }
            } catch {
                Self.expectStoreError(error, name)
            }
        }
    }

    @Test func manifestInputs() throws {
        for (name, bytes) in try Self.inputs("manifest") {
            do {
                #expect(try Manifest.decode(bytes).encoded() == bytes, "\(name) does not re-encode")
            } catch {
                Self.expectStoreError(error, name)
            }
        }
    }

    @Test func segmentInputs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lineup-fuzzcorpus-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (name, bytes) in try Self.inputs("segment") {
            _ = bytes.withUnsafeBytes { try? SegmentHeader.decode($0, fileSize: bytes.count) }
            let path = directory + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let collectionID = bytes.count >= 28 ? bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 24, as: UInt32.self)) } : 1
            do {
                let segment = try Segment(fileSystem: PosixFileSystem.shared, path: path, number: Self.u64(bytes, at: 16) ?? 1,
                                          collectionID: collectionID, fileSize: UInt64(bytes.count),
                                          storeID: Self.recordID(bytes, at: 40), verification: .full)
                var rows = 0
                segment.forEachRecord { row, id, _ in
                    #expect(segment.row(of: id) == row, "\(name): row \(row)")
                    rows += 1
                }
                #expect(rows == segment.rowCount, "\(name)")
            } catch {
                Self.expectStoreError(error, name)
            }
        }
    }

    @Test func envelopeInputsDecodeOrAreRefused() throws {
        for (name, input) in try Self.inputs("envelope") where !input.isEmpty {
            let bytes = Array(input.dropFirst())
            do {
                _ = try bytes.withUnsafeBytes { try EnvelopeHeader.decode($0) }
            } catch {
                Self.expectStoreError(error, name)
            }
            do {
                _ = try KeyFile.decode(bytes)
            } catch {
                Self.expectStoreError(error, name)
            }
        }
    }

    @Test func npyInputs() throws {
        for (name, bytes) in try Self.inputs("npy") {
            if let matrix = try? NumpyMatrix(npyBytes: bytes) {
                #expect(matrix.values.count == matrix.rows * matrix.columns, "\(name)")
            }
        }
    }

    @Test func faceprintJSONInputs() throws {
        for (name, bytes) in try Self.inputs("faceprint-json") {
            do {
                let faceprint = try Faceprint(json: String(decoding: bytes, as: UTF8.self))
                if faceprint.featureVector.allSatisfy(\.isFinite) {
                    #expect(try Faceprint(json: faceprint.json()) == faceprint, "\(name)")
                }
            } catch {
                #expect((error as? LineupError)?.code == .invalidArgument, "\(name): \(error)")
            }
        }
    }
}
