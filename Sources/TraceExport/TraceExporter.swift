package import TraceAnalysis
package import TraceFormat
package import TraceSystem

/// Runs an export: one streaming pass over trace files (`TraceWalk`) feeds
/// a format, and says what it wrote.
package enum TraceExporter {
    package enum Format: String, CaseIterable, Sendable {
        case perfetto
        case chromeJSON = "chrome-json"
        /// OTLP protobuf and JSON (`OTLPExport`).
        case otlp
        case otlpJSON = "otlp-json"
    }

    package struct Summary: Sendable {
        package var tasks = 0
        package var regions = 0
        package var logs = 0
        package var counters = 0
        /// Kernel events (format 1.1): switches, wakeups, samples, names...
        package var kernelEvents = 0
        /// Kernel events the format could not write (Perfetto: switches and
        /// wakeups on CPUs numbered past 1023, in a damaged trace).
        package var kernelEventsLeftOut = 0
        /// Process stats of kinds this reader does not know (a newer
        /// traced's), left out of every format.
        package var unknownStats = 0
        package var bytes: UInt64 = 0
        /// Held-back begins written early because of the layout's bound.
        package var forcedCommits = 0
        package var diagnostics: [ReaderDiagnostic] = []
        /// The export itself, when it was made without an output file.
        package var output: [UInt8] = []
    }

    /// Exports the trace in `paths` (one trace's files, in order) to `output`.
    /// `callstacks` false: stacks only as `stack` annotations, not also as
    /// TrackEvent callstacks (which trace_processor before v53 counts as
    /// unknown fields, an error in its stats).
    package static func export(paths: [String], format: Format, to output: FileDescriptor,
                               callstacks: Bool = true) throws -> Summary {
        try export(TraceWalk(paths: paths), format: format, to: output, callstacks: callstacks)
    }

    /// The Perfetto export of what `walk` reads from `processes` (nil: all),
    /// in memory (the HTML page embeds it).
    package static func perfettoBytes(_ walk: TraceWalk, processes: Set<UInt32>?) throws -> [UInt8] {
        let summary = try export(walk, format: .perfetto, to: nil, processes: processes)
        return summary.output
    }

    /// Exports the trace `walk` reads (the fuzz target gives it bytes, and
    /// `symbolize` false: stacks as addresses, no tool run) from
    /// `processes` (nil: all) to `output`, or with no output into
    /// `Summary.output`.
    package static func export(_ walk: TraceWalk, format: Format, to output: FileDescriptor?,
                               symbolize: Bool = true, callstacks: Bool = true,
                               processes: Set<UInt32>? = nil) throws -> Summary {
        let catalog = walk.catalog
        let names: (UInt32) -> String = { catalog.string(TraceName(index: $0)) }
        let resolver = StackResolver(catalog: catalog, symbolize: symbolize)
        let stacks: (UInt32, UInt32) -> String? = { process, id in
            catalog.stack(process, id) == nil ? nil : resolver.lines(process, id).joined(separator: "\n")
        }
        switch format {
        case .perfetto:
            let frames: (UInt32, UInt32) -> [(function: String, file: String?, line: UInt32?)]? = { process, id in
                !callstacks || catalog.stack(process, id) == nil ? nil : resolver.frames(process, id).map(Self.frame)
            }
            let samples: (UInt32, UInt32) -> [ProfileFrame]? = { process, id in
                catalog.stack(process, id) == nil ? nil : Self.profileFrames(resolver.frames(process, id), catalog.images[process] ?? [])
            }
            let exporter = PerfettoExporter(output: output, names: names, stackText: stacks, stackFrames: frames,
                                            sampleStack: samples)
            var summary = try run(walk, exporter, processes: processes)
            summary.bytes = exporter.writer.totalBytes
            summary.kernelEventsLeftOut = exporter.kernelEventsLeftOut
            if output == nil { summary.output = exporter.writer.bytes }
            return summary
        case .chromeJSON:
            let exporter = ChromeJSONExporter(output: output, names: names, stackText: stacks)
            var summary = try run(walk, exporter, processes: processes)
            summary.bytes = exporter.writer.totalBytes
            if output == nil { summary.output = exporter.writer.bytes }
            return summary
        case .otlp, .otlpJSON:
            let otlp = try OTLPExport.export(walk, options: OTLPExport.Options(json: format == .otlpJSON, hostName: HostName.current),
                                             to: output)
            return Summary(tasks: Int(otlp.counts.tasks), regions: Int(otlp.counts.regionSpans), bytes: otlp.bytes,
                           diagnostics: otlp.diagnostics, output: otlp.output)
        }
    }

    /// A frame for an inline callstack: the function (or image+offset), and
    /// the file and line of "file:line".
    private static func frame(_ frame: StackSymbolizer.Frame) -> (function: String, file: String?, line: UInt32?) {
        guard let function = frame.function else { return (frame.description, nil, nil) }
        guard let location = frame.location, let colon = location.lastIndex(of: ":"),
              let line = UInt32(location[location.index(after: colon)...]) else { return (function, frame.location, nil) }
        return (function, String(location[..<colon]), line)
    }

    /// A CPU sample's frames: each function (or image+offset), with its
    /// image and its offset there (or its address, outside every image).
    private static func profileFrames(_ frames: [StackSymbolizer.Frame], _ images: [ImageRecord]) -> [ProfileFrame] {
        frames.map { frame in
            let image = frame.image == nil ? nil : images.first { $0.path == frame.image && $0.contains(frame.address) }
            return ProfileFrame(function: frame.function ?? frame.description, image: image,
                                relativePC: image == nil ? frame.address : frame.offset)
        }
    }

    private static func run(_ walk: TraceWalk, _ format: any ExportFormat, processes: Set<UInt32>?) throws -> Summary {
        let catalog = walk.catalog
        let first = walk.startTime ?? 0
        let sync = catalog.clockSyncs.min { $0.monotonicNanoseconds < $1.monotonicNanoseconds }
        try format.start(monotonic: sync.map { Int64(clamping: $0.monotonicNanoseconds) } ?? first,
                         realtime: sync.map { Int64(clamping: $0.realtimeNanoseconds) })
        for (key, process) in catalog.processes.sorted(by: { $0.key < $1.key }) {
            try format.process(key, pid: process.pid, name: process.name)
        }
        for (key, thread) in catalog.threads.sorted(by: { ($0.key.process, $0.key.id) < ($1.key.process, $1.key.id) }) {
            try format.thread(key.process, index: UInt32(truncatingIfNeeded: key.id), tid: thread.tid, name: thread.name)
        }
        // Drop counters are tracks of processes: the kernel collector's
        // losses (of no one process) are the report's and dump's alone.
        var visitor = ExportVisitor(export: TimelineExport(format: format),
                                    recordedDrops: catalog.drops.filter { $0.key != DropCounts.kernelCollector }.mapValues(\.droppedEvents),
                                    links: SpanLinks(catalog: catalog))
        // The walk on its own thread, the layout and the writing on this
        // one: each takes about half of an export's time.
        walk.runPipelined(&visitor, processes: processes)
        if let error = visitor.error { throw error }
        let export = visitor.export
        return Summary(tasks: export.taskSlices, regions: export.regionSlices, logs: export.logs, counters: export.counters,
                       kernelEvents: export.kernelEvents, unknownStats: export.unknownStats,
                       forcedCommits: export.layout.forcedCommits, diagnostics: catalog.diagnostics)
    }
}

