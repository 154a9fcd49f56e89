/// How vectors are stored: the encodings FORMAT.md §4 defines, a vector in stored form, and a
/// collection's settings. Shared by the format, the engine, the matcher and the façade.

/// How a collection stores its vectors. Vectors are always L2-normalised first.
public enum VectorCompression: String, Sendable, Equatable, Hashable, CaseIterable {
    /// 32-bit floats: 4 bytes a dimension, exact.
    case none
    /// IEEE 754 half-precision floats: 2 bytes a dimension.
    case fp16
    /// Signed 8-bit integers with one scale per vector: 1 byte a dimension (plus 4 a vector).
    case int8

    /// Stored bytes per dimension.
    public var bytesPerDimension: Int {
        switch self {
        case .none: 4
        case .fp16: 2
        case .int8: 1
        }
    }
}

/// A vector in stored form: `bytes` (dimension × bytes-per-dimension) and, for int8, its scale.
package struct EncodedVector: Sendable, Equatable {
    package var bytes: [UInt8]
    package var scale: Float

    package init(bytes: [UInt8], scale: Float) {
        self.bytes = bytes
        self.scale = scale
    }
}

/// Bytes from one stored row to the next, for `dimension` elements of `encoding`: rounded up
/// to a multiple of 64 so that every row starts on a cache line.
func rowStride(dimension: Int, encoding: VectorCompression) -> Int {
    let raw = dimension * encoding.bytesPerDimension
    return (raw + 63) & ~63
}

/// What a collection records when it is created: the model it accepts and how it stores vectors.
package struct CollectionSettings: Sendable, Equatable {
    package var modelName: String
    package var compression: VectorCompression

    package init(modelName: String, compression: VectorCompression) {
        self.modelName = modelName
        self.compression = compression
    }

    /// `CollectionMetadata.modelOptions`: the settings as a small JSON object.
    package var modelOptionsJSON: String { "{\"vector_compression\":\"\(compression.rawValue)\"}" }
}

extension VectorCompression {
    /// One stored row as float32: float32 copied, fp16 widened (exact), int8 times the row's
    /// scale (the vector whose cosine the matcher reports).
    func decode(_ stored: UnsafeRawPointer, scale: Float?, into output: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .none:
            for index in output.indices { output[index] = stored.loadUnaligned(fromByteOffset: index * 4, as: Float.self) }
        case .fp16:
            for index in output.indices {
                output[index] = Float(Float16(bitPattern: stored.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)))
            }
        case .int8:
            let scale = scale ?? 1
            for index in output.indices {
                output[index] = Float(stored.load(fromByteOffset: index, as: Int8.self)) * scale
            }
        }
    }
}
