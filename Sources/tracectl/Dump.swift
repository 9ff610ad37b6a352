import ArgumentParser
import CTraceABI
import TraceFormat

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
        let reader = TraceReader()
        let printer = EventPrinter(reader: reader)
        var kinds: [UInt8: (count: Int, bytes: Int)] = [:]
        for file in files {
            do {
                var lastBatch: BatchHeader?
                try reader.read(path: file) { header, event in
                    if sizes {
                        kinds[event.kind, default: (0, 0)].count += 1
                        kinds[event.kind, default: (0, 0)].bytes += event.encodedSize
                    } else if batches {
                        if header != lastBatch { print(printer.batchLine(header)) }
                        lastBatch = header
                    } else if !summary {
                        print(printer.line(header, event))
                    }
                }
            } catch {
                throw ValidationError("cannot read '\(file)': \(error)")
            }
        }
        if sizes { print(printer.sizes(kinds)) }
        print(printer.summary())
        if reader.diagnostics.contains(where: \.isFatal) { throw ExitCode(1) }
    }
}
