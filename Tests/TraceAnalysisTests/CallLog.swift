import TraceAnalysis

/// A visitor that writes every call it gets as one line, names resolved:
/// tests compare a walk's calls against a wanted list.
struct CallLog: TraceVisitor {
    let catalog: TraceCatalog
    /// Whether `event` (every raw event, which `runPipelined` does not pass on) is logged too.
    var events = false
    var lines: [String] = []

    init(catalog: TraceCatalog, events: Bool = false) {
        self.catalog = catalog
        self.events = events
    }

    private func name(_ name: TraceName) -> String { catalog.string(name) }

    private func time(_ time: Int64?) -> String { time.map(String.init) ?? "-" }

    private func region(_ r: RegionSpan) -> String {
        let misuse = r.misuse.isEmpty ? "" : " " + r.misuse.names.joined(separator: ",")
        return "p\(r.process) t\(r.beginThread) \(name(r.type)) #\(r.serial) parent=\(r.parent) depth=\(r.depth) task=\(r.task)"
            + " \(r.begin)-\(time(r.end))\(r.endThread.map { " end-t\($0)" } ?? "")\(misuse)"
    }

    private func task(_ t: TaskSpan) -> String {
        "p\(t.process) #\(t.id) \(name(t.type)) parent=\(t.parent) t\(t.thread) \(time(t.begin))-\(time(t.end))"
    }

    mutating func event(_ event: TraceEvent, catalog: TraceCatalog) {
        guard events else { return }
        lines.append("event p\(event.process) t\(event.thread) \(event.time) \(event.raw.kind) \(name(event.name))")
    }
    mutating func taskBegan(_ t: TaskSpan) { lines.append("taskBegan " + task(t)) }
    mutating func taskEnded(_ t: TaskSpan) { lines.append("taskEnded " + task(t)) }
    mutating func taskEndWithoutBegin(process: UInt32, id: UInt64, time: Int64) {
        lines.append("taskEndWithoutBegin p\(process) #\(id) \(time)")
    }
    mutating func regionBegan(_ r: RegionSpan) { lines.append("regionBegan " + region(r)) }
    mutating func regionEnded(_ r: RegionSpan) { lines.append("regionEnded " + region(r)) }
    mutating func regionEndedAgain(_ r: RegionSpan, time: Int64, thread: UInt32) {
        lines.append("regionEndedAgain " + region(r) + " again t\(thread) \(time)")
    }
    mutating func orphanEnd(_ end: OrphanEnd) {
        lines.append("orphanEnd p\(end.process) t\(end.thread) of t\(end.beginThread) #\(end.beginSequence) \(end.time)")
    }
    mutating func log(_ log: LogRecord) {
        lines.append("log p\(log.process) t\(log.thread) \(log.time) task=\(log.task) \(name(log.category)): \(log.text)"
            + (log.truncated ? " (truncated)" : ""))
    }
    mutating func counter(_ counter: CounterRecord) {
        lines.append("counter p\(counter.process) t\(counter.thread) \(counter.time) \(name(counter.name))=\(counter.value.number)")
    }
    mutating func dropped(process: UInt32, thread: UInt32, time: Int64, count: UInt64) {
        lines.append("dropped p\(process) t\(thread) \(time) \(count)")
    }
    mutating func finish(last: Int64?) { lines.append("finish \(time(last))") }
}
