import Foundation
import LineupKernels
import Testing
@testable import Lineup

/// Searches through the compact codes (FORMAT.md §6.3) return exactly what the full scan of
/// the stored vectors returns — candidates, order, ties, similarity bits — over adversarial
/// data: duplicates and exact ties, near-ties a few ULPs apart, rows at exactly the threshold,
/// rows whose codes are very coarse or exact, a probe equal to a stored row, removed rows, an
/// unsealed tail, several workers.
@Suite struct CodedSearchTests {
    /// Unit vectors of `count` rows: random ones, with duplicates, near-ties, spiky rows (one
    /// large component: a coarse code, a large residual), rows of equal magnitudes (an exact
    /// code) and a face-like cluster around `centre`.
    static func adversarialRows(_ count: Int, dimension: Int, seed: UInt64, centre: [Float]) -> [[Float]] {
        var rng = SeededGenerator(seed: seed)
        var rows: [[Float]] = []
        rows.reserveCapacity(count)
        while rows.count < count {
            switch rows.count % 11 {
            case 0 where !rows.isEmpty:
                rows.append(rows[Int(rng.next() % UInt64(rows.count))])   // an exact duplicate
            case 1 where !rows.isEmpty:
                var near = rows[rows.count - 1]                            // a near-tie
                let index = Int(rng.next() % UInt64(dimension))
                near[index] = rng.next() % 2 == 0 ? near[index].nextUp : near[index].nextDown.nextDown
                rows.append(near)
            case 2:
                var spike = (0..<dimension).map { _ in Float(rng.gaussian()) * 1e-3 }
                spike[Int(rng.next() % UInt64(dimension))] = 1
                rows.append(VectorEncoder.normalized(spike))
            case 3:
                rows.append(VectorEncoder.normalized((0..<dimension).map { _ in rng.next() % 2 == 0 ? 1 : -1 }))
            case 4, 5, 6:
                rows.append(VectorEncoder.normalized(zip(centre, rng.vector(dimension)).map { $0 + 0.8 * $1 }))
            default:
                rows.append(VectorEncoder.normalized(rng.vector(dimension)))
            }
        }
        return rows
    }

    /// `rows` as segments of `segmentRows` rows (the last rows, `tailRows` of them, in an
    /// unsealed in-memory chunk), with every `removeEvery`-th row removed.
    static func snapshot(_ rows: [[Float]], encoding: VectorCompression, segmentRows: Int, tailRows: Int,
                         removeEvery: Int, in directory: String) throws -> CollectionSnapshot {
        let dimension = rows[0].count
        var blocks: [VectorBlock] = []
        let sealed = rows.count - tailRows
        var start = 0
        var number: UInt64 = 1
        while start < sealed {
            let end = min(sealed, start + segmentRows)
            let segmentRows = rows[start..<end].enumerated().map { offset, vector in
                SegmentTests.Row(id: RecordID(high: number, low: UInt64(offset)), identity: "p\((start + offset) % 997)",
                                 vector: VectorEncoder.encode(unit: vector, as: encoding))
            }
            let size = try SegmentTests.write(segmentRows, in: directory, number: number, encoding: encoding, dimension: dimension)
            let segment = try SegmentTests.open(directory, number: number, fileSize: size)
            let removed = DeletionBitmap(rows: segment.rowCount).removing(
                (0..<segment.rowCount).filter { (start + $0) % removeEvery == removeEvery - 1 }, capacity: segment.rowCount)
            blocks.append(VectorBlock(source: segment, encoding: encoding, dimension: dimension, stride: segment.header.rowStride,
                                      count: segment.rowCount, removed: removed))
            start = end
            number += 1
        }
        if tailRows > 0 {
            let gallery = Gallery(settings: .init(modelName: "M", compression: encoding))
            try gallery.append(rows[sealed...].enumerated().map { offset, vector in
                PreparedEnrollment(id: RecordID(high: 0, low: UInt64(offset + 1)), identity: "p\((sealed + offset) % 997)",
                                   vector: VectorEncoder.encode(unit: vector, as: encoding), dimension: dimension)
            })
            blocks += gallery.snapshot().blocks
        }
        return CollectionSnapshot(dimension: dimension, encoding: encoding, blocks: blocks)
    }

    /// The kernel tables a single probe's coded search is checked with: the integer ones of
    /// ``QuantizedBatchTests/tables()`` and one without an integer kernel.
    static func singleProbeTables() -> [(name: String, kernels: lineup_kernel_table)] {
        var widening = lineup_kernels().pointee
        widening.scores_many_i8q = nil
        return QuantizedBatchTests.tables() + [("widening", widening)]
    }

