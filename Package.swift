// swift-tools-version:6.1
import Foundation
import PackageDescription

// Every target of ours shares these settings (as swift-log does): Swift 6 mode comes from the tools
// version; the upcoming features keep imports honest and existentials explicit. tools/test sets
// QSM_WERROR=1 so CI turns every warning in our code (never in dependencies) into an error.
var sharedSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]
if ProcessInfo.processInfo.environment["QSM_WERROR"] == "1" {
    sharedSettings.append(.unsafeFlags(["-warnings-as-errors"]))
}

let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let cryptoExtras = Target.Dependency.product(name: "CryptoExtras", package: "swift-crypto")
let protobuf = Target.Dependency.product(name: "SwiftProtobuf", package: "swift-protobuf")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let unixSignals = Target.Dependency.product(name: "UnixSignals", package: "swift-service-lifecycle")
let nioEmbedded = Target.Dependency.product(name: "NIOEmbedded", package: "swift-nio")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let hummingbirdTLS = Target.Dependency.product(name: "HummingbirdTLS", package: "hummingbird")
let hummingbirdTesting = Target.Dependency.product(name: "HummingbirdTesting", package: "hummingbird")
let mustache = Target.Dependency.product(name: "Mustache", package: "swift-mustache")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
let httpTypes = Target.Dependency.product(name: "HTTPTypes", package: "swift-http-types")
let postgresNIO = Target.Dependency.product(name: "PostgresNIO", package: "postgres-nio")

