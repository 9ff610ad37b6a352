package import TraceAnalysis
package import TraceOTLP
package import TraceFormat
package import TraceSystem

/// `export --format otlp` and `otlp-json`: the trace's tasks, regions and
/// span logs as OTLP spans (`SpanAssembler`, docs/design.md "OTLP"), in
/// `ExportTraceServiceRequest`s of at most `requestSpans` spans each:
/// protobuf, each message preceded by its length as a varint (the
/// length-delimited form protobuf libraries read with `parseDelimitedFrom`),
/// or the OTLP JSON mapping, one request per line.
package enum OTLPExport {
    package struct Options: Sendable {
        package var json = false
        package var assembly = SpanAssembler.Options()
        /// `host.name` of every resource: a trace does not record its host.
        package var hostName: String

        package init(json: Bool = false, assembly: SpanAssembler.Options = SpanAssembler.Options(), hostName: String) {
            self.json = json
            self.assembly = assembly
            self.hostName = hostName
        }
    }

    package struct Summary: Sendable {
        package var counts = SpanAssembler.Counts()
        package var requests = 0
        package var bytes: UInt64 = 0
        package var diagnostics: [ReaderDiagnostic] = []
        /// The export itself, when it was made without an output file.
        package var output: [UInt8] = []
    }

    /// Spans per request: OTLP receivers take a few MiB a request.
    static let requestSpans = 512

    package static func export(_ walk: TraceWalk, options: Options, to output: FileDescriptor?) throws -> Summary {
        let catalog = walk.catalog
        let sync = catalog.clockSyncs.min { $0.monotonicNanoseconds < $1.monotonicNanoseconds }
        let offset = sync.map { Int64(clamping: $0.realtimeNanoseconds) &- Int64(clamping: $0.monotonicNanoseconds) } ?? 0
        let resources = catalog.processes.mapValues { process in
            OTLPResource(serviceName: process.name, hostName: options.hostName, pid: process.pid)
        }
        let file = ProtobufWriter(output: output)
        var pending: [UInt32: [OTLPSpan]] = [:]
        var pendingCount = 0
        var summary = Summary()
        var failure: SystemError?

        func writeRequest() {
            guard pendingCount > 0, failure == nil else { return }
            let groups = pending.sorted { $0.key < $1.key }.map { process, spans in
                OTLPResourceSpans(resource: resources[process] ?? OTLPResource(serviceName: "unknown", hostName: options.hostName, pid: 0),
                                  spans: spans)
            }
            pending = [:]
            pendingCount = 0
            summary.requests += 1
            if options.json {
                OTLPEncoding.json(groups, into: file)
                file.raw("\n")
            } else {
                let request = ProtobufWriter(output: nil)
                OTLPEncoding.protobuf(groups, into: request)
                let bytes = request.bytes
                file.lengthPrefix(bytes.count)
                bytes.withUnsafeBytes { file.raw($0) }
            }
            do { try file.boundary() } catch { failure = error }
        }

        let assembler = SpanAssembler(options: options.assembly,
                                      unixTime: { UInt64(clamping: $0.saturatingAdd(offset)) }) { process, spans in
            pending[process, default: []] += spans
            pendingCount += spans.count
            if pendingCount >= requestSpans { writeRequest() }
        }
        var visitor = OTLPVisitor(assembler: assembler, catalog: catalog)
        walk.run(&visitor)
        writeRequest()
        if let failure { throw failure }
        try file.flush()
        summary.counts = assembler.counts
        summary.bytes = file.totalBytes
        summary.diagnostics = catalog.diagnostics
        if output == nil { summary.output = file.bytes }
        return summary
    }
}

/// The walk's tasks, regions and logs, handed to a `SpanAssembler`.
struct OTLPVisitor: TraceVisitor {
    let assembler: SpanAssembler
    let catalog: TraceCatalog

    mutating func visit(_ event: TraceEvent) {
        switch event.kind {
        case .taskBegin(let task):
            guard let begin = task.begin else { return }
            assembler.taskBegan(process: task.process, id: task.id, parent: task.parent, type: catalog.string(task.type), time: begin)
        case .taskEnd(let task):
            // Never ended (nil): `finish` ends it at the trace's end.
            guard let end = task.end else { return }
            assembler.taskEnded(process: task.process, id: task.id, time: end)
        case .regionBegin(let region):
            assembler.regionBegan(process: region.process, thread: region.beginThread, sequence: region.sequence,
                                  swiftTask: region.swiftTask, task: region.task, type: catalog.string(region.type),
                                  time: region.begin)
        case .regionEnd(let region):
            guard let end = region.end, !region.misuse.contains(.endedTwice) else { return }
            assembler.regionEnded(process: region.process, thread: region.beginThread, sequence: region.sequence, time: end)
        case .log(let log):
            assembler.log(process: event.process, thread: event.thread, swiftTask: event.swiftTask, task: log.task,
                          category: catalog.string(log.category), message: log.message, time: event.time)
        default:
            break
        }
    }

    mutating func finish(last: Int64?) {
        assembler.finish(at: last ?? 0)
    }
}
