package import TraceFormat
/// Picks the tasks of one distributed request: those whose `trace.context`
/// log (written by TracedTracing as a task's first event, docs/format.md,
/// "Spans") carries the W3C trace id. A chosen task whose parent task is
/// chosen too is not a root: its parent's tree shows it.
package struct TraceIDSelector: TraceVisitor {
    /// The trace id as 32 lower-case hex digits (upper case is accepted and lowered).
    package let traceID: String
    private let category: TraceName?
    private let prefix: [UInt8]
    /// Parents of the open tasks: a task's `trace.context` comes while it is open.
    private var openParents: [TaskKey: UInt64] = [:]
    private var chosen: [TaskKey: UInt64] = [:]
    /// Tasks of the trace, in the order their `trace.context` came.
    package private(set) var order: [TaskKey] = []

    /// Whether `text` is a trace id: 32 hex digits, not all zero.
    package static func isTraceID(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return lowered.utf8.count == 32 && lowered.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
            && lowered.utf8.contains { $0 != UInt8(ascii: "0") }
    }

    package init(traceID: String, catalog: TraceCatalog) {
        self.traceID = traceID.lowercased()
        category = catalog.lookup(String(describing: SpanCategory.context))
        // "00-<trace id>-": a region span's context starts with "[name] " and is skipped.
        prefix = Array("00-\(self.traceID)-".utf8)
    }

    package mutating func visit(_ event: TraceEvent) {
        switch event.kind {
        case .taskBegin(let task): openParents[.init(process: task.process, id: task.id)] = task.parent
        case .taskEnd(let task): openParents[.init(process: task.process, id: task.id)] = nil
        case .log(let log): noteLog(log, process: event.process)
        default: break
        }
    }

    private mutating func noteLog(_ log: LogRecord, process: UInt32) {
        guard log.category == category, log.task != 0, log.message.count >= prefix.count,
              log.message.prefix(prefix.count).elementsEqual(prefix) else { return }
        let key = TaskKey(process: process, id: log.task)
        guard chosen[key] == nil else { return }
        chosen[key] = openParents[key] ?? 0
        order.append(key)
    }

    /// Every task of the trace id.
    package var tasks: Set<TaskKey> { Set(order) }

    /// The tasks of the trace id whose parent is not one of them: the roots
    /// of the trees to show.
    package var roots: Set<TaskKey> {
        Set(order.filter { key in
            let parent = chosen[key] ?? 0
            return parent == 0 || chosen[.init(process: key.process, id: parent)] == nil
        })
    }
}

/// Trace files as separate traces: the files of one daemon session (same
/// session name, in the order given) are one trace; each in-process trace
/// (`TRACED_FILE`, `Trace.start`, session "") is a trace of its own, since
/// every such file numbers its process 1. `tracectl tasks --trace-id`
/// walks each group apart, so that files of several services can be given
/// together.
package enum TraceFileGroups {
    package static func group(_ paths: [String], headers: (String) -> FileHeaderSummary?) -> [[String]] {
        var groups: [[String]] = []
        var bySession: [String: Int] = [:]
        for path in paths {
            let session = headers(path)?.session ?? ""
            if !session.isEmpty, let index = bySession[session] {
                groups[index].append(path)
            } else {
                if !session.isEmpty { bySession[session] = groups.count }
                groups.append([path])
            }
        }
        return groups
    }

    package struct FileHeaderSummary: Sendable {
        package var session: String
        package init(session: String) { self.session = session }
    }
}
