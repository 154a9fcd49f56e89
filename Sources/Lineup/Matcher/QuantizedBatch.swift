import LineupKernels

/// A batch's probes quantised to int8 for the exact integer kernel (`scores_many_i8q`), each
/// with its step and the bound on how far its approximate scores can be from the exact ones.
///
/// **Quantisation.** Probe p becomes q[d] = round(p[d] / step), step = max|p| / 127, so q lies
/// in −127…127 and p̃ = step · q is within step / 2 of p in every element. The kernel returns
/// s̃ = scale · Σ q_row[d] · q[d] · step (the integer sum exact), an approximation of the
/// similarity s = scale · Σ q_row[d] · p[d] that the single-probe kernels compute.
///
/// **The bound.** Exactly, s − s̃ = scale · Σ q_row[d] · (p[d] − p̃[d]), and by Cauchy–Schwarz
///
///     |s − s̃| ≤ ‖scale · q_row‖₂ · ‖p − p̃‖₂ = ‖p − p̃‖₂,
///
/// because an int8 row is stored with scale = 1 / ‖q_row‖ (FORMAT.md, "Vector encodings"): its
/// decoded vector is a unit vector (to float rounding of the scale, a relative 2⁻²⁴, covered by
/// the factor 1 + 10⁻⁶ below). ‖p − p̃‖₂ is computed for each probe, in double precision, from
/// the q actually stored; for a 512-d unit probe it is about 0.007 (the quantisation error is
/// at most step / 2 per element, about step / √12 on average). To that the bound adds what
/// float arithmetic can contribute: the single-probe kernel's sum of `dimension` products and
/// its scaling differ from the real-number value by at most (dimension + 2) · 2⁻²⁴ · ‖p‖
/// (the textbook bound for a float sum in any order, Σ|scale · q_row[d] · p[d]| ≤ ‖p‖), and s̃
/// carries three more roundings; the bound uses twice that, (2 · dimension + 16) · 2⁻²⁴ ·
/// max(1, ‖p‖), which also covers the rounding of the floors computed from it. Clamping the
/// scores to [−1, 1], as the matcher does, never moves two scores further apart, so the bound
/// `E` holds for the clamped scores too. The bound assumes rows written by this engine's
/// encoder; a file whose scales were forged (and whose checksums were recomputed to match)
/// could make a batch answer differ from the single-probe one, never read out of bounds.
final class QuantizedProbes: @unchecked Sendable {
    /// Probe p's elements at elements + p * stride.
    let elements: UnsafeMutablePointer<Int8>
    /// Bytes from one probe to the next: the dimension rounded up to a multiple of 64, so every
    /// probe starts on a cache line.
    let stride: Int
    let count: Int
    /// Probe p's step: its element q stands for q · steps[p].
    let steps: [Float]
    /// Probe p's bound E: |exact score − approximate score| ≤ bounds[p] for every stored row.
    let bounds: [Float]

    /// Quantises `count` probes of `dimension` floats, contiguous at `probes`.
    init(_ probes: UnsafePointer<Float>, count: Int, dimension: Int) {
        self.count = count
        stride = (dimension + 63) & ~63
        elements = UnsafeMutableRawPointer.allocate(byteCount: max(1, count * stride), alignment: 64)
            .initializeMemory(as: Int8.self, repeating: 0, count: max(1, count * stride))
        var steps: [Float] = []
        var bounds: [Float] = []
        steps.reserveCapacity(count)
        bounds.reserveCapacity(count)
        let floatSlack = Double(2 * dimension + 16) * 0x1p-24
        for p in 0..<count {
            let probe = probes + p * dimension
            let output = elements + p * stride
            var largest: Float = 0
            var squaredNorm = 0.0
            for d in 0..<dimension {
                largest = max(largest, abs(probe[d]))
                squaredNorm += Double(probe[d]) * Double(probe[d])
            }
            guard largest.isFinite, squaredNorm.isFinite else {
                // Not a usable probe: no candidate can be ruled out.
                steps.append(0)
                bounds.append(.infinity)
                continue
            }
            let step = largest / 127   // 0 for a zero probe: every score is then exactly 0
            var squaredError = 0.0
            for d in 0..<dimension {
                let q: Float = step > 0 ? min(max((probe[d] / step).rounded(.toNearestOrEven), -127), 127) : 0
                output[d] = Int8(q)
                // step · q is exact in double (24 × 8 significant bits).
                let error = Double(probe[d]) - Double(step) * Double(q)
                squaredError += error * error
            }
            let bound = squaredError.squareRoot() * (1 + 1e-6) + floatSlack * max(1, squaredNorm.squareRoot())
            steps.append(step)
            bounds.append(Float(bound).nextUp)
        }
        self.steps = steps
        self.bounds = bounds
    }

