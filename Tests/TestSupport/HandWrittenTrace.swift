import Foundation
import CTraceABI
package import TraceFormat
import TraceSystem

/// A trace file written by hand, record by record, for tests that need
/// exact events no client would write (misuse, damage, names defined late):
/// processes on CLOCK_MONOTONIC nanoseconds, so a batch's base time and its
/// events' deltas are the times the reader reports.
package final class HandWrittenTrace {
    private let descriptor: FileDescriptor
    private let writer: TraceFileWriter

    package init(path: String, session: String = "hand", fileIndex: UInt64 = 0) throws {
        descriptor = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC)
        writer = TraceFileWriter(
            descriptor: descriptor,
            header: FileHeader(createdRealtimeNanoseconds: 1, producer: "test", session: session, fileIndex: fileIndex))
    }

    deinit { descriptor.close() }

    package func process(_ process: UInt32, pid: Int32 = 42, name: String = "hand") throws {
        try writer.append { w in
            ProcessRecord(process: process, pid: pid, uid: 0, name: name, clockKind: UInt32(TC_CLOCK_MONOTONIC_NS),
                          nominalTicksPerSecond: 0).encode(into: &w)
        }
    }

    /// A process whose annotations count TSC ticks at `ticksPerSecond`,
    /// with two clock syncs: tick `ticks.0` was monotonic ns `at.0`, and so on.
    package func tscProcess(_ process: UInt32, ticksPerSecond: UInt64, ticks: (UInt64, UInt64), at: (UInt64, UInt64)) throws {
        try writer.append { w in
            ProcessRecord(process: process, pid: 42, uid: 0, name: "tsc", clockKind: UInt32(TC_CLOCK_TSC),
                          nominalTicksPerSecond: ticksPerSecond).encode(into: &w)
            ClockSync(clockKind: UInt32(TC_CLOCK_TSC), ticks: ticks.0, monotonicNanoseconds: at.0, realtimeNanoseconds: at.0).encode(into: &w)
            ClockSync(clockKind: UInt32(TC_CLOCK_TSC), ticks: ticks.1, monotonicNanoseconds: at.1, realtimeNanoseconds: at.1).encode(into: &w)
        }
    }

    /// CLOCK_MONOTONIC clock syncs at these nanoseconds, as traced writes
    /// them at a session's start, every scrape and its end: they make the
    /// session's window (SessionWindow), outside which a time is not believed.
    package func monotonicSyncs(at times: [UInt64]) throws {
        try writer.append { w in
            for time in times {
                ClockSync(clockKind: UInt32(TC_CLOCK_MONOTONIC_NS), ticks: time, monotonicNanoseconds: time,
                          realtimeNanoseconds: time).encode(into: &w)
            }
        }
    }

    package func metadata(_ process: UInt32, _ record: MetadataRecord) throws {
        try writer.append { w in record.encode(process: process, into: &w) }
    }

    /// String records for `names` (id: text).
    package func strings(_ process: UInt32, _ names: [UInt32: String]) throws {
        for (id, value) in names.sorted(by: { $0.key < $1.key }) {
            try metadata(process, .string(StringRecord(id: id, value: value)))
        }
    }

    /// One batch of `events` of `thread`, starting at `base` nanoseconds
    /// with `regionSequence` regions begun on the thread before it.
    package func batch(process: UInt32, thread: UInt32, base: UInt64, regionSequence: UInt64 = 0, chunk: UInt32 = 0,
                       droppedBefore: UInt64 = 0, _ events: EventEncoding) throws {
        let header = BatchHeader(process: process, thread: thread, chunkSequence: chunk, segmentOffset: 0, baseTicks: base,
                                 regionSequence: regionSequence, droppedBefore: droppedBefore)
        try writer.append { w in events.bytes.withUnsafeBytes { header.encode(events: $0, into: &w) } }
    }

    /// One kernel batch of thread `tid`, starting at `base` nanoseconds.
    package func kernelBatch(process: UInt32, tid: UInt32, base: UInt64, _ events: KernelEventEncoding) throws {
        let header = KernelBatchHeader(process: process, tid: tid, baseTime: base)
        try writer.append { w in events.bytes.withUnsafeBytes { header.encode(events: $0, into: &w) } }
    }

    /// A drops record: `counts` (cumulative, by TC_DROP_* reason) of
    /// `process` (DropCounts.kernelCollector: the kernel collector's).
    package func drops(_ process: UInt32, _ counts: [Int: UInt64]) throws {
        let counts = Dictionary(uniqueKeysWithValues: counts.map { (UInt32($0.key), $0.value) })
        try writer.append { w in DropCounts(process: process, counts: counts).encode(into: &w) }
    }

    package func thread(_ process: UInt32, index: UInt32, tid: Int32, name: String = "") throws {
        try metadata(process, .thread(ThreadRecord(index: index, tid: tid, name: name)))
    }

    /// Ends the current LZ4 frame: what follows is read from another frame.
    package func flushFrame() throws { try writer.flushFrame() }

    package func finish() throws { try writer.finish() }
}
