package import TraceFormat

/// Chooses, for every task type and every latency bucket of its histogram
/// (`LogBuckets`), the first `perBucket` tasks that ended in it, for a page
/// that lists a bucket's tasks and opens one (the HTML report). The choice
/// is the first in time order, so the same trace gives the same page.
package struct TaskSampler: TraceVisitor {
    package struct Key: Hashable, Sendable {
        package var type: TraceName
        package var bucket: Int

        package init(type: TraceName, bucket: Int) {
            self.type = type
            self.bucket = bucket
        }
    }

    package let perBucket: Int
    /// At most this many tasks in all (the page embeds each one's tree).
    package let limit: Int
    package private(set) var chosen: [Key: [TaskSpan]] = [:]
    private var total = 0
    private let types: Set<TraceName>?
    private let window: ClosedRange<Int64>?

    /// `types` and `window` as `TraceSummary.Options` (the page samples what
    /// the report counts).
    package init(perBucket: Int = 50, limit: Int = 2000, types: Set<TraceName>? = nil, window: ClosedRange<Int64>? = nil) {
        self.perBucket = perBucket
        self.limit = limit
        self.types = types
        self.window = window
    }

    package mutating func visit(_ event: TraceEvent) {
        if case .taskEnd(let task) = event.kind { sample(task) }
    }

    /// Out of line, so that `visit` passes over every other event without
    /// the frame this needs (about 20 instructions an event).
    @inline(never)
    private mutating func sample(_ task: TaskSpan) {
        guard let latency = task.latency, let begin = task.begin, total < limit, types?.contains(task.type) ?? true,
              window?.contains(begin) ?? true else { return }
        let key = Key(type: task.type, bucket: LogBuckets.index(of: latency))
        guard chosen[key, default: []].count < perBucket else { return }
        chosen[key, default: []].append(task)
        total += 1
    }

    /// Every chosen task, for a `TaskDrilldown`.
    package var roots: Set<TaskKey> {
        Set(chosen.values.joined().map { TaskKey(process: $0.process, id: $0.id) })
    }
}
