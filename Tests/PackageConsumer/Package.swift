// swift-tools-version: 6.1
//
// A package that uses Lineup the way any other package would: it depends on the library
// product `Lineup` with the trait PostgreSQL and imports Lineup only. `make test-postgresql`
// builds it (scratch path Tests/PackageConsumer/.build) and runs it under scripts/with-postgres:
// `.postgresql` has to work with no call into LineupPostgreSQL.
import PackageDescription

let package = Package(
    name: "PackageConsumer",
    dependencies: [
        .package(name: "Lineup", path: "../..", traits: ["PostgreSQL"]),
    ],
    targets: [
        .executableTarget(
            name: "PackageConsumer",
            dependencies: [.product(name: "Lineup", package: "Lineup")],
            path: "Sources/PackageConsumer"
        ),
    ]
)
