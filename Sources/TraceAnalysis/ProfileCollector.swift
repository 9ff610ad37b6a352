/// Stacks weighted by what the kernel saw, for pprof profiles (`tracectl
/// profile`; docs/analysis.md, "Profiles"), as `go tool trace -pprof` makes
/// them from Go's execution trace:
///
/// - `cpu`: CPU-clock samples, each at its user stack;
/// - `sched`: time runnable (preempted, or woken) until the thread got a
///   CPU, at the stack where it last left one;
/// - `block`: time waiting for a lock, I/O or a timer, at the stack where
///   it began to wait;
/// - `syscall`: time waiting in another system call, at that stack.
///
/// With a task type or region filter, only what happened on a thread while
/// a task of that type, or a region of that type, begun on the thread was
/// open there counts (at the sample, or where the wait began).
package struct ProfileCollector: TraceVisitor {
    package enum Kind: String, CaseIterable, Sendable {
        case cpu, sched, block, syscall
    }

    package struct Key: Hashable, Sendable {
        package var process: UInt32
        /// The stack id in the trace (0: none recorded).
        package var stack: UInt32
    }

    package struct Weight: Equatable, Sendable {
        /// Samples, or waits.
        package var count: Int64 = 0
        /// Nanoseconds waited (0 for `cpu`).
        package var nanoseconds: Int64 = 0
    }

    private struct ThreadKey: Hashable {
        var process: UInt32
        var thread: UInt32
    }

    /// What a thread is doing off its CPU, since when, and where it left it.
    private struct Off {
        var waiting: Kind?
        var since: Int64
        var stack: UInt32
        /// The filter held where it began.
        var selected: Bool
        /// Woken (or preempted): now runnable.
        var runnable: Bool
    }

    package let kind: Kind
    private let taskType: TraceName?
    private let regionType: TraceName?
    private let filtered: Bool
    package private(set) var weights: [Key: Weight] = [:]
    private var off: [ThreadKey: Off] = [:]
    /// Open tasks and regions of the wanted type per thread.
    private var open: [ThreadKey: Int] = [:]

    /// `taskType` or `region` names no type of the trace: nothing matches.
    package init(kind: Kind, catalog: TraceCatalog, taskType: String? = nil, region: String? = nil) {
        self.kind = kind
        self.taskType = taskType.flatMap { catalog.lookup($0) }
        self.regionType = region.flatMap { catalog.lookup($0) }
        filtered = taskType != nil || region != nil
        unmatchedFilter = (taskType != nil && self.taskType == nil) || (region != nil && self.regionType == nil)
    }

    /// A filter named a type the trace does not have.
    package let unmatchedFilter: Bool

    private func selected(_ key: ThreadKey) -> Bool { !filtered || (open[key] ?? 0) > 0 }

    private mutating func add(_ key: Key, nanoseconds: Int64) {
        var weight = weights[key] ?? Weight()
        weight.count += 1
        weight.nanoseconds = weight.nanoseconds.saturatingAdd(max(nanoseconds, 0))
        weights[key] = weight
    }

    /// The time of the last event.
    package private(set) var last: Int64?

    package mutating func visit(_ event: TraceEvent) {
        last = event.time
        let thread = ThreadKey(process: event.process, thread: event.thread)
        switch event.kind {
        case .taskBegin(let task) where taskType != nil && task.type == taskType:
            open[ThreadKey(process: task.process, thread: task.thread), default: 0] += 1
        case .taskEnd(let task) where taskType != nil && task.type == taskType && task.begin != nil:
            open[ThreadKey(process: task.process, thread: task.thread), default: 0] -= 1
        case .regionBegin(let region) where regionType != nil && region.type == regionType:
            open[ThreadKey(process: region.process, thread: region.beginThread), default: 0] += 1
        case .regionEnd(let region) where regionType != nil && region.type == regionType:
            open[ThreadKey(process: region.process, thread: region.beginThread), default: 0] -= 1
        case .cpuSample(_, let stack):
            if kind == .cpu && selected(thread) { add(Key(process: event.process, stack: stack), nanoseconds: 0) }
        case .switchOut(let out):
            let waiting: Kind?
            switch (out.state, out.wait) {
            case (.runnable, _): waiting = nil
            case (.sleeping, .lock), (.sleeping, .io), (.sleeping, .sleep), (.disk, _): waiting = .block
            case (.sleeping, .syscall): waiting = .syscall
            default: waiting = nil
            }
            off[thread] = Off(waiting: waiting, since: event.time, stack: out.stack, selected: selected(thread),
                              runnable: out.state == .runnable)
        case .wakeup:
            guard var state = off[thread], !state.runnable else { return }
            if let waiting = state.waiting, waiting == kind, state.selected {
                add(Key(process: event.process, stack: state.stack), nanoseconds: event.time - state.since)
            }
            state.runnable = true
            state.since = event.time
            off[thread] = state
        case .switchIn:
            guard let state = off.removeValue(forKey: thread) else { return }
            if kind == .sched && state.runnable && state.selected {
                add(Key(process: event.process, stack: state.stack), nanoseconds: event.time - state.since)
            }
        case .threadExit:
            off[thread] = nil
        default:
            break
        }
    }
}