let package = Package(
    name: "qsm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "qsmd", targets: ["qsmd"]),
        .executable(name: "qsm", targets: ["qsm"]),
        .executable(name: "qsm-web", targets: ["qsm-web"]),
        .library(name: "QSMClient", targets: ["QSMClient"]),
        .library(name: "EventLog", targets: ["EventLog"]),
        .library(name: "QSMEvents", targets: ["QSMEvents"]),
        .library(name: "QKD", targets: ["QKD"]),
        .library(name: "QSMCrypto", targets: ["QSMCrypto"]),
        .library(name: "Broker", targets: ["Broker"]),
        .library(name: "Varlink", targets: ["Varlink"]),
        .library(name: "QSMDaemon", targets: ["QSMDaemon"]),
        .library(name: "QRCode", targets: ["QRCode"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // System libraries: module.modulemap + shim.h, installed by tools/run and tools/test.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"]), .brew(["lmdb"])]),
        .systemLibrary(
            name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]),
        .systemLibrary(
            name: "CQRencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"]), .brew(["qrencode"])]),
        // QR codes (libqrencode) drawn for a terminal and as SVG: the second factor's enrolment.
        .target(name: "QRCode", dependencies: ["CQRencode"]),

        // The durable, append-only, hash-chained log. Knows records, not what the events mean.
        .target(name: "EventLog", dependencies: ["CLMDB", crypto, protobuf]),
        // The same log in a PostgreSQL database (issue 20): the records and chain of EventLog, behind its LogStore seam.
        .target(name: "EventLogPostgres", dependencies: ["EventLog", postgresNIO, logging, nioCore, nioPosix]),
        // The event catalogue: generated protobuf messages from Schemas/ plus stable type ids and names.
        .target(name: "QSMEvents", dependencies: ["EventLog", protobuf]),
        // BB84 simulation and post-processing: pure, no I/O.
        // Carry-less (GF(2)) polynomial multiplication for Toeplitz hashing: Karatsuba over PCLMULQDQ.
        .target(name: "CCarryless"),
        .target(name: "QKD", dependencies: ["CCarryless"]),
        // Passwords, tokens, key custody and message sealing on libsodium and swift-crypto.
        .target(name: "QSMCrypto", dependencies: ["CSodium", crypto, cryptoExtras]),
        // The broker: deciders, projections, intrusion detection; runs in-process, the socket comes later.
        .target(name: "Broker", dependencies: ["EventLog", "QSMEvents", "QKD", "QSMCrypto", "CSodium", crypto, protobuf, logging, metrics]),
        // Varlink over Unix sockets on SwiftNIO: framing, dispatch, introspection. Knows nothing of qsm.
        .target(name: "Varlink", dependencies: [nioCore, nioPosix, logging]),
        // Temporary directories, seeded randomness and helpers shared by tests and benchmarks.
        .target(name: "QSMTesting", dependencies: ["EventLog", "QSMEvents", protobuf]),
        // Offline forensics on a read-only log: canonical JSON export, indexed queries, timelines.
        .target(name: "Forensics", dependencies: ["EventLog", "QSMEvents", protobuf]),

        // qsmd's Varlink interfaces, settings and service, as a library so fuzzers and tests can drive them.
        .target(
            name: "QSMDaemon",
            dependencies: [
                "EventLog", "QSMEvents", "Broker", "Forensics", "Varlink", protobuf, argumentParser, logging, serviceLifecycle, metrics,
                prometheus, nioCore, nioPosix, nioHTTP1,
            ]),
        .executableTarget(
            name: "qsmd",
            dependencies: [
                "QSMDaemon", "EventLog", "QSMEvents", "Broker", "Varlink", protobuf, argumentParser, logging,
                serviceLifecycle, unixSignals,
            ]),
        .executableTarget(
            name: "qsm",
            dependencies: [
                "EventLog", "EventLogPostgres", "QSMEvents", "QSMClient", "Forensics", "Broker", "DashboardPage", "QRCode",
                argumentParser,
            ]),
        // The typed client of io.qsm.Broker and io.qsm.Admin: Codable calls, typed errors, streams, on SwiftNIO.
        .target(name: "QSMClient", dependencies: [nioCore, nioPosix]),
        // The dashboard's counters and charts as HTML: one renderer for `qsm dashboard --html` and qsm-web.
        .target(name: "DashboardPage", dependencies: ["QSMClient"]),
        // The web face: routes, templates, sessions and CSRF on Hummingbird, calling qsmd's gateway socket.
        .target(
            name: "QSMWeb",
            dependencies: [
                "QSMClient", "DashboardPage", "QRCode", hummingbird, hummingbirdTLS, httpTypes, mustache, logging, nioCore,
                serviceLifecycle,
            ]),
        .executableTarget(
            name: "qsm-web",
            dependencies: [
                "QSMWeb", hummingbird, .product(name: "HummingbirdCore", package: "hummingbird"), hummingbirdTLS, nioSSL, argumentParser, logging,
                serviceLifecycle,
            ]),
        // Benchmarks behind tools/bench; built in release mode there.
        .executableTarget(
            name: "qsm-bench",
            dependencies: [
                "EventLog", "EventLogPostgres", "QSMEvents", "QSMTesting", "QKD", "QSMCrypto", "Broker", "Forensics", "QSMClient",
            ]),
        // A log appender for crash and concurrent-reader tests: prints each acknowledged position.
        .executableTarget(name: "qsm-logload", dependencies: ["EventLog", "QSMEvents", "QSMTesting"]),
        // Fuzzing (tools/fuzz): the entry functions in a library, so FuzzTests replays corpora through them; each
        // executable is a libFuzzer target when built with -DQSM_LIBFUZZER, a replayer of input files otherwise.
        .target(
            name: "FuzzTargets",
            dependencies: ["Varlink", "QSMDaemon", "Broker", "EventLog", "QSMEvents", "QSMTesting", nioCore, nioEmbedded, protobuf]),
        .executableTarget(name: "fuzz-varlink-frame", dependencies: ["FuzzTargets"], path: "Sources/Fuzz/VarlinkFrame"),
        .executableTarget(name: "fuzz-varlink-broker", dependencies: ["FuzzTargets"], path: "Sources/Fuzz/VarlinkBroker"),
        .executableTarget(name: "fuzz-event-record", dependencies: ["FuzzTargets"], path: "Sources/Fuzz/EventRecord"),
        .executableTarget(name: "fuzz-ids-rules", dependencies: ["FuzzTargets"], path: "Sources/Fuzz/IDSRules"),

        .testTarget(
            name: "EventLogTests",
            dependencies: ["EventLog", "EventLogPostgres", "QSMEvents", "QSMTesting", "CLMDB", protobuf, "qsm-logload"]),
        .testTarget(name: "BrokerTests", dependencies: ["Broker", "EventLog", "QSMEvents", "QSMTesting", "QSMCrypto", crypto, protobuf]),
        // qsmd and qsm as built binaries, over a real socket, as a user would type.
        .testTarget(
            name: "SocketTests",
            dependencies: [
                "qsmd", "qsm", "QSMTesting", "EventLog", "QSMEvents", "QSMCrypto", "Broker", "QSMDaemon", "Forensics",
                "Varlink", "QRCode", "QSMClient",
            ]),
        // Export, queries, timelines and the qsm binary's bad-input exits, against naive full scans.
        .testTarget(
            name: "ForensicsTests",
            dependencies: ["Forensics", "Broker", "EventLog", "QSMEvents", "QSMTesting", protobuf, "qsm", "qsm-logload"]),
        // qsm-web's routes through HummingbirdTesting against a real qsmd on its gateway socket.
        .testTarget(
            name: "QSMWebTests",
            dependencies: [
                "QSMWeb", "QSMClient", "QSMCrypto", "QSMTesting", "qsmd", "qsm-web", hummingbird, hummingbirdTesting, httpTypes,
                nioCore,
            ]),
        .testTarget(name: "VarlinkTests", dependencies: ["Varlink", nioCore, nioPosix]),
        // Replays tools/fuzz.d/corpus and tools/fuzz.d/regressions through the fuzz entry functions.
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets"]),
        .testTarget(name: "QKDTests", dependencies: ["QKD", "QSMTesting"]),
        .testTarget(name: "QSMCryptoTests", dependencies: ["QSMCrypto", "CSodium", crypto, "QSMTesting", "EventLog"]),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + sharedSettings
}
