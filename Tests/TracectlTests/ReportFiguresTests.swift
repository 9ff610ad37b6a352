import Foundation
import TestSupport
import Testing
import TraceAnalysis
import TraceText

/// The report's figures for a workload of known latencies: every task's
/// creation and end, and its "work" region, bracketed by clock_gettime in
/// the traced process itself, so each traced duration lies in a known
/// interval. Percentiles must be within the stated precision (3
/// significant digits) of the order statistic those intervals allow;
/// counts, minimum, maximum and histogram buckets exact.
@Suite struct ReportFiguresTests {
    /// A traced duration's interval from its brackets, widened by the
    /// clock conversion's error (docs/format.md: about ±50 ns).
    struct Interval {
        var low: Int64
        var high: Int64
        init(_ b: [Int64]) {
            low = b[2] - b[1] - 100
            high = b[3] - b[0] + 100
        }
    }

    struct Workload {
        var tasks: [UInt64: Interval] = [:]
        var work: [UInt64: Interval] = [:]
        var path: String
    }

    static func record(_ directory: TemporaryDirectory, tasks: Int) throws -> Workload {
        let path = directory.file("latencies.trace")
        let result = try Processes.fixture("latencies", ["out": path, "tasks": "\(tasks)"])
        #expect(result.status == 0, "\(result.standardError)")
        var workload = Workload(path: path)
        for (key, value) in result.values {
            let numbers = value.split(separator: ",").compactMap { Int64($0) }
            guard numbers.count == 4 else { continue }
            if key.hasPrefix("task."), let id = UInt64(key.dropFirst(5)) { workload.tasks[id] = Interval(numbers) }
            if key.hasPrefix("work."), let id = UInt64(key.dropFirst(5)) { workload.work[id] = Interval(numbers) }
        }
        #expect(workload.tasks.count == tasks && workload.work.count == tasks)
        return workload
    }

    /// Checks one row against intervals: exact count, min, max, total and
    /// buckets within the intervals; percentiles within 0.1% above the
    /// order statistic's interval.
    static func check(_ row: ReportDocument.TypeRow, _ intervals: [Interval], _ label: String) {
        #expect(row.count == intervals.count, "\(label) count")
        guard let latency = row.latency else {
            Issue.record("\(label): no latency")
            return
        }
        let lows = intervals.map(\.low).sorted(), highs = intervals.map(\.high).sorted()
        func within(_ value: Int64, _ rank: Int, precision: Bool, _ what: String) {
            let low = lows[rank - 1], high = highs[rank - 1]
            let slack = precision ? high / 1000 + 1 : 0
            #expect(value >= low && value <= high + slack, "\(label) \(what) \(value) outside [\(low), \(high + slack)]")
        }
        within(latency.min, 1, precision: false, "min")
        within(latency.max, intervals.count, precision: false, "max")
        for (p, value) in [(50.0, latency.p50), (90.0, latency.p90), (99.0, latency.p99)] {
            let rank = max(1, Int((p / 100 * Double(intervals.count)).rounded(.up)))
            within(value, rank, precision: true, "p\(Int(p))")
        }
        #expect(latency.total >= lows.reduce(0, +) && latency.total <= highs.reduce(0, +), "\(label) total")
        // Buckets: a duration whose interval lies in one bucket is counted
        // there; the rest may fall in either neighbour.
        var certain: [Int64: Int] = [:], uncertain = 0
        for interval in intervals {
            let a = LogBuckets.index(of: interval.low), b = LogBuckets.index(of: interval.high)
            if a == b { certain[LogBuckets.bucket(a).low, default: 0] += 1 } else { uncertain += 1 }
        }
        let reported = Dictionary(uniqueKeysWithValues: row.histogram.map { ($0.low, $0.count) })
        #expect(row.histogram.map(\.count).reduce(0, +) == intervals.count, "\(label) bucket total")
        for (low, count) in certain {
            let got = reported[low] ?? 0
            #expect(got >= count && got <= count + uncertain, "\(label) bucket \(low): \(got), expected \(count)+\(uncertain)")
        }
    }

    @Test func reportFiguresMatchTheKnownDistributionWithinPrecision() throws {
        let directory = try TemporaryDirectory()
        let workload = try Self.record(directory, tasks: 200)
        let result = try Processes.run(Processes.executable("tracectl"), ["report", "--json", workload.path])
        #expect(result.status == 0, "\(result.standardError)")
        let report = try JSONDecoder().decode(ReportDocument.self, from: Data(result.standardOutput.utf8))
        #expect(report.trace.events == 200 * 9)
        #expect(report.precision.significantDigits == 3)
        let request = try #require(report.tasks.first { $0.type == "request" })
        Self.check(request, Array(workload.tasks.values), "request")
        #expect(request.unfinished == 0)
        let work = try #require(report.regions.first { $0.type == "work" })
        Self.check(work, Array(workload.work.values), "work")
        #expect(report.regions.map(\.type).sorted() == ["handle", "reply", "work"])
        #expect(report.regions.allSatisfy { $0.count == 200 })
        // The slowest listed are the slowest: none of the others' intervals
        // lies wholly above theirs.
        let slowest = try #require(request.slowest)
        #expect(slowest.count == 10)
        let listed = Set(slowest.map(\.id))
        let floor = slowest.map(\.latency).min() ?? 0
        #expect(workload.tasks.filter { !listed.contains($0.key) }.allSatisfy { $0.value.low <= floor + 1 })
        #expect(report.logs.map(\.category) == ["step"] && report.logs[0].count == 200)
        #expect(report.misuse.isEmpty && report.orphanEnds == 0 && report.droppedEvents == 0)
        #expect(report.diagnostics.isEmpty)

        // The terminal report draws the same buckets.
        let text = try Processes.run(Processes.executable("tracectl"), ["report", workload.path])
        for bucket in request.histogram {
            let label = "\(ReportPrinter.duration(bucket.low))–\(ReportPrinter.duration(bucket.high))"
            #expect(text.lines.contains { $0.contains(label) && $0.hasSuffix(" \(bucket.count)") }, "no row for \(label)")
        }
    }

