import CTraceABI

/// Decoder state along one batch (or one chunk): what the next event's
/// deltas and back-references are relative to.
package struct EventState: Equatable, Sendable {
    package var thread: UInt32
    package var ticks: UInt64
    package var regionSequence: UInt64
    package var swiftTask: UInt64

    package init(thread: UInt32, ticks: UInt64, regionSequence: UInt64, swiftTask: UInt64) {
        self.thread = thread
        self.ticks = ticks
        self.regionSequence = regionSequence
        self.swiftTask = swiftTask
    }
}

/// One event as decoded, with ids unresolved. `message` points into the
/// decoded bytes and is valid only while they are.
package struct RawEvent {
    /// TC_EV_* without the stack bit.
    package var kind: UInt8 = 0
    package var ticks: UInt64 = 0
    package var swiftTask: UInt64 = 0
    /// Region begin: its sequence. Region end: the begun region's sequence.
    package var regionSequence: UInt64 = 0
    /// Region end: the thread that began the region.
    package var regionThread: UInt32 = 0
    /// Task id (task begin/end), or the current task (region begin, log).
    package var task: UInt64 = 0
    package var parentTask: UInt64 = 0
    /// String id of the region/task type, log category or counter name.
    package var name: UInt32 = 0
    package var stack: UInt32 = 0
    package var integerValue: Int64 = 0
    package var doubleValue: Double = 0
    package var truncated = false
    package var message = UnsafeRawBufferPointer(start: nil, count: 0)

    package init() {}
}

/// Decodes the event encoding of docs/format.md ("Events"). Hostile input
/// yields a `DecodeError`, never a trap; the caller decides how much of a
/// batch to keep.
package enum EventDecoder {
    /// Decodes the event at `r`, updating `state`. Swift-task events only
    /// change the state; they are returned too, with kind TC_EV_SWIFT_TASK.
    @inline(__always)
    package static func next(_ r: inout ByteReader, _ state: inout EventState) throws(DecodeError) -> RawEvent {
        let tag = try r.byte("event kind")
        let kind = tag & 0x7f
        let hasStack = tag & UInt8(TC_EV_HAS_STACK) != 0
        var event = RawEvent()
        event.kind = kind
        if kind == UInt8(TC_EV_SWIFT_TASK) {
            guard !hasStack else { throw .invalid(field: "event kind", value: UInt64(tag)) }
            state.swiftTask = try r.varint("swift task")
            event.ticks = state.ticks
            event.swiftTask = state.swiftTask
            return event
        }
        guard (Int(kind) >= TC_EV_REGION_BEGIN && Int(kind) <= TC_EV_COUNTER_DOUBLE)
                || (Int(kind) >= TC_EV_FIRST_EXTENSION && Int(kind) <= TC_EV_LAST_EXTENSION) else {
            throw .invalid(field: "event kind", value: UInt64(tag))
        }
        let dt = try r.varint("timestamp delta")
        state.ticks &+= dt
        event.ticks = state.ticks
        event.swiftTask = state.swiftTask
        switch Int(kind) {
        case TC_EV_REGION_BEGIN:
            event.name = try r.varint32("region type")
            event.task = try r.varint("task")
            event.regionSequence = state.regionSequence
            event.regionThread = state.thread
            state.regionSequence &+= 1
        case TC_EV_REGION_END:
            let back = try r.varint("region back-reference")
            guard back < state.regionSequence else { throw .invalid(field: "region back-reference", value: back) }
            event.regionSequence = state.regionSequence - 1 - back
            event.regionThread = state.thread
        case TC_EV_REGION_END_FOREIGN:
            event.regionThread = try r.varint32("region thread")
            event.regionSequence = try r.varint("region sequence")
        case TC_EV_TASK_BEGIN:
            event.task = try r.varint("task id")
            event.parentTask = try r.varint("parent task")
            event.name = try r.varint32("task type")
        case TC_EV_TASK_END:
            event.task = try r.varint("task id")
        case TC_EV_LOG:
            event.task = try r.varint("task")
            event.name = try r.varint32("log category")
            let lengthAndFlag = try r.varint("log length")
            let length = lengthAndFlag >> 1
            guard length <= UInt64(TC_MAX_LOG_MESSAGE) else { throw .invalid(field: "log length", value: length) }
            event.truncated = lengthAndFlag & 1 != 0
            event.message = try r.bytes(Int(length), "log message")
        case TC_EV_COUNTER_INT:
            event.name = try r.varint32("counter name")
            event.integerValue = try r.zigzag("counter value")
        case TC_EV_COUNTER_DOUBLE:
            event.name = try r.varint32("counter name")
            event.doubleValue = try r.double("counter value")
        case TC_EV_FIRST_EXTENSION...TC_EV_LAST_EXTENSION:
            guard !hasStack else { throw .invalid(field: "event kind", value: UInt64(tag)) }
            let length = try r.varint("extension length")
            guard length <= UInt64(r.remaining) else { throw .truncated(field: "extension payload") }
            event.message = try r.bytes(Int(length), "extension payload")
            return event
        default:
            throw .invalid(field: "event kind", value: UInt64(tag))
        }
        if hasStack {
            guard kind == UInt8(TC_EV_REGION_BEGIN) || kind == UInt8(TC_EV_TASK_BEGIN) || kind == UInt8(TC_EV_LOG) else {
                throw .invalid(field: "event kind", value: UInt64(tag))
            }
            event.stack = try r.varint32("stack id")
        }
        return event
    }
}
