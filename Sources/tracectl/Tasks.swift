import ArgumentParser
import Foundation
import TraceAnalysis
import TraceProtocol
import TraceSystem
import TraceText

/// `tracectl tasks`: open tasks up, each as a tree of its regions, logs and
/// child tasks, with where its time went.
struct Tasks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show chosen tasks as trees: nested regions with offsets and durations, logs, child tasks, threads, and where the time went.",
        discussion: "Choose with --slowest N, --latency LO..HI (e.g. 5ms..10ms) or --id ID. Reads the trace twice: once to choose, once to collect.")

    @OptionGroup var input: TraceInput

    @Option(name: .customLong("type"), help: "The task type (required with --slowest and --latency).")
    var type: String?

    @Option(help: "The N slowest tasks of the type.")
    var slowest: Int?

    @Option(help: ArgumentHelp("Tasks whose latency is in LO..HI (durations; bare: seconds).", valueName: "LO..HI"))
    var latency: String?

    @Option(help: "The task with this id (in every process, unless --process).")
    var id: UInt64?

    @Option(help: "At most this many tasks with --latency.")
    var limit = 20

    @Flag(help: "Print the trees as JSON.")
    var json = false

    func validate() throws {
        let chosen = [slowest != nil, latency != nil, id != nil].filter { $0 }.count
        guard chosen == 1 else { throw ValidationError("choose tasks with exactly one of --slowest, --latency, --id") }
        if (slowest != nil || latency != nil) && type == nil {
            throw ValidationError("--slowest and --latency need --type (the task types are listed by `tracectl report`)")
        }
        if let slowest, !(1...10_000).contains(slowest) { throw ValidationError("--slowest must be 1...10000") }
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1...10000") }
        if let latency, latencyRange(latency) == nil {
            throw ValidationError("--latency '\(latency)' is not LO..HI with durations, e.g. 5ms..10ms")
        }
    }

    private func latencyRange(_ text: String) -> ClosedRange<Int64>? {
        let parts = text.components(separatedBy: "..")
        guard parts.count == 2,
              let low = parts[0].isEmpty ? 0 : Units.nanoseconds(parts[0]),
              let high = parts[1].isEmpty ? Units.maximum : Units.nanoseconds(parts[1]),
              low <= high else { return nil }
        return Int64(clamping: low)...Int64(clamping: high)
    }

    func run() throws {
        let walk = input.open()
        input.requireSomethingDecodes(walk)
        let catalog = walk.catalog
        var roots = Set<TaskDrilldown.TaskKey>()
        var ids = Set<UInt64>()
        var note: String?
        if let id {
            ids = [id]
        } else if let type {
            guard catalog.lookup(type) != nil else {
                Failure("no task type '\(type)' in the trace (`tracectl report` lists the types)", status: Exit.refused).exit()
            }
            let rule: TaskSelector.Rule = if let slowest { .slowest(slowest) } else { .latency(latencyRange(latency ?? "")!, limit: limit) }
            var selector = TaskSelector(type: type, rule: rule, catalog: catalog)
            input.run(walk, &selector, label: "choosing")
            roots = Set(selector.chosen.map { TaskDrilldown.TaskKey(process: $0.process, id: $0.id) })
            if selector.matched > selector.chosen.count {
                note = "showing \(selector.chosen.count) of \(selector.matched) matching task(s); raise --limit for more"
            }
            if roots.isEmpty {
                Failure("no \(type) task matches (\(selector.seen) ended in the trace)", status: Exit.failure).exit()
            }
        }
        let stacks = StackResolver(catalog: catalog)
        var drilldown = TaskDrilldown(roots: roots, ids: ids, catalog: catalog, stacks: stacks)
        input.run(walk, &drilldown, label: "collecting")
        var trees = drilldown.trees()
        if slowest != nil { trees.sort { ($0.latency ?? 0) > ($1.latency ?? 0) } }
        if trees.isEmpty {
            Failure("no task with id \(id ?? 0) in the trace", status: Exit.failure).exit()
        }
        if let reason = stacks.unavailableReason, trees.contains(where: { !$0.stack.isEmpty || !$0.regions.isEmpty && !catalog.stacks.isEmpty }) {
            try? FileDescriptor.standardError.writeAll(Array("tracectl: stacks shown as addresses: \(reason)\n".utf8))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try FileDescriptor.standardOutput.writeAll(Array(try encoder.encode(trees)) + [0x0A])
            TraceInput.warn(catalog.diagnostics)
            return
        }
        let start = walk.startTime ?? 0
        for (i, tree) in trees.enumerated() {
            if i > 0 { print("") }
            print(TaskTreePrinter.render(tree, traceStart: start).joined(separator: "\n"))
        }
        if let note { print("\n\(note)") }
        for diagnostic in catalog.diagnostics { print("warning: \(diagnostic)") }
    }
}
