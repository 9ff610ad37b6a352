// One HTTP request's worth of tracing calls, as Hummingbird's
// TracingMiddleware and the example's GET /orders/{id} make them: a server
// span with the middleware's attributes, a log line, two child spans, the
// rename to the route and the response attributes. No HTTP, no work: what
// the tracing layers alone cost a request (docs/performance.md, "An HTTP
// service").
import Logging
import Tracing

/// A handler that formats nothing and writes nothing: the service's own
/// output is the same with or without traced, so it is left out.
struct DiscardingLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {}
}

func request(_ tracer: some Tracer, _ logger: Logger) {
    var logger = logger
    logger[metadataKey: "hb.request.id"] = "4f2a"
    let span = tracer.startSpan("HTTP GET route not found", context: .topLevel, ofKind: .server)
    span.updateAttributes { attributes in
        attributes["http.request.method"] = "GET"
        attributes["url.path"] = "/orders/42"
        attributes["net.sock.peer.port"] = 51234
        attributes["net.sock.peer.addr"] = "127.0.0.1"
    }
    ServiceContext.withValue(span.context) {
        logger.info("loading order", metadata: ["order": "42"])
        tracer.withSpan("loadOrder", ofKind: .client) { _ in }
        tracer.withSpan("fingerprintOrder") { _ in }
        span.operationName = "/orders/{id}"
        span.updateAttributes { attributes in
            attributes["http.route"] = "/orders/{id}"
            attributes["http.response.status_code"] = 200
            attributes["http.response.body.size"] = 96
        }
    }
    span.end()
}
