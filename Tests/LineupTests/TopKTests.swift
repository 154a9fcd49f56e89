import Testing
@testable import Lineup

/// ``TopK`` against a sort-based reference: higher score first, then earlier position.
@Suite struct TopKTests {
    static func reference(_ entries: [TopK.Entry], k: Int) -> [TopK.Entry] {
        Array(entries.sorted { ($0.score, UInt64.max - $0.position) > ($1.score, UInt64.max - $1.position) }.prefix(k))
    }

    @Test func matchesSortedReferenceWithTies() {
        var rng = SeededGenerator(seed: 70)
        var failures: [String] = []
        for trial in 0..<300 {
            let count = Int.random(in: 0...200, using: &rng)
            // Few distinct scores, so ties are common; positions unique, offered in random order.
            let levels = Int.random(in: 1...8, using: &rng)
            var positions = Array(0..<UInt64(count)).map { ($0 % 7) << 32 | ($0 / 7) }
            positions.shuffle(using: &rng)
            let entries = positions.map {
                TopK.Entry(score: Float(Int.random(in: 0..<levels, using: &rng)) / Float(levels) - 0.5, position: $0)
            }
            for k in [1, 2, 3, 10, count, count + 5].filter({ $0 >= 1 }) {
                var top = TopK(capacity: k)
                for entry in entries { top.offer(entry) }
                let expected = Self.reference(entries, k: k)
                if top.sorted() != expected {
                    failures.append("trial \(trial), count \(count), k \(k): got \(top.sorted().prefix(4)), expected \(expected.prefix(4))")
                }
            }
        }
        #expect(failures.count == 0, "\(failures.count) cases differ from the reference; first: \(failures.prefix(2))")
    }

    @Test func orderOfOfferingDoesNotMatter() {
        var rng = SeededGenerator(seed: 71)
        let entries = (0..<100).map { TopK.Entry(score: Float(Int.random(in: 0..<5, using: &rng)), position: UInt64($0)) }
        var first: [TopK.Entry]?
        for _ in 0..<20 {
            var top = TopK(capacity: 17)
            for entry in entries.shuffled(using: &rng) { top.offer(entry) }
            let sorted = top.sorted()
            if let first { #expect(sorted == first) } else { first = sorted }
        }
        #expect(first == Self.reference(entries, k: 17))
    }

    @Test func entryScore() {
        var top = TopK(capacity: 3)
        #expect(top.entryScore == -.infinity)
        #expect(!top.isFull)
        top.offer(.init(score: 0.5, position: 0))
        top.offer(.init(score: 0.9, position: 1))
        #expect(top.entryScore == -.infinity, "not full yet: anything may enter")
        top.offer(.init(score: 0.7, position: 2))
        #expect(top.isFull)
        #expect(top.entryScore == 0.5)
        top.offer(.init(score: 0.6, position: 3))
        #expect(top.entryScore == 0.6)
        // A tie with the worst kept hit, enrolled later, does not enter...
        top.offer(.init(score: 0.6, position: 10))
        #expect(top.sorted().map(\.position) == [1, 2, 3])
        // ...one enrolled earlier does.
        top.offer(.init(score: 0.6, position: 0))
        #expect(top.sorted().map(\.position) == [1, 2, 0])
    }

    @Test func tiesAreKeptInPositionOrder() {
        var top = TopK(capacity: 4)
        for position in [9, 3, 7, 1, 5, 0, 8].map(UInt64.init) { top.offer(.init(score: 1, position: position)) }
        #expect(top.sorted().map(\.position) == [0, 1, 3, 5])
    }

    @Test func capacityOne() {
        var rng = SeededGenerator(seed: 72)
        var top = TopK(capacity: 1)
        var best: TopK.Entry?
        for position in 0..<500 {
            let entry = TopK.Entry(score: Float.random(in: -1...1, using: &rng), position: UInt64(position))
            top.offer(entry)
            if best == nil || entry.score > best!.score { best = entry }
        }
        #expect(top.sorted() == [best!])
    }

    @Test func ranksBelow() {
        #expect(TopK.ranksBelow(.init(score: 0.1, position: 0), .init(score: 0.2, position: 5)))
        #expect(TopK.ranksBelow(.init(score: 0.2, position: 6), .init(score: 0.2, position: 5)))
        #expect(!TopK.ranksBelow(.init(score: 0.2, position: 5), .init(score: 0.2, position: 5)))
        #expect(!TopK.ranksBelow(.init(score: 0.3, position: 9), .init(score: 0.2, position: 0)))
    }
}
