import Testing
import TestSupport
import TraceAnalysis
import TraceFormat

/// The report's figures as the summary gathers them in the walk: exact
/// counts, extremes and totals, percentiles within the distribution's
/// precision, and saturation instead of a trap at the ends of Int64.
@Suite(.tags(.hostileInput)) struct SummaryTests {
    @Test func latenciesOfAKnownWorkloadGiveExactCountsAndPrecisePercentiles() throws {
        // 1000 tasks of type "order", task i lasting i µs, each with a
        // "brew" region of half its time; one task never ends.
        let directory = try TemporaryDirectory("summary")
        let path = directory.file("latencies.trace")
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1)
        try trace.strings(1, SpanMatchingTests.names)
        var e = EventEncoding()
        var lastTask: Int64 = 0
        for i in 1...1000 {
            e.taskBegin(dt: 1000, idDelta: Int64(i) - lastTask, type: 1)
            lastTask = Int64(i)
            e.context(swiftDelta: 0, taskDelta: 1)
            e.regionBegin(dt: 0, type: 2)
            e.regionEnd(dt: UInt64(i) * 500, back: 0)
            e.context(swiftDelta: 0, taskDelta: -1)
            e.taskEnd(dt: UInt64(i) * 500, idDelta: 0)
        }
        e.taskBegin(dt: 1, idDelta: 1, type: 1)
        try trace.batch(process: 1, thread: 1, base: 1_000_000, e)
        try trace.finish()
        let walk = try TraceWalk(paths: [path])
        var summary = TraceSummary(catalog: walk.catalog)
        walk.run(&summary)
        let order = try #require(walk.catalog.lookup("order")), brew = try #require(walk.catalog.lookup("brew"))
        let tasks = try #require(summary.tasks[order])
        #expect(tasks.distribution.count == 1000)
        #expect(tasks.unfinished == 1)
        #expect(tasks.distribution.minimum == 1000 && tasks.distribution.maximum == 1_000_000)
        #expect(tasks.distribution.total == 500_500_000)
        // The order statistic, within 3 significant digits above it.
        for (percentile, exact) in [(50.0, 500_000), (90, 900_000), (99, 990_000)] as [(Double, Int64)] {
            let value = tasks.distribution.percentile(percentile)
            #expect(value >= exact && value <= exact + exact / 1000, "p\(percentile) \(value), exact \(exact)")
        }
        #expect(tasks.slowest.map(\.id) == Array((991...1000).reversed()))
        let regions = try #require(summary.regions[brew])
        #expect(regions.distribution.count == 1000)
        #expect(regions.distribution.total == 250_250_000)
        // Begins and ends of 1000 tasks and regions, and the unfinished task.
        #expect(summary.events == 4 * 1000 + 1)
    }

    @Test func aSummaryOverTimesAtBothEndsOfInt64SaturatesInsteadOfTrapping() {
        let walk = TraceWalk(sources: [])
        var summary = TraceSummary(catalog: walk.catalog)
        let order = TraceName(index: 1), brew = TraceName(index: 2)
        func visit(_ kind: TraceEvent.Kind) {
            summary.visit(TraceEvent(process: 1, thread: 1, time: .max, swiftTask: 0, kind: kind))
        }
        visit(.taskEnd(TaskSpan(process: 1, id: 1, parent: 0, type: order, begin: .min, end: .max, thread: 1,
                                swiftTask: 0, stack: 0)))
        func region(_ begin: Int64, _ end: Int64, serial: UInt64) -> RegionSpan {
            RegionSpan(process: 1, type: brew, task: 0, serial: serial, parent: 0, depth: 0, beginThread: 1, swiftTask: 0,
                       sequence: serial, begin: begin, end: end, endThread: 1, stack: 0, misuse: [])
        }
        visit(.regionEnd(region(1, .max - 1, serial: 1)))
        visit(.regionEnd(region(0, .max, serial: 2)))
        let task = summary.tasks[order]?.distribution
        #expect(task?.count == 1)
        #expect(task?.maximum == Int64.max && task?.total == Int64.max)
        #expect(task?.percentile(50) == Int64.max)
        // Durations of Int64.max - 2 and Int64.max: their total sticks.
        let regions = summary.regions[brew]?.distribution
        #expect(regions?.count == 2)
        #expect(regions?.minimum == Int64.max - 2)
        #expect(regions?.total == Int64.max)
    }
}
