import Foundation
import Testing
import TestSupport

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

    @Test func reportOnAScribbledTraceGivesDiagnosticsNotACrash() throws {
        let result = try Processes.run(Processes.executable("tracectl"), ["report", Self.scribbled])
        // Was: SIGILL (status 132 from a shell) on an overflow in the span.
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError == "")
        let lines = result.lines
        // Event times reach both ends of Int64: the span sticks at its bound.
        #expect(lines.first == "3328 events from 1 process(es), 0 thread(s), over 9223372036.9s")
        #expect(lines.filter { $0.hasPrefix("warning: ") }.count == 907)
        #expect(lines.contains(Self.firstWarning))
        // Drops past what a counter can mean are still shown, by reason.
        #expect(lines.contains { $0.hasPrefix("dropped: 58111900019640 event(s) (buffer full 10305791395708,") })
    }

    @Test func dumpOfAScribbledTraceGivesDiagnosticsNotACrash() throws {
        let result = try Processes.run(Processes.executable("tracectl"), ["dump", Self.scribbled])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError == "")
        let lines = result.lines
        #expect(lines.filter { $0.hasPrefix("warning: ") }.count == 907)
        #expect(lines.contains(Self.firstWarning))
        #expect(lines.contains("events: 3328 in 4851 batches"))
        #expect(lines.filter { $0.hasPrefix("file: ") } == ["file: format 1.0, written by traced 0.1.0, session shm2 file 0"])
    }
}
