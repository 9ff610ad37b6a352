import CTraceABI
import TraceFormat
import TraceKernel
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's one kernel collector, shared by every session that records
/// execution events (docs/design.md, "Execution events"): open while such a
/// session runs, its records routed to the sessions that record the
/// process of each thread.
///
/// Order: the collector hands over each CPU's records in turn, and a
/// thread's events can come from two CPUs, so a drain sorts what it took
/// by time and hands on only what is older than the moment it began
/// (less `margin`): a record of that age was in its ring when the ring
/// was read. The rest waits for the next drain. So sessions get each
/// thread's events in time order, whatever CPU they came from.
///
/// Cost: a drain takes every process's records (hundreds of thousands a
/// second under a switching load), so what it keeps of each is small and
/// trivially copyable (`Held`, `RoutedEvent`), thread lookups go through
/// `ThreadTable`, and the routing state is moved into a local for the
/// drain (no exclusivity check per access to the class's properties).
final class ExecutionRecorder {
    private var collector: KernelCollector?
    /// The rate the collector samples at (0: no CPU samples).
    private(set) var sampleHertz = 0
    /// Why the collector could not be opened (logged once), with the
    /// setting that would enable it.
    private(set) var problem: String?
    private var sessions: [SessionExecution] = []
    private var routing = Routing()
    /// Processes forked by recorded processes since `takeChildren`.
    private var children: [(parent: Int32, child: Int32)] = []
    static let margin: UInt64 = 2_000_000

    /// What a drain needs, kept between drains.
    private struct Routing {
        /// Thread → process, for the threads of recorded processes.
        var processOf = ThreadTable()
        /// Thread → its entry in `routes` (built on its first event).
        var routeOf = ThreadTable()
        /// Per thread: the sessions recording it and their writer slots.
        var routes: [[(session: Int32, slot: Int32)]] = []
        /// Recorded process → the sessions recording it.
        var watchers: [Int32: [Int32]] = [:]
        /// Recorded processes whose main thread exited → how many of their
        /// threads have yet to switch out for the last time (see `hand`).
        var exiting: [Int32: Int] = [:]
        /// Records taken but not yet handed on (see "Order"), sorted by
        /// time at the end of each drain.
        var held: [Held] = []
        /// Strings of switch-outs and names, by `RoutedEvent.text`.
        var strings: [String] = []
        var stringIndex: [String: Int32] = [:]
        /// User stacks where threads left their CPU or were sampled, by
        /// `RoutedEvent.stack`, each once; past `maximumStacks` new ones are
        /// not kept.
        var stacks: [UserStack] = []
        var stackIndex: [UserStack: Int32] = [:]
        var lost: UInt64 = 0
        /// Switches, wakeups and samples of threads not (yet) known, and
        /// the unknown side of switches whose other side is known: a new
        /// thread's first ones can come from a CPU read before the one
        /// with its fork record, in this drain or the next. Looked at
        /// again if a drain finds a new thread; kept while as recent as
        /// what `held` holds back.
        var unknown: [KernelRecord] = []
        var newThreads = 0
        /// Forks of any process this drain: the kernel's filter is made
        /// again after them (`select`).
        var forks = 0
        var newChildren: [(parent: Int32, child: Int32)] = []
        /// This drain's executable mappings of recorded processes.
        var newMappings: [ExecutableMapping] = []

        mutating func stack(_ frames: [UInt64], cut: Bool) -> Int32 {
            if frames.isEmpty { return -1 }
            let stack = UserStack(frames: frames, cut: cut)
            if let index = stackIndex[stack] { return index }
            guard stacks.count < ExecutionRecorder.maximumStacks else { return -1 }
            let index = Int32(stacks.count)
            stacks.append(stack)
            stackIndex[stack] = index
            return index
        }

        mutating func text(_ value: String) -> Int32 {
            if value.isEmpty { return -1 }
            if let index = stringIndex[value] { return index }
            let index = Int32(strings.count)
            strings.append(value)
            stringIndex[value] = index
            return index
        }
    }

