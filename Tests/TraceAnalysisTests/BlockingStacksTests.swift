import CTraceABI
import Testing
import TestSupport
import TraceAnalysis
import TraceFormat

/// A thread's waits off its CPU, from the switch-out that began each to the
/// wakeup that ended it, summed by process, stack, wait and call for the
/// report's top blocking stacks.
@Suite struct BlockingStacksTests {
    static func walk(_ write: (String) throws -> Void) throws -> (TraceWalk, TemporaryDirectory) {
        let directory = try TemporaryDirectory("waits")
        let path = directory.file("waits.trace")
        try write(path)
        let walk = try TraceWalk(paths: [path])
        #expect(walk.catalog.diagnostics.isEmpty, "\(walk.catalog.diagnostics)")
        return (walk, directory)
    }

    static func summary(options: TraceSummary.Options = TraceSummary.Options(),
                        _ write: (String) throws -> Void) throws -> (TraceSummary, TraceCatalog) {
        let (walk, directory) = try walk(write)
        var summary = TraceSummary(options: options, catalog: walk.catalog)
        walk.run(&summary)
        withExtendedLifetime(directory) {}
        return (summary, walk.catalog)
    }

    /// The totals as "wait why stack: count total" lines, heaviest first.
    static func lines(_ blocking: BlockingStacks?, _ catalog: TraceCatalog) -> [String] {
        (blocking?.top(100) ?? []).map {
            "\($0.key.activity.name) \(catalog.string($0.key.why)) stack \($0.key.stack): \($0.total.count) \($0.total.nanoseconds)"
        }
    }

    @Test func blockingStacksSumEachWaitFromItsSwitchOutToItsWakeup() throws {
        let (summary, catalog) = try Self.summary { try ExecutionTrace.write($0, kernel: true) }
        #expect(Self.lines(summary.blocking, catalog) == [
            "lock futex stack 1: 2 300",
            "io  stack 2: 1 100",
            "syscall wait4 stack 2: 1 100",
            "sleep nanosleep stack 0: 1 90",
        ])
        #expect(summary.blocking?.top(2).count == 2)
    }

    /// Thread tid 100: which switch-outs start a wait, and which ends count.
    static func endings(_ path: String) throws {
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1)
        var k = KernelEventEncoding()
        k.switchOut(dt: 0, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK) // 1000
        k.switchIn(dt: 100, cpu: 0) // 1100: no wakeup in the trace: ends here (100)
        k.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_IO) // 1200
        k.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_SLEEP) // 1300: the io's end was lost
        k.exit(dt: 100) // 1400: so was the sleep's
        k.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 0) // 1500: no wait told: unknown, not a wait
        k.wakeup(dt: 100, wakerProcess: 0, wakerTid: 0, cpu: 0) // 1600
        k.switchIn(dt: 10, cpu: 0) // 1610
        k.switchOut(dt: 90, state: TC_STATE_RUNNABLE, cpu: 0) // 1700: preempted, not a wait
        k.switchIn(dt: 100, cpu: 0) // 1800
        k.switchOut(dt: 100, state: TC_STATE_DISK, cpu: 0) // 1900: D with no wait told: io
        k.wakeup(dt: 50, wakerProcess: 0, wakerTid: 0, cpu: 0) // 1950 (50)
        k.wakeup(dt: 10, wakerProcess: 0, wakerTid: 0, cpu: 0) // 1960: a second wakeup ends nothing
        k.switchIn(dt: 40, cpu: 0) // 2000
        k.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_SYSCALL) // 2100: the trace ends first
        try trace.kernelBatch(process: 1, tid: 100, base: 1000, k)
        try trace.finish()
    }

    @Test func aWaitEndsAtItsSwitchInWithoutAWakeupAndOneWhoseEndIsLostIsNotCounted() throws {
        let (summary, catalog) = try Self.summary(Self.endings)
        #expect(Self.lines(summary.blocking, catalog) == ["lock  stack 0: 1 100", "io  stack 0: 1 50"])
    }

    @Test func blockingStacksCountTheWaitsThatBeganInTheWindow() throws {
        var options = TraceSummary.Options()
        options.window = 1000...1500
        let (summary, catalog) = try Self.summary(options: options) { try ExecutionTrace.write($0, kernel: true) }
        // The lock at 1100, the sleep at 1200 and the syscall at 1500; not
        // the io at 2100 nor the lock at 2350.
        #expect(Self.lines(summary.blocking, catalog) == [
            "lock futex stack 1: 1 200", "syscall wait4 stack 2: 1 100", "sleep nanosleep stack 0: 1 90",
        ])
    }

    @Test func theTopStacksAreTheHeaviestMostTimeFirst() throws {
        let (summary, _) = try Self.summary { path in
            let trace = try HandWrittenTrace(path: path)
            try trace.process(1)
            var k = KernelEventEncoding()
            // Stack n waits 10 × n ns, once; stack 13 waits twice, 60 in all.
            for n in UInt32(1)...13 {
                k.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, stack: n)
                k.wakeup(dt: UInt64(n == 13 ? 30 : 10 * n), wakerProcess: 0, wakerTid: 0, cpu: 0)
                k.switchIn(dt: 1, cpu: 0)
            }
            k.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, stack: 13)
            k.wakeup(dt: 30, wakerProcess: 0, wakerTid: 0, cpu: 0)
            try trace.kernelBatch(process: 1, tid: 100, base: 1000, k)
            try trace.finish()
        }
        let blocking = try #require(summary.blocking)
        #expect(blocking.totals.count == 13)
        // Stack 6 and 13 both waited 60 ns: more waits first.
        #expect(blocking.top(10).map(\.key.stack) == [12, 11, 10, 9, 8, 7, 13, 6, 5, 4])
        #expect(blocking.top(10).map(\.total.nanoseconds) == [120, 110, 100, 90, 80, 70, 60, 60, 50, 40])
    }

    @Test func aTraceWithoutKernelEventsHasNoBlockingStacks() throws {
        let (summary, _) = try Self.summary { try ExecutionTrace.write($0, kernel: false) }
        #expect(summary.blocking == nil)
    }
}
