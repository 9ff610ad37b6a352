package import TraceAnalysis
package import TraceFormat
package import TraceSystem

/// A whole small trace in memory, for tests that compare exact event lists:
/// every event of a `TraceWalk` with names resolved, in time order, and the
/// regions and tasks as the walk matched them. Production readers stream
/// instead (TraceSummary, TaskDrilldown, the exporters).
package struct TraceModel {
    package struct Event: Equatable, Sendable {
        package var process: UInt32
        /// Trace index of the thread (ThreadRecord.index).
        package var thread: UInt32
        /// CLOCK_MONOTONIC nanoseconds.
        package var time: Int64
        /// Swift task id the event ran on (0: none).
        package var swiftTask: UInt64
        package var kind: Kind
    }

    package enum Kind: Equatable, Sendable {
        case regionBegin(type: String, sequence: UInt64, task: UInt64, stack: UInt32)
        case regionEnd(beginThread: UInt32, beginSequence: UInt64)
        case taskBegin(id: UInt64, parent: UInt64, type: String, stack: UInt32)
        case taskEnd(id: UInt64)
        case log(task: UInt64, category: String, message: String, truncated: Bool, stack: UInt32)
        case counter(name: String, value: CounterRecord.Value)
    }

    /// A matched region, with its type as a string.
    @dynamicMemberLookup
    package struct Region: Sendable {
        package var span: RegionSpan
        package var type: String
        package subscript<T>(dynamicMember path: KeyPath<RegionSpan, T>) -> T { span[keyPath: path] }
    }

    /// A matched task, with its type as a string and its ends after the first.
    @dynamicMemberLookup
    package struct Task: Sendable {
        package var span: TaskSpan
        package var type: String
        package var extraEnds: Int
        package subscript<T>(dynamicMember path: KeyPath<TaskSpan, T>) -> T { span[keyPath: path] }
    }

    package var events: [Event] = []
    /// In begin order.
    package var regions: [Region] = []
    package var orphanEnds: [OrphanEnd] = []
    /// In creation order.
    package var tasks: [Task] = []
    package let catalog: TraceCatalog

    package var diagnostics: [ReaderDiagnostic] { catalog.diagnostics }
    package var droppedEvents: UInt64 { catalog.droppedEvents }
    package var stacks: [TraceReader.ProcessScoped: [UInt64]] { catalog.stacks }
    package var images: [UInt32: [ImageRecord]] { catalog.images }

    package func thread(_ process: UInt32, _ index: UInt32) -> ThreadRecord? { catalog.thread(process, index) }

    package static func load(paths: [String]) throws(SystemError) -> TraceModel {
        TraceModel(walk: try TraceWalk(paths: paths))
    }

    package static func load(files: [[UInt8]]) -> TraceModel {
        TraceModel(walk: TraceWalk(sources: files.map { TraceSource(bytes: $0) }))
    }

    private init(walk: TraceWalk) {
        catalog = walk.catalog
        var collector = Collector(catalog: walk.catalog)
        walk.run(&collector)
        events = collector.events
        regions = collector.regions.sorted { $0.serial < $1.serial }
        orphanEnds = collector.orphanEnds
        tasks = collector.taskOrder.compactMap { collector.tasks[$0] }
    }

    private struct TaskKey: Hashable {
        var process: UInt32
        var id: UInt64
    }

    private struct Collector: TraceVisitor {
        let catalog: TraceCatalog
        var events: [Event] = []
        var regions: [Region] = []
        var orphanEnds: [OrphanEnd] = []
        var tasks: [TaskKey: Task] = [:]
        var taskOrder: [TaskKey] = []

        mutating func event(_ event: TraceEvent, catalog: TraceCatalog) {
            let raw = event.raw
            let name = catalog.string(event.name)
            let kind: Kind
            switch raw.kind {
            case .regionBegin: kind = .regionBegin(type: name, sequence: raw.regionSequence, task: raw.task, stack: raw.stack)
            case .regionEnd, .regionEndForeign: kind = .regionEnd(beginThread: raw.regionThread, beginSequence: raw.regionSequence)
            case .taskBegin: kind = .taskBegin(id: raw.task, parent: raw.parentTask, type: name, stack: raw.stack)
            case .taskEnd: kind = .taskEnd(id: raw.task)
            case .log:
                kind = .log(task: raw.task, category: name, message: String(decoding: raw.message, as: UTF8.self),
                            truncated: raw.truncated, stack: raw.stack)
            case .counterInteger: kind = .counter(name: name, value: .integer(raw.integerValue))
            case .counterDouble: kind = .counter(name: name, value: .double(raw.doubleValue))
            case .context, .extension: return
            }
            events.append(Event(process: event.process, thread: event.thread, time: event.time, swiftTask: raw.swiftTask, kind: kind))
        }

        mutating func regionEnded(_ region: RegionSpan) {
            regions.append(Region(span: region, type: catalog.string(region.type)))
        }

        mutating func regionEndedAgain(_ region: RegionSpan, time: Int64, thread: UInt32) {
            if let i = regions.lastIndex(where: { $0.serial == region.serial }) { regions[i].span.misuse.insert(.endedTwice) }
        }

        mutating func orphanEnd(_ end: OrphanEnd) { orphanEnds.append(end) }

        mutating func taskBegan(_ task: TaskSpan) {
            let key = TaskKey(process: task.process, id: task.id)
            tasks[key] = Task(span: task, type: catalog.string(task.type), extraEnds: 0)
            taskOrder.append(key)
        }

        mutating func taskEnded(_ task: TaskSpan) {
            tasks[TaskKey(process: task.process, id: task.id)]?.span = task
        }

        mutating func taskEndWithoutBegin(process: UInt32, id: UInt64, time: Int64) {
            let key = TaskKey(process: process, id: id)
            if tasks[key] != nil {
                tasks[key]?.extraEnds += 1
            } else {
                tasks[key] = Task(span: TaskSpan(process: process, id: id, parent: 0, type: TraceName(index: 0), begin: nil,
                                                 end: time, thread: 0, swiftTask: 0, stack: 0), type: "", extraEnds: 0)
                taskOrder.append(key)
            }
        }
    }
}
