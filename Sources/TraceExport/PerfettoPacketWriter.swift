package import TraceFormat
package import TraceSystem

/// Builds the Perfetto trace packets of an export on one packet sequence
/// (`trusted_packet_sequence_id` 1): the clock snapshot, track descriptors,
/// and track events whose names, annotation names and long repeated strings
/// are interned on the sequence (`InternedData`, written in the packet that
/// first uses an id; the first packet clears the sequence's incremental
/// state and every event packet says it needs it).
///
/// Timestamps are CLOCK_MONOTONIC nanoseconds (`BUILTIN_CLOCK_MONOTONIC`,
/// the sequence's default clock), and the clock snapshot makes MONOTONIC the
/// trace's clock, so trace_processor keeps them as they are.
///
/// The kernel's events (`PerfettoSchedBundles`, `PerfettoSamples`) write
/// their packets through `output` on the same sequence, each packet with
/// the interned data it introduces (kernel symbols; callstacks, frames,
/// mappings and their strings): those ids are numbered apart from the
/// names here, in other fields of `InternedData`.
package final class PerfettoPacketWriter {
    typealias F = PerfettoSchema

    package enum EventType {
        case sliceBegin, sliceEnd, instant, counter

        var value: UInt64 {
            switch self {
            case .sliceBegin: F.TrackEvent.typeSliceBegin
            case .sliceEnd: F.TrackEvent.typeSliceEnd
            case .instant: F.TrackEvent.typeInstant
            case .counter: F.TrackEvent.typeCounter
            }
        }
    }

    /// An open event packet (`beginEvent` ... `endEvent`).
    package struct Event {
        fileprivate let packet: ProtobufWriter.Mark
        fileprivate let trackEvent: ProtobufWriter.Mark
    }

    private enum Pending {
        case category(UInt64, String)
        case eventName(UInt64, String)
        case annotationName(UInt64, String)
        case annotationString(UInt64, String)
    }

    package let output: ProtobufWriter
    /// The one packet sequence of the export: every packet is on it.
    let sequence: UInt64 = 1
    // Read on every event: without `unchecked` each access pays a dynamic
    // exclusivity check. Only this class's methods touch them, and none
    // calls back into it while it accesses one.
    @exclusivity(unchecked) private var categoriesSent: [Bool] = []
    @exclusivity(unchecked) private var eventNamesSent: [Bool] = []
    @exclusivity(unchecked) private var annotationNamesSent: [Bool] = []
    @exclusivity(unchecked) private var stringsSent: [Bool] = []
    @exclusivity(unchecked) private var pending: [Pending] = []

    package init(output: ProtobufWriter) {
        self.output = output
        pending.reserveCapacity(8)
    }

    // MARK: Sequence and clocks

    /// The first packet: a clock snapshot (CLOCK_MONOTONIC, and the
    /// wall-clock time at that instant when the trace has it) that makes
    /// MONOTONIC the trace's clock, and the sequence's defaults.
    package func start(monotonic: UInt64, realtime: UInt64?) throws(SystemError) {
        let packet = output.begin(F.Trace.packet)
        let snapshot = output.begin(F.TracePacket.clockSnapshot)
        let clock = output.begin(F.ClockSnapshot.clocks)
        output.varint(F.ClockSnapshot.clockID, F.BuiltinClock.monotonic)
        output.varint(F.ClockSnapshot.clockTimestamp, monotonic)
        output.end(clock)
        if let realtime {
            let wall = output.begin(F.ClockSnapshot.clocks)
            output.varint(F.ClockSnapshot.clockID, F.BuiltinClock.realtime)
            output.varint(F.ClockSnapshot.clockTimestamp, realtime)
            output.end(wall)
        }
        output.varint(F.ClockSnapshot.primaryTraceClock, F.BuiltinClock.monotonic)
        output.end(snapshot)
        output.varint(F.TracePacket.trustedPacketSequenceID, sequence)
        output.varint(F.TracePacket.timestamp, monotonic)
        output.varint(F.TracePacket.sequenceFlags, F.TracePacket.sequenceIncrementalStateCleared)
        output.bool(F.TracePacket.incrementalStateCleared, true)
        output.bool(F.TracePacket.firstPacketOnSequence, true)
        let defaults = output.begin(F.TracePacket.tracePacketDefaults)
        output.varint(F.TracePacketDefaults.timestampClockID, F.BuiltinClock.monotonic)
        output.end(defaults)
        output.end(packet)
        try output.boundary()
    }

    /// A clock snapshot where CLOCK_BOOTTIME reads as CLOCK_MONOTONIC, for
    /// the kernel's events: trace_processor reads ftrace times as BOOTTIME,
    /// and ours are MONOTONIC (written before the first ftrace bundle, so
    /// a trace without kernel events is as it was).
    func clockSnapshot(monotonic: UInt64, boottime: UInt64) throws(SystemError) {
        let packet = output.begin(F.Trace.packet)
        let snapshot = output.begin(F.TracePacket.clockSnapshot)
        for (id, value) in [(F.BuiltinClock.boottime, boottime), (F.BuiltinClock.monotonic, monotonic)] {
            let clock = output.begin(F.ClockSnapshot.clocks)
            output.varint(F.ClockSnapshot.clockID, id)
            output.varint(F.ClockSnapshot.clockTimestamp, value)
            output.end(clock)
        }
        output.end(snapshot)
        output.varint(F.TracePacket.trustedPacketSequenceID, sequence)
        output.varint(F.TracePacket.timestamp, monotonic)
        output.end(packet)
        try output.boundary()
    }

    /// A `ProcessTree` of one thread: trace_processor ties `tid` to the
    /// process of pid `tgid` (and names it, when `name` is not empty).
    func processTreeThread(time: Int64, tid: Int32, tgid: Int32, name: [UInt8]) throws(SystemError) {
        let packet = output.begin(F.Trace.packet)
        output.varint(F.TracePacket.timestamp, UInt64(clamping: time))
        output.varint(F.TracePacket.trustedPacketSequenceID, sequence)
        let tree = output.begin(F.TracePacket.processTree)
        let thread = output.begin(F.ProcessTree.threads)
        output.int64(F.ProcessTree.tid, Int64(tid))
        output.int64(F.ProcessTree.tgid, Int64(tgid))
        if !name.isEmpty { output.bytes(F.ProcessTree.name, name) }
        output.end(thread)
        output.end(tree)
        output.end(packet)
        try output.boundary()
    }

    // MARK: Tracks

    /// A process track: trace_processor names the process from it.
    package func processTrack(uuid: UInt64, pid: Int32, name: String) throws(SystemError) {
        let packet = beginDescriptor(uuid: uuid)
        let process = output.begin(F.TrackDescriptor.process)
        output.int64(F.ProcessDescriptor.pid, Int64(pid))
        output.string(F.ProcessDescriptor.processName, name)
        output.end(process)
        try endDescriptor(packet)
    }

    /// A thread track (a child of its process's track by its pid).
    package func threadTrack(uuid: UInt64, pid: Int32, tid: Int32, name: String) throws(SystemError) {
        let packet = beginDescriptor(uuid: uuid)
        let thread = output.begin(F.TrackDescriptor.thread)
        output.int64(F.ThreadDescriptor.pid, Int64(pid))
        output.int64(F.ThreadDescriptor.tid, Int64(tid))
        output.string(F.ThreadDescriptor.threadName, name)
        output.end(thread)
        try endDescriptor(packet)
    }

    /// A named track of slices under `parent`, never merged with a sibling.
    package func sliceTrack(uuid: UInt64, parent: UInt64, name: String) throws(SystemError) {
        let packet = beginDescriptor(uuid: uuid)
        output.varint(F.TrackDescriptor.parentUUID, parent)
        output.string(F.TrackDescriptor.name, name)
        output.varint(F.TrackDescriptor.siblingMergeBehavior, F.TrackDescriptor.siblingMergeNone)
        try endDescriptor(packet)
    }

    /// A trace task's track under `parent`, never merged with a sibling:
    /// named "TYPE #ID" (its own lane, `index` 0), or "TYPE #ID (N)" for a
    /// sibling lane (`index` N - 1). The name is written into the packet
    /// piece by piece: there is a track per task, and building its name
    /// first cost more than the rest.
    package func taskTrack(uuid: UInt64, parent: UInt64, type: UnsafeRawBufferPointer, id: UInt64,
                           index: Int) throws(SystemError) {
        let packet = beginDescriptor(uuid: uuid)
        output.varint(F.TrackDescriptor.parentUUID, parent)
        let name = output.begin(F.TrackDescriptor.name)
        output.raw(type)
        output.raw(" #")
        output.decimal(id)
        if index > 0 {
            output.raw(" (")
            output.decimal(UInt64(index) + 1)
            output.raw(")")
        }
        output.end(name)
        output.varint(F.TrackDescriptor.siblingMergeBehavior, F.TrackDescriptor.siblingMergeNone)
        try endDescriptor(packet)
    }

    /// A counter track under `parent`, of values in `unit` (a
    /// `CounterDescriptor.Unit`; nil: plain numbers).
    package func counterTrack(uuid: UInt64, parent: UInt64, name: String, unit: UInt64? = nil) throws(SystemError) {
        let packet = beginDescriptor(uuid: uuid)
        output.varint(F.TrackDescriptor.parentUUID, parent)
        output.string(F.TrackDescriptor.name, name)
        let counter = output.begin(F.TrackDescriptor.counter)
        if let unit { output.varint(F.CounterDescriptor.unit, unit) }
        output.end(counter)
        output.varint(F.TrackDescriptor.siblingMergeBehavior, F.TrackDescriptor.siblingMergeNone)
        try endDescriptor(packet)
    }

    private func beginDescriptor(uuid: UInt64) -> ProtobufWriter.Mark.Pair {
        let packet = output.begin(F.Trace.packet)
        output.varint(F.TracePacket.trustedPacketSequenceID, sequence)
        let descriptor = output.begin(F.TracePacket.trackDescriptor)
        output.varint(F.TrackDescriptor.uuid, uuid)
        return ProtobufWriter.Mark.pair(packet, descriptor)
    }

    private func endDescriptor(_ marks: ProtobufWriter.Mark.Pair) throws(SystemError) {
        output.end(marks.inner)
        output.end(marks.outer)
        try output.boundary()
    }

    // MARK: Events

    /// Opens a track event packet. `name` is an interned event name id
    /// (0: none), `nameText` its text, asked for only the first time.
    @inline(__always)
    package func beginEvent(time: Int64, track: UInt64, type: EventType, category: EventCategory? = nil,
                            name: UInt64, nameText: () -> String) -> Event {
        if let category, !Self.isSent(UInt64(category.rawValue), in: categoriesSent) {
            Self.markSent(UInt64(category.rawValue), in: &categoriesSent)
            pending.append(.category(UInt64(category.rawValue), category.text))
        }
        if name != 0, !Self.isSent(name, in: eventNamesSent) {
            Self.markSent(name, in: &eventNamesSent)
            pending.append(.eventName(name, nameText()))
        }
        // Every field number here is below 16: 2 bytes per `begin`, at
        // most 11 per varint.
        return output.withRoom(2 + 11 + 11 + 11 + 2 + 11 + 11 + 11 + 11) { fields in
            let packet = fields.begin(F.Trace.packet)
            fields.varint(F.TracePacket.timestamp, UInt64(clamping: time))
            fields.varint(F.TracePacket.trustedPacketSequenceID, sequence)
            fields.varint(F.TracePacket.sequenceFlags, F.TracePacket.sequenceNeedsIncrementalState)
            let event = fields.begin(F.TracePacket.trackEvent)
            fields.varint(F.TrackEvent.type, type.value)
            fields.varint(F.TrackEvent.trackUUID, track)
            if name != 0 { fields.varint(F.TrackEvent.nameIID, name) }
            if let category { fields.varint(F.TrackEvent.categoryIIDs, UInt64(category.rawValue)) }
            return Event(packet: packet, trackEvent: event)
        }
    }

    /// Closes the event and its packet, with the interned data it introduced.
    @inline(__always)
    package func endEvent(_ event: Event) throws(SystemError) {
        output.end(event.trackEvent)
        if !pending.isEmpty { writeInternedData() }
        output.end(event.packet)
        try output.boundary()
    }

    /// A flow that starts at this event (trace_processor binds it to the
    /// slice the event begins or ends).
    package func flow(_ id: UInt64) { output.fixed64(F.TrackEvent.flowIDs, id) }

    /// A flow that ends at this event.
    package func terminatingFlow(_ id: UInt64) { output.fixed64(F.TrackEvent.terminatingFlowIDs, id) }

    package func counterValue(_ value: Int64) { output.int64(F.TrackEvent.counterValue, value) }

    package func counterValue(_ value: Double) { output.double(F.TrackEvent.doubleCounterValue, value) }

    /// The event's call stack as `TrackEvent.callstack`, `encoded` once per
    /// stack by `PerfettoPacketWriter.inlineCallstack`.
    package func callstack(_ encoded: [UInt8]) { output.bytes(F.TrackEvent.callstack, encoded) }

    /// The body of a `TrackEvent.InlineCallstack`: frames innermost first,
    /// each with its function, and its file and line when known.
    package static func inlineCallstack(_ frames: [(function: String, file: String?, line: UInt32?)]) -> [UInt8] {
        var body = ProtobufMessage()
        for frame in frames {
            var encoded = ProtobufMessage()
            encoded.field(F.InlineCallstack.functionName, Array(frame.function.utf8))
            if let file = frame.file { encoded.field(F.InlineCallstack.sourceFile, Array(file.utf8)) }
            if let line = frame.line { encoded.varint(F.InlineCallstack.lineNumber, UInt64(line)) }
            body.field(F.InlineCallstack.frames, encoded.bytes)
        }
        return body.bytes
    }

    // MARK: Debug annotations

    package func annotate(_ name: AnnotationName, _ value: String) {
        let mark = beginAnnotation(name)
        output.string(F.DebugAnnotation.stringValue, value)
        output.end(mark)
    }

    package func annotate(_ name: AnnotationName, _ value: UnsafeRawBufferPointer) {
        let mark = beginAnnotation(name)
        output.bytes(F.DebugAnnotation.stringValue, value)
        output.end(mark)
    }

    package func annotate(_ name: AnnotationName, _ value: UInt64) {
        annotate(name, varint: F.DebugAnnotation.uintValue, value)
    }

    package func annotate(_ name: AnnotationName, _ value: Int64) {
        annotate(name, varint: F.DebugAnnotation.intValue, UInt64(bitPattern: value))
    }

    package func annotate(_ name: AnnotationName, _ value: Bool) {
        annotate(name, varint: F.DebugAnnotation.boolValue, value ? 1 : 0)
    }

    /// An annotation whose value is a varint field: the name's id and the
    /// value, in one reservation (field numbers below 16).
    @inline(__always)
    private func annotate(_ name: AnnotationName, varint field: UInt32, _ value: UInt64) {
        internAnnotationName(name)
        output.withRoom(2 + 11 + 11) { fields in
            let mark = fields.begin(F.TrackEvent.debugAnnotations)
            fields.varint(F.DebugAnnotation.nameIID, UInt64(name.rawValue))
            fields.varint(field, value)
            fields.endShort(mark)
        }
    }

    /// A string annotation whose value is interned as `iid` (long values
    /// that repeat, like symbolized stacks).
    package func annotate(_ name: AnnotationName, interned iid: UInt64, _ text: () -> String) {
        if !Self.isSent(iid, in: stringsSent) {
            Self.markSent(iid, in: &stringsSent)
            pending.append(.annotationString(iid, text()))
        }
        let mark = beginAnnotation(name)
        output.varint(F.DebugAnnotation.stringValueIID, iid)
        output.end(mark)
    }

    private func beginAnnotation(_ name: AnnotationName) -> ProtobufWriter.Mark {
        internAnnotationName(name)
        let mark = output.begin(F.TrackEvent.debugAnnotations)
        output.varint(F.DebugAnnotation.nameIID, UInt64(name.rawValue))
        return mark
    }

    @inline(__always)
    private func internAnnotationName(_ name: AnnotationName) {
        let iid = UInt64(name.rawValue)
        if !Self.isSent(iid, in: annotationNamesSent) {
            Self.markSent(iid, in: &annotationNamesSent)
            pending.append(.annotationName(iid, name.text))
        }
    }

    // MARK: Interning

    private func writeInternedData() {
        let data = output.begin(F.TracePacket.internedData)
        for entry in pending {
            let field: UInt32, iid: UInt64, text: String
            switch entry {
            case .category(let i, let t): (field, iid, text) = (F.InternedData.eventCategories, i, t)
            case .eventName(let i, let t): (field, iid, text) = (F.InternedData.eventNames, i, t)
            case .annotationName(let i, let t): (field, iid, text) = (F.InternedData.debugAnnotationNames, i, t)
            case .annotationString(let i, let t): (field, iid, text) = (F.InternedData.debugAnnotationStringValues, i, t)
            }
            let entryMark = output.begin(field)
            output.varint(F.Interned.iid, iid)
            output.string(F.Interned.name, text)
            output.end(entryMark)
        }
        output.end(data)
        pending.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    private static func isSent(_ iid: UInt64, in sent: [Bool]) -> Bool {
        iid < UInt64(sent.count) && sent[Int(iid)]
    }

    private static func markSent(_ iid: UInt64, in sent: inout [Bool]) {
        // Ids are dense (the exporter numbers names from 1), so a flag array
        // indexed by id stays as small as the set of names.
        let index = Int(clamping: iid)
        if index >= sent.count { sent.append(contentsOf: repeatElement(false, count: index + 1 - sent.count)) }
        sent[index] = true
    }
}

/// The categories of the export's events, with their interned ids: tasks,
/// regions and logs can be told apart (and counted) by category.
package enum EventCategory: UInt8, Sendable {
    case task = 1
    case region
    case log

    var text: String {
        switch self {
        case .task: "task"
        case .region: "region"
        case .log: "log"
        }
    }
}

/// The debug annotations the export writes, with their interned ids.
package enum AnnotationName: UInt8, CaseIterable, Sendable {
    case category = 1
    case message
    case truncated
    case task
    case parentTask
    case swiftTask
    case neverEnded
    case misnested
    case endedTwice
    case endedOnAnotherTask
    case beginThread
    case endThread
    case cutShort
    case stack

    var text: String {
        switch self {
        case .category: "category"
        case .message: "message"
        case .truncated: "truncated"
        case .task: "task"
        case .parentTask: "parent_task"
        case .swiftTask: "swift_task"
        case .neverEnded: "never_ended"
        case .misnested: "ended_out_of_order"
        case .endedTwice: "ended_twice"
        case .endedOnAnotherTask: "ended_on_another_task"
        case .beginThread: "begin_thread"
        case .endThread: "end_thread"
        case .cutShort: "cut_short"
        case .stack: "stack"
        }
    }
}

extension ProtobufWriter.Mark {
    struct Pair {
        let outer: ProtobufWriter.Mark
        let inner: ProtobufWriter.Mark
    }

    static func pair(_ outer: Self, _ inner: Self) -> Pair { Pair(outer: outer, inner: inner) }
}
