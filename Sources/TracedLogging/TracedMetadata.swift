public import Logging
import Tracing
import TracedTracing

extension Logger.MetadataProvider {
    /// Adds `trace_id` (32 hex digits) and `span_id` (16) of the span in
    /// `ServiceContext.current` to every log line, so that a line in the
    /// journal leads to its request in the trace
    /// (`tracectl tasks FILE --trace-id ID`).
    ///
    /// ```swift
    /// LoggingSystem.bootstrap(StreamLogHandler.standardError, metadataProvider: .traced)
    /// ```
    public static let traced = Logger.MetadataProvider {
        guard let ids = ServiceContext.current?.traceParent else { return [:] }
        return ["trace_id": .string(ids.traceID), "span_id": .string(ids.spanIDString)]
    }
}
