/// The compact code a sealed segment keeps beside each float32 or fp16 vector (FORMAT.md §6.3),
/// and the bound that lets a scan of the codes return exactly the answer of a scan of the
/// vectors.
///
/// A row's code is q = round(127 · x / max|x|) in int8 with its own scale c, the least-squares
/// one, c = (x · q) / (q · q), where x is the stored vector as the kernels read it. Its
/// **bound** B is an upper bound, per unit of probe norm, on how far the code's score
/// fl(c · Σ q_d p_d) (the int8 kernel's) can be from the stored vector's score fl(Σ x_d p_d)
/// (the float kernels'):
///
///     |exact − approximate| ≤ ‖p‖ · (ρ + γ · (‖x‖ + ‖c q‖)) ≤ ‖p‖ · B
///
/// with ρ = ‖x − c q‖ the residual (Cauchy–Schwarz bounds p · (x − c q) by ‖p‖ ρ) and γ the
/// rounding bound of a float sum of d products and one more product, whatever the order of
/// the sum (Higham, "Accuracy and Stability of Numerical Algorithms", §3.1): each kernel is off
/// its real-number value by at most γ · Σ|terms| ≤ γ · ‖p‖ · ‖row‖. Everything is computed in
/// double and B rounded up to float, so the stored B is never below the true one.
enum CompactCode {
    /// γ for `dimension`: (d + 2) u / (1 − (d + 2) u), u = 2⁻²⁴ — the d − 1 additions and
    /// the products of either kernel, with one to spare.
    static func roundingBound(dimension: Int) -> Double {
        let terms = Double(dimension + 2) * 0x1p-24
        return terms / (1 - terms)
    }

    /// The code of `row` (the stored vector, as floats): its int8 elements into `code`
    /// (`row.count` of them), its scale, and its bound.
    static func encode(_ row: UnsafeBufferPointer<Float>, into code: UnsafeMutableBufferPointer<Int8>) -> (scale: Float, bound: Float) {
        precondition(code.count >= row.count)
        var largest: Float = 0
        for value in row { largest = max(largest, abs(value)) }
        guard largest > 0, largest.isFinite else {
            for index in row.indices { code[index] = 0 }
            return (0, largest.isFinite ? 0 : .infinity)
        }
        var dot = 0.0, squares = 0.0
        for index in row.indices {
            let q = Int8((Double(row[index]) * 127 / Double(largest)).rounded(.toNearestOrEven))
            code[index] = q
            dot += Double(row[index]) * Double(q)
            squares += Double(q) * Double(q)
        }
        let scale = Float(dot / squares)
        var residual = 0.0, rowNorm = 0.0, codeNorm = 0.0
        for index in row.indices {
            let decoded = Double(scale) * Double(code[index])   // exact: 24 × 8 significant bits
            let difference = Double(row[index]) - decoded
            residual += difference * difference
            rowNorm += Double(row[index]) * Double(row[index])
            codeNorm += decoded * decoded
        }
        // Square roots and sums in double are off by a few parts in 10¹⁶: the factor covers them.
        let bound = (residual.squareRoot() + roundingBound(dimension: row.count) * (rowNorm.squareRoot() + codeNorm.squareRoot()))
            * (1 + 1e-12)
        return (scale, Float(bound).nextUp)
    }
}
