/// The constants of the on-disk format. Each group names the section of FORMAT.md it implements;
/// change the two together.
enum FormatConstants {
    /// FORMAT.md, "Versions": the format this code writes, and the newest it reads.
    static let formatVersion: UInt16 = 1
    /// The newest manifest version, written when a collection is calibrated (FORMAT.md §7).
    static let manifestVersion: UInt16 = 2

    // FORMAT.md, "Store directory".
    static let manifestName = "MANIFEST"
    static let manifestTemporaryName = "MANIFEST.tmp"
    static let lockName = "LOCK"
    static let keyName = "KEY"
    static let keyTemporaryName = "KEY.tmp"
    static func journalName(_ number: UInt64) -> String { "journal-\(hex(number)).log" }
    static func segmentName(_ number: UInt64) -> String { "segment-\(hex(number)).seg" }
    static let segmentTemporarySuffix = ".tmp"

    // FORMAT.md, "Journal".
    static let journalMagic: [UInt8] = Array("LNUPJRNL".utf8)
    static let journalHeaderSize = 64
    static let recordHeaderSize = 32
    static let recordAlignment = 8
    /// The largest payload a record may carry; larger lengths are damage.
    static let maximumRecordPayload = 64 << 20

    // FORMAT.md, "Segment files".
    static let segmentMagic: [UInt8] = Array("LNUPSEGM".utf8)
    static let segmentHeaderSize = 320
    /// The segment version written: 2 adds the compact codes (sections 8 and 9). Version 1
    /// segments (eight sections, no codes) stay readable.
    static let segmentVersion: UInt16 = 2
    /// Sections of a version-1 segment, and of a version-2 one.
    static let segmentSectionCountV1 = 8
    static let segmentSectionCount = 10
    /// Bytes of the vector section covered by one entry of the vector checksum section.
    static let vectorChecksumBlock = 1 << 20
    static let sectionAlignment = 64
    /// Rows whose identities share one LZ4 block.
    static let identityBlockRows = 256

    // FORMAT.md, "Manifest".
    static let manifestMagic: [UInt8] = Array("LNUPMANI".utf8)

    // FORMAT.md, "Encryption".
    static let keyMagic: [UInt8] = Array("LNUPKEYS".utf8)
    static let keyFileSize = 116
    /// Bytes of the key file the wrap of the data key authenticates.
    static let keyAuthenticatedLength = 52
    static let envelopeMagic: [UInt8] = Array("LNUPENVL".utf8)
    static let envelopeHeaderSize = 64
    /// The label of a session key's derivation (HMAC-SHA256 of the label and the salt).
    static let sessionKeyLabel: [UInt8] = Array("LNUPSESS".utf8)
    /// The first bytes of an encrypted journal record's additional authenticated data.
    static let journalRecordAADLabel: [UInt8] = Array("LNUPJREC".utf8)
    static let journalRecordAADSize = 60

    static func hex(_ number: UInt64) -> String {
        let digits = String(number, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}

/// FORMAT.md, "Journal records": the kinds of record.
enum RecordType: UInt8, Sendable {
    /// One or more enrollments into one collection, applied all or none.
    case enroll = 1
    /// One or more removals (by UUID) from one collection, applied all or none.
    case remove = 2
}

/// FORMAT.md, "Vector encodings": the encoding byte.
extension VectorCompression {
    var formatCode: UInt8 {
        switch self {
        case .none: 0
        case .fp16: 1
        case .int8: 2
        }
    }

    init?(formatCode: UInt8) {
        switch formatCode {
        case 0: self = .none
        case 1: self = .fp16
        case 2: self = .int8
        default: return nil
        }
    }
}
