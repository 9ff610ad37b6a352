public import Tracing
import TraceClient

/// A span of `TracedTracer`: a task, a region or a subtask in the trace
/// (see `TracedTracer`). A span started while tracing was off records
/// nothing (`isRecording` is false) but keeps its context.
public struct TracedSpan: Tracing.Span {
    public let context: ServiceContext
    let state: SpanState?

    init(context: ServiceContext, state: SpanState?) {
        self.context = context
        self.state = state
    }

    public var isRecording: Bool { state != nil }

    /// The name the span started with, or the last one set. Renaming a task
    /// span records a `task.type` log, by which analysis types its task;
    /// renaming a region span records a `span.name` log (the region keeps
    /// its type).
    public var operationName: String {
        get { state?.name ?? "" }
        nonmutating set { state?.rename(newValue) }
    }

    /// Recorded when the span ends, one `span.attribute` log per key.
    public var attributes: SpanAttributes {
        get { state?.attributes ?? [:] }
        nonmutating set { state?.setAttributes(newValue) }
    }

    public func setStatus(_ status: SpanStatus) {
        guard let state else { return }
        let code = switch status.code {
        case .ok: "ok"
        case .error: "error"
        }
        state.log("span.status", status.message.map { "\(code): \(SpanText.bounded($0))" } ?? code)
    }

    public func addEvent(_ event: SpanEvent) {
        guard let state else { return }
        state.log("span.event", SpanText.withAttributes(SpanText.bounded(event.name), event.attributes))
    }

    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        guard let state else { return }
        let text = "\(type(of: error)): \(SpanText.bounded(String(describing: error)))"
        state.log("span.error", SpanText.withAttributes(text, attributes))
    }

    /// Records `span.link` with the linked span's `traceparent`; the export
    /// draws a flow from the linked span to this one when both are in the
    /// trace.
    public func addLink(_ link: SpanLink) {
        guard let state, let target = link.context.traceParent else { return }
        state.log("span.link", SpanText.withAttributes(target.description, link.attributes))
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        state?.end()
    }
}

/// How span values become log text: bounded, truncation marked.
package enum SpanText {
    /// Longest attribute value, event or error text kept, in UTF-8 bytes.
    package static let valueLimit = 256
    package static let truncationMark = "…(truncated)"

    package static func bounded(_ text: String) -> String {
        guard text.utf8.count > valueLimit else { return text }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: valueLimit)
        while end > text.startIndex, !text.unicodeScalars.indices.contains(end) { end = text.utf8.index(before: end) }
        return String(text[..<end]) + truncationMark
    }

    static func render(_ value: SpanAttribute) -> String {
        switch value {
        case .int32(let v): String(v)
        case .int64(let v): String(v)
        case .double(let v): String(v)
        case .bool(let v): String(v)
        case .string(let v): v
        case .int32Array(let v): "[" + v.map(String.init).joined(separator: ",") + "]"
        case .int64Array(let v): "[" + v.map(String.init).joined(separator: ",") + "]"
        case .doubleArray(let v): "[" + v.map { String($0) }.joined(separator: ",") + "]"
        case .boolArray(let v): "[" + v.map(String.init).joined(separator: ",") + "]"
        case .stringArray(let v): "[" + v.joined(separator: ",") + "]"
        case .stringConvertible(let v): v.description
        case .stringConvertibleArray(let v): "[" + v.map(\.description).joined(separator: ",") + "]"
        default: "?"
        }
    }

    /// `key=value`, both bounded.
    static func pair(_ key: String, _ value: SpanAttribute) -> String {
        "\(bounded(key))=\(bounded(render(value)))"
    }

    /// `text key=value …`, keys sorted so that a trace reads the same each run.
    static func withAttributes(_ text: String, _ attributes: SpanAttributes) -> String {
        guard !attributes.isEmpty else { return text }
        var pairs: [(String, SpanAttribute)] = []
        attributes.forEach { pairs.append(($0, $1)) }
        return ([text] + pairs.sorted { $0.0 < $1.0 }.map { pair($0.0, $0.1) }).joined(separator: " ")
    }
}
