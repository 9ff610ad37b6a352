// swift-tools-version: 6.2
// An example service traced end to end: a Hummingbird 2 server whose spans
// (Hummingbird's TracingMiddleware and the handlers' own) become traced tasks
// and regions, and whose swift-log messages are recorded into the trace.
// A separate package so the root `swift build` never builds Hummingbird.
// Run: Examples/hummingbird-orders/run (README, docs/performance.md).
import Foundation
import PackageDescription

// A path dependency is identified by its directory's name, whatever the
// clone is called: derive it rather than assume "traced".
let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let rootIdentity = root.lastPathComponent.lowercased()

let strict: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "hummingbird-orders",
    platforms: [.macOS(.v15)],
    products: [
        // For the swift-otel variant (otel/, a package of its own).
        .library(name: "OrdersApp", targets: ["OrdersApp"]),
        .executable(name: "hummingbird-orders", targets: ["hummingbird-orders"]),
        .executable(name: "hummingbird-orders-untraced", targets: ["hummingbird-orders-untraced"]),
    ],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // The service itself: routes, spans, logs. It names only
        // swift-distributed-tracing and swift-log, never traced: which tracer
        // and log handler run is the executable's choice.
        .target(
            name: "OrdersApp",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The service with traced linked in: TracedTracer and TracedLogging bootstrapped.
        .executableTarget(
            name: "hummingbird-orders",
            dependencies: [
                "OrdersApp",
                .product(name: "TracedTracing", package: rootIdentity),
                .product(name: "TracedLogging", package: rootIdentity),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The same service with traced not linked at all (no-op tracer): the
        // baseline of the throughput A/B (docs/performance.md).
        .executableTarget(
            name: "hummingbird-orders-untraced",
            dependencies: [
                "OrdersApp",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
    ]
)
