import Testing
@testable import Lineup

extension SDKTests {
    /// TheContract.md, "One connection per process": one connection per process, shared by every SDK instance.
    @Suite struct Connecting {
        @Test func fileSDKBeforeAnyConnectionIsNotConnected() {
            ProcessConnection.resetForTesting()
            let sdk = SDK()   // default options: .file
            #expect(sdk.options.dbms == .file)
            expectError(.databaseNotConnected) { try sdk.getCollectionNames() }
            expectError(.databaseNotConnected) { try sdk.createCollection("people") }
            expectError(.databaseNotConnected) { try sdk.createLoadCollection("people") }
            expectError(.databaseNotConnected) { try sdk.loadCollection("people") }
            expectError(.databaseNotConnected) { try sdk.loadCollections(["people"]) }
            expectError(.databaseNotConnected) { try sdk.deleteCollection("people") }
            expectError(.databaseNotConnected) { try sdk.getCollectionMetadata("people") }
            expectError(.databaseNotConnected) { try sdk.getCollectionIdentities("people") }
            let probe = Faceprint(featureVector: [1, 2, 3])
            expectError(.databaseNotConnected) { try sdk.enrollFaceprint(probe, identity: "a") }
            expectError(.databaseNotConnected) { try sdk.removeByIdentity("a") }
            expectError(.databaseNotConnected) { try sdk.removeByUUID("01890a5d-ac96-774b-bcce-b302099a8057") }
            expectError(.databaseNotConnected) { try sdk.identifyTopCandidate(probe) }
            expectError(.databaseNotConnected) { try sdk.identifyTopCandidates(probe, numCandidates: 3) }
            expectError(.databaseNotConnected) { try sdk.batchIdentifyTopCandidate([probe]) }
            // The failed calls did not connect anything.
            #expect(ProcessConnection.connection == nil)
        }

        @Test func sharedAndPostgresSDKsBeforeAnyConnectionAreNotConnected() {
            ProcessConnection.resetForTesting()
            for dbms in [DatabaseManagementSystem.shared, .postgresql] {
                var options = ConfigurationOptions()
                options.dbms = dbms
                expectError(.databaseNotConnected, "\(dbms)") { try SDK(options: options).getCollectionNames() }
            }
        }

        @Test func noneSDKConnectsImplicitly() throws {
            _ = try freshSDK()
            try SDK(options: memoryOptions()).createLoadCollection("implicit")
            ProcessConnection.resetForTesting()
            #expect(ProcessConnection.connection == nil)

            let sdk = SDK(options: memoryOptions())
            // No createDatabaseConnection: the in-memory database becomes the connection.
            let names = try sdk.getCollectionNames()
            #expect(names == ["implicit"], "the process's one in-memory database is alive until exit")
            #expect(ProcessConnection.connection?.dbms == DatabaseManagementSystem.none)
            // And now that a connection exists, a .file SDK uses it too.
            #expect(try SDK().getCollectionNames() == ["implicit"])
        }

        @Test func noneConnectionStringIsIgnored() throws {
            let sdk = try freshSDK()
            try sdk.createCollection("kept")
            try sdk.createDatabaseConnection("/this/path/does/not/exist/store.lineup")
            try sdk.createDatabaseConnection("")
            try sdk.createDatabaseConnection("host=localhost dbname=x")
            #expect(try sdk.getCollectionNames() == ["kept"])
        }

        @Test func createDatabaseConnectionReplacesAndUnloads() throws {
            var rng = SeededGenerator(seed: 1)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            let faceprint = rng.faceprint(16)
            let uuid = try sdk.enrollFaceprint(faceprint, identity: "alice")
            let before = ProcessConnection.connection
            #expect(before != nil)

            try sdk.createDatabaseConnection("")
            let after = ProcessConnection.connection
            #expect(after != nil && after !== before, "a new connection replaces the old one")

            // The collection was unloaded by the new connection...
            expectError(.collectionNotLoaded) { try sdk.enrollFaceprint(faceprint, identity: "bob") }
            expectError(.collectionNotLoaded) { try sdk.identifyTopCandidate(faceprint) }
            expectError(.collectionNotLoaded) { try sdk.identifyTopCandidate(faceprint, collectionName: "people") }
            // ...but the memory database still holds it, unchanged.
            #expect(try sdk.getCollectionNames() == ["people"])
            #expect(try sdk.getCollectionMetadata("people").numFaceprints == 1)
            try sdk.loadCollection("people")
            #expect(try sdk.identifyTopCandidate(faceprint)?.uuid == uuid)
        }

