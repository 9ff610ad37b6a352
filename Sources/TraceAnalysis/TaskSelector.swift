/// Picks tasks of one type by latency in one walk: the slowest N, or those
/// whose latency falls in a range (the first `limit` of them, all counted).
package struct TaskSelector: TraceVisitor {
    package enum Rule: Sendable {
        case slowest(Int)
        case latency(ClosedRange<Int64>, limit: Int)
    }

    private let type: TraceName
    private let rule: Rule
    /// Chosen tasks, slowest first for `.slowest`, in end order otherwise.
    package private(set) var chosen: [TaskSpan] = []
    /// Tasks of the type that matched the rule (more than `chosen` when a limit cut).
    package private(set) var matched = 0
    /// Tasks of the type with a latency.
    package private(set) var seen = 0

    /// Tasks of the type, ended or not.
    package private(set) var typed = 0

    package init(type: String, rule: Rule, catalog: TraceCatalog) {
        // Interned, not looked up: a `task.type` log may name it only
        // during the walk.
        self.type = catalog.intern(type)
        self.rule = rule
    }

    package mutating func visit(_ event: TraceEvent) {
        if case .taskEnd(let task) = event.kind { ended(task) }
    }

    /// Out of line, so that `visit` passes over every other event without
    /// the frame this needs.
    @inline(never)
    private mutating func ended(_ task: TaskSpan) {
        guard task.type == type else { return }
        typed += 1
        guard let latency = task.latency else { return }
        seen += 1
        switch rule {
        case .slowest(let n):
            matched = min(seen, n)
            chosen.keepIfSlowest(task, latency: latency, limit: n)
        case .latency(let range, let limit):
            guard range.contains(latency) else { return }
            matched += 1
            if chosen.count < limit { chosen.append(task) }
        }
    }
}
