import CTraceABI
import Foundation
import Testing
import TestSupport
import TraceFormat
import TraceText

/// `tracectl report` on a trace with kernel events says where each type's
/// wall time went, how long woken threads waited for a CPU and at which
/// stacks threads waited longest, in text and in JSON; on a trace without,
/// it says so in one line and nothing else.
@Suite struct ExecutionReportTests {
    /// An "order" task (1000-2500 ns) with a "brew" region (1000-2000 ns)
    /// on thread tid 100, and what the kernel saw that thread do.
    static func write(_ path: String, kernel: Bool) throws {
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1, name: "cafe")
        try trace.strings(1, [1: "order", 2: "brew", 0x8000_0001: "futex"])
        try trace.thread(1, index: 1, tid: 100)
        var a = EventEncoding()
        a.taskBegin(dt: 0, idDelta: 1, type: 1) // 1000
        a.context(swiftDelta: 0, taskDelta: 1)
        a.regionBegin(dt: 0, type: 2) // 1000
        a.regionEnd(dt: 1000, back: 0) // 2000
        a.taskEnd(dt: 500, idDelta: 0) // 2500
        try trace.batch(process: 1, thread: 1, base: 1000, a)
        if kernel {
            var k = KernelEventEncoding()
            k.switchIn(dt: 0, cpu: 0) // 900
            k.switchOut(dt: 200, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, why: 0x8000_0001) // 1100
            k.wakeup(dt: 200, wakerProcess: 1, wakerTid: 200, cpu: 1) // 1300
            k.switchIn(dt: 50, cpu: 1) // 1350: waited 50 for a CPU
            k.switchOut(dt: 350, state: TC_STATE_RUNNABLE, cpu: 1) // 1700
            k.switchIn(dt: 100, cpu: 1) // 1800
            k.switchOut(dt: 300, state: TC_STATE_DISK, cpu: 1) // 2100
            k.wakeup(dt: 100, wakerProcess: 0, wakerTid: 0, cpu: 1) // 2200
            k.switchIn(dt: 100, cpu: 1) // 2300: waited 100
            k.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 1, wait: TC_WAIT_SLEEP) // 2400
            try trace.kernelBatch(process: 1, tid: 100, base: 900, k)
        }
        try trace.finish()
    }

    static func report(_ arguments: [String]) throws -> String {
        let result = try Processes.run(Processes.executable("tracectl"), ["report"] + arguments)
        #expect(result.status == 0, "\(result.standardError)")
        return result.standardOutput
    }

    @Test func theReportSplitsEachTypesWallTimeAndGivesTheSchedulerLatency() throws {
        let directory = try TemporaryDirectory("execution-report")
        let path = directory.file("kernel.trace")
        try Self.write(path, kernel: true)
        let lines = try Self.report([path]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("execution (") })
        #expect(Array(lines[start...].prefix(12)) == [
            "execution (where the wall time went, from kernel events: time, and share of the type's total)",
            "  task type                  running  runnable      lock        io     sleep   syscall suspended   unknown",
            "  order                        850ns     250ns     200ns     100ns     100ns         -         -         -",
            "                                 57%       17%       13%        7%        7%         -         -         -",
            "  region type                running  runnable      lock        io     sleep   syscall suspended   unknown",
            "  brew                         650ns     150ns     200ns         -         -         -         -         -",
            "                                 65%       15%       20%         -         -         -         -         -",
            "",
            "scheduler latency (from a wakeup to the switch-in that ends it: how long woken threads waited for a CPU)",
            "    wakeups        p50        p90        p99        max",
            "          2       50ns      100ns      100ns      100ns",
            "",
        ])
        #expect(!lines.contains { $0.hasPrefix("execution events: none") })
    }

    @Test func theJSONReportHasEachTypesActivityAndTheSchedulerLatency() throws {
        let directory = try TemporaryDirectory("execution-json")
        let path = directory.file("kernel.trace")
        try Self.write(path, kernel: true)
        let json = try Self.report(["--json", path])
        // Keys sorted, as the report writes them.
        #expect(json.contains(#""activity":{"io":100,"lock":200,"runnable":250,"running":850,"sleep":100,"suspended":0,"syscall":0,"unknown":0}"#))
        #expect(json.contains(#""activity":{"io":0,"lock":200,"runnable":150,"running":650,"sleep":0,"suspended":0,"syscall":0,"unknown":0}"#))
        let report = try JSONDecoder().decode(ReportDocument.self, from: Data(json.utf8))
        #expect(report.tasks.map(\.activity?.running) == [850] && report.regions.map(\.activity?.running) == [650])
        let wait = try #require(report.execution?.schedulerLatency)
        #expect(wait.count == 2)
        let latency = try #require(wait.latency)
        #expect(latency.min == 50 && latency.p50 == 50 && latency.p99 == 100 && latency.max == 100 && latency.total == 150)
        #expect(wait.histogram.map(\.count) == [1, 1])
    }

    @Test func theReportListsTheStacksWhereThreadsWaitedLongest() throws {
        let directory = try TemporaryDirectory("execution-blocking")
        let path = directory.file("kernel.trace")
        try ExecutionTrace.write(path, kernel: true)
        let lines = try Self.report([path]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("blocking stacks (") })
        #expect(lines[start - 1] == "")
        #expect(Array(lines[start...]) == [
            "blocking stacks (where threads waited longest: from leaving the CPU to wait to the wakeup, summed per stack, wait and call)",
            "  wait     why                          total    waits",
            "  lock     futex                        300ns        2",
            "      at 0x1000",
            "      at 0x2000",
            "      at 0x3000",
            "  io       -                            100ns        1",
            "      at 0x4000",
            "  syscall  wait4                        100ns        1",
            "      at 0x4000",
            "  sleep    nanosleep                     90ns        1",
            "      (no user stack recorded)",
            "",
        ])
    }

    @Test func theJSONReportHasTheBlockingStacks() throws {
        let directory = try TemporaryDirectory("execution-blocking-json")
        let path = directory.file("kernel.trace")
        try ExecutionTrace.write(path, kernel: true)
        let json = try Self.report(["--json", path])
        #expect(json.contains(#""blocking":[{"count":2,"process":1,"stack":["0x1000","0x2000","0x3000"],"stackID":1,"#
                              + #""total":300,"wait":"lock","why":"futex"},{"count":1,"process":1,"stack":["0x4000"],"#
                              + #""stackID":2,"total":100,"wait":"io","why":""},"#))
        let report = try JSONDecoder().decode(ReportDocument.self, from: Data(json.utf8))
        let blocking = try #require(report.execution?.blocking)
        #expect(blocking.map { "\($0.wait) \($0.why) \($0.stackID) \($0.count) \($0.total)" } == [
            "lock futex 1 2 300", "io  2 1 100", "syscall wait4 2 1 100", "sleep nanosleep 0 1 90",
        ])
        #expect(blocking.map(\.stack.count) == [3, 1, 1, 0])
    }

    @Test func aTraceWithoutWaitsSaysSoUnderBlockingStacks() throws {
        let directory = try TemporaryDirectory("execution-no-waits")
        let path = directory.file("kernel.trace")
        // Preempted, then off its CPU in S with no wait told (as a real
        // trace has until traced tells waits): no wait of a known kind.
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1, name: "cafe")
        var k = KernelEventEncoding()
        k.switchIn(dt: 0, cpu: 0)
        k.switchOut(dt: 100, state: TC_STATE_RUNNABLE, cpu: 0)
        k.switchIn(dt: 100, cpu: 0)
        k.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 0) // no wait told
        k.wakeup(dt: 100, wakerProcess: 0, wakerTid: 0, cpu: 0)
        try trace.kernelBatch(process: 1, tid: 100, base: 900, k)
        try trace.finish()
        let lines = try Self.report([path]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("blocking stacks (") })
        #expect(Array(lines[(start + 1)...]) == [
            "  none: no wait of a known kind (lock, io, sleep, syscall) ended in the trace", "",
        ])
        #expect(try Self.report(["--json", path]).contains(#""blocking":[]"#))
    }

    @Test func aTraceWithoutKernelEventsSaysSoInOneLineAndNothingElse() throws {
        let directory = try TemporaryDirectory("execution-none")
        let path = directory.file("annotations.trace")
        try Self.write(path, kernel: false)
        let lines = try Self.report([path]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let none = "execution events: none in this trace (traced records them where perf events are permitted; "
            + "see `tracectl status`)"
        #expect(lines.filter { $0 == none }.count == 1)
        // Among the header's lines, before the tasks.
        #expect(Array(lines.prefix(5)) == [
            "4 events from 1 process(es), 1 thread(s), over 1.5µs",
            "  process 1: pid 42 cafe, 1 thread(s), 4 event(s)",
            "dropped: 0 event(s)",
            none,
            "",
        ])
        #expect(!lines.contains { $0.hasPrefix("execution (") || $0.hasPrefix("scheduler latency") || $0.hasPrefix("blocking stacks") })
        let json = try Self.report(["--json", path])
        #expect(!json.contains("\"activity\"") && !json.contains("\"execution\"") && !json.contains("none in this trace"))
        #expect(!json.contains("\"blocking\""))
    }
}
