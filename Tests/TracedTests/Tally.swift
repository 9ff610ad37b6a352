import CTraceABI
import Foundation
import TestSupport
import Testing
import TraceFormat

/// What a fetched trace holds, counted without keeping the events: per
/// (process, thread), the values of counter "seq" must rise strictly, and
/// every name an event uses is defined before it in the file (traced
/// writes a batch after the strings it names; a one-pass reader, a live
/// view, depends on that).
struct Tally {
    /// Events of the clients' batches: what the session counts as events.
    var events = 0
    /// Events of the kernel batches traced wrote (execution events).
    var kernelEvents = 0
    var seq: [String: [Int64]] = [:]
    var perProcess: [Int32: Int] = [:]
    var logCategories: [String: Int] = [:]
    var violations: [String] = []
    var diagnostics: [ReaderDiagnostic] = []
    var processEnds: [UInt32: ProcessEnd.Reason] = [:]
    /// Pids of the process records, whether or not events follow.
    var processRecords: Set<Int32> = []

    init(path: String) throws {
        // Names from a first pass over the metadata, so that what is counted
        // does not depend on where a string record lies; the order is
        // checked on its own.
        let names = TraceReader()
        try names.readMetadata(path: path)
        let reader = TraceReader()
        var namedEarly = 0
        var last: [String: Int64] = [:]
        var events = 0, seq: [String: [Int64]] = [:], perProcess: [UInt32: Int] = [:], categories: [String: Int] = [:]
        var violations: [String] = []
        var kernelEvents = 0
        try reader.read(path: path) { header, event in
            guard !header.kernel else {
                kernelEvents += 1
                return
            }
            events += 1
            perProcess[header.process, default: 0] += 1
            let name = names.string(header.process, event.name) ?? "?"
            switch event.kind {
            case .taskBegin, .regionBegin, .log, .counterInteger, .counterDouble:
                if reader.string(header.process, event.name) == nil && name != "?" { namedEarly += 1 }
            default:
                break
            }
            if event.kind == .counterInteger && name == "seq" {
                let key = "\(header.process)/\(header.thread)"
                if let previous = last[key], event.integerValue <= previous {
                    violations.append("\(key): \(event.integerValue) after \(previous)")
                }
                last[key] = event.integerValue
                seq[key, default: []].append(event.integerValue)
            }
            if event.kind == .log { categories[name, default: 0] += 1 }
        }
        self.events = events
        self.kernelEvents = kernelEvents
        self.seq = seq
        self.logCategories = categories
        if namedEarly > 0 { violations.append("\(namedEarly) event(s) came before the string record that names them") }
        self.violations = violations
        self.diagnostics = reader.diagnostics
        for (key, count) in perProcess {
            if let pid = reader.processes[key]?.pid { self.perProcess[pid, default: 0] += count }
        }
        processEnds = reader.processEnds.mapValues(\.reason)
        processRecords = Set(reader.processes.values.map(\.pid))
    }
}

/// A session's entry in `tracectl status --json` / `stop --json`.
struct SessionFigures {
    var events: UInt64
    var dropped: UInt64
    var files: UInt64
    var filesDeleted: UInt64
    var state: Int
    var clients: [[String: Any]]

    init(_ json: Any) throws {
        let object = try #require(json as? [String: Any])
        events = (object["events"] as? NSNumber)?.uint64Value ?? 0
        let drops = object["dropped"] as? [String: NSNumber] ?? [:]
        dropped = drops.filter { $0.key != "metadata lost" }.values.reduce(0) { $0 + $1.uint64Value }
        files = (object["files"] as? NSNumber)?.uint64Value ?? 0
        filesDeleted = (object["filesDeleted"] as? NSNumber)?.uint64Value ?? 0
        state = (object["state"] as? NSNumber)?.intValue ?? -1
        clients = object["clients"] as? [[String: Any]] ?? []
    }
}

/// Whether every event of `path` lies between two clock syncs of its
/// process's clock, in that file alone, and every process states its clock's
/// rate: what converting its timestamps needs (docs/format.md, "Clocks").
func clockProblems(in path: String) throws -> [String] {
    let reader = TraceReader()
    var span: [UInt32: (first: UInt64, last: UInt64)] = [:]
    try reader.read(path: path) { header, event in
        // Kernel events count CLOCK_MONOTONIC nanoseconds, which need no sync.
        guard !header.kernel else { return }
        let old = span[header.process] ?? (event.ticks, event.ticks)
        span[header.process] = (min(old.first, event.ticks), max(old.last, event.ticks))
    }
    var problems: [String] = []
    for (process, range) in span {
        guard let record = reader.processes[process] else {
            problems.append("process \(process) has events but no process record")
            continue
        }
        if record.nominalTicksPerSecond == 0 { problems.append("process \(process): nominal ticks per second is 0") }
        let syncs = reader.clockSyncs.filter { $0.clockKind == record.clockKind }.map(\.ticks)
        guard let low = syncs.min(), let high = syncs.max() else {
            problems.append("process \(process): no clock sync of kind \(record.clockKind)")
            continue
        }
        if low > range.first { problems.append("process \(process): first event at \(range.first), first sync at \(low)") }
        if high < range.last { problems.append("process \(process): last event at \(range.last), last sync at \(high)") }
    }
    // Syncs are a small part of a file: ~25 bytes each against events of
    // at least 2 bytes (a flight recorder once filled half its window with
    // copies of its sync history).
    if reader.clockSyncs.count > 64 + reader.eventCount / 100 {
        problems.append("\(reader.clockSyncs.count) clock syncs for \(reader.eventCount) events")
    }
    return problems
}