    static func describe(_ hits: [MatchHit]) -> [String] { hits.map { "\($0.block):\($0.row)=\($0.score.bitPattern)" } }

    /// Every shape, encoding and query: the coded answer is the full scan's, bit for bit, and
    /// the codes rule out rows (the search does not give up on ordinary data).
    @Test(arguments: [(64, VectorCompression.none), (100, .fp16), (512, .none), (1024, .fp16), (256, .none)])
    func codedAnswersAreTheFullScans(dimension: Int, encoding: VectorCompression) throws {
        let directory = try SegmentTests.TemporaryDirectory("coded")
        defer { directory.remove() }
        var rng = SeededGenerator(seed: UInt64(dimension))
        let centre = VectorEncoder.normalized(rng.vector(dimension))
        let count = dimension >= 512 ? 12_000 : 40_000
        let rows = Self.adversarialRows(count, dimension: dimension, seed: UInt64(dimension) + 1, centre: centre)
        let snapshot = try Self.snapshot(rows, encoding: encoding, segmentRows: count / 3 + 7, tailRows: 300,
                                         removeEvery: 13, in: directory.path)
        #expect(snapshot.blocks.filter { $0.source.withUnsafeCodes { _ in true } ?? false }.count == 3)
        var probes = [centre, rows[5], rows[count / 2], rows[count - 10]]   // stored rows: sealed, removed-neighbour, tail
        probes += (0..<3).map { _ in VectorEncoder.normalized(rng.vector(dimension)) }
        probes.append(VectorEncoder.normalized(zip(centre, rng.vector(dimension)).map { $0 + 0.5 * $1 }))
        for (index, probe) in probes.enumerated() {
            var queries: [(Int, Float)] = [(1, -1), (1, 0.4), (5, 0.6), (10, -1), (50, 0.1), (256, -1)]
            // A threshold equal to a stored row's exact score: the row sits on it.
            let full = try Matcher.searchBatch(snapshot, probes: [probe], k: 20, threshold: -1, codes: false)[0]
            queries += [(3, full[7].score), (20, full[19].score), (1, full[0].score)]
            for (k, threshold) in queries {
                let expected = try Matcher.searchBatch(snapshot, probes: [probe], k: k, threshold: threshold, codes: false)[0]
                // People: each identity once, at its best row (row r belongs to "p(r mod 997)",
                // so every identity owns rows in every block, the tail included).
                let people = try Matcher.searchDistinct(snapshot, probe: probe, k: k, threshold: threshold, codes: false)
                let context: Comment = "d \(dimension) \(encoding) probe \(index) k \(k) threshold \(threshold)"
                // The probe quantised for this CPU's integer kernel, for the serial reference of
                // it, and kept in float for the widening int8 kernel (CPUs without VNNI).
                for (name, kernels) in Self.singleProbeTables() {
                    let coded = try Matcher.searchCoded(snapshot, probe: probe, k: k, threshold: threshold, kernels: kernels)
                    if let coded {
                        #expect(Self.describe(coded) == Self.describe(expected), "\(name) \(context)")
                    } else {
                        Issue.record("the coded search gave up: \(name) \(context)")
                    }
                    let codedPeople = try Matcher.searchDistinctCoded(snapshot, probe: probe, k: k, threshold: threshold, kernels: kernels)
                    #expect(codedPeople.map(Self.describe) == Self.describe(people), "people: \(name) \(context)")
                }
                #expect(Self.describe(try Matcher.search(snapshot, probe: probe, k: k, threshold: threshold))
                        == Self.describe(expected), context)
            }
        }
    }

    /// A batch scores the codes with the probes quantised (the integer kernel of this CPU, and
    /// its serial reference on any CPU): every probe gets the full scan's answer, bit for bit,
    /// templates and people, including a probe whose gather overflows (near-duplicates of it)
    /// and probes equal to stored rows.
    @Test(arguments: [(64, VectorCompression.none), (100, .fp16), (512, .none), (1024, .fp16)])
    func batchesThroughTheCodesAreTheFullScans(dimension: Int, encoding: VectorCompression) throws {
        let directory = try SegmentTests.TemporaryDirectory("coded-batch")
        defer { directory.remove() }
        var rng = SeededGenerator(seed: UInt64(dimension) + 100)
        let centre = VectorEncoder.normalized(rng.vector(dimension))
        let count = dimension >= 512 ? 9_000 : 30_000
        var rows = Self.adversarialRows(count, dimension: dimension, seed: UInt64(dimension) + 101, centre: centre)
        // 6,000 near-duplicates of one probe: more candidates than a gather keeps.
        let crowded = VectorEncoder.normalized(rng.vector(dimension))
        rows += (0..<6_000).map { _ in VectorEncoder.normalized(zip(crowded, rng.vector(dimension)).map { $0 + 1e-4 * $1 }) }
        let snapshot = try Self.snapshot(rows, encoding: encoding, segmentRows: rows.count / 2 + 3, tailRows: 250,
                                         removeEvery: 17, in: directory.path)
        var probes = [centre, rows[3], rows[rows.count / 3], rows[rows.count - 5], crowded]
        probes += (0..<20).map { index in
            VectorEncoder.normalized(zip(centre, rng.vector(dimension)).map { $0 + Float(index % 4) * 0.4 * $1 })
        }
        let before = (CodedSearchCounters.searches.load(ordering: .relaxed), CodedSearchCounters.rescoredRows.load(ordering: .relaxed))
        for (k, threshold) in [(1, Float(-1)), (1, 0.4), (5, 0.6), (10, -1), (40, 0.1)] {
            let expected = try probes.map { try Matcher.searchBatch(snapshot, probes: [$0], k: k, threshold: threshold, codes: false)[0] }
            let people = try probes.map { try Matcher.searchDistinct(snapshot, probe: $0, k: k, threshold: threshold, codes: false) }
            for (name, kernels) in QuantizedBatchTests.tables() {
                let batch = try Matcher.searchBatch(snapshot, probes: probes, k: k, threshold: threshold, kernels: kernels)
                let distinct = try Matcher.searchDistinctBatch(snapshot, probes: probes, k: k, threshold: threshold, kernels: kernels)
                for index in probes.indices {
                    let context: Comment = "\(name) d \(dimension) \(encoding) probe \(index) k \(k) threshold \(threshold)"
                    #expect(Self.describe(batch[index]) == Self.describe(expected[index]), context)
                    #expect(Self.describe(distinct[index]) == Self.describe(people[index]), "people: \(context)")
                }
            }
        }
        // The codes were used and ruled rows out: far fewer rescored than scanned.
        let searches = CodedSearchCounters.searches.load(ordering: .relaxed) - before.0
        let rescored = CodedSearchCounters.rescoredRows.load(ordering: .relaxed) - before.1
        #expect(searches > 0)
        #expect(rescored < searches * rows.count / 20, "\(rescored) rows rescored in \(searches) searches")
    }

    /// Thousands of near-duplicates of the probe: the codes cannot rule them out, the search
    /// gives up, and `search` answers from the full scan.
    @Test func nearDuplicatesFallBackToTheFullScan() throws {
        let directory = try SegmentTests.TemporaryDirectory("coded-duplicates")
        defer { directory.remove() }
        var rng = SeededGenerator(seed: 9)
        let probe = VectorEncoder.normalized(rng.vector(128))
        let rows = (0..<9_000).map { _ in VectorEncoder.normalized(zip(probe, rng.vector(128)).map { $0 + 1e-4 * $1 }) }
        let snapshot = try Self.snapshot(rows, encoding: .none, segmentRows: 9_000, tailRows: 0, removeEvery: 1_000_000,
                                         in: directory.path)
        #expect(try Matcher.searchCoded(snapshot, probe: probe, k: 5, threshold: 0.5) == nil)
        #expect(try Matcher.search(snapshot, probe: probe, k: 5, threshold: 0.5)
                == Matcher.searchBatch(snapshot, probes: [probe], k: 5, threshold: 0.5, codes: false)[0])
    }

    /// A damaged code is `corruptStore`: at a full open, and at the first coded search that
    /// reads it after a lazy one — never a wrong answer. So is a negative bound, at any open.
    @Test func damagedCodesAreCorruption() throws {
        let directory = try SegmentTests.TemporaryDirectory("coded-damage")
        defer { directory.remove() }
        let rows = SegmentTests.rows(500, dimension: 48, encoding: .none, seed: 3)
        let size = try SegmentTests.write(rows, in: directory.path, encoding: .none, dimension: 48)
        let path = directory.path + "/" + FormatConstants.segmentName(3)
        let original = try SegmentTests.readFile(path)
        let header = try original.withUnsafeBytes { try SegmentHeader.decode($0, fileSize: original.count) }
        let codes = header.sections[SegmentHeader.Section.codes.rawValue]
        let table = header.sections[SegmentHeader.Section.codeTable.rawValue]
        var bytes = original
        bytes[codes.offset + 77 * header.codeStride + 5] ^= 0x10
        try SegmentTests.writeFile(bytes, path)
        #expect(lineupError { try SegmentTests.open(directory.path, fileSize: size) }?.code == .corruptStore, "full open")
        let segment = try Segment(fileSystem: PosixFileSystem.shared, path: path, number: 3, collectionID: 2, fileSize: size,
                                  storeID: SegmentTests.storeID, verification: .vectorsOnFirstUse)
        let snapshot = CollectionSnapshot(dimension: 48, encoding: .none, blocks: [
            VectorBlock(source: segment, encoding: .none, dimension: 48, stride: segment.header.rowStride, count: 500, removed: nil)])
        var rng = SeededGenerator(seed: 4)
        let probe = VectorEncoder.normalized(rng.vector(48))
        #expect(lineupError { _ = try Matcher.search(snapshot, probe: probe, k: 3, threshold: -1) }?.code == .corruptStore)
        #expect(lineupError { _ = try Matcher.search(snapshot, probe: probe, k: 3, threshold: -1) }?.code == .corruptStore, "again")

        // A negative bound, its table's CRC made to match: refused at open.
        bytes = original
        let bound = table.offset + 500 * 4 + 9 * 4
        bytes[bound + 3] |= 0x80
        let crc = Checksum.crc32c(bytes[table.offset..<(table.offset + table.length)])
        let entry = 64 + 24 * SegmentHeader.Section.codeTable.rawValue + 16
        for index in 0..<4 { bytes[entry + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
        let headerCRC = Checksum.crc32c(bytes[0..<316])
        for index in 0..<4 { bytes[316 + index] = UInt8(truncatingIfNeeded: headerCRC >> (8 * UInt32(index))) }
        try SegmentTests.writeFile(bytes, path)
        #expect(lineupError { _ = try Segment(fileSystem: PosixFileSystem.shared, path: path, number: 3, collectionID: 2,
                                              fileSize: size, storeID: SegmentTests.storeID, verification: .vectorsOnFirstUse) }?
            .code == .corruptStore)
    }

    /// Segments written before codes existed (version 1, the fuzz corpus's) still open, and
    /// are scanned in full.
    @Test func versionOneSegmentsStillOpen() throws {
        let directory = try SegmentTests.TemporaryDirectory("coded-v1")
        defer { directory.remove() }
        var opened = 0
        for (name, bytes) in try FuzzCorpusTests.inputs("segment") where bytes.count > 320 && bytes[8] == 1 {
            let path = directory.path + "/" + name
            try SegmentTests.writeFile(bytes, path)
            let number = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt64.self) }
            let collection = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 24, as: UInt32.self) }
            let store = FuzzCorpusTests.recordID(bytes, at: 40)
            guard let segment = try? Segment(fileSystem: PosixFileSystem.shared, path: path, number: number, collectionID: collection,
                                             fileSize: UInt64(bytes.count), storeID: store) else { continue }
            #expect(segment.header.version == 1 && !segment.header.hasCodes, "\(name)")
            #expect(segment.withUnsafeCodes { _ in true } == nil)
            opened += 1
        }
        #expect(opened > 0, "the corpus holds valid version-1 segments")
    }

    /// A stored bound never understates how far the code's score is from the vector's: checked
    /// against double-precision dot products for random probes.
    @Test func theBoundHolds() throws {
        var rng = SeededGenerator(seed: 17)
        for dimension in [64, 333, 1024] {
            for _ in 0..<200 {
                let row = VectorEncoder.normalized(rng.vector(dimension))
                var code = [Int8](repeating: 0, count: dimension)
                let (scale, bound) = row.withUnsafeBufferPointer { row in
                    code.withUnsafeMutableBufferPointer { CompactCode.encode(row, into: $0) }
                }
                let probe = VectorEncoder.normalized(rng.vector(dimension))
                let exact = zip(row, probe).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let approximate = Double(scale) * zip(code, probe).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                #expect(abs(exact - approximate) <= Double(bound))
                #expect(bound < 0.02, "a 127-level code of a unit vector is close")
            }
        }
    }
}
