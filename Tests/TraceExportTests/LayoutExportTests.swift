import Foundation
import Testing
import TestSupport
import TraceExport
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Hand-built traces through both formats, read back by Perfetto's own
/// trace_processor: every task and region is one finished slice, misuse
/// does not break nesting, and names, flows, logs and counters arrive.
struct LayoutExportTests {
    static let names = ["", "makeCappuccino", "steamMilk", "extractCoffee", "mixMilkCoffee", "grindBeans", "orderID",
                        "milkTemperature", "pressure", "outer", "inner", "neverEnded", "order"]

    static func name(_ id: UInt32) -> String { id < names.count ? names[Int(id)] : "name \(id)" }

    /// A cappuccino: a task with regions in two Swift tasks at once, a child
    /// task, a log, counters; then regions ended out of order, one never
    /// ended, and drops.
    static func cappuccino(_ format: any ExportFormat) throws -> TimelineExport {
        let export = TimelineExport(format: format)
        try format.start(monotonic: 1000, realtime: 1_700_000_000_000_000_000)
        try format.process(1, pid: 100, name: "cafe")
        try format.thread(1, index: 1, tid: 101, name: "main")
        try format.thread(1, index: 2, tid: 102, name: "worker")
        try export.taskBegan(process: 1, id: 42, parent: 0, type: 1, time: 1000, thread: 1, swiftTask: 7, stack: 0)
        try export.log(ExportLog(time: 1500, process: 1, thread: 1, task: 42, swiftTask: 7, category: 6, message: "42 \"hot\"\n",
                                 truncated: false, stack: 0))
        try export.regionBegan(process: 1, serial: 100, thread: 1, type: 2, task: 42, swiftTask: 7, time: 2000, stack: 0)
        try export.counter(ExportCounter(time: 2100, process: 1, name: 7, value: .integer(65)))
        try export.regionBegan(process: 1, serial: 200, thread: 2, type: 3, task: 42, swiftTask: 8, time: 2500, stack: 0)
        try export.counter(ExportCounter(time: 2600, process: 1, name: 8, value: .double(9.5)))
        try export.taskBegan(process: 1, id: 43, parent: 42, type: 5, time: 3000, thread: 2, swiftTask: 8, stack: 0)
        try export.taskEnded(process: 1, id: 43, end: 3500)
        try export.regionEnded(serial: 100, end: 4000, endThread: 2, flags: [])
        try export.regionEnded(serial: 200, end: 5000, endThread: 2, flags: [])
        try export.regionBegan(process: 1, serial: 101, thread: 1, type: 4, task: 42, swiftTask: 7, time: 6000, stack: 0)
        try export.regionEnded(serial: 101, end: 7000, endThread: 1, flags: [])
        try export.taskEnded(process: 1, id: 42, end: 9000)
        try export.regionBegan(process: 1, serial: 102, thread: 1, type: 9, task: 0, swiftTask: 0, time: 10000, stack: 0)
        try export.regionBegan(process: 1, serial: 103, thread: 1, type: 10, task: 0, swiftTask: 0, time: 10100, stack: 0)
        try export.regionEnded(serial: 102, end: 10200, endThread: 1, flags: [.misnested])
        try export.dropped(process: 1, thread: 2, time: 10500, count: 5)
        try export.regionEnded(serial: 103, end: 10300, endThread: 1, flags: [])
        try export.regionBegan(process: 1, serial: 201, thread: 2, type: 11, task: 0, swiftTask: 0, time: 11000, stack: 0)
        try export.finish(lastTime: 12000, recordedDrops: [1: 7])
        return export
    }

