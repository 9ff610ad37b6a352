package import TraceFormat

/// Collects chosen tasks (and the tasks created inside them) in one walk,
/// and builds a `TaskTree` for each. Memory is bounded by what the chosen
/// tasks hold, and each task keeps at most `regionLimit` regions and
/// `logLimit` logs (the rest are counted). On a trace with kernel events it
/// also follows what the tasks' threads did (`TaskExecution`).
package struct TaskDrilldown: TraceVisitor {
    private struct Collected {
        var span: TaskSpan
        var regions: [RegionSpan] = []
        var logs: [TaskTree.Log] = []
        var children: [TaskKey] = []
        var threads: Set<UInt32> = []
        var swiftTasks: Set<UInt64> = []
        var omittedRegions = 0
        var omittedLogs = 0
    }

    private let roots: Set<TaskKey>
    /// Roots chosen by id in any process (`tracectl tasks --id`).
    private let rootIDs: Set<UInt64>
    package var regionLimit = 5000
    package var logLimit = 500
    /// Child tasks followed below a root, in all.
    package var childLimit = 1000
    private var collected: [TaskKey: Collected] = [:]
    private var order: [TaskKey] = []
    private var children = 0
    private let catalog: TraceCatalog
    private let stacks: StackResolver
    /// Set for traces with kernel events only.
    private var execution: TaskExecution?

    /// `idleStacks`: where threads idle outside Swift jobs (nil: told from
    /// the catalog's stacks by `stacks`' frames, with kernel events).
    package init(roots: Set<TaskKey>, ids: Set<UInt64> = [], catalog: TraceCatalog, stacks: StackResolver,
                 idleStacks: IdleStacks? = nil) {
        self.roots = roots
        self.rootIDs = ids
        self.catalog = catalog
        self.stacks = stacks
        if catalog.kernelBatches > 0 {
            execution = TaskExecution(idleStacks: idleStacks ?? IdleStacks(catalog: catalog, stacks: stacks))
        }
    }

    /// The handlers are out of line, so that `visit` passes over the events
    /// no chosen task needs without the frame they take.
    package mutating func visit(_ event: TraceEvent) {
        switch event.kind {
        case .taskBegin(let task): taskBegan(task)
        case .taskEnd(let task): taskEnded(task, thread: event.thread, time: event.time)
        case .regionBegin: if execution != nil { regionBegan(event) }
        case .regionEnd(let region): regionEnded(region, time: event.time)
        case .log(let log): logged(log, event)
        case .switchOut, .switchIn, .wakeup, .threadExit, .threadName: if execution != nil { followKernel(event) }
        default: break
        }
    }

    @inline(never)
    private mutating func taskBegan(_ task: TaskSpan) {
        let key = TaskKey(process: task.process, id: task.id)
        let parent = TaskKey(process: task.process, id: task.parent)
        if roots.contains(key) || rootIDs.contains(task.id) {
            collected[key] = Collected(span: task)
            order.append(key)
        } else if task.parent != 0, collected[parent] != nil, children < childLimit {
            children += 1
            collected[key] = Collected(span: task)
            collected[parent]?.children.append(key)
        }
        collected[key]?.threads.insert(task.thread)
        if task.swiftTask != 0 { collected[key]?.swiftTasks.insert(task.swiftTask) }
        if collected[key] != nil { execution?.taskBegan(task) }
    }

    /// `thread` and `time`: the end's (the trace's last event for a task never ended).
    @inline(never)
    private mutating func taskEnded(_ task: TaskSpan, thread: UInt32, time: Int64) {
        let key = TaskKey(process: task.process, id: task.id)
        guard collected[key] != nil else { return }
        collected[key]?.span.end = task.end
        // Its type as the task ended: a `task.type` log may have renamed it.
        collected[key]?.span.type = task.type
        execution?.taskEnded(task, endThread: thread, at: time)
    }

    /// A region of a chosen task opens on its thread (traces with kernel events).
    @inline(never)
    private mutating func regionBegan(_ event: TraceEvent) {
        guard case .regionBegin(let region) = event.kind, region.task != 0,
              collected[TaskKey(process: region.process, id: region.task)] != nil else { return }
        execution?.regionBegan(region)
    }

    @inline(never)
    private mutating func followKernel(_ event: TraceEvent) {
        execution?.kernel(event)
    }

    /// `time`: the end's (the trace's last event for a region never ended).
    @inline(never)
    private mutating func regionEnded(_ region: RegionSpan, time: Int64) {
        let key = TaskKey(process: region.process, id: region.task)
        // In place: a copy out of the dictionary would copy the task's regions.
        guard region.task != 0, let index = collected.index(forKey: key) else { return }
        execution?.regionEnded(region, at: time)
        let limit = regionLimit
        Self.update(&collected.values[index]) { entry in
            entry.threads.insert(region.beginThread)
            if let end = region.endThread { entry.threads.insert(end) }
            if region.swiftTask != 0 { entry.swiftTasks.insert(region.swiftTask) }
            if entry.regions.count < limit { entry.regions.append(region) } else { entry.omittedRegions += 1 }
        }
    }

    private static func update(_ entry: inout Collected, _ body: (inout Collected) -> Void) { body(&entry) }

    @inline(never)
    private mutating func logged(_ log: LogRecord, _ event: TraceEvent) {
        let key = TaskKey(process: event.process, id: log.task)
        guard log.task != 0, let index = collected.index(forKey: key) else { return }
        guard collected.values[index].logs.count < logLimit else {
            collected.values[index].omittedLogs += 1
            return
        }
        let entry = TaskTree.Log(
            time: event.time, category: catalog.string(log.category), message: log.text, truncated: log.truncated,
            thread: catalog.thread(event.process, event.thread)?.tid ?? 0,
            stack: log.stack == 0 ? [] : stacks.lines(event.process, log.stack))
        Self.update(&collected.values[index]) {
            $0.threads.insert(event.thread)
            $0.logs.append(entry)
        }
    }

    /// The chosen tasks' trees, in creation order.
    package func trees() -> [TaskTree] {
        order.compactMap { tree($0) }
    }

    private func tree(_ key: TaskKey) -> TaskTree? {
        guard let entry = collected[key] else { return nil }
        let span = entry.span
        let process = span.process
        func tid(_ thread: UInt32) -> Int32 { catalog.thread(process, thread)?.tid ?? 0 }
        let record = execution?.records[key]
        // Regions nest by their parent serial (same owner); the others are
        // top level (including those of child Swift tasks).
        var bySerial: [UInt64: Int] = [:]
        for (i, region) in entry.regions.enumerated() { bySerial[region.serial] = i }
        var childIndices: [Int: [Int]] = [:]
        var top: [Int] = []
        for (i, region) in entry.regions.enumerated() {
            if let parent = bySerial[region.parent], region.parent != 0 { childIndices[parent, default: []].append(i) } else { top.append(i) }
        }
        var selfTime: [String: Int64] = [:]
        func node(_ i: Int) -> TaskTree.Region {
            let region = entry.regions[i]
            let nested = (childIndices[i] ?? []).sorted { entry.regions[$0].begin < entry.regions[$1].begin }
            let type = catalog.string(region.type)
            if let duration = region.duration {
                let inner = nested.compactMap { entry.regions[$0].duration }.saturatingSum()
                selfTime[type, default: 0] = selfTime[type, default: 0].saturatingAdd(max(0, duration.saturatingSubtract(inner)))
            }
            return TaskTree.Region(
                type: type, begin: region.begin, end: region.end, thread: tid(region.beginThread),
                swiftTask: region.swiftTask, misuse: region.misuse.names,
                stack: region.stack == 0 ? [] : stacks.lines(process, region.stack), children: nested.map(node),
                activity: record?.regions[region.serial], untold: record?.untoldRegions[region.serial]?.name)
        }
        let topSorted = top.sorted { entry.regions[$0].begin < entry.regions[$1].begin }
        let regions = topSorted.map(node)
        var uncovered: Int64?
        if let begin = span.begin, let end = span.end {
            // The task's time minus the union of its top-level regions.
            var covered: Int64 = 0
            var reach = begin
            for i in topSorted {
                let region = entry.regions[i]
                let from = max(region.begin, reach)
                let to = min(region.end ?? end, end)
                if to > from {
                    covered = covered.saturatingAdd(to.saturatingSubtract(from))
                    reach = to
                }
            }
            uncovered = max(0, end.saturatingSubtract(begin).saturatingSubtract(covered))
        }
        let threads = entry.threads.sorted().map { TaskTree.Thread(tid: tid($0), name: catalog.thread(process, $0)?.name ?? "") }
        return TaskTree(
            process: process, pid: catalog.processes[process]?.pid ?? 0, id: span.id, type: catalog.string(span.type),
            parent: span.parent, begin: span.begin, end: span.end, latency: span.latency, threads: threads,
            swiftTasks: entry.swiftTasks.sorted(), stack: span.stack == 0 ? [] : stacks.lines(process, span.stack),
            regions: regions, logs: entry.logs.sorted { $0.time < $1.time }, children: entry.children.compactMap { tree($0) },
            selfTime: selfTime.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { TaskTree.SelfTime(region: $0.key, ns: $0.value) },
            uncovered: uncovered, omittedRegions: entry.omittedRegions, omittedLogs: entry.omittedLogs,
            activity: record?.activity, untold: record?.untold?.name, waits: execution.map { _ in (record?.waits ?? []).map { wait(process, $0) } },
            omittedWaits: execution.map { _ in record?.omittedWaits ?? 0 },
            threadStates: execution.map { _ in threadStates(process, record?.parts ?? [:]) },
            omittedStateParts: execution.map { _ in record?.omittedParts ?? 0 })
    }

    private func wait(_ process: UInt32, _ entry: TaskExecution.Wait) -> TaskTree.Wait {
        let wait = entry.wait
        var waker: TaskTree.Waker?
        if let wakeup = wait.wakeup {
            let thread = wakeup.wakerProcess == 0 ? nil : catalog.thread(wakeup.wakerProcess, wakeup.wakerThread)
            waker = TaskTree.Waker(
                process: wakeup.wakerProcess, pid: catalog.processes[wakeup.wakerProcess]?.pid ?? 0, tid: thread?.tid ?? 0,
                name: entry.wakerName.map { catalog.string($0) } ?? thread?.name ?? "")
        }
        return TaskTree.Wait(
            begin: wait.begin, end: wait.end, wait: wait.activity.name, why: catalog.string(wait.why),
            thread: catalog.thread(process, wait.thread)?.tid ?? 0, region: entry.region.map { catalog.string($0) },
            stack: stacks.lines(process, wait.stack), waker: waker)
    }

    private func threadStates(_ process: UInt32, _ parts: [UInt32: [TaskExecution.Part]]) -> [TaskTree.ThreadStates] {
        parts.map { thread, parts in
            let record = catalog.thread(process, thread)
            return TaskTree.ThreadStates(
                tid: record?.tid ?? 0, name: record?.name ?? "",
                parts: parts.map { TaskTree.StatePart(begin: $0.begin, end: $0.end, activity: $0.activity.name) })
        }.sorted { ($0.parts.first?.begin ?? 0, $0.tid) < ($1.parts.first?.begin ?? 0, $1.tid) }
    }
}
