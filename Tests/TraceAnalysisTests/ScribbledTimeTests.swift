import CTraceABI
import Testing
import TestSupport
import TraceAnalysis
import TraceFormat

/// Timestamps are untrusted input: a client writes its events' deltas
/// into its own buffer. An event timed outside the session's window
/// (SessionWindow: its clock syncs, widened by 120 s) is counted and left
/// out of the walk, and a batch whose base is outside neither starts the
/// trace nor reorders it (docs/analysis.md, "Timestamps outside the session").
@Suite struct ScribbledTimeTests {
    /// The session: clock syncs at 1000 s and 1001 s.
    static let session: Int64 = 1_000_000_000_000
    static let ms: Int64 = 1_000_000
    static let scribble: UInt64 = 1 << 62

    /// One process, five batches: a task and its region, then a log 2^62 ns
    /// later (thread 1); two counters (thread 2); a counter in a segment
    /// whose base is 500 s before the session, as a quiet thread's is when
    /// its last event before was written for an earlier session (thread 3,
    /// after 2 losses); a counter of a batch whose base is 2^62 (thread 4,
    /// after 3 losses); a kernel batch of thread 1 whose second event is
    /// 2^62 ns after its first.
    static func write(_ path: String, syncs: Bool = true) throws {
        let at = { (offset: Int64) in UInt64(Self.session + offset) }
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1)
        if syncs { try trace.monotonicSyncs(at: [at(0), at(1000 * ms)]) }
        try trace.strings(1, [1: "order", 2: "brew", 3: "net", 4: "queue", 5: "depth"])
        try trace.thread(1, index: 1, tid: 100, name: "main")
        var first = EventEncoding()
        first.taskBegin(dt: 0, idDelta: 1, type: 1)
        first.regionBegin(dt: 1000, type: 2)
        first.regionEnd(dt: 500_000, back: 0)
        first.taskEnd(dt: 1000, idDelta: 0)
        first.log(dt: scribble, category: 3, message: "scribbled")
        try trace.batch(process: 1, thread: 1, base: at(100 * ms), first)
        var second = EventEncoding()
        second.counter(dt: 0, name: 4, value: 1)
        second.counter(dt: UInt64(300 * ms), name: 4, value: 2)
        try trace.batch(process: 1, thread: 2, base: at(200 * ms), second)
        var quiet = EventEncoding()
        let earlier: UInt64 = 500_000_000_000
        quiet.counter(dt: at(300 * ms) - earlier, name: 5, value: 7)
        try trace.batch(process: 1, thread: 3, base: earlier, droppedBefore: 2, quiet)
        var scribbledBase = EventEncoding()
        scribbledBase.counter(dt: 0, name: 5, value: 9)
        try trace.batch(process: 1, thread: 4, base: scribble, droppedBefore: 3, scribbledBase)
        var kernel = KernelEventEncoding()
        kernel.switchOut(dt: 0, state: TC_STATE_RUNNABLE, cpu: 0)
        kernel.switchIn(dt: scribble, cpu: 1)
        try trace.kernelBatch(process: 1, tid: 100, base: at(150 * ms), kernel)
        try trace.finish()
    }

    @Test func eventsTimedOutsideTheSessionAreCountedAndLeftOutOfTheWalk() throws {
        let directory = try TemporaryDirectory("scribbled-time")
        let path = directory.file("scribbled.trace")
        try Self.write(path)
        let walk = try TraceWalk(paths: [path])
        var log = CallLog(catalog: walk.catalog)
        walk.run(&log)
        let s = Self.session, ms = Self.ms
        #expect(log.lines == [
            "taskBegan p1 #1 order parent=0 t1 \(s + 100 * ms)--",
            "regionBegan p1 t1 brew #1 parent=0 depth=0 task=0 \(s + 100 * ms + 1000)--",
            "regionEnded p1 t1 brew #1 parent=0 depth=0 task=0 \(s + 100 * ms + 1000)-\(s + 100 * ms + 501_000) end-t1",
            "taskEnded p1 #1 order parent=0 t1 \(s + 100 * ms)-\(s + 100 * ms + 502_000)",
            "switchOut p1 t1 \(s + 150 * ms) runnable none  cpu0 stack=0",
            "counter p1 t2 \(s + 200 * ms) queue=1.0",
            // The quiet thread's loss and event, at its event's time.
            "dropped p1 t3 \(s + 300 * ms) 2",
            "counter p1 t3 \(s + 300 * ms) depth=7.0",
            "counter p1 t2 \(s + 500 * ms) queue=2.0",
            "finish \(s + 500 * ms)",
        ])
        // The log, thread 4's counter and the switch-in: one count.
        #expect(walk.catalog.diagnostics.map(\.problem) == [.outsideSession(process: 1, count: 3)])
        #expect(walk.catalog.diagnostics.map(\.description) == [
            "3 event(s) of process 1 timed more than 120 s outside the session's clock syncs left out of the timeline "
                + "(scribbled timestamps)",
        ])
        // The earliest base (500 s) is not the start, nor is 2^62 the end.
        #expect(walk.startTime == s + 100 * ms)
        var summary = TraceSummary(catalog: walk.catalog)
        walk.run(&summary)
        #expect(summary.first == s + 100 * ms && summary.last == s + 500 * ms)
        #expect(summary.events == 8)
        // A second walk says nothing twice.
        #expect(walk.catalog.diagnostics.count == 1)
    }

    /// Without clock syncs nothing tells when the session was: every time
    /// is believed, as before the rule.
    @Test func aTraceWithoutClockSyncsBelievesEveryTime() throws {
        let directory = try TemporaryDirectory("scribbled-time")
        let path = directory.file("unsynced.trace")
        try Self.write(path, syncs: false)
        let walk = try TraceWalk(paths: [path])
        #expect(walk.catalog.window == nil)
        var summary = TraceSummary(catalog: walk.catalog)
        walk.run(&summary)
        #expect(walk.catalog.diagnostics.isEmpty, "\(walk.catalog.diagnostics)")
        #expect(summary.events == 11)
        #expect(walk.startTime == 500_000_000_000)
    }

    @Test func theWindowIsTheSyncsWidenedByTheMarginAndSaturates() throws {
        let sync = { (time: UInt64) in
            ClockSync(clockKind: UInt32(TC_CLOCK_TSC), ticks: 7, monotonicNanoseconds: time, realtimeNanoseconds: 0)
        }
        #expect(SessionWindow(syncs: []) == nil)
        let window = try #require(SessionWindow(syncs: [sync(5_000_000_000_000), sync(4_000_000_000_000)]))
        #expect(window.lower == 4_000_000_000_000 - SessionWindow.margin)
        #expect(window.upper == 5_000_000_000_000 + SessionWindow.margin)
        #expect(window.contains(window.upper) && window.contains(window.lower))
        #expect(!window.contains(window.upper + 1) && !window.contains(window.lower - 1))
        // Syncs past Int64 (a damaged file) give a window at its bounds, not a trap.
        let far = SessionWindow(syncs: [sync(.max), sync(0)])
        #expect(far?.lower == -SessionWindow.margin && far?.upper == .max)
    }
}
