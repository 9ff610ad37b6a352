/// One scheduler or process event, as `KernelCollector.drain` hands it on.
///
/// Times are CLOCK_MONOTONIC nanoseconds, the clock `clock_gettime` reads.
/// Thread and process ids are the kernel's (`gettid()`, `getpid()`) in
/// the collector's pid namespace (`PidNamespaceTranslation` for those of
/// the tracepoints' raw fields); 0 is a CPU's idle task, or a thread that
/// namespace cannot see.
package enum KernelRecord: Equatable, Sendable {
    /// A CPU stopped running one thread and started another (sched_switch).
    case contextSwitch(ContextSwitch)
    /// A thread made a sleeping thread runnable (sched_waking).
    case wakeup(Wakeup)
    /// A process or thread was created (`PERF_RECORD_FORK`; a thread's
    /// `pid` is its process's).
    case fork(TaskLifecycle)
    /// A process or thread ended (`PERF_RECORD_EXIT`).
    case exit(TaskLifecycle)
    /// A thread took a name, by exec or by prctl (`PERF_RECORD_COMM`).
    indirect case name(TaskName)
    /// A process mapped an executable file (`PERF_RECORD_MMAP2`).
    indirect case mapping(ExecutableMapping)
    /// A thread was running when the CPU's sampling clock ticked
    /// (`KernelCollector`'s `cpuSampleHertz`).
    case sample(CPUSample)
    /// The ring of `cpu` had no room for `count` records
    /// (`PERF_RECORD_LOST`): they happened between the records of that CPU
    /// before and after this one.
    case lost(cpu: Int, count: UInt64)

    /// When it happened; nil for `lost`.
    package var time: UInt64? {
        switch self {
        case .contextSwitch(let record): record.time
        case .wakeup(let record): record.time
        case .fork(let record), .exit(let record): record.time
        case .name(let record): record.time
        case .mapping(let record): record.time
        case .sample(let record): record.time
        case .lost: nil
        }
    }
}

/// sched_switch: on `cpu` at `time`, `previousTID` stopped running in
/// `previousState` and `nextTID` started. With callchains (the collector's
/// default), a thread that went to sleep says what for (`wait`, `why`) and
/// where its own code was (`userStack`).
package struct ContextSwitch: Equatable, Sendable {
    package var time: UInt64
    package var cpu: Int
    package var previousTID: Int32
    /// The process of `previousTID`, unless the kernel no longer knew it
    /// (a thread switching out for the last time, in state `dead`).
    package var previousPID: Int32?
    package var previousState: TaskState
    /// Switched out while still runnable because something else was to run
    /// (`R+` in ftrace): preemption, not a sleep or a yield.
    package var preempted: Bool
    package var nextTID: Int32
    /// What the previous thread waits for, from its kernel frames
    /// (`WaitClassifier`); `none` when it is still runnable or without
    /// callchains.
    package var wait: WaitKind
    /// The syscall it waits in (`futex`, `read`), or else the innermost
    /// kernel function that explains the wait; empty when unknown.
    package var why: String
    /// The previous thread's user return addresses, innermost first (where
    /// it entered the kernel, then its callers as far as frame pointers
    /// lead); empty for a kernel thread or without callchains.
    package var userStack: [UInt64]
    /// The callchain reached its limit (127 entries): `userStack` may lack
    /// its outermost frames.
    package var stackCut: Bool

    package init(time: UInt64, cpu: Int, previousTID: Int32, previousPID: Int32?, previousState: TaskState,
                 preempted: Bool, nextTID: Int32, wait: WaitKind = .none, why: String = "", userStack: [UInt64] = [],
                 stackCut: Bool = false) {
        self.time = time
        self.cpu = cpu
        self.previousTID = previousTID
        self.previousPID = previousPID
        self.previousState = previousState
        self.preempted = preempted
        self.nextTID = nextTID
        self.wait = wait
        self.why = why
        self.userStack = userStack
        self.stackCut = stackCut
    }
}

/// The sampling clock found thread `tid` of process `pid` running on `cpu`
/// at `time` (in user code or in the kernel on its behalf). The idle task
/// is never sampled: an idle CPU leaves no record.
package struct CPUSample: Equatable, Sendable {
    package var time: UInt64
    package var cpu: Int
    package var pid: Int32
    package var tid: Int32
    /// Its user return addresses, innermost first: the instruction it was
    /// at (or entered the kernel from), then its callers as far as frame
    /// pointers lead; empty for a kernel thread.
    package var stack: [UInt64]
    /// The callchain reached its limit (127 entries): `stack` may lack its
    /// outermost frames.
    package var stackCut: Bool

    package init(time: UInt64, cpu: Int, pid: Int32, tid: Int32, stack: [UInt64], stackCut: Bool = false) {
        self.time = time
        self.cpu = cpu
        self.pid = pid
        self.tid = tid
        self.stack = stack
        self.stackCut = stackCut
    }
}

