import CTraceABI
import Synchronization
import Tracing
import TraceClient
import TraceFormat
#if canImport(Glibc)
import Glibc
#endif

/// What a recording span knows: its ids, the TraceClient task it belongs
/// to and, for a region span, its region. Allocated only while tracing is on.
///
/// It is the span's one entry in its `ServiceContext`, under TraceClient's
/// `TraceTaskContextKey`: TraceClient finds the task there (`task`, for
/// annotations inside the span) and the tracer finds the parent span. One
/// entry, because each is a dictionary insert on the span's hot path.
///
/// Everything a span records is written straight into the trace buffer,
/// attached to `task` by id (no task-local push), its text built on the
/// stack (`LogLine`).
///
/// `@unchecked Sendable`: the stored properties are immutable and
/// `Sendable`, except `mutable`, which its `Mutex` guards.
final class SpanState: TraceTaskContextValue, @unchecked Sendable {
    let ids: TraceParent
    let traceState: String?
    /// The span that owns `task`; nil when this span does.
    let owner: SpanState?
    let region: TraceRegion?
    /// The Swift task (or, outside one, the thread) that started the span.
    let runsOn: UInt64
    private let mutable: Mutex<Mutable>

    private struct Mutable {
        var name: String
        var attributes: SpanAttributes = [:]
        var ended = false
        /// Span ids of the open region spans of this (owning) span's task,
        /// innermost last.
        var openRegions: [UInt64] = []
    }

    private init(name: String, ids: TraceParent, traceState: String?, task: TraceTask, owner: SpanState?,
                 region: TraceRegion?, runsOn: UInt64) {
        self.ids = ids
        self.traceState = traceState
        self.owner = owner
        self.region = region
        self.runsOn = runsOn
        self.mutable = Mutex(Mutable(name: name))
        super.init(task: task)
    }

    var name: String { mutable.withLock { $0.name } }
    var attributes: SpanAttributes { mutable.withLock { $0.attributes } }

    /// The recording span `context` carries, if any.
    static func of(_ context: ServiceContext) -> SpanState? {
        context[TraceTaskContextKey.self] as? SpanState
    }

    /// Starts a span under the span or remote parent in `context`, and
    /// returns it with its context.
    static func start(_ name: String, in base: ServiceContext) -> TracedSpan {
        let here = RunIdentity.current()
        let spanID = SpanIDs.next()
        let state: SpanState
        var remoteParent: UInt64 = 0
        let carried = base[TraceTaskContextKey.self]
        if let parent = carried as? SpanState {
            let ids = TraceParent(traceIDHigh: parent.ids.traceIDHigh, traceIDLow: parent.ids.traceIDLow,
                                  spanID: spanID, flags: parent.ids.flags)
            let owner = parent.owner ?? parent
            if parent.runsOn == here, owner.pushRegion(spanID, under: parent) {
                state = SpanState(name: name, ids: ids, traceState: parent.traceState, task: owner.task, owner: owner,
                                  region: owner.task.startRegion(name), runsOn: here)
            } else {
                state = SpanState(name: name, ids: ids, traceState: parent.traceState, task: parent.task.subtask(name),
                                  owner: nil, region: nil, runsOn: here)
            }
        } else {
            let remote = base[RemoteParentKey.self]
            let ids: TraceParent
            if let remote {
                ids = TraceParent(traceIDHigh: remote.parent.traceIDHigh, traceIDLow: remote.parent.traceIDLow,
                                  spanID: spanID, flags: remote.parent.flags)
                remoteParent = remote.parent.spanID
            } else {
                ids = TraceParent(traceIDHigh: SpanIDs.next(), traceIDLow: SpanIDs.next(), spanID: spanID, flags: 1)
            }
            // Under a TraceTask the context carries (set by hand), a subtask
            // of it; else a task of its own, or a subtask of the task
            // `withCurrent` made current (a span inside `Trace.withTask`).
            // Not of a task in ServiceContext.current: `base` is the
            // context the span starts from, and had none.
            let task = carried.map { $0.task.subtask(name) } ?? TraceTask.ignoringServiceContext(name)
            // The first annotation may have found tracing off after all.
            guard task.id != 0 else { return TracedSpan(context: base, state: nil) }
            state = SpanState(name: name, ids: ids, traceState: remote?.traceState, task: task, owner: nil,
                              region: nil, runsOn: here)
        }
        var context = base
        context[TraceTaskContextKey.self] = state
        state.logContext(remoteParent: remoteParent)
        return TracedSpan(context: context, state: state)
    }

