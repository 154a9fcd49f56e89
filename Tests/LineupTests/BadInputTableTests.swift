import Foundation
import Testing
@testable import Lineup

/// The bad-input table: every public entry point fed values it must refuse — NaN, infinities,
/// zero vectors, wrong and huge dimensions, empty and oversized identities, malformed
/// collection names, bad UUIDs, thresholds and candidate counts — through the SDK over `.none`
/// and `.file`, and through the `lineup` tool (truncated `.npy` files, malformed JSON lines,
/// invalid UTF-8, symlinked store paths). Each case must throw the code TheContract.md, "Errors", assigns (the
/// tool: exit non-zero with one `error:` line) and change nothing: names, metadata and
/// identities stay as they were, and on disk every file keeps its bytes.
extension SDKTests {
    @Suite struct BadInputTable {
        static let dimension = 8

        /// A valid vector of the table's dimension, different for each `seed`.
        static func vector(_ seed: Int) -> [Float] {
            (0..<dimension).map { Float(($0 * 7 + seed * 3) % 11) - 4.5 }
        }

        /// One row of the table: what is called, and the code it must throw.
        struct Case {
            var label: String
            var code: ErrorCode
            var call: (SDK) throws -> Any
        }

        /// Everything a caller can observe of the connection, and the store's bytes.
        struct Observed: Equatable {
            var names: [String]
            var metadata: [String: CollectionMetadata]
            var identities: [String: [String: String]]
            var files: [String: [UInt8]]
        }

        static func observe(_ sdk: SDK, store: String?) throws -> Observed {
            let names = try sdk.getCollectionNames().sorted()
            var metadata: [String: CollectionMetadata] = [:]
            var identities: [String: [String: String]] = [:]
            for name in names {
                metadata[name] = try sdk.getCollectionMetadata(name)
                identities[name] = try sdk.getCollectionIdentities(name)
            }
            return Observed(names: names, metadata: metadata, identities: identities,
                            files: try store.map(BadInputTable.files) ?? [:])
        }

        /// Every file of a store directory but its lock, by name.
        static func files(_ path: String) throws -> [String: [UInt8]] {
            var result: [String: [UInt8]] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: path) where name != FormatConstants.lockName {
                result[name] = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
            }
            return result
        }