/// The walk's events, handed to `TimelineExport`. The walk does not
/// expect a visitor to fail: the first write error is kept, everything after
/// it ignored, and `export` throws it when the walk returns.
struct ExportVisitor: TraceVisitor {
    let export: TimelineExport
    let recordedDrops: [UInt32: UInt64]
    let links: SpanLinks
    var error: (any Error)?

    private mutating func attempt(_ body: (TimelineExport) throws -> Void) {
        guard error == nil else { return }
        do { try body(export) } catch { self.error = error }
    }

    mutating func visit(_ event: TraceEvent) {
        switch event.kind {
        case .taskBegin(let task): taskBegan(task)
        case .taskEnd(let task): attempt { try $0.taskEnded(process: task.process, id: task.id, end: task.end) }
        case .regionBegin(let region): regionBegan(region)
        case .regionEnd(let region): regionEnded(region)
        case .log(let log): logged(log, event)
        case .counter(let counter): counted(counter, event)
        case .dropped(let count):
            attempt { try $0.dropped(process: event.process, thread: event.thread, time: event.time, count: count) }
        case .taskEndWithoutBegin, .regionEndAgain, .orphanEnd, .unknown: break
        case .switchOut, .switchIn, .wakeup, .cpuSample, .threadName, .threadExit, .processStat:
            attempt { try $0.kernel(event) }
        }
    }

    private mutating func taskBegan(_ task: TaskSpan) {
        guard let begin = task.begin else { return }
        attempt {
            try $0.taskBegan(process: task.process, id: task.id, parent: task.parent, type: task.type.index, time: begin,
                                 thread: task.thread, swiftTask: task.swiftTask, stack: task.stack)
        }
    }

    private mutating func regionBegan(_ region: RegionSpan) {
        attempt {
            try $0.regionBegan(process: region.process, serial: region.serial, thread: region.beginThread,
                                   type: region.type.index, task: region.task, swiftTask: region.swiftTask,
                                   time: region.begin, stack: region.stack)
        }
    }

    private mutating func regionEnded(_ region: RegionSpan) {
        var flags: TimelineSlice.Flags = []
        if region.misuse.contains(.endedOutOfOrder) { flags.insert(.misnested) }
        if region.misuse.contains(.endedOnAnotherTask) { flags.insert(.endedOnAnotherTask) }
        attempt {
            try $0.regionEnded(serial: region.serial, end: region.end, endThread: region.endThread ?? 0, flags: flags)
        }
    }

    private mutating func logged(_ log: LogRecord, _ event: TraceEvent) {
        let flows = links.flows(category: log.category.index, message: log.message)
        attempt {
            var record = ExportLog(time: event.time, process: event.process, thread: event.thread, task: log.task,
                                   swiftTask: event.swiftTask, category: log.category.index, message: .bytes(log.message),
                                   truncated: log.truncated, stack: log.stack)
            (record.flowOut, record.flowIn) = flows
            try $0.log(record)
        }
    }

    private mutating func counted(_ counter: CounterRecord, _ event: TraceEvent) {
        let value: ExportCounter.Value = switch counter.value {
        case .integer(let integer): .integer(integer)
        case .double(let double): .double(double)
        }
        attempt {
            try $0.counter(ExportCounter(time: event.time, process: event.process, name: counter.name.index, value: value))
        }
    }

    mutating func finish(last: Int64?) {
        let drops = recordedDrops
        attempt { try $0.finish(lastTime: last ?? 0, recordedDrops: drops) }
    }
}