    deinit { elements.deallocate() }
}

/// One probe's candidates over one worker's rows in a batch scored approximately: every row that could be
/// among the probe's exact top k, by its approximate score.
///
/// **Why nothing is lost.** Write a for a row's exact (clamped) score, b for its approximate
/// one, E for the probe's bound (|a − b| ≤ E, ``QuantizedProbes``), T for the threshold, and L
/// for the k-th best b over all live rows (−∞ with fewer than k). At least k rows have b ≥ L,
/// hence a ≥ L − E, so the k-th best exact score A_k ≥ L − E. A row of the exact answer has
/// a ≥ A_k and a ≥ T, so
///
///     b ≥ a − E ≥ max(T − E, L − 2E).
///
/// A worker keeps every row with b at or above that floor, computed with the k-th best b among
/// the rows it has seen so far (never more than L, so its floor is never above the true one),
/// and drops kept rows as the floor rises. After the scan the workers' k best b give L itself,
/// the candidates are filtered once more, and the survivors are scored exactly: the exact
/// answer is among them, and ranking them exactly (score, then enrollment order) gives the
/// answer the probe gets alone, ties included. How many candidates that is depends on how many
/// rows score within 2E of the k-th: for 1M random 512-d rows and k = 10, a few dozen.
///
/// Should the candidates outgrow ``CandidateList/cap`` (only a gallery with thousands of near-duplicates of
/// the probe does that), the gather gives up (`overflowed`) and the probe is searched alone.
///
/// **Distinct identities.** With a ``DistinctTopK`` as `best`, L is the k-th best identity's
/// best b, and the same floor keeps what the exact answer needs: at least k identities have a
/// row with b ≥ L, hence a ≥ L − E, so the k-th best identity's exact score A_k ≥ L − E; the
/// row at which an identity of the answer scores best has a ≥ A_k and a ≥ T, and so b at or
/// above the floor. Every other row of that identity that ties or beats it exactly is kept by
/// the same argument, so the exact rescoring picks the identity's best row, earliest on ties.
///
/// Batches over float32 and fp16 rows gather the same way with E = ``Matcher/rescoreSlack``,
/// far more than the multi-probe kernels' scores ever differ from the single-probe ones.
struct BoundedGather<Best: HitCollector>: Sendable {
    /// The k best approximate scores seen (ties by enrollment order; of distinct identities for
    /// a ``DistinctTopK``): the k-th is the running L.
    private(set) var best: Best
    /// The rows kept so far, with their approximate (clamped) scores.
    var candidates: [TopK.Entry] { kept.elements }
    private var kept: CandidateList<TopK.Entry>
    /// The current floor, where the scan can compare it directly: −∞ while it is at or below −1
    /// (every clamped score reaches it, and raw scores below −1 must pass too).
    private(set) var floor: Float
    var overflowed: Bool { kept.overflowed }
    private let threshold: Float
    private let bound: Float

    /// - Parameters:
    ///   - best: an empty collector of capacity `k`.
    ///   - bound: E, the most an approximate score may differ from the exact one.
    init(best: Best, k: Int, threshold: Float, bound: Float) {
        self.best = best
        self.threshold = threshold
        self.bound = bound
        kept = CandidateList(k: k)
        floor = Self.floor(threshold: threshold, bound: bound, kthBest: -.infinity)
    }

    /// max(T − E, L − 2E), or −∞ when that is at or below −1.
    static func floor(threshold: Float, bound: Float, kthBest: Float) -> Float {
        let floor = max(threshold - bound, kthBest - 2 * bound)
        return floor > -1 ? floor : -.infinity
    }

    /// A live row (`row` of `block`) whose approximate score `entry.score` (clamped) reached
    /// ``floor``.
    mutating func offer(_ entry: TopK.Entry, block: VectorBlock, row: Int) {
        guard !overflowed else { return }
        best.offer(entry, block: block, row: row)
        if best.entryScore > -.infinity { floor = Self.floor(threshold: threshold, bound: bound, kthBest: best.entryScore) }
        if kept.append(entry, floor: floor, score: \.score) { floor = .infinity }
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
