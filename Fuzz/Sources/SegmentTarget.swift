/// `segment`: a segment file, as the input, through ``SegmentHeader/decode(_:fileSize:)`` and
/// an open with ``Segment/Verification/full`` from a file — as given and with its checksums
/// recomputed.
///
/// Checks of an open that succeeds: every row's UUID finds that row, every row's identity
/// finds it among its identity's rows, the record iterators agree with the per-row reads, and
/// a scan returns rows of the segment with finite scores.
enum SegmentTarget {
    static let target = FuzzTarget(name: "segment", seeds: seeds, run: run)

    static func seeds() throws -> [String: [UInt8]] {
        var seeds: [String: [UInt8]] = [:]
        for (name, bytes) in Fixtures.files(try Fixtures.image(encrypted: false), prefix: "segment-") {
            seeds[name] = bytes
        }
        return seeds
    }

    static var path: String { Fixtures.scratch + "/segment-under-test" }

    static func run(_ input: [UInt8]) {
        check(input, strict: true)
        let repaired = ChecksumRepair.segment(input)
        if repaired != input { check(repaired, strict: false) }
    }

    /// `strict`: the bytes' checksums were not forged, so the tables must agree with each
    /// other. (Consistent checksums over inconsistent tables are beyond what the format
    /// detects: the open checks checksums and the identity blocks' form, not that the
    /// identity index hashes the identities.)
    static func check(_ bytes: [UInt8], strict: Bool) {
        let decoded = bytes.withUnsafeBytes { try? SegmentHeader.decode($0, fileSize: bytes.count) }
        if let decoded {
            fuzzCheck(decoded.encoded() == Array(bytes[0..<FormatConstants.segmentHeaderSize]), "the header does not re-encode")
        }
        // What the manifest would say of the file: taken from the header, as a fuzzer cannot
        // know it.
        let number = ChecksumRepair.u64(bytes, at: 16) ?? 1
        let collectionID = ChecksumRepair.u32(bytes, at: 24) ?? 1
        let storeID = bytes.count >= 56
            ? bytes.withUnsafeBytes { raw in
                var reader = ByteReader(raw, offset: 40)
                return (try? reader.recordID()) ?? RecordID(high: 0, low: 0)
            }
            : RecordID(high: 0, low: 0)
        Fixtures.writeFile(bytes, path)
        let segment: Segment
        do {
            segment = try Segment(fileSystem: PosixFileSystem.shared, path: path, number: number, collectionID: collectionID,
                                  fileSize: UInt64(bytes.count), storeID: storeID, verification: .full)
        } catch let error as LineupError {
            fuzzCheck(error.code == .corruptStore || error.code == .unsupportedFormatVersion, "segment open threw \(error)")
            return
        } catch {
            fuzzCheck(false, "segment open threw a non-Lineup error \(error)")
            return
        }
        fuzzCheck(decoded == segment.header, "the open's header differs from the decoder's")
        exercise(segment, strict: strict)
    }

    /// Reads every row of an opened segment every way there is, and scans it.
    static func exercise(_ segment: Segment, strict: Bool = true) {
        let header = segment.header
        var records: [(RecordID, String)] = []
        segment.forEachRecord { row, id, identity in
            fuzzCheck(row == records.count, "records out of order")
            records.append((id, identity))
        }
        fuzzCheck(records.count == segment.rowCount, "forEachRecord visited \(records.count) of \(segment.rowCount) rows")
        var hashes = 0
        segment.forEachIdentityHash { hash, row in
            fuzzCheck(row >= 0 && row < segment.rowCount, "identity hash of row \(row)")
            fuzzCheck(!strict || hash == identityHash(records[row].1), "identity hash of row \(row)")
            hashes += 1
        }
        fuzzCheck(hashes == segment.rowCount, "forEachIdentityHash visited \(hashes) rows")
        // Point reads decode a whole identity block each: a sample of rows keeps a run fast.
        let sample = Set(stride(from: 0, to: records.count, by: max(1, records.count / 16))).union([records.count - 1])
        for (row, (id, identity)) in records.enumerated() where sample.contains(row) {
            fuzzCheck(segment.recordID(at: row) == id && segment.identity(at: row) == identity, "row \(row) reads differently")
            let found = segment.row(of: id), rows = segment.rows(of: identity)
            fuzzCheck(!strict || found == row, "the UUID of row \(row) finds \(String(describing: found))")
            fuzzCheck(!strict || rows.contains(row), "the identity of row \(row) does not find it")
            fuzzCheck(segment.storedVector(at: row).count == header.dimension * header.encoding.bytesPerDimension, "vector length")
            if header.encoding == .int8 { _ = segment.scale(at: row) }
        }
        let block = VectorBlock(source: segment, encoding: header.encoding, dimension: header.dimension,
                                stride: header.rowStride, count: header.rowCount, removed: nil)
        let snapshot = CollectionSnapshot(dimension: header.dimension, encoding: header.encoding, blocks: [block])
        var probe = [Float](repeating: 0, count: header.dimension)
        probe[0] = 1
        do {
            let hits = try Matcher.search(snapshot, probe: probe, k: 3, threshold: -2)
            fuzzCheck(hits.count <= min(3, segment.rowCount), "\(hits.count) hits from \(segment.rowCount) rows")
            for hit in hits { fuzzCheck(hit.block == 0 && hit.row >= 0 && hit.row < segment.rowCount, "hit outside the segment") }
        } catch {
            fuzzCheck(false, "a scan of a fully verified segment threw \(error)")
        }
    }
}
