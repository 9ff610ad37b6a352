import CTraceABI

/// A logical operation (a request, an order) that may span threads and
/// Swift tasks: the unit whose latency the trace tool measures.
///
/// Creating a task records it; the task is *current* only inside
/// `withCurrent` (a task-local value, so it flows into `async` calls and
/// child tasks). Regions and logs are attached to the current task, and a
/// task created while another is current is its subtask.
///
/// ```swift
/// let order = TraceTask("makeCappuccino")
/// await order.withCurrent {
///     Trace.log("orderID", "\(orderID)")
///     async let milk: Void = Trace.withRegion("steamMilk") { await steamMilk() }
///     async let coffee: Void = Trace.withRegion("extractCoffee") { await extractCoffee() }
///     _ = await (milk, coffee)
/// }
/// order.end()   // latency: from creation to the first end()
/// ```
///
/// Only the first `end()` counts; later ones are recorded and ignored by
/// analysis. The type is used to group tasks: use a handful of types.
public struct TraceTask: Sendable, Hashable {
    /// Unique within the process; 0 for a task created while tracing was off.
    public let id: UInt64

    @TaskLocal static var currentID: UInt64 = 0

    @usableFromInline
    init(id: UInt64) {
        self.id = id
    }

    /// Creates a task of `type`, a subtask of the current task if there is one.
    @inlinable
    public init(_ type: StaticString) {
        guard Trace.shouldRecord else {
            self.init(id: 0)
            return
        }
        self.init(id: EventWriter.taskBegin(type, parent: TraceTask.currentTaskID()))
    }

    /// Creates a task whose type is known only at run time (a literal
    /// chooses the `StaticString` form; runtime names are bounded, see
    /// `Trace`).
    ///
    /// ```swift
    /// let request = TraceTask(route.name)
    /// ```
    @inlinable @_disfavoredOverload
    public init(_ type: String) {
        guard Trace.shouldRecord else {
            self.init(id: 0)
            return
        }
        let parent = TraceTask.currentTaskID()
        self.init(id: Trace.withNameBytes(type) { EventWriter.taskBegin(name: $0, parent: parent) })
    }

    /// A task of runtime `type` under the task `withCurrent` made current,
    /// if any, never under the one in `ServiceContext.current`: for a tracer
    /// whose span has read the context it starts from already and found no
    /// task there (its context need not be the current one, and the
    /// fallback would look it up again, ~25 ns a span).
    package static func ignoringServiceContext(_ type: String) -> TraceTask {
        guard Trace.shouldRecord else { return TraceTask(id: 0) }
        let parent = EventWriter.taskLocalTask()
        return TraceTask(id: Trace.withNameBytes(type) { EventWriter.taskBegin(name: $0, parent: parent) })
    }

    /// Marks the task complete.
    @inlinable
    public func end() {
        guard id != 0, Trace.isEnabled else { return }
        EventWriter.taskEnd(id)
    }

    /// The task current in this context, if any (with
    /// `followsServiceContext()`, possibly the one in ServiceContext.current).
    public static var current: TraceTask? {
        let id = EventWriter.currentTask()
        return id == 0 ? nil : TraceTask(id: id)
    }

    @usableFromInline
    static func currentTaskID() -> UInt64 {
        EventWriter.currentTask()
    }

    /// Runs `body` with this task current.
    ///
    /// ```swift
    /// try order.withCurrent { try grindBeans() }
    /// ```
    public func withCurrent<Result>(_ body: () throws -> Result) rethrows -> Result {
        guard id != 0 else { return try body() }
        tc_tasks_in_use_set()
        return try TraceTask.$currentID.withValue(id, operation: body)
    }

    /// Runs the async `body` with this task current; child tasks inherit it.
    ///
    /// ```swift
    /// try await order.withCurrent { try await brew() }
    /// ```
    public func withCurrent<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async rethrows -> Result {
        guard id != 0 else { return try await body() }
        tc_tasks_in_use_set()
        return try await TraceTask.$currentID.withValue(id, operation: body, isolation: isolation)
    }
}