/// What a thread that switches out waits for: the one bit of the kernel's
/// TASK_REPORT state (linux/sched.h) that sched_switch's `prev_state`
/// carries, as `ps` and ftrace print them.
package enum TaskState: Equatable, Hashable, Sendable {
    /// R: runnable (preempted, or it yielded).
    case running
    /// S: asleep until woken or signalled (a lock, a read, a timer).
    case sleeping
    /// D: asleep until woken, signals wait (most disk I/O).
    case uninterruptible
    /// T: stopped by a signal.
    case stopped
    /// t: stopped by a debugger.
    case traced
    /// X: dead; it never runs again.
    case dead
    /// Z: exited, not yet reaped.
    case zombie
    /// P: a parked kernel thread.
    case parked
    /// I: an idle kernel thread.
    case idle
    /// Bits this decoder does not know, as the kernel gave them.
    case other(Int64)

    /// The state of `prev_state`, without the preempted bit (0x100,
    /// TASK_REPORT_MAX, since Linux 4.14).
    package init(reported: Int64) {
        switch reported & ~TaskState.preemptedBit {
        case 0: self = .running
        case 0x01: self = .sleeping
        case 0x02: self = .uninterruptible
        case 0x04: self = .stopped
        case 0x08: self = .traced
        case 0x10: self = .dead
        case 0x20: self = .zombie
        case 0x40: self = .parked
        case 0x80: self = .idle
        case let bits: self = .other(bits)
        }
    }

    static let preemptedBit: Int64 = 0x100
}

/// sched_waking: at `time`, on `cpu`, the running thread `wakerTID` (of
/// process `wakerPID`) woke `wakeeTID`.
package struct Wakeup: Equatable, Sendable {
    package var time: UInt64
    package var cpu: Int
    package var wakerTID: Int32
    package var wakerPID: Int32
    package var wakeeTID: Int32
    /// Woken from an interrupt (hard, soft or NMI): `wakerTID` is only the
    /// thread the interrupt happened to stop (a timer firing, I/O
    /// completing), not the cause.
    package var inInterrupt: Bool

    package init(time: UInt64, cpu: Int, wakerTID: Int32, wakerPID: Int32, wakeeTID: Int32, inInterrupt: Bool) {
        self.time = time
        self.cpu = cpu
        self.wakerTID = wakerTID
        self.wakerPID = wakerPID
        self.wakeeTID = wakeeTID
        self.inInterrupt = inInterrupt
    }
}

/// A task created (`fork`) or ended (`exit`): thread `tid` of process
/// `pid`; its parent thread `parentTID` of `parentPID`.
package struct TaskLifecycle: Equatable, Sendable {
    package var time: UInt64
    package var pid: Int32
    package var tid: Int32
    package var parentPID: Int32
    package var parentTID: Int32

    package init(time: UInt64, pid: Int32, tid: Int32, parentPID: Int32, parentTID: Int32) {
        self.time = time
        self.pid = pid
        self.tid = tid
        self.parentPID = parentPID
        self.parentTID = parentTID
    }
}

/// Thread `tid` of `pid` is now called `name` (at most 15 bytes, the
/// kernel's `comm`); `isExec` when an exec set it.
package struct TaskName: Equatable, Sendable {
    package var time: UInt64
    package var pid: Int32
    package var tid: Int32
    package var name: String
    package var isExec: Bool

    package init(time: UInt64, pid: Int32, tid: Int32, name: String, isExec: Bool) {
        self.time = time
        self.pid = pid
        self.tid = tid
        self.name = name
        self.isExec = isExec
    }
}

/// Process `pid` mapped `length` bytes of `path` from `fileOffset` at
/// `address`, executable (`mmap(2)` by thread `tid`, or exec).
package struct ExecutableMapping: Equatable, Sendable {
    package var time: UInt64
    package var pid: Int32
    package var tid: Int32
    package var address: UInt64
    package var length: UInt64
    package var fileOffset: UInt64
    /// `PROT_*` bits.
    package var protection: UInt32
    /// The file's GNU build id (20 bytes for most toolchains); empty when
    /// the kernel could not read it (`[vdso]`, a file without one).
    package var buildID: [UInt8]
    package var path: String

    package init(time: UInt64, pid: Int32, tid: Int32, address: UInt64, length: UInt64, fileOffset: UInt64,
                 protection: UInt32, buildID: [UInt8], path: String) {
        self.time = time
        self.pid = pid
        self.tid = tid
        self.address = address
        self.length = length
        self.fileOffset = fileOffset
        self.protection = protection
        self.buildID = buildID
        self.path = path
    }
}
