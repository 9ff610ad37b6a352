import TraceAnalysis
package import TraceFormat
package import TraceSystem

/// Runs an export: reads trace files, feeds a format, says what it wrote.
package enum TraceExporter {
    package enum Format: String, CaseIterable, Sendable {
        case perfetto
        case chromeJSON = "chrome-json"
    }

    package struct Summary: Sendable {
        package var tasks = 0
        package var regions = 0
        package var logs = 0
        package var counters = 0
        package var bytes: UInt64 = 0
        /// Held-back begins written early because of the layout's bound.
        package var forcedCommits = 0
        package var diagnostics: [ReaderDiagnostic] = []
    }

    /// Exports the trace in `paths` (one trace's files, in order) to `output`.
    package static func export(paths: [String], format: Format, to output: FileDescriptor) throws -> Summary {
        let model = try TraceModel.load(paths: paths)
        let names = NameTable()
        let stacks = StackText(model)
        switch format {
        case .perfetto:
            let exporter = PerfettoExporter(output: output, names: { names.text($0) }, stackText: stacks.text)
            var summary = try run(model, exporter, names)
            summary.bytes = exporter.writer.totalBytes
            return summary
        case .chromeJSON:
            let exporter = ChromeJSONExporter(output: output, names: { names.text($0) }, stackText: stacks.text)
            var summary = try run(model, exporter, names)
            summary.bytes = exporter.writer.totalBytes
            return summary
        }
    }

    private static func run<F: ExportFormat>(_ model: TraceModel, _ format: F, _ names: NameTable) throws -> Summary {
        let first = model.events.first?.time ?? 0
        let last = model.events.last?.time ?? first
        let export = TimelineExport(format: format, firstTime: first)
        try format.start(monotonic: first, realtime: nil)
        for (key, process) in model.processes.sorted(by: { $0.key < $1.key }) {
            try format.process(key, pid: process.pid, name: process.name)
        }
        for (key, thread) in model.threads.sorted(by: { ($0.key.process, $0.key.id) < ($1.key.process, $1.key.id) }) {
            try format.thread(key.process, index: UInt32(truncatingIfNeeded: key.id), tid: thread.tid, name: thread.name)
        }
        var taskInfo: [TaskKey: (type: UInt32, parent: UInt64)] = [:]
        var ended: Set<TaskKey> = []
        for event in model.events {
            let p = event.process
            switch event.kind {
            case .regionBegin(let type, let sequence, let task, let stack):
                try export.regionBegan(process: p, thread: event.thread, sequence: sequence, type: names.id(type), task: task,
                                       swiftTask: event.swiftTask, time: event.time, stack: stack)
            case .regionEnd(let beginThread, let beginSequence):
                try export.regionEnded(process: p, beginThread: beginThread, sequence: beginSequence, end: event.time,
                                       endThread: event.thread, flags: [])
            case .taskBegin(let id, let parent, let type, let stack):
                let typeID = names.id(type)
                taskInfo[TaskKey(process: p, id: id)] = (typeID, parent)
                try export.taskBegan(process: p, id: id, parent: parent, type: typeID, time: event.time,
                                     thread: event.thread, swiftTask: event.swiftTask, stack: stack)
            case .taskEnd(let id):
                // Only the first end counts (later ones are misuse the report counts).
                guard ended.insert(TaskKey(process: p, id: id)).inserted else { continue }
                let info = taskInfo[TaskKey(process: p, id: id)]
                try export.taskEnded(process: p, id: id, type: info?.type ?? 0, parent: info?.parent ?? 0, end: event.time,
                                     thread: event.thread)
            case .log(let task, let category, let message, let truncated, let stack):
                try export.log(ExportLog(time: event.time, process: p, thread: event.thread, task: task,
                                         swiftTask: event.swiftTask, category: names.id(category), message: message,
                                         truncated: truncated, stack: stack))
            case .counter(let name, let value):
                let exported: ExportCounter.Value = switch value {
                case .integer(let integer): .integer(integer)
                case .double(let double): .double(double)
                }
                try export.counter(ExportCounter(time: event.time, process: p, name: names.id(name), value: exported))
            }
        }
        try export.finish(lastTime: last, recordedDrops: model.drops.mapValues(\.droppedEvents))
        return Summary(tasks: export.taskSlices, regions: export.regionSlices, logs: export.logs, counters: export.counters,
                       forcedCommits: export.layout.forcedCommits, diagnostics: model.diagnostics)
    }

    private struct TaskKey: Hashable {
        var process: UInt32
        var id: UInt64
    }
}

/// Names as dense ids from 1 (the formats intern them by id).
final class NameTable {
    private var ids: [String: UInt32] = [:]
    private var texts: [String] = [""]

    func id(_ text: String) -> UInt32 {
        if let id = ids[text] { return id }
        let id = UInt32(texts.count)
        texts.append(text)
        ids[text] = id
        return id
    }

    func text(_ id: UInt32) -> String { id < texts.count ? texts[Int(id)] : "" }
}

/// Each recorded stack as text: its frames symbolized (function and
/// file:line, or image+offset), innermost first, one per line.
final class StackText {
    private var texts: [TraceReader.ProcessScoped: String] = [:]

    init(_ model: TraceModel) {
        guard !model.stacks.isEmpty else { return }
        let symbolizer = StackSymbolizer()
        var byProcess: [UInt32: Set<UInt64>] = [:]
        for (key, frames) in model.stacks { byProcess[key.process, default: []].formUnion(frames) }
        for (process, addresses) in byProcess {
            let frames = symbolizer.symbolize(addresses, images: model.images[process] ?? [])
            for (key, stack) in model.stacks where key.process == process {
                texts[key] = stack.map { frames[$0]?.description ?? "0x\(String($0, radix: 16))" }.joined(separator: "\n")
            }
        }
    }

    func text(_ process: UInt32, _ stack: UInt32) -> String? { texts[TraceReader.ProcessScoped(process, UInt64(stack))] }
}
