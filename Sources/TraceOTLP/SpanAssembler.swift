import TraceFormat
import TraceSystem

/// Makes OTLP spans of a trace's tasks, regions and logs (docs/design.md,
/// "OTLP"), fed in time order: the export feeds the walk's timeline, traced
/// the events of the batches it drains once a `TimeOrderBuffer` has put
/// them back in order.
///
/// - A task is a span. Its `trace.context` log gives its ids, and a remote
///   parent (kind SERVER); without one it gets ids of its own (a subtask
///   takes its parent's trace id). A subtask's parent is its task's span.
/// - A region is a child span of its task (or of the region span it is
///   nested in) when it lasts at least `minRegion`, or when it is a span of
///   TracedTracer (it has a `trace.context`). The others are summed into the
///   task span's attributes, `traced.region.<type>.count` and `.ns`, and the
///   spans nested in them take their parent.
/// - `span.*` logs are the span's attributes, events, status and links; any
///   other log is an event named after its category.
/// - A task is handed out, with its region spans, when it ends: whole, so
///   that sampling (`sampleEvery`, by trace id) and `onlySlowerThan` decide
///   on it once.
///
/// Memory: the open tasks and regions, and per task at most
/// `regionSpanLimit` region spans and `SpanLogText.countLimit` attributes,
/// events and links per span; what is over is counted in the span.
package final class SpanAssembler {
    package struct Options: Sendable {
        /// Regions shorter than this (ns) are summed into their task.
        package var minRegion: Int64 = 1_000_000
        /// Only tasks that took at least this long (ns) are sent (0: all).
        package var onlySlowerThan: Int64 = 0
        /// Only traces whose trace id's low 64 bits are a multiple of this.
        package var sampleEvery: UInt64 = 1
        /// Mixed into the ids made for tasks and regions without any.
        package var seed: UInt64 = 0

        package init(minRegion: Int64 = 1_000_000, onlySlowerThan: Int64 = 0, sampleEvery: UInt64 = 1, seed: UInt64 = 0) {
            self.minRegion = minRegion
            self.onlySlowerThan = onlySlowerThan
            self.sampleEvery = max(1, sampleEvery)
            self.seed = seed
        }
    }

    /// What was made, sent and left out.
    package struct Counts: Equatable, Sendable {
        package init() {}
        package var tasks: UInt64 = 0
        package var regionSpans: UInt64 = 0
        /// Regions summed into their task's attributes.
        package var regionsSummed: UInt64 = 0
        /// Spans of tasks that sampling or `onlySlowerThan` left out.
        package var sampledOut: UInt64 = 0
        /// Region spans over a task's `regionSpanLimit`, summed instead.
        package var overLimit: UInt64 = 0
        /// Tasks and regions still open at the end, sent as they were.
        package var unended: UInt64 = 0
        /// Tasks and regions begun while `openLimit` were open: not made
        /// into spans (a process that never ends what it begins).
        package var overOpenLimit: UInt64 = 0
        /// Regions and logs of a task this assembler does not hold (begun
        /// before the trace, or already sent): left out.
        package var late: UInt64 = 0
    }

    /// Region spans per task at most; the rest are summed.
    package static let regionSpanLimit = 1000
    /// Open tasks, and open regions, at most: what a buggy or hostile
    /// process can make traced hold.
    package static let openLimit = 65536

    // The mutable state below is `@exclusivity(unchecked)`: one thread
    // feeds an assembler, and no access to a property overlaps another to
    // the same one, so the run-time checks (6 % of traced's time on the
    // OTLP path) guard nothing.
    @exclusivity(unchecked) package private(set) var counts = Counts()
    private let options: Options
    /// CLOCK_MONOTONIC ns of the trace to ns since the Unix epoch.
    private let unixTime: (Int64) -> UInt64
    private let emit: (_ process: UInt32, _ spans: [OTLPSpan]) -> Void

    private struct RegionKey: Hashable {
        var process: UInt32
        var thread: UInt32
        var sequence: UInt64
    }

    private struct OwnerKey: Hashable {
        var process: UInt32
        var owner: UInt64
    }

    private final class TaskState {
        let key: TaskKey
        @exclusivity(unchecked) var span: OTLPSpan
        let begin: Int64
        @exclusivity(unchecked) var regionSpans: [OTLPSpan] = []
        /// Region types summed: (count, ns).
        @exclusivity(unchecked) var summed: [String: (count: Int64, nanoseconds: Int64)] = [:]
        /// Region spans whose parent is the task span (indices in `regionSpans`).
        var ended = false
        var sent = false

        init(key: TaskKey, span: OTLPSpan, begin: Int64) {
            self.key = key
            self.span = span
            self.begin = begin
        }
    }

    private final class RegionState {
        let key: RegionKey
        let task: TaskState
        let owner: OwnerKey
        @exclusivity(unchecked) var span: OTLPSpan
        let begin: Int64
        /// What its duration is summed under, when it is not sent: the type
        /// it began with (a rename does not change a region's type).
        let type: String
        /// The name its logs start with (`[name] `): the type, or the last
        /// rename (`span.name`).
        var logName: String
        /// Made by TracedTracer: sent whatever its duration.
        var isSpan = false
        /// The enclosing open region of the same task and owner.
        let parent: RegionState?
        /// Indices in the task's `regionSpans` of sent spans whose parent is this region.
        @exclusivity(unchecked) var children: [Int] = []

        init(key: RegionKey, task: TaskState, owner: OwnerKey, span: OTLPSpan, begin: Int64, type: String,
             parent: RegionState?) {
            self.key = key
            self.task = task
            self.owner = owner
            self.span = span
            self.begin = begin
            self.type = type
            self.logName = type
            self.parent = parent
        }
    }

    @exclusivity(unchecked) private var tasks: [TaskKey: TaskState] = [:]
    @exclusivity(unchecked) private var regions: [RegionKey: RegionState] = [:]
    /// Each owner's open regions, innermost last.
    @exclusivity(unchecked) private var open: [OwnerKey: [RegionState]] = [:]

    package init(options: Options, unixTime: @escaping (Int64) -> UInt64,
                 emit: @escaping (_ process: UInt32, _ spans: [OTLPSpan]) -> Void) {
        self.options = options
        self.unixTime = unixTime
        self.emit = emit
    }

    /// Who runs code: a Swift task (its id), or the thread outside one.
    package static func owner(thread: UInt32, swiftTask: UInt64) -> UInt64 {
        swiftTask != 0 ? swiftTask << 1 : UInt64(thread) << 1 | 1
    }

    // MARK: Events

    /// One event of the live path, its names numbered in `names`; `message`:
    /// a log's.
    package func apply(_ event: SpanEvent, message: UnsafeRawBufferPointer, names: SpanNames) {
        switch event.kind {
        case .taskBegan(let parent, let type):
            taskBegan(process: event.process, id: event.task, parent: parent, type: names[type], time: event.time)
        case .taskEnded:
            taskEnded(process: event.process, id: event.task, time: event.time)
        case .regionBegan(let sequence, let type):
            regionBegan(process: event.process, thread: event.thread, sequence: sequence, swiftTask: event.swiftTask,
                        task: event.task, type: names[type], time: event.time)
        case .regionEnded(let sequence):
            regionEnded(process: event.process, thread: event.thread, sequence: sequence, time: event.time)
        case .log(let category):
            log(process: event.process, thread: event.thread, swiftTask: event.swiftTask, task: event.task,
                kind: names.kind(category), category: names[category], message: message, time: event.time)
        case .processLeft:
            finish(at: event.time, process: event.process)
        }
    }

    package func taskBegan(process: UInt32, id: UInt64, parent: UInt64, type: String, time: Int64) {
        guard tasks.count < Self.openLimit else {
            counts.overOpenLimit += 1
            return
        }
        let key = TaskKey(process: process, id: id)
        let parentTask = parent == 0 ? nil : tasks[TaskKey(process: process, id: parent)]
        let spanID = mix(UInt64(process) << 32 ^ 0x7461_736b, id)
        let traceID = parentTask?.span.traceID ?? TraceID(high: mix(spanID, 1), low: mix(spanID, 2))
        var span = OTLPSpan(traceID: traceID, spanID: spanID, name: SpanLogText.bounded(type, limit: SpanLogText.nameLimit),
                            start: unixTime(time), end: unixTime(time))
        span.parentSpanID = parentTask?.span.spanID ?? 0
        // Room for a few attributes to come, so the first ones do not regrow it.
        span.attributes.reserveCapacity(4)
        span.attributes.append(OTLPAttribute("traced.task.id", .int(Int64(bitPattern: id))))
        tasks[key] = TaskState(key: key, span: span, begin: time)
    }

    package func taskEnded(process: UInt32, id: UInt64, time: Int64) {
        guard let task = tasks.removeValue(forKey: TaskKey(process: process, id: id)) else { return }
        task.span.end = unixTime(time)
        finish(task, latency: time.saturatingSubtract(task.begin))
    }

    package func regionBegan(process: UInt32, thread: UInt32, sequence: UInt64, swiftTask: UInt64, task: UInt64,
                             type: String, time: Int64) {
        let taskState = task == 0 ? nil : tasks[TaskKey(process: process, id: task)]
        // Regions outside any task make no span.
        guard task != 0 else { return }
        guard let taskState else {
            counts.late += 1
            return
        }
        guard regions.count < Self.openLimit else {
            counts.overOpenLimit += 1
            return
        }
        let key = RegionKey(process: process, thread: thread, sequence: sequence)
        // A thread numbers its regions once: the same key begun again (a
        // hostile or corrupt buffer) ends the first where the second begins,
        // so that nothing open is left behind it.
        if regions[key] != nil { end(key, at: time, unended: true) }
        let owner = OwnerKey(process: process, owner: Self.owner(thread: thread, swiftTask: swiftTask))
        let enclosing = open[owner]?.last.flatMap { $0.task === taskState ? $0 : nil }
        let spanID = mix(UInt64(process) << 32 | UInt64(thread), sequence ^ 0x7265_6769_6f6e)
        var span = OTLPSpan(traceID: taskState.span.traceID, spanID: spanID,
                            name: SpanLogText.bounded(type, limit: SpanLogText.nameLimit), start: unixTime(time), end: unixTime(time))
        span.parentSpanID = enclosing?.span.spanID ?? taskState.span.spanID
        let region = RegionState(key: key, task: taskState, owner: owner, span: span, begin: time, type: type, parent: enclosing)
        regions[key] = region
        open[owner, default: []].append(region)
    }

    package func regionEnded(process: UInt32, thread: UInt32, sequence: UInt64, time: Int64) {
        end(RegionKey(process: process, thread: thread, sequence: sequence), at: time, unended: false)
    }

    /// Ends the open region `key`, if there is one; `unended`: it did not
    /// end in the trace (marked `traced.unended`).
    private func end(_ key: RegionKey, at time: Int64, unended: Bool) {
        guard let region = regions.removeValue(forKey: key) else { return }
        if var stack = open[region.owner], let index = stack.lastIndex(where: { $0 === region }) {
            stack.remove(at: index)
            open[region.owner] = stack.isEmpty ? nil : stack
        }
        region.span.end = unixTime(time)
        if unended {
            region.span.attributes.append(OTLPAttribute("traced.unended", .bool(true)))
            counts.unended += 1
        }
        close(region, duration: time.saturatingSubtract(region.begin))
    }

    /// Regions open now, and their entries in the owners' stacks (the same
    /// number unless something leaks).
    package var openRegions: (regions: Int, stacked: Int) {
        (regions.count, open.values.reduce(0) { $0 + $1.count })
    }

    /// A log of `task` (0: none) by the code `thread` and `swiftTask` run.
    package func log(process: UInt32, thread: UInt32, swiftTask: UInt64, task: UInt64, category: String,
                     message: UnsafeRawBufferPointer, time: Int64) {
        log(process: process, thread: thread, swiftTask: swiftTask, task: task, kind: SpanLogKind(category), category: category,
            message: message, time: time)
    }

    /// A log whose category is of `kind`.
    private func log(process: UInt32, thread: UInt32, swiftTask: UInt64, task: UInt64, kind: SpanLogKind, category: String,
                     message: UnsafeRawBufferPointer, time: Int64) {
        guard task != 0 else { return }
        guard let taskState = tasks[TaskKey(process: process, id: task)] else {
            counts.late += 1
            return
        }
        let owner = OwnerKey(process: process, owner: Self.owner(thread: thread, swiftTask: swiftTask))
        let named = SpanContextText.regionName(message)
        let textStart = SpanContextText.nameEnd(message)
        // A region span's logs start with its name: the innermost open
        // region of this task and owner of that name (or the innermost).
        var region: RegionState?
        if let named {
            let candidates = (open[owner] ?? []).filter { $0.task === taskState }
            region = candidates.last { $0.logName.utf8.elementsEqual(named) } ?? candidates.last
        }
        let unix = unixTime(time)
        // The message after `[name] `; as text only for the categories that read it so.
        let body = UnsafeRawBufferPointer(rebasing: message[textStart...])
        var text: Substring { Substring(String(decoding: body, as: UTF8.self)) }
        func apply(_ change: (inout OTLPSpan) -> Void) {
            if let region { change(&region.span) } else { change(&taskState.span) }
        }
        switch kind {
        case .context:
            guard let context = SpanContextText(message) else { return }
            let traceID = TraceID(high: context.traceIDHigh, low: context.traceIDLow)
            if let region {
                region.isSpan = true
                region.span.traceID = traceID
                region.span.spanID = context.spanID
            } else {
                taskState.span.traceID = traceID
                taskState.span.spanID = context.spanID
                if context.remoteParent != 0 {
                    taskState.span.parentSpanID = context.remoteParent
                    taskState.span.kind = .server
                }
            }
        case .attribute:
            apply { span in SpanLogText.forEachPair(body) { Self.add($0, to: &span) } }
        case .event:
            apply { Self.add(SpanLogText.event(body, time: unix), to: &$0) }
        case .error:
            apply { Self.add(SpanLogText.exception(text, time: unix), to: &$0) }
        case .status:
            apply { $0.status = SpanLogText.status(text) }
        case .link:
            guard let context = SpanContextText(message) else { return }
            var rest = context.restOffset
            while rest < message.count && message[rest] == UInt8(ascii: " ") { rest += 1 }
            let link = OTLPSpan.Link(traceID: TraceID(high: context.traceIDHigh, low: context.traceIDLow), spanID: context.spanID,
                                     attributes: SpanLogText.pairs(UnsafeRawBufferPointer(rebasing: message[rest...])))
            apply { span in
                if span.links.count < SpanLogText.countLimit { span.links.append(link) } else { span.droppedLinks += 1 }
            }
        case .taskType:
            guard named == nil else { return }
            taskState.span.name = SpanLogText.bounded(body, limit: SpanLogText.nameLimit)
        case .name:
            apply { $0.name = SpanLogText.bounded(body, limit: SpanLogText.nameLimit) }
            // `[old] new`: its logs from here on start with the new name.
            if let region, named != nil { region.logName = String(decoding: body, as: UTF8.self) }
        case .other:
            // Any other log: an event of the innermost open region span of
            // its owner in this task, else of the task.
            if region == nil { region = (open[owner] ?? []).last { $0.task === taskState && $0.isSpan } }
            let event = OTLPSpan.Event(time: unix, name: SpanLogText.bounded(category, limit: SpanLogText.valueLimit),
                                       attributes: [OTLPAttribute("message", .string(SpanLogText.bounded(
                                           UnsafeRawBufferPointer(message), limit: SpanLogText.valueLimit)))])
            apply { Self.add(event, to: &$0) }
        }
    }

    /// The trace ended at `time` (or, with `process`, that process left):
    /// what is still open is sent as it is, ended there and marked
    /// `traced.unended`.
    package func finish(at time: Int64, process: UInt32? = nil) {
        let openRegions = regions.values.filter { process == nil || $0.key.process == process }
        for region in openRegions.sorted(by: { $0.begin > $1.begin }) {
            regions[region.key] = nil
            region.span.end = unixTime(time)
            region.span.attributes.append(OTLPAttribute("traced.unended", .bool(true)))
            counts.unended += 1
            close(region, duration: time.saturatingSubtract(region.begin))
        }
        open = open.filter { process != nil && $0.key.process != process }
        let openTasks = tasks.values.filter { process == nil || $0.key.process == process }
        for task in openTasks.sorted(by: { $0.begin < $1.begin }) {
            tasks[task.key] = nil
            task.span.end = unixTime(time)
            task.span.attributes.append(OTLPAttribute("traced.unended", .bool(true)))
            counts.unended += 1
            finish(task, latency: time.saturatingSubtract(task.begin))
        }
    }


    // MARK: Spans

    private static func add(_ attribute: OTLPAttribute, to span: inout OTLPSpan) {
        if let index = span.attributes.firstIndex(where: { $0.key == attribute.key }) {
            span.attributes[index] = attribute
        } else if span.attributes.count < SpanLogText.countLimit {
            span.attributes.append(attribute)
        } else {
            span.droppedAttributes += 1
        }
    }

    private static func add(_ event: OTLPSpan.Event, to span: inout OTLPSpan) {
        if span.events.count < SpanLogText.countLimit { span.events.append(event) } else { span.droppedEvents += 1 }
    }

    /// A region ended: sent as a span of its task, or summed into it.
    private func close(_ region: RegionState, duration: Int64) {
        let task = region.task
        let sent = region.isSpan || duration >= options.minRegion
        if sent && task.regionSpans.count < Self.regionSpanLimit {
            if task.ended {
                // Ended after its task: sent alone, if the task was.
                if task.sent {
                    counts.regionSpans += 1
                    emit(task.key.process, [region.span])
                }
                return
            }
            let index = task.regionSpans.count
            task.regionSpans.append(region.span)
            region.parent?.children.append(index)
            return
        }
        if sent { counts.overLimit += 1 }
        counts.regionsSummed += 1
        task.summed[region.type, default: (0, 0)].count += 1
        task.summed[region.type, default: (0, 0)].nanoseconds = task.summed[region.type, default: (0, 0)].nanoseconds
            .saturatingAdd(duration)
        // Spans nested in it take its parent.
        guard !task.ended else { return }
        for child in region.children { task.regionSpans[child].parentSpanID = region.span.parentSpanID }
        region.parent?.children += region.children
    }

    /// A task ended: its span and its region spans go out, unless sampling
    /// leaves them out.
    private func finish(_ task: TaskState, latency: Int64) {
        task.ended = true
        let sampled = task.span.traceID.low % options.sampleEvery == 0
        let slowEnough = options.onlySlowerThan == 0 || latency >= options.onlySlowerThan
        guard sampled && slowEnough else {
            counts.sampledOut += UInt64(1 + task.regionSpans.count)
            task.regionSpans = []
            return
        }
        task.sent = true
        for (type, sum) in task.summed.isEmpty ? [] : task.summed.sorted(by: { $0.key < $1.key }) {
            let key = SpanLogText.bounded("traced.region." + type, limit: SpanLogText.nameLimit - 6)
            Self.add(OTLPAttribute(key + ".count", .int(sum.count)), to: &task.span)
            Self.add(OTLPAttribute(key + ".ns", .int(sum.nanoseconds)), to: &task.span)
        }
        counts.tasks += 1
        counts.regionSpans += UInt64(task.regionSpans.count)
        // Moved out, not copied: the task is done with them.
        var spans = task.regionSpans
        task.regionSpans = []
        var span = OTLPSpan(traceID: TraceID(high: 0, low: 0), spanID: 0, name: "", start: 0, end: 0)
        swap(&span, &task.span)
        spans.insert(span, at: 0)
        emit(task.key.process, spans)
    }

    /// An id of its own for a span without one (splitmix64 of the inputs and
    /// the seed): the same trace exported twice gets the same ids.
    private func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        SplitMix64.id(options.seed ^ a &* 0x9e37_79b9_7f4a_7c15 ^ b &* 0xc2b2_ae3d_27d4_eb4f)
    }
}

/// What a log is to a span, by its category (docs/format.md, "Spans"):
/// worked out once per category name (`SpanNames`), not per log.
package enum SpanLogKind: Sendable {
    case context, attribute, event, error, status, link, taskType, name
    /// Any other category: an event named after it.
    case other

    package init(_ category: String) {
        switch category {
        case Self.names.context: self = .context
        case Self.names.attribute: self = .attribute
        case Self.names.event: self = .event
        case Self.names.error: self = .error
        case Self.names.status: self = .status
        case Self.names.link: self = .link
        case Self.names.taskType: self = .taskType
        case Self.names.name: self = .name
        default: self = .other
        }
    }

    /// The span categories as Strings, to compare with.
    private static let names = (context: String(describing: SpanCategory.context),
                                attribute: String(describing: SpanCategory.attribute),
                                event: String(describing: SpanCategory.event),
                                error: String(describing: SpanCategory.error),
                                status: String(describing: SpanCategory.status),
                                link: String(describing: SpanCategory.link),
                                taskType: String(describing: SpanCategory.taskType),
                                name: String(describing: SpanCategory.name))
}
