import ArgumentParser
import Foundation
import TraceAnalysis
import TraceFormat
import TraceProtocol
import TraceSystem
import TraceText

/// `tracectl tasks`: open tasks up, each as a tree of its regions, logs and
/// child tasks, with where its time went.
struct Tasks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show chosen tasks as trees: nested regions with offsets and durations, logs, child tasks, threads, and where the time went.",
        discussion: """
            Choose with --slowest N, --latency LO..HI (e.g. 5ms..10ms), --id ID, or --trace-id ID (every task of one \
            distributed request, across the trace files of several services). Reads the trace twice: once to choose, \
            once to collect.
            """)

    @OptionGroup var input: TraceInput

    @Option(name: .customLong("type"), help: "The task type (required with --slowest and --latency).")
    var type: String?

    @Option(help: "The N slowest tasks of the type.")
    var slowest: Int?

    @Option(help: ArgumentHelp("Tasks whose latency is in LO..HI (durations; bare: seconds).", valueName: "LO..HI"))
    var latency: String?

    @Option(help: "The task with this id (in every process, unless --process).")
    var id: UInt64?

    @Option(name: .customLong("trace-id"),
            help: ArgumentHelp("Every task of this W3C trace id (32 hex digits; TracedTracing spans), in every file given.",
                               valueName: "ID"))
    var traceID: String?

    @Option(help: "At most this many tasks with --latency.")
    var limit = 20

    @Flag(help: "Print the trees as JSON.")
    var json = false

    func validate() throws {
        let chosen = [slowest != nil, latency != nil, id != nil, traceID != nil].filter { $0 }.count
        guard chosen == 1 else { throw ValidationError("choose tasks with exactly one of --slowest, --latency, --id, --trace-id") }
        if let traceID, !TraceIDSelector.isTraceID(traceID) {
            throw ValidationError("--trace-id '\(traceID)' is not a trace id: 32 hex digits, not all zero (the trace_id of a log line)")
        }
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
        if let traceID { return try runTraceID(traceID) }
        let walk = input.open()
        input.requireSomethingDecodes(walk)
        let catalog = walk.catalog
        var roots = Set<TaskKey>()
        var ids = Set<UInt64>()
        var note: String?
        if let id {
            ids = [id]
        } else if let type {
            // A type no event names may still come from a `task.type` log
            // (a renamed span): then only the walk can tell.
            let renames = catalog.lookup(TraceCatalog.taskTypeCategory) != nil
            let unknown = "no task type '\(type)' in the trace (`tracectl report` lists the types)"
            guard catalog.lookup(type) != nil || renames else { Failure(unknown, status: Exit.refused).exit() }
            let rule: TaskSelector.Rule = if let slowest { .slowest(slowest) } else { .latency(latencyRange(latency ?? "")!, limit: limit) }
            var selector = TaskSelector(type: type, rule: rule, catalog: catalog)
            input.run(walk, &selector, label: "choosing")
            if renames && selector.typed == 0 { Failure(unknown, status: Exit.refused).exit() }
            roots = Set(selector.chosen.map { TaskKey(process: $0.process, id: $0.id) })
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
        if let reason = stacks.unavailableReason, trees.contains(where: {
            !$0.stack.isEmpty || !$0.regions.isEmpty && !catalog.stacks.isEmpty || $0.waits?.contains { !$0.stack.isEmpty } == true
        }) {
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

    /// `--trace-id`: each trace given (a daemon session's files, or one
    /// in-process file; TraceFileGroups) is walked apart, and the trees of
    /// all are printed together, in the order of the files.
    private func runTraceID(_ traceID: String) throws {
        var opened: [String: TraceWalk] = [:]
        let groups = TraceFileGroups.group(input.files) { path in
            guard let walk = try? TraceWalk(paths: [path]) else { return nil }
            opened[path] = walk
            return walk.catalog.headers.first.map { TraceFileGroups.FileHeaderSummary(session: $0.session) }
        }
        var printed: [(tree: TaskTree, start: Int64)] = []
        var diagnostics: [ReaderDiagnostic] = []
        for group in groups {
            let walk: TraceWalk
            if group.count == 1, let single = opened[group[0]] {
                walk = single
            } else {
                do { walk = try TraceWalk(paths: group) } catch { Failure("cannot read trace: \(error)").exit() }
            }
            TraceInput.requireSomethingDecodes(walk, files: group)
            let catalog = walk.catalog
            var selector = TraceIDSelector(traceID: traceID, catalog: catalog)
            input.run(walk, &selector, label: "choosing")
            diagnostics += catalog.diagnostics
            guard !selector.order.isEmpty else { continue }
            var drilldown = TaskDrilldown(roots: selector.roots, catalog: catalog, stacks: StackResolver(catalog: catalog))
            input.run(walk, &drilldown, label: "collecting")
            printed += drilldown.trees().map { ($0, walk.startTime ?? 0) }
        }
        if printed.isEmpty {
            Failure("no task of trace \(traceID.lowercased()) in \(input.files.joined(separator: ", ")) (tasks record their trace id when TracedTracing made them)",
                    status: Exit.failure).exit()
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try FileDescriptor.standardOutput.writeAll(Array(try encoder.encode(printed.map(\.tree))) + [0x0A])
            TraceInput.warn(diagnostics)
            return
        }
        for (i, entry) in printed.enumerated() {
            if i > 0 { print("") }
            print(TaskTreePrinter.render(entry.tree, traceStart: entry.start).joined(separator: "\n"))
        }
        for diagnostic in diagnostics { print("warning: \(diagnostic)") }
    }
}
