import Foundation
import Testing
@testable import Lineup

/// Every encoder writes exactly the size FormatConstants (and FORMAT.md) gives it, and every
/// framed header ends in the CRC32C of the bytes before it.
struct FormatConstantsTests {
    static let storeID = RecordID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)

    @Test func encodersWriteTheirConstantSizes() throws {
        let journalHeader = JournalFormat.encodeHeader(.init(storeID: Self.storeID, journalNumber: 3, firstSequence: 9))
        #expect(journalHeader.count == FormatConstants.journalHeaderSize)
        let record = JournalFormat.encodeRecord(.init(sequence: 9, collectionID: 1, type: .remove, isCommit: true,
                                                      payload: [], isFirst: true), journalNumber: 3)
        #expect(record.count == FormatConstants.recordHeaderSize, "a record with no payload is its header")

        let key = KeyFile(iterations: 1000, salt: [UInt8](repeating: 1, count: 16), storeID: Self.storeID, epoch: 2,
                          wrapNonce: [UInt8](repeating: 2, count: 12), wrappedKey: [UInt8](repeating: 3, count: 48))
        #expect(key.encoded().count == FormatConstants.keyFileSize)
        #expect(key.authenticatedPrefix.count == FormatConstants.keyAuthenticatedLength)

        let envelope = EnvelopeHeader(version: FormatConstants.formatVersion, kind: .segment, chunkSize: 1 << 20, number: 4,
                                      storeID: Self.storeID, plaintextLength: 100, sessionSalt: [UInt8](repeating: 4, count: 12))
        #expect(envelope.encoded().count == FormatConstants.envelopeHeaderSize)

        let segment = SegmentHeader(encoding: .none, dimension: 16, segmentNumber: 1, collectionID: 1, rowCount: 0, rowStride: 64,
                                    storeID: Self.storeID, fileSize: FormatConstants.segmentHeaderSize,
                                    sections: SegmentHeader.Section.allCases.map { _ in .init(offset: 0, length: 0, checksum: 0) })
        #expect(segment.encoded().count == FormatConstants.segmentHeaderSize)

        for (name, bytes) in [("journal header", journalHeader), ("key file", key.encoded()), ("envelope header", envelope.encoded()),
                              ("segment header", segment.encoded())] {
            #expect(bytes.withUnsafeBytes { Checksum.trailingCRC32CMatches($0, length: bytes.count) }, "\(name) ends in its CRC")
            var flipped = bytes
            flipped[9] ^= 1
            #expect(!flipped.withUnsafeBytes { Checksum.trailingCRC32CMatches($0, length: bytes.count) }, "\(name): a flipped bit")
        }
        #expect(!journalHeader.withUnsafeBytes { Checksum.trailingCRC32CMatches($0, length: journalHeader.count + 1) },
                "too short is no match")
    }

    @Test func encryptedJournalRecordsAuthenticateTheirConstantSize() throws {
        let directory = try TemporaryDirectory()
        let store = try EncryptionTests.open(directory.path + "/store")
        defer { store.close() }
        let record = JournalFormat.Record(sequence: 1, collectionID: 1, type: .enroll, isCommit: true, payload: [1, 2, 3])
        let aad = try #require(store.cipher).journalAAD(record, journalNumber: 1, offset: 64, length: 3)
        #expect(aad.count == FormatConstants.journalRecordAADSize)
        #expect(Array(aad.prefix(8)) == FormatConstants.journalRecordAADLabel)
    }
}
