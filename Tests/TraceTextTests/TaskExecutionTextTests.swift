import CTraceABI
import Foundation
import Testing
import TestSupport
import TraceAnalysis
import TraceText

/// `tracectl tasks` on a trace with kernel events says what the task's
/// thread did during the task and each region, and lists its waits with the
/// stack where it blocked and who woke it, in text and JSON; on a trace
/// without, its output is what it was.
@Suite struct TaskExecutionTextTests {
    static func tasks(_ arguments: [String]) throws -> String {
        let result = try Processes.run(Processes.executable("tracectl"), ["tasks"] + arguments)
        #expect(result.status == 0, "\(result.standardError)")
        return result.standardOutput
    }

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test func aTaskSaysWhatItsThreadDidAndListsItsWaits() throws {
        let directory = try TemporaryDirectory("tasks-execution")
        let path = directory.file("kernel.trace")
        try ExecutionTrace.write(path, kernel: true)
        #expect(Self.lines(try Self.tasks(["--id", "1", path])) == [
            "task order #1  latency 1.5µs  created +100ns in pid 42",
            "  ran on thread(s) 100 (main)",
            "  what its thread did (kernel events): running 840ns 56.0%, runnable 260ns 17.3%, lock 300ns 20.0%, io 100ns 6.7%",
            "  where the time went (self time; regions nested in others not counted twice):",
            "    brew                           1µs    66.7%",
            "    grind                        400ns    26.7%",
            "    (in no region)               100ns     6.7%",
            "  timeline (offset from creation, duration):",
            "    +0ns       ├ brew 1µs  [thread 100]  running 650ns, runnable 150ns, lock 200ns",
            "    +1µs       ├ grind 400ns  [thread 100]  running 150ns, runnable 100ns, lock 50ns, io 100ns",
            "    +1.5µs     end",
            "  waits (offset from creation, wait, call, how long; where, who woke it; the stack where it blocked):",
            "    +100ns     lock futex 200ns  in brew on thread 100, woken by thread 200 (worker)",
            "                 at 0x1000",
            "                 at 0x2000",
            "                 at 0x3000",
            "    +1.1µs     io 100ns  in grind on thread 100, woken by an interrupt or another process",
            "                 at 0x4000",
            "    +1.4µs     lock futex 100ns  in grind on thread 100, woken by thread 200 (worker)",
            "                 at 0x1000",
            "                 at 0x2000",
            "                 at 0x3000",
            "",
        ])
    }

    @Test func theJSONTreeHasTheSplitsTheWaitsAndTheThreadStates() throws {
        let directory = try TemporaryDirectory("tasks-execution-json")
        let path = directory.file("kernel.trace")
        try ExecutionTrace.write(path, kernel: true)
        let json = try Self.tasks(["--json", "--id", "1", path])
        // Keys sorted, as tracectl writes them.
        #expect(json.hasPrefix(#"[{"activity":{"io":100,"lock":300,"runnable":260,"running":840,"sleep":0,"suspended":0,"syscall":0,"unknown":0},"#))
        #expect(json.contains(#"{"begin":1100,"end":1300,"region":"brew","stack":["0x1000","0x2000","0x3000"],"thread":100,"#
                              + #""wait":"lock","waker":{"name":"worker","pid":42,"process":1,"tid":200},"why":"futex"}"#))
        #expect(json.contains(#""waker":{"name":"","pid":0,"process":0,"tid":0},"why":""}"#))
        let trees = try JSONDecoder().decode([TaskTree].self, from: Data(json.utf8))
        let tree = try #require(trees.first)
        #expect(tree.regions.map { $0.activity?[.running] } == [650, 150])
        #expect(tree.waits?.map(\.begin) == [1100, 2100, 2350] && tree.omittedWaits == 0)
        let states = try #require(tree.threadStates?.first)
        #expect(states.tid == 100 && states.parts.count == 12 && tree.omittedStateParts == 0)
        #expect(states.parts.first?.begin == 1000 && states.parts.last?.end == 2500)
    }

    @Test func aWaitSaysWhenItsWakerIsInAnotherProcessOrItsWakeupIsNotInTheTrace() throws {
        let directory = try TemporaryDirectory("tasks-wakers")
        let path = directory.file("kernel.trace")
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1, name: "cafe")
        try trace.process(2, pid: 43, name: "grinder")
        try trace.strings(1, [1: "order", 0x8000_0001: "read"])
        try trace.thread(1, index: 1, tid: 100, name: "main")
        try trace.thread(2, index: 1, tid: 300, name: "mill")
        var a = EventEncoding()
        a.taskBegin(dt: 0, idDelta: 1, type: 1) // 1000
        a.taskEnd(dt: 1000, idDelta: 0) // 2000
        try trace.batch(process: 1, thread: 1, base: 1000, a)
        var k = KernelEventEncoding()
        k.switchIn(dt: 0, cpu: 0) // 1000
        k.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_IO, why: 0x8000_0001) // 1100
        k.wakeup(dt: 100, wakerProcess: 2, wakerTid: 300, cpu: 0) // 1200
        k.switchIn(dt: 100, cpu: 0) // 1300
        k.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK) // 1400
        k.switchIn(dt: 300, cpu: 0) // 1700: its wakeup was lost
        try trace.kernelBatch(process: 1, tid: 100, base: 1000, k)
        try trace.finish()
        let lines = Self.lines(try Self.tasks(["--id", "1", path]))
        let start = try #require(lines.firstIndex { $0.hasPrefix("  waits (") })
        #expect(Array(lines[(start + 1)...]) == [
            "    +100ns     io read 100ns  on thread 100, woken by thread 300 (mill) of pid 43",
            "    +400ns     lock 300ns  on thread 100, its wakeup is not in the trace",
            "",
        ])
    }

    @Test func aTaskOfATraceWithoutKernelEventsPrintsAsBefore() throws {
        let directory = try TemporaryDirectory("tasks-no-execution")
        let path = directory.file("annotations.trace")
        try ExecutionTrace.write(path, kernel: false)
        #expect(Self.lines(try Self.tasks(["--id", "1", path])) == [
            "task order #1  latency 1.5µs  created +0ns in pid 42",
            "  ran on thread(s) 100 (main)",
            "  where the time went (self time; regions nested in others not counted twice):",
            "    brew                           1µs    66.7%",
            "    grind                        400ns    26.7%",
            "    (in no region)               100ns     6.7%",
            "  timeline (offset from creation, duration):",
            "    +0ns       ├ brew 1µs  [thread 100]",
            "    +1µs       ├ grind 400ns  [thread 100]",
            "    +1.5µs     end",
            "",
        ])
        let json = try Self.tasks(["--json", "--id", "1", path])
        for key in ["activity", "waits", "omittedWaits", "threadStates", "omittedStateParts"] {
            #expect(!json.contains("\"\(key)\""), "\(key)")
        }
    }
}
