/// Collects chosen tasks (and the tasks created inside them) in one walk,
/// and builds a `TaskTree` for each. Memory is bounded by what the chosen
/// tasks hold, and each task keeps at most `regionLimit` regions and
/// `logLimit` logs (the rest are counted).
package struct TaskDrilldown: TraceVisitor {
    package struct TaskKey: Hashable, Sendable {
        package var process: UInt32
        package var id: UInt64
        package init(process: UInt32, id: UInt64) {
            self.process = process
            self.id = id
        }
    }

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

    package init(roots: Set<TaskKey>, ids: Set<UInt64> = [], catalog: TraceCatalog, stacks: StackResolver) {
        self.roots = roots
        self.rootIDs = ids
        self.catalog = catalog
        self.stacks = stacks
    }

    /// The handlers are out of line, so that `visit` passes over the events
    /// no chosen task needs without the frame they take.
    package mutating func visit(_ event: TraceEvent) {
        switch event.kind {
        case .taskBegin(let task): taskBegan(task)
        case .taskEnd(let task): taskEnded(task)
        case .regionEnd(let region): regionEnded(region)
        case .log(let log): logged(log, event)
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
    }

    @inline(never)
    private mutating func taskEnded(_ task: TaskSpan) {
        let key = TaskKey(process: task.process, id: task.id)
        collected[key]?.span.end = task.end
        // Its type as the task ended: a `task.type` log may have renamed it.
        collected[key]?.span.type = task.type
    }

    @inline(never)
    private mutating func regionEnded(_ region: RegionSpan) {
        let key = TaskKey(process: region.process, id: region.task)
        // In place: a copy out of the dictionary would copy the task's regions.
        guard region.task != 0, let index = collected.index(forKey: key) else { return }
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
                stack: region.stack == 0 ? [] : stacks.lines(process, region.stack), children: nested.map(node))
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
            uncovered: uncovered, omittedRegions: entry.omittedRegions, omittedLogs: entry.omittedLogs)
    }
}