    /// A record of a recorded thread, as little as its events need.
    private struct Held {
        enum Kind: UInt8 { case switchRecord, wakeup, exit, name, sample }
        var time: UInt64
        var kind: Kind
        var cpu: Int32
        /// switch: previous and next; wakeup: wakee and waker; exit, name,
        /// sample: the thread and its process.
        var first: Int32
        var second: Int32
        var third: Int32 = 0
        /// switch: TC_STATE_*, dead flag in `flags`; wakeup: in interrupt.
        var state: UInt8 = 0
        var wait: UInt8 = 0
        var flags: UInt8 = 0
        /// The call (switch-out) or name: an index into `Routing.strings`.
        var text: Int32 = -1
        /// A switch-out's user stack: an index into `Routing.stacks`.
        var stack: Int32 = -1
    }

    /// A user stack from the kernel, and whether its callchain reached the
    /// kernel's bound (the same frames cut or whole are two stacks).
    struct UserStack: Hashable {
        var frames: [UInt64]
        var cut: Bool
    }

    /// Distinct user stacks kept while the collector is open.
    static let maximumStacks = 1 << 16

    var isOpen: Bool { collector != nil }
    var descriptors: [FileDescriptor] { collector?.descriptors ?? [] }

    /// Opens the collector if it is not open (or reopens it at another
    /// sample rate); on failure records why and returns false (each later
    /// call tries again: a capability granted, a sysctl changed). The
    /// tracepoints are read from `prepared` when `traced --prepare-kernel`
    /// copied them there (an unprivileged traced cannot read tracefs), from
    /// tracefs otherwise. Each CPU's ring is `ringSize` bytes (the
    /// `kernel_ring_size` setting), or less if no more can be locked.
    func open(log: Log, prepared: String, sampleHertz: Int, ringSize: Int) -> Bool {
        if collector != nil && sampleHertz == self.sampleHertz { return true }
        if collector != nil {
            drain(everything: true)
            collector = nil
        }
        do {
            // The prepared copy when there is one (an unreadable one is
            // said so, not blamed on tracefs); tracefs when there is none.
            let tracepoints: Tracepoints
            if access(prepared + "/events", F_OK) == 0 {
                tracepoints = Tracepoints(root: prepared)
            } else if errno != ENOENT && errno != ENOTDIR {
                throw KernelError.preparedUnreadable(SystemError("access", subject: prepared + "/events"))
            } else {
                tracepoints = try Tracepoints.locate(mounting: true)
            }
            // The kernel's symbols tell what a thread waits in; without them
            // (no CAP_SYSLOG, no prepared copy) waits are told by state only.
            let symbols: KernelSymbols
            let symbolProblem: String?
            do {
                symbols = try KernelSymbols.load(from: access(prepared + "/kallsyms", R_OK) == 0 ? prepared + "/kallsyms" : KernelSymbols.path)
                symbolProblem = symbols.isEmpty ? "the kernel's symbols read as 0 (traced lacks CAP_SYSLOG; run `traced --prepare-kernel` as root first): waits are told by state only" : nil
            } catch {
                symbols = KernelSymbols(parsing: [])
                symbolProblem = "\(error): waits are told by state only"
            }
            let wanted = max(ringSize, Int(sysconf(Int32(_SC_PAGESIZE))))
            let collector = try Self.openCollector(tracepoints, classifier: WaitClassifier(symbols: symbols),
                                                   sampleHertz: sampleHertz, ringSize: wanted)
            self.ringSize = collector.ringSize
            if collector.ringSize < wanted {
                log.notice("execution events: perf rings of \(collector.ringSize >> 10) KiB per CPU, not \(wanted >> 10): traced may lock no more memory (raise RLIMIT_MEMLOCK: LimitMEMLOCK= in the unit); a burst of switches loses records sooner, and they are counted")
            }
            if let symbolProblem { log.notice("execution events: \(symbolProblem)") }
            try collector.enable()
            self.collector = collector
            self.sampleHertz = sampleHertz
            if problem != nil { log.notice("execution events: recording again") }
            problem = nil
            return true
        } catch {
            let text = "\(error)"
            if problem != text { log.warning("execution events are not recorded: \(text); annotations are") }
            problem = text
            return false
        }
    }

