#if PostgreSQL
import Foundation
import Testing
@testable import Lineup
@testable import LineupPostgreSQL

/// The conninfo of the server the PostgreSQL tests use (`scripts/with-postgres` exports it);
/// without it they are skipped.
let testPostgres = ProcessInfo.processInfo.environment["LINEUP_TEST_POSTGRES"]

/// Options for an SDK on the test server.
func postgresOptions(model: String = "TFV5_2", compression: VectorCompression = .none,
                     interval: Double? = 0.1) -> ConfigurationOptions {
    var options = ConfigurationOptions()
    options.dbms = .postgresql
    options.frModel = model
    options.vectorCompression = compression
    options.notificationCheckInterval = interval
    return options
}

/// A `.postgresql` SDK on a fresh process connection to the test server, with every
/// collection deleted.
func freshPostgresSDK(model: String = "TFV5_2", compression: VectorCompression = .none) throws -> SDK {
    LineupPostgreSQL.enable()
    ProcessConnection.resetForTesting()
    let sdk = SDK(options: postgresOptions(model: model, compression: compression))
    try sdk.createDatabaseConnection(testPostgres!)
    for name in try sdk.getCollectionNames() { try sdk.deleteCollection(name) }
    return sdk
}

/// A `.postgresql` SDK on a fresh process connection, keeping what the server holds.
func freshPostgresSDKKeepingCollections() throws -> SDK {
    ProcessConnection.resetForTesting()
    let sdk = SDK(options: postgresOptions())
    try sdk.createDatabaseConnection(testPostgres!)
    return sdk
}

/// Runs a shell command (the server's stop and start commands) and waits for it: with
/// posix_spawn and waitpid, since the server it starts keeps running after the shell exits.
func shell(_ command: String) throws {
    var pid: pid_t = 0
    let arguments: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", command].map { text in text.withCString { strdup($0) } } + [nil]
    defer { for argument in arguments { free(argument) } }
    let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, arguments, environ)
    #expect(spawned == 0, "cannot run \(command)")
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    #expect(status == 0, "\(command) failed")
}

/// Polls `condition` every millisecond for up to `seconds`.
func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(1_000)
    }
    return try condition()
}

extension SDKTests {
    /// The contract on `.postgresql` (TheContract.md, "One connection per process"), against the server `scripts/with-postgres` starts.
    @Suite(.enabled(if: testPostgres != nil, "LINEUP_TEST_POSTGRES is not set; run through scripts/with-postgres"))
    struct PostgreSQL {
        // MARK: Connection

        @Test func connectionErrors() throws {
            LineupPostgreSQL.enable()
            ProcessConnection.resetForTesting()
            let sdk = SDK(options: postgresOptions())
            expectError(.databaseNotConnected) { try sdk.getCollectionNames() }
            expectError(.databaseConnectionError) { try sdk.createDatabaseConnection("hostaddr=127.0.0.1 port=1 dbname=x connect_timeout=2") }
            expectError(.databaseConnectionError) { try sdk.createDatabaseConnection("this is not a conninfo") }
            var badInterval = postgresOptions()
            badInterval.notificationCheckInterval = 0
            expectError(.invalidArgument) { try SDK(options: badInterval).createDatabaseConnection(testPostgres!) }
        }

