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
    /// Σ x², in double precision, with four independent sums so the loop pipelines. NaN or
    /// ±Inf when an element is; never overflows for finite floats (4096 × Float.max² < Double.max).
    static func squaredNorm(_ vector: [Float]) -> Double {
        vector.withUnsafeBufferPointer { squaredNorm($0) }
    }

    /// ``squaredNorm(_:)-([Float])`` of elements in place.
    static func squaredNorm(_ elements: UnsafeBufferPointer<Float>) -> Double {
        var sums: (Double, Double, Double, Double) = (0, 0, 0, 0)
        var index = 0
        while index + 4 <= elements.count {
            let a = Double(elements[index]), b = Double(elements[index + 1])
            let c = Double(elements[index + 2]), d = Double(elements[index + 3])
            sums.0 += a * a
            sums.1 += b * b
            sums.2 += c * c
            sums.3 += d * d
            index += 4
        }
        while index < elements.count {
            let a = Double(elements[index])
            sums.0 += a * a
            index += 1
        }
        return (sums.0 + sums.1) + (sums.2 + sums.3)
    }

    /// The unit vector in the direction of `vector`, computed in double precision.
    /// The caller has checked that the vector is finite and not all zero.
    static func normalized(_ vector: [Float]) -> [Float] {
        let inverse = 1.0 / squaredNorm(vector).squareRoot()
        return [Float](unsafeUninitializedCapacity: vector.count) { output, initialized in
            vector.withUnsafeBufferPointer { input in
                for index in input.indices { output[index] = Float(Double(input[index]) * inverse) }
            }
            initialized = vector.count
        }
    }

    /// Normalises `vector` and encodes it in one pass, without an intermediate array.
    static func encodeNormalizing(_ vector: [Float], as compression: VectorCompression) -> EncodedVector {
        let inverse = 1.0 / squaredNorm(vector).squareRoot()
        switch compression {
        case .none:
            let bytes = [UInt8](unsafeUninitializedCapacity: vector.count * 4) { output, initialized in
                let floats = UnsafeMutableRawBufferPointer(output)
                vector.withUnsafeBufferPointer { input in
                    for index in input.indices {
                        floats.storeBytes(of: Float(Double(input[index]) * inverse).bitPattern.littleEndian,
                                          toByteOffset: index * 4, as: UInt32.self)
                    }
                }
                initialized = vector.count * 4
            }
            return EncodedVector(bytes: bytes, scale: 1)
        case .fp16, .int8:
            return encode(unit: normalized(vector), as: compression)
        }
    }

    /// Encodes a unit vector into `compression`'s stored form.
    static func encode(unit vector: [Float], as compression: VectorCompression) -> EncodedVector {
        switch compression {
        case .none:
            let bytes = [UInt8](unsafeUninitializedCapacity: vector.count * 4) { output, initialized in
                vector.withUnsafeBytes { output.baseAddress!.initialize(from: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: $0.count) }
                initialized = vector.count * 4
            }
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

