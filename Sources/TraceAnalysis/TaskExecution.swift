import TraceFormat

/// What the kernel saw the threads of chosen tasks do, for `TaskDrilldown`
/// (docs/analysis.md, "`tracectl tasks`: execution"). A chosen task, and
/// each of its regions, is open on the thread it began on, from its begin
/// to its end. While one is open on a thread:
///
/// - its own time is split by the report's rule (`ThreadActivity`: what
///   that thread did, and a Swift task's span leaves it when it goes idle,
///   suspended until a thread leaves idle to run it again);
/// - the thread's waits that begin then are the task's (`ThreadWait`), each
///   with the innermost of the task's regions open there as it began (told
///   at the switch-out: a region may end, on another thread, before the
///   wait does);
/// - the thread's activity is kept as parts in time order, for drawing.
///
/// Memory: per thread seen, its activity and a wait it is in; per chosen
/// task, at most `waitLimit` waits and `partLimit` parts (the rest counted).
struct TaskExecution {
    /// A stretch of one activity of a thread: [begin, end).
    struct Part {
        var begin: Int64
        var end: Int64
        var activity: Activity
    }

    struct Wait {
        var wait: ThreadWait
        /// The type of the innermost region of the task open on the thread
        /// as the wait began (nil: none, only the task).
        var region: TraceName?
        /// The waker's name as it woke the thread (its last name event), if
        /// the kernel named it.
        var wakerName: TraceName?
    }

    /// What one chosen task collects.
    struct Record {
        /// The task's split (nil until it ended, and for a task whose
        /// creation is not in the trace).
        var activity: ActivityTimes?
        /// Each ended region's split, by serial.
        var regions: [UInt64: ActivityTimes] = [:]
        /// Why part of the task's own split is unknown, if it is.
        var untold: Untold?
        /// The same for each ended region, by serial.
        var untoldRegions: [UInt64: Untold] = [:]
        var waits: [Wait] = []
        var omittedWaits = 0
        /// By thread, in time order.
        var parts: [UInt32: [Part]] = [:]
        var partCount = 0
        var omittedParts = 0
        /// The threads the task has spans open on: how many, and the part
        /// under way.
        fileprivate var open: [UInt32: OpenPart] = [:]
    }

    fileprivate struct OpenPart {
        var spans: Int
        var since: Int64
        var activity: Activity
    }

    private struct ThreadKey: Hashable {
        var process: UInt32
        var thread: UInt32
    }

    /// A span of a chosen task open on a thread.
    private struct Watch {
        var task: TaskKey
        /// The region's serial (0: the task itself).
        var serial: UInt64
        var type: TraceName
        /// `ThreadActivity`'s token for it.
        var token: Int
    }

    var waitLimit = 500
    var partLimit = 2000
    private var activity: ThreadActivity
    private var waits = WaitTracker()
    /// Open spans of chosen tasks, per thread, in the order they opened.
    private var watches: [ThreadKey: [Watch]] = [:]
    /// Each thread's name from its last name event.
    private var names: [ThreadKey: TraceName] = [:]
    /// Per thread that left its CPU while chosen tasks were open on it:
    /// those tasks, each with its innermost region open there (its type).
    private var owners: [ThreadKey: [(task: TaskKey, region: TraceName?)]] = [:]
    private(set) var records: [TaskKey: Record] = [:]

    init(idleStacks: IdleStacks = IdleStacks()) {
        activity = ThreadActivity(idleStacks: idleStacks)
    }

    mutating func taskBegan(_ task: TaskSpan) {
        guard let begin = task.begin else { return }
        open(TaskKey(process: task.process, id: task.id), serial: 0, type: task.type, thread: task.thread, at: begin,
             swift: task.swiftTask != 0)
    }

    /// `time`: its end, or for a task never ended the trace's last event.
    mutating func taskEnded(_ task: TaskSpan, endThread: UInt32, at time: Int64) {
        let key = TaskKey(process: task.process, id: task.id)
        guard let closed = close(key, serial: 0, thread: task.thread, endThread: endThread, at: time), task.end != nil
        else { return }
        records[key]?.activity = closed.times
        records[key]?.untold = closed.untold
    }

    mutating func regionBegan(_ region: RegionSpan) {
        open(TaskKey(process: region.process, id: region.task), serial: region.serial, type: region.type,
             thread: region.beginThread, at: region.begin, swift: region.swiftTask != 0)
    }

    /// `time`: its end, or for a region never ended the trace's last event.
    mutating func regionEnded(_ region: RegionSpan, at time: Int64) {
        let key = TaskKey(process: region.process, id: region.task)
        guard let closed = close(key, serial: region.serial, thread: region.beginThread,
                                 endThread: region.endThread ?? region.beginThread, at: time), region.end != nil
        else { return }
        records[key]?.regions[region.serial] = closed.times
        if let untold = closed.untold { records[key]?.untoldRegions[region.serial] = untold }
    }

