/// `manifest`: a manifest, as the input, through ``Manifest/decode(_:)`` — as given and with
/// its checksum recomputed. What decodes must re-encode to the same bytes and obey the
/// catalog's rules (unique collection IDs, names and segment numbers; removed rows ascending
/// and inside their segments).
enum ManifestTarget {
    static let target = FuzzTarget(name: "manifest", seeds: seeds, run: run)

    static func seeds() throws -> [String: [UInt8]] {
        let image = try Fixtures.image(encrypted: false)
        var empty = Manifest.empty(storeID: RecordID(high: 1, low: 2))
        empty.generation = 3
        // Version 2: a calibrated collection's curve after its dimension.
        var calibrated = try Manifest.decode(image.files[FormatConstants.manifestName]!)
        calibrated.collections[0].curve = MatchProbability(midpoint: 0.42, steepness: 15)
        return ["MANIFEST": image.files[FormatConstants.manifestName]!, "empty": empty.encoded(),
                "calibrated": calibrated.encoded()]
    }

    static func run(_ input: [UInt8]) {
        check(input)
        let repaired = ChecksumRepair.manifest(input)
        if repaired != input { check(repaired) }
    }

    static func check(_ bytes: [UInt8]) {
        let manifest: Manifest
        do {
            manifest = try Manifest.decode(bytes)
        } catch let error as LineupError {
            fuzzCheck(error.code == .corruptStore || error.code == .unsupportedFormatVersion, "manifest decode threw \(error)")
            return
        } catch {
            fuzzCheck(false, "manifest decode threw a non-Lineup error \(error)")
            return
        }
        fuzzCheck(manifest.encoded() == bytes, "the manifest does not re-encode to its bytes")
        fuzzCheck(Set(manifest.collections.map(\.id)).count == manifest.collections.count, "duplicate collection IDs")
        fuzzCheck(Set(manifest.collections.map(\.name)).count == manifest.collections.count, "duplicate collection names")
        let segments = manifest.collections.flatMap(\.segments)
        fuzzCheck(Set(segments.map(\.number)).count == segments.count, "duplicate segment numbers")
        for collection in manifest.collections {
            fuzzCheck(collection.id > 0 && collection.id < manifest.nextCollectionID, "collection ID out of range")
            for segment in collection.segments {
                fuzzCheck(segment.number < manifest.nextSegmentNumber, "segment number out of range")
                fuzzCheck(zip(segment.removedRows, segment.removedRows.dropFirst()).allSatisfy { $0 < $1 }, "removed rows not ascending")
                fuzzCheck(segment.removedRows.allSatisfy { Int($0) < segment.rowCount }, "removed row outside its segment")
            }
        }
    }
}
