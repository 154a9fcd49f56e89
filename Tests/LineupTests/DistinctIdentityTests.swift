import LineupKernels
import Testing
@testable import Lineup

/// `identifyTopIdentities`: each identity at most once, at its best Faceprint, with the same
/// threshold, order, tie rules and scores as `identifyTopCandidates` — equal to the full
/// candidate list with every identity's later rows struck out.
@Suite struct DistinctIdentityTests {
    /// The reference: every candidate of the exhaustive scan, each identity kept at its first
    /// (best) hit, the first `k`.
    static func reference(_ snapshot: CollectionSnapshot, probe: [Float], k: Int, threshold: Float) throws -> [MatchHit] {
        let all = try Matcher.search(snapshot, probe: probe, k: max(1, snapshot.rowCount), threshold: threshold)
        var seen = Set<ExactText>()
        return Array(all.filter { seen.insert(ExactText(snapshot.blocks[$0.block].source.identity(at: $0.row))).inserted }.prefix(k))
    }

    static func describe(_ hits: [MatchHit], _ snapshot: CollectionSnapshot) -> [String] {
        hits.map { "\(snapshot.blocks[$0.block].source.identity(at: $0.row))@\($0.block):\($0.row)=\($0.score.bitPattern)" }
    }

    /// A gallery of `people` identities with `perPerson` rows each, enrolled in a shuffled
    /// order; `dominant` rows of identity "p0" lie close to `probe`, and a few rows are exact
    /// duplicates across identities (ties).
    static func gallery(compression: VectorCompression, rows: Int, dimension: Int, seed: UInt64,
                        probe: [Float]) throws -> Gallery {
        var rng = SeededGenerator(seed: seed)
        let gallery = Gallery(settings: .init(modelName: "M", compression: compression))
        var batch: [PreparedEnrollment] = []
        let shared = rng.vector(dimension)
        for row in 0..<rows {
            let vector: [Float]
            let identity: String
            switch row % 10 {
            case 0, 1, 2:
                // One person owns most of the top rows: the probe, slightly moved.
                vector = zip(probe, rng.vector(dimension)).map { $0 + 0.05 * $1 }
                identity = "p0"
            case 3:
                // Exact ties across identities, in enrollment order.
                vector = shared
                identity = "tie\(row % 7)"
            default:
                vector = rng.vector(dimension)
                identity = "p\(1 + Int(rng.next() % 40))"
            }
            batch.append(PreparedEnrollment(id: .generate(), identity: identity,
                                            vector: VectorEncoder.encodeNormalizing(vector, as: compression), dimension: dimension))
        }
        try gallery.append(batch)
        return gallery
    }

