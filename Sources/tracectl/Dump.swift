import ArgumentParser
import TraceText

/// `tracectl dump`: every record of one or more trace files, as text.
struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the events of trace files, one per line, with what the reader skipped.")

    @Argument(help: "Trace files (the files of one session, in order).")
    var files: [String]

    @Flag(help: "Print only the summary: processes, threads, counts, drops, diagnostics.")
    var summary = false

    @Flag(help: "Print how many events of each kind there are and the bytes they take before compression.")
    var sizes = false

    @Flag(help: "Print a line per batch (which thread, chunk and segment its events came from) instead of events.")
    var batches = false

    func run() throws {
        let content: TraceDump.Content = sizes ? .sizes : batches ? .batches : summary ? .summary : .events
        let dump = TraceDump(content: content) { print($0) }
        // Two passes: names and clock syncs first (metadata only), then the events.
        for file in files {
            do { try dump.collectNames(path: file) } catch { throw ValidationError("cannot read '\(file)': \(error)") }
        }
        for file in files {
            do { try dump.dump(path: file) } catch { throw ValidationError("cannot read '\(file)': \(error)") }
        }
        dump.finish()
        if dump.sawFatalProblem { throw ExitCode(1) }
    }
}
