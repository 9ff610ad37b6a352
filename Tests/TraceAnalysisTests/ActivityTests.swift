import CTraceABI
import Testing
import TestSupport
import TraceAnalysis
import TraceFormat

/// A span's wall time splits by what its thread was doing, as the kernel
/// events tell it: parts that do not overlap and add up to the wall time.
@Suite struct ActivityTests {
    static func summary(_ write: (HandWrittenTrace) throws -> Void) throws -> (TraceSummary, TraceCatalog) {
        let directory = try TemporaryDirectory("activity")
        let path = directory.file("activity.trace")
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1)
        try trace.strings(1, [1: "order", 2: "brew", 3: "pour", 0x8000_0001: "futex"])
        try trace.thread(1, index: 1, tid: 100)
        try trace.thread(1, index: 2, tid: 200)
        try write(trace)
        try trace.finish()
        let walk = try TraceWalk(paths: [path])
        var summary = TraceSummary(catalog: walk.catalog)
        walk.run(&summary)
        #expect(walk.catalog.diagnostics.isEmpty, "\(walk.catalog.diagnostics)")
        return (summary, walk.catalog)
    }

    static func split(_ times: ActivityTimes) -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: Activity.allCases.compactMap { times[$0] == 0 ? nil : ($0.name, times[$0]) })
    }

    @Test func aRegionsTimeSplitsByItsThreadsStates() throws {
        let (summary, catalog) = try Self.summary { trace in
            var a = EventEncoding()
            a.taskBegin(dt: 0, idDelta: 1, type: 1) // 1000
            a.context(swiftDelta: 0, taskDelta: 1)
            a.regionBegin(dt: 0, type: 2) // 1000
            a.regionEnd(dt: 1000, back: 0) // 2000
            a.taskEnd(dt: 500, idDelta: 0) // 2500
            try trace.batch(process: 1, thread: 1, base: 1000, a)
            var k = KernelEventEncoding()
            k.switchIn(dt: 0, cpu: 0) // 900
            k.switchOut(dt: 200, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, why: 0x8000_0001) // 1100
            k.wakeup(dt: 200, wakerProcess: 1, wakerTid: 200, cpu: 1) // 1300
            k.switchIn(dt: 50, cpu: 1) // 1350
            k.switchOut(dt: 350, state: TC_STATE_RUNNABLE, cpu: 1) // 1700
            k.switchIn(dt: 100, cpu: 1) // 1800
            k.switchOut(dt: 300, state: TC_STATE_DISK, cpu: 1) // 2100
            k.wakeup(dt: 100, wakerProcess: 0, wakerTid: 0, cpu: 1) // 2200
            k.switchIn(dt: 100, cpu: 1) // 2300
            k.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 1, wait: TC_WAIT_SLEEP) // 2400
            try trace.kernelBatch(process: 1, tid: 100, base: 900, k)
        }
        #expect(summary.hasActivity)
        let brewName = try #require(catalog.lookup("brew")), orderName = try #require(catalog.lookup("order"))
        let brew = try #require(summary.regions[brewName])
        // 1000-1100 running, 1100-1300 lock, 1300-1350 runnable, 1350-1700
        // running, 1700-1800 runnable (preempted), 1800-2000 running.
        #expect(Self.split(brew.activity) == ["running": 650, "lock": 200, "runnable": 150])
        #expect(brew.activity.total == brew.distribution.total)
        let order = try #require(summary.tasks[orderName])
        // ... then 2000-2100 running, 2100-2200 io (D), 2200-2300 runnable,
        // 2300-2400 running, 2400-2500 sleep.
        #expect(Self.split(order.activity) == ["running": 850, "lock": 200, "runnable": 250, "io": 100, "sleep": 100])
        #expect(order.activity.total == 1500 && order.distribution.total == 1500)
    }

    @Test func timeTheKernelDidNotDescribeIsUnknown() throws {
        let (summary, catalog) = try Self.summary { trace in
            // Thread 1: its kernel events start in the middle of the region.
            var a = EventEncoding()
            a.regionBegin(dt: 0, type: 2) // 1000
            a.regionEnd(dt: 400, back: 0) // 1400
            try trace.batch(process: 1, thread: 1, base: 1000, a)
            var k = KernelEventEncoding()
            k.switchIn(dt: 0, cpu: 0) // 1100
            try trace.kernelBatch(process: 1, tid: 100, base: 1100, k)
            // A Swift task's region that ends on another thread.
            var b = EventEncoding()
            b.context(swiftDelta: 9, taskDelta: 0)
            b.regionBegin(dt: 0, type: 3) // 3000
            try trace.batch(process: 1, thread: 1, base: 3000, regionSequence: 1, b)
            var c = EventEncoding()
            c.context(swiftDelta: 9, taskDelta: 0)
            c.regionEndForeign(dt: 0, thread: 1, sequence: 1) // 3700
            try trace.batch(process: 1, thread: 2, base: 3700, c)
        }
        let brewName = try #require(catalog.lookup("brew")), pourName = try #require(catalog.lookup("pour"))
        let brew = try #require(summary.regions[brewName])
        #expect(Self.split(brew.activity) == ["unknown": 100, "running": 300])
        let pour = try #require(summary.regions[pourName])
        #expect(Self.split(pour.activity) == ["unknown": 700])
    }

    @Test func aTraceWithoutKernelEventsSplitsNothing() throws {
        let (summary, catalog) = try Self.summary { trace in
            var a = EventEncoding()
            a.regionBegin(dt: 0, type: 2)
            a.regionEnd(dt: 400, back: 0)
            try trace.batch(process: 1, thread: 1, base: 1000, a)
        }
        #expect(!summary.hasActivity)
        let brewName = try #require(catalog.lookup("brew"))
        #expect(summary.regions[brewName]?.activity.total == 0)
    }
}
