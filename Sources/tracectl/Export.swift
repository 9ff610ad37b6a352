import ArgumentParser
import TraceAnalysis
import TraceExport
import TraceFormat
import TraceSystem

extension TraceExporter.Format: ExpressibleByArgument {}

/// `tracectl export`: a trace for other viewers (Perfetto, chrome://tracing).
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert trace files for the Perfetto UI (--format perfetto), chrome://tracing (--format chrome-json) or an OpenTelemetry backend (--format otlp, otlp-json).",
        discussion: """
        Tasks become tracks with their regions nested on them, logs instants, counters counter tracks; \
        docs/design.md ("Export") says what becomes what. OTLP: tasks and long regions become spans, logs their \
        attributes and events (docs/design.md, "OTLP"); protobuf ExportTraceServiceRequest messages, each after \
        its length as a varint, or OTLP JSON, one request per line. The output is created private (0600): traces \
        hold log messages.
        """)

    @Option(help: "perfetto (protobuf, .pftrace), chrome-json (JSON trace events), otlp (OTLP protobuf, length-delimited) or otlp-json (OTLP JSON lines).")
    var format: TraceExporter.Format = .perfetto

    @OptionGroup var otlp: OTLPFlags

    @Option(name: .customLong("host-name"), help: ArgumentHelp(
        "OTLP: the resources' host.name (a trace does not record its host; default: this machine's name).", valueName: "name"))
    var hostName: String?

    @Argument(help: "Trace files (the files of one session, in order).")
    var files: [String]

    @Option(name: .shortAndLong, help: "Output file.")
    var output: String

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Write recorded stacks also as Perfetto callstacks (shown by current Perfetto UIs; trace_processor before v53 counts them as unknown fields). Stacks are always in a 'stack' annotation too."))
    var callstacks = true

    func run() throws {
        let walk: TraceWalk
        do {
            walk = try TraceWalk(paths: files)
        } catch {
            Failure("cannot read trace: \(error)").exit()
        }
        // The rule report and tasks follow: non-zero only when nothing decodes.
        TraceInput.requireSomethingDecodes(walk, files: files)
        if format == .otlp || format == .otlpJSON { return try exportOTLP(walk) }
        let summary = PrivateOutput.write(output, what: "exporting \(files.joined(separator: ", "))") {
            try TraceExporter.export(walk, format: format, to: $0, callstacks: callstacks)
        }
        TraceInput.warn(summary.diagnostics)
        if summary.kernelEventsLeftOut > 0 {
            try? FileDescriptor.standardError.writeAll(Array(
                "tracectl: warning: \(summary.kernelEventsLeftOut) kernel events left out: their CPU numbers are past 1023, which Perfetto refuses (a damaged trace?)\n".utf8))
        }
        if summary.unknownStats > 0 {
            try? FileDescriptor.standardError.writeAll(Array(
                "tracectl: warning: \(summary.unknownStats) process stats left out: their kind is not one this tracectl knows (a newer traced's?)\n".utf8))
        }
        let counts = "\(summary.tasks) tasks, \(summary.regions) regions, \(summary.logs) logs"
            + (summary.kernelEvents == 0 ? " and \(summary.counters) counter samples"
                : ", \(summary.counters) counter samples and \(summary.kernelEvents) kernel events")
        print("exported \(counts) to \(output) (\(summary.bytes) bytes)")
    }

    private func exportOTLP(_ walk: TraceWalk) throws {
        let options = OTLPExport.Options(json: format == .otlpJSON, assembly: try otlp.assembly(),
                                         hostName: hostName ?? HostName.current)
        let summary = PrivateOutput.write(output, what: "exporting \(files.joined(separator: ", "))") {
            try OTLPExport.export(walk, options: options, to: $0)
        }
        TraceInput.warn(summary.diagnostics)
        let counts = summary.counts
        var left = ""
        if counts.sampledOut > 0 { left += ", \(counts.sampledOut) spans left out by sampling" }
        if counts.regionsSummed > 0 { left += ", \(counts.regionsSummed) regions summed into their tasks" }
        print("exported \(counts.tasks + counts.regionSpans) spans (\(counts.tasks) tasks, \(counts.regionSpans) regions)\(left) "
              + "in \(summary.requests) requests to \(output) (\(summary.bytes) bytes)")
    }
}
