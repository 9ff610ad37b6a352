import CTraceABI
import Testing
import TestSupport
import TraceAnalysis
import TraceFormat

/// A span's wall time splits by what its thread was doing, as the kernel
/// events tell it: parts that do not overlap and add up to the wall time.
@Suite struct ActivityTests {
    static func summary(options: TraceSummary.Options = TraceSummary.Options(), idleStacks: IdleStacks = IdleStacks(),
                        _ write: (HandWrittenTrace) throws -> Void) throws -> (TraceSummary, TraceCatalog) {
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
        var summary = TraceSummary(options: options, catalog: walk.catalog, idleStacks: idleStacks)
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

    /// Thread 1 (tid 100) and thread 2 (tid 200): three waits for a CPU
    /// after a wakeup (300, 20 and 50 ns), and the wakeups that start none.
    static func wakeups(_ trace: HandWrittenTrace) throws {
        var k = KernelEventEncoding()
        k.switchOut(dt: 0, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_SLEEP) // 1000
        k.wakeup(dt: 100, wakerProcess: 1, wakerTid: 200, cpu: 0) // 1100: waits from here
        k.wakeup(dt: 50, wakerProcess: 1, wakerTid: 200, cpu: 0) // 1150: already woken
        k.switchIn(dt: 250, cpu: 0) // 1400: 300
        k.wakeup(dt: 100, wakerProcess: 1, wakerTid: 200, cpu: 0) // 1500: on a CPU
        k.switchOut(dt: 100, state: TC_STATE_RUNNABLE, cpu: 0) // 1600: preempted
        k.wakeup(dt: 50, wakerProcess: 1, wakerTid: 200, cpu: 0) // 1650: wants a CPU already
        k.switchIn(dt: 50, cpu: 0) // 1700: ends a preemption, not a wakeup's wait
        k.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_IO) // 1800
        k.wakeup(dt: 100, wakerProcess: 0, wakerTid: 0, cpu: 0) // 1900
        k.switchOut(dt: 100, state: TC_STATE_DISK, cpu: 0) // 2000: the switch-in was lost
        k.wakeup(dt: 100, wakerProcess: 0, wakerTid: 0, cpu: 1) // 2100
        k.switchIn(dt: 20, cpu: 1) // 2120: 20
        try trace.kernelBatch(process: 1, tid: 100, base: 1000, k)
        var first = KernelEventEncoding()
        first.wakeup(dt: 0, wakerProcess: 1, wakerTid: 100, cpu: 1) // 500: its first event
        first.switchIn(dt: 50, cpu: 1) // 550: 50
        try trace.kernelBatch(process: 1, tid: 200, base: 500, first)
    }

    @Test func schedulerLatencyRunsFromAWakeupOfAWaitingThreadToItsNextSwitchIn() throws {
        let (summary, _) = try Self.summary(Self.wakeups)
        let latency = try #require(summary.schedulerLatency)
        #expect(latency.count == 3 && latency.minimum == 20 && latency.maximum == 300 && latency.total == 370)
        #expect(latency.percentile(50) == 50)
    }

    @Test func schedulerLatencyCountsTheWakeupsInTheWindow() throws {
        var options = TraceSummary.Options()
        options.window = 1000...2000
        let (summary, _) = try Self.summary(options: options, Self.wakeups)
        let latency = try #require(summary.schedulerLatency)
        #expect(latency.count == 1 && latency.total == 300)
    }

    @Test func aTraceWithoutKernelEventsHasNoSchedulerLatency() throws {
        let (summary, _) = try Self.summary { trace in
            var a = EventEncoding()
            a.regionBegin(dt: 0, type: 2)
            a.regionEnd(dt: 400, back: 0)
            try trace.batch(process: 1, thread: 1, base: 1000, a)
        }
        #expect(summary.schedulerLatency == nil)
    }

    /// Stack 7 of process 1 is where its threads idle outside any job; 8 is
    /// a wait inside a job.
    static let idle = IdleStacks([(process: 1, stack: 7)])

