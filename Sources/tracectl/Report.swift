import ArgumentParser
import Foundation
import TraceAnalysis
import TraceExport
import TraceFormat
import TraceSystem
import TraceText
#if canImport(Glibc)
import Glibc
#endif

/// `tracectl report`: latency distributions per task type and what else a
/// person reads first about a trace, from one streaming pass.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarize trace files: task latencies, region durations, logs, counters, drops and misuse.",
        discussion: """
            Reads the files once, in time order, in memory bounded by what is open at a moment. \
            Percentiles are to 3 significant digits (HdrHistogram); counts, minimum, maximum and totals are exact.
            """)

    @OptionGroup var input: TraceInput

    @Option(name: .customLong("task-type"), help: "Only tasks of this type, and the regions and logs inside them (repeatable).")
    var taskTypes: [String] = []

    @Flag(help: "Print the report as JSON (docs/analysis.md describes its fields).")
    var json = false

    @Option(help: "How many of the slowest tasks to list per type.")
    var slowest = 10

    @Option(help: ArgumentHelp(
        "Also write the report as one self-contained HTML page (histograms, tasks per bucket, timelines, counters, logs, the Perfetto export).",
        valueName: "OUT.html"))
    var html: String?

    func validate() throws {
        guard (0...10_000).contains(slowest) else { throw ValidationError("--slowest must be 0...10000") }
    }

    func run() throws {
        let walk = input.open()
        input.requireSomethingDecodes(walk)
        var options = TraceSummary.Options()
        options.taskTypes = taskTypes.isEmpty ? nil : Set(taskTypes)
        options.window = input.window(walk)
        options.slowest = slowest
        let wanted = options.taskTypes.map { Set($0.compactMap { walk.catalog.lookup($0) }) }
        let stacks = StackResolver(catalog: walk.catalog)
        // With kernel events, where threads idle outside Swift jobs: the
        // spans of suspended Swift tasks leave their threads there.
        let idle = walk.catalog.kernelBatches > 0 ? IdleStacks(catalog: walk.catalog, stacks: stacks) : IdleStacks()
        // The page also needs some tasks of every bucket: sampled in the same walk.
        var pass = VisitorPair(TraceSummary(options: options, catalog: walk.catalog, idleStacks: idle),
                               TaskSampler(types: wanted, window: options.window))
        input.run(walk, &pass)
        let summary = pass.first
        var filters = input.filters
        filters.taskTypes = taskTypes.isEmpty ? nil : taskTypes
        var document = ReportDocument(summary: summary, catalog: walk.catalog, stacks: stacks, filters: filters)
        let blockingStacks = document.execution?.blocking.contains { $0.stackID != 0 } ?? false
        if let reason = stacks.unavailableReason, !document.misuse.isEmpty || blockingStacks {
            try? FileDescriptor.standardError.writeAll(Array("tracectl: stacks shown as addresses: \(reason)\n".utf8))
        }
        if let html {
            document.taskSamples = samples(walk, summary: summary, sampler: pass.second, stacks: stacks)
            writePage(html, document: document, walk: walk)
        }
        if json {
            document.taskSamples = nil
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(document)
            try FileDescriptor.standardOutput.writeAll(Array(data) + [0x0A])
        } else {
            print(ReportPrinter.render(document))
            if let html { print("\nwrote \(html)") }
        }
    }

    /// The sampled tasks (and the slowest), opened up, by type and bucket.
    private func samples(_ walk: TraceWalk, summary: TraceSummary, sampler: TaskSampler,
                         stacks: StackResolver) -> [String: [ReportDocument.BucketSample]] {
        var roots = sampler.roots
        for statistics in summary.tasks.values {
            for task in statistics.slowest { roots.insert(TaskKey(process: task.process, id: task.id)) }
        }
        var drilldown = TaskDrilldown(roots: roots, catalog: walk.catalog, stacks: stacks)
        input.run(walk, &drilldown, label: "collecting samples")
        var trees: [TaskKey: TaskTree] = [:]
        for tree in drilldown.trees() { trees[TaskKey(process: tree.process, id: tree.id)] = tree }
        var result: [String: [ReportDocument.BucketSample]] = [:]
        for (type, statistics) in summary.tasks {
            var byBucket: [Int: [TaskSpan]] = [:]
            for bucket in statistics.distribution.buckets.map(\.bucket.index) {
                byBucket[bucket] = sampler.chosen[TaskSampler.Key(type: type, bucket: bucket)] ?? []
            }
            // The slowest too, so the page can open every task it lists.
            for task in statistics.slowest {
                guard let latency = task.latency else { continue }
                let bucket = LogBuckets.index(of: latency)
                if !(byBucket[bucket] ?? []).contains(where: { $0.process == task.process && $0.id == task.id }) {
                    byBucket[bucket, default: []].append(task)
                }
            }
            result[walk.catalog.string(type)] = statistics.distribution.buckets.map { bucket, count in
                let tasks = (byBucket[bucket.index] ?? []).compactMap { trees[TaskKey(process: $0.process, id: $0.id)] }
                return ReportDocument.BucketSample(low: bucket.low, high: bucket.high, total: count, tasks: tasks)
            }
        }
        return result
    }

    /// A Perfetto export's size per byte of encoded events, rounded up
    /// (cafe --orders 620000: 327 MB of export from 58 MB of events, 5.6).
    static let exportBytesPerEventByte = 6

    /// Writes the page, with the Perfetto export of what the report covers
    /// (its processes) embedded when it fits.
    private func writePage(_ output: String, document: ReportDocument, walk: TraceWalk) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let json = try? encoder.encode(document) else { Failure("cannot encode the report").exit() }
        // Past twice the limit, do not make an export only to leave it out.
        // The export covers the report's processes (a time window does not
        // shrink it): its size is estimated from their encoded events.
        let processes = input.selectedProcesses(walk.catalog)
        let estimate = walk.eventBytes(processes: processes).saturatingMultiply(Self.exportBytesPerEventByte)
        let page: [UInt8]
        if estimate > 2 * HTMLReport.embeddedExportLimit {
            page = HTMLReport.render(reportJSON: Array(json), perfetto: nil, omittedBytes: estimate)
        } else {
            // In memory: nothing beside the page is written.
            let export = try? TraceExporter.perfettoBytes(walk, processes: processes)
            page = HTMLReport.page(reportJSON: Array(json), perfettoExport: export)
        }
        PrivateOutput.write(output, what: "writing the page") { try $0.writeAll(page) }
    }
}
