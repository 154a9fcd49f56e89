import Dispatch
import Testing
@testable import Lineup

extension SDKTests {
    /// TheContract.md, "Thread safety": every method may be called from any number of threads at once.
    @Suite struct Concurrency {
        static let workers = 8
        static let perWorker = 40
        static let dimension = 32

        @Test func enrollIdentifyAndRemoveAtOnce() throws {
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            try sdk.createCollection("unloaded")

            // Each worker's data, made up front and deterministically.
            var rng = SeededGenerator(seed: 60)
            let data: [[[Float]]] = (0..<Self.workers).map { _ in
                (0..<Self.perWorker).map { _ in rng.vector(Self.dimension) }
            }
            let strangers: [[Float]] = (0..<20).map { _ in rng.vector(Self.dimension) }

            let live = Locked<[String: String]>([:])           // UUID -> identity, expected to remain
            let removedUUIDs = Locked<Set<String>>([])
            let failures = Locked<[String]>([])
            let enrolledUUIDs = Locked<[Int: [String]]>([:])   // worker -> UUIDs in data order

            DispatchQueue.concurrentPerform(iterations: Self.workers) { worker in
                func fail(_ what: String) { failures.withLock { $0.append("worker \(worker): \(what)") } }
                var mine: [(uuid: String, identity: String)] = []
                do {
                    for (index, vector) in data[worker].enumerated() {
                        // Indices 0..<3 share one identity, removed below as a group.
                        let identity = index < 3 ? "w\(worker)-group" : "w\(worker)-\(index)"
                        let faceprint = Faceprint(featureVector: vector)
                        let uuid = try sdk.enrollFaceprint(faceprint, identity: identity)
                        mine.append((uuid, identity))
                        // Visible to this thread as soon as the call returns.
                        let top = try sdk.identifyTopCandidate(faceprint, threshold: 0.99)
                        if top?.uuid != uuid { fail("self-identification right after enrollment gave \(String(describing: top))") }
                        // Readers in between.
                        let candidates = try sdk.identifyTopCandidates(Faceprint(featureVector: strangers[index % strangers.count]),
                                                                       numCandidates: 5, threshold: -1)
                        if candidates.isEmpty || candidates.count > 5 { fail("top-5 returned \(candidates.count)") }
                        for (a, b) in zip(candidates, candidates.dropFirst()) where a.similarityMeasure < b.similarityMeasure {
                            fail("top-5 not sorted")
                        }
                        if index % 10 == 0 {
                            let metadata = try sdk.getCollectionMetadata("people")
                            if metadata.numFaceprints < 1 { fail("metadata saw \(metadata.numFaceprints)") }
                            _ = try sdk.getCollectionIdentities("people")
                            _ = try sdk.getCollectionNames()
                            let batch = try sdk.batchIdentifyTopCandidate(data[worker].prefix(index + 1).map { Faceprint(featureVector: $0) },
                                                                          threshold: 0.99)
                            if batch.map({ $0?.uuid }) != mine.map(\.uuid) { fail("batch self-identification") }
                        }
                    }
                    // Remove the group by identity, and every fourth of the rest by UUID.
                    let count = try sdk.removeByIdentity("w\(worker)-group")
                    if count != 3 { fail("removeByIdentity returned \(count)") }
                    var removedHere = Set(mine.prefix(3).map(\.uuid))
                    for entry in mine.dropFirst(3).enumerated() where entry.offset % 4 == 0 {
                        try sdk.removeByUUID(entry.element.uuid)
                        removedHere.insert(entry.element.uuid)
                        if try sdk.identifyTopCandidate(Faceprint(featureVector: data[worker][entry.offset + 3]), threshold: 0.99)?.uuid == entry.element.uuid {
                            fail("a removed Faceprint was still found")
                        }
                    }
                    let kept = mine.filter { !removedHere.contains($0.uuid) }
                    live.withLock { live in for entry in kept { live[entry.uuid] = entry.identity } }
                    let uuids = mine.map(\.uuid)
                    enrolledUUIDs.withLock { $0[worker] = uuids }
                    removedUUIDs.withLock { $0.formUnion(removedHere) }
                } catch {
                    fail("threw \(error)")
                }
            }

            #expect(failures.value.count == 0, "\(failures.value.prefix(10))")
            let expected = live.value
            let removed = removedUUIDs.value
            let perWorkerRemoved = 3 + (0..<(Self.perWorker - 3)).filter { $0 % 4 == 0 }.count
            #expect(removed.count == Self.workers * perWorkerRemoved)
            #expect(expected.count == Self.workers * (Self.perWorker - perWorkerRemoved))
            #expect(removed.isDisjoint(with: expected.keys))

            let metadata = try sdk.getCollectionMetadata("people")
            #expect(metadata.numFaceprints == expected.count)
            #expect(metadata.numIdentities == Set(expected.values).count)
            #expect(try sdk.getCollectionIdentities("people") == expected)
            #expect(try sdk.getCollectionMetadata("unloaded").numFaceprints == 0)

            // Every enrolled-not-removed Faceprint is found by self-identification; removed
            // ones are not.
            let uuidsByWorker = enrolledUUIDs.value
            var probes: [Faceprint] = []
            var wanted: [String?] = []
            for worker in 0..<Self.workers {
                let uuids = try #require(uuidsByWorker[worker])
                #expect(uuids.count == Self.perWorker)
                for (vector, uuid) in zip(data[worker], uuids) {
                    probes.append(Faceprint(featureVector: vector))
                    wanted.append(expected[uuid] == nil ? nil : uuid)
                }
            }
            for (probe, uuid) in zip(probes, wanted) {
                #expect(try sdk.identifyTopCandidate(probe, threshold: 0.99)?.uuid == uuid)
            }
            #expect(try sdk.batchIdentifyTopCandidate(probes, threshold: 0.99).map { $0?.uuid } == wanted)
        }