    /// The span's first record: `trace.context 00-<trace>-<span>-<flags>`,
    /// with ` parent=<span>` for a parent in another process.
    private func logContext(remoteParent: UInt64) {
        log(SpanCategory.context) { line in
            line.append(ids: ids)
            if remoteParent != 0 {
                line.append(" parent=")
                line.append(hex: remoteParent)
            }
        }
    }

    /// Makes `child` the innermost open region span of this owning span's
    /// task if `parent` is the innermost one now; false otherwise (the child
    /// becomes a subtask).
    private func pushRegion(_ child: UInt64, under parent: SpanState) -> Bool {
        mutable.withLock { state in
            guard !state.ended else { return false }
            let innermost = state.openRegions.last.map { $0 == parent.ids.spanID } ?? (parent === self)
            guard innermost else { return false }
            state.openRegions.append(child)
            return true
        }
    }

    private func popRegion(_ child: UInt64) {
        mutable.withLock { state in
            if let index = state.openRegions.lastIndex(of: child) { state.openRegions.remove(at: index) }
        }
    }

    /// Records the message `write` builds under `category`, attached to the
    /// span's task; a region span's messages start with `[name] ` (its
    /// name now, or `prefix`).
    func log(_ category: StaticString, prefix: String? = nil, _ write: (inout LogLine) -> Void) {
        guard Trace.isEnabled else { return }
        LogLine.build { line in
            if region != nil {
                line.append(UInt8(ascii: "["))
                line.append(bounded: prefix ?? name, limit: LogLine.valueLimit)
                line.append("] ")
            }
            write(&line)
            line.withMessage { task.log(category, utf8: $0) }
        }
    }

    func rename(_ newName: String) {
        let old = mutable.withLock { state in
            defer { state.name = newName }
            return state.name
        }
        guard old != newName else { return }
        // A task span's new name is its task's type from here on (analysis
        // applies `task.type`); a region's type stays, its rename is noted
        // as `[old] new` (docs/format.md), so that readers find the region
        // by the name its logs carried so far.
        log(region == nil ? SpanCategory.taskType : SpanCategory.name, prefix: old) { $0.append(bounded: newName) }
    }

    func setAttributes(_ attributes: SpanAttributes) {
        mutable.withLock { $0.attributes = attributes }
    }

    func end() {
        let attributes: SpanAttributes? = mutable.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            return state.attributes
        }
        guard let attributes else { return }
        if attributes.count == 1 {
            // One needs no order (and no array to sort it in).
            attributes.forEach { key, value in log(SpanCategory.attribute) { $0.append(pair: key, value) } }
        } else if !attributes.isEmpty {
            for (key, value) in SpanAttributeList(attributes).sorted {
                log(SpanCategory.attribute) { $0.append(pair: key, value) }
            }
        }
        if let region, let owner {
            region.end()
            owner.popRegion(ids.spanID)
        } else {
            task.end()
        }
    }
}

/// Span and trace ids: splitmix64 over a process-wide counter seeded from
/// the system's generator once, so that a span costs no syscall. Unique
/// within a process; random enough across processes for W3C's purposes.
enum SpanIDs {
    private static let counter = Atomic<UInt64>(0)
    private static let seed = UInt64.random(in: 1...UInt64.max)

    static func next() -> UInt64 {
        // Relaxed: only uniqueness matters, not ordering with other memory.
        let n = counter.add(1, ordering: .relaxed).newValue
        return SplitMix64.id(seed &+ n &* 0x9e37_79b9_7f4a_7c15)
    }
}

/// Who runs the code: the current Swift task (the runtime's id, not its
/// address, which a later task may reuse), or the thread outside one.
enum RunIdentity {
    static func current() -> UInt64 {
        let task = tc_swift_current_task()
        if task != 0 { return tc_swift_task_id(task) << 1 }
        return UInt64(pthread_self()) << 1 | 1
    }
}
