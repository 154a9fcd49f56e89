import Foundation
import Lineup
import Testing

/// Where the built `lineup` executable is.
enum LineupExecutable {
    /// Next to the test bundle, else `.build/debug/lineup` above this source file.
    static let path: String? = {
        var candidates: [URL] = []
        if let first = CommandLine.arguments.first {
            var directory = URL(fileURLWithPath: first).deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(directory.appendingPathComponent("lineup"))
                directory = directory.deletingLastPathComponent()
            }
        }
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(directory.appendingPathComponent(".build/debug/lineup"))
            directory = directory.deletingLastPathComponent()
        }
        return candidates.map(\.path).first { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && FileManager.default.isExecutableFile(atPath: path)
        }
    }()
}

/// The `lineup` command-line tool (README, "Command-line tool"), run as a subprocess on a temporary store.
@Suite(.enabled(if: LineupExecutable.path != nil,
                "the lineup executable was not found next to the test bundle or in .build/debug; run `swift build` first"))
struct CLITests {
    static var executable: String? { LineupExecutable.path }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    }

    /// Runs `lineup arguments…` with `input` on standard input.
    /// `environment` adds to (or, with nil values, removes from) this process's environment;
    /// `umask`, when given, runs the tool through `/bin/sh` with that file-creation mask.
    static func run(_ arguments: [String], input: String = "", in directory: String,
                    environment extra: [String: String?] = [:], umask mask: String? = nil) throws -> Output {
        let process = Process()
        if let mask {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "umask \(mask) && exec \"$0\" \"$@\"", executable!] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable!)
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["LINEUP_PASSPHRASE"] = nil
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let id = UUID().uuidString
        let outPath = directory + "/.out-\(id)", errPath = directory + "/.err-\(id)"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: try Data(contentsOf: URL(fileURLWithPath: outPath)), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self))
    }

    /// A float32 C-order .npy file (format 1.0) of `rows`.
    static func npy(_ rows: [[Float]]) -> [UInt8] {
        let columns = rows.first?.count ?? 0
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows.count), \(columns)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes += [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        for row in rows {
            for value in row { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        }
        return bytes
    }

    static func makeDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lineup-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    static func isUUID(_ text: String) -> Bool {
        text.count == 36 && text == text.lowercased() && UUID(uuidString: text) != nil
    }

    /// Expects a failure reported the way the README says: non-zero exit, one `error:` line on
    /// standard error.
    static func expectFailure(_ output: Output, _ comment: Comment, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(output.status != 0, comment, sourceLocation: sourceLocation)
        let lines = output.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "\(comment): stderr \(String(reflecting: output.stderr))", sourceLocation: sourceLocation)
        #expect(lines.first?.hasPrefix("error:") == true, "\(comment): stderr \(String(reflecting: output.stderr))",
                sourceLocation: sourceLocation)
    }

    static func expectSuccess(_ output: Output, _ comment: Comment, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(output.status == 0, "\(comment): exit \(output.status), stderr \(output.stderr)", sourceLocation: sourceLocation)
    }

    /// `lineup calibrate`: the curve fitted from the collection's pairs is printed (table or
    /// JSON), stored (the next `identify` uses it), and drawn as a DET curve in an SVG file.
    @Test func calibrate() throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/store"
        var rng = SeededGenerator(seed: 8)
        var vectors: [[Float]] = [], identities: [String] = []
        for person in 0..<25 {
            let centre = rng.vector(16)
            for _ in 0..<4 {
                vectors.append(zip(centre, rng.vector(16)).map { $0 + 0.8 * $1 })
                identities.append("person \(person)")
            }
        }
        try Data(Self.npy(vectors)).write(to: URL(fileURLWithPath: directory + "/vectors.npy"))
        try Data((identities.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/ids.txt"))
        try Data(Self.npy(Array(vectors[0..<1]))).write(to: URL(fileURLWithPath: directory + "/probe.npy"))
        Self.expectSuccess(try Self.run(["create", store, "people"], in: directory), "create")
        Self.expectSuccess(try Self.run(["import", store, "people", "--vectors", directory + "/vectors.npy",
                                         "--identities", directory + "/ids.txt"], in: directory), "import")

        let table = try Self.run(["calibrate", store, "people", "--target-far", "0.01"], in: directory)
        Self.expectSuccess(table, "calibrate")
        #expect(table.lines.first == "150 genuine pairs, 4800 impostor pairs")
        #expect(table.lines.contains { $0.hasPrefix("0.500      ") }, "\(table.lines)")
        #expect(table.lines.last?.hasPrefix("FAR <= 0.01: threshold ") == true)

        let svg = directory + "/det.svg"
        let output = try Self.run(["calibrate", store, "people", "--json", "--target-far", "0.01", "--plot", svg], in: directory)
        Self.expectSuccess(output, "calibrate --json")
        let report = try #require(try Self.json(output.stdout) as? [String: Any])
        #expect(report["genuine_pairs"] as? Int == 150 && report["impostor_pairs"] as? Int == 4800)
        let curve = try #require(report["curve"] as? [String: Double])
        let points = try #require(report["points"] as? [[String: Double]])
        #expect(points.count == 2001)
        let threshold = try #require(report["threshold"] as? Double)
        let first = try #require(points.first { $0["far"]! <= 0.01 })
        #expect(first["threshold"] == threshold, "the lowest threshold with FAR <= 0.01")
        let drawing = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(drawing.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && drawing.hasSuffix("</svg>\n"))
        #expect(drawing.contains("<polyline") && drawing.contains("<circle") && !drawing.contains("href"))

        // The stored curve gives identify's match probabilities.
        let identified = try Self.run(["identify", store, "people", "--probes", directory + "/probe.npy", "--top", "5",
                                       "--threshold=-1"], in: directory)
        Self.expectSuccess(identified, "identify")
        let candidates = try #require((try Self.json(identified.stdout) as? [String: Any])?["candidates"] as? [[String: Any]])
        let stored = MatchProbability(midpoint: Float(curve["midpoint"]!), steepness: Float(curve["steepness"]!))
        for candidate in candidates {
            let similarity = Float(try #require(candidate["similarity"] as? Double))
            let probability = try #require(candidate["match_probability"] as? Double)
            #expect(abs(probability - Double(stored.probability(forSimilarity: similarity))) < 1e-6)
        }
        // One identity only: refused, nothing stored.
        Self.expectFailure(try Self.run(["calibrate", store, "missing"], in: directory), "a missing collection")
    }

    @Test func workflow() throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/store"
        var rng = SeededGenerator(seed: 42)
        let vectors = (0..<20).map { _ in rng.vector(8) }
        let identities = (0..<20).map { $0 == 7 ? "José Ñúñez" : "id \($0 % 5)" }
        try Data(Self.npy(vectors)).write(to: URL(fileURLWithPath: directory + "/vectors.npy"))
        try Data((identities.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/ids.txt"))
        try Data(Self.npy(Array(vectors[0..<3]))).write(to: URL(fileURLWithPath: directory + "/probes.npy"))

        // create, import
        var output = try Self.run(["create", store, "people"], in: directory)
        Self.expectSuccess(output, "create")
        output = try Self.run(["import", store, "people", "--vectors", directory + "/vectors.npy",
                               "--identities", directory + "/ids.txt"], in: directory)
        Self.expectSuccess(output, "import")
        #expect(output.lines == ["20"], "import prints the count, progress goes to stderr")

        // info --json
        output = try Self.run(["info", store, "people", "--json"], in: directory)
        Self.expectSuccess(output, "info")
        let info = try #require(try Self.json(output.stdout) as? [String: Any])
        #expect(Set(info.keys) == ["collection_name", "encrypted", "feature_vector_size_bytes", "model_name", "model_options",
                                   "num_faceprints", "num_identities"])
        #expect(info["collection_name"] as? String == "people")
        #expect(info["encrypted"] as? Bool == false)
        #expect(info["feature_vector_size_bytes"] as? Int == 32)
        #expect(info["model_name"] as? String == "TFV5_2")
        #expect(info["num_faceprints"] as? Int == 20)
        #expect(info["num_identities"] as? Int == 6)

        // identities --json
        output = try Self.run(["identities", store, "people", "--json"], in: directory)
        Self.expectSuccess(output, "identities")
        let map = try #require(try Self.json(output.stdout) as? [String: String])
        #expect(map.count == 20)
        #expect(map.keys.allSatisfy(Self.isUUID))
        #expect(map.values.sorted() == identities.sorted())

        // identify --probes: one JSON line per probe
        output = try Self.run(["identify", store, "people", "--probes", directory + "/probes.npy", "--top", "3", "--threshold=-1"],
                              in: directory)
        Self.expectSuccess(output, "identify")
        #expect(output.lines.count == 3)
        for (index, line) in output.lines.enumerated() {
            let object = try #require(try Self.json(line) as? [String: Any])
            #expect(Set(object.keys) == ["probe", "candidates"])
            #expect(object["probe"] as? Int == index)
            let candidates = try #require(object["candidates"] as? [[String: Any]])
            #expect(candidates.count == 3)
            for candidate in candidates {
                #expect(Set(candidate.keys) == ["uuid", "identity", "similarity", "match_probability"])
                let uuid = try #require(candidate["uuid"] as? String)
                #expect(map[uuid] == candidate["identity"] as? String)
            }
            #expect(candidates[0]["identity"] as? String == identities[index])
            let similarity = try #require(candidates[0]["similarity"] as? Double)
            #expect(abs(similarity - 1) < 1e-4)
            let similarities = candidates.compactMap { $0["similarity"] as? Double }
            #expect(similarities == similarities.sorted(by: >))
        }

        // identify --distinct-identities: people, each once, at their best Faceprint — the
        // full candidate list with repeats struck out (identities "id 0" … "id 4" repeat).
        output = try Self.run(["identify", store, "people", "--probes", directory + "/probes.npy", "--top", "4",
                               "--threshold=-1", "--distinct-identities"], in: directory)
        Self.expectSuccess(output, "identify --distinct-identities")
        let everything = try Self.run(["identify", store, "people", "--probes", directory + "/probes.npy", "--top", "20",
                                       "--threshold=-1"], in: directory)
        #expect(output.lines.count == 3)
        for (line, full) in zip(output.lines, everything.lines) {
            let people = try #require((try Self.json(line) as? [String: Any])?["candidates"] as? [[String: Any]])
            let all = try #require((try Self.json(full) as? [String: Any])?["candidates"] as? [[String: Any]])
            var seen = Set<String>()
            let expected = all.filter { seen.insert($0["identity"] as! String).inserted }.prefix(4)
            #expect(people.map { $0["uuid"] as? String } == expected.map { $0["uuid"] as? String })
            #expect(people.map { $0["similarity"] as? Double } == expected.map { $0["similarity"] as? Double })
        }

        // enroll from JSON lines on stdin
        let lines = (0..<2).map { index -> String in
            let vector = rng.vector(8).map { "\($0)" }.joined(separator: ",")
            return "{\"identity\": \"stdin \(index)\", \"feature_vector\": [\(vector)], \"model_name\": \"TFV5_2\"}"
        }
        output = try Self.run(["enroll", store, "people"], input: lines.joined(separator: "\n") + "\n", in: directory)
        Self.expectSuccess(output, "enroll")
        #expect(output.lines.count == 2)
        #expect(output.lines.allSatisfy(Self.isUUID), "\(output.lines)")
        let enrolled = output.lines

        // remove --identity, remove --uuid
        output = try Self.run(["remove", store, "people", "--identity", "id 1"], in: directory)
        Self.expectSuccess(output, "remove --identity")
        #expect(output.lines == ["\(identities.filter { $0 == "id 1" }.count)"])
        output = try Self.run(["remove", store, "people", "--uuid", enrolled[0]], in: directory)
        Self.expectSuccess(output, "remove --uuid")
        #expect(output.lines == ["1"])

        output = try Self.run(["identities", store, "people", "--json"], in: directory)
        let after = try #require(try Self.json(output.stdout) as? [String: String])
        #expect(after.count == 20 + 2 - 4 - 1)
        #expect(after[enrolled[1]] == "stdin 1")
        #expect(after[enrolled[0]] == nil)
        #expect(!after.values.contains("id 1"))

        // collections
        Self.expectSuccess(try Self.run(["create", store, "alpha", "--compression", "int8"], in: directory), "create alpha")
        output = try Self.run(["collections", store], in: directory)
        Self.expectSuccess(output, "collections")
        #expect(output.lines == ["alpha", "people"])

        // verify, dump
        output = try Self.run(["verify", store], in: directory)
        Self.expectSuccess(output, "verify")
        #expect(output.stdout.contains("intact"))
        output = try Self.run(["dump", store], in: directory)
        Self.expectSuccess(output, "dump")
        #expect(output.stdout.contains("\"people\""))
        #expect(output.stdout.contains("segment-"), "import checkpoints into a segment")
        #expect(output.stdout.contains("\"alpha\""))
    }

    @Test func errors() throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = directory + "/store"
        Self.expectSuccess(try Self.run(["create", store, "people"], in: directory), "create")
        let vectors = (0..<4).map { index in (0..<8).map { Float($0 == index ? 1 : 0.1) } }
        try Data(Self.npy(vectors)).write(to: URL(fileURLWithPath: directory + "/vectors.npy"))
        try Data("a\nb\nc\n".utf8).write(to: URL(fileURLWithPath: directory + "/three.txt"))
        try Data("a\nb\nc\nd\n".utf8).write(to: URL(fileURLWithPath: directory + "/four.txt"))
        try Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0xFF, 0xFF, 1, 2, 3]).write(to: URL(fileURLWithPath: directory + "/bad.npy"))

        // A missing collection.
        var output = try Self.run(["info", store, "missing", "--json"], in: directory)
        Self.expectFailure(output, "info of a missing collection")
        #expect(output.stdout.isEmpty)
        Self.expectFailure(try Self.run(["identities", store, "missing", "--json"], in: directory), "identities of a missing collection")
        Self.expectFailure(try Self.run(["import", store, "missing", "--vectors", directory + "/vectors.npy",
                                         "--identities", directory + "/four.txt"], in: directory), "import into a missing collection")
        Self.expectFailure(try Self.run(["identify", store, "missing", "--probes", directory + "/vectors.npy"], in: directory),
                           "identify in a missing collection")
        Self.expectFailure(try Self.run(["remove", store, "people", "--identity", "nobody"], in: directory), "remove of an unknown identity")

        // A bad .npy; a mismatched identities count. Neither enrolls anything.
        Self.expectFailure(try Self.run(["import", store, "people", "--vectors", directory + "/bad.npy",
                                         "--identities", directory + "/four.txt"], in: directory), "bad .npy")
        Self.expectFailure(try Self.run(["import", store, "people", "--vectors", directory + "/missing.npy",
                                         "--identities", directory + "/four.txt"], in: directory), "missing .npy")
        Self.expectFailure(try Self.run(["import", store, "people", "--vectors", directory + "/vectors.npy",
                                         "--identities", directory + "/three.txt"], in: directory), "4 vectors, 3 identities")
        output = try Self.run(["info", store, "people", "--json"], in: directory)
        Self.expectSuccess(output, "info")
        #expect((try Self.json(output.stdout) as? [String: Any])?["num_faceprints"] as? Int == 0)

        // Malformed enrollment lines.
        Self.expectFailure(try Self.run(["enroll", store, "people"], input: "{not json}\n", in: directory), "malformed JSON line")
        Self.expectFailure(try Self.run(["enroll", store, "people"], input: "{\"identity\": \"x\", \"feature_vector\": []}\n", in: directory),
                           "empty feature vector")

        // Not a store: a regular file; a damaged store.
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/plain"))
        Self.expectFailure(try Self.run(["create", directory + "/plain", "people"], in: directory), "a regular file as the store")
        Self.expectFailure(try Self.run(["collections", directory + "/nowhere"], in: directory), "a missing store")
        #expect(!FileManager.default.fileExists(atPath: directory + "/nowhere"), "a read-only command creates nothing")

        let manifestURL = URL(fileURLWithPath: store + "/MANIFEST")
        var manifest = [UInt8](try Data(contentsOf: manifestURL))
        manifest[20] ^= 0x01
        try Data(manifest).write(to: manifestURL)
        output = try Self.run(["verify", store], in: directory)
        Self.expectFailure(output, "verify of a damaged store")
        #expect(!output.stdout.contains("intact"))
        Self.expectFailure(try Self.run(["collections", store], in: directory), "collections of a damaged store")
    }
}
