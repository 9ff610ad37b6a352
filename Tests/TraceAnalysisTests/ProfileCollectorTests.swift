import CTraceABI
import Testing
import TestSupport
import TraceAnalysis
import TraceFormat

/// What `tracectl profile` weighs: the waits are the report's blocking
/// stacks' (`WaitTracker`), the waits for a CPU run to the switch-in.
@Suite struct ProfileCollectorTests {
    /// One thread: a lock wait woken at 1300 (300 ns), an io wait whose
    /// wakeup the trace lost (ends at its switch-in, 200 ns), a syscall
    /// wait (100 ns), then preempted and back 50 ns later.
    private func walk() throws -> (TraceWalk, TemporaryDirectory) {
        let directory = try TemporaryDirectory("profile")
        let path = directory.file("profile.trace")
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1)
        try trace.strings(1, [0x8000_0001: "futex", 0x8000_0002: "read", 0x8000_0003: "wait4"])
        try trace.thread(1, index: 1, tid: 4242, name: "main")
        try trace.metadata(1, .stack(StackRecord(id: 0x8000_0001, frames: [0x1000, 0x2000])))
        try trace.metadata(1, .stack(StackRecord(id: 0x8000_0002, frames: [0x3000])))
        var events = KernelEventEncoding()
        events.switchOut(dt: 0, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, why: 0x8000_0001, stack: 0x8000_0001)
        events.wakeup(dt: 300, wakerProcess: 0, wakerTid: 0, cpu: 0)
        events.switchIn(dt: 20, cpu: 0)
        events.switchOut(dt: 80, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_IO, why: 0x8000_0002, stack: 0x8000_0002)
        events.switchIn(dt: 200, cpu: 0)
        events.switchOut(dt: 10, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_SYSCALL, why: 0x8000_0003)
        events.wakeup(dt: 100, wakerProcess: 0, wakerTid: 0, cpu: 0)
        events.switchIn(dt: 5, cpu: 0)
        events.switchOut(dt: 10, state: TC_STATE_RUNNABLE, cpu: 0, stack: 0x8000_0002)
        events.switchIn(dt: 50, cpu: 0)
        try trace.kernelBatch(process: 1, tid: 4242, base: 1000, events)
        try trace.finish()
        return (try TraceWalk(paths: [path]), directory)
    }

    private func weights(_ kind: ProfileCollector.Kind) throws -> [UInt32: ProfileCollector.Weight] {
        let (walk, directory) = try walk()
        _ = directory
        var collector = ProfileCollector(kind: kind, catalog: walk.catalog)
        walk.run(&collector)
        return Dictionary(uniqueKeysWithValues: collector.weights.map { ($0.key.stack, $0.value) })
    }

    @Test func blockCountsEachWaitToItsWakeupOrElseItsSwitchIn() throws {
        #expect(try weights(.block) == [
            0x8000_0001: ProfileCollector.Weight(count: 1, nanoseconds: 300),
            0x8000_0002: ProfileCollector.Weight(count: 1, nanoseconds: 200),
        ])
    }

    @Test func syscallCountsTheOtherSystemCalls() throws {
        #expect(try weights(.syscall) == [0: ProfileCollector.Weight(count: 1, nanoseconds: 100)])
    }

    @Test func schedRunsFromAWakeupOrAPreemptionToTheSwitchIn() throws {
        // 20 after the lock's wakeup, 5 after the syscall's (stack 0: none
        // was recorded there), 50 after the preemption.
        #expect(try weights(.sched) == [
            0x8000_0001: ProfileCollector.Weight(count: 1, nanoseconds: 20),
            0: ProfileCollector.Weight(count: 1, nanoseconds: 5),
            0x8000_0002: ProfileCollector.Weight(count: 1, nanoseconds: 50),
        ])
    }
}