        @Test(arguments: [DatabaseManagementSystem.postgresql])
        func unsupportedBackendLeavesPreviousConnection(dbms: DatabaseManagementSystem) throws {
            var rng = SeededGenerator(seed: 2)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            let faceprint = rng.faceprint(16)
            let uuid = try sdk.enrollFaceprint(faceprint, identity: "alice")
            let before = ProcessConnection.connection

            var options = ConfigurationOptions()
            options.dbms = dbms
            let other = SDK(options: options)
            // With the PostgreSQL backend compiled in and enabled, a server that is not there
            // fails the same way: the previous connection stays.
            let connectionString = dbms == .postgresql ? "hostaddr=127.0.0.1 port=1 dbname=lineup connect_timeout=2" : "/tmp/lineup-test-store"
            let expected: ErrorCode = BackendRegistry.postgreSQL == nil ? .featureNotSupported : .databaseConnectionError
            expectError(expected) { try other.createDatabaseConnection(connectionString) }

            #expect(ProcessConnection.connection === before, "the previous connection stays in place")
            // Still loaded, through both instances.
            #expect(try sdk.identifyTopCandidate(faceprint)?.uuid == uuid)
            #expect(try other.identifyTopCandidate(faceprint)?.uuid == uuid)
            #expect(try other.getCollectionNames() == ["people"])
        }

        @Test func failedConnectionBeforeAnyConnectionConnectsNothing() {
            ProcessConnection.resetForTesting()
            var options = ConfigurationOptions()
            options.dbms = .file
            let sdk = SDK(options: options)
            expectError(.databaseConnectionError) { try sdk.createDatabaseConnection("/nonexistent-lineup-parent/store") }
            #expect(ProcessConnection.connection == nil)
            expectError(.databaseNotConnected) { try sdk.getCollectionNames() }
        }

        @Test func instancesShareCollectionsAndEnrollments() throws {
            var rng = SeededGenerator(seed: 3)
            let first = try freshSDK()
            try first.createLoadCollection("people")
            var enrolled: [(Faceprint, String)] = []
            for index in 0..<10 {
                let faceprint = rng.faceprint(24)
                enrolled.append((faceprint, try first.enrollFaceprint(faceprint, identity: "person-\(index)")))
            }

            // A second instance, never connected itself, sees the same loaded collection.
            let second = SDK(options: memoryOptions())
            for (index, (faceprint, uuid)) in enrolled.enumerated() {
                let candidate = try #require(try second.identifyTopCandidate(faceprint))
                #expect(candidate.uuid == uuid)
                #expect(candidate.identity == "person-\(index)")
            }
            // Enrollment through the second is visible through the first.
            let extra = rng.faceprint(24)
            let extraUUID = try second.enrollFaceprint(extra, identity: "extra")
            #expect(try first.identifyTopCandidate(extra)?.uuid == extraUUID)
            #expect(try first.getCollectionMetadata("people").numFaceprints == 11)

            // Even an instance configured for .file uses the process's connection once one exists.
            var fileOptions = ConfigurationOptions()
            fileOptions.dbms = .file
            let third = SDK(options: fileOptions)
            #expect(try third.identifyTopCandidate(extra)?.uuid == extraUUID)

            // Loading through one instance loads for all; unloading by reconnecting unloads for all.
            try second.createCollection("other")
            try second.loadCollection("other")
            expectError(.noCollectionSpecified) { try first.identifyTopCandidate(extra) }
            try third.removeByUUID(extraUUID, collectionName: "people")
            #expect(try first.getCollectionMetadata("people").numFaceprints == 10)
        }
    }
}
