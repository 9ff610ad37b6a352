import ArgumentParser
import Foundation
import TraceAnalysis
import TraceSystem
import TraceText

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

    func validate() throws {
        guard (0...10_000).contains(slowest) else { throw ValidationError("--slowest must be 0...10000") }
    }

    func run() throws {
        let walk = input.open()
        var options = TraceSummary.Options()
        options.taskTypes = taskTypes.isEmpty ? nil : Set(taskTypes)
        options.window = input.window(walk)
        options.slowest = slowest
        var summary = TraceSummary(options: options, catalog: walk.catalog)
        input.run(walk, &summary)
        input.finish(walk, events: summary.events)
        let stacks = StackResolver(catalog: walk.catalog)
        var filters = input.filters
        filters.taskTypes = taskTypes.isEmpty ? nil : taskTypes
        let document = ReportDocument(summary: summary, catalog: walk.catalog, stacks: stacks, filters: filters)
        if let reason = stacks.unavailableReason, !document.misuse.isEmpty {
            try? FileDescriptor.standardError.writeAll(Array("tracectl: stacks shown as addresses: \(reason)\n".utf8))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(document)
            try FileDescriptor.standardOutput.writeAll(Array(data) + [0x0A])
        } else {
            print(ReportPrinter.render(document))
        }
    }
}
