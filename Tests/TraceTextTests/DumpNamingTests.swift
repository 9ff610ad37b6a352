import Foundation
import Testing
import TestSupport
import TraceFormat
import TraceText

/// `tracectl dump` names every id that a string record of its files
/// defines, wherever in the files the record comes, as `report` does.
@Suite struct DumpNamingTests {
    /// Writes a file whose events name strings 1 and 2 in its first frame,
    /// string 1 only in a later frame, and string 2 not at all (another
    /// file defines it): both are defined after their first use.
    static func writeLateStrings(first: String, second: String) throws {
        let one = try HandWrittenTrace(path: first, session: "late")
        try one.process(1, name: "late")
        var events = EventEncoding()
        events.counter(dt: 1, name: 1, value: 5)
        events.regionBegin(dt: 1, type: 2)
        events.counter(dt: 1, name: 1, value: 6)
        try one.batch(process: 1, thread: 1, base: 1000, events)
        try one.flushFrame()
        try one.strings(1, [1: "queue depth"])
        try one.finish()
        let two = try HandWrittenTrace(path: second, session: "late")
        try two.process(1, name: "late")
        try two.strings(1, [2: "brew"])
        try two.finish()
    }

    @Test func dumpNamesStringsRecordedAfterTheirFirstUse() throws {
        let directory = try TemporaryDirectory("late-strings")
        let first = directory.file("late-0.trace"), second = directory.file("late-1.trace")
        try Self.writeLateStrings(first: first, second: second)
        var lines: [String] = []
        let dump = TraceDump(content: .events) { lines += $0.split(separator: "\n").map(String.init) }
        for path in [first, second] { try dump.collectNames(path: path) }
        for path in [first, second] { try dump.dump(path: path) }
        dump.finish()
        #expect(!dump.sawFatalProblem)
        #expect(lines == [
            "1001 p1 t1 counter queue depth=5",
            "1002 p1 t1 region-begin brew #0 task=0",
            "1003 p1 t1 counter queue depth=6",
            "file: format \(FormatVersion.major).\(FormatVersion.minor), written by test, session late file 0",
            "file: format \(FormatVersion.major).\(FormatVersion.minor), written by test, session late file 0",
            "process 1: pid 42 late, 0 threads, dropped 0",
            "events: 3 in 1 batches",
        ])
        // report, which holds the whole trace, names them the same.
        let report = try Processes.run(Processes.executable("tracectl"), ["report", first, second])
        #expect(report.status == 0, "\(report.standardError)")
        #expect(report.lines.contains { $0.hasPrefix("  queue depth ") && $0.hasSuffix("       2          5          6          6") })
    }
}
