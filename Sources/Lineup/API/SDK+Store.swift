import Dispatch

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
        try enrollFaceprints(faceprints, identities: identities, ids: nil, collectionName: collectionName)
    }

    /// ``enrollFaceprints(_:identities:collectionName:)`` keeping given UUIDs instead of making
    /// new ones (a restore of an export: `lineup import --uuids`): `uuids[i]` becomes the UUID
    /// of `faceprints[i]`. Returns the UUIDs, lowercase.
    ///
    /// - Throws: `invalidArgument` when a UUID is malformed, appears twice, or belongs to a
    ///   live Faceprint of the collection already, or the arrays differ in length; otherwise as
    ///   ``enrollFaceprints(_:identities:collectionName:)``. Nothing is enrolled then.
    public func enrollFaceprints(_ faceprints: [Faceprint], identities: [String], uuids: [String],
                                 collectionName: String = "") throws -> [String] {
        guard uuids.count == faceprints.count else {
            throw LineupError(.invalidArgument, "\(faceprints.count) Faceprints but \(uuids.count) UUIDs")
        }
        var ids: [RecordID] = []
        ids.reserveCapacity(uuids.count)
        var seen = Set<RecordID>()
        for (index, text) in uuids.enumerated() {
            guard let id = RecordID(string: text) else {
                throw LineupError(.invalidArgument, "UUID \(index + 1) is not a UUID (8-4-4-4-12 hexadecimal digits)")
            }
            guard seen.insert(id).inserted else {
                throw LineupError(.invalidArgument, "UUID \(index + 1), \(id.string), appears twice")
            }
            ids.append(id)
        }
        return try enrollFaceprints(faceprints, identities: identities, ids: ids, collectionName: collectionName)
    }

    private func enrollFaceprints(_ faceprints: [Faceprint], identities: [String], ids: [RecordID]?,
                                  collectionName: String) throws -> [String] {
        guard !faceprints.isEmpty else { throw LineupError(.inputIsEmpty, "no Faceprints to enroll") }
        guard faceprints.count == identities.count else {
            throw LineupError(.invalidArgument, "\(faceprints.count) Faceprints but \(identities.count) identities")
        }
        // Checking and encoding are independent per Faceprint: both run on every core, and
        // the first bad input (by position) is the one reported.
        try SDK.forEachInParallel(faceprints.count) { index in
            try Validation.featureVector(faceprints[index].featureVector)
            try Validation.identity(identities[index])
        }
        try Validation.collectionReference(collectionName)
        let store = try connection().resolve(collectionName)
        let settings = store.settings
        for faceprint in faceprints where faceprint.modelName != settings.modelName {
            throw LineupError(.enrollmentError,
                              "a Faceprint's model \(JSONText.quoted(faceprint.modelName)) is not the collection's model \(JSONText.quoted(settings.modelName))")
        }
        if let ids { try store.refuseLiveIDs(ids) }
        let slots = ResultSlots<PreparedEnrollment>(count: faceprints.count)
        try SDK.forEachInParallel(faceprints.count) { index in
            let faceprint = faceprints[index]
            slots.set(index, PreparedEnrollment(id: ids?[index] ?? .generate(), identity: identities[index],
                                                vector: VectorEncoder.encodeNormalizing(faceprint.featureVector, as: settings.compression),
                                                dimension: faceprint.featureVector.count))
        }
        let prepared = slots.values()
        try store.enroll(prepared)
        return prepared.map { $0.id.string }
    }

    /// Enrolls the rows of a row-major matrix of `identities.count` × `dimension` floats (a
    /// numpy array, a C buffer) as Faceprints of `modelName`, all or none, and returns their
    /// new UUIDs in order: ``enrollFaceprints(_:identities:collectionName:)`` without an array
    /// per row. Every row and identity is checked first. Batches of thousands of rows stream
    /// into segment files a few thousand rows at a time, as ``importFaceprints(vectorsPath:identitiesPath:uuidsPath:collectionName:progress:)``
    /// does, so memory stays bounded beside the caller's matrix. Durable on return.
    ///
    /// - Throws: `invalidArgument` when `matrix` does not hold `identities.count` × `dimension`
    ///   floats; `inputIsEmpty` when there are no rows; otherwise as
    ///   ``enrollFaceprints(_:identities:collectionName:)``.
    public func enrollFaceprints(matrix: UnsafeBufferPointer<Float>, dimension: Int, identities: [String],
                                 modelName: String = "TFV5_2", collectionName: String = "") throws -> [String] {
        let rows = identities.count
        guard rows > 0 else { throw LineupError(.inputIsEmpty, "no Faceprints to enroll") }
        guard dimension > 0 else { throw LineupError(.inputIsEmpty, "the feature vector is empty") }
        guard dimension <= Validation.maximumDimension else {
            throw LineupError(.invalidArgument, "the feature vector has \(dimension) dimensions; at most \(Validation.maximumDimension) are accepted")
        }
        let (elements, overflow) = rows.multipliedReportingOverflow(by: dimension)
        guard !overflow, matrix.count == elements, let base = matrix.baseAddress else {
            throw LineupError(.invalidArgument, "\(rows) identities of \(dimension) elements need \(rows) × \(dimension) floats; the matrix holds \(matrix.count)")
        }
        let source = RowSource(base: base, dimension: dimension)
        if rows < FileCollection.bulkThreshold {
            return try enrollFaceprints((0..<rows).map { Faceprint(featureVector: Array(source.row($0)), modelName: modelName) },
                                        identities: identities, collectionName: collectionName)
        }
        try SDK.forEachInParallel(rows) { index in
            try Validation.featureVector(source.row(index))
            try Validation.identity(identities[index])
        }
        try Validation.collectionReference(collectionName)
        let store = try connection().resolve(collectionName)
        let settings = store.settings
        guard modelName == settings.modelName else {
            throw LineupError(.enrollmentError,
                              "a Faceprint's model \(JSONText.quoted(modelName)) is not the collection's model \(JSONText.quoted(settings.modelName))")
        }
        // Encoded a piece at a time on every core, handed to the store in order.
        let piece = FileCollection.bulkThreshold
        var prepared: [PreparedEnrollment] = []
        var preparedStart = 0
        var ids: [String] = []
        ids.reserveCapacity(rows)
        try store.enroll(count: rows, dimension: dimension, checkingIDs: false) { row in
            if row >= preparedStart + prepared.count {
                preparedStart = row
                let count = min(piece, rows - row)
                let slots = ResultSlots<PreparedEnrollment>(count: count)
                try SDK.forEachInParallel(count) { offset in
                    slots.set(offset, PreparedEnrollment(
                        id: .generate(), identity: identities[row + offset],
                        vector: VectorEncoder.encodeNormalizing(Array(source.row(row + offset)), as: settings.compression),
                        dimension: dimension))
                }
                prepared = slots.values()
            }
            let enrollment = prepared[row - preparedStart]
            ids.append(enrollment.id.string)
            return enrollment
        }
        return ids
    }

    /// The rows of a caller's matrix, for the workers that check and encode them; valid for
    /// the call that made it.
    private struct RowSource: @unchecked Sendable {
        let base: UnsafePointer<Float>
        let dimension: Int

        func row(_ index: Int) -> UnsafeBufferPointer<Float> {
            UnsafeBufferPointer(start: base + index * dimension, count: dimension)
        }
    }

    /// Runs `body` for every index in `0..<count`, spread over the cores in contiguous ranges;
    /// rethrows the error of the lowest index that failed.
    static func forEachInParallel(_ count: Int, _ body: @Sendable (Int) throws -> Void) throws {
        let chunk = 1024
        let chunks = (count + chunk - 1) / chunk
        let failures = ResultSlots<LineupError?>(count: chunks)
        DispatchQueue.concurrentPerform(iterations: chunks) { part in
            var failure: LineupError?
            for index in (part * chunk)..<min(count, (part + 1) * chunk) {
                do {
                    try body(index)
                } catch let error as LineupError {
                    failure = error
                    break
                } catch {
                    failure = LineupError(.invalidArgument, "\(error)")
                    break
                }
            }
            failures.set(part, failure)
        }
        if let first = failures.values().lazy.compactMap({ $0 }).first { throw first }
    }

    /// Compacts the connected store: a checkpoint (the journal, removed enrollments included,
    /// is dropped), then every segment of `collectionName` (every collection when nil) holding
    /// removed Faceprints is rewritten without them and small segments are merged. Erasure:
    /// once this returns, no Faceprint removed before the call is in any file of the store.
    /// Enrollment and identification go on meanwhile. Stores also compact on their own, in
    /// the background, when a quarter of a segment is removed. A no-op in memory.
    ///
    /// - Throws: `noCollectionFound`; `readOnly` / `storeLocked` when this process may not
    ///   write the store; `corruptStore` when a segment to copy is damaged.
    @discardableResult
    public func compact(collectionName: String? = nil) throws -> CompactionReport {
        if let collectionName { try Validation.collectionName(collectionName) }
        return try connection().backend.compact(collection: collectionName)
    }

    /// Live and removed Faceprints of a collection and the bytes they take (in memory: the
    /// stored vectors with their UUIDs and identities; nothing is ever dead there).
    ///
    /// - Throws: `noCollectionFound`.
    public func getCollectionSpace(_ collectionName: String) throws -> CollectionSpace {
        try Validation.collectionName(collectionName)
        let connection = try connection()
        return try connection.backend.space(of: collectionName, loaded: connection.loadedStore(collectionName))
    }

    /// Changes the passphrase of the connected encrypted store to `newEncryptionKey`: only the
    /// key file is rewritten (the data key stays), atomically, so at every crash point the
    /// store opens with the old key or the new one. Connections made afterwards need the new
    /// key.
    ///
    /// - Throws: `invalidArgument` for an empty key, or a store that is not encrypted or not
    ///   on disk; `readOnly` or `storeLocked` when this process may not write the store.
    public func rekey(newEncryptionKey: String) throws {
        try connection().backend.rekey(newPassphrase: newEncryptionKey)
    }

    /// Seals everything the journal holds into segment files now (a checkpoint), so that the
    /// next open replays nothing. A no-op on the memory backend.
    ///
    /// - Throws: `readOnly` or `storeLocked` when this process may not write the store.
    public func checkpoint() throws {
        try connection().backend.checkpoint()
    }
}
