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
    /// Probe p's bound E: |exact score − approximate score| ≤ bounds[p] for every stored int8
    /// row.
    let bounds: [Float]
    /// ‖p‖, rounded up: over a row's compact code the error grows with it (``CompactCode``).
    let norms: [Float]
    /// Probe p's share e of the error over compact codes: a code's approximate score (this
    /// kernel's, over the code and its scale c) is within ‖p‖ · B + ‖c q‖ · e of the exact
    /// score of the stored vector, B the row's stored bound (see ``Matcher`` "Batches through
    /// the codes").
    let codeErrors: [Float]

    /// Quantises `count` probes of `dimension` floats, contiguous at `probes`.
    init(_ probes: UnsafePointer<Float>, count: Int, dimension: Int) {
        self.count = count
        stride = (dimension + 63) & ~63
        elements = UnsafeMutableRawPointer.allocate(byteCount: max(1, count * stride), alignment: 64)
            .initializeMemory(as: Int8.self, repeating: 0, count: max(1, count * stride))
        var steps: [Float] = []
        var bounds: [Float] = []
        var norms: [Float] = []
        var codeErrors: [Float] = []
        steps.reserveCapacity(count)
        bounds.reserveCapacity(count)
        norms.reserveCapacity(count)
        codeErrors.reserveCapacity(count)
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
                norms.append(.infinity)
                codeErrors.append(.infinity)
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
            let norm = squaredNorm.squareRoot()
            norms.append(Float(norm * (1 + 1e-12)).nextUp)
            // ‖p − p̃‖, and the three roundings of the kernel's result relative to ‖p̃‖ ≤ ‖p‖ + ‖p − p̃‖.
            let error = squaredError.squareRoot()
            codeErrors.append(Float((error + 3.0001 * 0x1p-24 * (norm + error)) * (1 + 1e-6)).nextUp)
        }
        self.steps = steps
        self.bounds = bounds
        self.norms = norms
        self.codeErrors = codeErrors
    }

    deinit { elements.deallocate() }
}
