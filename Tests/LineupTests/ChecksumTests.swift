import Testing
import LineupKernels
@testable import Lineup

/// FORMAT.md §2 "Checksums": CRC32C (Castagnoli), reflected 0x82F63B78, init and final XOR
/// 0xFFFFFFFF. The dispatched kernel (SSE4.2 where present) against the serial table-driven
/// reference, and both against published check values.
@Suite struct ChecksumTests {
    static func crc(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { lineup_crc32c(seed, $0.baseAddress, $0.count) }
    }

    static func serial(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { lineup_crc32c_serial(seed, $0.baseAddress, $0.count) }
    }

    @Test func checkValueOf123456789() {
        let bytes = Array("123456789".utf8)
        #expect(Self.crc(bytes) == 0xE306_9283)
        #expect(Self.serial(bytes) == 0xE306_9283)
        #expect(Checksum.crc32c(bytes) == 0xE306_9283)
        #expect(Checksum.crc32c(bytes[...]) == 0xE306_9283)
    }

    @Test func emptyInputIsZero() {
        #expect(Self.crc([]) == 0)
        #expect(Self.serial([]) == 0)
        // An empty continuation leaves the running value unchanged.
        #expect(Self.crc([], seed: 0xE306_9283) == 0xE306_9283)
        #expect(Self.serial([], seed: 0xE306_9283) == 0xE306_9283)
    }

    /// RFC 3720 (iSCSI) appendix B.4 test vectors.
    @Test func iSCSITestVectors() {
        let cases: [([UInt8], UInt32)] = [
            ([UInt8](repeating: 0x00, count: 32), 0x8A91_36AA),
            ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
            ((0..<32).map { UInt8($0) }, 0x46DD_794E),
            ((0..<32).reversed().map { UInt8($0) }, 0x113F_DB5C),
        ]
        for (bytes, expected) in cases {
            #expect(Self.crc(bytes) == expected, "input \(bytes.prefix(4))…")
            #expect(Self.serial(bytes) == expected, "input \(bytes.prefix(4))…")
        }
    }

    /// The dispatched kernel equals the serial reference at every length 0…300 and at every
    /// misalignment 0…15 of the start address (the SIMD path reads 8-byte words).
    @Test func dispatchedEqualsSerialOnRandomLengthsAndOffsets() {
        var rng = SeededGenerator(seed: 0xC4C3)
        let buffer = (0..<(300 + 16)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        buffer.withUnsafeBytes { raw in
            for offset in 0..<16 {
                for length in 0...300 {
                    let start = raw.baseAddress! + offset
                    let fast = lineup_crc32c(0, start, length)
                    let slow = lineup_crc32c_serial(0, start, length)
                    if fast != slow {
                        Issue.record("offset \(offset) length \(length): dispatched \(fast) serial \(slow)")
                        return
                    }
                    // A nonzero seed too.
                    let seed: UInt32 = 0x1234_5678 &+ UInt32(length)
                    #expect(lineup_crc32c(seed, start, length) == lineup_crc32c_serial(seed, start, length))
                }
            }
        }
    }

    /// A CRC continued from the CRC of a prefix equals the CRC of the whole: how segment
    /// vectors are checksummed batch by batch.
    @Test func incrementalEqualsOneShot() {
        var rng = SeededGenerator(seed: 77)
        for length in [0, 1, 7, 8, 9, 63, 64, 65, 200, 301] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let whole = Self.crc(bytes)
            #expect(whole == Self.serial(bytes))
            for cut in 0...length {
                let first = Array(bytes[0..<cut]), second = Array(bytes[cut...])
                let fast = Self.crc(second, seed: Self.crc(first))
                let slow = Self.serial(second, seed: Self.serial(first))
                #expect(fast == whole, "length \(length) cut \(cut)")
                #expect(slow == whole, "length \(length) cut \(cut)")
            }
            // Three pieces through the Swift wrapper, as SegmentWriter uses it.
            if length >= 3 {
                var running: UInt32 = 0
                bytes.withUnsafeBytes { raw in
                    let a = length / 3, b = 2 * length / 3
                    running = Checksum.crc32c(UnsafeRawBufferPointer(rebasing: raw[0..<a]), seed: running)
                    running = Checksum.crc32c(UnsafeRawBufferPointer(rebasing: raw[a..<b]), seed: running)
                    running = Checksum.crc32c(UnsafeRawBufferPointer(rebasing: raw[b...]), seed: running)
                }
                #expect(running == whole, "length \(length) in three pieces")
            }
        }
    }

    /// A single flipped bit always changes the CRC (CRC32C detects every 1-bit error).
    @Test func everySingleBitFlipChangesTheChecksum() {
        var rng = SeededGenerator(seed: 5)
        let bytes = (0..<100).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let original = Self.crc(bytes)
        for bit in 0..<(bytes.count * 8) {
            var copy = bytes
            copy[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
            #expect(Self.crc(copy) != original, "bit \(bit)")
        }
    }
}
