/// A fixed-capacity, append-only block of vectors and their records, in process memory.
///
/// Rows are written once, by the owning ``Gallery`` while it holds its lock, and published by
/// raising the gallery's count; rows below a published count never change again, so readers
/// scan them without a lock. Vectors start 64-byte aligned, `stride` bytes apart.
final class GalleryChunk: VectorBlockSource, @unchecked Sendable {
    let capacity: Int
    let stride: Int
    let encoding: VectorCompression
    let dimension: Int
    private let vectors: UnsafeMutableRawPointer
    private let scales: UnsafeMutablePointer<Float>
    private let ids: UnsafeMutablePointer<RecordID>
    private let identities: UnsafeMutablePointer<String>
    /// Rows written. Changed only under the gallery's lock; readers use their snapshot's count.
    private(set) var written = 0

    init(capacity: Int, dimension: Int, encoding: VectorCompression) {
        precondition(capacity > 0 && dimension > 0)
        self.capacity = capacity
        self.dimension = dimension
        self.encoding = encoding
        self.stride = rowStride(dimension: dimension, encoding: encoding)
        vectors = UnsafeMutableRawPointer.allocate(byteCount: capacity * stride, alignment: 64)
        scales = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        ids = UnsafeMutablePointer<RecordID>.allocate(capacity: capacity)
        identities = UnsafeMutablePointer<String>.allocate(capacity: capacity)
    }

    deinit {
        identities.deinitialize(count: written)
        identities.deallocate()
        ids.deallocate()
        scales.deallocate()
        vectors.deallocate()
    }

    var isFull: Bool { written == capacity }

    /// Writes the next row. The caller holds the gallery's lock and has checked the dimension.
    func append(id: RecordID, identity: String, vector: EncodedVector) {
        precondition(written < capacity && vector.bytes.count == dimension * encoding.bytesPerDimension)
        let row = vectors + written * stride
        vector.bytes.withUnsafeBytes { row.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let padding = stride - vector.bytes.count
        if padding > 0 { (row + vector.bytes.count).initializeMemory(as: UInt8.self, repeating: 0, count: padding) }
        scales[written] = vector.scale
        ids[written] = id
        (identities + written).initialize(to: identity)
        written += 1
    }

    func withUnsafeVectors<R>(_ body: (UnsafeRawPointer, UnsafePointer<Float>?) throws -> R) rethrows -> R {
        try body(UnsafeRawPointer(vectors), UnsafePointer(scales))
    }

    func recordID(at row: Int) -> RecordID { ids[row] }

    func identity(at row: Int) -> String { identities[row] }

    func scale(at row: Int) -> Float { scales[row] }

    /// The stored bytes of row `row` (sealing into a segment, tests, inspection).
    func storedBytes(at row: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: vectors + row * stride, count: dimension * encoding.bytesPerDimension))
    }
}
