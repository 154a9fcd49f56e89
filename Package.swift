// swift-tools-version: 6.1
//
// Lineup: an embedded storage engine and 1:N matcher for face-recognition templates.
//
// Targets, from the bottom up:
//   CLZ4           system library: liblz4 (identity blocks of segment files)
//   CCrypto        system library: OpenSSL's libcrypto (encrypted stores: AES-256-GCM, PBKDF2)
//   LineupKernels  C: similarity kernels (<op>_<type>_<isa>) behind one dispatch table; CRC32C
//   LineupBackendHooks  C: the hook through which a linked LineupPostgreSQL registers itself
//                  (trait PostgreSQL only)
//   Lineup         Swift, layered (arrows run one way): the SDK façade (API/) and the
//                  process-wide connection (Connection/) → the SQL-free storage protocol, its
//                  memory backend and the file-system layer (Storage/), the on-disk engine
//                  (OnDisk/: the store, its directory, journal writer, recovery, publishing,
//                  compaction, sharing, backup), the in-memory gallery (Engine/) → the on-disk
//                  format, pure encode/decode (Format/), the exact matcher (Matcher/),
//                  libcrypto calls (Crypto/), input files — .npy, strict JSON, streamed reads
//                  (Input/) → the shared vocabulary without I/O (Core/). Depends on swift-log
//                  (API only) for background failures
//   CLibPQ         system library: libpq (the PostgreSQL backend; trait PostgreSQL only)
//   LineupPostgreSQLHook  C: a constructor that stores LineupPostgreSQL's registration
//                  function in Lineup's hook before main (trait PostgreSQL only)
//   LineupPostgreSQL  Swift: the `.postgresql` backend over libpq; its code compiles only with
//                  the trait PostgreSQL. Part of the library product Lineup, so a program that
//                  depends on the product links it, and Lineup registers it through the hook
//                  the first time `.postgresql` is used: `import Lineup` is all a program needs
//   LineupServer   Swift: `lineup serve`, the HTTP server over the SDK (Hummingbird 2, its TLS,
//                  swift-metrics with a Prometheus exporter, swift-service-lifecycle for
//                  signals). Only the tool depends on it: a program that depends on the
//                  library product Lineup builds none of the server's dependencies
//   LineupCLI      the `lineup` command-line tool
//   CLineup        C: Bindings/C/include/lineup.h, the C interface, as a module for LineupC
//   LineupC        Swift, `@_cdecl` functions only: the C interface over the SDK façade, the
//                  dynamic library product LineupC (libLineupC.so, linked as -llineup through
//                  the liblineup.so link `make lib` makes); depends on Lineup only
//   LineupBench    `lineup-bench`, timed operations the Benchmarks/ harnesses run
import PackageDescription

let package = Package(
    name: "Lineup",
    products: [
        // LineupPostgreSQL is part of the product so that programs depending on it link the
        // backend when the trait PostgreSQL is on; without the trait it is an empty module.
        .library(name: "Lineup", targets: ["Lineup", "LineupPostgreSQL"]),
        .executable(name: "lineup", targets: ["LineupCLI"]),
        .executable(name: "lineup-bench", targets: ["LineupBench"]),
        // The C interface (Bindings/C/include/lineup.h) as a shared library.
        .library(name: "LineupC", type: .dynamic, targets: ["LineupC"]),
    ],
    traits: [
        // The PostgreSQL backend (`.postgresql`): links libpq. Off by default, so the default
        // build never needs libpq; `swift build --traits PostgreSQL` turns it on.
        .trait(name: "PostgreSQL"),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The library's one dependency: where background failures are reported (swift-log's
        // API only; the program that embeds Lineup chooses the handler).
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // The server's (LineupServer), built only for the tool.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLZ4",
            path: "Sources/CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        .systemLibrary(
            name: "CCrypto",
            path: "Sources/CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            path: "Sources/CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "LineupKernels",
            path: "Sources/LineupKernels"
        ),
        // The two C targets of the PostgreSQL hook compile their content only with the trait
        // (LINEUP_POSTGRESQL), and only the trait makes them dependencies.
        .target(
            name: "LineupBackendHooks",
            path: "Sources/LineupBackendHooks",
            cSettings: [.define("LINEUP_POSTGRESQL", .when(traits: ["PostgreSQL"]))]
        ),
        .target(
            name: "LineupPostgreSQLHook",
            dependencies: ["LineupBackendHooks"],
            path: "Sources/LineupPostgreSQLHook",
            cSettings: [.define("LINEUP_POSTGRESQL", .when(traits: ["PostgreSQL"]))]
        ),
        .target(
            name: "Lineup",
            dependencies: ["LineupKernels", "CLZ4", "CCrypto",
                           .product(name: "Logging", package: "swift-log"),
                           .target(name: "LineupBackendHooks", condition: .when(traits: ["PostgreSQL"]))],
            path: "Sources/Lineup"
        ),
        // Every source file of this target is inside `#if PostgreSQL`: without the trait it is
        // an empty module and nothing imports CLibPQ.
        .target(
            name: "LineupPostgreSQL",
            dependencies: ["Lineup",
                           .target(name: "CLibPQ", condition: .when(traits: ["PostgreSQL"])),
                           .target(name: "LineupPostgreSQLHook", condition: .when(traits: ["PostgreSQL"]))],
            path: "Sources/LineupPostgreSQL"
        ),
        .target(
            name: "LineupServer",
            dependencies: [
                "Lineup",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/LineupServer"
        ),
        .target(
            name: "CLineup",
            path: "Bindings/C",
            sources: ["lineup_abi.c"],
            publicHeadersPath: "include"
        ),
        .target(
            name: "LineupC",
            dependencies: ["Lineup", "CLineup"],
            path: "Sources/LineupC"
        ),
        .executableTarget(
            name: "LineupCLI",
            dependencies: [
                "Lineup",
                "LineupServer",
                .target(name: "LineupPostgreSQL", condition: .when(traits: ["PostgreSQL"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/LineupCLI"
        ),
        // Timed operations for the Python harnesses in Benchmarks/ (make bench).
        .executableTarget(
            name: "LineupBench",
            dependencies: ["Lineup", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/Sources/LineupBench"
        ),
        .testTarget(
            name: "LineupTests",
            dependencies: ["Lineup", "LineupKernels",
                           .target(name: "LineupPostgreSQL", condition: .when(traits: ["PostgreSQL"]))],
            path: "Tests/LineupTests"
        ),
    ]
)
