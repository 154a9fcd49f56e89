// Connects with `.postgresql` to the server in LINEUP_TEST_POSTGRES (scripts/with-postgres),
// enrolls two Faceprints in a fresh collection and identifies them. Exits 1 on any wrong
// answer, 2 without a server.
import Foundation
import Lineup

guard let conninfo = ProcessInfo.processInfo.environment["LINEUP_TEST_POSTGRES"] else {
    FileHandle.standardError.write(Data("PackageConsumer: LINEUP_TEST_POSTGRES is not set (run under scripts/with-postgres)\n".utf8))
    exit(2)
}

var failures = 0
@MainActor func check(_ condition: Bool, _ what: String) {
    if !condition {
        failures += 1
        FileHandle.standardError.write(Data("PackageConsumer: FAILED: \(what)\n".utf8))
    }
}

/// A 64-d vector with one strong component: each probe is closest to the Faceprint of its peak.
func vector(peak: Int) -> [Float] {
    (0..<64).map { index in index == peak ? 1 : 0.05 * Float((index * 7 + peak) % 5) }
}

do {
    var options = ConfigurationOptions()
    options.dbms = .postgresql
    let sdk = SDK(options: options)
    try sdk.createDatabaseConnection(conninfo)

    let collection = "package-consumer"
    if try sdk.getCollectionNames().contains(collection) { try sdk.deleteCollection(collection) }
    try sdk.createLoadCollection(collection)

    let alice = try sdk.enrollFaceprint(Faceprint(featureVector: vector(peak: 3)), identity: "alice",
                                        collectionName: collection)
    let bob = try sdk.enrollFaceprint(Faceprint(featureVector: vector(peak: 40)), identity: "bob",
                                      collectionName: collection)
    check(alice != bob, "two enrollments got two UUIDs")

    let first = try sdk.identifyTopCandidate(Faceprint(featureVector: vector(peak: 3)), collectionName: collection)
    check(first?.identity == "alice" && first?.uuid == alice, "alice's probe finds alice (got \(String(describing: first?.identity)))")
    let second = try sdk.identifyTopCandidate(Faceprint(featureVector: vector(peak: 40)), collectionName: collection)
    check(second?.identity == "bob" && second?.uuid == bob, "bob's probe finds bob (got \(String(describing: second?.identity)))")
    let both = try sdk.identifyTopCandidates(Faceprint(featureVector: vector(peak: 3)), numCandidates: 5,
                                             threshold: -1, collectionName: collection)
    check(both.map(\.identity) == ["alice", "bob"], "top candidates are alice then bob (got \(both.map(\.identity)))")
    let stranger = try sdk.identifyTopCandidate(Faceprint(featureVector: vector(peak: 20)), threshold: 0.9,
                                                collectionName: collection)
    check(stranger == nil, "a stranger matches no one at threshold 0.9")

    try sdk.deleteCollection(collection)
} catch {
    failures += 1
    FileHandle.standardError.write(Data("PackageConsumer: FAILED: \(error)\n".utf8))
}

if failures == 0 {
    print("PackageConsumer: OK: .postgresql through `import Lineup` alone (enroll 2, identify 4)")
} else {
    print("PackageConsumer: \(failures) check(s) FAILED")
    exit(1)
}
