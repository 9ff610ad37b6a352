import CTraceABI
import Testing
import TestSupport
import TraceAnalysis
import TraceFormat

/// Kernel batches join a trace's timeline: their events come in time order
/// with the annotations, a thread the client recorded keeps one identity
/// for both, and a thread only the kernel saw gets one of its own.
@Suite struct KernelWalkTests {
    @Test func kernelEventsMergeWithAnnotationsUnderTheClientsThreadIndex() throws {
        let directory = try TemporaryDirectory("kernel-walk")
        let path = directory.file("kernel.trace")
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1)
        try trace.strings(1, [1: "order", 2: "brew", 0x8000_0001: "futex", 0x8000_0002: "worker"])
        try trace.thread(1, index: 1, tid: 4242, name: "main")
        var annotations = EventEncoding()
        annotations.regionBegin(dt: 0, type: 2)
        annotations.regionEnd(dt: 500, back: 0)
        try trace.batch(process: 1, thread: 1, base: 1000, annotations)
        var main = KernelEventEncoding()
        main.switchOut(dt: 0, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, why: 0x8000_0001)
        main.wakeup(dt: 200, wakerProcess: 1, wakerTid: 4243, cpu: 1)
        main.switchIn(dt: 50, cpu: 1)
        try trace.kernelBatch(process: 1, tid: 4242, base: 1100, main)
        var worker = KernelEventEncoding()
        worker.name(dt: 0, name: 0x8000_0002)
        worker.stat(dt: 10, what: TC_STAT_THREADS, value: 2)
        worker.exit(dt: 100)
        try trace.kernelBatch(process: 1, tid: 4243, base: 1250, worker)
        try trace.finish()

        let walk = try TraceWalk(paths: [path])
        var log = CallLog(catalog: walk.catalog)
        walk.run(&log)
        #expect(walk.catalog.diagnostics.isEmpty, "\(walk.catalog.diagnostics)")
        let workerThread = KernelThread.key(4243)
        #expect(log.lines == [
            "regionBegan p1 t1 brew #1 parent=0 depth=0 task=0 1000--",
            "switchOut p1 t1 1100 sleeping lock futex cpu0 stack=0",
            "threadName p1 t\(workerThread) 1250 worker",
            "processStat p1 t\(workerThread) 1260 threads=2",
            "wakeup p1 t1 1300 by p1 t\(workerThread) cpu1",
            "switchIn p1 t1 1350 cpu1",
            "threadExit p1 t\(workerThread) 1360",
            "regionEnded p1 t1 brew #1 parent=0 depth=0 task=0 1000-1500 end-t1",
            "finish 1500",
        ])
        #expect(walk.catalog.thread(1, workerThread)?.tid == 4243)
        // The report counts kernel events as events of the trace.
        var summary = TraceSummary(catalog: walk.catalog)
        walk.run(&summary)
        #expect(summary.events == 8 && summary.eventsByProcess == [1: 8])
    }

    /// A kernel batch's base time is CLOCK_MONOTONIC nanoseconds even when
    /// its process's annotations count TSC ticks: it joins the walk at that
    /// time, not at its value read as ticks (which once put every kernel
    /// event of a real trace after all its annotations).
    @Test func kernelBatchesOfATSCProcessJoinTheWalkAtTheirMonotonicTime() throws {
        let directory = try TemporaryDirectory("kernel-tsc")
        let path = directory.file("tsc.trace")
        let trace = try HandWrittenTrace(path: path)
        // 3 ticks a nanosecond; tick 3,000,000 is 1,000,000 ns.
        try trace.tscProcess(1, ticksPerSecond: 3_000_000_000, ticks: (3_000_000, 6_000_000), at: (1_000_000, 2_000_000))
        try trace.strings(1, [1: "brew"])
        try trace.thread(1, index: 1, tid: 4242, name: "main")
        var annotations = EventEncoding()
        annotations.regionBegin(dt: 0, type: 1)
        annotations.regionEnd(dt: 3000, back: 0)
        try trace.batch(process: 1, thread: 1, base: 3_003_000, annotations)   // 1,001,000-1,002,000 ns
        var main = KernelEventEncoding()
        main.switchIn(dt: 0, cpu: 0)
        main.switchOut(dt: 2000, state: TC_STATE_RUNNABLE, cpu: 0)
        try trace.kernelBatch(process: 1, tid: 4242, base: 1_000_500, main)    // 1,000,500 and 1,002,500 ns
        try trace.finish()

        let walk = try TraceWalk(paths: [path])
        var log = CallLog(catalog: walk.catalog)
        walk.run(&log)
        #expect(log.lines == [
            "switchIn p1 t1 1000500 cpu0",
            "regionBegan p1 t1 brew #1 parent=0 depth=0 task=0 1001000--",
            "regionEnded p1 t1 brew #1 parent=0 depth=0 task=0 1001000-1002000 end-t1",
            "switchOut p1 t1 1002500 runnable none  cpu0 stack=0",
            "finish 1002500",
        ])
    }

    @Test func aWakeupByAnInterruptOrAnUnrecordedProcessNamesNoThread() throws {
        let directory = try TemporaryDirectory("kernel-wakeup")
        let path = directory.file("wakeup.trace")
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1)
        var e = KernelEventEncoding()
        e.wakeup(dt: 0, wakerProcess: 0, wakerTid: 0, cpu: 1)
        e.wakeup(dt: 10, wakerProcess: 0, wakerTid: 99, cpu: 1)
        try trace.kernelBatch(process: 1, tid: 7, base: 500, e)
        try trace.finish()
        let walk = try TraceWalk(paths: [path])
        var log = CallLog(catalog: walk.catalog)
        walk.run(&log)
        let thread = KernelThread.key(7)
        #expect(log.lines == ["wakeup p1 t\(thread) 500 by p0 t0 cpu1", "wakeup p1 t\(thread) 510 by p0 t0 cpu1", "finish 510"])
    }
}
