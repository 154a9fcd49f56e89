extension SDK {
    /// Fits the collection's match-probability curve to its own labelled pairs, stores it
    /// with the collection, and reports the error rates.
    ///
    /// Two live Faceprints of one identity are a genuine pair, of two identities an impostor
    /// pair. Every genuine pair is scored, and impostor pairs — all of them up to a million,
    /// else a million drawn with a fixed seed — with the matcher's kernels. The logistic curve
    /// is fitted by maximum likelihood with the two classes weighted equally, and FAR and FRR
    /// are measured from −1 to 1 in steps of 0.001. The curve is stored durably (the on-disk
    /// store's manifest; the collection's row on PostgreSQL; in memory for `.none`) and every
    /// later ``Candidate`` of the collection, in any process, takes its
    /// ``Candidate/matchProbability`` from it. What the fit assumes, and how many pairs a FAR
    /// needs: README, "Calibration".
    ///
    /// - Throws: `invalidArgument` when the collection has no genuine or no impostor pair, or
    ///   its genuine pairs are no more similar than its impostor pairs; `collectionNotLoaded`
    ///   and the other errors of a call naming a collection; `readOnly` or `storeLocked` when
    ///   this process may not write the store.
    public func calibrate(collectionName: String) throws -> CalibrationReport {
        try Validation.collectionReference(collectionName)
        let store = try connection().resolve(collectionName)
        let scores = try Calibration.scores(try store.snapshot())
        guard !scores.genuine.isEmpty else {
            throw LineupError(.invalidArgument, "the collection has no genuine pair: no identity has two Faceprints")
        }
        guard !scores.impostor.isEmpty else {
            throw LineupError(.invalidArgument, "the collection has no impostor pair: it holds one identity")
        }
        guard let curve = Calibration.fit(scores) else {
            throw LineupError(.invalidArgument,
                              "no match-probability curve fits: the genuine pairs are no more similar than the impostor pairs")
        }
        try store.setCalibratedCurve(curve)
        return CalibrationReport(genuinePairs: scores.genuine.count, impostorPairs: scores.impostor.count,
                                 curve: curve, points: Calibration.rates(scores))
    }
}
