/// The checks every input passes before anything is touched (Lineup.docc/TheContract.md, "Errors"). Each throws
/// the code that table assigns and a message without vector values.
package enum Validation {
    /// Longest accepted collection name, in UTF-8 bytes.
    static let maximumNameBytes = 255
    /// Longest accepted identity, in UTF-8 bytes.
    static let maximumIdentityBytes = 1024
    /// Largest accepted dimension. Face templates have 128–1024; this bound keeps a single
    /// bad input from allocating without limit.
    static let maximumDimension = 4096

    /// A collection name: 1–255 bytes of UTF-8 without control characters.
    package static func collectionName(_ name: String) throws {
        let bytes = name.utf8.count
        guard bytes > 0 else {
            throw LineupError(.invalidArgument, "a collection name must not be empty")
        }
        guard bytes <= maximumNameBytes else {
            throw LineupError(.invalidArgument, "a collection name is at most \(maximumNameBytes) bytes of UTF-8; this one has \(bytes)")
        }
        guard !name.unicodeScalars.contains(where: isControl) else {
            throw LineupError(.invalidArgument, "a collection name must not contain control characters")
        }
    }

    /// A `collectionName:` argument of an operation: `""` (the only loaded one) or a name.
    static func collectionReference(_ name: String) throws {
        if !name.isEmpty { try collectionName(name) }
    }

    /// An identity: 1–1024 bytes of UTF-8.
    static func identity(_ identity: String) throws {
        let bytes = identity.utf8.count
        guard bytes > 0 else { throw LineupError(.inputIsEmpty, "the identity is empty") }
        guard bytes <= maximumIdentityBytes else {
            throw LineupError(.invalidArgument, "an identity is at most \(maximumIdentityBytes) bytes of UTF-8; this one has \(bytes)")
        }
    }

    /// A feature vector: not empty, at most ``maximumDimension`` elements, finite, not all zero.
    static func featureVector(_ vector: [Float]) throws {
        try vector.withUnsafeBufferPointer { try featureVector($0) }
    }

    /// ``featureVector(_:)-([Float])`` of elements in place.
    static func featureVector(_ vector: UnsafeBufferPointer<Float>) throws {
        guard !vector.isEmpty else { throw LineupError(.inputIsEmpty, "the feature vector is empty") }
        guard vector.count <= maximumDimension else {
            throw LineupError(.invalidArgument, "the feature vector has \(vector.count) dimensions; at most \(maximumDimension) are accepted")
        }
        // One pass: the sum of squares is finite exactly when every element is, and zero
        // exactly when every element is zero (squares of tiny floats do not underflow in Double).
        let squaredNorm = VectorEncoder.squaredNorm(vector)
        guard squaredNorm.isFinite else {
            throw LineupError(.invalidArgument, "the feature vector contains NaN or an infinity")
        }
        guard squaredNorm > 0 else { throw LineupError(.invalidArgument, "the feature vector is all zero") }
    }

    /// A model name recorded by a collection: 1–255 bytes of UTF-8 without control characters.
    package static func modelName(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= maximumNameBytes,
              !name.unicodeScalars.contains(where: isControl) else {
            throw LineupError(.invalidArgument, "a model name is 1–\(maximumNameBytes) bytes of UTF-8 without control characters")
        }
    }

    static func threshold(_ threshold: Float) throws {
        guard threshold.isFinite else { throw LineupError(.invalidArgument, "the threshold must be a finite number") }
    }

    static func candidateCount(_ count: Int) throws {
        guard count >= 1 else { throw LineupError(.invalidArgument, "numCandidates must be at least 1") }
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value <= 0x9F)
    }
}
