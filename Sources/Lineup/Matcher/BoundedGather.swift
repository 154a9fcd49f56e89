/// What one worker of an approximate search keeps for one probe: the k best *lower* bounds
/// seen (their k-th sets the floor), and every live row whose *upper* bound reached the floor
/// when it was seen. Every search that scores rows approximately — a probe through the
/// compact codes, a batch through the codes, the quantised kernel or the multi-probe kernels
/// — gathers this way and then scores the survivors exactly (``Matcher/rescore``).
///
/// **Why nothing is lost.** Each row has an approximate score b and a bound E (per row and
/// probe, or one for the whole probe) with |a − b| ≤ E, a its exact score as the full scan
/// computes it, both clamped to [−1, 1] (clamping never moves two scores further apart, so the
/// bound holds for the clamped scores too). So ℓ = b − E ≤ a ≤ u = b + E, and rows scored
/// exactly have ℓ = u = a. Write T for the threshold and L for the k-th best ℓ over all live
/// rows (−∞ with fewer than k): at least k rows score at least L, so the k-th best exact score
/// is at least L, and a row of the exact answer scores at least max(T, L) — hence has u ≥
/// max(T, L). A worker keeps every live row with u at or above that floor, computed with the
/// k-th best ℓ it has seen so far (never more than L, so its floor is never above the true
/// one), and drops kept rows as the floor rises. After the scan the workers' best give L
/// itself, the candidates are filtered once more, and the survivors are scored exactly with
/// the very kernel call the full scan makes for them: ranking those (score, then enrollment
/// order) gives the full scan's answer, bit for bit, ties included.
///
/// **Distinct identities.** With a ``DistinctTopK`` as `lower`, L is the k-th best identity's
/// best ℓ, and the same floor keeps what the exact answer needs: at least k identities have a
/// row with a ≥ L, so the k-th best identity's exact score is at least L; the row at which an
/// identity of the answer scores best has a ≥ max(T, L), and so u at or above the floor. Every
/// other row of that identity that ties it exactly is kept by the same argument, so the exact
/// rescoring picks the identity's best row, earliest on ties.
///
/// How many rows are kept depends on how many lie within about 2E of the k-th best score: a
/// handful for face-like data, where the best matches stand well clear of the impostors.
/// Should the candidates outgrow ``CandidateList/cap`` (only a gallery with thousands of
/// near-duplicates of the probe does that), the gather gives up (`overflowed`) and the probe
/// is searched in full.
struct BoundedGather<Best: HitCollector>: Sendable {
    struct Candidate: Sendable {
        var upper: Float
        /// The exact score, for a row scored from its vector (`exact`).
        var score: Float
        var position: UInt64
        var exact: Bool
    }

    /// The k best lower bounds (of rows, or of identities).
    private(set) var lower: Best
    var candidates: [Candidate] { kept.elements }
    private var kept: CandidateList<Candidate>
    /// max(T, the k-th best lower bound so far): a row whose upper bound is below it cannot be
    /// in the answer (+∞ once the gather has overflowed).
    private(set) var floor: Float
    var overflowed: Bool { kept.overflowed }
    private let threshold: Float

    init(lower: Best, k: Int, threshold: Float) {
        self.lower = lower
        self.threshold = threshold
        floor = threshold
        kept = CandidateList(k: k)
    }

    /// A live row (`row` of `block`) with its bounds, whose upper bound reached ``floor``.
    mutating func offer(lower bound: Float, upper: Float, position: UInt64, exact: Bool, block: VectorBlock, row: Int) {
        guard !overflowed else { return }
        lower.offer(.init(score: bound, position: position), block: block, row: row)
        floor = max(threshold, lower.entryScore)
        if kept.append(Candidate(upper: upper, score: bound, position: position, exact: exact), floor: floor, score: \.upper) {
            floor = .infinity
        }
    }

    /// Offers the live rows of one tile of approximate scores (`scores[offset]` for row
    /// `firstRow + offset`), each within `error(offset)` of its exact score, every one of them
    /// at most `largestError`.
    @inline(__always)
    mutating func offer(_ scores: UnsafePointer<Float>, count: Int, firstRow: Int, block: VectorBlock, blockIndex: Int,
                        largestError: Float, error: (Int) -> Float) {
        // One comparison rules out almost every row: its score plus the largest error is below
        // the floor. The 4 × 10⁻⁶ cover the rounding of this difference and of the row's own
        // test (scores and bounds lie within [−2, 2], where an ulp is at most 2.4 × 10⁻⁷). The
        // floor only rises, so reading it once per tile is conservative.
        let cut = floor - largestError - 4e-6
        for offset in 0..<count where scores[offset] >= cut {
            let row = firstRow + offset
            let error = error(offset)
            let upper = min(max((scores[offset] + error).nextUp, -1), 1)
            guard upper >= floor, block.isLive(row) else { continue }
            let lower = min(max((scores[offset] - error).nextDown, -1), 1)
            offer(lower: lower, upper: upper, position: UInt64(blockIndex) << 32 | UInt64(row), exact: false, block: block, row: row)
        }
    }

    /// Offers the live rows of one tile of exact scores.
    @inline(__always)
    mutating func offerExact(_ scores: UnsafePointer<Float>, count: Int, firstRow: Int, block: VectorBlock, blockIndex: Int) {
        for offset in 0..<count {
            let row = firstRow + offset
            let score = min(max(scores[offset], -1), 1)
            guard score >= floor, block.isLive(row) else { continue }
            offer(lower: score, upper: score, position: UInt64(blockIndex) << 32 | UInt64(row), exact: true, block: block, row: row)
        }
    }
}

/// The rows a gather keeps: appended while they reach its floor, pruned to those still at or
/// above it each time the list has doubled since the last pruning, and given up past `cap`
/// (only thousands of near-duplicates of a probe get there; the caller then scans in full).
struct CandidateList<Element: Sendable>: Sendable {
    private(set) var elements: [Element] = []
    private(set) var overflowed = false
    let cap: Int
    /// Elements at which the next pruning happens.
    private var pruneAt = 64

    init(k: Int) {
        cap = 4096 + 16 * k
    }

    /// Appends `element`, pruning what `score` puts below `floor` when it is time; true when
    /// the list overflows now (it is then empty, and takes nothing more).
    mutating func append(_ element: Element, floor: Float, score: (Element) -> Float) -> Bool {
        guard !overflowed else { return false }
        elements.append(element)
        guard elements.count >= pruneAt else { return false }
        elements.removeAll { score($0) < floor }
        if elements.count > cap {
            overflowed = true
            elements = []
            return true
        }
        pruneAt = max(64, 2 * elements.count)
        return false
    }
}
