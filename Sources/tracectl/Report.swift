import ArgumentParser
import TraceAnalysis
import TraceFormat
import TraceText

/// `tracectl report`: latency distributions per task type and what else a
/// person reads first about a trace.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarize trace files: task latencies, region durations, logs, counters, misuse and losses.")

    @Argument(help: "Trace files (the files of one session, in order).")
    var files: [String]

    func run() throws {
        let model: TraceModel
        do {
            model = try TraceModel.load(paths: files)
        } catch {
            throw ValidationError("cannot read \(files.joined(separator: ", ")): \(error)")
        }
        print(ReportPrinter.render(TraceReport(model), diagnostics: model.diagnostics))
        if model.diagnostics.contains(where: { $0.isFatal }) { throw ExitCode(1) }
    }
}
