// swift-tools-version: 6.1
//
// Lineup's benchmark programs: built in release, run by the Python harnesses beside them
// (which time the reference implementations — SQLite, numpy, FAISS — on the same data in the
// same run and report ratios).
import PackageDescription

let package = Package(
    name: "LineupBenchmarks",
    dependencies: [
        .package(name: "Lineup", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "lineup-bench",
            dependencies: [.product(name: "Lineup", package: "Lineup")],
            path: "Sources/LineupBench"
        ),
    ]
)
