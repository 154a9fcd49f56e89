/// Turns a validated feature vector into its stored form: L2-normalised, then encoded as the
/// collection's ``VectorCompression`` says. FORMAT.md, "Vector encodings", defines the forms.
///
/// - `none`: the unit vector as float32.
/// - `fp16`: the unit vector rounded to binary16 (round to nearest even). A component's error
///   is at most 2⁻¹¹ of its magnitude, so a similarity is off by at most ≈ 4.9 × 10⁻⁴.
/// - `int8`: q = round(127 · x / max|x|), and one float scale per vector, 1 / ‖q‖, so that the
///   decoded vector q · scale is again a unit vector and the similarity is its exact cosine
///   with the probe. Rounding moves each component by at most half a step; for 512-d face
///   templates the similarity is off by about 0.005 (typical) and 0.02 (worst seen).
enum VectorEncoder {
    /// The unit vector in the direction of `vector`, computed in double precision.
    /// The caller has checked that the vector is finite and not all zero.
    static func normalized(_ vector: [Float]) -> [Float] {
        var sumOfSquares = 0.0
        for value in vector {
            sumOfSquares += Double(value) * Double(value)
        }
        let inverse = 1.0 / sumOfSquares.squareRoot()
        return vector.map { Float(Double($0) * inverse) }
    }

    /// Encodes a unit vector into `compression`'s stored form.
    static func encode(unit vector: [Float], as compression: VectorCompression) -> EncodedVector {
        switch compression {
        case .none:
            let bytes = vector.withUnsafeBytes { Array($0) }
            return EncodedVector(bytes: bytes, scale: 1)
        case .fp16:
            var bytes = [UInt8](repeating: 0, count: vector.count * 2)
            for (index, value) in vector.enumerated() {
                let bits = Float16(value).bitPattern
                bytes[2 * index] = UInt8(truncatingIfNeeded: bits)
                bytes[2 * index + 1] = UInt8(truncatingIfNeeded: bits >> 8)
            }
            return EncodedVector(bytes: bytes, scale: 1)
        case .int8:
            var largest: Float = 0
            for value in vector { largest = max(largest, abs(value)) }
            var bytes = [UInt8](repeating: 0, count: vector.count)
            var sumOfSquares = 0.0
            for (index, value) in vector.enumerated() {
                let q = Int8((value * 127 / largest).rounded(.toNearestOrEven))
                bytes[index] = UInt8(bitPattern: q)
                sumOfSquares += Double(q) * Double(q)
            }
            return EncodedVector(bytes: bytes, scale: Float(1 / sumOfSquares.squareRoot()))
        }
    }
}

/// A vector in stored form: `bytes` (dimension × bytes-per-dimension) and, for int8, its scale.
struct EncodedVector: Sendable, Equatable {
    var bytes: [UInt8]
    var scale: Float
}