    /// 16 MiB per CPU: a pipe ping-pong on 2 CPUs (~1,000,000 records a
    /// second) lost records with 4 MiB while traced waited for a CPU the
    /// load kept busy, and none with 16 MiB (docs/performance.md,
    /// "Execution events"). traced drains a ring when it is a quarter full.
    /// The default of `kernel_ring_size`.
    static let ringSize = 16 << 20

    /// The collector with the largest rings that can be locked: an
    /// unprivileged traced may lock only RLIMIT_MEMLOCK past
    /// kernel.perf_event_mlock_kb (8 MiB and 516 KiB a CPU by default), and
    /// raising the limit needs CAP_SYS_RESOURCE where traced starts. Smaller
    /// rings lose records sooner under a switching storm (counted).
    private static func openCollector(_ tracepoints: Tracepoints, classifier: WaitClassifier,
                                      sampleHertz: Int, ringSize: Int) throws(KernelError) -> KernelCollector {
        var size = ringSize
        while true {
            do {
                return try KernelCollector(tracepoints: tracepoints, ringSize: size, classifier: classifier,
                                           cpuSampleHertz: sampleHertz)
            } catch {
                guard case .map = error, size > minimumRingSize else { throw error }
                size /= 2
            }
        }
    }

    static let minimumRingSize = 512 << 10
    /// The rings' size per CPU of the open collector.
    private(set) var ringSize = 0

    func close() {
        collector = nil
        routing.held = []
        routing.unknown = []
        routing.processOf = ThreadTable()
        routing.routeOf = ThreadTable()
        routing.routes = []
        routing.exiting = [:]
    }

    /// The sessions and processes to record, after any change.
    func route(_ sessions: [SessionExecution]) {
        self.sessions = sessions
        var watchers: [Int32: [Int32]] = [:]
        for (index, session) in sessions.enumerated() {
            for pid in session.recordedPIDs { watchers[pid, default: []].append(Int32(index)) }
        }
        let lastThread = collector?.canSelect == true ? ThreadFilter.lastAllocatedThread() : nil
        for pid in watchers.keys where routing.watchers[pid] == nil {
            for tid in Self.threads(of: pid) { routing.processOf[tid] = pid }
        }
        routing.processOf.removeAll { _, pid in watchers[pid] == nil }
        routing.exiting = routing.exiting.filter { watchers[$0.key] != nil }
        routing.watchers = watchers
        if let collector { select(collector, lastThread: lastThread, &routing) }
        // Routes name sessions by index: built again as events come.
        routing.routeOf = ThreadTable()
        routing.routes = []
    }

    /// The thread ids of `pid` now (`/proc/PID/task`).
    static func threads(of pid: Int32) -> [Int32] {
        FileSystem.entries("/proc/\(pid)/task").compactMap { Int32($0) }
    }

    func takeChildren() -> [(parent: Int32, child: Int32)] {
        defer { children.removeAll() }
        return children
    }

    /// Takes what the rings hold and hands on what is old enough (all of
    /// it with `everything`, when a session stops or a client leaves), then
    /// lets the sessions forget the processes whose events up to their end
    /// are all handed on (`SessionExecution.retire`; also with no collector
    /// open, where nothing is pending), and routes again if one did.
    func drain(everything: Bool = false) {
        let began = tc_monotonic_ns()
        take(everything: everything, began: began)
        var retired = false
        for session in sessions where session.retire(through: began &- Self.margin) { retired = true }
        if retired { route(sessions) }
    }

