// The annotations with runtime (`String`) names: every call of Trace also
// takes a name known only at run time. Literals keep choosing the
// `StaticString` forms in Trace.swift (the per-thread cache); these intern
// the name in the process's bounded NameTable (docs/design.md, "Names").
extension Trace {
    /// Runs `body` inside a region whose type is known only at run time.
    /// A literal chooses the `StaticString` form; see "Names" in `Trace`'s
    /// documentation for the bound on distinct runtime names.
    ///
    /// ```swift
    /// Trace.withRegion(route.name) { try handle(request) }
    /// ```
    @inlinable @_disfavoredOverload
    public static func withRegion<Result>(_ type: String, _ body: () throws -> Result) rethrows -> Result {
        guard shouldRecord else { return try body() }
        let region = withNameBytes(type) { EventWriter.regionBegin(name: $0) }
        defer { region.end() }
        return try body()
    }

    /// Async form of `withRegion` with a runtime type.
    ///
    /// ```swift
    /// let rows = try await Trace.withRegion(query.table) { try await db.run(query) }
    /// ```
    @inlinable @_disfavoredOverload
    public static func withRegion<Result>(
        _ type: String,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async rethrows -> Result {
        guard shouldRecord else { return try await body() }
        let region = withNameBytes(type) { EventWriter.regionBegin(name: $0) }
        defer { region.end() }
        return try await body()
    }

    /// Starts a region whose type is known only at run time.
    ///
    /// ```swift
    /// let region = Trace.startRegion(stage.name)
    /// defer { region.end() }
    /// ```
    @inlinable @_disfavoredOverload
    public static func startRegion(_ type: String) -> TraceRegion {
        guard shouldRecord else { return TraceRegion(thread: 0, sequence: 0) }
        return withNameBytes(type) { EventWriter.regionBegin(name: $0) }
    }

    /// `withTask` with a type known only at run time.
    ///
    /// ```swift
    /// try Trace.withTask(request.route) { task in try handle(request) }
    /// ```
    @_disfavoredOverload
    public static func withTask<Result>(_ type: String, _ body: (TraceTask) throws -> Result) rethrows -> Result {
        try run(TraceTask(type), body)
    }

    /// Async `withTask` with a type known only at run time.
    ///
    /// ```swift
    /// try await Trace.withTask(request.route) { _ in try await handle(request) }
    /// ```
    @_disfavoredOverload
    public static func withTask<Result>(
        _ type: String,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (TraceTask) async throws -> Result
    ) async rethrows -> Result {
        try await run(TraceTask(type), isolation: isolation, body)
    }

    /// `log` with a category known only at run time (a `String` or a
    /// `Substring`). Why not just `String`: with two arguments Swift's
    /// overload ranking would then choose it over the `StaticString` form
    /// even for a literal, `@_disfavoredOverload` or not (Swift 6.3); a
    /// generic parameter keeps literals on the fast path (NameTests checks).
    ///
    /// ```swift
    /// Trace.log(subsystem.name, "cache miss for \(key)")
    /// ```
    @inlinable @_disfavoredOverload
    public static func log(_ category: some StringProtocol, _ message: @autoclosure () -> String) {
        guard shouldRecord else { return }
        logRuntime(category, message)
    }

    /// `counter` with a name known only at run time (a `String` or a
    /// `Substring`; generic for the reason given at `log`).
    ///
    /// ```swift
    /// Trace.counter("\(pool.name).inUse", pool.inUse)
    /// ```
    @inlinable @_disfavoredOverload
    public static func counter(_ name: some StringProtocol, _ value: Int) {
        guard shouldRecord else { return }
        counterRuntime(name, Int64(value))
    }

    /// `counter` with a name known only at run time (a `String` or a
    /// `Substring`; generic for the reason given at `log`).
    ///
    /// ```swift
    /// Trace.counter("\(disk.name).utilization", 0.42)
    /// ```
    @inlinable @_disfavoredOverload
    public static func counter(_ name: some StringProtocol, _ value: Double) {
        guard shouldRecord else { return }
        counterRuntime(name, value)
    }

    // The recording halves of the generic calls: specialized in the caller's
    // module but not inlined, so that with tracing off the caller keeps only
    // the load and the branch (inlined whole, `log` cost 1.3 ns off, not 0.4).
    @inlinable @inline(never)
    static func logRuntime(_ category: some StringProtocol, _ message: () -> String) {
        withNameBytes(category) { EventWriter.log(name: $0, message()) }
    }

    @inlinable @inline(never)
    static func counterRuntime(_ name: some StringProtocol, _ value: Int64) {
        withNameBytes(name) { EventWriter.counter(name: $0, value) }
    }

    @inlinable @inline(never)
    static func counterRuntime(_ name: some StringProtocol, _ value: Double) {
        withNameBytes(name) { EventWriter.counter(name: $0, value) }
    }

    /// Runs `body` with the UTF-8 bytes of a runtime name, in place for a
    /// native or small string (inlined into the caller, so the name is only
    /// borrowed: no retain, no copy), copied otherwise (a bridged string).
    @inlinable @inline(__always)
    static func withNameBytes<Result>(_ name: some StringProtocol, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        if let result = name.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        var copy = String(name)
        return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}
