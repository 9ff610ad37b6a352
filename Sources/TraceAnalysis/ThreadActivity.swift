/// What a thread was doing at a moment, as the kernel's events tell it
/// (docs/analysis.md, "Where the time went: execution"): the parts a span's
/// wall time splits into. Named as Go's goroutine analysis names them where they
/// mean the same.
package enum Activity: Int, CaseIterable, Sendable {
    /// On a CPU ("Execution").
    case running
    /// Wanting a CPU: preempted, or woken and not yet on one ("Scheduler wait").
    case runnable
    /// Waiting for a lock: a futex ("Sync block").
    case lock
    /// Waiting for I/O: read, recv, poll, epoll and the like, or in D state ("IO wait").
    case io
    /// In nanosleep or clock_nanosleep.
    case sleep
    /// Waiting in another system call ("Syscall block").
    case syscall
    /// A Swift task's span on no thread: suspended at an `await`, from its
    /// thread's going idle to a thread's leaving idle to run it again.
    case suspended
    /// Not known: before the thread's first kernel event, a wait the kernel
    /// stack did not tell, or the part of a span whose Swift task moved
    /// threads that idle threads did not tell (`ThreadActivity.Untold`).
    case unknown

    package var name: String {
        switch self {
        case .running: "running"
        case .runnable: "runnable"
        case .lock: "lock"
        case .io: "io"
        case .sleep: "sleep"
        case .syscall: "syscall"
        case .suspended: "suspended"
        case .unknown: "unknown"
        }
    }

    /// The wait a thread entered by leaving its CPU.
    package init(_ out: SwitchOut) {
        switch out.state {
        case .runnable: self = .runnable
        case .disk: self = out.wait == .none ? .io : Activity(out.wait)
        case .sleeping: self = Activity(out.wait)
        case .stopped, .dead, .other: self = .unknown
        }
    }

    init(_ wait: WaitReason) {
        switch wait {
        case .lock: self = .lock
        case .io: self = .io
        case .sleep: self = .sleep
        case .syscall: self = .syscall
        case .none: self = .unknown
        }
    }
}

/// Nanoseconds by activity: parts that do not overlap and add up to the
/// span's wall time. Stored fields, not an array: every default
/// `TypeStatistics` the summary makes would allocate one. Encoded as an
/// object of nanoseconds by `Activity.name` (`tracectl tasks --json`).
package struct ActivityTimes: Equatable, Sendable, Codable {
    private var running: Int64 = 0
    private var runnable: Int64 = 0
    private var lock: Int64 = 0
    private var io: Int64 = 0
    private var sleep: Int64 = 0
    private var syscall: Int64 = 0
    private var suspended: Int64 = 0
    private var unknown: Int64 = 0

    package init() {}

    package subscript(_ activity: Activity) -> Int64 {
        get {
            switch activity {
            case .running: running
            case .runnable: runnable
            case .lock: lock
            case .io: io
            case .sleep: sleep
            case .syscall: syscall
            case .suspended: suspended
            case .unknown: unknown
            }
        }
        set {
            switch activity {
            case .running: running = newValue
            case .runnable: runnable = newValue
            case .lock: lock = newValue
            case .io: io = newValue
            case .sleep: sleep = newValue
            case .syscall: syscall = newValue
            case .suspended: suspended = newValue
            case .unknown: unknown = newValue
            }
        }
    }

    package var total: Int64 { Activity.allCases.reduce(0) { $0.saturatingAdd(self[$1]) } }

    mutating func add(_ activity: Activity, _ duration: Int64) {
        self[activity] = self[activity].saturatingAdd(max(duration, 0))
    }

    package mutating func add(_ other: ActivityTimes) {
        for activity in Activity.allCases { self[activity] = self[activity].saturatingAdd(other[activity]) }
    }

    /// All of it as one activity (a span whose thread is not known throughout).
    static func all(_ activity: Activity, _ duration: Int64) -> ActivityTimes {
        var times = ActivityTimes()
        times.add(activity, duration)
        return times
    }
}

/// Why part of a span's time is unknown though its threads' kernel events
/// are in the trace: its Swift task moved threads or was suspended, and the
/// idle threads did not tell when (`ThreadActivity`).
package enum Untold: CaseIterable, Sendable {
    /// It ended on another thread than it began on, and that one was not
    /// seen going idle before: when the task left it is not known.
    case leftUnseen
    /// It left its thread (the thread went idle), and the thread it ended
    /// on was not seen leaving idle since: when the task came back to a
    /// thread is not known.
    case resumedUnseen

    package var name: String {
        switch self {
        case .leftUnseen: "leftUnseen"
        case .resumedUnseen: "resumedUnseen"
        }
    }
}