    /// A Swift task's region "brew" begun on thread 1 (tid 100) at 1000;
    /// each test writes where its thread goes and where it ends.
    static func suspendedRegion(_ trace: HandWrittenTrace) throws {
        var a = EventEncoding()
        a.context(swiftDelta: 9, taskDelta: 0)
        a.regionBegin(dt: 0, type: 2) // 1000
        try trace.batch(process: 1, thread: 1, base: 1000, regionSequence: 1, a)
    }

    @Test func aSwiftTasksRegionIsSuspendedFromItsThreadsIdlingToTheIdlingEndOfTheThreadItEndsOn() throws {
        let (summary, catalog) = try Self.summary(idleStacks: Self.idle) { trace in
            try Self.suspendedRegion(trace)
            var x = KernelEventEncoding()
            x.switchIn(dt: 0, cpu: 0) // 900
            x.switchOut(dt: 300, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, why: 0x8000_0001, stack: 7) // 1200
            try trace.kernelBatch(process: 1, tid: 100, base: 900, x)
            // Thread 2 idles from 500, is woken at 1500 to run the task,
            // gets a CPU at 1550 and ends the region at 1700.
            var y = KernelEventEncoding()
            y.switchOut(dt: 0, state: TC_STATE_SLEEPING, cpu: 1, wait: TC_WAIT_LOCK, why: 0x8000_0001, stack: 7) // 500
            y.wakeup(dt: 1000, wakerProcess: 1, wakerTid: 300, cpu: 1) // 1500
            y.switchIn(dt: 50, cpu: 1) // 1550
            try trace.kernelBatch(process: 1, tid: 200, base: 500, y)
            var b = EventEncoding()
            b.context(swiftDelta: 9, taskDelta: 0)
            b.regionEndForeign(dt: 0, thread: 1, sequence: 1) // 1700
            try trace.batch(process: 1, thread: 2, base: 1700, b)
        }
        let brewName = try #require(catalog.lookup("brew"))
        let brew = try #require(summary.regions[brewName])
        #expect(Self.split(brew.activity) == ["running": 350, "suspended": 300, "runnable": 50])
        #expect(brew.activity.total == brew.distribution.total)
        #expect(brew.untold == UntoldSpans())
    }

    @Test func aSwiftTasksRegionThatResumesOnItsThreadIsSuspendedWhileTheThreadIdles() throws {
        let (summary, catalog) = try Self.summary(idleStacks: Self.idle) { trace in
            var a = EventEncoding()
            a.context(swiftDelta: 9, taskDelta: 0)
            a.regionBegin(dt: 0, type: 2) // 1000
            a.regionEnd(dt: 700, back: 0) // 1700
            try trace.batch(process: 1, thread: 1, base: 1000, a)
            var x = KernelEventEncoding()
            x.switchIn(dt: 0, cpu: 0) // 900
            x.switchOut(dt: 300, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, why: 0x8000_0001, stack: 7) // 1200
            x.wakeup(dt: 300, wakerProcess: 1, wakerTid: 200, cpu: 0) // 1500
            x.switchIn(dt: 50, cpu: 0) // 1550
            // A wait inside a job: the task is on its thread, blocked.
            x.switchOut(dt: 50, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, why: 0x8000_0001, stack: 8) // 1600
            x.switchIn(dt: 40, cpu: 0) // 1640
            try trace.kernelBatch(process: 1, tid: 100, base: 900, x)
            // A region outside Swift tasks on thread 2 waits at the same
            // stack: its thread's wait, not a suspension.
            var plain = EventEncoding()
            plain.regionBegin(dt: 0, type: 3) // 3000
            plain.regionEnd(dt: 500, back: 0) // 3500
            try trace.batch(process: 1, thread: 2, base: 3000, plain)
            var y = KernelEventEncoding()
            y.switchIn(dt: 0, cpu: 1) // 2900
            y.switchOut(dt: 200, state: TC_STATE_SLEEPING, cpu: 1, wait: TC_WAIT_LOCK, why: 0x8000_0001, stack: 7) // 3100
            y.switchIn(dt: 300, cpu: 1) // 3400
            try trace.kernelBatch(process: 1, tid: 200, base: 2900, y)
        }
        let brewName = try #require(catalog.lookup("brew"))
        let brew = try #require(summary.regions[brewName])
        // 1000-1200 running, 1200-1500 suspended, 1500-1550 runnable,
        // 1550-1600 running, 1600-1640 lock, 1640-1700 running.
        #expect(Self.split(brew.activity) == ["running": 310, "suspended": 300, "runnable": 50, "lock": 40])
        let pourName = try #require(catalog.lookup("pour"))
        let pour = try #require(summary.regions[pourName])
        #expect(Self.split(pour.activity) == ["running": 200, "lock": 300])
    }

