import Foundation
import LineupKernels

/// A collection's own labelled pairs, and the curve and error rates they give: two live
/// Faceprints of one identity are a genuine pair, of two identities an impostor pair.
///
/// **Scores** come from the matcher's single-probe kernels: one Faceprint of the pair is
/// decoded from its stored form (float32, fp16 widened, int8 times its scale) and scored
/// against the other's stored row, as identification scores a probe against that row.
///
/// **The curve** is a logistic p(s) = 1 / (1 + e^(−a·(s − m))), fitted by maximum likelihood
/// (Newton's method on the log-likelihood of same/different given the similarity), the two
/// classes weighted equally: the probability is that of a match when matches and non-matches
/// are equally likely a priori. It assumes the labels are right (an identity is one person and
/// two identities are two people) and the pairs independent, which pairs sharing a Faceprint
/// are not quite: the rates' sampling error is larger than the pair counts alone suggest.
enum Calibration {
    /// Similarities of genuine and impostor pairs.
    struct Scores: Sendable {
        var genuine: [Float]
        var impostor: [Float]
    }

    /// Scores every genuine pair of `snapshot` (every two live rows of one identity) and
    /// impostor pairs: all of them when there are at most `impostorLimit`, else that many
    /// drawn by a generator seeded with `seed` (uniform over pairs of rows of two identities,
    /// with replacement).
    ///
    /// - Throws: `corruptStore` when a block's stored vectors fail their checksum.
    static func scores(_ snapshot: CollectionSnapshot, impostorLimit: Int = 1_000_000, seed: UInt64 = 0x4C49_4E45) throws -> Scores {
        // Every live row, with its identity's index.
        var rows: [(block: Int32, row: Int32)] = []
        var owner: [Int32] = []
        var identityIndex: [ExactText: Int32] = [:]
        for (blockIndex, block) in snapshot.blocks.enumerated() {
            guard block.source.checkVectors(rows: 0..<block.count) else {
                throw LineupError(.corruptStore, "a segment's vectors fail their checksum; run lineup verify")
            }
            block.source.forEachIdentity(rows: 0..<block.count) { row, identity in
                guard block.isLive(row) else { return }
                let key = ExactText(identity)
                let index = identityIndex[key] ?? Int32(identityIndex.count)
                identityIndex[key] = index
                rows.append((Int32(blockIndex), Int32(row)))
                owner.append(index)
            }
        }
        var members = [[Int]](repeating: [], count: identityIndex.count)
        for (position, identity) in owner.enumerated() { members[Int(identity)].append(position) }

        let scorer = PairScorer(snapshot: snapshot, rows: rows)
        var genuine: [Float] = []
        genuine.reserveCapacity(members.reduce(0) { $0 + $1.count * ($1.count - 1) / 2 })
        for group in members where group.count > 1 {
            for (offset, first) in group.enumerated() {
                for second in group[(offset + 1)...] { genuine.append(scorer.score(first, second)) }
            }
        }
        // Impostor pairs: rows × rows minus each identity's own pairs, unordered.
        let totalPairs = rows.count * (rows.count - 1) / 2
        let impostorPairs = totalPairs - members.reduce(0) { $0 + $1.count * ($1.count - 1) / 2 }
        var impostor: [Float] = []
        if impostorPairs <= impostorLimit {
            impostor.reserveCapacity(impostorPairs)
            for first in 0..<rows.count {
                for second in (first + 1)..<max(first + 1, rows.count) where owner[first] != owner[second] {
                    impostor.append(scorer.score(first, second))
                }
            }
        } else {
            var generator = SeededGenerator(seed: seed)
            impostor.reserveCapacity(impostorLimit)
            while impostor.count < impostorLimit {
                let first = Int(generator.next() % UInt64(rows.count))
                let second = Int(generator.next() % UInt64(rows.count))
                guard owner[first] != owner[second] else { continue }
                impostor.append(scorer.score(first, second))
            }
        }
        return Scores(genuine: genuine, impostor: impostor)
    }

    /// The weight of the ridge on the slope in ``fit(_:)``.
    static let ridge = 1e-6

    /// The logistic curve that maximises the likelihood of `scores`, the two classes weighted
    /// equally; nil when there is no genuine or no impostor pair, or when genuine pairs are no
    /// more similar than impostor pairs (no increasing curve fits).
    static func fit(_ scores: Scores) -> MatchProbability? {
        guard !scores.genuine.isEmpty, !scores.impostor.isEmpty else { return nil }
        // p = σ(a·s + b); Newton's method in double precision, from a = 0, b = 0.
        let genuineWeight = 0.5 / Double(scores.genuine.count)
        let impostorWeight = 0.5 / Double(scores.impostor.count)
        var a = 0.0, b = 0.0
        for _ in 0..<100 {
            var gradientA = 0.0, gradientB = 0.0, haa = 0.0, hab = 0.0, hbb = 0.0
            func add(_ score: Float, label: Double, weight: Double) {
                let s = Double(score)
                let p = 1 / (1 + exp(-(a * s + b)))
                let residual = label - p
                gradientA += weight * residual * s
                gradientB += weight * residual
                let curvature = weight * p * (1 - p)
                haa += curvature * s * s
                hab += curvature * s
                hbb += curvature
            }
            for score in scores.genuine { add(score, label: 1, weight: genuineWeight) }
            for score in scores.impostor { add(score, label: 0, weight: impostorWeight) }
            // A faint ridge on the slope keeps classes that never overlap (the likelihood then
            // grows without bound as the curve steepens) to a finite, very steep curve; on
            // overlapping classes it moves the fit by far less than its sampling error.
            gradientA -= ridge * a
            haa += ridge
            let determinant = haa * hbb - hab * hab
            guard determinant > 1e-300 else { return nil }
            let stepA = (hbb * gradientA - hab * gradientB) / determinant
            let stepB = (haa * gradientB - hab * gradientA) / determinant
            a += stepA
            b += stepB
            guard a.isFinite, b.isFinite, abs(a) < 1e6 else { return nil }
            if abs(stepA) < 1e-10 * max(1, abs(a)) && abs(stepB) < 1e-10 * max(1, abs(b)) { break }
        }
        guard a > 0 else { return nil }
        let midpoint = Float(-b / a), steepness = Float(a)
        guard midpoint.isFinite, steepness.isFinite, steepness > 0 else { return nil }
        return MatchProbability(midpoint: midpoint, steepness: steepness)
    }

