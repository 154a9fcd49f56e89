extension SDK {
    /// Bulk enrollment from files (what `lineup import` does): a `.npy` array of shape (N, D)
    /// — float32 or float64, little-endian, C order — and a text file of N identities, one a
    /// line; with `uuidsPath`, a text file of N UUIDs that the Faceprints keep (a restore of
    /// `lineup export --uuids`) instead of new ones. All or none, in file order.
    ///
    /// Memory stays bounded whatever the files' size: the files are checked in a first pass
    /// (the header and size, every identity, every UUID, every vector finite and not zero),
    /// then read again a piece at a time and, on the on-disk store, streamed into segment
    /// files published together by one manifest replacement. Durable on return. `progress`
    /// hears (rows written, N).
    ///
    /// - Returns: N.
    /// - Throws: `invalidArgument` naming the file and line or row for a malformed or
    ///   truncated file, counts that differ, a bad vector or UUID, a UUID given twice or
    ///   already live in the collection; `inputIsEmpty` for an empty array or identity;
    ///   `enrollmentError` when D is not the collection's dimension; otherwise as
    ///   ``enrollFaceprints(_:identities:collectionName:)``. Nothing is enrolled then.
    @discardableResult
    public func importFaceprints(vectorsPath: String, identitiesPath: String, uuidsPath: String? = nil,
                                 collectionName: String = "",
                                 progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> Int {
        try Validation.collectionReference(collectionName)
        let fileSystem = PosixFileSystem.shared
        let vectors = try NpyFile(path: vectorsPath, fileSystem: fileSystem)
        let count = vectors.rows, dimension = vectors.columns
        guard count > 0 else { throw LineupError(.inputIsEmpty, "\(vectorsPath) holds no vectors") }
        guard dimension <= Validation.maximumDimension else {
            throw LineupError(.invalidArgument, "\(vectorsPath) has \(dimension) dimensions; at most \(Validation.maximumDimension) are accepted")
        }
        let store = try connection().resolve(collectionName)
        let settings = store.settings

        // First pass: everything that could refuse the import, before anything is written.
        let identityCount = try Self.forEachLine(identitiesPath, what: "identities", fileSystem: fileSystem) { number, text in
            do {
                try Validation.identity(text)
            } catch let error as LineupError {
                throw LineupError(error.code, "\(identitiesPath) line \(number)", cause: error)
            }
        }
        guard identityCount == count else {
            throw LineupError(.invalidArgument, "\(vectorsPath) holds \(count) vectors but \(identitiesPath) \(identityCount) identities")
        }
        if let uuidsPath {
            var ids: [RecordID] = []
            ids.reserveCapacity(count)
            let uuidCount = try Self.forEachLine(uuidsPath, what: "UUIDs", fileSystem: fileSystem) { number, text in
                guard let id = RecordID(string: text) else {
                    throw LineupError(.invalidArgument, "\(uuidsPath) line \(number) is not a UUID (8-4-4-4-12 hexadecimal digits)")
                }
                if ids.count < count { ids.append(id) }
            }
            guard uuidCount == count else {
                throw LineupError(.invalidArgument, "\(vectorsPath) holds \(count) vectors but \(uuidsPath) \(uuidCount) UUIDs")
            }
            ids.sort { ($0.high, $0.low) < ($1.high, $1.low) }
            for index in 1..<max(1, ids.count) where ids[index] == ids[index - 1] {
                throw LineupError(.invalidArgument, "\(uuidsPath) holds UUID \(ids[index].string) twice")
            }
        }
        let rowsPerRead = max(1, (8 << 20) / (dimension * 4))
        var buffer = [Float](repeating: 0, count: rowsPerRead * dimension)
        var start = 0
        while start < count {
            let rows = start..<min(count, start + rowsPerRead)
            try buffer.withUnsafeMutableBufferPointer { try vectors.read(rows, into: $0) }
            for row in rows {
                let offset = (row - start) * dimension
                do {
                    try Validation.featureVector(Array(buffer[offset..<(offset + dimension)]))
                } catch let error as LineupError {
                    throw LineupError(error.code, "\(vectorsPath) row \(row + 1)", cause: error)
                }
            }
            start = rows.upperBound
        }

        // Second pass: read again, encode, store.
        let identities = try LineFile(path: identitiesPath, what: "identities", fileSystem: fileSystem)
        let uuids = try uuidsPath.map { try LineFile(path: $0, what: "UUIDs", fileSystem: fileSystem) }
        var loaded = 0..<0
        try store.enroll(count: count, dimension: dimension, checkingIDs: uuidsPath != nil) { row in
            if !loaded.contains(row) {
                loaded = row..<min(count, row + rowsPerRead)
                try buffer.withUnsafeMutableBufferPointer { try vectors.read(loaded, into: $0) }
                progress(row, count)
            }
            let offset = (row - loaded.lowerBound) * dimension
            let vector = Array(buffer[offset..<(offset + dimension)])
            do {
                try Validation.featureVector(vector)   // checked in the first pass; the file may have changed since
            } catch let error as LineupError {
                throw LineupError(.invalidArgument, "\(vectorsPath) changed while being imported (row \(row + 1): \(error.message))")
            }
            guard let identity = try identities.next() else {
                throw LineupError(.invalidArgument, "\(identitiesPath) changed while being imported")
            }
            var id = RecordID.generate()
            if let uuids {
                guard let text = try uuids.next(), let kept = RecordID(string: text) else {
                    throw LineupError(.invalidArgument, "\(uuidsPath!) changed while being imported")
                }
                id = kept
            }
            return PreparedEnrollment(id: id, identity: identity,
                                      vector: VectorEncoder.encodeNormalizing(vector, as: settings.compression),
                                      dimension: dimension)
        }
        progress(count, count)
        return count
    }

    /// Calls `body` with each line of the file (1-based number, text) and returns how many.
    private static func forEachLine(_ path: String, what: String, fileSystem: any FileSystem,
                                    _ body: (Int, String) throws -> Void) throws -> Int {
        let file = try LineFile(path: path, what: what, fileSystem: fileSystem)
        while let line = try file.next() { try body(file.lineNumber, line) }
        return file.lineNumber
    }
}