    @Test func aSwiftTasksRegionWithoutIdleEvidenceOnASideIsUnknownThereAndSaysWhy() throws {
        let (summary, catalog) = try Self.summary(idleStacks: Self.idle) { trace in
            // brew: thread 1 goes idle at 1200, but thread 2, where it ends
            // at 1700, never idled: when the task came to it is not known.
            try Self.suspendedRegion(trace)
            var x = KernelEventEncoding()
            x.switchIn(dt: 0, cpu: 0) // 900
            x.switchOut(dt: 300, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, why: 0x8000_0001, stack: 7) // 1200
            x.wakeup(dt: 1800, wakerProcess: 1, wakerTid: 200, cpu: 0) // 3000
            x.switchIn(dt: 0, cpu: 0) // 3000
            try trace.kernelBatch(process: 1, tid: 100, base: 900, x)
            var y = KernelEventEncoding()
            y.switchIn(dt: 0, cpu: 1) // 500
            y.switchOut(dt: 3000, state: TC_STATE_SLEEPING, cpu: 1, wait: TC_WAIT_LOCK, why: 0x8000_0001, stack: 7) // 3500
            y.wakeup(dt: 500, wakerProcess: 1, wakerTid: 100, cpu: 1) // 4000
            y.switchIn(dt: 100, cpu: 1) // 4100
            try trace.kernelBatch(process: 1, tid: 200, base: 500, y)
            var b = EventEncoding()
            b.context(swiftDelta: 9, taskDelta: 0)
            b.regionEndForeign(dt: 0, thread: 1, sequence: 1) // 1700
            try trace.batch(process: 1, thread: 2, base: 1700, b)
            // pour: begins on thread 1 at 3100, which never idles after;
            // ends on thread 2 at 4300, which left idle at 4000.
            var c = EventEncoding()
            c.context(swiftDelta: 10, taskDelta: 0)
            c.regionBegin(dt: 0, type: 3) // 3100
            try trace.batch(process: 1, thread: 1, base: 3100, regionSequence: 2, c)
            var d = EventEncoding()
            d.context(swiftDelta: 10, taskDelta: 0)
            d.regionEndForeign(dt: 0, thread: 1, sequence: 2) // 4300
            try trace.batch(process: 1, thread: 2, base: 4300, d)
        }
        let brewName = try #require(catalog.lookup("brew"))
        let brew = try #require(summary.regions[brewName])
        #expect(Self.split(brew.activity) == ["running": 200, "unknown": 500])
        #expect(brew.untold.resumedUnseen == 1 && brew.untold.total == 1)
        let pourName = try #require(catalog.lookup("pour"))
        let pour = try #require(summary.regions[pourName])
        // 3100-4000 unknown; thread 2's 4000-4100 runnable, 4100-4300 running.
        #expect(Self.split(pour.activity) == ["unknown": 900, "runnable": 100, "running": 200])
        #expect(pour.untold.leftUnseen == 1 && pour.untold.total == 1)
    }