        @Test func missingDatabaseIsCreatedUnlessHosted() throws {
            LineupPostgreSQL.enable()
            ProcessConnection.resetForTesting()
            let name = "lineup_created_\(UInt32.random(in: 0...UInt32.max))"
            let conninfo = testPostgres!.replacingOccurrences(of: "dbname=lineup_test", with: "dbname=\(name)")
            setenv("HOSTED_DATABASE", "1", 1)
            expectError(.databaseConnectionError) { try SDK(options: postgresOptions()).createDatabaseConnection(conninfo) }
            unsetenv("HOSTED_DATABASE")
            let sdk = SDK(options: postgresOptions())
            try sdk.createDatabaseConnection(conninfo)
            try sdk.createLoadCollection("people")
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0, 0]), identity: "alice")
            ProcessConnection.resetForTesting()
            try sdk.createDatabaseConnection(conninfo)
            #expect(try sdk.getCollectionMetadata("people").numFaceprints == 1)
            ProcessConnection.resetForTesting()
        }

        // MARK: Encryption

        /// `encryptionKey` on `.postgresql`: the server holds keyed hashes of UUIDs and
        /// identities and sealed rows; the same key is needed everywhere, and a database of
        /// plaintext Faceprints refuses one.
        @Test func encryptedDatabase() throws {
            LineupPostgreSQL.enable()
            ProcessConnection.resetForTesting()
            defer { ProcessConnection.resetForTesting() }
            let name = "lineup_encrypted_\(UInt32.random(in: 0...UInt32.max))"
            let conninfo = testPostgres!.replacingOccurrences(of: "dbname=lineup_test", with: "dbname=\(name)")
            var options = postgresOptions(compression: .fp16)
            options.encryptionKey = "pg passphrase"
            let sdk = SDK(options: options)
            try sdk.createDatabaseConnection(conninfo)
            try sdk.createLoadCollection("people")
            var rng = SeededGenerator(seed: 41)
            let faces = (0..<4).map { _ in rng.faceprint(32) }
            let names = ["alice", "bob", "alice", "carol"]
            let uuids = try zip(faces, names).map { try sdk.enrollFaceprint($0, identity: $1) }
            #expect(try sdk.identifyTopCandidate(faces[1])?.uuid == uuids[1])
            let metadata = try sdk.getCollectionMetadata("people")
            #expect(metadata.encrypted && metadata.numFaceprints == 4 && metadata.numIdentities == 3)
            #expect(try sdk.getCollectionIdentities("people") == Dictionary(uniqueKeysWithValues: zip(uuids, names)))

            // What the server holds reveals no UUID, identity or vector bytes.
            let raw = try PGConnection(conninfo: conninfo)
            let rows = try raw.execute("SELECT uuid::text, identity, vector FROM lineup_faceprints")
            #expect(rows.rowCount == 4)
            for row in 0..<rows.rowCount {
                #expect(!uuids.contains(rows.text(row, 0)))
                let identity = rows.bytes(row, 1)
                #expect(!names.contains { Array($0.utf8) == identity })
                let vector = rows.bytes(row, 2)
                for name in names {
                    let needle = Array(name.utf8)
                    #expect(!(0...(vector.count - needle.count)).contains { Array(vector[$0..<($0 + needle.count)]) == needle })
                }
            }

            // Removal by UUID and by identity go through the keyed hashes.
            try sdk.removeByUUID(uuids[1])
            #expect(try sdk.removeByIdentity("alice") == 2)
            #expect(try sdk.getCollectionIdentities("people") == [uuids[3]: "carol"])

            // Another connection with the key follows; without it, or with another, none opens.
            let follower = try PostgresBackend(conninfo: conninfo, options: options)
            let store = try follower.loadCollection("people") as! PostgresCollection
            #expect(try store.identities() == [uuids[3]: "carol"])
            let extra = try sdk.enrollFaceprint(faces[0], identity: "dave")
            #expect(eventually(30) { (try? store.identities())?[extra] == "dave" })

            // A calibration is sealed too, bound to its collection.
            let curve = MatchProbability(midpoint: 0.42, steepness: 18)
            try store.setCalibratedCurve(curve)
            #expect(store.calibratedCurve == curve)
            #expect(eventually(30) {
                guard let best = try? sdk.identifyTopCandidates(faces[0], numCandidates: 1, threshold: -1).first else { return false }
                return best.matchProbability == curve.probability(forSimilarity: best.similarityMeasure)
            }, "the other connection opens the sealed curve")
            let sealed = try raw.execute("SELECT curve FROM lineup_collections WHERE name = 'people'").bytes(0, 0)
            let plainCurve = PostgresSchema.curveBytes(curve)
            #expect(sealed.count == 2 * 12 + 8 + 16)
            #expect(!(0...(sealed.count - 8)).contains { Array(sealed[$0..<($0 + 8)]) == plainCurve })
            try sdk.createLoadCollection("others")
            try raw.execute("UPDATE lineup_collections SET curve = $1 WHERE name = 'others'", [.bytes(sealed)])
            expectError(.corruptStore, "a curve moved to another collection") { _ = try follower.loadCollection("others") }
            follower.close()
            for key in [nil, "another passphrase"] as [String?] {
                var other = postgresOptions()
                other.encryptionKey = key
                #expect(lineupError { try PostgresBackend(conninfo: conninfo, options: other) }?.code == .wrongEncryptionKey, "\(String(describing: key))")
            }
            // A database of plaintext Faceprints refuses a key.
            let plainName = "lineup_plain_\(UInt32.random(in: 0...UInt32.max))"
            let plainInfo = testPostgres!.replacingOccurrences(of: "dbname=lineup_test", with: "dbname=\(plainName)")
            let plain = try PostgresBackend(conninfo: plainInfo, options: postgresOptions())
            try plain.createCollection("c", settings: CollectionSettings(modelName: "M", compression: .none))
            try (plain.loadCollection("c") as! PostgresCollection).enroll([PreparedEnrollment(faces[0], identity: "x", compression: .none)])
            plain.close()
            #expect(lineupError { try PostgresBackend(conninfo: plainInfo, options: options) }?.code == .wrongEncryptionKey)
        }

        // MARK: Collections

        @Test func collections() throws {
            let sdk = try freshPostgresSDK()
            #expect(try sdk.getCollectionNames().isEmpty)
            expectError(.noCollectionFound) { try sdk.loadCollection("missing") }
            expectError(.noCollectionFound) { try sdk.deleteCollection("missing") }
            expectError(.noCollectionFound) { try sdk.getCollectionMetadata("missing") }
            expectError(.noCollectionFound) { try sdk.getCollectionIdentities("missing") }
            expectError(.invalidArgument) { try sdk.createCollection("") }
            expectError(.invalidArgument) { try sdk.createCollection("tab\there") }
            expectError(.inputIsEmpty) { try sdk.loadCollections([]) }

            try sdk.createCollection("b")
            try sdk.createCollection("a")
            #expect(try sdk.getCollectionNames() == ["a", "b"])
            expectError(.noCollectionFound) { try sdk.loadCollections(["a", "missing"]) }
            expectError(.collectionNotLoaded) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x", collectionName: "a") }
            expectError(.collectionNotLoaded) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x") }
            try sdk.loadCollections(["a", "b"])
            expectError(.noCollectionSpecified) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x") }
            expectError(.noCollectionFound) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x", collectionName: "c") }
            let uuid = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x", collectionName: "a")
            #expect(isLowercaseUUIDString(uuid))

            // Creating an existing collection is a no-op, even with other settings.
            let other = SDK(options: postgresOptions(model: "LITE", compression: .int8))
            try other.createCollection("a")
            let metadata = try sdk.getCollectionMetadata("a")
            #expect(metadata == CollectionMetadata(collectionName: "a", encrypted: false, featureVectorSizeBytes: 8,
                                                   modelName: "TFV5_2", modelOptions: "{\"vector_compression\":\"none\"}",
                                                   numFaceprints: 1, numIdentities: 1))
            #expect(try sdk.getCollectionMetadata("b").featureVectorSizeBytes == 0)
            #expect(try sdk.getCollectionIdentities("a") == [uuid: "x"])

            try sdk.deleteCollection("a")
            #expect(try sdk.getCollectionNames() == ["b"])
            expectError(.noCollectionFound) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x", collectionName: "a") }
            // A collection created again under the name starts empty.
            try sdk.createLoadCollection("a")
            #expect(try sdk.getCollectionMetadata("a").numFaceprints == 0)
            #expect(try sdk.identifyTopCandidate(Faceprint(featureVector: [1, 0]), collectionName: "a") == nil)
        }

        // MARK: Enrollment and removal

        @Test func enrollmentRules() throws {
            let sdk = try freshPostgresSDK()
            try sdk.createLoadCollection("people")
            expectError(.inputIsEmpty) { try sdk.enrollFaceprint(Faceprint(featureVector: []), identity: "x") }
            expectError(.inputIsEmpty) { try sdk.enrollFaceprint(Faceprint(featureVector: [1]), identity: "") }
            expectError(.invalidArgument) { try sdk.enrollFaceprint(Faceprint(featureVector: [.nan, 1]), identity: "x") }
            expectError(.invalidArgument) { try sdk.enrollFaceprint(Faceprint(featureVector: [0, 0]), identity: "x") }
            expectError(.invalidArgument) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: .repeating("x", 1025)) }
            expectError(.enrollmentError) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0], modelName: "LITE"), identity: "x") }
            #expect(try sdk.getCollectionMetadata("people").numFaceprints == 0)

            let a1 = try sdk.enrollFaceprint(Faceprint(featureVector: [3, 4, 0]), identity: "alice")
            let a2 = try sdk.enrollFaceprint(Faceprint(featureVector: [0, 1, 0]), identity: "alice")
            let b = try sdk.enrollFaceprint(Faceprint(featureVector: [0, 0, 1]), identity: String.repeating("é", 512))
            expectError(.enrollmentError) { try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0]), identity: "x") }
            #expect(try sdk.getCollectionIdentities("people") == [a1: "alice", a2: "alice", b: .repeating("é", 512)])
            let metadata = try sdk.getCollectionMetadata("people")
            #expect(metadata.numFaceprints == 3 && metadata.numIdentities == 2 && metadata.featureVectorSizeBytes == 12)

            // Stored L2-normalised.
            let top = try #require(try sdk.identifyTopCandidate(Faceprint(featureVector: [3, 4, 0])))
            #expect(top.uuid == a1 && abs(top.similarityMeasure - 1) < 1e-6)

            expectError(.inputIsEmpty) { try sdk.removeByUUID("") }
            expectError(.noRecordFound) { try sdk.removeByUUID("not-a-uuid") }
            expectError(.noRecordFound) { try sdk.removeByUUID(RecordID.generate().string) }
            expectError(.noRecordFound) { try sdk.removeByIdentity("nobody") }
            expectError(.inputIsEmpty) { try sdk.removeByIdentity("") }
            try sdk.removeByUUID(a1)
            expectError(.noRecordFound) { try sdk.removeByUUID(a1) }
            #expect(try sdk.identifyTopCandidate(Faceprint(featureVector: [3, 4, 0]), threshold: 0.9) == nil)
            #expect(try sdk.removeByIdentity("alice") == 1)
            expectError(.noRecordFound) { try sdk.removeByIdentity("alice") }
            #expect(try sdk.getCollectionIdentities("people") == [b: .repeating("é", 512)])
            #expect(try sdk.getCollectionMetadata("people").numIdentities == 1)

            // What is stored survives reconnecting and loading.
            ProcessConnection.resetForTesting()
            try sdk.createDatabaseConnection(testPostgres!)
            try sdk.loadCollection("people")
            #expect(try sdk.identifyTopCandidate(Faceprint(featureVector: [0, 0, 1]))?.uuid == b)
            #expect(try sdk.removeByIdentity(.repeating("é", 512)) == 1)
            #expect(try sdk.identifyTopCandidates(Faceprint(featureVector: [0, 0, 1]), numCandidates: 5, threshold: -1).isEmpty)
        }

        // MARK: Identification

        @Test(arguments: [VectorCompression.none, .fp16, .int8])
        func identification(compression: VectorCompression) throws {
            var rng = SeededGenerator(seed: 7)
            let sdk = try freshPostgresSDK(compression: compression)
            try sdk.createLoadCollection("people")
            var gallery: [(uuid: String, vector: [Float])] = []
            let vectors = (0..<40).map { _ in rng.vector(64) }
            let uuids = try sdk.enrollFaceprints(vectors.map { Faceprint(featureVector: $0) }, identities: (0..<40).map { "p\($0)" })
            for (uuid, vector) in zip(uuids, vectors) { gallery.append((uuid, vector)) }
            let tie = try sdk.enrollFaceprint(Faceprint(featureVector: vectors[3]), identity: "p3-again")
            #expect(try sdk.getCollectionMetadata("people").featureVectorSizeBytes == 64 * compression.bytesPerDimension)

            expectError(.invalidArgument) { try sdk.identifyTopCandidates(Faceprint(featureVector: vectors[0]), numCandidates: 0) }
            expectError(.invalidArgument) { try sdk.identifyTopCandidate(Faceprint(featureVector: vectors[0]), threshold: .nan) }
            expectError(.invalidArgument) { try sdk.identifyTopCandidate(Faceprint(featureVector: [1, 0])) }
            expectError(.invalidArgument) { try sdk.identifyTopCandidate(Faceprint(featureVector: vectors[0], modelName: "LITE")) }

            for (index, entry) in gallery.enumerated() where index != 3 {
                let top = try #require(try sdk.identifyTopCandidate(Faceprint(featureVector: entry.vector)))
                #expect(top.uuid == entry.uuid && top.identity == "p\(index)")
                #expect(top.similarityMeasure > 0.97 && top.matchProbability > 0.5)
            }
            // Ties: earlier enrollment first.
            let both = try sdk.identifyTopCandidates(Faceprint(featureVector: vectors[3]), numCandidates: 2, threshold: 0.9)
            #expect(both.map(\.uuid) == [gallery[3].uuid, tie])
            let batch = try sdk.batchIdentifyTopCandidate(vectors.prefix(5).map { Faceprint(featureVector: $0) })
            #expect(batch.map { $0?.uuid } == Array(uuids.prefix(5)))

            // A second load reads the same from the server, in the same order.
            try sdk.loadCollection("people")
            #expect(try sdk.identifyTopCandidates(Faceprint(featureVector: vectors[3]), numCandidates: 2, threshold: 0.9).map(\.uuid)
                    == [gallery[3].uuid, tie])
        }

        // MARK: SQL injection

        @Test func namesAndIdentitiesAreData() throws {
            let sdk = try freshPostgresSDK()
            let names = ["x'); DROP TABLE lineup_faceprints; --", "\"; DELETE FROM lineup_collections; --",
                         "$1", "a\\b", "Robert'); DROP TABLE lineup_collections;--", "名前 ' \" `"]
            for name in names { try sdk.createCollection(name) }
            #expect(try sdk.getCollectionNames() == names.sorted())
            try sdk.loadCollection(names[0])
            let identities = ["'; DROP TABLE lineup_schema; --", "' OR '1'='1", "\\x00", "%", "_"]
            var uuids: [String: String] = [:]
            for identity in identities {
                uuids[try sdk.enrollFaceprint(Faceprint(featureVector: [1, 2]), identity: identity, collectionName: names[0])] = identity
            }
            #expect(try sdk.getCollectionIdentities(names[0]) == uuids)
            #expect(try sdk.removeByIdentity("' OR '1'='1", collectionName: names[0]) == 1)
            #expect(try sdk.removeByIdentity("%", collectionName: names[0]) == 1)
            #expect(try sdk.getCollectionMetadata(names[0]).numFaceprints == 3)
            for name in names { try sdk.deleteCollection(name) }
            #expect(try sdk.getCollectionNames().isEmpty)
            // The schema is intact.
            try sdk.createLoadCollection("after")
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 2]), identity: "z")
            #expect(try sdk.getCollectionMetadata("after").numFaceprints == 1)
        }

        /// Identities and collection names are byte strings on PostgreSQL too: NFC and NFD
        /// twins stay two, in this connection and in a new one that loads them from the server.
        @Test func canonicallyEquivalentTwinsAreTwo() throws {
            let sdk = try freshPostgresSDK()
            try ExactBytes.checkIdentityTwins(sdk, seal: false)
            try ExactBytes.checkCollectionTwins(sdk)
            let again = try freshPostgresSDKKeepingCollections()
            #expect(try ExactBytes.twinNames(again) == [Array(ExactBytes.composed.utf8)])
            try again.loadCollection("people")
            #expect(try again.getCollectionMetadata("people").numIdentities == 1)
            #expect(try again.getCollectionIdentities("people").values.map { Array($0.utf8) } == [Array(ExactBytes.composed.utf8)])
        }

        // MARK: Following other connections

        /// A second backend in this process (its own connections and listener) stands in for
        /// another machine: changes reach it incrementally, through notifications.
        @Test func anotherConnectionFollowsChanges() throws {
            let sdk = try freshPostgresSDK()
            try sdk.createLoadCollection("people")
            let early = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0, 0]), identity: "early")
            let follower = try PostgresBackend(conninfo: testPostgres!, options: postgresOptions(interval: 30))
            defer { follower.close() }
            let store = try follower.loadCollection("people") as! PostgresCollection
            #expect(try store.identities() == [early: "early"])

            // The polling interval is 30 s: what arrives sooner came by notification.
            let later = try sdk.enrollFaceprint(Faceprint(featureVector: [0, 1, 0]), identity: "later")
            #expect(eventually(30) { (try? store.identities()) == [early: "early", later: "later"] })
            try sdk.removeByUUID(early)
            #expect(eventually(30) { (try? store.identities()) == [later: "later"] })
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: [0, 0, 1]), identity: "later")
            #expect(try sdk.removeByIdentity("later") == 2)
            #expect(eventually(30) { (try? store.identities())?.isEmpty == true })

            // The follower writes too; the first connection receives it.
            let fromFollower = PreparedEnrollment(Faceprint(featureVector: [0, 0, 1]), identity: "f", compression: .none)
            try store.enroll([fromFollower])
            #expect(eventually(30) { (try? sdk.getCollectionSpace("people").liveFaceprints) == 1 })
            #expect(try sdk.identifyTopCandidate(Faceprint(featureVector: [0, 0, 1]))?.uuid == fromFollower.id.string)

            // Deleted elsewhere: the follower's handle refuses writes.
            try sdk.deleteCollection("people")
            #expect(eventually(30) { lineupError { try store.enroll([PreparedEnrollment(Faceprint(featureVector: [1, 0, 0]), identity: "g", compression: .none)]) }?.code == .noCollectionFound })
        }

        /// The server restarts in the middle: calls fail with `databaseConnectionError` while
        /// it is down, work again once it is back, and a follower catches up on what it missed.
        @Test func serverRestart() throws {
            guard let stop = ProcessInfo.processInfo.environment["LINEUP_TEST_POSTGRES_STOP"],
                  let start = ProcessInfo.processInfo.environment["LINEUP_TEST_POSTGRES_START"] else { return }
            let sdk = try freshPostgresSDK()
            try sdk.createLoadCollection("people")
            _ = try sdk.enrollFaceprint(Faceprint(featureVector: [1, 0, 0]), identity: "before")
            let follower = try PostgresBackend(conninfo: testPostgres!, options: postgresOptions(interval: 0.1))
            defer { follower.close() }
            let store = try follower.loadCollection("people") as! PostgresCollection

            try shell(stop)
            let error = lineupError { try sdk.enrollFaceprint(Faceprint(featureVector: [0, 1, 0]), identity: "down") }
            #expect(error?.code == .databaseConnectionError)
            #expect(error?.message.contains("PostgreSQL") == true, "\(String(describing: error))")
            expectError(.databaseConnectionError) { try sdk.getCollectionNames() }
            // Identification goes on from memory.
            #expect(try sdk.identifyTopCandidate(Faceprint(featureVector: [1, 0, 0]))?.identity == "before")
            try shell(start)

            var uuids: [String] = []
            for index in 0..<20 {
                uuids.append(try sdk.enrollFaceprint(Faceprint(featureVector: [1, Float(index), 2]), identity: "after-\(index)"))
            }
            #expect(try sdk.getCollectionMetadata("people").numFaceprints == 21)
            #expect(eventually(30) { store.gallery.counts.faceprints == 21 }, "the follower caught up after the restart")
            #expect(Set(try store.identities().keys).isSuperset(of: uuids))
        }

        // MARK: Processes

        /// Two `lineup enroll --postgresql` writers and a `lineup watch --postgresql` process:
        /// the watcher follows every enrollment on its own, and every acknowledged one is on
        /// the server.
        @Test func twoWriterProcessesAndAWatcher() throws {
            guard KillTests.executable != nil else {
                Issue.record("the lineup executable was not found next to the tests")
                return
            }
            signal(SIGPIPE, SIG_IGN)
            let conninfo = testPostgres!
            let sdk = try freshPostgresSDK()
            #expect(try KillTests.run(["create", conninfo, "people", "--postgresql"]).status == 0)
            #expect(try sdk.getCollectionNames() == ["people"])
            let watcher = try SharedProcessTests.Running(["watch", conninfo, "people", "--postgresql",
                                                          "--check-interval", "0.1", "--until", "500", "--timeout", "120"])
            _ = eventually(30) { !watcher.lines.value.isEmpty }
            let a = try SharedProcessTests.Running(["enroll", conninfo, "people", "--postgresql"])
            let b = try SharedProcessTests.Running(["enroll", conninfo, "people", "--postgresql"])
            a.feed(300, prefix: "a", seed: 1, close: true)
            b.feed(200, prefix: "b", seed: 2, close: true)
            a.finish()
            b.finish()
            #expect(a.process.terminationStatus == 0 && b.process.terminationStatus == 0)
            #expect(a.lines.value.count == 300 && b.lines.value.count == 200)
            watcher.finish()
            #expect(watcher.process.terminationStatus == 0, "the watcher did not reach 500")
            #expect(watcher.lines.value.last?.hasSuffix(" 500") == true)
            let map = try sdk.getCollectionIdentities("people")
            #expect(Set(map.keys) == Set(a.lines.value + b.lines.value))
        }

        // MARK: Calibration

        /// `calibrate` on `.postgresql` is one change: stored in the collection's row, applied by
        /// a follower through its notification, loaded by a later connection; every candidate
        /// takes its probability from it.
        @Test func aCalibrationIsStoredAndFollowed() throws {
            let sdk = try freshPostgresSDK()
            try sdk.createLoadCollection("people")
            try SDKTests.FileStore.enrollClusters(sdk, into: "people", people: 12, templates: 3, seed: 5)
            let follower = try PostgresBackend(conninfo: testPostgres!, options: postgresOptions(interval: 30))
            defer { follower.close() }
            let store = try follower.loadCollection("people") as! PostgresCollection
            #expect(store.calibratedCurve == nil)
            let report = try sdk.calibrate(collectionName: "people")
            #expect(report.genuinePairs == 12 * 3)
            #expect(eventually(30) { store.calibratedCurve == report.curve }, "by notification: the poll is 30 s away")

            let raw = try PGConnection(conninfo: testPostgres!)
            let row = try raw.execute("SELECT curve FROM lineup_collections WHERE name = 'people'")
            #expect(row.bytes(0, 0) == PostgresSchema.curveBytes(report.curve))

            var rng = SeededGenerator(seed: 99)
            let probe = rng.faceprint(32)
            func check(_ sdk: SDK, _ comment: Comment) throws {
                let candidates = try sdk.identifyTopCandidates(probe, numCandidates: 5, threshold: -1, collectionName: "people")
                #expect(candidates.count == 5, comment)
                for candidate in candidates {
                    #expect(candidate.matchProbability == report.curve.probability(forSimilarity: candidate.similarityMeasure), comment)
                }
            }
            try check(sdk, "this process")
            let later = try freshPostgresSDKKeepingCollections()
            try later.loadCollection("people")
            try check(later, "a later connection")
            let recalibrated = MatchProbability(midpoint: 0.3, steepness: 10)
            try store.setCalibratedCurve(recalibrated)
            #expect(eventually(30) {
                guard let best = try? sdk.identifyTopCandidates(probe, numCandidates: 1, threshold: -1, collectionName: "people").first
                else { return false }
                return best.matchProbability == recalibrated.probability(forSimilarity: best.similarityMeasure)
            }, "a curve another process stores")
            try sdk.deleteCollection("people")
            expectError(.noCollectionFound, "deleted") { try store.setCalibratedCurve(MatchProbability(midpoint: 0.3, steepness: 10)) }
        }

        /// A version-1 database (before calibrations) is read as it is by a read-only
        /// connection, and upgraded to version 2 by the first writable one.
        @Test func aVersionOneDatabaseIsUpgraded() throws {
            LineupPostgreSQL.enable()
            let name = "lineup_v1_\(UInt32.random(in: 0...UInt32.max))"
            let conninfo = testPostgres!.replacingOccurrences(of: "dbname=lineup_test", with: "dbname=\(name)")
            let maintenance = try PGConnection(conninfo: testPostgres!)
            try maintenance.executeScript("CREATE DATABASE \(name)")
            let raw = try PGConnection(conninfo: conninfo)
            try raw.executeScript(PostgresSchema.version1)
            try raw.executeScript("INSERT INTO lineup_collections (name, model, compression) VALUES ('old', 'TFV5_2', 'none')")
            let collectionID = try raw.execute("SELECT id FROM lineup_collections").int(0, 0)
            try raw.execute("SELECT lineup_enroll($1, 3, gen_random_uuid(), 'alice', $2, 1)",
                            [.int(collectionID), .bytes(PreparedEnrollment(Faceprint(featureVector: [1, 0, 0]), identity: "alice",
                                                                           compression: .none).vector.bytes)])

            var readOnly = postgresOptions()
            readOnly.readOnly = true
            let reader = try PostgresBackend(conninfo: conninfo, options: readOnly)
            #expect(!reader.storesCurves)
            let old = try reader.loadCollection("old")
            #expect(old.calibratedCurve == nil)
            #expect(try old.metadata().numFaceprints == 1)
            reader.close()
            #expect(try raw.execute("SELECT version FROM lineup_schema").int(0, 0) == 1, "a read-only connection changes nothing")

            let writer = try PostgresBackend(conninfo: conninfo, options: postgresOptions())
            defer { writer.close() }
            #expect(writer.storesCurves)
            #expect(try raw.execute("SELECT version FROM lineup_schema").int(0, 0) == 2)
            let upgraded = try writer.loadCollection("old")
            let curve = MatchProbability(midpoint: 0.45, steepness: 20)
            try upgraded.setCalibratedCurve(curve)
            #expect(upgraded.calibratedCurve == curve)
            #expect(try writer.loadCollection("old").calibratedCurve == curve)
        }

        /// Figures (`LINEUP_PG_FIGURES=1`): propagation latency to a watcher process at
        /// interval 0.1 s, the enroll rate, and the load time of 100k Faceprints.
        @Test(.enabled(if: ProcessInfo.processInfo.environment["LINEUP_PG_FIGURES"] != nil))
        func figures() throws {
            var rng = SeededGenerator(seed: 11)
            let sdk = try freshPostgresSDK()
            try sdk.createLoadCollection("figures")
            let watcher = try SharedProcessTests.Running(["watch", testPostgres!, "figures", "--postgresql",
                                                          "--check-interval", "0.1", "--until", "200", "--timeout", "120"])
            _ = eventually(30) { !watcher.lines.value.isEmpty }
            var acknowledged: [Double] = []
            for index in 0..<200 {
                _ = try sdk.enrollFaceprint(rng.faceprint(512), identity: "p\(index)")
                acknowledged.append(Date().timeIntervalSince1970)
                usleep(10_000)
            }
            watcher.finish()
            var latencies: [Double] = []
            for line in watcher.lines.value {
                let parts = line.split(separator: " ")
                guard parts.count == 2, let time = Double(parts[0]), let count = Int(parts[1]), count > 0 else { continue }
                latencies.append(max(0, time - acknowledged[count - 1]))
            }
            latencies.sort()
            print("figure: propagation to a watcher process, interval 0.1 s: median \(String(format: "%.2f", latencies[latencies.count / 2] * 1000)) ms, p99 \(String(format: "%.2f", latencies[latencies.count * 99 / 100] * 1000)) ms, max \(String(format: "%.2f", latencies.last! * 1000)) ms (\(latencies.count) changes seen)")

            let count = 2_000
            let probes = (0..<count).map { _ in rng.faceprint(512) }
            var start = Date()
            for (index, faceprint) in probes.enumerated() { _ = try sdk.enrollFaceprint(faceprint, identity: "r\(index)") }
            print("figure: enroll rate, one call per Faceprint (512-d float32): \(Int(Double(count) / Date().timeIntervalSince(start))) /s")

            try sdk.createLoadCollection("large")
            let total = 100_000, batch = 5_000
            start = Date()
            for offset in stride(from: 0, to: total, by: batch) {
                let faceprints = (0..<batch).map { _ in rng.faceprint(512) }
                _ = try sdk.enrollFaceprints(faceprints, identities: (0..<batch).map { "l\(offset + $0)" }, collectionName: "large")
            }
            print("figure: bulk enroll of 100k Faceprints in batches of \(batch): \(Int(Double(total) / Date().timeIntervalSince(start))) /s")
            start = Date()
            try sdk.loadCollection("large")
            let seconds = Date().timeIntervalSince(start)
            #expect(try sdk.getCollectionSpace("large").liveFaceprints == total)
            print("figure: load of 100k Faceprints (512-d float32) from the server: \(String(format: "%.2f", seconds)) s")
            try sdk.deleteCollection("large")
        }
    }
}
#endif
