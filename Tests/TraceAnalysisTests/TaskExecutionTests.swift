import CTraceABI
import Testing
import TestSupport
import TraceAnalysis
import TraceFormat

/// What `tracectl tasks` adds for a chosen task on a trace with kernel
/// events: the split of the task's and each region's time by what their
/// thread did, the waits of its thread (with the region, the stack and the
/// waker), and its thread's states while it was open there.
@Suite struct TaskExecutionTests {
    static func tree(kernel: Bool) throws -> (TaskTree, TraceCatalog) {
        let directory = try TemporaryDirectory("task-execution")
        let path = directory.file("execution.trace")
        try ExecutionTrace.write(path, kernel: kernel)
        let walk = try TraceWalk(paths: [path])
        #expect(walk.catalog.diagnostics.isEmpty, "\(walk.catalog.diagnostics)")
        var drilldown = TaskDrilldown(roots: [TaskKey(process: 1, id: 1)], catalog: walk.catalog,
                                      stacks: StackResolver(catalog: walk.catalog, symbolize: false))
        walk.run(&drilldown)
        return (try #require(drilldown.trees().first), walk.catalog)
    }

    static func split(_ times: ActivityTimes?) -> [String: Int64] {
        guard let times else { return [:] }
        return Dictionary(uniqueKeysWithValues: Activity.allCases.compactMap { times[$0] == 0 ? nil : ($0.name, times[$0]) })
    }

    @Test func aChosenTaskAndItsRegionsSplitTheirTimeByWhatTheirThreadDid() throws {
        let (tree, _) = try Self.tree(kernel: true)
        #expect(Self.split(tree.activity) == ["running": 840, "runnable": 260, "lock": 300, "io": 100])
        #expect(tree.regions.map(\.type) == ["brew", "grind"])
        #expect(Self.split(tree.regions[0].activity) == ["running": 650, "runnable": 150, "lock": 200])
        #expect(Self.split(tree.regions[1].activity) == ["running": 150, "runnable": 100, "lock": 50, "io": 100])
    }

    /// A Swift task (9) whose task and region begin on thread 1 (tid 100)
    /// at 1000, whose thread idles at 1200 (stack 7, idle), and which ends
    /// them on thread 2 (tid 200) at 1700 and 1800; thread 2 idled from 500
    /// and was woken at 1500 (`woken`), or never idled (the evidence is
    /// missing there).
    static func movedTree(woken: Bool) throws -> TaskTree {
        let directory = try TemporaryDirectory("task-moved")
        let path = directory.file("moved.trace")
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1)
        try trace.strings(1, [1: "order", 2: "brew"])
        try trace.thread(1, index: 1, tid: 100)
        try trace.thread(1, index: 2, tid: 200)
        var a = EventEncoding()
        a.context(swiftDelta: 9, taskDelta: 0)
        a.taskBegin(dt: 0, idDelta: 1, type: 1) // 1000
        a.context(swiftDelta: 0, taskDelta: 1)
        a.regionBegin(dt: 0, type: 2) // 1000
        try trace.batch(process: 1, thread: 1, base: 1000, regionSequence: 1, a)
        var b = EventEncoding()
        b.context(swiftDelta: 9, taskDelta: 1)
        b.regionEndForeign(dt: 0, thread: 1, sequence: 1) // 1700
        b.taskEnd(dt: 100, idDelta: 1) // 1800
        try trace.batch(process: 1, thread: 2, base: 1700, b)
        var x = KernelEventEncoding()
        x.switchIn(dt: 0, cpu: 0) // 900
        x.switchOut(dt: 300, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, stack: 7) // 1200
        try trace.kernelBatch(process: 1, tid: 100, base: 900, x)
        var y = KernelEventEncoding()
        if woken {
            y.switchOut(dt: 0, state: TC_STATE_SLEEPING, cpu: 1, wait: TC_WAIT_LOCK, stack: 7) // 500
            y.wakeup(dt: 1000, wakerProcess: 1, wakerTid: 300, cpu: 1) // 1500
            y.switchIn(dt: 50, cpu: 1) // 1550
        } else {
            y.switchIn(dt: 0, cpu: 1) // 500
        }
        try trace.kernelBatch(process: 1, tid: 200, base: 500, y)
        try trace.finish()
        let walk = try TraceWalk(paths: [path])
        #expect(walk.catalog.diagnostics.isEmpty, "\(walk.catalog.diagnostics)")
        var drilldown = TaskDrilldown(roots: [TaskKey(process: 1, id: 1)], catalog: walk.catalog,
                                      stacks: StackResolver(catalog: walk.catalog, symbolize: false),
                                      idleStacks: IdleStacks([(process: 1, stack: 7)]))
        walk.run(&drilldown)
        return try #require(drilldown.trees().first)
    }