    @Test func aPerfettoExportReadsBackWithEverySliceFinishedAndNested() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/cappuccino.pftrace"
        let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC)
        defer { fd.close() }
        let export = try Self.cappuccino(PerfettoExporter(output: fd, names: Self.name, stackText: { _, _ in nil }))
        #expect(export.taskSlices == 2 && export.regionSlices == 6)
        let read = try TraceReaders.check(path, queries: [
            "SELECT s.name, t.name AS track, s.ts, s.dur, s.depth FROM slice s JOIN track t ON s.track_id = t.id ORDER BY s.ts",
        ])
        #expect(read.stats.isEmpty, "\(read.stats)")
        #expect(read.unfinished == 0)
        #expect(read.category("task").count == 2)
        #expect(read.category("region").count == 6)
        #expect(read.category("log").count == 1 && read.category("log").zeroDuration == 1)
        #expect(read.totalSlices == 9)
        #expect(read.flows == 1)
        #expect(read.counter("milkTemperature")?.sum == 65)
        #expect(read.counter("pressure")?.sum == 9.5)
        #expect(read.counter("dropped events")?.count == 2 && read.counter("dropped events")?.max == 7)
        #expect(read.threadNames[101] == "main" && read.threadNames[102] == "worker")
        #expect(read.processNames[100] == "cafe")
        let rows = read.rows(0)
        func row(_ name: String) -> [String: Any]? { rows.first { $0["name"] as? String == name } }
        #expect(row("makeCappuccino")?["track"] as? String == "makeCappuccino #42")
        #expect(row("steamMilk")?["depth"] as? Int == 1 && row("steamMilk")?["dur"] as? Int == 2000)
        #expect(row("extractCoffee")?["track"] as? String == "makeCappuccino #42 (2)")
        #expect(row("outer")?["track"] as? String == "misnested regions" && row("outer")?["dur"] as? Int == 200, "\(rows)")
        #expect(row("inner")?["dur"] as? Int == 200)
        #expect(row("neverEnded")?["dur"] as? Int == 1000)
    }

    @Test func aChromeJSONExportReadsBackTheSame() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/cappuccino.json"
        let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC)
        defer { fd.close() }
        _ = try Self.cappuccino(ChromeJSONExporter(output: fd, names: Self.name, stackText: { _, _ in nil }))
        let read = try TraceReaders.check(path, queries: [
            "SELECT s.name, s.dur, s.depth FROM slice s ORDER BY s.ts",
        ])
        #expect(read.json["trace_type"] as? String == "json")
        #expect(read.stats.isEmpty, "\(read.stats)")
        #expect(read.unfinished == 0)
        #expect(read.category("task").count == 2)
        #expect(read.category("region").count == 6)
        #expect(read.category("log").count == 1 && read.category("log").zeroDuration == 1)
        #expect(read.flows == 1)
        #expect(read.counter("milkTemperature value")?.sum == 65)
        #expect(read.counter("pressure value")?.sum == 9.5)
        #expect(read.counter("dropped events value")?.max == 7)
        #expect(read.threadNames[101] == "main")
        #expect(read.processNames[100] == "cafe")
    }

    /// A task ended inside its own region, and, past a hold limit of 4, a
    /// committed region ended out of order: every slice still ends once, on
    /// a track where it nests.
    @Test func regionsOutlivingTheirTaskAndCommittedMisnestingStayNested() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/held.pftrace"
        let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC)
        defer { fd.close() }
        let format = PerfettoExporter(output: fd, names: Self.name, stackText: { _, _ in nil })
        let export = TimelineExport(format: format, holdLimit: 4)
        try format.start(monotonic: 0, realtime: nil)
        try format.process(1, pid: 100, name: "cafe")
        try format.thread(1, index: 1, tid: 101, name: "main")
        // order #1: its region "outer" is still open when the task ends.
        try export.taskBegan(process: 1, id: 1, parent: 0, type: 12, time: 100, thread: 1, swiftTask: 5, stack: 0)
        try export.regionBegan(process: 1, serial: 1, thread: 1, type: 9, task: 1, swiftTask: 5, time: 200, stack: 0)
        try export.taskEnded(process: 1, id: 1, end: 300)
        try export.regionEnded(serial: 1, end: 400, endThread: 1, flags: [])
        // On the thread: outer > mixMilkCoffee > 8 inner regions, past the limit (both
        // begins committed), then outer ends while mixMilkCoffee is open: it is cut short.
        try export.regionBegan(process: 1, serial: 2, thread: 1, type: 9, task: 0, swiftTask: 0, time: 1000, stack: 0)
        try export.regionBegan(process: 1, serial: 3, thread: 1, type: 4, task: 0, swiftTask: 0, time: 1050, stack: 0)
        for i in 0..<8 {
            let time = Int64(1100 + i * 100)
            try export.regionBegan(process: 1, serial: UInt64(10 + i), thread: 1, type: 10, task: 0, swiftTask: 0, time: time, stack: 0)
            try export.regionEnded(serial: UInt64(10 + i), end: time + 50, endThread: 1, flags: [])
        }
        try export.regionEnded(serial: 2, end: 2000, endThread: 1, flags: [.misnested])
        try export.regionEnded(serial: 3, end: 2100, endThread: 1, flags: [])
        try export.finish(lastTime: 3000, recordedDrops: [:])
        #expect(export.layout.forcedCommits > 0)
        let read = try TraceReaders.check(path, queries: [
            "SELECT s.name, t.name AS track, s.dur FROM slice s JOIN track t ON s.track_id = t.id ORDER BY s.ts",
            "SELECT s.name, a.key FROM slice s JOIN args a USING (arg_set_id) WHERE a.key LIKE 'debug.%'",
        ])
        #expect(read.stats.isEmpty, "\(read.stats)")
        #expect(read.unfinished == 0)
        #expect(read.category("task").count == 1 && read.category("region").count == 11)
        let rows = read.rows(0)
        #expect(rows.first { $0["name"] as? String == "outer" }?["track"] as? String == "misnested regions",
                "the region that outlived its task left the task's track: \(rows)")
        #expect(rows.first { $0["name"] as? String == "order" }?["dur"] as? Int == 200)
        let annotations = read.rows(1).map { "\($0["name"] as? String ?? "") \($0["key"] as? String ?? "")" }
        #expect(annotations.contains("mixMilkCoffee debug.cut_short"), "\(annotations)")
        #expect(rows.first { $0["name"] as? String == "mixMilkCoffee" }?["dur"] as? Int == 950, "ended with outer")
    }
}