    private func take(everything: Bool, began: UInt64) {
        guard let collector else { return }
        var routing = Routing()
        swap(&routing, &self.routing)
        defer { swap(&routing, &self.routing) }
        let heldBefore = routing.held.count
        // Read before the rings: a thread the kernel makes later has a
        // higher id, and the filter made from this drain records it.
        let lastThread = collector.canSelect ? ThreadFilter.lastAllocatedThread() : nil
        collector.drain { record in Self.take(record, into: &routing) }
        if routing.forks > 0 { select(collector, lastThread: lastThread, &routing) }
        if routing.newThreads > 0 {
            let unknown = routing.unknown
            routing.unknown.removeAll(keepingCapacity: true)
            for record in unknown { Self.take(record, into: &routing) }
        }
        let cutoff = everything ? UInt64.max : began &- Self.margin
        // A thread's fork record can come a drain late: its CPU's ring was
        // read before the fork, another CPU's after the thread ran there.
        // What is still unknown and as recent as what waits in `held` is
        // kept for the next drain to look at again.
        routing.unknown.removeAll { ($0.time ?? 0) < cutoff }
        routing.newThreads = 0
        children.append(contentsOf: routing.newChildren)
        routing.newChildren.removeAll()
        for mapping in routing.newMappings { describe(mapping, routing.watchers[mapping.pid] ?? []) }
        routing.newMappings.removeAll()
        if routing.lost > 0 {
            for session in sessions { session.lost = session.lost.saturatingAdd(routing.lost) }
            routing.lost = 0
        }
        guard !routing.held.isEmpty else { return }
        if routing.held.count > heldBefore { routing.held.sort { $0.time < $1.time } }
        let ready = routing.held.partitioningIndex { $0.time >= cutoff }
        guard ready > 0 else { return }
        var routed = [[RoutedEvent]](repeating: [], count: sessions.count)
        for index in 0..<ready { hand(routing.held[index], &routing, into: &routed) }
        routing.held.removeFirst(ready)
        for (index, events) in routed.enumerated() where !events.isEmpty {
            sessions[index].apply(events, strings: routing.strings, stacks: routing.stacks)
        }
    }

    /// Makes the kernel record only the switches and wakings of recorded
    /// threads, and of threads newer than `lastThread` (until a later
    /// drain reads their forks): docs/design.md, "Kernel events: the
    /// collector". Past the filter's length, or without `lastThread`,
    /// every thread's, as before.
    private func select(_ collector: KernelCollector, lastThread: Int32?, _ routing: inout Routing) {
        let filter = lastThread.flatMap { ThreadFilter(threads: routing.processOf.entries.map(\.key), newerThan: $0) }
        do {
            try collector.select(filter)
            routing.forks = 0
        } catch {
            // Still recording, with the events it had: more records, none
            // lost. Tried again after the next drain that reads a fork.
            if filterProblem != "\(error)" { unloggedFilterProblem = "\(error)" }
            filterProblem = "\(error)"
        }
    }

    /// Why the kernel could not be told which threads to record, if it
    /// could not (`select`): the old filter, or none, stays.
    private var filterProblem: String?
    private var unloggedFilterProblem: String?

    /// A new reason the kernel could not be told which threads to record,
    /// once, for the daemon to log.
    func takeFilterProblem() -> String? {
        defer { unloggedFilterProblem = nil }
        return unloggedFilterProblem
    }

