/// Additions to the seed's API for bulk work and for the on-disk store.
extension SDK {
    /// Enrolls many Faceprints at once, all or none, and returns their new UUIDs in order.
    ///
    /// `faceprints[i]` is enrolled under `identities[i]`. Every input is checked first, as
    /// ``enrollFaceprint(_:identity:collectionName:)`` checks it; one bad input throws and
    /// enrolls nothing. On the on-disk store the whole batch is one journal record: durable
    /// together when the call returns.
    ///
    /// - Throws: `invalidArgument` when the two arrays differ in length; `inputIsEmpty` when
    ///   they are empty; otherwise as ``enrollFaceprint(_:identity:collectionName:)``.
    public func enrollFaceprints(_ faceprints: [Faceprint], identities: [String],
                                 collectionName: String = "") throws -> [String] {
        guard !faceprints.isEmpty else { throw LineupError(.inputIsEmpty, "no Faceprints to enroll") }
        guard faceprints.count == identities.count else {
            throw LineupError(.invalidArgument, "\(faceprints.count) Faceprints but \(identities.count) identities")
        }
        for (faceprint, identity) in zip(faceprints, identities) {
            try Validation.featureVector(faceprint.featureVector)
            try Validation.identity(identity)
        }
        try Validation.collectionReference(collectionName)
        let store = try connection().resolve(collectionName)
        var prepared: [PreparedEnrollment] = []
        prepared.reserveCapacity(faceprints.count)
        for (faceprint, identity) in zip(faceprints, identities) {
            guard faceprint.modelName == store.settings.modelName else {
                throw LineupError(.enrollmentError,
                                  "a Faceprint's model \(JSONText.quoted(faceprint.modelName)) is not the collection's model \(JSONText.quoted(store.settings.modelName))")
            }
            prepared.append(PreparedEnrollment(faceprint, identity: identity, compression: store.settings.compression))
        }
        try store.enroll(prepared)
        return prepared.map { $0.id.string }
    }

    /// Seals everything the journal holds into segment files now (a checkpoint), so that the
    /// next open replays nothing. A no-op on the memory backend.
    ///
    /// - Throws: `readOnly` or `storeLocked` when this process may not write the store.
    public func checkpoint() throws {
        guard let backend = try connection().backend as? FileBackend else { return }
        try backend.store.checkpointNow()
    }
}
