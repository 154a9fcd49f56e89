import Foundation
import Testing
@testable import Lineup

/// `SDK.export` and `lineup export`: the live Faceprints in enrollment order, vectors decoded
/// from their stored form, in the forms `import` and `enroll` read back.
extension SDKTests {
    @Suite struct Export {
        struct Row: Equatable {
            var uuid: String
            var identity: String
            var bits: [UInt32]
        }

        static func rows(_ export: FaceprintExport) throws -> [Row] {
            var rows: [Row] = []
            try export.forEach { uuid, identity, vector in
                rows.append(Row(uuid: uuid, identity: identity, bits: vector.map(\.bitPattern)))
            }
            return rows
        }

        /// Enrolls `count` Faceprints (some sealed into a segment, some in the journal tail),
        /// removes every seventh, and returns what should come out, in order.
        static func populate(_ sdk: SDK, compression: VectorCompression, count: Int = 600) throws -> [(String, String)] {
            var rng = SeededGenerator(seed: 21)
            try sdk.createLoadCollection("people")
            var expected: [(String, String)] = []
            for index in 0..<count {
                let identity = index % 5 == 0 ? "caf\u{E9} \(index)" : "person \(index % 40)"
                let uuid = try sdk.enrollFaceprint(rng.faceprint(24), identity: identity, collectionName: "people")
                expected.append((uuid, identity))
                if index == count / 2 { try sdk.checkpoint() }
            }
            for index in stride(from: 0, to: count, by: 7) {
                try sdk.removeByUUID(expected[index].0, collectionName: "people")
            }
            return expected.enumerated().filter { $0.offset % 7 != 0 }.map(\.element)
        }

        @Test(arguments: [VectorCompression.none, .fp16, .int8])
        func exportStreamsTheLiveFaceprintsInEnrollmentOrder(compression: VectorCompression) throws {
            let directory = try FileStore.makeDirectory("export")
            defer { FileStore.cleanUp(directory) }
            let sdk = try FileStore.connect(directory + "/store", compression: compression)
            let expected = try Self.populate(sdk, compression: compression)
            let export = try sdk.export(collectionName: "people")
            #expect(export.count == expected.count)
            #expect(export.dimension == 24 && export.compression == compression)
            let rows = try Self.rows(export)
            #expect(rows.map(\.uuid) == expected.map(\.0), "enrollment order, removed rows left out")
            #expect(rows.map { Array($0.identity.utf8) } == expected.map { Array($0.1.utf8) })

            // The decoded vectors are the ones the matcher scores: each is its own best match at
            // similarity 1 (within the stored form's rounding).
            for row in rows.prefix(20) {
                let vector = row.bits.map { Float(bitPattern: $0) }
                let top = try sdk.identifyTopCandidate(Faceprint(featureVector: vector), threshold: -1, collectionName: "people")
                #expect(top?.uuid == row.uuid)
                // fp16 rows are unit vectors only to half precision (their norm is 1 ± 2⁻¹¹).
                #expect(abs((top?.similarityMeasure ?? 0) - 1) < (compression == .fp16 ? 5e-4 : 2e-6))
            }

            // Enrolled again into a collection of the same compression: the same stored vectors.
            try sdk.createLoadCollection("copy")
            for row in rows {
                _ = try sdk.enrollFaceprint(Faceprint(featureVector: row.bits.map { Float(bitPattern: $0) }),
                                            identity: row.identity, collectionName: "copy")
            }
            let copied = try Self.rows(sdk.export(collectionName: "copy"))
            #expect(copied.map(\.bits) == rows.map(\.bits), "vectors bit for bit (\(compression))")
            #expect(copied.map(\.identity) == rows.map(\.identity))

            // A snapshot: later changes are not in an export made before them.
            try sdk.removeByUUID(rows[0].uuid, collectionName: "people")
            #expect(try Self.rows(export).count == rows.count)
            #expect(try sdk.export(collectionName: "people").count == rows.count - 1)
        }

        /// An export enrolled again with its UUIDs kept: the same UUIDs, identities and
        /// vectors; malformed, repeated and taken UUIDs are refused and nothing is enrolled.
        @Test func enrollingWithKeptUUIDs() throws {
            let directory = try FileStore.makeDirectory("uuids")
            defer { FileStore.cleanUp(directory) }
            let sdk = try FileStore.connect(directory + "/store")
            _ = try Self.populate(sdk, compression: .none, count: 120)
            let rows = try Self.rows(sdk.export(collectionName: "people"))
            try sdk.createLoadCollection("restored")
            let faceprints = rows.map { Faceprint(featureVector: $0.bits.map { Float(bitPattern: $0) }) }
            let uuids = rows.map(\.uuid)
            for (bad, label) in [(Array(uuids.dropLast()) + ["not-a-uuid"], "malformed"),
                                 (Array(uuids.dropLast()) + [uuids[0]], "repeated"),
                                 (Array(uuids.dropLast()), "too few")] {
                #expect(throws: LineupError.self, "\(label)") {
                    _ = try sdk.enrollFaceprints(faceprints, identities: rows.map(\.identity), uuids: bad, collectionName: "restored")
                }
                #expect(try sdk.getCollectionMetadata("restored").numFaceprints == 0, "\(label): nothing enrolled")
            }
            let kept = try sdk.enrollFaceprints(faceprints, identities: rows.map(\.identity),
                                                uuids: uuids.map { $0.uppercased() }, collectionName: "restored")
            #expect(kept == uuids, "kept, lowercase")
            #expect(try Self.rows(sdk.export(collectionName: "restored")) == rows)
            #expect(throws: LineupError.self, "taken") {
                _ = try sdk.enrollFaceprints([faceprints[0]], identities: ["x"], uuids: [uuids[5]], collectionName: "restored")
            }
            try sdk.removeByUUID(uuids[5], collectionName: "restored")
            _ = try sdk.enrollFaceprints([faceprints[0]], identities: ["x"], uuids: [uuids[5]], collectionName: "restored")
            #expect(try sdk.getCollectionIdentities("restored")[uuids[5]] == "x", "a removed UUID may come back")
        }

        @Test func exportNamesTheCollectionLikeEveryCall() throws {
            let directory = try FileStore.makeDirectory("export-errors")
            defer { FileStore.cleanUp(directory) }
            let sdk = try FileStore.connect(directory + "/store")
            #expect(throws: LineupError.self) { _ = try sdk.export() }
            try sdk.createCollection("empty")
            #expect(throws: LineupError.self) { _ = try sdk.export(collectionName: "empty") }
            try sdk.loadCollection("empty")
            let export = try sdk.export(collectionName: "empty")
            #expect(export.count == 0 && export.dimension == 0)
            #expect(try Self.rows(export).isEmpty)
        }
    }
}