    @Test(arguments: VectorCompression.allCases)
    func equalsTheFullListWithRepeatsStruckOut(compression: VectorCompression) throws {
        let dimension = 24
        var rng = SeededGenerator(seed: 41)
        let probe = VectorEncoder.normalized(rng.vector(dimension))
        // More rows than one work item, so that several workers keep their own top-k.
        let gallery = try Self.gallery(compression: compression, rows: Matcher.itemRows + 3_000, dimension: dimension,
                                       seed: 42, probe: probe)
        // Removed templates, the dominant person's best among them.
        let snapshotBefore = gallery.snapshot()
        let best = try Matcher.search(snapshotBefore, probe: probe, k: 5, threshold: -1)
        for hit in best.prefix(2) {
            try gallery.remove(id: snapshotBefore.blocks[hit.block].source.recordID(at: hit.row))
        }
        let snapshot = gallery.snapshot()
        // The tied rows' vector (the gallery's first draw): a probe equal to stored vectors.
        var first = SeededGenerator(seed: 42)
        let probes = [probe, VectorEncoder.normalized(rng.vector(dimension)), VectorEncoder.normalized(first.vector(dimension))]
        for (index, probe) in probes.enumerated() {
            for (k, threshold) in [(1, Float(-1)), (5, -1), (17, 0.1), (60, -1), (1_000, 0.3)] {
                let distinct = try Matcher.searchDistinct(snapshot, probe: probe, k: k, threshold: threshold)
                let expected = try Self.reference(snapshot, probe: probe, k: k, threshold: threshold)
                #expect(Self.describe(distinct, snapshot) == Self.describe(expected, snapshot),
                        "probe \(index), k \(k), threshold \(threshold)")
                let identities = distinct.map { ExactText(snapshot.blocks[$0.block].source.identity(at: $0.row)) }
                #expect(Set(identities).count == identities.count, "each identity once")
            }
        }
    }

    /// A batch of people searches is blocked (the multi-probe kernels; for int8, the quantised
    /// kernel of this CPU and its serial reference) and rescored exactly: every probe gets, bit
    /// for bit, what it gets alone — probes near a person owning thousands of rows (which
    /// overflow the gather and are searched alone), equal to stored rows, and random ones.
    @Test(arguments: VectorCompression.allCases)
    func aBatchGetsWhatEachProbeGetsAlone(compression: VectorCompression) throws {
        let dimension = 40
        var rng = SeededGenerator(seed: 43)
        let probe = VectorEncoder.normalized(rng.vector(dimension))
        let gallery = try Self.gallery(compression: compression, rows: Matcher.itemRows + 5_000, dimension: dimension,
                                       seed: 44, probe: probe)
        let before = gallery.snapshot()
        for block in before.blocks {
            for row in stride(from: 0, to: block.count, by: 157) { try gallery.remove(id: block.source.recordID(at: row)) }
        }
        let snapshot = gallery.snapshot()
        var first = SeededGenerator(seed: 44)
        var probes = [probe, VectorEncoder.normalized(first.vector(dimension))]
        probes += (0..<6).map { _ in VectorEncoder.normalized(rng.vector(dimension)) }
        probes.append(probes[2])
        let tables = compression == .int8 ? QuantizedBatchTests.tables().map(\.kernels) : [lineup_kernels().pointee]
        for (k, threshold) in [(1, Float(-1)), (5, 0.05), (12, -1), (300, 0.2)] {
            let alone = try probes.map { try Matcher.searchDistinct(snapshot, probe: $0, k: k, threshold: threshold) }
            for kernels in tables {
                let batch = try Matcher.searchDistinctBatch(snapshot, probes: probes, k: k, threshold: threshold, kernels: kernels)
                for index in probes.indices {
                    #expect(Self.describe(batch[index], snapshot) == Self.describe(alone[index], snapshot),
                            "\(String(cString: kernels.isa)) k \(k), threshold \(threshold), probe \(index)")
                }
            }
        }
    }

    @Test func identitiesAreExactTextNotCanonicallyEqual() throws {
        let gallery = Gallery(settings: .init(modelName: "M", compression: .none))
        let vector: [Float] = [1, 0, 0, 0]
        // "café" precomposed and decomposed: two identities, as everywhere in Lineup.
        try gallery.append(["caf\u{E9}", "cafe\u{301}", "caf\u{E9}"].map {
            PreparedEnrollment(id: .generate(), identity: $0, vector: VectorEncoder.encodeNormalizing(vector, as: .none), dimension: 4)
        })
        let hits = try Matcher.searchDistinct(gallery.snapshot(), probe: vector, k: 5, threshold: 0.5)
        #expect(hits.map(\.row) == [0, 1])
    }
}

extension SDKTests.FileStore {
    /// Through the SDK, on a file store with segments and a journal tail: the people are the
    /// candidate list's first rows of each identity, same UUIDs, same similarity bits.
    @Test func identifyTopIdentitiesIsTheCandidateListWithRepeatsStruckOut() throws {
        let directory = try Self.makeDirectory("distinct")
        defer { Self.cleanUp(directory) }
        let path = directory + "/store"
        var sdk = try Self.connect(path)
        try sdk.createCollection("people")
        try sdk.loadCollection("people")
        var rng = SeededGenerator(seed: 5)
        let probe = rng.vector(32)
        var enrolled = 0
        for person in 0..<6 {
            for template in 0..<4 {
                let vector = zip(probe, rng.vector(32)).map { $0 + Float(person + 1) * 0.3 * $1 + 0.01 * Float(template) }
                _ = try sdk.enrollFaceprint(Faceprint(featureVector: vector), identity: "person \(person)")
                enrolled += 1
                // Half of the gallery sealed into a segment, the rest in the journal tail.
                if enrolled == 12 { try sdk.checkpoint() }
            }
        }
        sdk = try Self.connect(path)
        try sdk.loadCollection("people")
        let faceprint = Faceprint(featureVector: probe)
        for (count, threshold) in [(1, Float(-1)), (4, -1), (10, -1), (3, 0.5)] {
            let people = try sdk.identifyTopIdentities(faceprint, numCandidates: count, threshold: threshold)
            let candidates = try sdk.identifyTopCandidates(faceprint, numCandidates: 24, threshold: threshold)
            var seen = Set<String>()
            let expected = Array(candidates.filter { seen.insert($0.identity).inserted }.prefix(count))
            #expect(people.map(\.uuid) == expected.map(\.uuid), "\(count) at \(threshold)")
            #expect(people.map(\.similarityMeasure.bitPattern) == expected.map(\.similarityMeasure.bitPattern))
            #expect(people.map(\.matchProbability) == expected.map(\.matchProbability))
            #expect(Set(people.map(\.identity)).count == people.count)
        }
        #expect(throws: LineupError.self) { try sdk.identifyTopIdentities(faceprint, numCandidates: 0) }
    }
}
