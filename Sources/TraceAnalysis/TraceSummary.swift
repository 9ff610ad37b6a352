import TraceFormat

/// What a person reads first about a trace, gathered in one streaming pass
/// (a `TraceVisitor`): per task type latency distributions (creation to
/// first end) with the slowest tasks, per region type durations, logs by
/// category with examples, counters with a downsampled series, drops,
/// misuse with examples. Memory is bounded by the number of types,
/// categories and counters, not by the number of events.
package struct TraceSummary: TraceVisitor {
    /// What to count: filters, and how much of each kind to keep.
    package struct Options: Sendable {
        /// Only tasks of these types, and regions and logs inside them.
        package var taskTypes: Set<String>?
        /// Only spans that begin, and logs and counters that happen, in
        /// this window (CLOCK_MONOTONIC ns).
        package var window: ClosedRange<Int64>?
        package var slowest = 10
        package var logExamples = 5
        package var misuseExamples = 5
        package var counterPoints = 1000
        /// How many of the stacks where threads waited longest the report lists.
        package var blockingStacks = 10

        package init() {}
    }

    package struct TypeStatistics: Sendable {
        package var distribution = LatencyDistribution()
        /// Created in the trace but never ended.
        package var unfinished = 0
        /// The slowest, slowest first.
        package var slowest: [TaskSpan] = []
        /// Where the time of the ended spans went (traces with kernel
        /// events: `TraceSummary.hasActivity`); adds up to the distribution's total.
        package var activity = ActivityTimes()
        /// Of the ended spans, those with time unknown because their Swift
        /// task moved threads unseen, by why.
        package var untold = UntoldSpans()
    }

    package struct LogStatistics: Sendable {
        package var count = 0
        package var examples: [Example] = []

        package struct Example: Sendable {
            package var process: UInt32
            package var thread: UInt32
            package var time: Int64
            package var task: UInt64
            package var message: String
            package var truncated: Bool
        }
    }

    package struct CounterStatistics: Sendable {
        package var samples = 0
        package var minimum = Double.infinity
        package var maximum = -Double.infinity
        package var last = 0.0
        /// Every `stride`-th sample, at most `counterPoints`: when full, every
        /// other point is dropped and the stride doubles.
        package var series: [(time: Int64, value: Double)] = []
        package var stride = 1
    }

    package struct CounterKey: Hashable, Sendable {
        package var process: UInt32
        package var name: TraceName
    }

    package let options: Options
    package private(set) var events = 0
    package private(set) var eventsByProcess: [UInt32: Int] = [:]
    package private(set) var first: Int64?
    package private(set) var last: Int64?
    package private(set) var tasks: [TraceName: TypeStatistics] = [:]
    package private(set) var regions: [TraceName: TypeStatistics] = [:]
    package private(set) var logs: [TraceName: LogStatistics] = [:]
    package private(set) var counters: [CounterKey: CounterStatistics] = [:]
    package private(set) var misuse: [UInt8: (count: Int, examples: [RegionSpan])] = [:]
    package private(set) var orphanEnds = 0
    package private(set) var taskEndsWithoutBegin = 0
    /// Losses seen in batches, by process (the totals by reason are in the catalog).
    package private(set) var dropsSeen: [UInt32: UInt64] = [:]
    /// How long woken threads waited for a CPU: from a wakeup of a waiting
    /// thread to its next switch-in, every thread's, the wakeups in the
    /// window (the task-type filter does not apply). Nil without kernel events.
    package private(set) var schedulerLatency: LatencyDistribution?
    /// Where threads waited, summed by process, stack, wait and call: every
    /// thread's waits that began in the window (the task-type filter does
    /// not apply). Nil without kernel events.
    package private(set) var blocking: BlockingStacks?
    private let wantedTypes: Set<TraceName>?
    /// Open tasks of wanted types (with a task-type filter), so regions and
    /// logs inside them can be told apart.
    private var openWanted: [TaskKey: TraceName] = [:]

    /// `idleStacks`: where threads wait outside any Swift job, so that the
    /// spans of a suspended Swift task leave their thread (none: they never do).
    package init(options: Options = Options(), catalog: TraceCatalog, idleStacks: IdleStacks = IdleStacks()) {
        self.options = options
        wantedTypes = options.taskTypes.map { Set($0.compactMap { catalog.lookup($0) }) }
        if catalog.kernelBatches > 0 {
            activity = ThreadActivity(idleStacks: idleStacks)
            schedulerLatency = LatencyDistribution()
            waits = WaitTracker()
            blocking = BlockingStacks()
        }
    }

    private func inWindow(_ time: Int64) -> Bool { options.window?.contains(time) ?? true }

    private func wanted(process: UInt32, task: UInt64) -> Bool {
        wantedTypes == nil || openWanted[TaskKey(process: process, id: task)] != nil
    }

    package mutating func visit(_ event: TraceEvent) {
        // Each case counts the event if the files hold it (`TraceEvent.isRecorded`,
        // decided here from the payload already bound: one switch per event).
        switch event.kind {
        case .taskBegin(let task):
            count(event.process, event.time)
            taskBegan(task)
            if activity != nil { openActivity(event) }
        case .taskEnd(let task):
            if task.end != nil { count(event.process, event.time) }
            taskEnded(task)
            if activity != nil { recordActivity(of: task, endThread: event.thread) }
        case .taskEndWithoutBegin:
            count(event.process, event.time)
            if inWindow(event.time) && wantedTypes == nil { taskEndsWithoutBegin += 1 }
        case .regionBegin:
            count(event.process, event.time)
            if activity != nil { openActivity(event) }
        case .unknown, .cpuSample, .threadName, .processStat:
            count(event.process, event.time)
        case .switchOut, .switchIn, .wakeup, .threadExit:
            count(event.process, event.time)
            if activity != nil { followActivity(event) }
        case .regionEnd(let region):
            if region.end != nil { count(event.process, event.time) }
            regionEnded(region)
            if activity != nil { recordActivity(of: region) }
        case .regionEndAgain(let region):
            count(event.process, event.time)
            regionEndedAgain(region, time: event.time, thread: event.thread)
        case .orphanEnd:
            count(event.process, event.time)
            if inWindow(event.time) && wantedTypes == nil { orphanEnds += 1 }
        case .log(let log):
            count(event.process, event.time)
            logged(log, event)
        case .counter(let counter):
            count(event.process, event.time)
            counted(counter, event)
        case .dropped(let count):
            dropsSeen[event.process, default: 0] = dropsSeen[event.process, default: 0].saturatingAdd(count)
        }
    }

    /// One event the files hold, of `process` at `time`, if in the window.
    private mutating func count(_ process: UInt32, _ time: Int64) {
        guard inWindow(time) else { return }
        events += 1
        // Counted per run of one process: no hashing per event.
        if process != runProcess {
            flushRun()
            runProcess = process
        }
        runCount += 1
        if first == nil { first = time }
        last = time
    }

    private var runProcess: UInt32 = 0
    private var runCount = 0

    private mutating func flushRun() {
        if runCount > 0 { eventsByProcess[runProcess, default: 0] += runCount }
        runCount = 0
    }

    package mutating func finish(last: Int64?) { flushRun() }

    private mutating func taskBegan(_ task: TaskSpan) {
        if let wantedTypes, wantedTypes.contains(task.type) {
            openWanted[TaskKey(process: task.process, id: task.id)] = task.type
        }
    }

    private mutating func taskEnded(_ task: TaskSpan) {
        openWanted[TaskKey(process: task.process, id: task.id)] = nil
        guard let begin = task.begin, inWindow(begin), wantedTypes?.contains(task.type) ?? true else { return }
        guard let latency = task.latency else {
            tasks[task.type, default: TypeStatistics()].unfinished += 1
            return
        }
        // In place: a copy would copy the histogram's counts.
        tasks[task.type, default: TypeStatistics()].distribution.record(latency)
        tasks[task.type, default: TypeStatistics()].slowest.keepIfSlowest(task, latency: latency, limit: options.slowest)
    }

    // Inlined into `visit` (as `counted`): region ends and counters are
    // most of a trace's events, and a call copies the span (callgrind: 0.5 %
    // of `report`'s instructions).
    @inline(__always)
    private mutating func regionEnded(_ region: RegionSpan) {
        guard inWindow(region.begin), wanted(process: region.process, task: region.task) else { return }
        if let duration = region.duration {
            regions[region.type, default: TypeStatistics()].distribution.record(duration)
        } else {
            regions[region.type, default: TypeStatistics()].unfinished += 1
        }
        note(region)
    }

    private mutating func regionEndedAgain(_ region: RegionSpan, time: Int64, thread: UInt32) {
        guard inWindow(region.begin), wanted(process: region.process, task: region.task) else { return }
        var again = region
        again.end = time
        again.endThread = thread
        again.misuse = .endedTwice
        note(again)
    }

    private mutating func note(_ region: RegionSpan) {
        for (flag, _) in RegionSpan.Misuse.all where region.misuse.contains(flag) {
            var entry = misuse[flag.rawValue] ?? (0, [])
            entry.count += 1
            if entry.examples.count < options.misuseExamples { entry.examples.append(region) }
            misuse[flag.rawValue] = entry
        }
    }

    private mutating func logged(_ log: LogRecord, _ event: TraceEvent) {
        guard inWindow(event.time), wanted(process: event.process, task: log.task) else { return }
        logs[log.category, default: LogStatistics()].count += 1
        if logs[log.category, default: LogStatistics()].examples.count < options.logExamples {
            logs[log.category, default: LogStatistics()].examples.append(LogStatistics.Example(
                process: event.process, thread: event.thread, time: event.time, task: log.task, message: log.text,
                truncated: log.truncated))
        }
    }

    @inline(__always)
    private mutating func counted(_ counter: CounterRecord, _ event: TraceEvent) {
        guard inWindow(event.time) else { return }
        let key = CounterKey(process: event.process, name: counter.name)
        // In place: a copy would copy the series.
        Self.add(event.time, counter.value.number, to: &counters[key, default: CounterStatistics()],
                 points: options.counterPoints)
    }

    private static func add(_ time: Int64, _ value: Double, to statistics: inout CounterStatistics, points: Int) {
        if statistics.samples % statistics.stride == 0 {
            // Point k is sample k × stride, so halving keeps a regular stride.
            statistics.series.append((time, value))
            if statistics.series.count > max(2, points) {
                statistics.series = statistics.series.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
                statistics.stride *= 2
            }
        }
        statistics.samples += 1
        statistics.minimum = min(statistics.minimum, value)
        statistics.maximum = max(statistics.maximum, value)
        statistics.last = value
    }

    /// Whether the trace tells what threads did (it has kernel events), so
    /// that `TypeStatistics.activity` splits the spans' time.
    package var hasActivity: Bool { activity != nil }

    /// Opens a region or task on the thread it began on. Takes the event,
    /// not the span: binding the span in `visit` copied it for every trace.
    @inline(never)
    private mutating func openActivity(_ event: TraceEvent) {
        switch event.kind {
        case .regionBegin(let region):
            activityTokens[.region(region.serial)] = activity?.open(process: region.process, thread: region.beginThread,
                                                                    at: region.begin, swift: region.swiftTask != 0)
        case .taskBegin(let task):
            guard let begin = task.begin else { return }
            activityTokens[.task(task.process, task.id)] = activity?.open(process: task.process, thread: task.thread, at: begin,
                                                                          swift: task.swiftTask != 0)
        default:
            break
        }
    }

    /// A kernel event: the thread's activity from here on, and the wait it
    /// ends. Takes the event: passing its kind made `visit` copy every
    /// event's kind to its stack (callgrind: +13 instructions per event of
    /// an annotation-only trace). Its scheduler latency counts if the
    /// wakeup was in the window, its wait if the wait began there.
    @inline(never)
    private mutating func followActivity(_ event: TraceEvent) {
        if let wait = waits?.kernel(event), inWindow(wait.begin) { blocking?.add(wait) }
        guard let woken = activity?.kernel(event), inWindow(woken) else { return }
        schedulerLatency?.record(event.time.saturatingSubtract(woken))
    }

    /// Adds an ended region's time by activity to its type's, for the
    /// regions `regionEnded` counts, by `ThreadActivity`'s rule (a Swift
    /// task's span follows it off its thread and to the one it ends on).
    /// Out of line, as the other activity functions: annotation-only traces
    /// never call them.
    @inline(never)
    private mutating func recordActivity(of region: RegionSpan) {
        guard let token = activityTokens.removeValue(forKey: .region(region.serial)), let end = region.end,
              let closed = activity?.close(token, process: region.process, thread: region.beginThread,
                                           endThread: region.endThread ?? region.beginThread, at: end) else { return }
        guard inWindow(region.begin), wanted(process: region.process, task: region.task) else { return }
        regions[region.type, default: TypeStatistics()].activity.add(closed.times)
        regions[region.type, default: TypeStatistics()].untold.add(closed.untold)
    }

    /// A task's, by the same rule, for the tasks `taskEnded` counts.
    @inline(never)
    private mutating func recordActivity(of task: TaskSpan, endThread: UInt32) {
        guard let token = activityTokens.removeValue(forKey: .task(task.process, task.id)), let begin = task.begin,
              let end = task.end,
              let closed = activity?.close(token, process: task.process, thread: task.thread, endThread: endThread,
                                           at: end) else { return }
        guard inWindow(begin), wantedTypes?.contains(task.type) ?? true else { return }
        tasks[task.type, default: TypeStatistics()].activity.add(closed.times)
        tasks[task.type, default: TypeStatistics()].untold.add(closed.untold)
    }

    private enum SpanKey: Hashable {
        case region(UInt64)
        case task(UInt32, UInt64)
    }

    /// Set for traces with kernel events only: annotation-only traces pay
    /// one test per span for it.
    private var activity: ThreadActivity?
    private var activityTokens: [SpanKey: Int] = [:]
    private var waits: WaitTracker?

    /// Misuse counts by name ("endedTwice", ...).
    package var misuseCounts: [(name: String, count: Int, examples: [RegionSpan])] {
        RegionSpan.Misuse.all.compactMap { flag, name in
            misuse[flag.rawValue].map { (name, $0.count, $0.examples) }
        }
    }
}

extension Array where Element == TaskSpan {
    /// Inserts `task` (of `latency`) if it is among the `limit` slowest;
    /// the array stays slowest first, at most `limit` long.
    mutating func keepIfSlowest(_ task: TaskSpan, latency: Int64, limit: Int) {
        guard limit > 0 else { return }
        if count == limit, let last = last?.latency, latency <= last { return }
        let position = firstIndex { ($0.latency ?? 0) < latency } ?? count
        insert(task, at: position)
        if count > limit { removeLast() }
    }
}
