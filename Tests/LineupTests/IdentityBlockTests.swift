import Testing
@testable import Lineup

/// FORMAT.md §6.2, identity blocks: the one-entry lookup reads what decoding the whole block
/// reads, and a short or damaged block is nil, never a crash or a neighbour's identity.
@Suite struct IdentityBlockTests {
    static let identities = ["ana", "José Ñúñez", "王小明", "😀 emoji person", "x", String(repeating: "ü", count: 300), "Zoë"]

    @Test func oneEntryMatchesTheWholeBlock() throws {
        let raw = IdentityBlock.encode(Self.identities)
        raw.withUnsafeBytes { bytes in
            let all = IdentityBlock.decode(bytes, rows: Self.identities.count)
            #expect(all == Self.identities)
            for index in Self.identities.indices {
                #expect(IdentityBlock.identity(at: index, in: bytes) == Self.identities[index], "entry \(index)")
            }
            #expect(IdentityBlock.identity(at: Self.identities.count, in: bytes) == nil, "past the last entry")
        }
    }

    @Test func aFullBlockOfRows() {
        let identities = (0..<FormatConstants.identityBlockRows).map { "person-\($0)" }
        let raw = IdentityBlock.encode(identities)
        raw.withUnsafeBytes { bytes in
            for index in identities.indices {
                #expect(IdentityBlock.identity(at: index, in: bytes) == identities[index], "entry \(index)")
            }
        }
    }

    @Test func damagedBlocksGiveNil() {
        let raw = IdentityBlock.encode(["ana", "bo"])
        // Cut inside the second entry, inside its length, and to nothing.
        for cut in [raw.count - 1, 6, 5, 0] {
            Array(raw[..<cut]).withUnsafeBytes { bytes in
                #expect(IdentityBlock.identity(at: 1, in: bytes) == nil, "cut at \(cut)")
            }
        }
        // An empty entry, and one that is not UTF-8.
        ([0, 0, 1, 0, 0x61] as [UInt8]).withUnsafeBytes { #expect(IdentityBlock.identity(at: 0, in: $0) == nil) }
        ([2, 0, 0xC3, 0x28] as [UInt8]).withUnsafeBytes { #expect(IdentityBlock.identity(at: 0, in: $0) == nil) }
        // A length running past the end.
        ([9, 0, 0x61] as [UInt8]).withUnsafeBytes { #expect(IdentityBlock.identity(at: 0, in: $0) == nil) }
    }
}
