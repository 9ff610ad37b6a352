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
/// profile (TestSupport's LossyTrace).
@Suite struct KernelLossReportTests {
    static func tracectl(_ arguments: [String]) throws -> String {
        let result = try Processes.run(Processes.executable("tracectl"), arguments)
        #expect(result.status == 0, "tracectl \(arguments): \(result.standardError)")
        return result.standardOutput
    }

    static let cutLine = "… (cut: the kernel records at most 127 frames)"

    @Test func theReportCountsKernelRingLossesAndSaysWhichStacksWereCut() throws {
        let directory = try TemporaryDirectory("kernel-loss-report")
        let path = directory.file("lossy.trace")
        try LossyTrace.write(path)
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
            "      … 5 more frame(s)",
            "      " + Self.cutLine,
            "",
        ])
    }

    @Test func theJSONReportHasTheKernelCollectorsDropsAndTheCutLine() throws {
        let directory = try TemporaryDirectory("kernel-loss-json")
        let path = directory.file("lossy.trace")
        try LossyTrace.write(path)
        let json = try Self.tracectl(["report", "--json", path])
        let report = try JSONDecoder().decode(ReportDocument.self, from: Data(json.utf8))
        #expect(report.droppedEvents == 1237)
        #expect(report.drops.map { "\($0.process) \($0.pid) \($0.name): \($0.reason) \($0.count)" } == [
            "0 0 kernel collector: kernel ring full 1234", "1 42 cafe: buffer full 3",
        ])
        let blocking = try #require(report.execution?.blocking.first)
        #expect(blocking.stack == LossyTrace.frames + [Self.cutLine])
    }

    @Test func tasksDumpAndProfilesMarkTheCutStack() throws {
        let directory = try TemporaryDirectory("kernel-loss-outputs")
        let path = directory.file("lossy.trace")
        try LossyTrace.write(path)
        // tasks: under the wait, its innermost frames, then the cut.
        let tasks = try Self.tracectl(["tasks", path, "--type", "order", "--slowest", "1"])
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let wait = try #require(tasks.firstIndex { $0.contains("lock futex 200ns") }, "\(tasks)")
        #expect(Array(tasks[(wait + 1)...].prefix(6)) == [
            "at 0x1000", "at 0x2000", "at 0x3000", "at 0x4000", "… 6 more frame(s)", Self.cutLine,
        ])
        // dump: the stack under its first use, and the collector's drops.
        let dump = try Self.tracectl(["dump", path]).split(separator: "\n").map(String.init)
        let first = try #require(dump.firstIndex { $0.hasSuffix("at 0xa000") }, "\(dump)")
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
        #expect(frames == LossyTrace.frames + ["[cut]"], "\(traces.standardOutput)")
    }
}
