package import TraceAnalysis
import TraceFormat

/// Renders task trees as text: where the time went, then a timeline of
/// regions (nested) and logs (in place), then child tasks, indented.
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
                       + (region.swiftTask != 0 ? ", Swift task \(region.swiftTask)" : "") + "]" + misuse)
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
        if !tree.children.isEmpty {
            out.append(indent + "  child tasks:")
            for child in tree.children { out.append(contentsOf: render(child, traceStart: traceStart, indent: indent + "    ")) }
        }
        return out
    }

    /// One decimal. The value comes from file times (a hostile region can
    /// last 2^63 ns in a task of 1 µs): the conversion saturates.
    private static func format(_ value: Double) -> String {
        let tenths = Int(saturating: (value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }
}
