/// An enrollment that has passed validation and encoding, with its UUID: what the SDK hands a
/// backend, what an enroll record of the journal carries (FORMAT.md §5.3), and what becomes a
/// row of a segment. One value from the call to the file.
package struct PreparedEnrollment: Sendable, Equatable {
    package var id: RecordID
    package var identity: String
    package var vector: EncodedVector
    /// The dimension of the vector (elements, not bytes).
    package var dimension: Int

    package init(id: RecordID, identity: String, vector: EncodedVector, dimension: Int) {
        self.id = id
        self.identity = identity
        self.vector = vector
        self.dimension = dimension
    }
}

/// The rules every backend checks before it accepts enrollments — before anything is written,
/// so that applying a durable record cannot fail.
package enum Enrollments {
    /// The error for a vector of `dimension` elements offered to a collection of `holds`.
    package static func dimensionMismatch(_ dimension: Int, holds: Int) -> LineupError {
        LineupError(.enrollmentError, "the Faceprint has \(dimension) dimensions; the collection holds \(holds)-dimensional vectors")
    }

    /// Checks a vector of `dimension` elements against the collection's `fixed` dimension (0:
    /// none yet, any dimension is accepted).
    package static func checkDimension(_ dimension: Int, fixed: Int) throws(LineupError) {
        if fixed != 0 && dimension != fixed { throw dimensionMismatch(dimension, holds: fixed) }
    }

    /// Checks every entry of `batch` against `fixed` (0: the first entry fixes it) and returns
    /// the dimension the collection holds once the batch is in.
    @discardableResult
    package static func checkDimensions(_ batch: [PreparedEnrollment], fixed: Int) throws(LineupError) -> Int {
        guard let first = batch.first else { return fixed }
        let dimension = fixed == 0 ? first.dimension : fixed
        for entry in batch { try checkDimension(entry.dimension, fixed: dimension) }
        return dimension
    }

    /// Checks that no UUID of `batch` occurs twice in it or is `taken` (live in the
    /// collection, or enrolled by a change still in flight).
    package static func checkNewIDs(_ batch: [PreparedEnrollment], taken: (RecordID) -> Bool) throws(LineupError) {
        var seen = Set<RecordID>()
        seen.reserveCapacity(batch.count)
        for entry in batch where taken(entry.id) || !seen.insert(entry.id).inserted {
            throw LineupError(.enrollmentError, "UUID collision; enroll again")
        }
    }
}
