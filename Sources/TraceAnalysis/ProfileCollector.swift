/// Stacks weighted by what the kernel saw, for pprof profiles (`tracectl
/// profile`; docs/analysis.md, "Profiles"), as `go tool trace -pprof` makes
/// them from Go's execution trace:
///
/// - `cpu`: CPU-clock samples, each at its user stack;
/// - `sched`: time runnable (preempted, or woken) until the thread got a
///   CPU, at the stack where it last left one;
/// - `block`: time waiting for a lock, I/O or a timer, at the stack where
///   it began to wait: the waits of the report's blocking stacks
///   (`WaitTracker`);
/// - `syscall`: time waiting in another system call, the same way.
///
/// With a task type or region filter, only what happened on a thread while
/// a task of that type, or a region of that type, begun on the thread was
/// open there counts (at the sample, where a wait for a CPU began, or where
/// a block ended: a thread off its CPU begins or ends no span of its own).
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

        package init(count: Int64 = 0, nanoseconds: Int64 = 0) {
            self.count = count
            self.nanoseconds = nanoseconds
        }
    }

    private struct ThreadKey: Hashable {
        var process: UInt32
        var thread: UInt32
    }

    /// A thread wanting a CPU: since when, and the stack where it left one.
    private struct Runnable {
        var since: Int64
        var stack: UInt32
        var selected: Bool
    }

    package let kind: Kind
    private let taskType: TraceName?
    private let regionType: TraceName?
    private let filtered: Bool
    package private(set) var weights: [Key: Weight] = [:]
    /// `block`, `syscall`: the waits, as the report's blocking stacks count them.
    private var waits = WaitTracker()
    /// `sched`: the stack of each thread's last switch-out, and the threads
    /// wanting a CPU.
    private var lastStack: [ThreadKey: UInt32] = [:]
    private var runnable: [ThreadKey: Runnable] = [:]
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
        case .switchOut, .wakeup, .switchIn, .threadExit:
            if kind == .sched { followRunnable(event, thread) } else { followWaits(event, thread) }
        default:
            break
        }
    }

    /// A wait's time at the stack where it began, when it ends.
    private mutating func followWaits(_ event: TraceEvent, _ thread: ThreadKey) {
        guard let wait = waits.kernel(event) else { return }
        let wanted: Kind = wait.activity == .syscall ? .syscall : .block
        guard wanted == kind, selected(thread) else { return }
        add(Key(process: wait.process, stack: wait.stack), nanoseconds: wait.duration)
    }

    /// From a preemption or a wakeup to the switch-in that ends the wait
    /// for a CPU, at the stack where the thread last left one.
    private mutating func followRunnable(_ event: TraceEvent, _ thread: ThreadKey) {
        switch event.kind {
        case .switchOut(let out):
            lastStack[thread] = out.stack
            runnable[thread] = out.state == .runnable
                ? Runnable(since: event.time, stack: out.stack, selected: selected(thread)) : nil
        case .wakeup:
            guard runnable[thread] == nil, let stack = lastStack[thread] else { return }
            runnable[thread] = Runnable(since: event.time, stack: stack, selected: selected(thread))
        case .switchIn:
            // A wakeup of a thread on a CPU starts no wait.
            lastStack[thread] = nil
            guard let wait = runnable.removeValue(forKey: thread), wait.selected else { return }
            add(Key(process: event.process, stack: wait.stack), nanoseconds: event.time - wait.since)
        case .threadExit:
            lastStack[thread] = nil
            runnable[thread] = nil
        default:
            break
        }
    }
}
