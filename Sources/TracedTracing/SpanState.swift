import Synchronization
import Tracing
import TraceClient
#if canImport(Glibc)
import Glibc
#endif

/// What a recording span knows: its ids, the TraceClient task it belongs
/// to and, for a region span, its region. Allocated only while tracing is on.
final class SpanState: Sendable {
    let ids: TraceParent
    let traceState: String?
    /// The task the span's logs attach to: its own (a task span) or its
    /// parent's (a region span).
    let task: TraceTask
    /// The span that owns `task`; nil when this span does.
    let owner: SpanState?
    let region: TraceRegion?
    /// The Swift task (or, outside one, the thread) that started the span.
    let runsOn: UInt
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
                 region: TraceRegion?, runsOn: UInt) {
        self.ids = ids
        self.traceState = traceState
        self.task = task
        self.owner = owner
        self.region = region
        self.runsOn = runsOn
        self.mutable = Mutex(Mutable(name: name))
    }

    var name: String { mutable.withLock { $0.name } }
    var attributes: SpanAttributes { mutable.withLock { $0.attributes } }

    /// Starts a span under the span or remote parent in `context`, and
    /// returns it with its context.
    static func start(_ name: String, in base: ServiceContext) -> TracedSpan {
        let here = RunIdentity.current()
        let spanID = SpanIDs.next()
        var context = base
        let state: SpanState
        var parentNote = ""
        if let parent = base[SpanKey.self] {
            let ids = TraceParent(traceIDHigh: parent.ids.traceIDHigh, traceIDLow: parent.ids.traceIDLow,
                                  spanID: spanID, flags: parent.ids.flags)
            let owner = parent.owner ?? parent
            if parent.runsOn == here, owner.pushRegion(spanID, under: parent) {
                let region = owner.task.withCurrent { Trace.startRegion(name) }
                state = SpanState(name: name, ids: ids, traceState: parent.traceState, task: owner.task, owner: owner,
                                  region: region, runsOn: here)
            } else {
                let task = parent.task.withCurrent { TraceTask(name) }
                state = SpanState(name: name, ids: ids, traceState: parent.traceState, task: task, owner: nil,
                                  region: nil, runsOn: here)
            }
        } else {
            let remote = base[RemoteParentKey.self]
            let ids: TraceParent
            if let remote {
                ids = TraceParent(traceIDHigh: remote.parent.traceIDHigh, traceIDLow: remote.parent.traceIDLow,
                                  spanID: spanID, flags: remote.parent.flags)
                parentNote = " parent=\(remote.parent.spanIDString)"
            } else {
                ids = TraceParent(traceIDHigh: SpanIDs.next(), traceIDLow: SpanIDs.next(), spanID: spanID, flags: 1)
            }
            let task = TraceTask(name)
            // The first annotation may have found tracing off after all.
            guard task.id != 0 else { return TracedSpan(context: base, state: nil) }
            state = SpanState(name: name, ids: ids, traceState: remote?.traceState, task: task, owner: nil,
                              region: nil, runsOn: here)
        }
        context[SpanKey.self] = state
        if state.owner == nil { context.traceTask = state.task }
        state.log("trace.context", state.ids.description + parentNote)
        return TracedSpan(context: context, state: state)
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

    /// Records `message` under `category`, attached to the span's task; a
    /// region span's messages start with `[name] `.
    func log(_ category: StaticString, _ message: @autoclosure () -> String) {
        guard Trace.isEnabled else { return }
        let text = region == nil ? message() : "[\(name)] \(message())"
        task.withCurrent { Trace.log(category, text) }
    }

    func rename(_ newName: String) {
        let changed = mutable.withLock { state in
            defer { state.name = newName }
            return state.name != newName
        }
        guard changed else { return }
        // A task span's new name is its task's type from here on (analysis
        // applies `task.type`); a region's type stays, its rename is noted.
        if region == nil {
            log("task.type", SpanText.bounded(newName))
        } else {
            log("span.name", SpanText.bounded(newName))
        }
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
        var pairs: [(String, SpanAttribute)] = []
        attributes.forEach { pairs.append(($0, $1)) }
        for (key, value) in pairs.sorted(by: { $0.0 < $1.0 }) {
            log("span.attribute", SpanText.pair(key, value))
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
        var z = seed &+ n &* 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        z ^= z >> 31
        return z == 0 ? 1 : z
    }
}

/// Who runs the code: the current Swift task, or the thread outside one.
enum RunIdentity {
    static func current() -> UInt {
        if let task = withUnsafeCurrentTask(body: { $0?.hashValue }) { return UInt(bitPattern: task) << 1 }
        return UInt(pthread_self()) << 1 | 1
    }
}
