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

        /// Each event the files hold, as the file has it: the walk's
        /// matching is checked against it, not used to make it.
        private mutating func record(_ event: TraceEvent, _ kind: Kind) {
            events.append(Event(process: event.process, thread: event.thread, time: event.time, swiftTask: event.swiftTask,
                                kind: kind))
        }

        mutating func visit(_ event: TraceEvent) {
            switch event.kind {
            case .regionBegin(let region):
                record(event, .regionBegin(type: catalog.string(region.type), sequence: region.sequence, task: region.task,
                                           stack: region.stack))
            case .regionEnd(let region):
                if region.end != nil { record(event, .regionEnd(beginThread: region.beginThread, beginSequence: region.sequence)) }
                regions.append(Region(span: region, type: catalog.string(region.type)))
            case .regionEndAgain(let region):
                record(event, .regionEnd(beginThread: region.beginThread, beginSequence: region.sequence))
                if let i = regions.lastIndex(where: { $0.serial == region.serial }) { regions[i].span.misuse.insert(.endedTwice) }
            case .orphanEnd(let end):
                record(event, .regionEnd(beginThread: end.beginThread, beginSequence: end.beginSequence))
                orphanEnds.append(end)
            case .taskBegin(let task):
                // Its type as created: a later `task.type` log renames the span, not this event.
                record(event, .taskBegin(id: task.id, parent: task.parent, type: catalog.string(task.type), stack: task.stack))
                let key = TaskKey(process: task.process, id: task.id)
                tasks[key] = Task(span: task, type: catalog.string(task.type), extraEnds: 0)
                taskOrder.append(key)
            case .taskEnd(let task):
                if task.end != nil { record(event, .taskEnd(id: task.id)) }
                tasks[TaskKey(process: task.process, id: task.id)]?.span = task
            case .taskEndWithoutBegin(let id):
                record(event, .taskEnd(id: id))
                let key = TaskKey(process: event.process, id: id)
                if tasks[key] != nil {
                    tasks[key]?.extraEnds += 1
                } else {
                    tasks[key] = Task(span: TaskSpan(process: event.process, id: id, parent: 0, type: TraceName(index: 0),
                                                     begin: nil, end: event.time, thread: 0, swiftTask: 0, stack: 0),
                                      type: "", extraEnds: 0)
                    taskOrder.append(key)
                }
            case .log(let log):
                record(event, .log(task: log.task, category: catalog.string(log.category), message: log.text,
                                   truncated: log.truncated, stack: log.stack))
            case .counter(let counter):
                record(event, .counter(name: catalog.string(counter.name), value: counter.value))
            case .dropped, .unknown, .switchOut, .switchIn, .wakeup, .cpuSample, .threadName, .threadExit, .processStat:
                break
            }
        }
    }
}
