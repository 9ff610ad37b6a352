import CTraceABI

/// The header of a kernel batch record (format 1.1, docs/format.md "0x08
/// kernel batch"): a run of one thread's events as the kernel saw them,
/// written by traced. The kernel events follow it to the record's end.
package struct KernelBatchHeader: Equatable, Sendable {
    package var process: UInt32
    /// The kernel's thread id.
    package var tid: UInt32
    /// CLOCK_MONOTONIC nanoseconds the first event's delta is taken from.
    package var baseTime: UInt64

    package init(process: UInt32, tid: UInt32, baseTime: UInt64) {
        self.process = process
        self.tid = tid
        self.baseTime = baseTime
    }

    package func encode(events: UnsafeRawBufferPointer, into writer: inout ByteWriter) {
        var header = ByteWriter(capacity: 24)
        header.varint(process)
        header.varint(tid)
        header.varint(baseTime)
        writer.byte(UInt8(TC_REC_KERNEL_BATCH))
        writer.varint(UInt64(header.count + events.count))
        writer.raw(header.bytes)
        writer.raw(events)
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        process = try r.varint32("process")
        tid = try r.varint32("tid")
        guard tid < KernelThread.keyBase else { throw .invalid(field: "tid", value: UInt64(tid)) }
        baseTime = try r.varint("base time")
    }

    /// As the header of a batch, for the code that indexes, merges and
    /// prints batches of both records: its thread is `KernelThread.key(tid)`
    /// and its events decode with `KernelEventDecoder`.
    package var batch: BatchHeader {
        var header = BatchHeader(process: process, thread: KernelThread.key(tid), chunkSequence: 0, segmentOffset: 0,
                                 baseTicks: baseTime, regionSequence: 0, droppedBefore: 0)
        header.kernel = true
        return header
    }
}

/// How a reader numbers the threads of kernel batches apart from the
/// indices a client gives its threads (from 1, in its thread records): a
/// kernel batch's thread is `keyBase | tid`. Linux thread ids stay below
/// 2^22 (PID_MAX_LIMIT); a file's tid at or above `keyBase` is refused.
package enum KernelThread {
    package static let keyBase: UInt32 = 0x8000_0000

    package static func key(_ tid: UInt32) -> UInt32 { keyBase | tid }

    /// The tid of a kernel thread key, nil for a client's thread index.
    package static func tid(ofKey key: UInt32) -> UInt32? { key >= keyBase ? key & ~keyBase : nil }
}
