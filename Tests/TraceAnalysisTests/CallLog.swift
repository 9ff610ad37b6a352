import TraceAnalysis

/// A visitor that writes every event it gets as one line, names resolved:
/// tests compare a walk's events against a wanted list.
struct CallLog: TraceVisitor {
    let catalog: TraceCatalog
    var lines: [String] = []

    init(catalog: TraceCatalog) {
        self.catalog = catalog
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

    mutating func visit(_ event: TraceEvent) {
        let at = "p\(event.process) t\(event.thread) \(event.time)"
        switch event.kind {
        case .taskBegin(let t): lines.append("taskBegan " + task(t))
        case .taskEnd(let t): lines.append("taskEnded " + task(t))
        case .taskEndWithoutBegin(let id): lines.append("taskEndWithoutBegin p\(event.process) #\(id) \(event.time)")
        case .regionBegin(let r): lines.append("regionBegan " + region(r))
        case .regionEnd(let r): lines.append("regionEnded " + region(r))
        case .regionEndAgain(let r): lines.append("regionEndedAgain " + region(r) + " again t\(event.thread) \(event.time)")
        case .orphanEnd(let end):
            lines.append("orphanEnd p\(event.process) t\(event.thread) of t\(end.beginThread) #\(end.beginSequence) \(event.time)")
        case .log(let log):
            lines.append("log \(at) task=\(log.task) \(name(log.category)): \(log.text)" + (log.truncated ? " (truncated)" : ""))
        case .counter(let counter): lines.append("counter \(at) \(name(counter.name))=\(counter.value.number)")
        case .dropped(let count): lines.append("dropped \(at) \(count)")
        case .unknown(let tag): lines.append("unknown \(at) \(tag)")
        case .switchOut(let out):
            lines.append("switchOut \(at) \(out.state) \(out.wait) \(name(out.why)) cpu\(out.cpu) stack=\(out.stack)")
        case .switchIn(let cpu): lines.append("switchIn \(at) cpu\(cpu)")
        case .wakeup(let w): lines.append("wakeup \(at) by p\(w.wakerProcess) t\(w.wakerThread) cpu\(w.cpu)")
        case .cpuSample(let cpu, let stack): lines.append("cpuSample \(at) cpu\(cpu) stack=\(stack)")
        case .threadName(let n): lines.append("threadName \(at) \(name(n))")
        case .threadExit: lines.append("threadExit \(at)")
        case .processStat(let what, let value): lines.append("processStat \(at) \(what.map { "\($0)" } ?? "?")=\(value)")
        }
    }

    mutating func finish(last: Int64?) { lines.append("finish \(time(last))") }
}