    @Test func aChosenSwiftTaskIsSuspendedOffItsThreadsAndSaysWhyWhereThatIsNotKnown() throws {
        let moved = try Self.movedTree(woken: true)
        // 1000-1200 on thread 1, suspended to thread 2's wakeup at 1500,
        // runnable to 1550, running to the end.
        #expect(Self.split(moved.regions.first?.activity) == ["running": 350, "suspended": 300, "runnable": 50])
        #expect(Self.split(moved.activity) == ["running": 450, "suspended": 300, "runnable": 50])
        #expect(moved.untold == nil && moved.regions.first?.untold == nil)
        let unseen = try Self.movedTree(woken: false)
        #expect(Self.split(unseen.regions.first?.activity) == ["running": 200, "unknown": 500])
        #expect(Self.split(unseen.activity) == ["running": 200, "unknown": 600])
        #expect(unseen.untold == "resumedUnseen" && unseen.regions.first?.untold == "resumedUnseen")
    }

    @Test func aChosenTaskListsTheWaitsOfItsThreadWithTheRegionTheStackAndTheWaker() throws {
        let (tree, _) = try Self.tree(kernel: true)
        let waits = try #require(tree.waits)
        #expect(waits.map { "\($0.begin)-\($0.end) \($0.wait) \($0.why) tid \($0.thread) in \($0.region ?? "-")" } == [
            "1100-1300 lock futex tid 100 in brew",
            "2100-2200 io  tid 100 in grind",
            "2350-2450 lock futex tid 100 in grind",
        ])
        #expect(waits.map(\.stack) == [["0x1000", "0x2000", "0x3000"], ["0x4000"], ["0x1000", "0x2000", "0x3000"]])
        #expect(waits.map { $0.waker.map { "p\($0.process) pid \($0.pid) tid \($0.tid) \($0.name)" } } == [
            "p1 pid 42 tid 200 worker", "p0 pid 0 tid 0 ", "p1 pid 42 tid 200 worker",
        ])
        #expect(tree.omittedWaits == 0)
    }

    @Test func aChosenTaskKeepsItsThreadsStatesWhileItWasOpenThere() throws {
        let (tree, _) = try Self.tree(kernel: true)
        let states = try #require(tree.threadStates)
        #expect(states.map(\.tid) == [100] && states.map(\.name) == ["main"])
        #expect(states[0].parts.map { "\($0.begin)-\($0.end) \($0.activity)" } == [
            "1000-1100 running", "1100-1300 lock", "1300-1350 runnable", "1350-1700 running", "1700-1800 runnable",
            "1800-2100 running", "2100-2200 io", "2200-2300 runnable", "2300-2350 running", "2350-2450 lock",
            "2450-2460 runnable", "2460-2500 running",
        ])
        #expect(tree.omittedStateParts == 0)
    }

    @Test func aTaskOfATraceWithoutKernelEventsHasNoneOfIt() throws {
        let (tree, _) = try Self.tree(kernel: false)
        #expect(tree.activity == nil && tree.waits == nil && tree.omittedWaits == nil && tree.threadStates == nil)
        #expect(tree.omittedStateParts == nil && tree.regions.allSatisfy { $0.activity == nil })
    }
}
