import Testing
@testable import Lineup

/// Helpers shared by the engine-level tests (Gallery, Matcher).
enum EngineFixture {
    static func settings(_ compression: VectorCompression = .none) -> CollectionSettings {
        CollectionSettings(modelName: "TFV5_2", compression: compression)
    }

    static func prepared(_ vector: [Float], identity: String, compression: VectorCompression = .none,
                         id: RecordID = .generate()) -> PreparedEnrollment {
        let unit = VectorEncoder.normalized(vector)
        return PreparedEnrollment(id: id, identity: identity,
                                  vector: VectorEncoder.encode(unit: unit, as: compression),
                                  dimension: unit.count)
    }

    /// The best hit for `probe` in `snapshot` at a high threshold, as (block, row), or nil.
    static func selfMatch(_ snapshot: CollectionSnapshot, _ probe: [Float]) -> MatchHit? {
        try! Matcher.search(snapshot, probe: VectorEncoder.normalized(probe), k: 1, threshold: 0.999).first
    }

    static func recordID(of hit: MatchHit, in snapshot: CollectionSnapshot) -> RecordID {
        snapshot.blocks[hit.block].source.recordID(at: hit.row)
    }
}

@Suite struct GalleryTests {
    @Test func snapshotBeforeRemovalStillSeesTheRow() throws {
        var rng = SeededGenerator(seed: 110)
        let gallery = Gallery(settings: EngineFixture.settings())
        let vectors = (0..<10).map { _ in rng.vector(16) }
        let entries = vectors.enumerated().map { EngineFixture.prepared($0.element, identity: "p\($0.offset)") }
        try gallery.append(entries)

        let before = gallery.snapshot()
        try gallery.remove(id: entries[3].id)
        let after = gallery.snapshot()

        let old = try #require(EngineFixture.selfMatch(before, vectors[3]))
        #expect(EngineFixture.recordID(of: old, in: before) == entries[3].id)
        #expect(EngineFixture.selfMatch(after, vectors[3]) == nil)
        // The rest is the same in both.
        for index in [0, 5, 9] {
            #expect(EngineFixture.selfMatch(before, vectors[index]).map { EngineFixture.recordID(of: $0, in: before) } == entries[index].id)
            #expect(EngineFixture.selfMatch(after, vectors[index]).map { EngineFixture.recordID(of: $0, in: after) } == entries[index].id)
        }
        // The old snapshot's bitmap was not changed in place.
        #expect(before.blocks[0].isLive(3))
        #expect(!after.blocks[0].isLive(3))
    }

    @Test func snapshotBeforeIdentityRemovalStillSeesEveryRow() throws {
        var rng = SeededGenerator(seed: 111)
        let gallery = Gallery(settings: EngineFixture.settings())
        let vectors = (0..<6).map { _ in rng.vector(8) }
        try gallery.append(vectors.enumerated().map { EngineFixture.prepared($0.element, identity: $0.offset % 2 == 0 ? "even" : "odd") })
        let before = gallery.snapshot()
        #expect(try gallery.remove(identity: "even") == 3)
        let after = gallery.snapshot()
        for (index, vector) in vectors.enumerated() {
            #expect(EngineFixture.selfMatch(before, vector) != nil)
            #expect((EngineFixture.selfMatch(after, vector) != nil) == (index % 2 == 1))
        }
    }

    @Test func snapshotDoesNotSeeLaterAppends() throws {
        var rng = SeededGenerator(seed: 112)
        let gallery = Gallery(settings: EngineFixture.settings())
        let first = rng.vector(8), second = rng.vector(8)
        try gallery.append([EngineFixture.prepared(first, identity: "a")])
        let before = gallery.snapshot()
        try gallery.append([EngineFixture.prepared(second, identity: "b")])
        #expect(before.rowCount == 1)
        #expect(EngineFixture.selfMatch(before, second) == nil)
        #expect(EngineFixture.selfMatch(gallery.snapshot(), second) != nil)
    }

    @Test func emptyGallery() throws {
        let gallery = Gallery(settings: EngineFixture.settings())
        #expect(gallery.dimension == 0)
        #expect(gallery.counts == (0, 0))
        let snapshot = gallery.snapshot()
        #expect(snapshot.dimension == 0)
        #expect(snapshot.blocks.isEmpty)
        #expect(gallery.identities().isEmpty)
        #expect(try Matcher.search(snapshot, probe: [1, 0], k: 3, threshold: -1).isEmpty)
    }

