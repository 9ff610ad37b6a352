package import TraceAnalysis
import TraceFormat

/// Renders task trees as text: where the time went, then a timeline of
/// regions (nested) and logs (in place), then the waits of its threads
/// (traces with kernel events), then child tasks, indented.
package enum TaskTreePrinter {
    package static func render(_ tree: TaskTree, traceStart: Int64, indent: String = "") -> [String] {
        var out: [String] = []
        let d = ReportPrinter.duration
        let begin = tree.begin ?? tree.regions.first?.begin ?? traceStart
        let latency = tree.latency.map { "latency \(d($0))" } ?? (tree.begin == nil ? "created before the trace" : "not ended in the trace")
        out.append(indent + "task \(tree.type) #\(tree.id)  \(latency)  created +\(d(begin.saturatingSubtract(traceStart)))"
                   + " in pid \(tree.pid)" + (tree.parent != 0 ? "  parent #\(tree.parent)" : ""))
        let threads = tree.threads.map { $0.name.isEmpty ? "\($0.tid)" : "\($0.tid) (\($0.name))" }
        out.append(indent + "  ran on thread(s) \(threads.joined(separator: ", "))"
                   + (tree.swiftTasks.isEmpty ? "" : "; \(tree.swiftTasks.count) Swift task(s)"))
        if !tree.stack.isEmpty {
            out.append(indent + "  created at")
            out.append(contentsOf: tree.stack.prefix(8).map { indent + "      \($0)" })
        }
        if let activity = tree.activity, let total = tree.latency, total > 0 {
            let parts = Activity.allCases.filter { activity[$0] > 0 }.map {
                "\($0.name) \(d(activity[$0])) \(format(Double(activity[$0]) * 100 / Double(total)))%"
            }
            out.append(indent + "  what its thread did (kernel events): " + parts.joined(separator: ", ")
                       + (tree.untold.map { " (\(untoldText($0)))" } ?? ""))
        }
        if let total = tree.latency, total > 0 {
            out.append(indent + "  where the time went (self time; regions nested in others not counted twice):")
            var rows = tree.selfTime.map { ($0.region, $0.ns) }
            if let uncovered = tree.uncovered { rows.append(("(in no region)", uncovered)) }
            for (name, ns) in rows {
                let percent = Double(ns) * 100 / Double(total)
                out.append(indent + "    " + name.padding(24) + d(ns).leftPadding(10) + "\(format(percent))%".leftPadding(9))
            }
        }
        out.append(indent + "  timeline (offset from creation, duration):")
        var logs = tree.logs[...]
        func emitLogs(before time: Int64?, depth: Int) {
            while let log = logs.first, time.map({ log.time < $0 }) ?? true {
                logs.removeFirst()
                out.append(indent + "    " + "+\(d(log.time.saturatingSubtract(begin)))".padding(11)
                           + String(repeating: "│ ", count: depth) + "log [\(log.category)] \(log.message)\(log.truncated ? "…" : "")")
            }
        }
        func emit(_ region: TaskTree.Region, depth: Int) {
            emitLogs(before: region.begin, depth: depth)
            let length = region.end.map { d($0.saturatingSubtract(region.begin)) } ?? "never ended"
            let misuse = region.misuse.isEmpty ? "" : "  ⚠ " + region.misuse.joined(separator: ", ")
            out.append(indent + "    " + "+\(d(region.begin.saturatingSubtract(begin)))".padding(11)
                       + String(repeating: "│ ", count: depth) + "├ \(region.type) \(length)  [thread \(region.thread)"
                       + (region.swiftTask != 0 ? ", Swift task \(region.swiftTask)" : "") + "]" + misuse
                       + (region.activity.map { "  " + split($0) } ?? "")
                       + (region.untold.map { " (\(untoldText($0)))" } ?? ""))
            if !region.misuse.isEmpty {
                for frame in region.stack.prefix(6) { out.append(indent + "    " + String(repeating: " ", count: 11 + 2 * depth) + "  at \(frame)") }
            }
            for child in region.children { emit(child, depth: depth + 1) }
            emitLogs(before: region.end, depth: depth + 1)
        }
        for region in tree.regions { emit(region, depth: 0) }
        emitLogs(before: nil, depth: 0)
        if tree.omittedRegions > 0 || tree.omittedLogs > 0 {
            out.append(indent + "    (\(tree.omittedRegions) more region(s) and \(tree.omittedLogs) more log(s) not shown)")
        }
        if tree.end != nil || tree.latency != nil, let end = tree.end {
            out.append(indent + "    " + "+\(d(end.saturatingSubtract(begin)))".padding(11) + "end")
        }
        if let waits = tree.waits { out.append(contentsOf: render(waits, of: tree, from: begin, indent: indent)) }
        if !tree.children.isEmpty {
            out.append(indent + "  child tasks:")
            for child in tree.children { out.append(contentsOf: render(child, traceStart: traceStart, indent: indent + "    ")) }
        }
        return out
    }

    /// Frames shown under each wait.
    static let waitFrames = 4

    /// The waits of a task's threads, in time order: when, what, how long,
    /// in which region and on which thread, who woke it, and where it blocked.
    private static func render(_ waits: [TaskTree.Wait], of tree: TaskTree, from begin: Int64, indent: String) -> [String] {
        let d = ReportPrinter.duration
        guard !waits.isEmpty else { return [indent + "  waits (kernel events): none began in it"] }
        var out = [indent + "  waits (offset from creation, wait, call, how long; where, who woke it; the stack where it blocked):"]
        for wait in waits {
            let waker: String
            if let w = wait.waker {
                if w.process == 0 {
                    waker = "woken by an interrupt or another process"
                } else {
                    let name = w.name.isEmpty ? "" : " (\(w.name))"
                    let process = w.process == tree.process ? "" : " of pid \(w.pid)"
                    waker = w.tid == 0 ? "woken by a thread not known\(process)" : "woken by thread \(w.tid)\(name)\(process)"
                }
            } else {
                waker = "its wakeup is not in the trace"
            }
            out.append(indent + "    " + "+\(d(wait.begin.saturatingSubtract(begin)))".padding(11)
                       + "\(wait.wait)" + (wait.why.isEmpty ? "" : " \(wait.why)") + " \(d(wait.end.saturatingSubtract(wait.begin)))"
                       + "  " + (wait.region.map { "in \($0) " } ?? "") + "on thread \(wait.thread), \(waker)")
            let stack = StackText.abbreviated(wait.stack, frames: waitFrames)
            let margin = indent + String(repeating: " ", count: 17)
            for frame in stack.frames { out.append(margin + "at \(frame)") }
            if stack.more > 0 { out.append(margin + "… \(stack.more) more frame(s)") }
            if let cut = stack.cut { out.append(margin + cut) }
        }
        if let omitted = tree.omittedWaits, omitted > 0 { out.append(indent + "    (\(omitted) more wait(s) not shown)") }
        return out
    }

    /// Why part of a split is unknown (`Untold.name`).
    private static func untoldText(_ reason: String) -> String {
        switch reason {
        case Untold.leftUnseen.name: "unknown: ended on another thread, its own not seen idle before"
        case Untold.resumedUnseen.name: "unknown: suspended, resumed on a thread not seen leaving idle since"
        default: "unknown: \(reason)"
        }
    }

    /// The parts of a split that took time, in `Activity` order.
    private static func split(_ activity: ActivityTimes) -> String {
        Activity.allCases.filter { activity[$0] > 0 }.map { "\($0.name) \(ReportPrinter.duration(activity[$0]))" }
            .joined(separator: ", ")
    }

    /// One decimal. The value comes from file times (a hostile region can
    /// last 2^63 ns in a task of 1 µs): the conversion saturates.
    private static func format(_ value: Double) -> String {
        let tenths = Int(saturating: (value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }
}
