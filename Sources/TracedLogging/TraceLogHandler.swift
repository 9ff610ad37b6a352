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
/// the whole bounded at 1024 bytes by TraceClient.
///
/// The metadata is merged once, here: the provider runs once per message,
/// and the forwarded handler gets the merged metadata as the event's own
/// (its `metadata` stays empty and its provider unset), which prints the
/// same line at a handler such as `StreamLogHandler`. With tracing off only
/// that merge and the forwarding happen.
public struct TraceLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level {
        didSet { forward?.logLevel = logLevel }
    }
    public var metadata: Logger.Metadata
    public var metadataProvider: Logger.MetadataProvider?
    private var forward: (any LogHandler)?

    /// Records messages of the logger `label` and forwards them to
    /// `handler` (none: the trace only).
    public init(label: String, forwardingTo handler: (any LogHandler)? = nil,
                metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = handler?.logLevel ?? .info
        self.metadata = handler?.metadata ?? [:]
        self.metadataProvider = metadataProvider ?? handler?.metadataProvider
        var forward = handler
        forward?.metadata = [:]
        forward?.metadataProvider = nil
        self.forward = forward
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
        let merged = LogText.merge(handler: metadata, provider: metadataProvider, explicit: event.metadata)
        if let forward {
            var forwarded = event
            forwarded.metadata = merged.isEmpty ? nil : merged
            forward.log(event: forwarded)
        }
        // A pending TRACED_FILE start happens here like at any annotation.
        guard Trace.recordsNow else { return }
        LogLine.build { line in
            LogText.write(event, merged, into: &line)
            line.withMessage { Trace.log(label, utf8: $0) }
        }
    }
}

/// How a log event becomes the message of a trace log.
enum LogText {
    /// Keys the trace records in its own way (the task's `trace.context`).
    static let omitted: Set<String> = ["trace_id", "span_id"]

    /// The handler's metadata, then the provider's, then the call's, a
    /// later value replacing an earlier one for the same key (swift-log's
    /// order).
    static func merge(handler: Logger.Metadata, provider: Logger.MetadataProvider?,
                      explicit: Logger.Metadata?) -> Logger.Metadata {
        let provided = provider?.get() ?? [:]
        let explicit = explicit ?? [:]
        if provided.isEmpty && explicit.isEmpty { return handler }
        if handler.isEmpty && explicit.isEmpty { return provided }
        // One table, sized once, rather than a copy grown twice.
        var merged = Logger.Metadata(minimumCapacity: handler.count + provided.count + explicit.count)
        for (key, value) in handler { merged[key] = value }
        for (key, value) in provided { merged[key] = value }
        for (key, value) in explicit { merged[key] = value }
        return merged
    }

    /// `[level] message error=… key=value …`, keys sorted, each part bounded.
    static func write(_ event: LogEvent, _ metadata: Logger.Metadata, into line: inout LogLine) {
        line.append(UInt8(ascii: "["))
        line.append(event.level.name)
        line.append("] ")
        line.append(bounded: event.message.description)
        if let error = event.error {
            line.append(" error=")
            line.append(bounded: String(describing: error))
        }
        guard !metadata.isEmpty else { return }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where !omitted.contains(key) {
            line.append(UInt8(ascii: " "))
            line.append(bounded: key)
            line.append(UInt8(ascii: "="))
            if case .string(let text) = value {
                line.append(bounded: text)
            } else {
                line.append(bounded: value.description)
            }
        }
    }
}

extension Logger.Level {
    /// The level as swift-log prints it (`\(level)`), without a String.
    var name: StaticString {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .notice: "notice"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        }
    }
}