        @Test func racingRemovalsOfOneIdentitySucceedOnce() throws {
            var rng = SeededGenerator(seed: 61)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            for round in 0..<20 {
                for _ in 0..<5 { _ = try sdk.enrollFaceprint(rng.faceprint(8), identity: "target-\(round)") }
                let uuid = try sdk.enrollFaceprint(rng.faceprint(8), identity: "single-\(round)")
                let byIdentity = Locked<[Result<Int, LineupError>]>([])
                let byUUID = Locked<[LineupError?]>([])
                DispatchQueue.concurrentPerform(iterations: 8) { index in
                    if index % 2 == 0 {
                        let result = Result { try sdk.removeByIdentity("target-\(round)") }.mapError { $0 as! LineupError }
                        byIdentity.withLock { $0.append(result) }
                    } else {
                        let error = lineupError { try sdk.removeByUUID(uuid) }
                        byUUID.withLock { $0.append(error) }
                    }
                }
                let identityResults = byIdentity.value
                #expect(identityResults.compactMap { try? $0.get() } == [5], "exactly one removal gets all 5")
                #expect(identityResults.filter { (try? $0.get()) == nil }.allSatisfy {
                    if case .failure(let error) = $0 { error.code == .noRecordFound } else { false }
                })
                let uuidResults = byUUID.value
                #expect(uuidResults.filter { $0 == nil }.count == 1, "exactly one removal of the UUID succeeds")
                #expect(uuidResults.compactMap { $0 }.allSatisfy { $0.code == .noRecordFound })
            }
            let metadata = try sdk.getCollectionMetadata("people")
            #expect(metadata.numFaceprints == 0)
            #expect(metadata.numIdentities == 0)
        }

        @Test func concurrentCreateAndLoadOfOneName() throws {
            let sdk = try freshSDK()
            let failures = Locked<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 16) { index in
                do {
                    let other = SDK(options: memoryOptions(compression: index % 2 == 0 ? .none : .int8))
                    try other.createLoadCollection("shared")
                    _ = try other.enrollFaceprint(Faceprint(featureVector: [Float(index + 1), 1, 2]), identity: "i\(index)")
                } catch {
                    failures.withLock { $0.append("\(index): \(error)") }
                }
            }
            #expect(failures.value.count == 0, "\(failures.value.prefix(10))")
            #expect(try sdk.getCollectionNames() == ["shared"])
            let metadata = try sdk.getCollectionMetadata("shared")
            #expect(metadata.numFaceprints == 16, "no enrollment lost to a re-created collection")
            #expect(metadata.numIdentities == 16)
        }

        @Test func identifyingWhileEnrollingWithTaskGroups() async throws {
            var rng = SeededGenerator(seed: 62)
            let sdk = try freshSDK()
            try sdk.createLoadCollection("people")
            let seeded = (0..<50).map { _ in rng.vector(16) }
            var seededUUIDs: [String] = []
            for (index, vector) in seeded.enumerated() {
                seededUUIDs.append(try sdk.enrollFaceprint(Faceprint(featureVector: vector), identity: "s\(index)"))
            }
            let fresh = (0..<200).map { _ in rng.vector(16) }
            let expectedSeeded = seededUUIDs

            let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for index in stride(from: writer, to: fresh.count, by: 4) {
                            _ = try sdk.enrollFaceprint(Faceprint(featureVector: fresh[index]), identity: "f\(index)")
                        }
                        return 0
                    }
                }
                for reader in 0..<4 {
                    group.addTask {
                        var bad = 0
                        for round in 0..<25 {
                            let index = (reader * 25 + round) % seeded.count
                            // The seeded Faceprints are there throughout.
                            if try sdk.identifyTopCandidate(Faceprint(featureVector: seeded[index]), threshold: 0.99)?.uuid != expectedSeeded[index] {
                                bad += 1
                            }
                            let batch = try sdk.batchIdentifyTopCandidate(seeded.prefix(10).map { Faceprint(featureVector: $0) }, threshold: 0.99)
                            if batch.map({ $0?.uuid }) != expectedSeeded.prefix(10).map({ Optional($0) }) { bad += 1 }
                        }
                        return bad
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(mismatches == 0)
            #expect(try sdk.getCollectionMetadata("people").numFaceprints == 250)
            for (index, vector) in fresh.enumerated() {
                #expect(try sdk.identifyTopCandidate(Faceprint(featureVector: vector), threshold: 0.99)?.identity == "f\(index)")
            }
        }
    }
}
