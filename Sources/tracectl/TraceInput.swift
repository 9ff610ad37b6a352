import ArgumentParser
import TraceAnalysis
import TraceFormat
import TraceProtocol
import TraceSystem
import TraceText
#if canImport(Glibc)
import Glibc
#endif

/// The trace files and filters `report`, `tasks` and `export` share, and
/// how they open a walk over them.
struct TraceInput: ParsableArguments {
    @Argument(help: "Trace files (the files of one session, in order).")
    var files: [String]

    @Option(name: .customLong("process"),
            help: "Only this process: a pid or a process name (repeatable).")
    var processes: [String] = []

    @Option(help: ArgumentHelp("Only what begins at or after this time since the trace's start (e.g. 1.5s, 200ms; bare: seconds).",
                               valueName: "duration"))
    var since: String?

    @Option(help: ArgumentHelp("Only what begins before or at this time since the trace's start.", valueName: "duration"))
    var until: String?

    func validate() throws {
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, Units.nanoseconds(value) == nil {
                throw ValidationError("\(name) '\(value)' is not a duration (e.g. 1.5s, 200ms, 2m)")
            }
        }
    }

    /// Reads the files' metadata; exits with a sentence when a file cannot be opened.
    func open() -> TraceWalk {
        do {
            return try TraceWalk(paths: files)
        } catch {
            Failure("cannot read trace: \(error)").exit()
        }
    }

    /// The trace processes `--process` names, nil for all; exits when one matches nothing.
    func selectedProcesses(_ catalog: TraceCatalog) -> Set<UInt32>? {
        guard !processes.isEmpty else { return nil }
        var selected = Set<UInt32>()
        for wanted in processes {
            let matches = catalog.processes.filter { "\($0.value.pid)" == wanted || $0.value.name == wanted }.keys
            if matches.isEmpty {
                let known = catalog.processes.values.sorted { $0.pid < $1.pid }.map { "\($0.pid) \($0.name)" }
                Failure("no process '\(wanted)' in the trace (it holds: \(known.joined(separator: ", ")))", status: Exit.refused).exit()
            }
            selected.formUnion(matches)
        }
        return selected
    }

    /// `--since`/`--until` as absolute CLOCK_MONOTONIC times, nil for all.
    func window(_ walk: TraceWalk) -> ClosedRange<Int64>? {
        guard since != nil || until != nil else { return nil }
        let start = walk.startTime ?? 0
        let low = since.flatMap { Units.nanoseconds($0) }.map { start.saturatingAdd(Int64(clamping: $0)) } ?? .min
        let high = until.flatMap { Units.nanoseconds($0) }.map { start.saturatingAdd(Int64(clamping: $0)) } ?? .max
        guard low <= high else { Failure("--since is after --until: nothing to show", status: Exit.refused).exit() }
        return low...high
    }

    var filters: ReportDocument.Filters {
        ReportDocument.Filters(
            processes: processes.isEmpty ? nil : processes, taskTypes: nil,
            since: since.flatMap { Units.nanoseconds($0) }.map { Int64(clamping: $0) },
            until: until.flatMap { Units.nanoseconds($0) }.map { Int64(clamping: $0) })
    }

    /// Streams the trace to `visitor`, with a progress line on a terminal.
    func run<Visitor: TraceVisitor>(_ walk: TraceWalk, _ visitor: inout Visitor, label: String = "reading") {
        let processes = selectedProcesses(walk.catalog)
        guard isatty(2) == 1, walk.batchCount > 64 else {
            walk.run(&visitor, processes: processes)
            return
        }
        var shown = -1
        walk.run(&visitor, processes: processes) { fraction in
            let percent = Int(fraction * 100)
            guard percent != shown else { return }
            shown = percent
            try? FileDescriptor.standardError.writeAll(Array("\r\(label) \(files.count == 1 ? files[0] : "\(files.count) files"): \(percent)%".utf8))
        }
        try? FileDescriptor.standardError.writeAll(Array("\r\u{1B}[K".utf8))
    }

    /// Exits 1 with a sentence when nothing in the files decodes (no file
    /// header, no batch), the rule `report`, `tasks` and `export` share.
    func requireSomethingDecodes(_ walk: TraceWalk) { Self.requireSomethingDecodes(walk, files: files) }

    static func requireSomethingDecodes(_ walk: TraceWalk, files: [String]) {
        guard walk.catalog.headers.isEmpty && walk.batchCount == 0 else { return }
        let reasons = walk.catalog.diagnostics.map(\.description)
        Failure("nothing in \(files.joined(separator: ", ")) decodes as a trace"
                + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; "))).exit()
    }

    /// What the reader skipped, a line each, on stderr (for output that
    /// has no place for them: JSON).
    static func warn(_ diagnostics: [ReaderDiagnostic]) {
        for diagnostic in diagnostics {
            try? FileDescriptor.standardError.writeAll(Array("tracectl: warning: \(diagnostic)\n".utf8))
        }
    }
}
