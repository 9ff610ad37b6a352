/// What `TraceWalk.run` and `runPipelined` hand a trace to: every event, in
/// time order, as one value. A visitor switches on the kinds it needs and
/// ignores the rest (`default: break`), so a new kind of event changes no
/// visitor that does not care about it, and both walks hand over exactly
/// the same events.
package protocol TraceVisitor {
    mutating func visit(_ event: TraceEvent)
    /// After the last event and the spans never ended; `last` is the time
    /// of the last event (nil for a trace without events).
    mutating func finish(last: Int64?)
}

extension TraceVisitor {
    package mutating func finish(last: Int64?) {}
}
