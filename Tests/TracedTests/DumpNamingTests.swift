import CTraceABI
import Foundation
import Testing
import TestSupport
import TraceFormat
import TraceSystem

/// `tracectl dump` names every id that a string record of its files
/// defines, wherever in the files the record comes, as `report` does.
@Suite struct DumpNamingTests {
    /// Writes a file whose events name strings 1 and 2 in its first frame,
    /// string 1 only in a later frame, and string 2 not at all (another
    /// file defines it): both are defined after their first use.
    static func writeLateStrings(first: String, second: String) throws {
        func file(_ path: String, _ body: (TraceFileWriter) throws -> Void) throws {
            let descriptor = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC)
            defer { descriptor.close() }
            let writer = TraceFileWriter(
                descriptor: descriptor,
                header: FileHeader(createdRealtimeNanoseconds: 1, producer: "test", session: "late", fileIndex: 0))
            try writer.append { w in
                ProcessRecord(process: 1, pid: 42, uid: 0, name: "late", clockKind: UInt32(TC_CLOCK_MONOTONIC_NS),
                              nominalTicksPerSecond: 0).encode(into: &w)
            }
            try body(writer)
            try writer.finish()
        }
        try file(first) { writer in
            var events = EventEncoding()
            events.counter(dt: 1, name: 1, value: 5)
            events.regionBegin(dt: 1, type: 2)
            events.counter(dt: 1, name: 1, value: 6)
            let batch = BatchHeader(process: 1, thread: 1, chunkSequence: 0, segmentOffset: 0, baseTicks: 1000,
                                    regionSequence: 0, droppedBefore: 0)
            try writer.append { w in events.bytes.withUnsafeBytes { batch.encode(events: $0, into: &w) } }
            try writer.flushFrame()
            try writer.append { w in MetadataRecord.string(StringRecord(id: 1, value: "queue depth")).encode(process: 1, into: &w) }
        }
        try file(second) { writer in
            try writer.append { w in MetadataRecord.string(StringRecord(id: 2, value: "brew")).encode(process: 1, into: &w) }
        }
    }

    @Test func dumpNamesStringsRecordedAfterTheirFirstUse() throws {
        let directory = try TemporaryDirectory("late-strings")
        let first = directory.file("late-0.trace"), second = directory.file("late-1.trace")
        try Self.writeLateStrings(first: first, second: second)
        let result = try Processes.run(Processes.executable("tracectl"), ["dump", first, second])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.lines == [
            "1001 p1 t1 counter queue depth=5",
            "1002 p1 t1 region-begin brew #0 task=0",
            "1003 p1 t1 counter queue depth=6",
            "file: format 1.0, written by test, session late file 0",
            "file: format 1.0, written by test, session late file 0",
            "process 1: pid 42 late, 0 threads, dropped 0",
            "events: 3 in 1 batches",
        ])
        // report, which holds the whole trace, names them the same.
        let report = try Processes.run(Processes.executable("tracectl"), ["report", first, second])
        #expect(report.status == 0, "\(report.standardError)")
        #expect(report.lines.contains { $0.hasPrefix("  queue depth ") && $0.hasSuffix("       2          5          6          6") })
    }
}
