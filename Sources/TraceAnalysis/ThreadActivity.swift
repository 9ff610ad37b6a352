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
    /// Not known: before the thread's first kernel event, a wait the kernel
    /// stack did not tell, or a span whose Swift task moved threads.
    case unknown

    package var name: String {
        switch self {
        case .running: "running"
        case .runnable: "runnable"
        case .lock: "lock"
        case .io: "io"
        case .sleep: "sleep"
        case .syscall: "syscall"
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

/// Follows every thread's activity through the kernel events of a walk, and
/// splits the time of the spans open on a thread by it. A span is opened on
/// a thread at its begin and closed at its end; between the two, every
/// change of the thread's activity adds the time since the last one to each
/// span open there. Memory: one entry per thread seen, and one per open span.
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
    }

    private var threads: [Key: Thread] = [:]
    private var spans: [ActivityTimes] = []
    private var free: [Int] = []

    /// Opens a span on `thread` at `time`; the token closes it.
    mutating func open(process: UInt32, thread: UInt32, at time: Int64) -> Int {
        let index: Int
        if let reused = free.popLast() {
            spans[reused] = ActivityTimes()
            index = reused
        } else {
            spans.append(ActivityTimes())
            index = spans.count - 1
        }
        // In place (disjoint stored properties): a copy of the thread would
        // copy its array of open spans when it changes.
        Self.advance(&threads[Key(process: process, thread: thread), default: Thread(since: time)], &spans, to: time)
        threads[Key(process: process, thread: thread)]?.open.append(index)
        return index
    }

    /// Closes the span `token` opened on `thread`, at `time`: its times.
    mutating func close(_ token: Int, process: UInt32, thread: UInt32, at time: Int64) -> ActivityTimes {
        let key = Key(process: process, thread: thread)
        Self.advance(&threads[key, default: Thread(since: time)], &spans, to: time)
        if let position = threads[key]?.open.lastIndex(of: token) { threads[key]?.open.remove(at: position) }
        free.append(token)
        return spans[token]
    }

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
        switch event.kind {
        case .switchOut(let out): next = Activity(out)
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
        Self.advance(&threads[key, default: Thread(since: event.time)], &spans, to: event.time)
        threads[key]?.activity = next
        // A switch-out or an exit after a wakeup means the trace lost the
        // switch-in: that wait is not known, and is not counted.
        threads[key]?.woken = woken
        return ended
    }

    /// Adds the time since the thread's last change to its open spans.
    private static func advance(_ thread: inout Thread, _ spans: inout [ActivityTimes], to time: Int64) {
        let elapsed = time.saturatingSubtract(thread.since)
        for index in thread.open { spans[index].add(thread.activity, elapsed) }
        thread.since = max(thread.since, time)
    }
}
