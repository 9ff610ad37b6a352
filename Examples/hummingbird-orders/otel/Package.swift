// swift-tools-version: 6.2
// The orders service over swift-otel instead of traced: OTel.bootstrap's
// OTelTracer, with its batch span processor and OTLP/HTTP exporter, sending
// to the same backend. The fourth variant of `../ab` (OTEL=1), the anchor
// traced's spans are measured against (docs/performance.md, "Spans against
// swift-otel"). A package of its own so that nothing else (CI, the example's
// tests) builds swift-otel and its dependencies; only its OTLP/HTTP trait.
import Foundation
import PackageDescription

// The root package's identity is its directory's name, whatever the clone is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
let rootIdentity = root.lastPathComponent.lowercased()

let strict: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "hummingbird-orders-otel",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/swift-otel/swift-otel", exact: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(path: "../../.."),
    ],
    targets: [
        .executableTarget(
            name: "hummingbird-orders-otel",
            dependencies: [
                .product(name: "OrdersApp", package: "hummingbird-orders"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // One span's cost under NoOpTracer, TracedTracer and OTelTracer
        // (`ab-spans` runs it; docs/performance.md).
        .executableTarget(
            name: "span-cost",
            dependencies: [
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "TraceClient", package: rootIdentity),
                .product(name: "TracedTracing", package: rootIdentity),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
    ]
)
