import CTraceABI

/// Decoder state along one batch (or one chunk): what the next event's
/// deltas and back-references are relative to.
package struct EventState: Equatable, Sendable {
    package var thread: UInt32
    package var ticks: UInt64
    /// Regions this thread began before the next event.
    package var regionSequence: UInt64
    /// The context: the Swift task (job id, 0 none) and the current trace
    /// task (0 none) the next events run in.
    package var swiftTask: UInt64
    package var task: UInt64
    /// The last task this thread began in the chunk (task ids are deltas from it).
    package var lastTask: UInt64

    package init(thread: UInt32, ticks: UInt64, regionSequence: UInt64, swiftTask: UInt64 = 0, task: UInt64 = 0,
                 lastTask: UInt64 = 0) {
        self.thread = thread
        self.ticks = ticks
        self.regionSequence = regionSequence
        self.swiftTask = swiftTask
        self.task = task
        self.lastTask = lastTask
    }
}

/// One event as decoded, with ids unresolved. `message` points into the
/// decoded bytes and is valid only while they are.
///
/// The fields are declared widest first: Swift lays a struct out in
/// declaration order, and at 128 bytes or more a copy of it (the walk makes
/// several per event) becomes a call to memcpy (callgrind: +5 % of
/// `report` at 132 bytes; 112 now, as before kernel events, `RawEventLayoutTests`).
package struct RawEvent {
    package var ticks: UInt64 = 0
    package var swiftTask: UInt64 = 0
    /// Region begin: its sequence. Region end: the begun region's sequence.
    package var regionSequence: UInt64 = 0
    /// Task id (task begin/end), or the context's task (region begin, log).
    package var task: UInt64 = 0
    package var parentTask: UInt64 = 0
    package var integerValue: Int64 = 0
    package var doubleValue: Double = 0
    package var message = UnsafeRawBufferPointer(start: nil, count: 0)
    /// Region end: the thread that began the region.
    package var regionThread: UInt32 = 0
    /// String id of the region/task type, log category or counter name.
    package var name: UInt32 = 0
    package var stack: UInt32 = 0
    /// What a kernel event adds (`kind` is `.kernel`); `name` is then its
    /// string (why a thread waits, a thread's name), `integerValue` a
    /// stat's value, `stack` its stack.
    package var kernel = KernelFields()
    /// Bytes the event took in its batch, including a context event just
    /// before it (set by `TraceReader`; a batch is at most a few MiB).
    package var encodedSize: UInt32 = 0
    package var kind: TraceEventKind = .context
    package var truncated = false

    package init() {}
}

/// The fields of kernel events (docs/format.md, "Kernel events").
package struct KernelFields: Equatable, Sendable {
    /// The CPU it happened on (a switch out's: the CPU it left; a wakeup's:
    /// the CPU the woken thread will run on).
    package var cpu: UInt32 = 0
    /// A wakeup's waker: its process key in the file (0: a process not
    /// recorded) and thread id (0: an interrupt, or not to be shown).
    package var wakerProcess: UInt32 = 0
    package var wakerTid: UInt32 = 0
    /// What a stat counts (`TC_STAT_*`).
    package var what: UInt32 = 0
    /// A switch out's state (`TC_STATE_*`).
    package var state: UInt8 = 0
    /// A switch out's wait (`TC_WAIT_*`).
    package var wait: UInt8 = 0

    package init() {}
}

/// Decodes the event encoding of docs/format.md ("Events"). Hostile input
/// yields a `DecodeError`, never a trap; the caller decides how much of a
/// batch to keep.
package enum EventDecoder {
    /// Decodes the event at `r`, updating `state`. Context events only
    /// change the state; they are returned too, with kind TC_EV_CONTEXT.
    @inline(__always)
    package static func next(_ r: inout ByteReader, _ state: inout EventState) throws(DecodeError) -> RawEvent {
        let tag = try r.byte("event kind")
        let hasStack = tag & TraceEventKind.stackBit != 0
        guard let kind = TraceEventKind(tag: tag & ~TraceEventKind.stackBit) else {
            throw .invalid(field: "event kind", value: UInt64(tag))
        }
        var event = RawEvent()
        event.kind = kind
        if case .context = kind {
            guard !hasStack else { throw .invalid(field: "event kind", value: UInt64(tag)) }
            state.swiftTask &+= UInt64(bitPattern: try r.zigzag("swift task delta"))
            state.task &+= UInt64(bitPattern: try r.zigzag("task delta"))
            event.ticks = state.ticks
            event.swiftTask = state.swiftTask
            event.task = state.task
            return event
        }
        let dt = try r.varint("timestamp delta")
        state.ticks &+= dt
        event.ticks = state.ticks
        event.swiftTask = state.swiftTask
        switch kind {
        case .regionBegin:
            event.name = try r.varint32("region type")
            event.task = state.task
            event.regionSequence = state.regionSequence
            event.regionThread = state.thread
            state.regionSequence &+= 1
        case .regionEnd:
            let back = try r.varint("region back-reference")
            guard back < state.regionSequence else { throw .invalid(field: "region back-reference", value: back) }
            event.regionSequence = state.regionSequence - 1 - back
            event.regionThread = state.thread
        case .regionEndForeign:
            event.regionThread = try r.varint32("region thread")
            event.regionSequence = try r.varint("region sequence")
        case .taskBegin:
            state.lastTask &+= UInt64(bitPattern: try r.zigzag("task id delta"))
            event.task = state.lastTask
            event.parentTask = state.task
            event.name = try r.varint32("task type")
        case .taskEnd:
            event.task = state.lastTask &+ UInt64(bitPattern: try r.zigzag("task id delta"))
        case .log:
            event.task = state.task
            event.name = try r.varint32("log category")
            let lengthAndFlag = try r.varint("log length")
            let length = lengthAndFlag >> 1
            guard length <= UInt64(TC_MAX_LOG_MESSAGE) else { throw .invalid(field: "log length", value: length) }
            event.truncated = lengthAndFlag & 1 != 0
            event.message = try r.bytes(Int(length), "log message")
        case .counterInteger:
            event.name = try r.varint32("counter name")
            event.integerValue = try r.zigzag("counter value")
        case .counterDouble:
            event.name = try r.varint32("counter name")
            event.doubleValue = try r.double("counter value")
        case .switchOut, .switchIn, .wakeup, .cpuSample, .threadName, .threadExit, .processStat:
            // TraceEventKind(tag:) never gives a kernel kind: kernel events
            // have tags of their own, decoded by KernelEventDecoder.
            throw .invalid(field: "event kind", value: UInt64(tag))
        case .context, .extension:
            // An extension kind: skippable by its length.
            guard !hasStack else { throw .invalid(field: "event kind", value: UInt64(tag)) }
            let length = try r.varint("extension length")
            guard length <= UInt64(r.remaining) else { throw .truncated(field: "extension payload") }
            event.message = try r.bytes(Int(length), "extension payload")
            return event
        }
        if hasStack {
            guard kind.mayCarryStack else {
                throw .invalid(field: "event kind", value: UInt64(tag))
            }
            event.stack = try r.varint32("stack id")
        }
        return event
    }
}
