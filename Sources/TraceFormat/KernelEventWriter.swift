import CTraceABI

/// Encodes one thread's kernel events (docs/format.md, "Kernel events") for
/// a kernel batch: traced's writer, one per thread and batch.
///
/// Invariant: `dt` is never negative. An event older than the one before it
/// (the kernel stamps events on each CPU, and a thread's can come from two)
/// is written at the previous event's time, so a thread's times never go
/// backwards, as the format requires.
package struct KernelEventWriter {
    package let baseTime: UInt64
    private var last: UInt64
    private var writer = ByteWriter(capacity: 256)
    package private(set) var count = 0

    package init(baseTime: UInt64) {
        self.baseTime = baseTime
        last = baseTime
    }

    package var bytes: [UInt8] { writer.bytes }
    /// The time of the last event written.
    package var lastTime: UInt64 { last }

    private mutating func head(_ kind: Int, at time: UInt64, stack: UInt32?) {
        let time = max(time, last)
        writer.byte(UInt8(kind) | (stack != nil ? TraceEventKind.stackBit : 0))
        writer.varint(time - last)
        last = time
        count += 1
    }

    /// The thread left `cpu` in `state` (TC_STATE_*), waiting for `wait`
    /// (TC_WAIT_*) in `why` (a string id, 0 when not known).
    package mutating func switchOut(at time: UInt64, state: Int, cpu: UInt32, wait: Int, why: UInt32, stack: UInt32? = nil) {
        head(TC_KEV_SWITCH_OUT, at: time, stack: stack)
        writer.varint(UInt64(state))
        writer.varint(cpu)
        writer.varint(UInt64(wait))
        writer.varint(why)
        if let stack { writer.varint(stack) }
    }

    package mutating func switchIn(at time: UInt64, cpu: UInt32) {
        head(TC_KEV_SWITCH_IN, at: time, stack: nil)
        writer.varint(cpu)
    }

    /// Woken by thread `wakerTID` of the process keyed `wakerProcess` (0 0:
    /// an interrupt, or a process the session does not record).
    package mutating func wakeup(at time: UInt64, wakerProcess: UInt32, wakerTID: UInt32, cpu: UInt32) {
        head(TC_KEV_WAKEUP, at: time, stack: nil)
        writer.varint(wakerProcess)
        writer.varint(wakerTID)
        writer.varint(cpu)
    }

    package mutating func sample(at time: UInt64, cpu: UInt32, stack: UInt32) {
        head(TC_KEV_SAMPLE, at: time, stack: stack)
        writer.varint(cpu)
        writer.varint(stack)
    }

    package mutating func name(at time: UInt64, name: UInt32) {
        head(TC_KEV_NAME, at: time, stack: nil)
        writer.varint(name)
    }

    package mutating func exit(at time: UInt64) {
        head(TC_KEV_EXIT, at: time, stack: nil)
    }

    package mutating func stat(at time: UInt64, what: Int, value: UInt64) {
        head(TC_KEV_STAT, at: time, stack: nil)
        writer.varint(UInt64(what))
        writer.varint(value)
    }

    /// The kernel batch record of the events written.
    package func encode(process: UInt32, tid: UInt32, into output: inout ByteWriter) {
        writer.bytes.withUnsafeBytes { events in
            KernelBatchHeader(process: process, tid: tid, baseTime: baseTime).encode(events: events, into: &output)
        }
    }
}