    /// FAR (impostor pairs at or above the threshold) and FRR (genuine pairs below it) at
    /// every threshold from −1 to 1 in steps of `step`, ascending.
    static func rates(_ scores: Scores, step: Float = 0.001) -> [RatePoint] {
        let genuine = scores.genuine.sorted(), impostor = scores.impostor.sorted()
        let count = Int((2 / step).rounded()) + 1
        var points: [RatePoint] = []
        points.reserveCapacity(count)
        // Both lists sorted: the number below each rising threshold only grows.
        var genuineBelow = 0, impostorBelow = 0
        for index in 0..<count {
            let threshold = index == count - 1 ? 1 : -1 + Float(index) * step
            while genuineBelow < genuine.count && genuine[genuineBelow] < threshold { genuineBelow += 1 }
            while impostorBelow < impostor.count && impostor[impostorBelow] < threshold { impostorBelow += 1 }
            points.append(RatePoint(threshold: threshold,
                                    falseAcceptRate: impostor.isEmpty ? 0 : Double(impostor.count - impostorBelow) / Double(impostor.count),
                                    falseRejectRate: genuine.isEmpty ? 0 : Double(genuineBelow) / Double(genuine.count)))
        }
        return points
    }
}

/// What ``SDK/calibrate(collectionName:)`` measured: the pairs, the fitted curve, and the
/// error rates across thresholds.
public struct CalibrationReport: Codable, Sendable, Equatable {
    public var genuinePairs: Int
    public var impostorPairs: Int
    /// The fitted logistic curve.
    public var curve: MatchProbability
    /// Threshold → FAR, FRR, sorted by threshold (−1 to 1 in steps of 0.001).
    public var points: [RatePoint]

    public init(genuinePairs: Int, impostorPairs: Int, curve: MatchProbability, points: [RatePoint]) {
        self.genuinePairs = genuinePairs
        self.impostorPairs = impostorPairs
        self.curve = curve
        self.points = points
    }

    /// The lowest threshold of ``points`` whose false-accept rate is at most `far`; nil when
    /// none is (impostor pairs as similar as 1). A FAR below one in ``impostorPairs`` cannot
    /// be told from zero: ask for rates the pairs can measure (README, "Calibration").
    public func threshold(forFalseAcceptRate far: Double) -> Float? {
        points.first { $0.falseAcceptRate <= far }?.threshold
    }
}

/// One threshold and the error rates a collection's own pairs give at it.
public struct RatePoint: Codable, Sendable, Equatable {
    public var threshold: Float
    /// The fraction of impostor pairs (two identities) whose similarity reaches the threshold.
    public var falseAcceptRate: Double
    /// The fraction of genuine pairs (one identity) whose similarity stays below it.
    public var falseRejectRate: Double

    public init(threshold: Float, falseAcceptRate: Double, falseRejectRate: Double) {
        self.threshold = threshold
        self.falseAcceptRate = falseAcceptRate
        self.falseRejectRate = falseRejectRate
    }
}

/// Scores a pair of a snapshot's rows with the single-probe kernel of the second row's block.
private final class PairScorer {
    let snapshot: CollectionSnapshot
    let rows: [(block: Int32, row: Int32)]
    let kernels = lineup_kernels().pointee
    /// The first row of the pair, decoded: the probe.
    let probe: UnsafeMutableBufferPointer<Float>

    init(snapshot: CollectionSnapshot, rows: [(block: Int32, row: Int32)]) {
        self.snapshot = snapshot
        self.rows = rows
        probe = .allocate(capacity: max(1, snapshot.dimension))
        probe.initialize(repeating: 0)
    }

    deinit { probe.deallocate() }

    func score(_ first: Int, _ second: Int) -> Float {
        let (probeBlock, probeRow) = (snapshot.blocks[Int(rows[first].block)], Int(rows[first].row))
        probeBlock.source.withUnsafeVectors { vectors, scales in
            probeBlock.encoding.decode(vectors + probeRow * probeBlock.stride, scale: scales.map { $0[probeRow] },
                                       into: UnsafeMutableBufferPointer(rebasing: probe[0..<probeBlock.dimension]))
        }
        let (block, row) = (snapshot.blocks[Int(rows[second].block)], Int(rows[second].row))
        let kernel = kernels.single(for: block.encoding)
        var score: Float = 0
        block.source.withUnsafeVectors { vectors, scales in
            kernel(vectors + row * block.stride, block.stride, 1, block.dimension, probe.baseAddress!,
                   scales.map { $0 + row }, &score)
        }
        return min(max(score, -1), 1)
    }
}
