// swift-tools-version: 6.2
// traced: a system-wide tracing service for Linux. docs/design.md maps the targets below.
import PackageDescription

let strict: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "traced",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TraceClient", targets: ["TraceClient"]),
        // swift-distributed-tracing's Tracer and swift-log's LogHandler over TraceClient.
        .library(name: "TracedTracing", targets: ["TracedTracing"]),
        .library(name: "TracedLogging", targets: ["TracedLogging"]),
        .executable(name: "tracectl", targets: ["tracectl"]),
        .executable(name: "traced", targets: ["traced"]),
        .executable(name: "cafe", targets: ["cafe"]),
        .executable(name: "traced-load", targets: ["traced-load"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Latency distributions of the trace tool (docs/design.md, "Reading traces").
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // ServiceContext, for TraceClient only: a TraceTask carried in
        // ServiceContext.current can be the current task (docs/design.md, "Tasks
        // from ServiceContext").
        .package(url: "https://github.com/apple/swift-service-context", from: "1.5.1"),
        // The ecosystem layer (docs/design.md, "Existing services"): spans and log lines into traces.
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The shared-memory ABI header and the GNU-only calls Swift's Glibc cannot see.
        .target(
            name: "CTraceABI",
            cSettings: [.treatAllWarnings(as: .error)]
        ),
        // libsystemd's daemon API (Debian: libsystemd-dev).
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // liblz4's frame API (Debian: liblz4-dev).
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        // zlib (Debian: zlib1g-dev): pprof profiles are gzip-compressed protobuf.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Syscalls wrapped once: typed errors, EINTR policy, descriptors, mappings, sockets.
        .target(
            name: "TraceSystem",
            dependencies: ["CTraceABI"],
            swiftSettings: strict
        ),
        // Event encoding, the LZ4-framed file format, its writer and its reader.
        .target(
            name: "TraceFormat",
            dependencies: ["CLZ4", "CZlib", "CTraceABI", "TraceSystem"],
            swiftSettings: strict
        ),
        // The wire protocol of the producer and control sockets.
        .target(
            name: "TraceProtocol",
            dependencies: ["TraceFormat", "TraceSystem"],
            swiftSettings: strict
        ),
        // The consumer side of the shared-memory ring buffer (daemon and in-process writer).
        .target(
            name: "TraceRing",
            dependencies: ["CTraceABI", "TraceSystem", "TraceFormat"],
            swiftSettings: strict
        ),
        // What a trace means: a resolved in-memory model, region and task matching.
        .target(
            name: "TraceAnalysis",
            dependencies: [
                "CTraceABI", "TraceFormat", "TraceSystem",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strict
        ),
        // Traces as text: dump lines (two passes, names first), summaries, report tables.
        .target(
            name: "TraceText",
            dependencies: ["CTraceABI", "TraceFormat", "TraceAnalysis", "TraceSystem"],
            swiftSettings: strict
        ),
        // Traces for other viewers: Perfetto's protobuf format and Chrome's JSON
        // trace events, written as the analysis pass streams the trace.
        .target(
            name: "TraceExport",
            dependencies: ["TraceAnalysis", "TraceFormat", "TraceOTLP", "TraceSystem", "CZlib"],
            swiftSettings: strict
        ),
        // Kernel events, system-wide: scheduler switches and wakeups, process
        // lifecycle, from per-CPU perf rings (docs/design.md, "Kernel events: the collector").
        .target(
            name: "TraceOTLP",
            dependencies: ["CCurl", "CTraceABI", "TraceFormat", "TraceSystem"],
            swiftSettings: strict
        ),
        .target(
            name: "TraceKernel",
            dependencies: ["CTraceABI", "TraceSystem"],
            swiftSettings: strict
        ),
        // The daemon: sockets, registration, sessions, draining into rotating files.
        .target(
            name: "TraceDaemon",
            dependencies: ["CTraceABI", "CSystemd", "TraceSystem", "TraceFormat", "TraceRing", "TraceProtocol", "TraceKernel", "TraceOTLP"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "traced",
            dependencies: [
                "TraceDaemon", "TraceProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // The annotation API linked into services.
        .target(
            name: "TraceClient",
            dependencies: [
                "CTraceABI", "TraceSystem", "TraceFormat", "TraceRing", "TraceProtocol",
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ],
            swiftSettings: strict
        ),
        // swift-distributed-tracing's Tracer: spans become tasks, regions and subtasks;
        // W3C trace context in and out.
        .target(
            name: "TracedTracing",
            dependencies: [
                "TraceClient", "TraceFormat", "CTraceABI",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strict
        ),
        // swift-log's LogHandler (log lines into the trace) and metadata provider (trace ids).
        .target(
            name: "TracedLogging",
            dependencies: [
                "TraceClient", "TracedTracing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "tracectl",
            dependencies: [
                "TraceFormat",
                "TraceAnalysis",
                "TraceExport",
                "TraceOTLP",
                "TraceProtocol",
                "TraceSystem",
                "TraceText",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // An example service using tasks, regions, logs and counters (README).
        .executableTarget(
            name: "cafe",
            dependencies: ["TraceClient"],
            swiftSettings: strict
        ),
        // The daemon's end-to-end load generator (scripts/load-benchmark).
        .executableTarget(
            name: "traced-load",
            dependencies: [
                "TraceClient", "TraceSystem", "CTraceABI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Fuzz targets for every decoder of untrusted bytes (docs/fuzzing.md):
        // built with libFuzzer by scripts/fuzz, and as an ordinary program that
        // replays the seed corpus and saved crash inputs (FuzzReplayTests).
        .executableTarget(
            name: "traced-fuzz",
            dependencies: [
                "CTraceABI", "TraceSystem", "TraceFormat", "TraceProtocol", "TraceRing", "TraceAnalysis", "TraceText", "TraceExport",
                "TraceKernel",
            ],
            swiftSettings: strict
        ),
        // A traced process for tests that need one: emits scripted workloads.
        .executableTarget(
            name: "TraceFixture",
            dependencies: [
                "TraceClient", "TraceRing", "TraceSystem", "TraceFormat", "CTraceABI", "TracedTracing", "TracedLogging",
                .product(name: "ServiceContextModule", package: "swift-service-context"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Fixtures/TraceFixture",
            swiftSettings: strict
        ),
        .target(
            name: "TestSupport",
            dependencies: ["CTraceABI", "TraceFormat", "TraceAnalysis", "TraceSystem"],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "TraceRingTests",
            dependencies: ["TraceRing", "TraceFormat", "TraceSystem", "CTraceABI", "TestSupport"],
            swiftSettings: strict
        ),
        // Spans for OTLP: the assembler's rules and limits, in process.
        .testTarget(
            name: "TraceOTLPTests",
            dependencies: ["TraceOTLP", "TraceFormat"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TraceFormatTests",
            dependencies: ["TraceFormat", "TraceRing", "TraceSystem", "CTraceABI", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TraceClientTests",
            dependencies: [
                "TraceClient", "TraceFormat", "TraceRing", "TraceAnalysis", "TraceSystem", "CTraceABI", "TraceFixture",
                "TestSupport", "tracectl",
            ],
            swiftSettings: strict
        ),
        // The daemon as a process: sessions, faults, limits, hostile peers, systemd.
        .testTarget(
            name: "TracedTests",
            dependencies: [
                "TraceFormat", "TraceRing", "TraceSystem", "TraceProtocol", "CTraceABI",
                "TestSupport", "TraceFixture", "traced", "tracectl", "cafe",
            ],
            swiftSettings: strict
        ),
        // The walk, span matching and summaries, in process, on hand-written traces.
        .testTarget(
            name: "TraceAnalysisTests",
            dependencies: ["TraceAnalysis", "TraceFormat", "TestSupport"],
            swiftSettings: strict
        ),
        // Traces as text, in process: dump lines, the HTML page's parts.
        .testTarget(
            name: "TraceTextTests",
            dependencies: ["TraceText", "TraceFormat", "TestSupport", "tracectl"],
            swiftSettings: strict
        ),
        // tracectl as a process on trace files: reports, exports read back by
        // independent readers, the HTML page in Chromium, damaged files, errors.
        .testTarget(
            name: "TracectlTests",
            dependencies: [
                "TraceFormat", "TraceAnalysis", "TraceSystem", "TraceProtocol", "TraceText", "CTraceABI",
                "TestSupport", "TraceFixture", "traced", "tracectl", "cafe",
            ],
            swiftSettings: strict
        ),
        // The Debian package: its contents, and installed under a real systemd
        // (scripts/test's steps `package` and `systemd`).
        .testTarget(
            name: "PackagingTests",
            dependencies: ["CTraceABI", "TraceFormat", "TraceProtocol", "TestSupport", "cafe"],
            swiftSettings: strict
        ),
        // The Hummingbird example's server (Examples/hummingbird-orders), traced
        // (scripts/test's step `example` builds it).
        .testTarget(
            name: "ExampleTests",
            dependencies: ["TestSupport", "traced", "tracectl"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TracedTracingTests",
            dependencies: [
                "TracedTracing", "TracedLogging", "TraceClient", "TraceAnalysis", "TraceSystem", "TestSupport",
                "TraceFixture", "tracectl",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The collector on the running kernel (needs root or CAP_PERFMON),
        // and its ring and decoder on hand-written records.
        .testTarget(
            name: "TraceKernelTests",
            dependencies: ["TraceKernel", "TraceSystem", "CTraceABI", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "TraceExportTests",
            dependencies: ["TraceExport", "TraceAnalysis", "TraceFormat", "TraceSystem", "CTraceABI", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FuzzReplayTests",
            dependencies: ["TestSupport", "traced-fuzz"],
            path: "Tests/FuzzReplayTests",
            swiftSettings: strict
        ),
    ]
)
