import Foundation
import Testing
import TestSupport
import TraceText

/// `tracectl report` and `dump` on trace files a hostile client made,
/// run as the real program: they exit normally with diagnostics, never
/// with a signal.
@Suite(.tags(.hostileInput)) struct HostileTraceFileTests {
    static let traces = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Traces").path

    /// Recorded by traced from a client that wrote random bytes over its
    /// own buffer (counters, drop counters, chunk payloads): garbage event
    /// fields, timestamps across the whole of UInt64, drop counts of 10^13.
    static let scribbled = traces + "/hostile-client-counters.trace"

    /// The first warning line of the scribbled trace, as both commands print
    /// it: what was skipped, where (file, offset) and why.
    static let firstWarning = "warning: events of a batch at byte 7732 of \(scribbled) stop decoding "
        + "(counter name has invalid value 12424619269): kept 0, skipped 266 bytes"

    /// Every event that decodes is timed far from the session's clock
    /// syncs: none is believed, and both commands count them alike.
    static let outsideWarning = "warning: 3328 event(s) of process 8 timed more than 120 s outside the session's clock syncs "
        + "left out of the timeline (scribbled timestamps)"

    @Test func reportOnAScribbledTraceGivesDiagnosticsNotACrash() throws {
        let result = try Processes.run(Processes.executable("tracectl"), ["report", Self.scribbled])
        // Was: SIGILL (status 132 from a shell) on an overflow in the span.
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError == "")
        let lines = result.lines
        // Event times reach both ends of Int64, years from the session:
        // was "3328 events … over 9223372036.9s".
        #expect(lines.first == "0 events from 1 process(es), 0 thread(s), over 0ns")
        #expect(lines.filter { $0.hasPrefix("warning: ") }.count == 908)
        #expect(lines.contains(Self.firstWarning))
        #expect(lines.contains(Self.outsideWarning))
        // Drops past what a counter can mean are still shown, by reason.
        #expect(lines.contains { $0.hasPrefix("dropped: 58111900019640 event(s) (buffer full 10305791395708,") })
    }

    /// One event of a hand-written trace timed 2^62 ns (146 years) after
    /// the one before it, as a client that scribbled its own buffer writes
    /// it: `report` and the export keep the trace's 400 ms, the other events
    /// are all there, and the one is counted, in `dump` too.
    @Test func oneScribbledTimestampLeavesTheDurationOfReportAndExportAlone() throws {
        let directory = try TemporaryDirectory("scribbled-time")
        let path = directory.file("scribbled.trace")
        let session: UInt64 = 1_000_000_000_000, ms: UInt64 = 1_000_000
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1, name: "liar")
        try trace.monotonicSyncs(at: [session, session + 1000 * ms])
        try trace.strings(1, [1: "order", 2: "brew", 3: "net", 4: "queue"])
        try trace.thread(1, index: 1, tid: 100, name: "main")
        try trace.thread(1, index: 2, tid: 101, name: "worker")
        var first = EventEncoding()
        first.taskBegin(dt: 0, idDelta: 1, type: 1)
        first.regionBegin(dt: 1000, type: 2)
        first.regionEnd(dt: 500_000, back: 0)
        first.taskEnd(dt: 1000, idDelta: 0)
        first.log(dt: 1 << 62, category: 3, message: "scribbled")
        try trace.batch(process: 1, thread: 1, base: session + 100 * ms, first)
        var second = EventEncoding()
        second.counter(dt: 0, name: 4, value: 1)
        second.counter(dt: 300 * ms, name: 4, value: 2)
        try trace.batch(process: 1, thread: 2, base: session + 200 * ms, second)
        try trace.finish()
        let warning = "warning: 1 event(s) of process 1 timed more than 120 s outside the session's clock syncs "
            + "left out of the timeline (scribbled timestamps)"

        let tracectl = Processes.executable("tracectl")
        let report = try Processes.run(tracectl, ["report", path])
        #expect(report.status == 0, "\(report.standardError)")
        #expect(report.lines.first == "6 events from 1 process(es), 2 thread(s), over 400ms", "\(report.standardOutput)")
        #expect(report.lines.contains("  order: 1 task(s)") && report.lines.contains("  brew: 1 region(s)"), "\(report.standardOutput)")
        #expect(report.lines.filter { $0.hasPrefix("warning: ") } == [warning])
        let json = try Processes.run(tracectl, ["report", "--json", path])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let figures = try #require(document["trace"] as? [String: Any])
        #expect((figures["duration"] as? NSNumber)?.int64Value == 400_000_000)
        #expect((figures["start"] as? NSNumber)?.uint64Value == session + 100 * ms)
        let diagnostics = document["diagnostics"] as? [[String: Any]] ?? []
        #expect(diagnostics.compactMap { $0["problem"] as? String } == [String(warning.dropFirst("warning: ".count))])

        // The export's timeline as trace_processor reads it: 400 ms, every
        // slice but the log, which is not there.
        let exported = directory.file("scribbled.pftrace")
        let export = try Processes.run(tracectl, ["export", "--format", "perfetto", path, "-o", exported])
        #expect(export.status == 0, "\(export.standardError)")
        #expect(export.standardError.contains(warning.dropFirst("warning: ".count)), "\(export.standardError)")
        let read = try TraceReaders.check(exported, queries: ["select end_ts - start_ts as span from trace_bounds"])
        #expect(read.stats.isEmpty, "\(read.stats)")
        #expect((read.rows(0).first?["span"] as? NSNumber)?.int64Value == 400_000_000, "\(read.rows(0))")
        #expect(read.category("task").count == 1 && read.category("region").count == 1 && read.category("log").count == 0)
        #expect(read.counter("queue").map(\.count) == 2)

        // Dump shows the file as it is, the event marked, and the same count.
        let dump = try Processes.run(tracectl, ["dump", path])
        #expect(dump.status == 0, "\(dump.standardError)")
        let marked = dump.lines.filter { $0.hasSuffix(TraceDump.outsideMark) }
        #expect(marked.count == 1 && marked.first?.contains("log [net] scribbled") == true, "\(dump.standardOutput)")
        #expect(dump.lines.filter { $0.hasPrefix("warning: ") } == [warning])
        #expect(dump.lines.contains("events: 7 in 2 batches"))
    }

    @Test func dumpOfAScribbledTraceGivesDiagnosticsNotACrash() throws {
        let result = try Processes.run(Processes.executable("tracectl"), ["dump", Self.scribbled])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError == "")
        let lines = result.lines
        #expect(lines.filter { $0.hasPrefix("warning: ") }.count == 908)
        #expect(lines.contains(Self.firstWarning))
        #expect(lines.contains(Self.outsideWarning))
        // Dump shows what the file holds, each event marked.
        #expect(lines.contains("events: 3328 in 4851 batches"))
        #expect(lines.filter { $0.hasSuffix(TraceDump.outsideMark) }.count == 3328)
        #expect(lines.filter { $0.hasPrefix("file: ") } == ["file: format 1.0, written by traced 0.1.0, session shm2 file 0"])
    }
}
