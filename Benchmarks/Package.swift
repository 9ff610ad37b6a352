// swift-tools-version: 6.1
// Benchmarks of the TraceClient hot path (package-benchmark). A separate
// package so services depending on TraceClient never resolve the benchmark
// tooling. Run: scripts/benchmark (docs/performance.md).
import Foundation
import PackageDescription

// A path dependency is identified by its directory's name, whatever the
// clone is called: derive it rather than assume "traced".
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let rootIdentity = root.lastPathComponent.lowercased()

let package = Package(
    name: "traced-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // What the benchmark targets share (metrics, the measuring loop,
        // in-process tracing setup).
        .target(
            name: "BenchmarkSupport",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TraceClient", package: rootIdentity),
            ],
            path: "Sources/BenchmarkSupport"
        ),
        .executableTarget(
            name: "TraceClientBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TraceClient", package: rootIdentity),
            ],
            path: "Benchmarks/TraceClientBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // swift-distributed-tracing spans: TracedTracer against NoOpTracer.
        .executableTarget(
            name: "TracingBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TraceClient", package: rootIdentity),
                .product(name: "TracedTracing", package: rootIdentity),
                .product(name: "TracedLogging", package: rootIdentity),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/TracingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
