import Foundation
import Testing
@testable import Lineup

@Suite struct RecordIDTests {
    @Test func stringOfKnownValue() {
        let id = RecordID(high: 0x0189_0A5D_AC96_774B, low: 0xBCCE_B302_099A_8057)
        #expect(id.string == "01890a5d-ac96-774b-bcce-b302099a8057")
        #expect(RecordID(high: 0, low: 0).string == "00000000-0000-0000-0000-000000000000")
        #expect(RecordID(high: .max, low: .max).string == "ffffffff-ffff-ffff-ffff-ffffffffffff")
    }

    @Test func parseKnownValue() throws {
        let id = try #require(RecordID(string: "01890a5d-ac96-774b-bcce-b302099a8057"))
        #expect(id.high == 0x0189_0A5D_AC96_774B)
        #expect(id.low == 0xBCCE_B302_099A_8057)
        #expect(RecordID(string: "01890A5D-AC96-774B-BCCE-B302099A8057") == id, "either case parses")
        #expect(RecordID(string: "01890a5d-AC96-774b-BcCe-b302099a8057") == id)
    }

    @Test(arguments: [
        "",
        "01890a5d-ac96-774b-bcce-b302099a805",
        "01890a5d-ac96-774b-bcce-b302099a80577",
        "01890a5dac96774bbccеb302099a8057",
        "01890a5dac96774bbcceb302099a8057",          // 32 hex digits, no hyphens
        "01890a5d-ac96-774b-bcceb-302099a8057",       // hyphen misplaced
        "01890a5d_ac96_774b_bcce_b302099a8057",
        "01890a5d-ac96-774b-bcce-b302099a805g",
        "g1890a5d-ac96-774b-bcce-b302099a8057",
        "01890a5d-ac96-774b-bcce-b302099a805 ",
        " 1890a5d-ac96-774b-bcce-b302099a8057",
        "01890a5d-ac96-774b-bcce-b302099a805é",      // 37 bytes
        "0189Ωa5d-ac96-774b-bcce-b302099a80",         // 36 bytes, non-ASCII
        "{1890a5d-ac96-774b-bcce-b302099a805}",
        "+1890a5d-ac96-774b-bcce-b302099a8057",
    ])
    func rejectsMalformed(string: String) {
        #expect(RecordID(string: string) == nil, "\(string)")
    }

    @Test func generatedIDsAreVersion7WithRFCVariant() {
        for _ in 0..<1000 {
            let id = RecordID.generate()
            #expect((id.high >> 12) & 0xF == 7, "version nibble")
            #expect(id.low >> 62 == 0b10, "variant bits")
            let string = id.string
            #expect(isLowercaseUUIDString(string))
            #expect(Array(string)[14] == "7")
            #expect(RecordID(string: string) == id, "round trip")
        }
    }

    @Test func generatedIDsCarryTheCurrentTime() {
        let id = RecordID.generate()
        let millis = id.high >> 16
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        #expect(millis <= now && now - millis < 60_000, "timestamp \(millis) vs now \(now)")
    }

    @Test func generatedIDsAreUnique() {
        var seen = Set<RecordID>()
        for _ in 0..<10_000 { seen.insert(.generate()) }
        #expect(seen.count == 10_000)
    }

    @Test func orderMatchesStringOrder() {
        var rng = SeededGenerator(seed: 100)
        var ids: [RecordID] = []
        for _ in 0..<300 {
            // Small alphabets of words so that equal highs (ties on the first word) occur.
            ids.append(RecordID(high: UInt64.random(in: 0..<4, using: &rng) << 60 | UInt64.random(in: 0..<3, using: &rng),
                                low: rng.next()))
        }
        let byValue = ids.sorted()
        let byString = ids.sorted { $0.string < $1.string }
        #expect(byValue == byString)
        #expect(RecordID(high: 1, low: 0) > RecordID(high: 0, low: .max))
        #expect(RecordID(high: 1, low: 1) > RecordID(high: 1, low: 0))
        #expect(!(RecordID(high: 1, low: 1) < RecordID(high: 1, low: 1)))
    }

    @Test func laterIDsSortLater() {
        let first = RecordID.generate()
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .milliseconds(3) {}
        let second = RecordID.generate()
        #expect(first < second)
    }

    @Test func equalityAndHashingUseBothWords() {
        let a = RecordID(high: 1, low: 2)
        #expect(a == RecordID(high: 1, low: 2))
        #expect(a != RecordID(high: 2, low: 1))
        #expect(a != RecordID(high: 1, low: 3))
        #expect(Set([a, RecordID(high: 1, low: 2), RecordID(high: 2, low: 1)]).count == 2)
    }
}
