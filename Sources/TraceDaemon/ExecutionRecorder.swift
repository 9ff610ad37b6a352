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
final class ExecutionRecorder {
    private var collector: KernelCollector?
    /// Why the collector could not be opened (logged once), with the
    /// setting that would enable it.
    private(set) var problem: String?
    /// Thread → process, for the threads of recorded processes.
    private var processOf: [Int32: Int32] = [:]
    /// Recorded process → the sessions recording it.
    private var watchers: [Int32: [SessionExecution]] = [:]
    private var sessions: [SessionExecution] = []
    /// Records taken but not yet handed on (see "Order").
    private var held: [KernelRecord] = []
    /// Processes forked by recorded processes since `takeChildren`.
    private var children: [(parent: Int32, child: Int32)] = []

    func takeChildren() -> [(parent: Int32, child: Int32)] {
        defer { children.removeAll() }
        return children
    }

    /// One drain's records, all processes' (kept to reuse its storage).
    private var taken: [KernelRecord] = []
    /// Records lost in the rings since the last drain handed them out.
    private(set) var lostTotal: UInt64 = 0
    static let margin: UInt64 = 2_000_000

    var isOpen: Bool { collector != nil }
    var descriptors: [FileDescriptor] { collector?.descriptors ?? [] }

    /// Opens the collector if it is not open; on failure records why and
    /// returns false (each later call tries again: a capability granted, a
    /// sysctl changed).
    /// The tracepoints are read from `prepared` when `traced
    /// --prepare-kernel` copied them there (an unprivileged traced cannot
    /// read tracefs), from tracefs otherwise.
    func open(log: Log, prepared: String) -> Bool {
        if collector != nil { return true }
        do {
            let tracepoints = access(prepared + "/events", F_OK) == 0
                ? Tracepoints(root: prepared) : try Tracepoints.locate(mounting: true)
            let collector = try KernelCollector(tracepoints: tracepoints, ringSize: Self.ringSize)
            try collector.enable()
            self.collector = collector
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

    /// 4 MiB per CPU: at 100,000 switches a second on a CPU, each with a
    /// wakeup and their callchains (~250 bytes a record), 80 ms of records;
    /// traced drains a ring as soon as it is a quarter full.
    static let ringSize = 4 << 20

    func close() {
        collector = nil
        held = []
        processOf = [:]
    }

    /// The sessions and processes to record, after any change.
    func route(_ sessions: [SessionExecution]) {
        self.sessions = sessions
        var watchers: [Int32: [SessionExecution]] = [:]
        for session in sessions {
            for pid in session.recordedPIDs { watchers[pid, default: []].append(session) }
        }
        for pid in watchers.keys where self.watchers[pid] == nil {
            for tid in Self.threads(of: pid) { processOf[tid] = pid }
        }
        processOf = processOf.filter { watchers[$0.value] != nil }
        self.watchers = watchers
    }

    /// The thread ids of `pid` now (`/proc/PID/task`).
    static func threads(of pid: Int32) -> [Int32] {
        FileSystem.entries("/proc/\(pid)/task").compactMap { Int32($0) }
    }

    /// Takes what the rings hold and hands on what is old enough (all of
    /// it with `everything`, after the collector stopped).
    func drain(everything: Bool = false) {
        guard let collector else { return }
        let began = tc_monotonic_ns()
        taken.removeAll(keepingCapacity: true)
        collector.drain { record in
            switch record {
            case .lost(_, let count): lostTotal = lostTotal.saturatingAdd(count)
            case .mapping: break
            case .fork(let task):
                // A new thread of a recorded process: known before its
                // first switch is looked at (it may come from a CPU drained
                // before this fork's).
                if watchers[task.pid] != nil { processOf[task.tid] = task.pid }
                // A new process forked by a recorded one: its unit's, if
                // a session records a unit (`takeChildren`).
                if task.pid == task.tid, watchers[task.parentPID] != nil { children.append((task.parentPID, task.pid)) }
                taken.append(record)
            default: taken.append(record)
            }
        }
        // Only what concerns recorded threads is kept and sorted: the
        // rings hold every process's.
        for record in taken where concernsRecorded(record) { held.append(record) }
        guard !held.isEmpty else { return }
        held.sort { ($0.time ?? 0) < ($1.time ?? 0) }
        let cutoff = everything ? UInt64.max : began &- Self.margin
        let ready = held.partitioningIndex { ($0.time ?? 0) >= cutoff }
        for record in held[..<ready] { hand(record) }
        held.removeFirst(ready)
        if lostTotal > 0 {
            for session in sessions { session.lost = session.lost.saturatingAdd(lostTotal) }
            lostTotal = 0
        }
    }

    private func concernsRecorded(_ record: KernelRecord) -> Bool {
        switch record {
        case .contextSwitch(let change): processOf[change.previousTID] != nil || processOf[change.nextTID] != nil
        case .wakeup(let wakeup): processOf[wakeup.wakeeTID] != nil
        case .fork(let task), .exit(let task): processOf[task.tid] != nil
        case .name(let name): watchers[name.pid] != nil
        case .mapping, .lost: false
        }
    }

    private func hand(_ record: KernelRecord) {
        switch record {
        case .contextSwitch(let change):
            if let pid = processOf[change.previousTID] {
                let (wait, why) = Self.wait(of: change)
                for session in watchers[pid] ?? [] {
                    session.switchOut(pid: pid, tid: change.previousTID, at: change.time, state: Self.state(change.previousState),
                                      cpu: change.cpu, wait: wait, why: why)
                }
                if change.previousState == .dead { processOf[change.previousTID] = nil }
            }
            if let pid = processOf[change.nextTID] {
                for session in watchers[pid] ?? [] {
                    session.switchIn(pid: pid, tid: change.nextTID, at: change.time, cpu: change.cpu)
                }
            }
        case .wakeup(let wakeup):
            guard let pid = processOf[wakeup.wakeeTID] else { return }
            let waker = wakeup.inInterrupt || wakeup.wakerTID <= 0 ? nil : (pid: wakeup.wakerPID, tid: wakeup.wakerTID)
            for session in watchers[pid] ?? [] {
                session.wakeup(pid: pid, tid: wakeup.wakeeTID, at: wakeup.time, cpu: wakeup.cpu, waker: waker)
            }
        case .fork(let task):
            guard watchers[task.pid] != nil else { return }
            processOf[task.tid] = task.pid
        case .exit(let task):
            guard let pid = processOf[task.tid] else { return }
            for session in watchers[pid] ?? [] {
                session.exit(pid: pid, tid: task.tid, at: task.time)
                // The main thread's exit ends the process.
                if task.tid == pid { session.remove(pid: pid) }
            }
        case .name(let name):
            guard watchers[name.pid] != nil else { return }
            processOf[name.tid] = name.pid
            for session in watchers[name.pid] ?? [] { session.name(pid: name.pid, tid: name.tid, at: name.time, name.name) }
        case .mapping, .lost:
            break
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
        change.previousState == .uninterruptible ? (TC_WAIT_IO, "") : (TC_WAIT_NONE, "")
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
