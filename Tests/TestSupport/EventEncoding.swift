import CTraceABI
package import TraceFormat

/// Writes events exactly as docs/format.md ("Events") specifies, by hand,
/// independently of the client's encoder: tests decode these bytes to check
/// the decoder against the specification.
package struct EventEncoding {
    package var writer = ByteWriter()

    package mutating func regionBegin(dt: UInt64, type: UInt32, stack: UInt32? = nil) {
        writer.byte(TraceEventKind.regionBegin.tag | (stack != nil ? TraceEventKind.stackBit : 0))
        writer.varint(dt)
        writer.varint(type)
        if let stack { writer.varint(stack) }
    }

    package mutating func regionEnd(dt: UInt64, back: UInt64) {
        writer.byte(TraceEventKind.regionEnd.tag)
        writer.varint(dt)
        writer.varint(back)
    }

    package mutating func regionEndForeign(dt: UInt64, thread: UInt32, sequence: UInt64) {
        writer.byte(TraceEventKind.regionEndForeign.tag)
        writer.varint(dt)
        writer.varint(thread)
        writer.varint(sequence)
    }

    /// `idDelta`: the id minus the last task begun in the batch.
    package mutating func taskBegin(dt: UInt64, idDelta: Int64, type: UInt32, stack: UInt32? = nil) {
        writer.byte(TraceEventKind.taskBegin.tag | (stack != nil ? TraceEventKind.stackBit : 0))
        writer.varint(dt)
        writer.zigzag(idDelta)
        writer.varint(type)
        if let stack { writer.varint(stack) }
    }

    package mutating func taskEnd(dt: UInt64, idDelta: Int64) {
        writer.byte(TraceEventKind.taskEnd.tag)
        writer.varint(dt)
        writer.zigzag(idDelta)
    }

    package mutating func log(dt: UInt64, category: UInt32, message: String, truncated: Bool = false) {
        writer.byte(TraceEventKind.log.tag)
        writer.varint(dt)
        writer.varint(category)
        let bytes = Array(message.utf8)
        writer.varint(UInt64(bytes.count) << 1 | (truncated ? 1 : 0))
        writer.raw(bytes)
    }

    package mutating func counter(dt: UInt64, name: UInt32, value: Int64) {
        writer.byte(TraceEventKind.counterInteger.tag)
        writer.varint(dt)
        writer.varint(name)
        writer.zigzag(value)
    }

    package mutating func doubleCounter(dt: UInt64, name: UInt32, value: Double) {
        writer.byte(TraceEventKind.counterDouble.tag)
        writer.varint(dt)
        writer.varint(name)
        writer.double(value)
    }

    /// Changes the context by these deltas (Swift task id, trace task).
    package mutating func context(swiftDelta: Int64, taskDelta: Int64) {
        writer.byte(TraceEventKind.context.tag)
        writer.zigzag(swiftDelta)
        writer.zigzag(taskDelta)
    }

    package mutating func extensionEvent(kind: UInt8, dt: UInt64, payload: [UInt8]) {
        writer.byte(kind)
        writer.varint(dt)
        writer.lengthPrefixed(payload)
    }

    package var bytes: [UInt8] { writer.bytes }

    package init() {}
}
