import Testing
import LineupKernels
@testable import Lineup

@Suite struct ChecksumThreeWayTests {
    @Test(arguments: [0, 1, 7, 8, 9, 63, 64, 1000, 1 << 20])
    func threeWayEqualsThreeSerialChecksums(length: Int) {
        var rng = SeededGenerator(seed: UInt64(length) + 3)
        let buffers = (0..<3).map { _ in (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        var out: [UInt32] = [0, 0, 0]
        buffers[0].withUnsafeBytes { a in
            buffers[1].withUnsafeBytes { b in
                buffers[2].withUnsafeBytes { c in
                    out.withUnsafeMutableBufferPointer {
                        lineup_crc32c_3way(a.baseAddress, b.baseAddress, c.baseAddress, length, $0.baseAddress)
                    }
                }
            }
        }
        for index in 0..<3 {
            #expect(out[index] == buffers[index].withUnsafeBytes { lineup_crc32c_serial(0, $0.baseAddress, length) })
        }
    }

    /// The identity-block check agrees with Swift's own UTF-8 validation, byte soup included.
    @Test func utf8CheckAgreesWithTheStandardLibrary() {
        var rng = SeededGenerator(seed: 77)
        let samples: [[UInt8]] = [
            Array("plain ascii, long enough for the eight-byte path".utf8), Array("Zoë — 北京 — 🙂".utf8),
            [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF0, 0x9F, 0x99],
            [0x80], [0xFF], [0xC3], [0xE2, 0x82, 0xAC],
        ]
        var cases = samples
        for _ in 0..<3000 {
            let length = Int.random(in: 1...12, using: &rng)
            cases.append((0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
        for bytes in cases {
            let expected = String(validating: bytes, as: UTF8.self) != nil
            #expect(bytes.withUnsafeBufferPointer { IdentityBlock.isValidUTF8($0) } == expected, "\(bytes)")
        }
    }
}
