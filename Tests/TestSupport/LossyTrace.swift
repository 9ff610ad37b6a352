import CTraceABI
import TraceFormat

/// A hand-written trace with what the kernel collector could not record,
/// for the tests of how report, tasks, dump, profiles and the HTML page
/// show it: process 1 (pid 42, "cafe"), thread tid 100 ("main") running
/// task "order" (1000-2500). At 1100 the thread leaves its CPU for a lock
/// in futex at a stack cut at the kernel's bound, of 10 frames (0x1000 ...
/// 0xa000); it is woken at 1300 and back at 1350. The drops records: 3
/// buffer-full drops of process 1, and the kernel collector's losses
/// ("kernel ring full"), 1000 and then (cumulative) 1234.
package enum LossyTrace {
    package static let frames = (1...10).map { "0x\(String($0 << 12, radix: 16))" }

    package static func write(_ path: String) throws {
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1, name: "cafe")
        try trace.strings(1, [1: "order", 0x8000_0001: "futex"])
        try trace.thread(1, index: 1, tid: 100, name: "main")
        var a = EventEncoding()
        a.taskBegin(dt: 0, idDelta: 1, type: 1) // 1000
        a.taskEnd(dt: 1500, idDelta: 0) // 2500
        try trace.batch(process: 1, thread: 1, base: 1000, a)
        try trace.metadata(1, .stack(StackRecord(id: 0x8000_0001, frames: (1...10).map { UInt64($0) << 12 }, cut: true)))
        var k = KernelEventEncoding()
        k.switchIn(dt: 0, cpu: 0) // 900
        k.switchOut(dt: 200, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, why: 0x8000_0001, stack: 0x8000_0001) // 1100
        k.wakeup(dt: 200, wakerProcess: 0, wakerTid: 0, cpu: 0) // 1300
        k.switchIn(dt: 50, cpu: 0) // 1350
        try trace.kernelBatch(process: 1, tid: 100, base: 900, k)
        try trace.drops(1, [Int(TC_DROP_BUFFER_FULL): 3])
        try trace.drops(DropCounts.kernelCollector, [Int(TC_DROP_KERNEL_RING_FULL): 1000])
        try trace.drops(DropCounts.kernelCollector, [Int(TC_DROP_KERNEL_RING_FULL): 1234])
        try trace.finish()
    }
}
