/// Chooses, for every task type and every latency bucket of its histogram
/// (`LogBuckets`), the first `perBucket` tasks that ended in it, for a page
/// that lists a bucket's tasks and opens one (the HTML report). The choice
/// is the first in time order, so the same trace gives the same page.
package struct TaskSampler: TraceVisitor {
    package struct Key: Hashable, Sendable {
        package var type: TraceName
        package var bucket: Int
    }

    package let perBucket: Int
    /// At most this many tasks in all (the page embeds each one's tree).
    package let limit: Int
    package private(set) var chosen: [Key: [TaskSpan]] = [:]
    private var total = 0
    private let types: Set<TraceName>?

    package init(perBucket: Int = 20, limit: Int = 2000, types: Set<TraceName>? = nil) {
        self.perBucket = perBucket
        self.limit = limit
        self.types = types
    }

    package mutating func taskEnded(_ task: TaskSpan) {
        guard let latency = task.latency, total < limit, types?.contains(task.type) ?? true else { return }
        let key = Key(type: task.type, bucket: LogBuckets.index(of: latency))
        guard chosen[key, default: []].count < perBucket else { return }
        chosen[key, default: []].append(task)
        total += 1
    }

    /// Every chosen task, for a `TaskDrilldown`.
    package var roots: Set<TaskDrilldown.TaskKey> {
        Set(chosen.values.joined().map { TaskDrilldown.TaskKey(process: $0.process, id: $0.id) })
    }
}
