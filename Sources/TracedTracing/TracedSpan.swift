public import Tracing
import TraceClient
import TraceFormat

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
        state.log(SpanCategory.status) { line in
            line.append(status.code == .ok ? "ok" : "error")
            if let message = status.message {
                line.append(": ")
                line.append(bounded: message)
            }
        }
    }

    public func addEvent(_ event: SpanEvent) {
        guard let state else { return }
        state.log(SpanCategory.event) { line in
            line.append(bounded: event.name)
            line.append(attributes: event.attributes)
        }
    }

    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        guard let state else { return }
        state.log(SpanCategory.error) { line in
            line.append(bounded: "\(type(of: error))", limit: LogLine.capacity)
            line.append(": ")
            line.append(bounded: String(describing: error))
            line.append(attributes: attributes)
        }
    }

    /// Records `span.link` with the linked span's `traceparent`; the export
    /// draws a flow from the linked span to this one when both are in the
    /// trace.
    public func addLink(_ link: SpanLink) {
        guard let state, let target = link.context.traceParent else { return }
        state.log(SpanCategory.link) { line in
            line.append(ids: target)
            line.append(attributes: link.attributes)
        }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        state?.end()
    }
}
