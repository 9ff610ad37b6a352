import TraceAnalysis
import TraceFormat

/// What the kernel saw the recorded threads do, in a Perfetto export:
/// switches and wakeups as ftrace scheduler events (`PerfettoSchedBundles`),
/// from which trace_processor builds `thread_state`; CPU samples as
/// `PerfSample`s (`PerfettoSamples`). Names and exits need nothing of their
/// own (a name goes with the thread's later events); process stats are
/// counter tracks of their process, which `PerfettoExporter` writes.
///
/// Kernel events name a thread by tid. A thread the client recorded is
/// already tied to its process by its thread track's descriptor (pid, tid);
/// for a thread only the kernel saw, a `ProcessTree` entry (tid, tgid)
/// does it when the thread first appears, and again with its name when the
/// kernel names it, so that trace_processor's `thread` table gives every
/// tid its process. A trace without kernel events writes nothing here.
final class PerfettoKernelExport {
    private struct Thread {
        /// Its current identity in the sched events (a new one per name).
        var identity: Int32
        var tid: Int32
    }

    private let packets: PerfettoPacketWriter
    private let names: (UInt32) -> String
    private let sched: PerfettoSchedBundles
    private let samples: PerfettoSamples
    private var pids: [UInt32: Int32] = [:]
    /// The threads the client recorded (tid and name), by `key`.
    private var recorded: [UInt64: (tid: Int32, name: String)] = [:]
    private var threads: [UInt64: Thread] = [:]

    init(packets: PerfettoPacketWriter, names: @escaping (UInt32) -> String,
         sampleStack: @escaping (UInt32, UInt32) -> [ProfileFrame]?) {
        self.packets = packets
        self.names = names
        sched = PerfettoSchedBundles(packets: packets)
        samples = PerfettoSamples(packets: packets, stack: sampleStack)
    }

    private static func key(_ process: UInt32, _ index: UInt32) -> UInt64 { UInt64(process) << 32 | UInt64(index) }

    func process(_ process: UInt32, pid: Int32) { pids[process] = pid }

    /// A thread the client recorded, as the exporter declared it.
    func thread(_ process: UInt32, index: UInt32, tid: Int32, name: String) {
        recorded[Self.key(process, index)] = (tid, name)
    }

    func event(_ event: TraceEvent) throws {
        switch event.kind {
        case .switchOut(let out):
            guard let thread = try identify(event.process, event.thread, at: event.time) else { return }
            let ioWait = Self.ioWait(Activity(out))
            let why = ioWait == nil || out.why.index == 0 ? 0 : sched.symbol(out.why.index) { names(out.why.index) }
            try sched.switchOut(time: event.time, cpu: out.cpu, identity: thread.identity, state: Self.taskState(out.state),
                                why: why, ioWait: ioWait)
        case .switchIn(let cpu):
            guard let thread = try identify(event.process, event.thread, at: event.time) else { return }
            try sched.switchIn(time: event.time, cpu: cpu, identity: thread.identity)
        case .wakeup(let wakeup):
            guard let thread = try identify(event.process, event.thread, at: event.time) else { return }
            var waker: Int32 = -1
            if wakeup.wakerProcess != 0, wakeup.wakerThread != 0,
               let known = try identify(wakeup.wakerProcess, wakeup.wakerThread, at: event.time) {
                waker = known.identity
            }
            try sched.waking(time: event.time, cpu: wakeup.cpu, identity: thread.identity, waker: waker)
        case .cpuSample(let cpu, let stack):
            guard let thread = try identify(event.process, event.thread, at: event.time) else { return }
            try samples.sample(time: event.time, cpu: cpu, process: event.process, pid: pids[event.process] ?? 0,
                               tid: thread.tid, stack: stack)
        case .threadName(let name):
            guard let thread = try identify(event.process, event.thread, at: event.time) else { return }
            let comm = Array(names(name.index).utf8)
            // traced may name a thread again in each of its batches.
            guard comm != sched.identity(at: thread.identity).comm else { return }
            threads[Self.key(event.process, event.thread)]?.identity = sched.identity(.init(tid: thread.tid, comm: comm))
            if KernelThread.tid(ofKey: event.thread) != nil, let pid = pids[event.process] {
                try packets.processTreeThread(time: event.time, tid: thread.tid, tgid: pid, name: comm)
            }
        default:
            break
        }
    }

    func finish() throws { try sched.finish() }

    /// Switches and wakeups left out: their CPU's number is past what
    /// trace_processor takes (a damaged trace).
    var leftOut: Int { sched.leftOut }

    /// The thread `index` of `process`, met for the first time at `time`:
    /// nil for a client's thread index the trace does not define (no tid).
    private func identify(_ process: UInt32, _ index: UInt32, at time: Int64) throws -> Thread? {
        let key = Self.key(process, index)
        if let known = threads[key] { return known }
        let tid: Int32
        var comm: [UInt8] = []
        if let kernel = KernelThread.tid(ofKey: index) {
            tid = Int32(bitPattern: kernel)
            if let pid = pids[process] { try packets.processTreeThread(time: time, tid: tid, tgid: pid, name: []) }
        } else if let client = recorded[key] {
            tid = client.tid
            comm = Array(client.name.utf8)
        } else {
            return nil
        }
        let thread = Thread(identity: sched.identity(.init(tid: tid, comm: comm)), tid: tid)
        threads[key] = thread
        return thread
    }

    /// The blocked reason's `io_wait` for a thread that left its CPU for
    /// `activity`, nil for no blocked reason: a wait the report names (lock,
    /// io, sleep, syscall) has one, io with `io_wait` set, so that
    /// `thread_state` tells the report's parts apart (an S wait on a pipe
    /// is io, which the UI shows as "Sleeping (IO)"); a wait the report
    /// calls unknown has none, though traced may know the kernel function
    /// it waits in, since a name alone would read as a syscall.
    private static func ioWait(_ activity: Activity) -> Bool? {
        switch activity {
        case .io: true
        case .lock, .sleep, .syscall: false
        // Suspended is a Swift task's, never a thread's own state.
        case .running, .runnable, .suspended, .unknown: nil
        }
    }

    /// sched_switch's `prev_state` for a thread leaving in `state`.
    private static func taskState(_ state: ThreadState) -> Int64 {
        switch state {
        case .runnable: PerfettoSchema.TaskState.runnable
        case .sleeping: PerfettoSchema.TaskState.interruptible
        case .disk: PerfettoSchema.TaskState.uninterruptible
        case .stopped: PerfettoSchema.TaskState.stopped
        case .dead: PerfettoSchema.TaskState.dead
        // Parked, idle and states traced does not name: I (idle), the one of
        // them a user thread may be in.
        case .other: PerfettoSchema.TaskState.idle
        }
    }
}
