import CTraceABI
public import ServiceContextModule

/// The key under which a `TraceTask` travels in a `ServiceContext`
/// (swift-service-context), for tracers built on swift-distributed-tracing:
/// a span's context carries its TraceTask, and with
/// `TraceTask.followsServiceContext()` that task is the current one for
/// annotations made inside the span.
///
/// No `nameOverride`: every read and write of a context builds the key's
/// name from it, on a span's hot path; the type's name serves.
public enum TraceTaskContextKey: ServiceContextKey {
    public typealias Value = TraceTaskContextValue
}

/// What `TraceTaskContextKey` holds: a TraceTask. A class open to
/// subclassing so that a tracer's span state can be the value itself: one
/// context entry per span instead of two, each entry a dictionary insert
/// in the span's hot path (docs/performance.md, "Spans").
///
/// `@unchecked Sendable`: its one stored property is an immutable
/// `Sendable` value; subclasses must be `Sendable` on their own terms.
open class TraceTaskContextValue: @unchecked Sendable {
    /// The task annotations attach to while this value is in
    /// `ServiceContext.current` (with `TraceTask.followsServiceContext()`).
    public let task: TraceTask

    public init(task: TraceTask) {
        self.task = task
    }
}

extension ServiceContext {
    /// The TraceTask carried by this context, if any.
    ///
    /// ```swift
    /// var context = ServiceContext.current ?? .topLevel
    /// context.traceTask = TraceTask("handleRequest")
    /// ServiceContext.withValue(context) { Trace.withRegion("parse") { parse() } }
    /// ```
    public var traceTask: TraceTask? {
        get { self[TraceTaskContextKey.self]?.task }
        set { self[TraceTaskContextKey.self] = newValue.map(TraceTaskContextValue.init(task:)) }
    }
}

extension TraceTask {
    /// From now on, for the whole process, where no TraceTask is current
    /// (no `withCurrent`/`withTask` encloses the call), the task in
    /// `ServiceContext.current?.traceTask` is: regions, logs and new tasks
    /// attach to it. This is how a span made current by swift-distributed-
    /// tracing's `withSpan` or Hummingbird's TracingMiddleware (which set
    /// only `ServiceContext.current`) reaches TraceClient. `false` turns it
    /// off again. Until it is on, annotations never look at ServiceContext:
    /// the check is one relaxed load they already make. When on and no
    /// TraceTask is current, an event pays a ServiceContext lookup
    /// (docs/performance.md).
    ///
    /// ```swift
    /// TraceTask.followsServiceContext()   // once, when bootstrapping the tracer
    /// ```
    public static func followsServiceContext(_ follow: Bool = true) {
        if follow {
            tc_tasks_in_use_add(UInt32(TC_TASKS_SERVICE_CONTEXT))
        } else {
            tc_tasks_in_use_remove(UInt32(TC_TASKS_SERVICE_CONTEXT))
        }
    }

    /// Whether the current task falls back to ServiceContext's (`followsServiceContext()`).
    public static var isFollowingServiceContext: Bool {
        tc_tasks_in_use_load() & UInt32(TC_TASKS_SERVICE_CONTEXT) != 0
    }

    /// The id of the TraceTask in ServiceContext.current, or 0: the
    /// fallback of EventWriter.currentTask, apart so its cost stays off
    /// the path of processes that never enabled it.
    @inline(never)
    static func serviceContextTaskID() -> UInt64 {
        ServiceContext.current?[TraceTaskContextKey.self]?.task.id ?? 0
    }
}