/// Spans by why part of their time is unknown (`Untold`).
package struct UntoldSpans: Equatable, Sendable {
    package var leftUnseen = 0
    package var resumedUnseen = 0

    package init() {}

    package subscript(_ reason: Untold) -> Int {
        switch reason {
        case .leftUnseen: leftUnseen
        case .resumedUnseen: resumedUnseen
        }
    }

    package var total: Int { leftUnseen + resumedUnseen }

    mutating func add(_ reason: Untold?) {
        switch reason {
        case .leftUnseen: leftUnseen += 1
        case .resumedUnseen: resumedUnseen += 1
        case nil: break
        }
    }
}

/// Follows every thread's activity through the kernel events of a walk, and
/// splits the time of spans by it (docs/analysis.md, "Where the time went:
/// execution"). A span is opened on the thread it begins on and closed on
/// the thread it ends on; while it is open on a thread, every change of the
/// thread's activity adds the time since the last one to it.
///
/// A span of a Swift task leaves its thread when the thread goes idle (a
/// waiting switch-out at a stack outside any job, `IdleStacks`): its job
/// ended, so the task is suspended. At its end, its time from there is
/// suspended up to the last time the thread it ends on left idle, and from
/// then on what that thread did. Without that evidence on a side, that
/// side's stretch is unknown, and `close` says why (`Untold`).
///
/// Memory: one entry per thread seen, and one per open span.
///
/// It also tells each wait of a woken thread for a CPU (its scheduler
/// latency): from a wakeup of a thread that was waiting (neither on a CPU
/// nor wanting one) to its next switch-in.
struct ThreadActivity {
    private struct Key: Hashable {
        var process: UInt32
        var thread: UInt32
    }

    private struct Thread {
        var activity: Activity = .unknown
        var since: Int64
        /// Open spans on the thread (indices into `spans`).
        var open: [Int] = []
        /// When it was woken, while it waits for a CPU after a wakeup.
        var woken: Int64?
        /// In an idle wait: from an idle switch-out to its wakeup (or its
        /// switch-in, without one).
        var idle = false
        /// When it last left an idle wait (nil: not seen to).
        var leftIdle: Int64?
        /// What it did since then.
        var sinceIdle = ActivityTimes()
    }

    private struct Span {
        var times = ActivityTimes()
        var begin: Int64
        /// Whether it is a Swift task's (it may leave its thread).
        var swift: Bool
        /// When its thread went idle under it: it left the thread then.
        var left: Int64?
    }

    private let idleStacks: IdleStacks
    private var threads: [Key: Thread] = [:]
    private var spans: [Span] = []
    private var free: [Int] = []

    init(idleStacks: IdleStacks = IdleStacks()) {
        self.idleStacks = idleStacks
    }

    /// Opens a span on `thread` at `time`; the token closes it. `swift`: a
    /// Swift task's span (begun in a job), which may leave the thread.
    mutating func open(process: UInt32, thread: UInt32, at time: Int64, swift: Bool = false) -> Int {
        let span = Span(begin: time, swift: swift)
        let index: Int
        if let reused = free.popLast() {
            spans[reused] = span
            index = reused
        } else {
            spans.append(span)
            index = spans.count - 1
        }
        // In place, in one access: a copy of the thread would copy its
        // array of open spans when it changes, and each lookup hashes.
        Self.open(index, on: &threads[Key(process: process, thread: thread), default: Thread(since: time)], &spans, at: time)
        return index
    }