    /// Keeps what concerns recorded threads of one record (the rings hold
    /// every process's).
    private static func take(_ record: KernelRecord, into routing: inout Routing) {
        switch record {
        case .contextSwitch(let change):
            let previous = change.previousTID > 0 && routing.processOf[change.previousTID] != nil
            let next = change.nextTID > 0 && routing.processOf[change.nextTID] != nil
            guard previous || next else {
                routing.unknown.append(record)
                return
            }
            // The side not known yet may be a new thread whose fork record
            // this drain has yet to take (its first switch-in is often from
            // the thread that made it and then waits for it): that side is
            // looked at again, alone, as `unknown` is.
            if !next, change.nextTID > 0 {
                routing.unknown.append(.contextSwitch(ContextSwitch(
                    time: change.time, cpu: change.cpu, previousTID: 0, previousPID: nil, previousState: .running,
                    preempted: false, nextTID: change.nextTID)))
            } else if !previous, change.previousTID > 0 {
                var out = change
                out.nextTID = 0
                routing.unknown.append(.contextSwitch(out))
            }
            let (wait, why) = Self.wait(of: change)
            routing.held.append(Held(
                time: change.time, kind: .switchRecord, cpu: Int32(clamping: change.cpu),
                first: previous ? change.previousTID : 0, second: next ? change.nextTID : 0,
                state: UInt8(Self.state(change.previousState)), wait: UInt8(wait),
                // Z is the last switch of a thread its parent has yet to
                // reap (a main thread), X of one that is gone.
                flags: change.previousState == .dead || change.previousState == .zombie ? 1 : 0, text: previous ? routing.text(why) : -1,
                stack: previous ? routing.stack(change.userStack, cut: change.stackCut) : -1))
        case .wakeup(let wakeup):
            guard wakeup.wakeeTID > 0, routing.processOf[wakeup.wakeeTID] != nil else {
                routing.unknown.append(record)
                return
            }
            routing.held.append(Held(
                time: wakeup.time, kind: .wakeup, cpu: Int32(clamping: wakeup.cpu), first: wakeup.wakeeTID,
                second: wakeup.inInterrupt ? 0 : wakeup.wakerTID, third: wakeup.inInterrupt ? 0 : wakeup.wakerPID))
        case .fork(let task):
            routing.forks += 1
            // A new thread of a recorded process is known at once: its
            // first switch may come from a CPU drained before this one.
            if routing.watchers[task.pid] != nil {
                routing.processOf[task.tid] = task.pid
                routing.newThreads += 1
            }
            // A new process forked by a recorded one: its unit's, if a
            // session records a unit (`takeChildren`).
            if task.pid == task.tid, routing.watchers[task.parentPID] != nil {
                routing.newChildren.append((task.parentPID, task.pid))
            }
        case .exit(let task):
            guard task.tid > 0, routing.processOf[task.tid] != nil else { return }
            routing.held.append(Held(time: task.time, kind: .exit, cpu: 0, first: task.tid, second: task.pid))
        case .name(let name):
            guard routing.watchers[name.pid] != nil else { return }
            routing.processOf[name.tid] = name.pid
            routing.held.append(Held(time: name.time, kind: .name, cpu: 0, first: name.tid, second: name.pid,
                                     text: routing.text(name.name)))
        case .sample(let sample):
            guard sample.tid > 0, routing.processOf[sample.tid] != nil else {
                routing.unknown.append(record)
                return
            }
            routing.held.append(Held(time: sample.time, kind: .sample, cpu: Int32(clamping: sample.cpu), first: sample.tid,
                                     second: sample.pid, stack: routing.stack(sample.stack, cut: sample.stackCut)))
        case .mapping(let mapping):
            guard routing.watchers[mapping.pid] != nil else { return }
            routing.newMappings.append(mapping)
        case .lost(_, let count):
            routing.lost = routing.lost.saturatingAdd(count)
        }
    }

    /// The image of a new executable mapping, for the sessions that
    /// describe its process themselves (a client writes its own images).
    /// Images are not events: they go out with the next flush, in no
    /// order with the batches. The file is read once for all sessions.
    private func describe(_ mapping: ExecutableMapping, _ watchers: [Int32]) {
        let describing = watchers.map { sessions[Int($0)] }.filter { $0.describes(mapping.pid) }
        guard !describing.isEmpty, let image = MappedImages.image(of: mapping) else { return }
        for session in describing { session.image(pid: mapping.pid, image) }
    }

    /// The sessions and writer slots of `tid`, built on its first event.
    private func targets(of tid: Int32, _ routing: inout Routing) -> Int32? {
        if let route = routing.routeOf[tid] { return route }
        guard let pid = routing.processOf[tid] else { return nil }
        var targets: [(session: Int32, slot: Int32)] = []
        for session in routing.watchers[pid] ?? [] {
            if let slot = sessions[Int(session)].slot(pid: pid, tid: tid) { targets.append((session, slot)) }
        }
        let route = Int32(routing.routes.count)
        routing.routes.append(targets)
        routing.routeOf[tid] = route
        return route
    }

