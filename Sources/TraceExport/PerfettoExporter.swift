package import TraceFormat
package import TraceAnalysis
package import TraceSystem

/// `tracectl export --format perfetto`: Perfetto's TrackEvent protobuf
/// format (the `.pftrace` the Perfetto UI and trace_processor open).
///
/// - A track per process (`ProcessDescriptor`: pid, name) and per thread
///   (`ThreadDescriptor`: pid, tid, name).
/// - A track per trace task, under its process, named "TYPE #ID", holding the
///   task's slice (category `task`) with its regions (category `region`)
///   nested on it, and sibling tracks for regions of other Swift tasks;
///   tracks for Swift tasks outside trace tasks; regions outside both on
///   their thread's track; overflow tracks for misnested regions
///   (`SliceLayout`).
/// - A flow from a task's slice to each child task's slice.
/// - A flow from a span's `trace.context` log to each `span.link` log that
///   names the span (SpanLinks).
/// - Logs: instants (category `log`, named after the log's category) on the
///   thread's track, with `category`, `message` (and `task`, `truncated`,
///   `stack`) annotations.
/// - Counters: a counter track per process and name, integer or double.
/// - Drops: a counter track "dropped events" per process: the process's
///   dropped events so far, stepping up where a thread's chunk said events
///   were lost just before it, and to the total of the process's drops
///   records at the end (drops whose place is unknown).
/// - Stacks: a `stack` annotation with the symbolized frames, innermost first.
///   (trace_processor reads TrackEvent callstacks only from v53; v52, the
///   one our tests load, does not.)
/// - Kernel events (`PerfettoKernelExport`): switches and wakeups as ftrace
///   scheduler events, from which trace_processor builds `thread_state`;
///   CPU samples as `PerfSample`s with interned callstacks.
/// - Process stats: a counter track per process and stat, "stat NAME"
///   (`ProcessStat.name`), with its unit (ns, bytes, or a count), holding
///   the values as recorded (cumulative ones as totals).
package final class PerfettoExporter: ExportFormat {
    private let packets: PerfettoPacketWriter
    private let names: (UInt32) -> String
    private let stackText: (UInt32, UInt32) -> String?
    // Looked up on every event. The tables are keyed by `key(_:_:)` and
    // give an index into the array beside them: SipHash dictionaries here
    // took a tenth of an export. `unchecked`: read or written on every
    // event, only by this class's methods, which nothing they call calls
    // back into.
    @exclusivity(unchecked) private var processIndex = SerialTable()
    @exclusivity(unchecked) private var processTracks: [ProcessTrack] = []
    @exclusivity(unchecked) private var threadIndex = SerialTable()
    @exclusivity(unchecked) private var threadTracks: [ThreadTrack] = []
    @exclusivity(unchecked) private var counterIndex = SerialTable()
    @exclusivity(unchecked) private var counterTracks: [UInt64] = []
    /// A process's counter tracks by `key(process, what)`: a stat's raw
    /// value, or `droppedCounter`. Each gets a value once a second or once
    /// a file at most, too rarely for a `SerialTable`.
    private var processCounterTracks: [UInt64: UInt64] = [:]
    private static let droppedCounter = UInt32.max
    /// Interned stack ids (1, 2, ... in order of first use) by `key(process, stack)`.
    @exclusivity(unchecked) private var stackIIDs = SerialTable()
    /// Names as UTF-8 by id, each resolved once.
    @exclusivity(unchecked) private var nameBytes = NameBytes()
    /// Track ids are numbered from 1, so that most take a byte or two.
    @exclusivity(unchecked) private var nextTrack: UInt64 = 1

    private struct ProcessTrack {
        var track: UInt64
        var pid: Int32
    }

    private struct ThreadTrack {
        var track: UInt64
        var tid: Int32
        var name: String
        /// "NAME (TID)" as UTF-8, made the first time a region crosses threads.
        var text: [UInt8]?
    }

    /// A table key for something numbered per process (a thread, a counter
    /// name, a stack).
    @inline(__always)
    private static func key(_ process: UInt32, _ index: UInt32) -> UInt64 { UInt64(process) << 32 | UInt64(index) }

    /// `names` resolves a name id; `stackText` gives a process's stack as
    /// text (nil: unknown stack).
    /// `stackFrames` gives a process's stack as frames (function, file,
    /// line), for the events' inline callstacks (nil: none).
    /// `sampleStack` gives a process's stack as the frames of a CPU
    /// sample (nil: unknown).
    package init(output: FileDescriptor?, names: @escaping (UInt32) -> String,
                 stackText: @escaping (UInt32, UInt32) -> String?,
                 stackFrames: @escaping (UInt32, UInt32) -> [(function: String, file: String?, line: UInt32?)]? = { _, _ in nil },
                 sampleStack: @escaping (UInt32, UInt32) -> [ProfileFrame]? = { _, _ in nil }) {
        packets = PerfettoPacketWriter(output: ProtobufWriter(output: output))
        self.names = names
        self.stackText = stackText
        self.stackFrames = stackFrames
        kernelEvents = PerfettoKernelExport(packets: packets, names: names, sampleStack: sampleStack)
    }

    private let kernelEvents: PerfettoKernelExport

    private let stackFrames: (UInt32, UInt32) -> [(function: String, file: String?, line: UInt32?)]?
    /// Encoded inline callstacks by `key(process, stack)`: only events with
    /// stacks (`TRACED_STACKS=1`) look here.
    private var callstacks: [UInt64: [UInt8]] = [:]

    /// The bytes written so far (all of them when there is no output).
    package var writer: ProtobufWriter { packets.output }

    package func start(monotonic: Int64, realtime: Int64?) throws {
        try packets.start(monotonic: UInt64(clamping: monotonic), realtime: realtime.map { UInt64(clamping: $0) })
    }

    private func newTrack() -> UInt64 {
        defer { nextTrack += 1 }
        return nextTrack
    }

    package func process(_ process: UInt32, pid: Int32, name: String) throws {
        guard processIndex.find(UInt64(process)) == nil else { return }
        let track = newTrack()
        processIndex.insert(UInt64(process), Int32(processTracks.count))
        processTracks.append(ProcessTrack(track: track, pid: pid))
        kernelEvents.process(process, pid: pid)
        try packets.processTrack(uuid: track, pid: pid, name: name)
    }

    package func thread(_ process: UInt32, index: UInt32, tid: Int32, name: String) throws {
        let key = Self.key(process, index)
        guard threadIndex.find(key) == nil else { return }
        let track = newTrack()
        threadIndex.insert(key, Int32(threadTracks.count))
        threadTracks.append(ThreadTrack(track: track, tid: tid, name: name))
        kernelEvents.thread(process, index: index, tid: tid, name: name)
        try packets.threadTrack(uuid: track, pid: try processTrack(process).pid, tid: tid, name: name)
    }

    /// A process's track; one the catalog did not name is declared unnamed.
    private func processTrack(_ process: UInt32) throws -> ProcessTrack {
        if let known = processIndex.find(UInt64(process)) { return processTracks[Int(known)] }
        try self.process(process, pid: 0, name: "process \(process)")
        return processIndex.find(UInt64(process)).map { processTracks[Int($0)] } ?? ProcessTrack(track: 0, pid: 0)
    }

    /// A thread's track; one the catalog did not name (its record lost) is declared.
    private func threadTrack(_ process: UInt32, _ index: UInt32) throws -> UInt64 {
        if let known = threadIndex.find(Self.key(process, index)) { return threadTracks[Int(known)].track }
        try thread(process, index: index, tid: 0, name: "thread \(index)")
        return threadIndex.find(Self.key(process, index)).map { threadTracks[Int($0)].track } ?? 0
    }

    /// Name `id` as UTF-8, resolved the first time.
    private func withNameBytes(_ id: UInt32, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try nameBytes.with(id, make: { id, bytes in bytes.append(contentsOf: names(id).utf8) }, body)
    }

    // MARK: Slices

    package func laneCreated(_ lane: TimelineLane) throws -> UInt64 {
        let name: String
        switch lane.kind {
        case .thread(let index):
            return try threadTrack(lane.process, index)
        case .task(let id, let index):
            let track = newTrack()
            let parent = try processTrack(lane.process).track
            if lane.taskName == 0 {
                let unknown: StaticString = "task"
                try packets.taskTrack(uuid: track, parent: parent,
                                      type: UnsafeRawBufferPointer(start: unknown.utf8Start, count: unknown.utf8CodeUnitCount),
                                      id: id, index: index)
            } else {
                try withNameBytes(lane.taskName) {
                    try packets.taskTrack(uuid: track, parent: parent, type: $0, id: id, index: index)
                }
            }
            return track
        case .swiftTask(let id):
            name = "Swift task \(id)"
        case .overflow(let index):
            name = index == 0 ? "misnested regions" : "misnested regions (\(index + 1))"
        }
        let track = newTrack()
        try packets.sliceTrack(uuid: track, parent: try processTrack(lane.process).track, name: name)
        return track
    }

    package func sliceBegan(_ slice: TimelineSlice, on lane: TimelineLane, flows: [UInt64]) throws {
        let event = packets.beginEvent(time: slice.begin, track: lane.id, type: .sliceBegin,
                                       category: slice.kind == .task ? .task : .region,
                                       name: UInt64(slice.name) + 1, nameText: { names(slice.name) })
        for flow in flows { packets.flow(flow) }
        if slice.kind == .task {
            packets.annotate(.task, slice.task)
            if slice.parentTask != 0 { packets.annotate(.parentTask, slice.parentTask) }
        } else if case .overflow = lane.kind, slice.task != 0 {
            packets.annotate(.task, slice.task)
        }
        if slice.stack != 0 { annotateStack(process: slice.process, stack: slice.stack) }
        try packets.endEvent(event)
    }

    package func sliceEnded(_ slice: TimelineSlice, on lane: TimelineLane) throws {
        let event = packets.beginEvent(time: slice.end, track: lane.id, type: .sliceEnd, name: 0, nameText: { "" })
        if slice.flowIn != 0 { packets.terminatingFlow(slice.flowIn) }
        let flags = slice.flags
        if !flags.isEmpty {
            if flags.contains(.neverEnded) { packets.annotate(.neverEnded, true) }
            if flags.contains(.misnested) { packets.annotate(.misnested, true) }
            if flags.contains(.endedTwice) { packets.annotate(.endedTwice, true) }
            if flags.contains(.endedOnAnotherTask) { packets.annotate(.endedOnAnotherTask, true) }
            if flags.contains(.cutShort) { packets.annotate(.cutShort, true) }
        }
        if slice.kind == .region, slice.endThread != 0, slice.endThread != slice.beginThread {
            annotateThread(.beginThread, slice.process, slice.beginThread)
            annotateThread(.endThread, slice.process, slice.endThread)
        }
        try packets.endEvent(event)
    }

    /// A thread as an annotation: "NAME (TID)", built once per thread
    /// (regions that cross threads are common in async code).
    private func annotateThread(_ name: AnnotationName, _ process: UInt32, _ index: UInt32) {
        guard let known = threadIndex.find(Self.key(process, index)).map(Int.init) else {
            packets.annotate(name, "thread \(index)")
            return
        }
        if threadTracks[known].text == nil {
            threadTracks[known].text = Array("\(threadTracks[known].name) (\(threadTracks[known].tid))".utf8)
        }
        // Through `inout`, in place (a read would retain the array around the call).
        threadTracks[known].text?.withUnsafeMutableBytes { packets.annotate(name, UnsafeRawBufferPointer($0)) }
    }

    private func annotateStack(process: UInt32, stack: UInt32) {
        let key = Self.key(process, stack)
        let iid: UInt64
        if let known = stackIIDs.find(key) {
            iid = UInt64(known)
        } else {
            iid = UInt64(stackIIDs.count) + 1
            stackIIDs.insert(key, Int32(iid))
        }
        packets.annotate(.stack, interned: iid) { stackText(process, stack) ?? "unknown stack \(stack)" }
        // Also as the event's callstack, which current Perfetto UIs show
        // with the slice (trace_processor v52, which tests load, skips it).
        if callstacks[key] == nil {
            callstacks[key] = stackFrames(process, stack).map(PerfettoPacketWriter.inlineCallstack) ?? []
        }
        if let encoded = callstacks[key], !encoded.isEmpty { packets.callstack(encoded) }
    }

    // MARK: Logs, counters, drops

    package func log(_ log: ExportLog) throws {
        let track = try threadTrack(log.process, log.thread)
        let event = packets.beginEvent(time: log.time, track: track,
                                       type: .instant, category: .log,
                                       name: UInt64(log.category) + 1, nameText: { names(log.category) })
        withNameBytes(log.category) { packets.annotate(.category, $0) }
        log.withMessageUTF8 { packets.annotate(.message, $0) }
        if log.task != 0 { packets.annotate(.task, log.task) }
        if log.truncated { packets.annotate(.truncated, true) }
        if log.stack != 0 { annotateStack(process: log.process, stack: log.stack) }
        if log.flowOut != 0 { packets.flow(log.flowOut) }
        if log.flowIn != 0 { packets.terminatingFlow(log.flowIn) }
        try packets.endEvent(event)
    }

    package func counter(_ counter: ExportCounter) throws {
        let key = Self.key(counter.process, counter.name)
        let track: UInt64
        if let known = counterIndex.find(key) {
            track = counterTracks[Int(known)]
        } else {
            track = newTrack()
            counterIndex.insert(key, Int32(counterTracks.count))
            counterTracks.append(track)
            try packets.counterTrack(uuid: track, parent: try processTrack(counter.process).track, name: names(counter.name))
        }
        let event = packets.beginEvent(time: counter.time, track: track, type: .counter, name: 0, nameText: { "" })
        switch counter.value {
        case .integer(let value): packets.counterValue(value)
        case .double(let value): packets.counterValue(value)
        }
        try packets.endEvent(event)
    }

    package func dropped(process: UInt32, thread: UInt32, time: Int64, count: UInt64, total: UInt64) throws {
        try processCounter(process, Self.droppedCounter, time: time, value: total, name: "dropped events", unit: nil)
    }

    package func kernel(_ event: TraceEvent) throws {
        guard case .processStat(let stat?, let value) = event.kind else { return try kernelEvents.event(event) }
        try processCounter(event.process, stat.rawValue, time: event.time, value: value, name: "stat \(stat.name)",
                           unit: Self.unit(stat))
    }

    /// A value of counter `what` of `process`, on its own track under the
    /// process's, described the first time.
    private func processCounter(_ process: UInt32, _ what: UInt32, time: Int64, value: UInt64,
                                name: @autoclosure () -> String, unit: UInt64?) throws {
        let key = Self.key(process, what)
        let track: UInt64
        if let known = processCounterTracks[key] {
            track = known
        } else {
            track = newTrack()
            processCounterTracks[key] = track
            try packets.counterTrack(uuid: track, parent: try processTrack(process).track, name: name(), unit: unit)
        }
        let packet = packets.beginEvent(time: time, track: track, type: .counter, name: 0, nameText: { "" })
        packets.counterValue(Int64(clamping: value))
        try packets.endEvent(packet)
    }

    /// A process stat's unit, as its counter track declares it.
    private static func unit(_ stat: ProcessStat) -> UInt64 {
        switch stat {
        case .userCPUNanoseconds, .systemCPUNanoseconds: PerfettoSchema.CounterDescriptor.unitTimeNanoseconds
        case .residentBytes: PerfettoSchema.CounterDescriptor.unitSizeBytes
        case .threads, .openFiles, .minorFaults, .majorFaults, .voluntarySwitches, .involuntarySwitches:
            PerfettoSchema.CounterDescriptor.unitCount
        }
    }

    /// Kernel events left out of the export: switches and wakeups on CPUs
    /// numbered past 1023, which trace_processor refuses.
    package var kernelEventsLeftOut: Int { kernelEvents.leftOut }

    package func finish(at lastTime: Int64) throws {
        try kernelEvents.finish()
        try packets.output.flush()
    }
}
