import CTraceABI
import TestSupport
import Testing
import TraceAnalysis
import TraceFormat

/// Reads the counters "seq" of a burst trace without keeping the events:
/// per thread, values must rise strictly (no torn, duplicated or
/// interleaved event); returns what was recorded and dropped.
struct BurstTally {
    var recorded = 0
    var perThread: [UInt32: Int] = [:]
    var violations: [String] = []
    var dropped: UInt64 = 0
    var batches = 0
    var diagnostics: [ReaderDiagnostic] = []

    init(path: String) throws {
        let reader = TraceReader()
        var last: [UInt32: Int64] = [:]
        var recorded = 0, perThread: [UInt32: Int] = [:], violations: [String] = []
        try reader.read(path: path) { header, event in
            if event.kind == .regionBegin || event.kind == .regionEnd {
                recorded += 1
                perThread[header.thread, default: 0] += 1
                return
            }
            guard event.kind == .counterInteger else {
                violations.append("unexpected event kind \(event.kind)")
                return
            }
            if let previous = last[header.thread], event.integerValue <= previous {
                violations.append("thread \(header.thread): \(event.integerValue) after \(previous)")
            }
            last[header.thread] = event.integerValue
            recorded += 1
            perThread[header.thread, default: 0] += 1
        }
        self.recorded = recorded
        self.perThread = perThread
        self.violations = violations
        dropped = reader.drops.values.map(\.droppedEvents).reduce(0, +)
        batches = reader.batchCount
        diagnostics = reader.diagnostics
    }
}

/// A readable line per event, for exact comparisons of small traces.
func describe(_ event: TraceModel.Event) -> String {
    switch event.kind {
    case .regionBegin(let type, _, let task, _): "begin \(type) task=\(task)"
    case .regionEnd: "end"
    case .taskBegin(let id, let parent, let type, _): "task \(type) id=\(id) parent=\(parent)"
    case .taskEnd(let id): "task-end id=\(id)"
    case .log(let task, let category, let message, let truncated, _):
        "log \(category)=\(message)\(truncated ? "…" : "") task=\(task)"
    case .counter(let name, .integer(let value)): "counter \(name)=\(value)"
    case .counter(let name, .double(let value)): "counter \(name)=\(value)"
    }
}

/// Runs a fixture scenario writing to a fresh file; returns the model.
func traceScenario(_ scenario: String, options: [String: String] = [:], environment: [String: String] = [:],
                   in directory: TemporaryDirectory) throws -> (ProcessResult, TraceModel, String) {
    let path = directory.file("\(scenario).trace")
    let result = try Processes.fixture(scenario, options.merging(["out": path]) { $1 }, environment: environment)
    #expect(result.status == 0, "fixture \(scenario) failed: \(result.standardError)")
    let lz4 = try Processes.lz4Test(path)
    #expect(lz4.status == 0, "lz4 -t \(path): \(lz4.standardError)")
    let model = try TraceModel.load(paths: [path])
    #expect(model.diagnostics.isEmpty, "reader: \(model.diagnostics)")
    return (result, model, path)
}