    @Test func aTaskDrilldownNestsRegionsPlacesLogsAndAccountsForTheTime() throws {
        let directory = try TemporaryDirectory()
        let workload = try Self.record(directory, tasks: 40)
        let result = try Processes.run(Processes.executable("tracectl"),
                                       ["tasks", "--type", "request", "--slowest", "3", "--json", workload.path])
        #expect(result.status == 0, "\(result.standardError)")
        let trees = try JSONDecoder().decode([TaskTree].self, from: Data(result.standardOutput.utf8))
        #expect(trees.count == 3)
        #expect(trees.map { $0.latency ?? 0 } == trees.map { $0.latency ?? 0 }.sorted(by: >))
        for tree in trees {
            let interval = try #require(workload.tasks[tree.id])
            let latency = try #require(tree.latency)
            #expect(latency >= interval.low && latency <= interval.high)
            // handle ⊃ {work, reply}, the log between them.
            #expect(tree.regions.map(\.type) == ["handle"])
            let handle = try #require(tree.regions.first)
            #expect(handle.children.map(\.type) == ["work", "reply"])
            #expect(tree.logs.count == 1 && tree.logs[0].message.hasPrefix("replying ") && tree.logs[0].category == "step")
            let log = try #require(tree.logs.first)
            #expect(log.time >= handle.children[0].end ?? .max && log.time <= handle.children[1].begin)
            // Self time: work and reply are their whole durations, handle
            // only what they leave; with the time in no region, the parts
            // add up to the task's latency.
            let selfTime = Dictionary(uniqueKeysWithValues: tree.selfTime.map { ($0.region, $0.ns) })
            let workDuration = try #require(handle.children[0].end) - handle.children[0].begin
            #expect(selfTime["work"] == workDuration)
            let parts = tree.selfTime.map(\.ns).reduce(0, +) + (tree.uncovered ?? -1)
            #expect(parts == latency)
            let workInterval = try #require(workload.work[tree.id])
            #expect(workDuration >= workInterval.low && workDuration <= workInterval.high)
            #expect(tree.threads.count == 1 && tree.children.isEmpty)
        }
        // Text: the same tree, readable.
        let byID = try Processes.run(Processes.executable("tracectl"), ["tasks", "--id", "\(trees[0].id)", workload.path])
        #expect(byID.status == 0, "\(byID.standardError)")
        #expect(byID.lines.first?.hasPrefix("task request #\(trees[0].id)  latency ") == true)
        #expect(byID.lines.contains { $0.contains("├ handle ") } && byID.lines.contains { $0.contains("│ ├ work ") })
        #expect(byID.lines.contains { $0.contains("log [step] replying") })
        #expect(byID.lines.contains { $0.contains("(in no region)") })
    }

    @Test func filtersKeepWhatTheySayAndRefuseWhatMatchesNothing() throws {
        let directory = try TemporaryDirectory()
        let workload = try Self.record(directory, tasks: 40)
        func report(_ options: [String]) throws -> ReportDocument {
            let result = try Processes.run(Processes.executable("tracectl"), ["report", "--json"] + options + [workload.path])
            #expect(result.status == 0, "\(options): \(result.standardError)")
            return try JSONDecoder().decode(ReportDocument.self, from: Data(result.standardOutput.utf8))
        }
        let all = try report([])
        let start = all.trace.start
        // A window counts the tasks created in it: each task on one side of a cut.
        let cut = Int64(40_000_000)
        let early = try report(["--until", "40ms"])
        let created = try report(["--since", "0"]).tasks.first?.count
        #expect(created == 40)
        let earlyCount = early.tasks.first { $0.type == "request" }?.count ?? 0
        #expect(earlyCount > 0 && earlyCount < 40, "\(earlyCount) tasks created in the first 40 ms")
        let late = try report(["--since", "40ms"]).tasks.first { $0.type == "request" }?.count ?? 0
        #expect(earlyCount + late == 40, "a task is created before or after the cut, not both: \(earlyCount) + \(late)")
        #expect(early.filters.until == cut && early.trace.start >= start)
        // By process name and by pid; by task type.
        let pid = try #require(all.trace.processes.first?.pid)
        #expect(try report(["--process", "TraceFixture"]).trace.events == all.trace.events)
        #expect(try report(["--process", "\(pid)"]).trace.events == all.trace.events)
        let typed = try report(["--task-type", "request"])
        #expect(typed.tasks.map(\.type) == ["request"] && typed.regions.allSatisfy { $0.count == 40 })
        let none = try report(["--task-type", "nothing"])
        #expect(none.tasks.isEmpty && none.regions.isEmpty && none.logs.isEmpty)
        let missing = try Processes.run(Processes.executable("tracectl"), ["report", "--process", "nginx", workload.path])
        #expect(missing.status == 4)
        #expect(missing.standardError.hasPrefix("tracectl: no process 'nginx' in the trace (it holds: \(pid) TraceFixture)"))
        let bad = try Processes.run(Processes.executable("tracectl"), ["report", "--since", "soon", workload.path])
        #expect(bad.status == 64 && bad.standardError.contains("--since 'soon' is not a duration"))
    }
}
