// Annotations of a given task, whatever task is current: the counterpart
// of Go's `trace.Log(ctx, …)`, `trace.StartRegion(ctx, …)` and
// `trace.NewTask(ctx, …)`, for code that holds its task (a tracer's span
// keeps it) and so need not make it current, a task-local push, to
// annotate it.
extension TraceTask {
    /// Records `message` under `category`, attached to this task.
    ///
    /// ```swift
    /// order.log("payment", "declined: \(reason)")
    /// ```
    @inlinable
    public func log(_ category: StaticString, _ message: @autoclosure () -> String) {
        guard id != 0, Trace.shouldRecord else { return }
        var text = message()
        text.withUTF8 { EventWriter.log(category, UnsafeRawBufferPointer($0), task: id) }
    }

    /// `log` with a category known only at run time (generic for the
    /// reason given at `Trace.log`).
    @inlinable @_disfavoredOverload
    public func log(_ category: some StringProtocol, _ message: @autoclosure () -> String) {
        guard id != 0, Trace.shouldRecord else { return }
        var text = message()
        text.withUTF8 { bytes in
            Trace.withNameBytes(category) { EventWriter.log(name: $0, UnsafeRawBufferPointer(bytes), task: id) }
        }
    }

    /// Records a message already in UTF-8 (no String built): what a tracer
    /// writes from a stack buffer.
    package func log(_ category: StaticString, utf8 message: UnsafeRawBufferPointer) {
        guard id != 0, Trace.shouldRecord else { return }
        EventWriter.log(category, message, task: id)
    }

    /// Starts a region of this task on the calling thread.
    ///
    /// ```swift
    /// let region = order.startRegion("chargeCard")
    /// defer { region.end() }
    /// ```
    @inlinable
    public func startRegion(_ type: StaticString) -> TraceRegion {
        guard id != 0, Trace.shouldRecord else { return TraceRegion(thread: 0, sequence: 0) }
        return EventWriter.regionBegin(type, task: id)
    }

    /// `startRegion` with a type known only at run time.
    @inlinable @_disfavoredOverload
    public func startRegion(_ type: String) -> TraceRegion {
        guard id != 0, Trace.shouldRecord else { return TraceRegion(thread: 0, sequence: 0) }
        return Trace.withNameBytes(type) { EventWriter.regionBegin(name: $0, task: id) }
    }

    /// Creates a subtask of this task.
    ///
    /// ```swift
    /// let delivery = order.subtask("deliver")
    /// ```
    @inlinable
    public func subtask(_ type: StaticString) -> TraceTask {
        guard id != 0, Trace.shouldRecord else { return TraceTask(id: 0) }
        return TraceTask(id: EventWriter.taskBegin(type, parent: id))
    }

    /// `subtask` with a type known only at run time.
    @inlinable @_disfavoredOverload
    public func subtask(_ type: String) -> TraceTask {
        guard id != 0, Trace.shouldRecord else { return TraceTask(id: 0) }
        return TraceTask(id: Trace.withNameBytes(type) { EventWriter.taskBegin(name: $0, parent: id) })
    }
}

extension Trace {
    /// Whether an annotation records now (the process's first annotation
    /// also starts what the environment asked for): for layers that build a
    /// message before handing it over.
    package static var recordsNow: Bool { shouldRecord }

    /// A log of the current task whose message is UTF-8 the caller wrote
    /// (no String built), under a runtime category.
    package static func log(_ category: some StringProtocol, utf8 message: UnsafeRawBufferPointer) {
        guard shouldRecord else { return }
        withNameBytes(category) { EventWriter.log(name: $0, message, task: EventWriter.currentTask()) }
    }
}
