public import Tracing
import CTraceABI
import TraceClient

/// swift-distributed-tracing's `Tracer` over TraceClient: every span goes
/// into the same trace as the service's own annotations.
///
/// ```swift
/// import Tracing
/// import TracedTracing
///
/// InstrumentationSystem.bootstrap(TracedTracer())
/// try await withSpan("GET /orders") { span in
///     span.attributes["order.count"] = orders.count
///     try await withSpan("db.query") { _ in try await db.orders() }   // a region of the task
/// }
/// ```
///
/// How spans map onto the trace (docs/design.md, "Existing services"):
/// - a span with no parent span in this process (a new trace, or a parent
///   extracted from another process's `traceparent`) is a **task** whose
///   type is the operation name;
/// - a child span started on the Swift task its parent runs on, while the
///   parent is the innermost open span of that task, is a **region** of the
///   parent's task;
/// - any other child span (started by a child Swift task: `async let`, a
///   task group, `Task {}`; or next to a sibling that is still open) is a
///   **subtask** of the parent's task.
///
/// Attributes, events, errors, statuses and links are logs of the span's
/// task under a few fixed categories (docs/format.md, "Spans"). Each span
/// records its W3C ids first, as a `trace.context` log.
///
/// With tracing off a span is one relaxed load and a branch on top of what
/// swift-distributed-tracing itself does (docs/performance.md).
public struct TracedTracer: Tracer {
    public typealias Span = TracedSpan

    /// Creates the tracer and makes TraceClient's annotations inside a span
    /// (regions, logs, tasks) attach to the span's task
    /// (`TraceTask.followsServiceContext()`).
    public init() {
        TraceTask.followsServiceContext()
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> ServiceContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> TracedSpan {
        // Any bit set: tracing is on, or the first annotation has to start
        // what the environment asked for (TRACED_FILE, the daemon link).
        guard tc_control_load() != 0 else { return TracedSpan(context: context(), state: nil) }
        return SpanState.start(operationName, in: context())
    }

    /// Spans go into the process's trace buffer as they happen: nothing to flush.
    public func forceFlush() {}

    /// Writes `traceparent` (and passes `tracestate` through) for the span
    /// in `context`, or forwards an extracted parent when tracing is off.
    public func inject<Carrier, Inject>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject: Injector, Carrier == Inject.Carrier {
        let ids: TraceParent
        let state: String?
        if let span = SpanState.of(context) {
            ids = span.ids
            state = span.traceState
        } else if let remote = context[RemoteParentKey.self] {
            ids = remote.parent
            state = remote.traceState
        } else {
            return
        }
        injector.inject(ids.description, forKey: "traceparent", into: &carrier)
        if let state { injector.inject(state, forKey: "tracestate", into: &carrier) }
    }

    /// Reads `traceparent` and `tracestate`; a span started in the returned
    /// context continues that trace. An invalid `traceparent` is ignored (and
    /// its `tracestate` with it), so the next span starts a new trace.
    public func extract<Carrier, Extract>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract: Extractor, Carrier == Extract.Carrier {
        guard let header = extractor.extract(key: "traceparent", from: carrier),
              let parent = TraceParent(header) else { return }
        var state = extractor.extract(key: "tracestate", from: carrier)
        if let value = state, value.utf8.count > RemoteParent.traceStateLimit { state = nil }
        context[RemoteParentKey.self] = RemoteParent(parent: parent, traceState: state)
    }
}

extension ServiceContext {
    /// The W3C ids of the span in this context (recording, or extracted from
    /// another process), if any: what `TracedLogging`'s metadata provider
    /// adds to log lines.
    public var traceParent: TraceParent? {
        SpanState.of(self)?.ids ?? self[RemoteParentKey.self]?.parent
    }
}

/// A parent span from another process, extracted from `traceparent`.
struct RemoteParent: Sendable {
    /// The W3C recommendation lets a receiver drop a `tracestate` it cannot
    /// handle; 512 bytes is what it asks every vendor to be able to carry.
    static let traceStateLimit = 512
    var parent: TraceParent
    var traceState: String?
}

/// No `nameOverride`, as `TraceTaskContextKey`.
enum RemoteParentKey: ServiceContextKey {
    typealias Value = RemoteParent
}
