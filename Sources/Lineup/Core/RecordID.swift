import Foundation

/// A Faceprint's UUID: 16 bytes, compared and hashed as two words, written as the lowercase
/// 36-character RFC 9562 string.
///
/// New IDs are version 7 (a 48-bit Unix-millisecond timestamp, then random bits), so IDs made
/// later sort later, which keeps the lookup tables of sealed segments close to append order.
package struct RecordID: Hashable, Comparable, Sendable {
    /// Bytes 0–7, big-endian: the first 16 hex digits.
    package var high: UInt64
    /// Bytes 8–15, big-endian: the last 16 hex digits.
    package var low: UInt64

    package init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    package static func < (lhs: RecordID, rhs: RecordID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// A new version-7 ID (RFC 9562 §5.7): 48 bits of Unix time in milliseconds, version 7,
    /// 12 random bits, variant 0b10, 62 random bits.
    package static func generate() -> RecordID {
        var generator = SystemRandomNumberGenerator()
        let millis = UInt64(max(0, Date().timeIntervalSince1970 * 1000)) & 0xFFFF_FFFF_FFFF
        let randomA = generator.next() as UInt64
        let randomB = generator.next() as UInt64
        let high = (millis << 16) | 0x7000 | (randomA & 0x0FFF)
        let low = (randomB & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return RecordID(high: high, low: low)
    }

    /// Parses the 8-4-4-4-12 hex form, in either case; `nil` for anything else.
    package init?(string: String) {
        let utf8 = Array(string.utf8)
        guard utf8.count == 36 else { return nil }
        var words: (UInt64, UInt64) = (0, 0)
        var nibbles = 0
        for (index, byte) in utf8.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            if nibbles < 16 {
                words.0 = (words.0 << 4) | UInt64(value)
            } else {
                words.1 = (words.1 << 4) | UInt64(value)
            }
            nibbles += 1
        }
        self.init(high: words.0, low: words.1)
    }

    /// The lowercase 8-4-4-4-12 form.
    package var string: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for nibble in 0..<32 {
            if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                out.append(UInt8(ascii: "-"))
            }
            let word = nibble < 16 ? high : low
            let shift = UInt64(60 - 4 * (nibble % 16))
            out.append(digits[Int((word >> shift) & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
