/// One task opened up: its regions nested, its logs in place, its child
/// tasks, where it ran, and where its time went. Times are CLOCK_MONOTONIC
/// nanoseconds. What `tracectl tasks` prints and the HTML page draws.
///
/// What the kernel events tell (`activity`, `waits`, `threadStates`) is
/// nil for a trace without them, so that such a trace's JSON has none of
/// those members (docs/analysis.md, "`tracectl tasks`: execution").
package struct TaskTree: Codable, Sendable {
    package struct Thread: Codable, Hashable, Sendable {
        package var tid: Int32
        package var name: String
    }

    package struct Region: Codable, Sendable {
        package var type: String
        package var begin: Int64
        /// nil: never ended in the trace.
        package var end: Int64?
        package var thread: Int32
        package var swiftTask: UInt64
        package var misuse: [String]
        package var stack: [String]
        package var children: [Region]
        /// What its threads did while it was open, and the time it was on
        /// none (ended regions of traces with kernel events).
        package var activity: ActivityTimes?
        /// Why part of `activity` is unknown, if its Swift task moved
        /// threads unseen (`Untold.name`).
        package var untold: String?
    }

    /// A wait of a thread of the task off its CPU (`ThreadWait`), begun
    /// while the task or one of its regions was open on that thread.
    package struct Wait: Codable, Sendable {
        package var begin: Int64
        package var end: Int64
        /// lock, io, sleep or syscall.
        package var wait: String
        /// The system call or kernel function ("": not told).
        package var why: String
        /// The tid of the thread that waited.
        package var thread: Int32
        /// The innermost region of the task open on that thread as it
        /// began (nil: none).
        package var region: String?
        /// Where the thread left its CPU, innermost first.
        package var stack: [String]
        /// Who woke it; nil when the trace has no wakeup before its
        /// switch-in.
        package var waker: Waker?
    }

    /// The thread that woke a waiting one.
    package struct Waker: Codable, Sendable {
        /// Its process in the trace, and pid; process 0: an interrupt, or a
        /// process the trace does not record.
        package var process: UInt32
        package var pid: Int32
        /// 0: not known.
        package var tid: Int32
        package var name: String
    }

    /// What one thread did while the task or one of its regions was open
    /// on it: parts in time order.
    package struct ThreadStates: Codable, Sendable {
        package var tid: Int32
        package var name: String
        package var parts: [StatePart]
    }

    /// [begin, end) of one activity (`Activity.name`).
    package struct StatePart: Codable, Sendable {
        package var begin: Int64
        package var end: Int64
        package var activity: String
    }

    package struct Log: Codable, Sendable {
        package var time: Int64
        package var category: String
        package var message: String
        package var truncated: Bool
        package var thread: Int32
        package var stack: [String]
    }

    package struct SelfTime: Codable, Sendable {
        package var region: String
        package var ns: Int64
    }

    package var process: UInt32
    package var pid: Int32
    package var id: UInt64
    package var type: String
    package var parent: UInt64
    package var begin: Int64?
    package var end: Int64?
    package var latency: Int64?
    package var threads: [Thread]
    package var swiftTasks: [UInt64]
    package var stack: [String]
    package var regions: [Region]
    package var logs: [Log]
    package var children: [TaskTree]
    /// Per region type, its time minus the time of regions nested in it.
    package var selfTime: [SelfTime]
    /// Time of the task (creation to end) that no region of it covers.
    package var uncovered: Int64?
    /// Regions and logs beyond the per-task limits, not shown.
    package var omittedRegions: Int
    package var omittedLogs: Int
    /// What its threads did until it ended, and the time it was on none
    /// (ended tasks of traces with kernel events).
    package var activity: ActivityTimes?
    /// Why part of `activity` is unknown, if its Swift task moved threads
    /// unseen (`Untold.name`).
    package var untold: String?
    /// Its threads' waits, in time order, and those beyond the per-task limit.
    package var waits: [Wait]?
    package var omittedWaits: Int?
    /// Its threads' activity, by tid, and the parts beyond the per-task limit.
    package var threadStates: [ThreadStates]?
    package var omittedStateParts: Int?
}