    /// Where the frame-pointer walk ends tells whether a stack is outside
    /// any job.
    @Test func aStackIsIdleWithoutAJobFrameWhenCompleteOrWhollyInTheCLibrary() {
        func frame(_ function: String?, _ image: String) -> StackSymbolizer.Frame {
            StackSymbolizer.Frame(address: 1, image: image, offset: 1, function: function, location: nil)
        }
        let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6", app = "/srv/app", runtime = "/usr/lib/swift/linux/libswift_Concurrency.so"
        #expect(IdleStacks.isIdle([frame("__futex_abstimed_wait_common64", libc)]))
        #expect(IdleStacks.isIdle([frame("epoll_wait", libc), frame("_dispatch_mgr_thread", "/usr/lib/libdispatch.so"),
                                   frame("start_thread", libc)]))
        #expect(!IdleStacks.isIdle([frame("clock_nanosleep", libc), frame("work()", app),
                                    frame("swift::runJobInEstablishedExecutorContext(swift::Job*)", runtime),
                                    frame("swift_job_run", runtime), frame("start_thread", libc)]))
        #expect(!IdleStacks.isIdle([frame("__futex_abstimed_wait_common64", libc), frame("swift_job_run", runtime)]))
        // Cut short outside the C library: what lay below is not known.
        #expect(!IdleStacks.isIdle([frame("__lll_lock_wait", libc), frame("work()", app)]))
        #expect(!IdleStacks.isIdle([frame(nil, libc)]))
        #expect(!IdleStacks.isIdle([]))
    }

    /// Random nested regions and tasks on two threads, random switches and
    /// wakeups under them: whatever the kernel said, every type's parts add
    /// up to its wall time.
    @Test(arguments: 1...20) func thePartsAddUpToTheWallTime(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let states = [TC_STATE_RUNNABLE, TC_STATE_SLEEPING, TC_STATE_DISK, TC_STATE_STOPPED]
        let waits = [TC_WAIT_NONE, TC_WAIT_LOCK, TC_WAIT_IO, TC_WAIT_SLEEP, TC_WAIT_SYSCALL]
        let (summary, _) = try Self.summary(idleStacks: Self.idle) { trace in
            for (thread, tid) in [(UInt32(1), UInt32(100)), (2, 200)] {
                var a = EventEncoding()
                // Thread 2's spans are a Swift task's: they leave it when
                // it idles.
                if thread == 2 { a.context(swiftDelta: 9, taskDelta: 0) }
                var open: [UInt64] = [] // region numbers on the thread
                var begun: UInt64 = 0
                var tasks: [Int64] = []
                var lastTask: Int64 = 0
                var nextTask = Int64(thread) * 1000
                for _ in 0..<200 {
                    let dt = UInt64.random(in: 0...300, using: &random)
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0:
                        a.regionBegin(dt: dt, type: UInt32.random(in: 2...3, using: &random))
                        open.append(begun)
                        begun += 1
                    case 1:
                        guard let region = open.popLast() else { continue }
                        a.regionEnd(dt: dt, back: begun - 1 - region)
                    case 2:
                        nextTask += 1
                        a.taskBegin(dt: dt, idDelta: nextTask - lastTask, type: 1)
                        lastTask = nextTask
                        tasks.append(nextTask)
                    default:
                        guard !tasks.isEmpty else { continue }
                        let task = tasks.remove(at: Int.random(in: 0..<tasks.count, using: &random))
                        a.taskEnd(dt: dt, idDelta: task - lastTask)
                    }
                }
                try trace.batch(process: 1, thread: thread, base: 1000, a)
                var k = KernelEventEncoding()
                for _ in 0..<150 {
                    let dt = UInt64.random(in: 0...400, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0:
                        k.switchOut(dt: dt, state: states.randomElement(using: &random) ?? TC_STATE_SLEEPING, cpu: 0,
                                    wait: waits.randomElement(using: &random) ?? TC_WAIT_NONE,
                                    stack: [nil, 7, 8].randomElement(using: &random) ?? nil)
                    case 1: k.switchIn(dt: dt, cpu: 0)
                    default: k.wakeup(dt: dt, wakerProcess: 1, wakerTid: 300 - tid, cpu: 0)
                    }
                }
                try trace.kernelBatch(process: 1, tid: tid, base: UInt64.random(in: 0...20_000, using: &random), k)
            }
        }
        #expect(summary.hasActivity)
        var parts = 0
        for (type, statistics) in Array(summary.tasks) + Array(summary.regions) {
            #expect(statistics.activity.total == statistics.distribution.total, "type \(type)")
            parts += Activity.allCases.filter { statistics.activity[$0] > 0 }.count
        }
        // Not all unknown: the kernel's events were taken into account.
        #expect(parts > 3)
    }
}