    /// Routes one record's events; a main thread's exit sets when its
    /// process's recording ends.
    private func hand(_ record: Held, _ routing: inout Routing, into routed: inout [[RoutedEvent]]) {
        func each(_ tid: Int32, _ event: RoutedEvent) {
            guard let route = targets(of: tid, &routing) else { return }
            for (session, slot) in routing.routes[Int(route)] {
                var event = event
                event.slot = slot
                routed[Int(session)].append(event)
            }
        }
        switch record.kind {
        case .switchRecord:
            if record.first > 0 {
                each(record.first, RoutedEvent(time: record.time, slot: 0, kind: .switchOut, state: record.state,
                                               wait: record.wait, cpu: UInt32(clamping: record.cpu), text: record.text,
                                               stack: record.stack))
                if record.flags & 1 != 0, let pid = routing.processOf[record.first] {
                    routing.processOf[record.first] = nil
                    // The last of an exited process's threads ends it here.
                    if let left = routing.exiting[pid] {
                        routing.exiting[pid] = left > 1 ? left - 1 : nil
                        if left <= 1 { for session in routing.watchers[pid] ?? [] { sessions[Int(session)].end(pid: pid, at: record.time) } }
                    }
                }
            }
            if record.second > 0 {
                each(record.second, RoutedEvent(time: record.time, slot: 0, kind: .switchIn, cpu: UInt32(clamping: record.cpu)))
            }
        case .wakeup:
            each(record.first, RoutedEvent(time: record.time, slot: 0, kind: .wakeup, cpu: UInt32(clamping: record.cpu),
                                           wakerPID: record.third, wakerTID: record.second))
        case .exit:
            each(record.first, RoutedEvent(time: record.time, slot: 0, kind: .exit))
            // The main thread's exit ends the process once each thread known
            // (the main one too: its exit record comes before its last
            // switch) has switched out for the last time, or `exitGrace`
            // after it if such a switch is never seen (a lost record, or a
            // main thread that called pthread_exit while others run on).
            if record.first == record.second {
                let pid = record.second
                routing.exiting[pid] = routing.processOf.entries.reduce(0) { $1.value == pid ? $0 + 1 : $0 }
                for session in routing.watchers[pid] ?? [] {
                    sessions[Int(session)].end(pid: pid, at: record.time.saturatingAdd(SessionExecution.exitGrace))
                }
            }
        case .name:
            each(record.first, RoutedEvent(time: record.time, slot: 0, kind: .name, text: record.text))
        case .sample:
            each(record.first, RoutedEvent(time: record.time, slot: 0, kind: .sample, cpu: UInt32(clamping: record.cpu),
                                           stack: record.stack))
        }
    }

    /// TC_STATE_* of the kernel's state.
    static func state(_ state: TaskState) -> Int {
        switch state {
        case .running: TC_STATE_RUNNABLE
        case .sleeping: TC_STATE_SLEEPING
        case .uninterruptible: TC_STATE_DISK
        case .stopped, .traced: TC_STATE_STOPPED
        case .dead, .zombie: TC_STATE_DEAD
        case .parked, .idle, .other: TC_STATE_OTHER
        }
    }

    /// TC_WAIT_* and the call a thread that left its CPU waits in.
    static func wait(of change: ContextSwitch) -> (Int, String) {
        switch change.wait {
        case .lock: (TC_WAIT_LOCK, change.why)
        case .io: (TC_WAIT_IO, change.why)
        case .sleep: (TC_WAIT_SLEEP, change.why)
        case .syscall: (TC_WAIT_SYSCALL, change.why)
        case .none: (change.previousState == .uninterruptible ? TC_WAIT_IO : TC_WAIT_NONE, change.why)
        }
    }
}

extension Array {
    /// The index of the first element for which `belongs` holds, in an
    /// array where those elements all come after the others.
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
