import ArgumentParser
import TraceExport
import TraceFormat
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

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
        let partial = output + ".partial"
        let destination: FileDescriptor
        do {
            // Created afresh and private; the rename gives OUT that mode.
            try FileSystem.unlink(partial)
            destination = try FileDescriptor.open(partial, O_WRONLY | O_CREAT | O_EXCL, permissions: 0o600)
        } catch {
            Failure("cannot write '\(output)': \(error)").exit()
        }
        let summary: TraceExporter.Summary
        do {
            summary = try TraceExporter.export(paths: files, format: format, to: destination)
            try destination.sync()
            destination.close()
            try FileSystem.rename(partial, to: output)
        } catch {
            destination.close()
            try? FileSystem.unlink(partial)
            Failure("exporting \(files.joined(separator: ", ")) failed: \(error) (nothing was written to '\(output)')").exit()
        }
        for diagnostic in summary.diagnostics {
            try? FileDescriptor.standardError.writeAll(Array("tracectl: \(diagnostic)\n".utf8))
        }
        print("exported \(summary.tasks) tasks, \(summary.regions) regions, \(summary.logs) logs and \(summary.counters) counter samples to \(output) (\(summary.bytes) bytes)")
        if summary.diagnostics.contains(where: { $0.isFatal }) { throw ExitCode(1) }
    }
}
