import Testing
@testable import Lineup

@Suite struct MatcherTests {
    /// A gallery of `count` random vectors, and the vectors.
    static func gallery(count: Int, dimension: Int, compression: VectorCompression = .none,
                        seed: UInt64) throws -> (Gallery, [[Float]], [RecordID]) {
        var rng = SeededGenerator(seed: seed)
        let gallery = Gallery(settings: EngineFixture.settings(compression))
        let vectors = (0..<count).map { _ in rng.vector(dimension) }
        let entries = vectors.enumerated().map {
            EngineFixture.prepared($0.element, identity: "p\($0.offset)", compression: compression)
        }
        try gallery.append(entries)
        return (gallery, vectors, entries.map(\.id))
    }

    static func ids(_ hits: [MatchHit], _ snapshot: CollectionSnapshot) -> [RecordID] {
        hits.map { EngineFixture.recordID(of: $0, in: snapshot) }
    }

    @Test(arguments: VectorCompression.allCases)
    func searchMatchesBruteForce(compression: VectorCompression) throws {
        // 1100 rows: two chunks, and tiles of 512 inside the first.
        let dimension = 17
        let (gallery, vectors, ids) = try Self.gallery(count: 1100, dimension: dimension, compression: compression, seed: 130)
        let snapshot = gallery.snapshot()
        let tolerance = compression == .none ? 1e-5 : 0.02
        var rng = SeededGenerator(seed: 131)
        for _ in 0..<8 {
            let probe = VectorEncoder.normalized(rng.vector(dimension))
            let reference = vectors.indices.map { (id: ids[$0], score: cosine(probe, vectors[$0])) }
                .sorted { $0.score > $1.score }
            for k in [1, 5, 50] {
                let hits = try Matcher.search(snapshot, probe: probe, k: k, threshold: -1)
                #expect(hits.count == k)
                for (a, b) in zip(hits, hits.dropFirst()) { #expect(a.score >= b.score) }
                let scoreByID = Dictionary(uniqueKeysWithValues: vectors.indices.map { (ids[$0], cosine(probe, vectors[$0])) })
                for (hit, expected) in zip(hits, reference) {
                    #expect(abs(Double(hit.score) - expected.score) < tolerance)
                    let id = EngineFixture.recordID(of: hit, in: snapshot)
                    #expect(abs(Double(hit.score) - scoreByID[id]!) < tolerance, "the score belongs to the row")
                }
                if compression == .none {
                    #expect(Self.ids(hits, snapshot) == reference.prefix(k).map(\.id))
                }
            }
            // Threshold: exactly the rows at or above it (away from the boundary).
            let threshold: Float = 0.3
            let hits = try Matcher.search(snapshot, probe: probe, k: 10_000, threshold: threshold)
            #expect(hits.allSatisfy { $0.score >= threshold })
            let found = Set(Self.ids(hits, snapshot))
            for entry in reference where abs(entry.score - Double(threshold)) > tolerance {
                #expect(found.contains(entry.id) == (entry.score > Double(threshold)))
            }
        }
    }

    @Test func removedRowsAreSkipped() throws {
        let (gallery, vectors, ids) = try Self.gallery(count: 600, dimension: 12, seed: 132)
        for index in stride(from: 0, to: 600, by: 3) { try gallery.remove(id: ids[index]) }
        let snapshot = gallery.snapshot()
        for (index, vector) in vectors.enumerated() {
            let all = try Matcher.search(snapshot, probe: VectorEncoder.normalized(vector), k: 1000, threshold: -1)
            #expect(all.count == 400)
            let top = all.first.map { EngineFixture.recordID(of: $0, in: snapshot) }
            if index % 3 == 0 {
                #expect(top != ids[index])
            } else {
                #expect(top == ids[index])
            }
        }
    }

    @Test func tiesAcrossTilesAndChunksFollowEnrollmentOrder() throws {
        var rng = SeededGenerator(seed: 133)
        let gallery = Gallery(settings: EngineFixture.settings())
        let shared = rng.vector(9)
        let tiePositions: Set<Int> = [0, 1, 511, 512, 513, 1023, 1024, 1025, 1500]
        var tieIDs: [RecordID] = []
        var batch: [PreparedEnrollment] = []
        for index in 0..<1600 {
            let entry = EngineFixture.prepared(tiePositions.contains(index) ? shared : rng.vector(9), identity: "p\(index)")
            if tiePositions.contains(index) { tieIDs.append(entry.id) }
            batch.append(entry)
        }
        try gallery.append(batch)
        let snapshot = gallery.snapshot()
        let probe = VectorEncoder.normalized(shared)
        let hits = try Matcher.search(snapshot, probe: probe, k: tieIDs.count, threshold: 0.9999)
        #expect(Self.ids(hits, snapshot) == tieIDs)
        for k in 1...tieIDs.count {
            #expect(try Self.ids(Matcher.search(snapshot, probe: probe, k: k, threshold: -1), snapshot) == Array(tieIDs.prefix(k)))
        }
    }

    @Test func batchEqualsSingleSearches() throws {
        let (gallery, vectors, _) = try Self.gallery(count: 300, dimension: 20, compression: .fp16, seed: 134)
        let snapshot = gallery.snapshot()
        var rng = SeededGenerator(seed: 135)
        let probes = (0..<30).map { index in VectorEncoder.normalized(index % 2 == 0 ? vectors[index] : rng.vector(20)) }
        for k in [1, 4] {
            // The batch runs the multi-probe kernels and scores its winners again with the
            // single-probe ones: exactly the answers of single searches, scores included.
            let batch = try Matcher.searchBatch(snapshot, probes: probes, k: k, threshold: 0.2)
            #expect(try batch == probes.map { try Matcher.search(snapshot, probe: $0, k: k, threshold: 0.2) })
        }
        #expect(try Matcher.searchBatch(snapshot, probes: [], k: 1, threshold: 0).isEmpty)
    }

    @Test func emptySnapshot() throws {
        let gallery = Gallery(settings: EngineFixture.settings())
        #expect(try Matcher.search(gallery.snapshot(), probe: [1, 0, 0], k: 5, threshold: -1).isEmpty)
        #expect(try Matcher.searchBatch(gallery.snapshot(), probes: [[1, 0, 0], [0, 1, 0]], k: 5, threshold: -1) == [[], []])
    }
}

@Suite struct MatchProbabilityTests {
    @Test func curveIsMonotoneAndBounded() {
        for curve in [MatchProbability.default, .curve(forModel: "TFV5_2"), .curve(forModel: "LITE"),
                      MatchProbability(midpoint: 0, steepness: 1000)] {
            var previous: Float = 0
            for step in -1000...1000 {
                let p = curve.probability(forSimilarity: Float(step) / 500)   // [-2, 2]
                #expect(p >= 0 && p <= 1)
                #expect(p >= previous)
                previous = p
            }
            #expect(abs(curve.probability(forSimilarity: curve.midpoint) - 0.5) < 1e-6)
        }
    }

    @Test func registry() {
        #expect(MatchProbability.curve(forModel: "NO_SUCH_MODEL_\(#line)") == .default)
        let name = "TEST_ONLY_MODEL_\(#line)"
        let custom = MatchProbability(midpoint: 0.6, steepness: 20)
        MatchProbability.register(custom, forModel: name)
        #expect(MatchProbability.curve(forModel: name) == custom)
    }
}
