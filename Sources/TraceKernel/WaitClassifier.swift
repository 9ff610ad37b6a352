/// What a thread that went to sleep waits for, as its kernel stack at the
/// switch says.
package enum WaitKind: Equatable, Hashable, Sendable {
    /// Not classified: still runnable (preempted, yielded), or asleep
    /// outside any syscall the rule names and not in I/O (a kernel
    /// thread's idle loop, a page fault waiting on a lock).
    case none
    /// A futex: a mutex, condition variable, semaphore, `join`.
    case lock
    /// A file, socket, pipe or device: reading, writing, polling for one,
    /// syncing; and any uninterruptible sleep (state D) not on a futex.
    case io
    /// A timer the thread asked for (`nanosleep`, `clock_nanosleep`,
    /// `pause`).
    case sleep
    /// Any other syscall (`wait4`, `mmap`, `exit_group`...): `why` names it.
    case syscall
}

/// A wait's kind and the name that explains it: the syscall (`futex`,
/// `read`, `epoll_wait`) or, outside one, the innermost kernel function
/// that is not the scheduler's; empty when nothing could be named.
package struct WaitCause: Equatable, Sendable {
    package var kind: WaitKind
    package var why: String

    package init(_ kind: WaitKind, _ why: String) {
        self.kind = kind
        self.why = why
    }

    package static let unknown = WaitCause(.none, "")
}