        static func makeDirectory() throws -> String {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("lineup-badinput-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            return path
        }

        // MARK: The SDK's table

        /// Vectors no Faceprint may carry, with the code enrollment and identification give.
        static let badVectors: [(label: String, vector: [Float], code: ErrorCode)] = {
            var nanFirst = vector(1), nanMiddle = vector(1), nanLast = vector(1)
            nanFirst[0] = .nan
            nanMiddle[dimension / 2] = .nan
            nanLast[dimension - 1] = .nan
            var plusInfinity = vector(1), minusInfinity = vector(1), signaling = vector(1)
            plusInfinity[2] = .infinity
            minusInfinity[3] = -.infinity
            signaling[1] = .signalingNaN
            return [
                ("empty", [], .inputIsEmpty),
                ("NaN first", nanFirst, .invalidArgument),
                ("NaN in the middle", nanMiddle, .invalidArgument),
                ("NaN last", nanLast, .invalidArgument),
                ("signalling NaN", signaling, .invalidArgument),
                ("+Inf", plusInfinity, .invalidArgument),
                ("-Inf", minusInfinity, .invalidArgument),
                ("all zero", [Float](repeating: 0, count: dimension), .invalidArgument),
                ("all negative zero", [Float](repeating: -0.0, count: dimension), .invalidArgument),
                ("4097 dimensions", [Float](repeating: 0.5, count: Validation.maximumDimension + 1), .invalidArgument),
                ("100000 dimensions", [Float](repeating: 0.5, count: 100_000), .invalidArgument),
            ]
        }()

        /// Vectors of another dimension than the collection's: `enrollmentError` when enrolled,
        /// `invalidArgument` as a probe.
        static let otherDimensions = [1, dimension - 1, dimension + 1, 2 * dimension]

        /// Collection names no call accepts (`invalidArgument`).
        static let malformedNames: [(label: String, name: String)] = [
            ("newline", "staff\n"), ("NUL", "st\u{0}aff"), ("tab", "st\taff"), ("DEL", "staff\u{7F}"),
            ("C1 control", "staff\u{85}"), ("256 bytes", String(repeating: "n", count: 256)),
            ("258 bytes of €", String(repeating: "€", count: 86)),
        ]

        /// Well-formed names of collections that do not exist (`noCollectionFound`) — path-like
        /// ones included: names are data, never paths.
        static let missingNames = ["missing", "..", "../staff", "/etc/passwd", "STAFF"]

        static func cases(knownUUID: String) -> [Case] {
            var cases: [Case] = []
            func add(_ label: String, _ code: ErrorCode, _ call: @escaping (SDK) throws -> Any) {
                cases.append(Case(label: label, code: code, call: call))
            }
            let good = Faceprint(featureVector: vector(5))

            // Feature vectors, everywhere a Faceprint goes in.
            for (label, bad, code) in badVectors {
                let faceprint = Faceprint(featureVector: bad)
                add("enroll \(label)", code) { try $0.enrollFaceprint(faceprint, identity: "x") }
                add("bulk enroll \(label)", code) { try $0.enrollFaceprints([good, faceprint], identities: ["x", "y"]) }
                add("identify \(label)", code) { try $0.identifyTopCandidate(faceprint) as Any }
                add("identify top-k \(label)", code) { try $0.identifyTopCandidates(faceprint, numCandidates: 3) }
                add("batch \(label)", code) { try $0.batchIdentifyTopCandidate([good, faceprint]) }
            }
            for count in otherDimensions {
                let faceprint = Faceprint(featureVector: [Float](repeating: 0.25, count: count))
                add("enroll \(count)-d", .enrollmentError) { try $0.enrollFaceprint(faceprint, identity: "x") }
                add("bulk enroll \(count)-d", .enrollmentError) { try $0.enrollFaceprints([good, faceprint], identities: ["x", "y"]) }
                add("identify \(count)-d", .invalidArgument) { try $0.identifyTopCandidate(faceprint) as Any }
                add("identify top-k \(count)-d", .invalidArgument) { try $0.identifyTopCandidates(faceprint, numCandidates: 2) }
                add("batch \(count)-d", .invalidArgument) { try $0.batchIdentifyTopCandidate([good, faceprint]) }
            }
            for model in ["TFV6", "", "tfv5_2"] {
                let faceprint = Faceprint(featureVector: vector(6), modelName: model)
                add("enroll model \(model.debugDescription)", .enrollmentError) { try $0.enrollFaceprint(faceprint, identity: "x") }
                add("identify model \(model.debugDescription)", .invalidArgument) { try $0.identifyTopCandidate(faceprint) as Any }
            }

            // Identities.
            let identities: [(String, String, ErrorCode)] = [
                ("empty", "", .inputIsEmpty),
                ("1025 bytes", String(repeating: "i", count: 1025), .invalidArgument),
                ("1026 bytes of €", String(repeating: "€", count: 342), .invalidArgument),
                ("1 MiB", String(repeating: "m", count: 1 << 20), .invalidArgument),
            ]
            for (label, identity, code) in identities {
                add("enroll identity \(label)", code) { try $0.enrollFaceprint(good, identity: identity) }
                add("bulk enroll identity \(label)", code) { try $0.enrollFaceprints([good, good], identities: ["ok", identity]) }
                add("remove identity \(label)", code) { try $0.removeByIdentity(identity) }
            }
            add("remove unknown identity", .noRecordFound) { try $0.removeByIdentity("nobody") }
            add("remove identity with a control character", .noRecordFound) { try $0.removeByIdentity("person-0\u{1}") }

            // Collection names.
            for (label, name) in malformedNames + [("empty", "")] {
                add("create \(label)", .invalidArgument) { try $0.createCollection(name) }
                add("create and load \(label)", .invalidArgument) { try $0.createLoadCollection(name) }
                add("load \(label)", .invalidArgument) { try $0.loadCollection(name) }
                add("load list with \(label)", .invalidArgument) { try $0.loadCollections(["staff", name]) }
                add("delete \(label)", .invalidArgument) { try $0.deleteCollection(name) }
                add("metadata of \(label)", .invalidArgument) { try $0.getCollectionMetadata(name) }
                add("identities of \(label)", .invalidArgument) { try $0.getCollectionIdentities(name) }
                add("space of \(label)", .invalidArgument) { try $0.getCollectionSpace(name) }
                add("compact \(label)", .invalidArgument) { try $0.compact(collectionName: name) }
                guard !name.isEmpty else { continue }   // "" names the only loaded collection
                add("enroll into \(label)", .invalidArgument) { try $0.enrollFaceprint(good, identity: "x", collectionName: name) }
                add("remove UUID from \(label)", .invalidArgument) { try $0.removeByUUID(knownUUID, collectionName: name) }
                add("remove identity from \(label)", .invalidArgument) { try $0.removeByIdentity("person-0", collectionName: name) }
                add("identify in \(label)", .invalidArgument) { try $0.identifyTopCandidate(good, collectionName: name) as Any }
                add("top-k in \(label)", .invalidArgument) { try $0.identifyTopCandidates(good, numCandidates: 2, collectionName: name) }
                add("batch in \(label)", .invalidArgument) { try $0.batchIdentifyTopCandidate([good], collectionName: name) }
            }
            for name in missingNames {
                add("load missing \(name)", .noCollectionFound) { try $0.loadCollection(name) }
                add("load list with missing \(name)", .noCollectionFound) { try $0.loadCollections(["staff", name]) }
                add("delete missing \(name)", .noCollectionFound) { try $0.deleteCollection(name) }
                add("metadata of missing \(name)", .noCollectionFound) { try $0.getCollectionMetadata(name) }
                add("identities of missing \(name)", .noCollectionFound) { try $0.getCollectionIdentities(name) }
                add("space of missing \(name)", .noCollectionFound) { try $0.getCollectionSpace(name) }
                add("compact missing \(name)", .noCollectionFound) { try $0.compact(collectionName: name) }
                add("enroll into missing \(name)", .noCollectionFound) { try $0.enrollFaceprint(good, identity: "x", collectionName: name) }
                add("identify in missing \(name)", .noCollectionFound) { try $0.identifyTopCandidate(good, collectionName: name) as Any }
                add("remove identity from missing \(name)", .noCollectionFound) { try $0.removeByIdentity("person-0", collectionName: name) }
            }
            add("enroll into an unloaded collection", .collectionNotLoaded) { try $0.enrollFaceprint(good, identity: "x", collectionName: "spare") }
            add("identify in an unloaded collection", .collectionNotLoaded) { try $0.identifyTopCandidate(good, collectionName: "spare") as Any }

            // UUIDs.
            add("remove UUID empty", .inputIsEmpty) { try $0.removeByUUID("") }
            for uuid in ["not-a-uuid", String(knownUUID.dropLast()), knownUUID + "0", "{\(knownUUID)}",
                         "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", knownUUID.replacingOccurrences(of: "-", with: ""),
                         " " + knownUUID, "01234567-89ab-7def-8123-456789abcdef"] {
                add("remove UUID \(uuid.debugDescription)", .noRecordFound) { try $0.removeByUUID(uuid) }
            }

            // Thresholds and candidate counts.
            for threshold: Float in [.nan, .signalingNaN, .infinity, -.infinity] {
                add("identify threshold \(threshold)", .invalidArgument) { try $0.identifyTopCandidate(good, threshold: threshold) as Any }
                add("top-k threshold \(threshold)", .invalidArgument) { try $0.identifyTopCandidates(good, numCandidates: 2, threshold: threshold) }
                add("batch threshold \(threshold)", .invalidArgument) { try $0.batchIdentifyTopCandidate([good], threshold: threshold) }
                add("batch top-k threshold \(threshold)", .invalidArgument) {
                    try $0.batchIdentifyTopCandidates([good], numCandidates: 2, threshold: threshold)
                }
            }
            for count in [0, -1, Int.min] {
                add("top-k K=\(count)", .invalidArgument) { try $0.identifyTopCandidates(good, numCandidates: count) }
                add("batch top-k K=\(count)", .invalidArgument) { try $0.batchIdentifyTopCandidates([good], numCandidates: count) }
            }

            // Lists and the rest.
            add("load an empty list", .inputIsEmpty) { try $0.loadCollections([]) }
            add("bulk enroll nothing", .inputIsEmpty) { try $0.enrollFaceprints([], identities: []) }
            add("bulk enroll with fewer identities", .invalidArgument) { try $0.enrollFaceprints([good, good], identities: ["a"]) }
            add("bulk enroll with more identities", .invalidArgument) { try $0.enrollFaceprints([good], identities: ["a", "b"]) }
            return cases
        }

        /// Runs every case on `sdk`, whose loaded collection `staff` holds `person-0…2` and
        /// which also has an unloaded collection `spare`, and checks each changed nothing.
        static func runTable(_ sdk: SDK, store: String?, knownUUID: String) throws {
            let before = try observe(sdk, store: store)
            let table = cases(knownUUID: knownUUID)
            #expect(table.count >= 200, "the table has \(table.count) cases")
            for row in table {
                expectError(row.code, "\(row.label)") { try row.call(sdk) }
                let after = try observe(sdk, store: store)
                #expect(after == before, "\(row.label) changed the connection or the store")
                if after != before { return }
            }
        }

        /// The fixture: `staff` (loaded, three Faceprints) and `spare` (created, not loaded).
        static func populate(_ sdk: SDK) throws -> String {
            try sdk.createLoadCollection("staff")
            try sdk.createCollection("spare")
            var uuids: [String] = []
            for index in 0..<3 {
                uuids.append(try sdk.enrollFaceprint(Faceprint(featureVector: vector(index)), identity: "person-\(index)"))
            }
            return uuids[0]
        }

        @Test func memoryBackendRefusesBadInput() throws {
            let sdk = try freshSDK()
            defer { ProcessConnection.resetForTesting() }
            let uuid = try Self.populate(sdk)
            try Self.runTable(sdk, store: nil, knownUUID: uuid)
            expectError(.invalidArgument) { try sdk.rekey(newEncryptionKey: "new") }
        }

        @Test func fileBackendRefusesBadInput() throws {
            let directory = try Self.makeDirectory()
            defer {
                ProcessConnection.resetForTesting()
                try? FileManager.default.removeItem(atPath: directory)
            }
            ProcessConnection.resetForTesting()
            let store = directory + "/store"
            var options = ConfigurationOptions()
            options.dbms = .file
            let sdk = SDK(options: options)
            try sdk.createDatabaseConnection(store)
            let uuid = try Self.populate(sdk)
            try sdk.checkpoint()
            try Self.runTable(sdk, store: store, knownUUID: uuid)
            let before = try Self.files(store)
            expectError(.invalidArgument, "rekey of a plaintext store") { try sdk.rekey(newEncryptionKey: "new") }
            expectError(.invalidArgument, "rekey to nothing") { try sdk.rekey(newEncryptionKey: "") }
            #expect(try Self.files(store) == before)
        }

        @Test func callsBeforeAnyConnectionThrowNotConnected() throws {
            ProcessConnection.resetForTesting()
            defer { ProcessConnection.resetForTesting() }
            var options = ConfigurationOptions()
            options.dbms = .file
            let sdk = SDK(options: options)
            let probe = Faceprint(featureVector: Self.vector(1))
            expectError(.databaseNotConnected) { try sdk.getCollectionNames() }
            expectError(.databaseNotConnected) { try sdk.createCollection("staff") }
            expectError(.databaseNotConnected) { try sdk.loadCollection("staff") }
            expectError(.databaseNotConnected) { try sdk.getCollectionMetadata("staff") }
            expectError(.databaseNotConnected) { try sdk.enrollFaceprint(probe, identity: "x") }
            expectError(.databaseNotConnected) { try sdk.identifyTopCandidate(probe) }
        }

        /// Store paths that cannot be a store: each is `databaseConnectionError` (or the key's
        /// code) and leaves the path as it was — no directory appears, nothing is followed and
        /// written through a symlink.
        @Test func badStorePathsAreRefusedAndLeftAlone() throws {
            let directory = try Self.makeDirectory()
            defer {
                ProcessConnection.resetForTesting()
                try? FileManager.default.removeItem(atPath: directory)
            }
            let manager = FileManager.default
            let regular = directory + "/regular-file"
            try Data("not a store".utf8).write(to: URL(fileURLWithPath: regular))
            let cluttered = directory + "/cluttered"
            try manager.createDirectory(atPath: cluttered, withIntermediateDirectories: false)
            try Data("notes".utf8).write(to: URL(fileURLWithPath: cluttered + "/notes.txt"))
            try manager.createSymbolicLink(atPath: directory + "/dangling", withDestinationPath: directory + "/nowhere")
            try manager.createSymbolicLink(atPath: directory + "/loop-a", withDestinationPath: directory + "/loop-b")
            try manager.createSymbolicLink(atPath: directory + "/loop-b", withDestinationPath: directory + "/loop-a")
            try manager.createSymbolicLink(atPath: directory + "/to-file", withDestinationPath: regular)
            try manager.createSymbolicLink(atPath: directory + "/to-cluttered", withDestinationPath: cluttered)
            let paths: [(String, String)] = [
                ("empty", ""), ("NUL", directory + "/a\u{0}b"), ("missing parent", directory + "/no/such/store"),
                ("a regular file", regular), ("a directory of other files", cluttered),
                ("a dangling symlink", directory + "/dangling"), ("a symlink loop", directory + "/loop-a"),
                ("a symlink to a file", directory + "/to-file"), ("a symlink to a cluttered directory", directory + "/to-cluttered"),
                ("beneath a regular file", regular + "/store"),
            ]
            func snapshot() throws -> [String: [UInt8]] {
                var result: [String: [UInt8]] = [:]
                for name in try manager.subpathsOfDirectory(atPath: directory) {
                    let path = directory + "/" + name
                    var isDirectory: ObjCBool = false
                    let exists = manager.fileExists(atPath: path, isDirectory: &isDirectory)
                    let contents = exists && !isDirectory.boolValue ? try? Data(contentsOf: URL(fileURLWithPath: path)) : nil
                    result[name] = contents.map { [UInt8]($0) } ?? []
                }
                return result
            }
            let before = try snapshot()
            var options = ConfigurationOptions()
            options.dbms = .file
            for (label, path) in paths {
                ProcessConnection.resetForTesting()
                expectError(.databaseConnectionError, "\(label)") { try SDK(options: options).createDatabaseConnection(path) }
                #expect(try snapshot() == before, "connecting to \(label) changed the directory")
            }

            // A real store behind a symlink is that store; a key it does not need, or an empty
            // one, is refused without touching it.
            let store = directory + "/store"
            ProcessConnection.resetForTesting()
            let sdk = SDK(options: options)
            try sdk.createDatabaseConnection(store)
            try sdk.createLoadCollection("staff")
            let uuid = try sdk.enrollFaceprint(Faceprint(featureVector: Self.vector(1)), identity: "ana")
            ProcessConnection.resetForTesting()
            try manager.createSymbolicLink(atPath: directory + "/link", withDestinationPath: store)
            let linked = SDK(options: options)
            try linked.createDatabaseConnection(directory + "/link")
            #expect(try linked.getCollectionIdentities("staff") == [uuid: "ana"])
            ProcessConnection.resetForTesting()
            let storeFiles = try Self.files(store)
            for key in ["a key", ""] {
                var keyed = options
                keyed.encryptionKey = key
                expectError(key.isEmpty ? .invalidArgument : .wrongEncryptionKey, "key \(key.debugDescription)") {
                    try SDK(options: keyed).createDatabaseConnection(store)
                }
                #expect(try Self.files(store) == storeFiles)
            }
        }

        // MARK: The tool's table

        /// A `.npy` file of `rows` × `columns` (or `shape`) with a chosen type and values.
        static func npy(rows: Int, columns: Int, descr: String = "<f4", fortran: Bool = false, shape: String? = nil,
                        values: [Float]? = nil) -> [UInt8] {
            var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape ?? "(\(rows), \(columns))"), }"
            while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
            header += "\n"
            var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
            bytes += Array(header.utf8)
            let data = values ?? (0..<rows).flatMap { vector($0 + 10).prefix(columns) + [Float](repeating: 0.5, count: max(0, columns - dimension)) }
            bytes += data.withUnsafeBytes { Array($0) }
            return bytes
        }

        /// One row of the tool's table: arguments (`STORE` stands for the store's path), what
        /// goes to standard input, and files written first (by name, in the scratch directory).
        struct ToolCase {
            var label: String
            var arguments: [String]
            var input: [UInt8] = []
            var files: [String: [UInt8]] = [:]
        }

        static func toolCases() -> [ToolCase] {
            var cases: [ToolCase] = []
            func add(_ label: String, _ arguments: [String], input: [UInt8] = [], files: [String: [UInt8]] = [:]) {
                cases.append(ToolCase(label: label, arguments: arguments, input: input, files: files))
            }
            // Collection names and options.
            for (label, name) in malformedNames.filter({ !$0.name.contains("\u{0}") }) + [("empty", "")] {
                add("create \(label)", ["create", "STORE", name])
                add("info of \(label)", ["info", "STORE", name, "--json"])
                add("identities of \(label)", ["identities", "STORE", name, "--json"])
            }
            add("create with a bogus compression", ["create", "STORE", "other", "--compression", "zip"])
            add("create with an empty model", ["create", "STORE", "other", "--model", ""])
            add("create with a control character in the model", ["create", "STORE", "other", "--model", "TF\nV6"])
            add("info of a missing collection", ["info", "STORE", "missing", "--json"])
            add("info of ..", ["info", "STORE", "..", "--json"])
            add("identities of a missing collection", ["identities", "STORE", "../staff", "--json"])

            // Bulk import.
            let good = npy(rows: 3, columns: dimension)
            let names = Array("a\nb\nc\n".utf8)
            func importCase(_ label: String, vectors: [UInt8]?, identities: [UInt8] = names) {
                var files = ["ids.txt": identities]
                if let vectors { files["v.npy"] = vectors }
                add("import \(label)", ["import", "STORE", "staff", "--vectors", "v.npy", "--identities", "ids.txt"], files: files)
            }
            importCase("without a vectors file", vectors: nil)
            for cut in [0, 5, 9, 10, 40, 63, good.count - 1, good.count - 4, good.count - 4 * dimension] {
                importCase("of a .npy cut to \(cut) bytes", vectors: Array(good.prefix(cut)))
            }
            importCase("with a trailing byte", vectors: good + [0])
            importCase("of int32", vectors: npy(rows: 3, columns: dimension, descr: "<i4"))
            importCase("of float16", vectors: npy(rows: 3, columns: 2 * dimension, descr: "<f2"))
            importCase("of big-endian floats", vectors: npy(rows: 3, columns: dimension, descr: ">f4"))
            importCase("in Fortran order", vectors: npy(rows: 3, columns: dimension, fortran: true))
            importCase("of three dimensions", vectors: npy(rows: 3, columns: dimension, shape: "(3, 2, 4)"))
            importCase("of a bad magic", vectors: [0x94] + good.dropFirst())
            var nan = (0..<(3 * dimension)).map { Float($0 % 5) + 0.5 }
            nan[dimension + 2] = .nan
            importCase("with a NaN", vectors: npy(rows: 3, columns: dimension, values: nan))
            var infinite = nan
            infinite[dimension + 2] = .infinity
            importCase("with an infinity", vectors: npy(rows: 3, columns: dimension, values: infinite))
            importCase("with an all-zero row", vectors: npy(rows: 3, columns: dimension, values: [Float](repeating: 0, count: dimension) + nan.suffix(2 * dimension).map { $0.isNaN ? 1 : $0 }))
            importCase("of another dimension", vectors: npy(rows: 3, columns: dimension + 1))
            importCase("of 5000 columns", vectors: npy(rows: 1, columns: 5000), identities: Array("a\n".utf8))
            importCase("with fewer identities", vectors: good, identities: Array("a\nb\n".utf8))
            importCase("with more identities", vectors: good, identities: Array("a\nb\nc\nd\n".utf8))
            importCase("with an empty identity", vectors: good, identities: Array("a\n\nc\n".utf8))
            importCase("with invalid UTF-8", vectors: good, identities: Array("a\nb".utf8) + [0xC3, 0x28] + Array("\nc\n".utf8))
            importCase("with an overlong UTF-8 identity", vectors: good, identities: Array("a\n".utf8) + [0xC0, 0xAF] + Array("\nc\n".utf8))
            importCase("with a 1025-byte identity", vectors: good, identities: Array("a\nb\n\(String(repeating: "x", count: 1025))\n".utf8))

            // Enrollment lines.
            let vectorText = vector(3).map { "\($0)" }.joined(separator: ", ")
            let lines: [(String, String)] = [
                ("an unclosed object", "{"), ("an array", "[]"), ("null", "null"), ("a bare string", "\"ana\""),
                ("no feature vector", "{\"identity\": \"ana\"}"),
                ("no identity", "{\"feature_vector\": [\(vectorText)]}"),
                ("a numeric identity", "{\"identity\": 5, \"feature_vector\": [\(vectorText)]}"),
                ("an empty identity", "{\"identity\": \"\", \"feature_vector\": [\(vectorText)]}"),
                ("a 1025-byte identity", "{\"identity\": \"\(String(repeating: "y", count: 1025))\", \"feature_vector\": [\(vectorText)]}"),
                ("a NaN literal", "{\"identity\": \"ana\", \"feature_vector\": [NaN, \(vectorText.dropFirst(4))]}"),
                ("an overflowing number", "{\"identity\": \"ana\", \"feature_vector\": [1e999, 0, 0, 0, 0, 0, 0, 1]}"),
                ("an empty vector", "{\"identity\": \"ana\", \"feature_vector\": []}"),
                ("a zero vector", "{\"identity\": \"ana\", \"feature_vector\": [0, 0, 0, 0, 0, 0, 0, 0]}"),
                ("another dimension", "{\"identity\": \"ana\", \"feature_vector\": [1, 2, 3]}"),
                ("strings in the vector", "{\"identity\": \"ana\", \"feature_vector\": [\"1\", 0, 0, 0, 0, 0, 0, 1]}"),
                ("a trailing comma", "{\"identity\": \"ana\", \"feature_vector\": [\(vectorText),]}"),
                ("another model", "{\"identity\": \"ana\", \"feature_vector\": [\(vectorText)], \"model_name\": \"TFV6\"}"),
                ("a duplicate key", "{\"identity\": \"ana\", \"identity\": \"bob\", \"feature_vector\": [\(vectorText)]}"),
                ("a raw control character", "{\"identity\": \"a\u{1}na\", \"feature_vector\": [\(vectorText)]}"),
            ]
            for (label, line) in lines {
                add("enroll \(label)", ["enroll", "STORE", "staff"], input: Array((line + "\n").utf8))
            }
            add("enroll invalid UTF-8", ["enroll", "STORE", "staff"],
                input: Array("{\"identity\": \"a".utf8) + [0xFF, 0xFE] + Array("\", \"feature_vector\": [\(vectorText)]}\n".utf8))
            add("enroll into a missing collection", ["enroll", "STORE", "missing"],
                input: Array("{\"identity\": \"ana\", \"feature_vector\": [\(vectorText)]}\n".utf8))

            // Identification.
            let probes = ["p.npy": npy(rows: 2, columns: dimension)]
            for (label, extra) in [("K=0", ["--top", "0"]), ("K=-1", ["--top", "-1"]), ("K=x", ["--top", "x"]),
                                   ("T=nan", ["--threshold", "nan"]), ("T=inf", ["--threshold", "inf"]),
                                   ("T=-inf", ["--threshold", "-inf"]), ("T=x", ["--threshold", "x"])] {
                add("identify \(label)", ["identify", "STORE", "staff", "--probes", "p.npy"] + extra, files: probes)
            }
            for (label, bytes) in [("of another dimension", npy(rows: 2, columns: dimension - 1)),
                                   ("cut short", Array(npy(rows: 2, columns: dimension).dropLast(3))),
                                   ("with a NaN", npy(rows: 1, columns: dimension, values: [.nan] + [Float](repeating: 1, count: dimension - 1)))] {
                add("identify probes \(label)", ["identify", "STORE", "staff", "--probes", "p.npy"], files: ["p.npy": bytes])
            }
            add("identify without a probes file", ["identify", "STORE", "staff", "--probes", "absent.npy"])

            // Removal.
            for uuid in ["", "nope", "01234567-89ab-7def-8123-456789abcdef", "01234567-89ab-7def-8123-456789abcdef0"] {
                add("remove UUID \(uuid.debugDescription)", ["remove", "STORE", "staff", "--uuid", uuid])
            }
            add("remove an unknown identity", ["remove", "STORE", "staff", "--identity", "nobody"])
            add("remove an empty identity", ["remove", "STORE", "staff", "--identity", ""])
            add("remove without a selector", ["remove", "STORE", "staff"])

            // Store paths.
            for path in ["dangling", "regular", "regular/below"] {
                add("collections of \(path)", ["collections", "SCRATCH/\(path)"])
                add("create in \(path)", ["create", "SCRATCH/\(path)", "staff"])
            }
            return cases
        }

        static func run(_ arguments: [String], input: [UInt8], in directory: String) throws -> (status: Int32, stdout: String, stderr: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: LineupExecutable.path!)
            process.arguments = arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            var environment = ProcessInfo.processInfo.environment
            environment["LINEUP_PASSPHRASE"] = nil
            process.environment = environment
            let outPath = directory + "/.stdout", errPath = directory + "/.stderr", inPath = directory + "/.stdin"
            _ = FileManager.default.createFile(atPath: outPath, contents: nil)
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            _ = FileManager.default.createFile(atPath: inPath, contents: Data(input))
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
            try process.run()
            process.waitUntilExit()
            let out = String(decoding: try Data(contentsOf: URL(fileURLWithPath: outPath)), as: UTF8.self)
            let err = String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self)
            return (process.terminationStatus, out, err)
        }

        @Test(.enabled(if: LineupExecutable.path != nil, "the lineup executable is not built"))
        func toolRefusesBadInput() throws {
            let scratch = try Self.makeDirectory()
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let store = scratch + "/store"
            try Data("not a store".utf8).write(to: URL(fileURLWithPath: scratch + "/regular"))
            try FileManager.default.createSymbolicLink(atPath: scratch + "/dangling", withDestinationPath: scratch + "/nowhere")
            #expect(try Self.run(["create", store, "staff"], input: [], in: scratch).status == 0)
            _ = FileManager.default.createFile(atPath: scratch + "/seed.npy", contents: Data(Self.npy(rows: 3, columns: Self.dimension)))
            _ = FileManager.default.createFile(atPath: scratch + "/seed.txt", contents: Data("person-0\nperson-1\nperson-2\n".utf8))
            let seeded = try Self.run(["import", store, "staff", "--vectors", "seed.npy", "--identities", "seed.txt"], input: [], in: scratch)
            #expect(seeded.status == 0, "\(seeded.stderr)")
            var before = try Self.files(store)
            let table = Self.toolCases()
            #expect(table.count >= 80, "the tool's table has \(table.count) cases")
            for row in table {
                for (name, bytes) in row.files {
                    _ = FileManager.default.createFile(atPath: scratch + "/" + name, contents: Data(bytes))
                }
                let arguments = row.arguments.map {
                    $0 == "STORE" ? store : $0.replacingOccurrences(of: "SCRATCH", with: scratch)
                }
                let result = try Self.run(arguments, input: row.input, in: scratch)
                for name in row.files.keys { try? FileManager.default.removeItem(atPath: scratch + "/" + name) }
                #expect(result.status != 0, "\(row.label): exit status 0, stdout \(result.stdout.debugDescription)")
                #expect(result.stderr.hasPrefix("error:"), "\(row.label): standard error \(result.stderr.debugDescription)")
                #expect(result.stdout.isEmpty, "\(row.label): standard output \(result.stdout.debugDescription)")
                let after = try Self.files(store)
                let changed = Set(after.keys).union(before.keys).filter { after[$0] != before[$0] }.sorted()
                #expect(changed.isEmpty, "\(row.label) changed \(changed)")
                before = after   // one failure, one report
            }
            #expect(!FileManager.default.fileExists(atPath: scratch + "/nowhere"), "a command created a store through a dangling symlink")
        }
    }
}
