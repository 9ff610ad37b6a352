/// Where threads waited, by total time (docs/analysis.md, "Top blocking
/// stacks"): every wait (`ThreadWait`) summed by its process, the user
/// stack where it left its CPU, its kind and the call it waited in.
/// Memory: one entry per distinct (process, stack, wait, why), not per wait.
package struct BlockingStacks: Sendable {
    package struct Key: Hashable, Sendable {
        package var process: UInt32
        /// The stack id in the trace (0: none recorded).
        package var stack: UInt32
        /// lock, io, sleep or syscall.
        package var activity: Activity
        package var why: TraceName
    }

    package struct Total: Equatable, Sendable {
        package var count = 0
        package var nanoseconds: Int64 = 0
    }

    package private(set) var totals: [Key: Total] = [:]

    package init() {}

    mutating func add(_ wait: ThreadWait) {
        let key = Key(process: wait.process, stack: wait.stack, activity: wait.activity, why: wait.why)
        totals[key, default: Total()].count += 1
        totals[key, default: Total()].nanoseconds = totals[key, default: Total()].nanoseconds.saturatingAdd(wait.duration)
    }

    /// The `limit` heaviest: most time first, then most waits, then by key,
    /// so that the same trace gives the same list.
    package func top(_ limit: Int) -> [(key: Key, total: Total)] {
        let ordered = totals.sorted { a, b in
            if a.value.nanoseconds != b.value.nanoseconds { return a.value.nanoseconds > b.value.nanoseconds }
            if a.value.count != b.value.count { return a.value.count > b.value.count }
            return (a.key.process, a.key.stack, a.key.activity.rawValue, a.key.why.index)
                < (b.key.process, b.key.stack, b.key.activity.rawValue, b.key.why.index)
        }
        return ordered.prefix(max(limit, 0)).map { (key: $0.key, total: $0.value) }
    }
}