    /// Closes the span `token` opened on `thread`, ending on `endThread` at
    /// `time`: its times, which add up to its wall time, and why part of
    /// them is unknown if it moved threads and the evidence was missing.
    mutating func close(_ token: Int, process: UInt32, thread: UInt32, endThread: UInt32, at time: Int64)
        -> (times: ActivityTimes, untold: Untold?) {
        // One access to the thread: each lookup hashes its key.
        Self.close(token, on: &threads[Key(process: process, thread: thread), default: Thread(since: time)], &spans, at: time)
        free.append(token)
        let span = spans[token]
        if span.left == nil && endThread == thread { return (span.times, nil) }
        // Where the thread it ended on left idle last, and what it did
        // since: the task came to it then at the earliest.
        let end = Key(process: process, thread: endThread)
        if endThread != thread { Self.advance(&threads[end, default: Thread(since: time)], &spans, to: time) }
        let resumed: (Int64, since: ActivityTimes)? = threads[end].flatMap { ended in
            ended.idle ? nil : ended.leftIdle.map { ($0, since: ended.sinceIdle) }
        }
        var times = span.times
        if let left = span.left {
            guard let resumed, resumed.0 >= left else {
                times.add(.unknown, time.saturatingSubtract(left))
                return (times, .resumedUnseen)
            }
            times.add(.suspended, resumed.0.saturatingSubtract(left))
            times.add(resumed.since)
            return (times, nil)
        }
        // It moved without its first thread going idle: when it left is
        // not known; from the other's leaving idle on, that thread's.
        guard let resumed, resumed.0 >= span.begin else {
            return (.all(.unknown, time.saturatingSubtract(span.begin)), .leftUnseen)
        }
        var moved = ActivityTimes.all(.unknown, resumed.0.saturatingSubtract(span.begin))
        moved.add(resumed.since)
        return (moved, .leftUnseen)
    }

    /// Whether the span `token` left the thread it was opened on (its
    /// thread went idle under it: its Swift task is suspended).
    func hasLeft(_ token: Int) -> Bool { spans[token].left != nil }

    /// What `thread` is doing now (unknown before its first kernel event).
    func current(process: UInt32, thread: UInt32) -> Activity {
        threads[Key(process: process, thread: thread)]?.activity ?? .unknown
    }

    /// A kernel event: the activity of its thread from its time on. Returns
    /// the time of the wakeup whose wait for a CPU a switch-in ends (the
    /// scheduler latency is from there to the event), if it ends one.
    mutating func kernel(_ event: TraceEvent) -> Int64? {
        let key = Key(process: event.process, thread: event.thread)
        let next: Activity
        var woken: Int64?
        var ended: Int64?
        var idle = false
        switch event.kind {
        case .switchOut(let out):
            next = Activity(out)
            idle = (out.state == .sleeping || out.state == .disk) && idleStacks.contains(event.process, out.stack)
        case .switchIn:
            next = .running
            ended = threads[key]?.woken
        case .wakeup:
            // A wakeup of a thread on a CPU, or of one that already wants
            // one (woken before, or preempted), changes nothing.
            if let activity = threads[key]?.activity, activity == .running || activity == .runnable { return nil }
            next = .runnable
            woken = event.time
        case .threadExit: next = .unknown
        default: return nil
        }
        // A switch-out or an exit after a wakeup means the trace lost the
        // switch-in: that wait is not known, and is not counted.
        Self.change(&threads[key, default: Thread(since: event.time)], &spans, to: next, idle: idle, woken: woken,
                    at: event.time)
        return ended
    }

    /// Advances the thread to `time` and puts the span on it.
    private static func open(_ token: Int, on thread: inout Thread, _ spans: inout [Span], at time: Int64) {
        advance(&thread, &spans, to: time)
        thread.open.append(token)
    }

    /// Advances the thread to `time` and takes the span off it.
    private static func close(_ token: Int, on thread: inout Thread, _ spans: inout [Span], at time: Int64) {
        advance(&thread, &spans, to: time)
        if let position = thread.open.lastIndex(of: token) { thread.open.remove(at: position) }
    }

    /// Advances the thread to `time`, where its activity becomes `next`.
    private static func change(_ thread: inout Thread, _ spans: inout [Span], to next: Activity, idle: Bool, woken: Int64?,
                               at time: Int64) {
        advance(&thread, &spans, to: time)
        thread.woken = woken
        if idle {
            // Its job ended: the Swift tasks' spans on it are suspended.
            thread.open.removeAll { index in
                guard spans[index].swift else { return false }
                spans[index].left = time
                return true
            }
        } else if thread.idle, next == .runnable || next == .running {
            thread.leftIdle = time
            thread.sinceIdle = ActivityTimes()
        }
        thread.idle = idle
        thread.activity = next
    }

    /// Adds the time since the thread's last change to its open spans.
    private static func advance(_ thread: inout Thread, _ spans: inout [Span], to time: Int64) {
        let elapsed = time.saturatingSubtract(thread.since)
        for index in thread.open { spans[index].times.add(thread.activity, elapsed) }
        // Only a thread that left idle can be the one a task came to.
        if thread.leftIdle != nil { thread.sinceIdle.add(thread.activity, elapsed) }
        thread.since = max(thread.since, time)
    }
}