/// Classifies a switch-out by the kernel frames of its callchain
/// (docs/design.md, "Kernel events: the collector"):
///
/// 1. The outermost frame named `__x64_sys_NAME`, `__ia32_sys_NAME`,
///    `__se_sys_NAME`, `__do_sys_NAME` or `ksys_NAME` (a compiler suffix
///    such as `.constprop.0` cut off) is the syscall NAME. `ksys_` is there
///    because `__x64_sys_read` ends in a tail call to `ksys_read`, which
///    leaves no frame of its own: a pipe read's chain on Linux 6.18 is
///    `schedule`, `anon_pipe_read`, `vfs_read`, `ksys_read`,
///    `do_syscall_64` (and so for write, pread64, pwrite64). `futex` and
///    `futex_waitv` are `lock`; reads, writes, polls, accepts, connects,
///    syncs, io_uring and message queues `io`; `nanosleep`,
///    `clock_nanosleep` and `pause` `sleep`; any other `syscall`. In state D
///    anything but a lock is `io`.
/// 2. Without one, a frame `io_schedule*`, or state D, is `io`; anything
///    else `none`. `why` is then the innermost frame that is not the
///    scheduler's own (`__schedule`, `schedule*`, `io_schedule*`,
///    `__traceiter_*`, `perf_*`, `__perf_*`: the tracepoint's and
///    perf's frames above the switch).
///
/// A frame not in `symbols` (no CAP_SYSLOG, a return address outside the
/// kernel's text) counts for nothing, so with no symbols a switch-out is
/// `io` in state D and `none` otherwise, `why` empty.
package struct WaitClassifier: Sendable {
    /// What a kernel function says about a wait.
    enum Role: Equatable, Sendable {
        /// A syscall's entry: its kind, and its name's index in
        /// `syscallNames` (0 when classifying names, which carry it).
        case syscall(WaitKind, name: UInt16)
        /// `io_schedule*`: the scheduler entered for I/O.
        case ioSchedule
        /// The scheduler, the tracepoint, perf: never `why`.
        case scheduler
        case other
    }

    package let symbols: KernelSymbols
    /// The role of each symbol of `symbols`, by index.
    private let roles: [Role]
    /// The syscall names `Role.syscall` points at, made once: the `why`
    /// of most switch-outs is one of them.
    private let syscallNames: [String]

    /// Takes each symbol's role: 60-100 ms for Linux 6.18's 121,000
    /// (release build), once; the classifier is then shared by every ring.
    package init(symbols: KernelSymbols) {
        self.symbols = symbols
        var names: [String] = [], numbers: [String: UInt16] = [:]
        roles = (0..<symbols.count).map { index in
            let name = symbols.name(at: index)
            guard let (kind, syscall) = Self.syscall(in: name) else { return Self.role(of: name) }
            if let number = numbers[syscall] { return .syscall(kind, name: number) }
            // Linux 6.18 has ~1,000 distinct names here; a table with more
            // than 2^16 leaves the rest as plain functions.
            guard let number = UInt16(exactly: names.count) else { return .other }
            numbers[syscall] = number
            names.append(syscall)
            return .syscall(kind, name: number)
        }
        syscallNames = names
    }

    /// The cause of a switch-out in `state` whose kernel frames, innermost
    /// first, are `count` frames, frame `i` in symbol `symbol(i)` of
    /// `symbols` (nil: in none).
    package func classify(frames count: Int, symbol: (Int) -> Int?, state: TaskState) -> WaitCause {
        Self.decide(frames: count, state: state, role: { symbol($0).map { roles[$0] } }) { index, role in
            if case .syscall(_, let number) = role { return syscallNames[Int(number)] }
            return symbol(index).map(symbols.name(at:)) ?? ""
        }
    }

    /// The cause of a switch-out in `state` whose kernel return addresses,
    /// innermost first, are `addresses` (each looked up in `symbols`).
    package func classify(addresses: [UInt64], state: TaskState) -> WaitCause {
        classify(frames: addresses.count, symbol: { symbols.index(containing: addresses[$0]) }, state: state)
    }

    /// The cause of a switch-out in `state` whose kernel frames, innermost
    /// first, are the functions `names` (as `perf script` prints them).
    package static func classify(names: [String], state: TaskState) -> WaitCause {
        decide(frames: names.count, state: state, role: { role(of: names[$0]) }) { index, _ in
            syscall(in: names[index])?.name ?? names[index]
        }
    }

    /// The rule, on frames `0..<count` (innermost first) that `role` gives
    /// the role of (nil: unknown); `why` names the frame chosen. A
    /// switch-out's syscall entry is a few frames from the outer end,
    /// where the first scan starts.
    private static func decide(frames count: Int, state: TaskState, role: (Int) -> Role?,
                               why: (Int, Role) -> String) -> WaitCause {
        let uninterruptible = state == .uninterruptible
        for index in stride(from: count - 1, through: 0, by: -1) {
            guard let found = role(index), case .syscall(let kind, _) = found else { continue }
            return WaitCause(uninterruptible && kind != .lock ? .io : kind, why(index, found))
        }
        var inIO = uninterruptible, innermost: Int?
        for index in 0..<count {
            switch role(index) {
            case .ioSchedule?: inIO = true
            case .other?: if innermost == nil { innermost = index }
            case .scheduler?, .syscall?, nil: break
            }
            if inIO && innermost != nil { break }
        }
        return WaitCause(inIO ? .io : .none, innermost.map { why($0, .other) } ?? "")
    }

    static let syscallPrefixes = ["__x64_sys_", "__ia32_sys_", "__se_sys_", "__do_sys_", "ksys_"]
    static let schedulerPrefixes = ["schedule", "__traceiter_", "perf_", "__perf_"]

    /// The syscalls that are not `syscall`: what a thread blocked in them
    /// waits for.
    static let syscallKinds: [String: WaitKind] = {
        var kinds: [String: WaitKind] = ["futex": .lock, "futex_waitv": .lock,
                                         "nanosleep": .sleep, "clock_nanosleep": .sleep, "pause": .sleep]
        for name in ["read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64",
                     "recvfrom", "recvmsg", "recvmmsg", "sendto", "sendmsg", "sendmmsg",
                     "poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2",
                     "accept", "accept4", "connect", "io_uring_enter", "io_getevents", "io_pgetevents",
                     "fsync", "fdatasync", "sync_file_range", "splice", "sendfile64", "msgrcv", "mq_timedreceive"] {
            kinds[name] = .io
        }
        return kinds
    }()

    /// The kind and name of the syscall that function `name` enters, if
    /// it is one's entry: a prefix, then the name up to a compiler suffix.
    static func syscall(in name: String) -> (kind: WaitKind, name: String)? {
        // The prefixes are ASCII: characters and bytes count the same.
        for prefix in syscallPrefixes where name.hasPrefix(prefix) && name.count > prefix.count {
            let syscall = String(name.dropFirst(prefix.count).prefix { $0 != "." })
            return (syscallKinds[syscall] ?? .syscall, syscall)
        }
        return nil
    }

    static func role(of name: String) -> Role {
        if let (kind, _) = syscall(in: name) { return .syscall(kind, name: 0) }
        if name.hasPrefix("io_schedule") { return .ioSchedule }
        if name == "__schedule" || schedulerPrefixes.contains(where: name.hasPrefix) { return .scheduler }
        return .other
    }
}
