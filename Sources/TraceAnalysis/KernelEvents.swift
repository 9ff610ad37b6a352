import CTraceABI

/// A thread's state as it left its CPU (docs/format.md, "Kernel events").
package enum ThreadState: UInt8, Sendable {
    /// Preempted or yielded: it still wants a CPU.
    case runnable = 0
    /// Waiting, interruptibly (S): for a lock, I/O, a timer.
    case sleeping = 1
    /// Waiting uninterruptibly (D): mostly for a disk.
    case disk = 2
    case stopped = 3
    /// Its last switch: it exited.
    case dead = 4
    case other = 5

    package init(raw: UInt8) { self = ThreadState(rawValue: raw) ?? .other }
}

/// What a waiting thread waited for, as traced told it from the kernel
/// stack where it waited.
package enum WaitReason: UInt8, Sendable {
    case none = 0
    /// A futex: a lock, a condition variable, a semaphore.
    case lock = 1
    /// read, write, recv, send, poll, epoll, select, and disk waits.
    case io = 2
    /// nanosleep, clock_nanosleep.
    case sleep = 3
    /// Another system call.
    case syscall = 4

    package init(raw: UInt8) { self = WaitReason(rawValue: raw) ?? .none }
}

/// A thread leaving its CPU.
package struct SwitchOut: Equatable, Sendable {
    package var state: ThreadState
    package var wait: WaitReason
    /// The system call or kernel function it waits in (the empty name: not known).
    package var why: TraceName
    package var cpu: UInt32
    /// Its user stack there (0: none recorded).
    package var stack: UInt32
}

/// A thread made runnable by another.
package struct Wakeup: Equatable, Sendable {
    /// The waker's process in the trace (0: a process the trace does not
    /// record, or an interrupt) and its thread there (0: not known).
    package var wakerProcess: UInt32
    package var wakerThread: UInt32
    /// The CPU the woken thread is to run on.
    package var cpu: UInt32
}

/// What a process stat counts.
package enum ProcessStat: UInt32, CaseIterable, Sendable {
    case userCPUNanoseconds = 1
    case systemCPUNanoseconds = 2
    case residentBytes = 3
    case threads = 4
    case openFiles = 5
    case minorFaults = 6
    case majorFaults = 7
    case voluntarySwitches = 8
    case involuntarySwitches = 9

    /// Its name, with its unit where it has one: `dump` prints it, and the
    /// exports name its counter track after it ("stat NAME").
    package var name: String {
        switch self {
        case .userCPUNanoseconds: "user-cpu-ns"
        case .systemCPUNanoseconds: "system-cpu-ns"
        case .residentBytes: "rss-bytes"
        case .threads: "threads"
        case .openFiles: "open-fds"
        case .minorFaults: "minor-faults"
        case .majorFaults: "major-faults"
        case .voluntarySwitches: "voluntary-switches"
        case .involuntarySwitches: "involuntary-switches"
        }
    }
}