    /// A kernel event: the activity of its thread from here on, and the
    /// wait it ends, for the chosen tasks open on the thread.
    mutating func kernel(_ event: TraceEvent) {
        let key = ThreadKey(process: event.process, thread: event.thread)
        if case .threadName(let name) = event.kind {
            names[key] = name
            return
        }
        let ended = waits.kernel(event)
        _ = activity.kernel(event)
        let open = watches[key] ?? []
        var tasks: [TaskKey] = []
        for watch in open where !tasks.contains(watch.task) { tasks.append(watch.task) }
        if !tasks.isEmpty {
            let now = activity.current(process: event.process, thread: event.thread)
            for task in tasks {
                Self.change(&records[task, default: Record()], thread: event.thread, to: now, at: event.time, limit: partLimit)
            }
        }
        if case .switchOut = event.kind {
            // Whose wait it begins, if it begins one (`WaitTracker` holds
            // the wait of the thread's last switch-out, as this does): the
            // tasks still on the thread (a Swift task's spans leave it when
            // it goes idle, here or before, and its waits are not theirs).
            // The innermost region: the last of the task's opened there.
            let on = open.filter { !activity.hasLeft($0.token) }
            var waiting: [TaskKey] = []
            for watch in on where !waiting.contains(watch.task) { waiting.append(watch.task) }
            owners[key] = waiting.isEmpty ? nil
                : waiting.map { task in (task, on.last { $0.task == task && $0.serial != 0 }?.type) }
        }
        guard let ended, let owners = owners.removeValue(forKey: key) else { return }
        let waker = ended.wakeup.flatMap { wakeup in
            wakeup.wakerProcess == 0 ? nil : names[ThreadKey(process: wakeup.wakerProcess, thread: wakeup.wakerThread)]
        }
        for owner in owners {
            Self.add(Wait(wait: ended, region: owner.region, wakerName: waker), to: &records[owner.task, default: Record()],
                     limit: waitLimit)
        }
    }

    private mutating func open(_ task: TaskKey, serial: UInt64, type: TraceName, thread: UInt32, at time: Int64,
                               swift: Bool) {
        let key = ThreadKey(process: task.process, thread: thread)
        let token = activity.open(process: task.process, thread: thread, at: time, swift: swift)
        watches[key, default: []].append(Watch(task: task, serial: serial, type: type, token: token))
        let now = activity.current(process: task.process, thread: thread)
        Self.opened(&records[task, default: Record()], thread: thread, activity: now, at: time)
    }

    /// Closes a span, ending on `endThread`: its split, and why part of it
    /// is unknown; nil if it was not open.
    private mutating func close(_ task: TaskKey, serial: UInt64, thread: UInt32, endThread: UInt32, at time: Int64)
        -> (times: ActivityTimes, untold: Untold?)? {
        let key = ThreadKey(process: task.process, thread: thread)
        guard let position = watches[key]?.lastIndex(where: { $0.task == task && $0.serial == serial }),
              let watch = watches[key]?.remove(at: position) else { return nil }
        if watches[key]?.isEmpty == true { watches[key] = nil }
        let closed = activity.close(watch.token, process: task.process, thread: thread, endThread: endThread, at: time)
        Self.closed(&records[task, default: Record()], thread: thread, at: time, limit: partLimit)
        return closed
    }

    private static func opened(_ record: inout Record, thread: UInt32, activity: Activity, at time: Int64) {
        if record.open[thread] != nil {
            record.open[thread]?.spans += 1
        } else {
            record.open[thread] = OpenPart(spans: 1, since: time, activity: activity)
        }
    }

    private static func closed(_ record: inout Record, thread: UInt32, at time: Int64, limit: Int) {
        guard let part = record.open[thread] else { return }
        if part.spans > 1 {
            record.open[thread]?.spans -= 1
            return
        }
        append(Part(begin: part.since, end: time, activity: part.activity), thread: thread, to: &record, limit: limit)
        record.open[thread] = nil
    }

    private static func change(_ record: inout Record, thread: UInt32, to activity: Activity, at time: Int64, limit: Int) {
        guard let part = record.open[thread], part.activity != activity else { return }
        append(Part(begin: part.since, end: time, activity: part.activity), thread: thread, to: &record, limit: limit)
        record.open[thread]?.since = max(part.since, time)
        record.open[thread]?.activity = activity
    }

    /// Appends a part, joined to the last one if it goes on with the same
    /// activity; a part of no time is left out.
    private static func append(_ part: Part, thread: UInt32, to record: inout Record, limit: Int) {
        guard part.end > part.begin else { return }
        // By index, not through a copy of the array: a copy held while the
        // array changes would copy it on every part.
        if let count = record.parts[thread]?.count, count > 0, let last = record.parts[thread]?[count - 1],
           last.activity == part.activity, last.end == part.begin {
            record.parts[thread]?[count - 1].end = part.end
            return
        }
        guard record.partCount < limit else {
            record.omittedParts += 1
            return
        }
        record.parts[thread, default: []].append(part)
        record.partCount += 1
    }

    private static func add(_ wait: Wait, to record: inout Record, limit: Int) {
        if record.waits.count < limit { record.waits.append(wait) } else { record.omittedWaits += 1 }
    }
}
