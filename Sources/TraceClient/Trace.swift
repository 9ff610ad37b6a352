public import CTraceABI
import TraceSystem

/// Annotations for the traced tracing service, after Go's `runtime/trace`.
///
/// A trace records *tasks* (logical operations such as a request), *regions*
/// (intervals of code, nested, on one Swift task), *logs* (a category and a
/// message, attached to the current task) and *counters*, with nanosecond
/// timestamps, the OS thread and the Swift task of each. Events go into a
/// shared-memory buffer that the traced daemon drains while a session runs,
/// or that `Trace.start` drains into a file without any daemon.
///
/// ```swift
/// import TraceClient
///
/// try Trace.start(writingTo: "/tmp/cafe.trace")
/// defer { try? Trace.stop() }
///
/// let order = TraceTask("makeCappuccino")
/// order.withCurrent {
///     Trace.log("orderID", "\(orderID)")
///     Trace.withRegion("steamMilk") { steamMilk() }
///     Trace.withRegion("extractCoffee") { extractCoffee() }
///     Trace.withRegion("mixMilkCoffee") { mixMilkCoffee() }
/// }
/// order.end()
/// ```
///
/// With tracing off every annotation is one relaxed load and a branch; the
/// message of a log is not even built. With tracing on an event costs tens
/// of nanoseconds and never blocks, allocates or fails: when the buffer is
/// full the event is dropped and counted (docs/performance.md).
///
/// Names (region and task types, log categories, counter names) are best
/// `StaticString`s (a literal): like Go's tracer, analysis assumes a handful
/// of them, and a thread caches each by address. Every call also takes a
/// runtime `String` name (`Trace.withRegion(endpoint.name) { ... }`),
/// interned per process in a lock-free table bounded at 4096 distinct
/// names; past that, new names are recorded as `(other)` and counted in the
/// trace's counter `traced.names.overflowed` (docs/design.md, "Names").
/// Setting `TRACED_FILE=/path` in the environment traces a process into
/// that file from its first annotation until it exits, without code changes.
public enum Trace {
    /// Whether tracing is on. Advisory only: it may change by the time this
    /// returns. Use it to skip work that only feeds the trace.
    ///
    /// ```swift
    /// if Trace.isEnabled { Trace.log("cache", cache.debugSummary()) }
    /// ```
    @inlinable
    public static var isEnabled: Bool {
        tc_control_load() & UInt32(TC_CONTROL_ENABLED) != 0
    }

    /// Whether an annotation records now. One load when tracing is off; the
    /// process's first annotation also starts what the environment asked for
    /// (a TRACED_FILE trace, or the connection to the daemon).
    @inlinable
    static var shouldRecord: Bool {
        let control = tc_control_load()
        if control & UInt32(TC_CONTROL_ENABLED) != 0 { return true }
        return control != 0 && EventWriter.firstAnnotation()
    }

    // MARK: Regions

    /// Runs `body` inside a region of `type`.
    ///
    /// ```swift
    /// let latte = Trace.withRegion("mixMilkCoffee") { mix(milk, coffee) }
    /// ```
    @inlinable
    public static func withRegion<Result>(_ type: StaticString, _ body: () throws -> Result) rethrows -> Result {
        guard shouldRecord else { return try body() }
        let region = EventWriter.regionBegin(type)
        defer { region.end() }
        return try body()
    }

