import Logging
import TraceClient
import TracedLogging
import TracedTracing
import Tracing

/// swift-distributed-tracing and swift-log over TraceClient, as a service
/// bootstraps them: known spans, traced through TRACED_FILE. Prints the
/// injected `traceparent`, the ids of the order span and every forwarded
/// log line (`forwarded.LEVEL=...`).
enum SpanScenario {
    struct Declined: Error {}

    static func run(_ options: Fixture.Options) async {
        InstrumentationSystem.bootstrap(TracedTracer())
        LoggingSystem.bootstrap(TraceLogHandler.forwarding(to: { label, provider in
            PrintingLogHandler(label: label, metadataProvider: provider)
        }), metadataProvider: .traced)
        let logger = Logger(label: "fixture.orders")

        var incoming = ServiceContext.topLevel
        if let header = options.optionalString("traceparent") {
            let headers = ["traceparent": header, "tracestate": "vendor=1"]
            InstrumentationSystem.instrument.extract(headers, into: &incoming, using: DictionaryExtractor())
        }
        let earlier = withSpan("prepare", context: .topLevel) { span in span.context }
        await withSpan("order", context: incoming, ofKind: .server) { span in
            span.attributes["order.id"] = 42
            span.attributes["order.note"] = String(repeating: "x", count: 1000)
            logger.info("taking order", metadata: ["table": "7"])
            withSpan("grind") { grind in
                // Renamed, then an event of it while a span nested in it is
                // open: readers find it by its new name.
                grind.operationName = "grindFine"
                withSpan("tamp") { _ in grind.addEvent(SpanEvent(name: "pressed")) }
                grind.attributes["grams"] = 18
            }
            span.addEvent(SpanEvent(name: "paid", attributes: ["amount": 3.5]))
            async let milk: Void = withSpan("steamMilk") { _ in await Task.yield() }
            async let coffee: Void = withSpan("extractCoffee") { _ in await Task.yield() }
            _ = await (milk, coffee)
            span.addLink(SpanLink(context: earlier, attributes: ["why": "batch"]))
            do { try withSpan("pay") { _ in throw Declined() } } catch {}
            var headers: [String: String] = [:]
            InstrumentationSystem.instrument.inject(ServiceContext.current ?? .topLevel, into: &headers, using: DictionaryInjector())
            print("traceparent=\(headers["traceparent"] ?? "")")
            print("tracestate=\(headers["tracestate"] ?? "")")
            print("trace_id=\(span.context.traceParent?.traceID ?? "")")
            print("prepare_span=\(earlier.traceParent?.spanIDString ?? "")")
        }
    }
}

struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

/// Prints what TraceLogHandler forwards, with the metadata it gets.
struct PrintingLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, metadataProvider: Logger.MetadataProvider?) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        all.merge(metadataProvider?.get() ?? [:]) { $1 }
        all.merge(event.metadata ?? [:]) { $1 }
        let pairs = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        print("forwarded.\(event.level)=\(label) \(event.message) \(pairs)")
    }
}
