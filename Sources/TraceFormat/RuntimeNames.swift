/// What a trace holds when a process used more runtime (`String`) names than
/// TraceClient interns (docs/design.md, "Names"): events past the bound are
/// named `other`, and after each such event the process records the
/// integer counter `overflowCounter` with its total so far, so the highest
/// value in a trace is the process's count of renamed events.
package enum RuntimeNames {
    /// Distinct runtime names a process interns.
    package static let limit = 4096
    /// The name recorded in place of a runtime name past the limit.
    package static let other = "(other)"
    /// The counter of events recorded as `other`.
    package static let overflowCounter = "traced.names.overflowed"
}