    @Test func batchIsAllOrNothingOnDimensionMismatch() throws {
        let gallery = Gallery(settings: EngineFixture.settings())
        let batch = [EngineFixture.prepared([1, 2, 3], identity: "a"),
                     EngineFixture.prepared([1, 2, 3], identity: "b"),
                     EngineFixture.prepared([1, 2], identity: "c")]
        expectError(.enrollmentError) { try gallery.append(batch) }
        #expect(gallery.dimension == 0, "nothing fixed the dimension")
        #expect(gallery.counts == (0, 0))
        try gallery.append(Array(batch.prefix(2)))
        #expect(gallery.dimension == 3)
        #expect(gallery.counts == (2, 2))
        expectError(.enrollmentError) { try gallery.append([EngineFixture.prepared([1, 2, 3, 4], identity: "d")]) }
        #expect(gallery.counts == (2, 2))
    }

    @Test func duplicateIDIsRefused() throws {
        let gallery = Gallery(settings: EngineFixture.settings())
        let id = RecordID.generate()
        try gallery.append([EngineFixture.prepared([1, 2], identity: "a", id: id)])
        expectError(.enrollmentError) { try gallery.append([EngineFixture.prepared([2, 1], identity: "b", id: id)]) }
        #expect(gallery.counts == (1, 1))
        #expect(gallery.identities() == [id.string: "a"])
    }

    @Test func duplicateIDWithinOneBatchIsRefused() throws {
        let gallery = Gallery(settings: EngineFixture.settings())
        let id = RecordID.generate()
        let batch = [EngineFixture.prepared([1, 2], identity: "a", id: id),
                     EngineFixture.prepared([2, 1], identity: "b", id: id)]
        expectError(.enrollmentError, "one UUID, two rows") { try gallery.append(batch) }
        #expect(gallery.snapshot().rowCount == 0, "all or nothing")
        #expect(gallery.counts == (0, 0))
    }

    @Test func removal() throws {
        let gallery = Gallery(settings: EngineFixture.settings())
        let entries = ["a", "a", "b"].map { EngineFixture.prepared([1, 2, 3], identity: $0) }
        try gallery.append(entries)
        #expect(gallery.counts == (3, 2))
        #expect(gallery.contains(id: entries[0].id))
        try gallery.remove(id: entries[0].id)
        #expect(!gallery.contains(id: entries[0].id))
        #expect(gallery.counts == (2, 2))
        expectError(.noRecordFound) { try gallery.remove(id: entries[0].id) }
        expectError(.noRecordFound) { try gallery.remove(id: .generate()) }
        #expect(try gallery.remove(identity: "a") == 1)
        expectError(.noRecordFound) { try gallery.remove(identity: "a") }
        #expect(gallery.counts == (1, 1))
        #expect(gallery.identities() == [entries[2].id.string: "b"])
        // The snapshot still holds every row; two are removed.
        let snapshot = gallery.snapshot()
        #expect(snapshot.rowCount == 3)
        #expect((0..<3).map { snapshot.blocks[0].isLive($0) } == [false, false, true])
    }

    @Test func chunksGrowAndKeepOrder() throws {
        let gallery = Gallery(settings: EngineFixture.settings(.int8))
        let total = Gallery.firstChunkRows + 3 * Gallery.firstChunkRows / 2
        var ids: [RecordID] = []
        var batch: [PreparedEnrollment] = []
        for index in 0..<total {
            let entry = EngineFixture.prepared([Float(index % 7) + 1, 1, 2], identity: "p\(index % 100)", compression: .int8)
            ids.append(entry.id)
            batch.append(entry)
            if batch.count == 300 { try gallery.append(batch); batch = [] }
        }
        try gallery.append(batch)
        let snapshot = gallery.snapshot()
        #expect(snapshot.blocks.count == 2)
        #expect(snapshot.blocks.map(\.count) == [Gallery.firstChunkRows, total - Gallery.firstChunkRows])
        #expect((snapshot.blocks[1].source as? GalleryChunk)?.capacity == 2 * Gallery.firstChunkRows)
        #expect(snapshot.rowCount == total)
        var seen: [RecordID] = []
        for block in snapshot.blocks {
            #expect(block.stride % 64 == 0)
            for row in 0..<block.count { seen.append(block.source.recordID(at: row)) }
        }
        #expect(seen == ids, "blocks in enrollment order")
        #expect(gallery.counts == (total, 100))
    }

