import CTraceABI
import Foundation
import Testing
import TestSupport
import TraceFormat
import TraceText

/// What the kernel collector could not record reaches every output of a
/// trace: records its rings had no room for as the drop reason "kernel ring
/// full" of the kernel collector (process 0), and a stack cut at the
/// kernel's bound as a line after its frames, or a "[cut]" frame in a
/// profile.
@Suite struct KernelLossReportTests {
    /// Process 1 (pid 42, "cafe"), thread tid 100 running task "order"
    /// (1000-2500); at 1100 it leaves its CPU for a lock in futex at a cut
    /// stack of 7 frames (0x1000 ... 0x7000), woken at 1300, back at 1350.
    /// The drops records: 3 buffer-full drops of process 1; the collector's
    /// losses, 1000 and then (cumulative) 1234.
    static func write(_ path: String) throws {
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1, name: "cafe")
        try trace.strings(1, [1: "order", 0x8000_0001: "futex"])
        try trace.thread(1, index: 1, tid: 100, name: "main")
        var a = EventEncoding()
        a.taskBegin(dt: 0, idDelta: 1, type: 1) // 1000
        a.taskEnd(dt: 1500, idDelta: 0) // 2500
        try trace.batch(process: 1, thread: 1, base: 1000, a)
        try trace.metadata(1, .stack(StackRecord(id: 0x8000_0001, frames: (1...7).map { UInt64($0) << 12 }, cut: true)))
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

    static func tracectl(_ arguments: [String]) throws -> String {
        let result = try Processes.run(Processes.executable("tracectl"), arguments)
        #expect(result.status == 0, "tracectl \(arguments): \(result.standardError)")
        return result.standardOutput
    }

    static let cutLine = "… (cut: the kernel records at most 127 frames)"

    @Test func theReportCountsKernelRingLossesAndSaysWhichStacksWereCut() throws {
        let directory = try TemporaryDirectory("kernel-loss-report")
        let path = directory.file("lossy.trace")
        try Self.write(path)
        let lines = try Self.tracectl(["report", path]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(lines.prefix(5)) == [
            "6 events from 1 process(es), 1 thread(s), over 1.6µs",
            "  process 1: pid 42 cafe, 1 thread(s), 6 event(s)",
            "dropped: 1237 event(s) (buffer full 3, kernel ring full 1234)",
            "  kernel collector (records of any process): kernel ring full 1234",
            "  pid 42 cafe: buffer full 3",
        ])
        let start = try #require(lines.firstIndex { $0.hasPrefix("blocking stacks (") })
        #expect(Array(lines[(start + 1)...]) == [
            "  wait     why                          total    waits",
            "  lock     futex                        200ns        1",
            "      at 0x1000",
            "      at 0x2000",
            "      at 0x3000",
            "      at 0x4000",
            "      at 0x5000",
            "      … 2 more frame(s)",
            "      " + Self.cutLine,
            "",
        ])
    }

    @Test func theJSONReportHasTheKernelCollectorsDropsAndTheCutLine() throws {
        let directory = try TemporaryDirectory("kernel-loss-json")
        let path = directory.file("lossy.trace")
        try Self.write(path)
        let json = try Self.tracectl(["report", "--json", path])
        let report = try JSONDecoder().decode(ReportDocument.self, from: Data(json.utf8))
        #expect(report.droppedEvents == 1237)
        #expect(report.drops.map { "\($0.process) \($0.pid) \($0.name): \($0.reason) \($0.count)" } == [
            "0 0 kernel collector: kernel ring full 1234", "1 42 cafe: buffer full 3",
        ])
        let blocking = try #require(report.execution?.blocking.first)
        #expect(blocking.stack == (1...7).map { "0x\(String($0 << 12, radix: 16))" } + [Self.cutLine])
    }

    @Test func tasksDumpAndProfilesMarkTheCutStack() throws {
        let directory = try TemporaryDirectory("kernel-loss-outputs")
        let path = directory.file("lossy.trace")
        try Self.write(path)
        // tasks: under the wait, its innermost frames, then the cut.
        let tasks = try Self.tracectl(["tasks", path, "--type", "order", "--slowest", "1"])
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let wait = try #require(tasks.firstIndex { $0.contains("lock futex 200ns") }, "\(tasks)")
        #expect(Array(tasks[(wait + 1)...].prefix(6)) == [
            "at 0x1000", "at 0x2000", "at 0x3000", "at 0x4000", "… 3 more frame(s)", Self.cutLine,
        ])
        // dump: the stack under its first use, and the collector's drops.
        let dump = try Self.tracectl(["dump", path]).split(separator: "\n").map(String.init)
        let first = try #require(dump.firstIndex { $0.hasSuffix("at 0x7000") }, "\(dump)")
        #expect(dump[first + 1] == "      " + Self.cutLine)
        #expect(dump.contains("kernel collector (records of any process): dropped 1234 (kernel ring full 1234)"))
        // A block profile's stack ends in "[cut]", its root.
        let profile = directory.file("block.pb.gz")
        _ = try Self.tracectl(["profile", path, "--kind", "block", "-o", profile])
        let go = try #require(["/usr/bin/go", "/usr/lib/go/bin/go"].first { FileManager.default.isExecutableFile(atPath: $0) },
                              "go tool pprof is needed (Debian's golang-go)")
        let traces = try Processes.run(go, ["tool", "pprof", "-traces", profile], environment: ["HOME": directory.path])
        #expect(traces.status == 0, "\(traces.standardError)")
        // A stack's lines: its value before the first frame only.
        let frames = traces.standardOutput.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
            .filter { $0.hasPrefix("0x") || $0 == "[cut]" }
        #expect(frames == (1...7).map { "0x\(String($0 << 12, radix: 16))" } + ["[cut]"], "\(traces.standardOutput)")
    }
}
