import Testing
@testable import Lineup

/// The matcher splits a snapshot into work items across cores and blocks probes over tiles;
/// answers must be those of one serial pass.
@Suite struct ParallelMatcherTests {
    static func gallery(rows: Int, dimension: Int, special: [Float], specialRows: Set<Int>, seed: UInt64) throws -> Gallery {
        var rng = SeededGenerator(seed: seed)
        let gallery = Gallery(settings: .init(modelName: "M", compression: .none))
        var batch: [PreparedEnrollment] = []
        for row in 0..<rows {
            let vector = specialRows.contains(row) ? special : rng.vector(dimension)
            batch.append(PreparedEnrollment(id: .generate(), identity: "r\(row)",
                                            vector: VectorEncoder.encodeNormalizing(vector, as: .none), dimension: dimension))
        }
        try gallery.append(batch)
        return gallery
    }

    /// A plain reference: every live row's clamped score, sorted by score then row order.
    static func reference(_ snapshot: CollectionSnapshot, probe: [Float], k: Int, threshold: Float) -> [MatchHit] {
        var all: [MatchHit] = []
        for (blockIndex, block) in snapshot.blocks.enumerated() {
            block.source.withUnsafeVectors { rows, _ in
                for row in 0..<block.count where block.isLive(row) {
                    var sum: Float = 0
                    for d in 0..<block.dimension {
                        sum += rows.loadUnaligned(fromByteOffset: row * block.stride + 4 * d, as: Float.self) * probe[d]
                    }
                    let score = min(max(sum, -1), 1)
                    if score >= threshold { all.append(MatchHit(score: score, block: blockIndex, row: row)) }
                }
            }
        }
        all.sort { ($0.score, -$0.block, -$0.row) > ($1.score, -$1.block, -$1.row) }
        return Array(all.prefix(k))
    }

    @Test func tiesAcrossWorkItemsKeepEnrollmentOrder() throws {
        let dimension = 8
        let special = VectorEncoder.normalized((0..<dimension).map { Float($0 + 1) })
        let rows = Matcher.itemRows * 2 + 1000
        let specialRows: [Int] = [5, Matcher.itemRows - 1, Matcher.itemRows, Matcher.itemRows * 2 + 999]
        let gallery = try Self.gallery(rows: rows, dimension: dimension, special: special,
                                       specialRows: Set(specialRows), seed: 7)
        let snapshot = gallery.snapshot()
        #expect(snapshot.rowCount == rows)
        let hits = try Matcher.search(snapshot, probe: special, k: specialRows.count, threshold: 0.99)
        var expected: [(block: Int, row: Int)] = []
        for row in specialRows {
            // Locate the row in the gallery's chunks (blocks are chunks in order).
            var remaining = row
            for (index, block) in snapshot.blocks.enumerated() {
                if remaining < block.count { expected.append((index, remaining)); break }
                remaining -= block.count
            }
        }
        #expect(hits.map { "\($0.block):\($0.row)" } == expected.map { "\($0.block):\($0.row)" })
        #expect(hits.allSatisfy { $0.score == 1 || abs($0.score - 1) < 1e-6 })
    }

    @Test func batchAndSingleEqualTheSerialReference() throws {
        let dimension = 12
        let gallery = try Self.gallery(rows: Matcher.itemRows + 5000, dimension: dimension, special: [], specialRows: [], seed: 9)
        var rng = SeededGenerator(seed: 10)
        // Remove a few rows so that liveness matters.
        let removed = gallery.liveRows().enumerated().filter { $0.offset % 97 == 0 }.map { $0.element.chunk.recordID(at: $0.element.row) }
        for id in removed { try gallery.remove(id: id) }
        let snapshot = gallery.snapshot()
        let probes = (0..<5).map { _ in VectorEncoder.normalized(rng.vector(dimension)) }
        let batch = try Matcher.searchBatch(snapshot, probes: probes, k: 25, threshold: -1)
        for (index, probe) in probes.enumerated() {
            let expected = Self.reference(snapshot, probe: probe, k: 25, threshold: -1)
            let single = try Matcher.search(snapshot, probe: probe, k: 25, threshold: -1)
            #expect(single.map { "\($0.block):\($0.row)" } == expected.map { "\($0.block):\($0.row)" }, "probe \(index), single")
            #expect(batch[index].map { "\($0.block):\($0.row)" } == expected.map { "\($0.block):\($0.row)" }, "probe \(index), batch")
            for (hit, reference) in zip(single, expected) { #expect(abs(hit.score - reference.score) < 1e-5) }
        }
    }
}