    @Test func droppedGalleryRefusesWritesButSnapshotsStayValid() throws {
        let gallery = Gallery(settings: EngineFixture.settings())
        let vector: [Float] = [1, 2, 3, 4]
        try gallery.append([EngineFixture.prepared(vector, identity: "a")])
        let snapshot = gallery.snapshot()
        gallery.drop()
        expectError(.noCollectionFound) { try gallery.append([EngineFixture.prepared(vector, identity: "b")]) }
        #expect(EngineFixture.selfMatch(snapshot, vector) != nil)
    }

    @Test func storedBytesAreTheEncoding() throws {
        for compression in VectorCompression.allCases {
            let gallery = Gallery(settings: EngineFixture.settings(compression))
            let entry = EngineFixture.prepared([3, -4, 0], identity: "a", compression: compression)
            try gallery.append([entry])
            let chunk = try #require(gallery.snapshot().blocks.first?.source as? GalleryChunk)
            #expect(chunk.storedBytes(at: 0) == entry.vector.bytes)
            #expect(chunk.storedBytes(at: 0).count == 3 * compression.bytesPerDimension)
        }
    }
}

@Suite struct DeletionBitmapTests {
    @Test func removingCopies() {
        let empty = DeletionBitmap(rows: 100)
        #expect(empty.removedCount == 0)
        let one = empty.removing([3, 64, 99], capacity: 100)
        #expect(one.removedCount == 3)
        #expect(one.isRemoved(3) && one.isRemoved(64) && one.isRemoved(99))
        #expect(!one.isRemoved(4) && !one.isRemoved(63) && !one.isRemoved(0))
        #expect(!empty.isRemoved(3), "the original is unchanged")
        #expect(!one.isRemoved(10_000), "rows past the end are live")
        let grown = one.removing([200], capacity: 256)
        #expect(grown.isRemoved(200) && grown.isRemoved(64))
        #expect(grown.removedCount == 4)
    }
}

@Suite struct VectorEncoderTests {
    @Test func normalizedIsUnit() {
        var rng = SeededGenerator(seed: 120)
        for dimension in [1, 2, 17, 64] {
            let v = rng.vector(dimension).map { $0 * 1e6 }
            let unit = VectorEncoder.normalized(v)
            let norm = unit.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(norm - 1) < 1e-6)
            #expect(cosine(unit, v) > 1 - 1e-6)
        }
        // Tiny and huge magnitudes do not underflow or overflow (computed in double).
        #expect(VectorEncoder.normalized([1e-30, 0]) == [1, 0])
        #expect(VectorEncoder.normalized([3e38, 3e38]).allSatisfy { abs($0 - 0.70710677) < 1e-6 })
    }

    @Test func fp16AndInt8Encodings() {
        let unit = VectorEncoder.normalized([3, -4, 0, 1e-3])
        let f16 = VectorEncoder.encode(unit: unit, as: .fp16)
        #expect(f16.bytes.count == 8)
        for index in unit.indices {
            let bits = UInt16(f16.bytes[2 * index]) | UInt16(f16.bytes[2 * index + 1]) << 8
            #expect(bits == Float16(unit[index]).bitPattern)
        }
        let i8 = VectorEncoder.encode(unit: unit, as: .int8)
        #expect(i8.bytes.count == 4)
        let q = i8.bytes.map { Int8(bitPattern: $0) }
        #expect(q.map { abs(Int($0)) }.max() == 127, "the largest component uses the full range")
        #expect(q[1] == -127)
        let decoded = q.map { Float($0) * i8.scale }
        let norm = decoded.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(abs(norm - 1) < 1e-6, "the scale makes the decoded vector a unit vector")
        let f32 = VectorEncoder.encode(unit: unit, as: .none)
        #expect(f32.bytes.count == 16)
        #expect(f32.bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } == unit)
    }
}
