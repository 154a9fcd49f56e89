/// `store`: a whole store, damaged. At start-up the target builds a small plaintext store and a
/// small encrypted one (``Fixtures``) and keeps a model of what each holds. An input is a list
/// of mutations of the image's files; the damaged copy is opened read-only and read every way
/// a caller can: collections, identities, metadata, a search.
///
/// Input: byte 0 chooses the image (bit 0: encrypted), whether checksums are recomputed after
/// the mutations (bit 1, plaintext only) and the probe (the rest). Then 6 bytes a mutation,
/// at most 16: file (index in name order), kind (0 xor a byte, 1 set a byte, 2 truncate,
/// 3 append bytes), a 24-bit offset (modulo the file's size) and a value.
///
/// The claim checked: opening throws `corruptStore`, `wrongEncryptionKey` or
/// `unsupportedFormatVersion`, or it succeeds and every Faceprint it returns — listed, counted
/// or found — is one the model holds, under the same identity, with the model's vector
/// (scores agree with the model's within the compression's error). With checksums recomputed
/// the damage is undetectable by design, so only the absence of crashes and untyped errors is
/// checked.
enum StoreTarget {
    static let target = FuzzTarget(name: "store", setUp: setUp, seeds: seeds, run: run)

    static func setUp() throws {
        _ = try Fixtures.image(encrypted: false)
        _ = try Fixtures.image(encrypted: true)
    }

    static var directory: String { Fixtures.scratch + "/store-under-test" }

    static func seeds() throws -> [String: [UInt8]] {
        var seeds: [String: [UInt8]] = ["plain-intact": [0], "encrypted-intact": [1]]
        for encrypted in [false, true] {
            let image = try Fixtures.image(encrypted: encrypted)
            let names = image.files.keys.sorted()
            for (index, name) in names.enumerated() where name != FormatConstants.lockName {
                let size = image.files[name]!.count
                let label = (encrypted ? "encrypted-" : "plain-") + name
                // One flipped byte in the middle, one cut near the end.
                seeds[label + "-flip"] = [encrypted ? 1 : 0, UInt8(index), 0] + offset(size / 2) + [0x10]
                seeds[label + "-cut"] = [encrypted ? 1 : 0, UInt8(index), 2] + offset(max(0, size - 9)) + [0]
            }
        }
        return seeds
    }

    static func offset(_ value: Int) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF)]
    }

    static func run(_ input: [UInt8]) {
        guard let control = input.first else { return }
        let encrypted = control & 1 != 0
        let repair = control & 2 != 0 && !encrypted
        let image = try! Fixtures.image(encrypted: encrypted)
        var files = image.files
        let names = files.keys.sorted()
        var position = 1
        var mutations = 0
        while position + 6 <= input.count, mutations < 16 {
            let name = names[Int(input[position]) % names.count]
            var bytes = files[name]!
            let offset = Int(input[position + 2]) | Int(input[position + 3]) << 8 | Int(input[position + 4]) << 16
            let value = input[position + 5]
            switch input[position + 1] % 4 {
            case 0: if !bytes.isEmpty { bytes[offset % bytes.count] ^= value }
            case 1: if !bytes.isEmpty { bytes[offset % bytes.count] = value }
            case 2: bytes.removeSubrange((offset % (bytes.count + 1))...)
            default: bytes += [UInt8](repeating: value, count: Int(value % 64) + 1)
            }
            files[name] = bytes
            position += 6
            mutations += 1
        }
        if repair {
            for name in names {
                if name == FormatConstants.manifestName { files[name] = ChecksumRepair.manifest(files[name]!) }
                if name.hasPrefix("journal-") { files[name] = ChecksumRepair.journal(files[name]!) }
                if name.hasPrefix("segment-") { files[name] = ChecksumRepair.segment(files[name]!) }
            }
        }
        Fixtures.install(files, in: directory)
        check(image, probe: Int(control >> 2), strict: !repair)
    }

    static func check(_ image: StoreImage, probe: Int, strict: Bool) {
        let store: Store
        do {
            store = try Store(path: directory, readOnly: true, passphrase: image.passphrase)
        } catch let error as LineupError {
            fuzzCheck([.corruptStore, .wrongEncryptionKey, .unsupportedFormatVersion].contains(error.code), "open threw \(error)")
            return
        } catch {
            fuzzCheck(false, "open threw a non-Lineup error \(error)")
            return
        }
        defer { store.close() }
        for name in store.collectionNames() {
            guard let model = image.collections[name] else {
                fuzzCheck(!strict, "a collection the store never had: \(name)")
                continue
            }
            let state: CollectionState
            do {
                state = try store.collection(name)
            } catch {
                fuzzCheck(false, "a listed collection does not load: \(error)")
                return
            }
            if strict { fuzzCheck(state.settings.compression == model.compression, "\(name): compression changed") }
            let identities = state.identityMap()
            if strict {
                for (uuid, identity) in identities {
                    let record = RecordID(string: uuid).flatMap { model.records[$0] }
                    fuzzCheck(record?.identity == identity, "\(name): \(uuid) → \(identity) is not in the model")
                }
            }
            let metadata = state.metadata(encrypted: store.isEncrypted)
            if strict {
                fuzzCheck(metadata.numFaceprints == identities.count, "\(name): \(metadata.numFaceprints) Faceprints counted, \(identities.count) listed")
                fuzzCheck(metadata.numIdentities == Set(identities.values).count, "\(name): identities miscounted")
            }
            search(state, model: model, probe: probe, strict: strict)
        }
    }

    static func search(_ state: CollectionState, model: StoreImage.CollectionModel, probe: Int, strict: Bool) {
        let snapshot = state.snapshot()
        guard snapshot.dimension == Fixtures.dimension, !model.order.isEmpty else {
            fuzzCheck(!strict || snapshot.rowCount == 0, "\(state.name): dimension \(snapshot.dimension) with \(snapshot.rowCount) rows")
            return
        }
        let vector = model.records[model.order[probe % model.order.count]]!.vector
        let hits: [MatchHit]
        do {
            hits = try Matcher.search(snapshot, probe: vector, k: 5, threshold: -1)
        } catch let error as LineupError {
            fuzzCheck(error.code == .corruptStore, "\(state.name): search threw \(error)")
            return
        } catch {
            fuzzCheck(false, "\(state.name): search threw a non-Lineup error \(error)")
            return
        }
        guard strict else { return }
        let tolerance: Float = switch model.compression {
        case .none: 1e-4
        case .fp16: 2e-3
        case .int8: 0.05
        }
        for hit in hits {
            let source = snapshot.blocks[hit.block].source
            let id = source.recordID(at: hit.row)
            guard let record = model.records[id] else {
                fuzzCheck(false, "\(state.name): the search found \(id.string), which the store never had")
                return
            }
            fuzzCheck(source.identity(at: hit.row) == record.identity, "\(state.name): \(id.string) found under another identity")
            let expected = Fixtures.cosine(vector, record.vector)
            fuzzCheck(abs(hit.score - expected) <= tolerance, "\(state.name): \(id.string) scored \(hit.score), the model says \(expected)")
        }
    }
}