/// `lineup export` and its round trips through `import` and `enroll`.
@Suite(.enabled(if: LineupExecutable.path != nil, "the lineup executable was not found; run `swift build` first"))
struct ExportCommandTests {
    @Test func exportImportAndJSONLinesRoundTrips() throws {
        let directory = try CLITests.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/store"
        var rng = SeededGenerator(seed: 31)
        let vectors = (0..<300).map { _ in rng.vector(16) }
        let identities = (0..<300).map { $0 % 3 == 0 ? "Jos\u{E9} \($0 % 10)" : "id \($0 % 17)" }
        try Data(CLITests.npy(vectors)).write(to: URL(fileURLWithPath: directory + "/in.npy"))
        try Data((identities.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/in.txt"))
        CLITests.expectSuccess(try CLITests.run(["create", store, "people"], in: directory), "create")
        CLITests.expectSuccess(try CLITests.run(["import", store, "people", "--vectors", directory + "/in.npy",
                                                 "--identities", directory + "/in.txt"], in: directory), "import")

        var output = try CLITests.run(["export", store, "people", "--vectors", directory + "/out.npy",
                                       "--identities", directory + "/out.txt", "--uuids", directory + "/out.uuids"], in: directory)
        CLITests.expectSuccess(output, "export")
        #expect(output.stdout == "300\n")
        #expect(try String(contentsOfFile: directory + "/out.txt", encoding: .utf8) == identities.joined(separator: "\n") + "\n")
        let uuids = try String(contentsOfFile: directory + "/out.uuids", encoding: .utf8).split(separator: "\n")
        #expect(uuids.count == 300 && uuids.allSatisfy { CLITests.isUUID(String($0)) })
        let exported = try Data(contentsOf: URL(fileURLWithPath: directory + "/out.npy"))
        #expect(exported.count == 128 + 300 * 16 * 4)

        // Imported again: the same identities and, float32, bit-identical vectors.
        CLITests.expectSuccess(try CLITests.run(["create", store, "again"], in: directory), "create again")
        CLITests.expectSuccess(try CLITests.run(["import", store, "again", "--vectors", directory + "/out.npy",
                                                 "--identities", directory + "/out.txt"], in: directory), "import again")
        output = try CLITests.run(["export", store, "again", "--vectors", directory + "/again.npy",
                                   "--identities", directory + "/again.txt"], in: directory)
        CLITests.expectSuccess(output, "export again")
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/again.npy")) == exported)

        // JSON lines, read back by enroll.
        output = try CLITests.run(["export", store, "people", "--json-lines", "-"], in: directory)
        CLITests.expectSuccess(output, "export --json-lines -")
        #expect(output.lines.count == 300)
        CLITests.expectSuccess(try CLITests.run(["create", store, "lines"], in: directory), "create lines")
        let enrolled = try CLITests.run(["enroll", store, "lines"], input: output.stdout, in: directory)
        CLITests.expectSuccess(enrolled, "enroll the exported lines")
        #expect(enrolled.lines.count == 300)
        CLITests.expectSuccess(try CLITests.run(["export", store, "lines", "--vectors", directory + "/lines.npy",
                                                 "--identities", directory + "/lines.txt"], in: directory), "export lines")
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/lines.npy")) == exported)
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory + "/lines.txt"))
                == Data(contentsOf: URL(fileURLWithPath: directory + "/out.txt")))

        // An identity with a line break cannot go to a text file; nothing is left behind.
        CLITests.expectSuccess(try CLITests.run(["enroll", store, "people"],
                                                input: "{\"identity\": \"two\\nlines\", \"feature_vector\": [\(vectors[0].map { "\($0)" }.joined(separator: ","))]}\n",
                                                in: directory), "enroll a two-line identity")
        output = try CLITests.run(["export", store, "people", "--vectors", directory + "/bad.npy",
                                   "--identities", directory + "/bad.txt"], in: directory)
        CLITests.expectFailure(output, "a line break in an identity")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("bad") }
        #expect(left.isEmpty, "no partial output: \(left)")
        for bad in [["--vectors", directory + "/x.npy"], ["--json-lines", "-", "--uuids", directory + "/u"], [],
                    ["--vectors", directory + "/same", "--identities", directory + "/same"]] {
            CLITests.expectFailure(try CLITests.run(["export", store, "people"] + bad, in: directory), "\(bad)")
        }
        CLITests.expectFailure(try CLITests.run(["export", store, "missing", "--json-lines", "-"], in: directory), "missing")
    }
}
