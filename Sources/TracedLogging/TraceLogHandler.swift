public import Logging
import TraceClient
import TracedTracing

/// swift-log's `LogHandler` that records each message into the trace and
/// hands it on to another handler (the service's usual output).
///
/// ```swift
/// InstrumentationSystem.bootstrap(TracedTracer())
/// LoggingSystem.bootstrap(TraceLogHandler.forwarding(to: StreamLogHandler.standardError), metadataProvider: .traced)
/// ```
///
/// A message is a log of the current task (TraceClient's, or the task of
/// the span in `ServiceContext.current`) under the logger's label as
/// category: `[level] message key=value …` with the handler's, the
/// provider's and the call's metadata, keys sorted, `trace_id`/`span_id`
/// left out (the trace has them), each value bounded like span attributes,
/// the whole bounded at 1024 bytes by `Trace.log`. With tracing off only the
/// forwarding happens.
public struct TraceLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level {
        didSet { forward?.logLevel = logLevel }
    }
    public var metadata: Logger.Metadata {
        didSet { forward?.metadata = metadata }
    }
    public var metadataProvider: Logger.MetadataProvider? {
        didSet { forward?.metadataProvider = metadataProvider }
    }
    private var forward: (any LogHandler)?

    /// Records messages of the logger `label` and forwards them to
    /// `handler` (none: the trace only).
    public init(label: String, forwardingTo handler: (any LogHandler)? = nil,
                metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.forward = handler
        self.logLevel = handler?.logLevel ?? .info
        self.metadata = handler?.metadata ?? [:]
        self.metadataProvider = metadataProvider ?? handler?.metadataProvider
    }

    /// A factory for `LoggingSystem.bootstrap` whose handlers record into
    /// the trace and forward to the handler `make` creates.
    public static func forwarding(
        to make: @escaping @Sendable (String, Logger.MetadataProvider?) -> any LogHandler
    ) -> @Sendable (String, Logger.MetadataProvider?) -> any LogHandler {
        { label, provider in TraceLogHandler(label: label, forwardingTo: make(label, provider), metadataProvider: provider) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        forward?.log(event: event)
        // The message is rendered only when tracing is on (an autoclosure);
        // a pending TRACED_FILE start happens here like at any annotation.
        Trace.log(label, LogText.render(event, handlerMetadata: metadata, provider: metadataProvider))
    }
}

/// How a log event becomes the message of a trace log.
enum LogText {
    /// Keys the trace records in its own way (the task's `trace.context`).
    static let omitted: Set<String> = ["trace_id", "span_id"]

    static func render(_ event: LogEvent, handlerMetadata: Logger.Metadata, provider: Logger.MetadataProvider?) -> String {
        var merged = handlerMetadata
        if let provided = provider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        var text = "[\(event.level)] \(bounded(event.message.description))"
        if let error = event.error { text += " error=\(bounded(String(describing: error)))" }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) where !omitted.contains(key) {
            text += " \(bounded(key))=\(bounded(value.description))"
        }
        return text
    }

    static func bounded(_ text: String) -> String { SpanText.bounded(text) }
}
