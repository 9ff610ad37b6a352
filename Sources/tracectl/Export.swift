import ArgumentParser
import TraceExport
import TraceFormat
import TraceSystem

extension TraceExporter.Format: ExpressibleByArgument {}

/// `tracectl export`: a trace for other viewers (Perfetto, chrome://tracing).
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert trace files for the Perfetto UI (--format perfetto) or chrome://tracing (--format chrome-json).",
        discussion: """
        Tasks become tracks with their regions nested on them, logs instants, counters counter tracks; \
        docs/design.md ("Export") says what becomes what. The output is created private (0600): traces hold log messages.
        """)

    @Option(help: "perfetto (protobuf, .pftrace) or chrome-json (JSON trace events).")
    var format: TraceExporter.Format = .perfetto

    @Argument(help: "Trace files (the files of one session, in order).")
    var files: [String]

    @Option(name: .shortAndLong, help: "Output file.")
    var output: String

    func run() throws {
        let summary = PrivateOutput.write(output, what: "exporting \(files.joined(separator: ", "))") {
            try TraceExporter.export(paths: files, format: format, to: $0)
        }
        for diagnostic in summary.diagnostics {
            try? FileDescriptor.standardError.writeAll(Array("tracectl: \(diagnostic)\n".utf8))
        }
        print("exported \(summary.tasks) tasks, \(summary.regions) regions, \(summary.logs) logs and \(summary.counters) counter samples to \(output) (\(summary.bytes) bytes)")
        // Non-zero only when nothing decoded, as report and tasks.
        if summary.diagnostics.contains(where: { $0.isFatal }) && summary.tasks + summary.regions + summary.logs + summary.counters == 0 {
            throw ExitCode(1)
        }
    }
}