    /// Runs the async `body` inside a region of `type`; the region may end
    /// on another thread than it began on.
    ///
    /// ```swift
    /// let beans = try await Trace.withRegion("fetchBeans") { try await pantry.beans() }
    /// ```
    @inlinable
    public static func withRegion<Result>(
        _ type: StaticString,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async rethrows -> Result {
        guard shouldRecord else { return try await body() }
        let region = EventWriter.regionBegin(type)
        defer { region.end() }
        return try await body()
    }

    /// Starts a region of `type`; end it with `TraceRegion.end()`, on the
    /// same Swift task.
    ///
    /// ```swift
    /// let region = Trace.startRegion("grind")
    /// defer { region.end() }
    /// ```
    @inlinable
    public static func startRegion(_ type: StaticString) -> TraceRegion {
        guard shouldRecord else { return TraceRegion(thread: 0, sequence: 0) }
        return EventWriter.regionBegin(type)
    }

    // MARK: Tasks

    /// Creates a task of `type`, runs `body` with it current, and ends it
    /// when `body` returns or throws.
    ///
    /// ```swift
    /// try Trace.withTask("handleRequest") { task in try handle(request) }
    /// ```
    public static func withTask<Result>(_ type: StaticString, _ body: (TraceTask) throws -> Result) rethrows -> Result {
        try run(TraceTask(type), body)
    }

    /// Async form of `withTask`: child tasks of `body` inherit the task.
    ///
    /// ```swift
    /// try await Trace.withTask("handleRequest") { _ in try await handle(request) }
    /// ```
    public static func withTask<Result>(
        _ type: StaticString,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (TraceTask) async throws -> Result
    ) async rethrows -> Result {
        try await run(TraceTask(type), isolation: isolation, body)
    }

    /// Every `withTask`: runs `body` with `task` current, then ends it
    /// (also when `body` throws).
    static func run<Result>(_ task: TraceTask, _ body: (TraceTask) throws -> Result) rethrows -> Result {
        defer { task.end() }
        return try task.withCurrent { try body(task) }
    }

    static func run<Result>(
        _ task: TraceTask, isolation: isolated (any Actor)?, _ body: (TraceTask) async throws -> Result
    ) async rethrows -> Result {
        defer { task.end() }
        return try await task.withCurrent(isolation: isolation) { try await body(task) }
    }

    // MARK: Logs and counters

    /// Records `message` under `category`, attached to the current task.
    /// The message is built only when tracing is on; messages longer than
    /// 1024 bytes are truncated (and marked so).
    ///
    /// ```swift
    /// Trace.log("orderID", "\(order.id)")
    /// ```
    @inlinable
    public static func log(_ category: StaticString, _ message: @autoclosure () -> String) {
        guard shouldRecord else { return }
        EventWriter.log(category, message())
    }

    /// Records the value of the counter `name` at this instant.
    ///
    /// ```swift
    /// Trace.counter("queueDepth", queue.count)
    /// ```
    @inlinable
    public static func counter(_ name: StaticString, _ value: Int) {
        guard shouldRecord else { return }
        EventWriter.counter(name, Int64(value))
    }

    /// Records the value of the counter `name` at this instant.
    ///
    /// ```swift
    /// Trace.counter("loadAverage", 0.75)
    /// ```
    @inlinable
    public static func counter(_ name: StaticString, _ value: Double) {
        guard shouldRecord else { return }
        EventWriter.counter(name, value)
    }

    // MARK: In-process tracing

    /// Starts tracing this process into a file at `path` (created or
    /// truncated), without any daemon. Throws if tracing is already started.
    ///
    /// ```swift
    /// try Trace.start(writingTo: "/tmp/app.trace")
    /// runMyProgram()
    /// try Trace.stop()
    /// ```
    public static func start(writingTo path: String, options: TraceOptions = TraceOptions()) throws(TraceError) {
        try ClientRuntime.shared.start(.path(path), options: options)
    }

    /// Starts tracing this process into an open file descriptor, which stays
    /// open (and owned by the caller) after `stop()`.
    ///
    /// ```swift
    /// try Trace.start(fileDescriptor: socketOrPipe)
    /// ```
    public static func start(fileDescriptor: CInt, options: TraceOptions = TraceOptions()) throws(TraceError) {
        try ClientRuntime.shared.start(.descriptor(fileDescriptor), options: options)
    }

    /// Stops in-process tracing, if started. Returns only after every event
    /// committed before the call is written and the file is complete
    /// (and, for a path, fsynced and closed). Throws if writing failed.
    ///
    /// ```swift
    /// try Trace.stop()
    /// ```
    public static func stop() throws(TraceError) {
        try ClientRuntime.shared.stop()
    }

    /// Sets the size of this process's trace buffer (default 4 MiB, or
    /// `TRACED_BUFFER_SIZE`). Must be called before the first traced event;
    /// the daemon may cap it.
    ///
    /// ```swift
    /// try Trace.configureBuffer(size: 16 << 20)
    /// ```
    public static func configureBuffer(size: Int) throws(TraceError) {
        try ClientRuntime.shared.configureBuffer(size: size)
    }
}
