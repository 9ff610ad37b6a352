import CTraceABI

/// Decodes the kernel events of a kernel batch (docs/format.md, "Kernel
/// events") into `RawEvent`s of the kernel kinds of `TraceEventKind`. Like `EventDecoder`, hostile
/// input yields a `DecodeError`, never a trap. `state.ticks` counts
/// CLOCK_MONOTONIC nanoseconds.
package enum KernelEventDecoder {
    /// Out of line: inlined beside `EventDecoder.next` where the walk
    /// decodes, it cost annotation events 1 % (callgrind, `report`).
    @inline(never)
    package static func next(_ r: inout ByteReader, _ state: inout EventState) throws(DecodeError) -> RawEvent {
        let tag = try r.byte("kernel event kind")
        let hasStack = tag & TraceEventKind.stackBit != 0
        guard let kind = TraceEventKind(kernelTag: tag & ~TraceEventKind.stackBit) else {
            throw .invalid(field: "kernel event kind", value: UInt64(tag))
        }
        var event = RawEvent()
        event.kind = kind
        state.ticks &+= try r.varint("timestamp delta")
        event.ticks = state.ticks
        switch kind {
        case .extension:
            // An extension kind, as in batches: skippable by its length.
            let length = try r.varint("extension length")
            guard length <= UInt64(r.remaining) else { throw .truncated(field: "extension payload") }
            event.message = try r.bytes(Int(length), "extension payload")
            return event
        case .switchOut:
            event.kernel.state = try small(&r, "thread state")
            event.kernel.cpu = try r.varint32("cpu")
            event.kernel.wait = try small(&r, "wait")
            event.name = try r.varint32("wait reason")
        case .switchIn:
            event.kernel.cpu = try r.varint32("cpu")
        case .wakeup:
            event.kernel.wakerProcess = try r.varint32("waker process")
            event.kernel.wakerTid = try r.varint32("waker tid")
            event.kernel.cpu = try r.varint32("cpu")
        case .cpuSample:
            event.kernel.cpu = try r.varint32("cpu")
            guard hasStack else { throw .invalid(field: "cpu sample without a stack", value: UInt64(tag)) }
        case .threadName:
            event.name = try r.varint32("thread name")
        case .threadExit:
            break
        case .processStat:
            event.kernel.what = try r.varint32("stat kind")
            event.integerValue = Int64(bitPattern: try r.varint("stat value"))
        case .regionBegin, .regionEnd, .regionEndForeign, .taskBegin, .taskEnd, .log, .counterInteger, .counterDouble,
             .context:
            // init(kernelTag:) gives no annotation kind.
            throw .invalid(field: "kernel event kind", value: UInt64(tag))
        }
        if hasStack {
            guard kind.mayCarryStack else { throw .invalid(field: "kernel event kind", value: UInt64(tag)) }
            event.stack = try r.varint32("stack id")
        }
        return event
    }

    private static func small(_ r: inout ByteReader, _ field: StaticString) throws(DecodeError) -> UInt8 {
        let value = try r.varint(field)
        guard let small = UInt8(exactly: value) else { throw .invalid(field: "\(field)", value: value) }
        return small
    }
}
