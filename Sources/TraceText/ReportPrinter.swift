import TraceAnalysis
import TraceFormat

/// Renders a report as aligned text, with a log-scale histogram per task and
/// region type drawn in the terminal.
package enum ReportPrinter {
    package static func render(_ report: ReportDocument) -> String {
        var out: [String] = []
        let threads = report.trace.processes.map(\.threads).reduce(0, +)
        out.append("\(report.trace.events) events from \(report.trace.processes.count) process(es), \(threads) thread(s), "
                   + "over \(duration(report.trace.duration))")
        if let filters = filterLine(report.filters) { out.append("filtered: \(filters)") }
        for process in report.trace.processes {
            out.append("  process \(process.process): pid \(process.pid) \(process.name), \(process.threads) thread(s), \(process.events) event(s)")
        }
        let byReason = Dictionary(report.drops.map { ($0.reason, $0.count) }, uniquingKeysWith: { $0.saturatingAdd($1) })
        let reasons = byReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        out.append("dropped: \(report.droppedEvents) event(s)" + (reasons.isEmpty ? "" : " (\(reasons))"))
        if report.drops.count > 1 || report.trace.processes.count > 1 {
            for drop in report.drops {
                out.append(drop.process == DropCounts.kernelCollector
                           ? "  \(drop.name) (records of any process): \(drop.reason) \(drop.count)"
                           : "  pid \(drop.pid) \(drop.name): \(drop.reason) \(drop.count)")
            }
        }
        for row in report.counters where row.name == RuntimeNames.overflowCounter {
            let process = report.trace.processes.first { $0.process == row.process }
            out.append("names over the bound: \(Int64(row.max)) event(s) of "
                       + (process.map { "pid \($0.pid) \($0.name)" } ?? "process \(row.process)")
                       + " recorded as \(RuntimeNames.other) (\(RuntimeNames.limit) runtime names per process)")
        }
        if report.execution == nil { out.append(noExecutionEvents) }
        if !report.tasks.isEmpty {
            out.append("")
            out.append("tasks (latency from creation to first end; percentiles to \(report.precision.significantDigits) significant digits)")
            out.append(contentsOf: table(report.tasks))
            for row in report.tasks where row.unfinished > 0 {
                out.append("  \(row.type): \(row.unfinished) not ended in the trace")
            }
            for row in report.tasks where row.count > 0 {
                out.append("")
                out.append("  \(row.type): \(row.count) task(s)")
                out.append(contentsOf: histogram(row.histogram))
                if let slowest = row.slowest, !slowest.isEmpty {
                    let ids = slowest.prefix(5).map { "\($0.id) (\(duration($0.latency)))" }.joined(separator: ", ")
                    out.append("    slowest: \(ids)")
                }
            }
            if let example = report.tasks.first(where: { $0.count > 0 }) {
                out.append("")
                out.append("  open one: tracectl tasks FILE --type \(quoted(example.type)) --slowest 1")
            }
        }
        if !report.regions.isEmpty {
            out.append("")
            out.append("regions (duration)")
            out.append(contentsOf: table(report.regions))
            for row in report.regions where row.count > 0 {
                out.append("")
                out.append("  \(row.type): \(row.count) region(s)")
                out.append(contentsOf: histogram(row.histogram))
            }
        }
        out.append(contentsOf: execution(report))
        if !report.logs.isEmpty {
            out.append("")
            out.append("logs")
            for row in report.logs {
                out.append("  " + row.category.padding(24) + " \(row.count)")
                for example in row.examples.prefix(3) {
                    out.append("      e.g. +\(duration(example.time.saturatingSubtract(report.trace.start))) "
                               + "\(example.message)\(example.truncated ? "…" : "")")
                }
            }
        }
        if !report.counters.isEmpty {
            out.append("")
            out.append("counters" + String(repeating: " ", count: 19) + "samples        min        max       last")
            for c in report.counters {
                let name = report.trace.processes.count > 1 ? "\(c.name) (p\(c.process))" : c.name
                out.append("  \(name.padding(24)) " + "\(c.samples)".leftPadding(8) + number(c.min).leftPadding(11)
                           + number(c.max).leftPadding(11) + number(c.last).leftPadding(11))
            }
        }
        let misuse = report.misuse.map { "\($0.kind): \($0.count)" }
            + (report.orphanEnds > 0 ? ["ends without a begin: \(report.orphanEnds)"] : [])
        if !misuse.isEmpty {
            out.append("")
            out.append("region misuse: " + misuse.joined(separator: ", "))
            for row in report.misuse {
                for example in row.examples.prefix(3) {
                    out.append("  \(row.kind): \(example.type) begun +\(duration(example.begin.saturatingSubtract(report.trace.start))) "
                               + "on thread \(example.thread)" + (example.task != 0 ? " in task \(example.task)" : ""))
                    for frame in example.stack.prefix(8) { out.append("      at \(frame)") }
                }
            }
        }
        if report.taskEndsWithoutBegin > 0 {
            out.append("task ends without a creation in the trace: \(report.taskEndsWithoutBegin)")
        }
        if !report.diagnostics.isEmpty {
            out.append("")
            out.append(contentsOf: report.diagnostics.map { "warning: \($0.problem)" })
        }
        return out.joined(separator: "\n")
    }

    private static func table(_ rows: [ReportDocument.TypeRow]) -> [String] {
        var lines = ["  " + "type".padding(24) + "count".leftPadding(9) + "p50".leftPadding(11) + "p90".leftPadding(11)
                     + "p99".leftPadding(11) + "max".leftPadding(11) + "total".leftPadding(11)]
        for row in rows {
            guard let l = row.latency else { continue }
            lines.append("  " + row.type.padding(24) + "\(row.count)".leftPadding(9) + duration(l.p50).leftPadding(11)
                         + duration(l.p90).leftPadding(11) + duration(l.p99).leftPadding(11) + duration(l.max).leftPadding(11)
                         + duration(l.total).leftPadding(11))
        }
        return lines
    }

    /// One row per bucket from the first to the last non-empty one.
    package static func histogram(_ buckets: [ReportDocument.Bucket], width: Int = 40) -> [String] {
        guard let first = buckets.first, let last = buckets.last else { return [] }
        let counts = Dictionary(buckets.map { ($0.low, $0.count) }, uniquingKeysWith: +)
        let peak = buckets.map(\.count).max() ?? 1
        var lines: [String] = []
        var index = LogBuckets.index(of: first.low)
        let lastIndex = LogBuckets.index(of: last.low)
        while index <= lastIndex {
            let bucket = LogBuckets.bucket(index)
            let count = counts[bucket.low] ?? 0
            let cells = count == 0 ? 0 : max(1, count * width / peak)
            let bar = String(repeating: "█", count: cells)
            lines.append("    " + "\(duration(bucket.low))–\(duration(bucket.high))".leftPadding(15) + " │" + bar.padding(width)
                         + " \(count)")
            index += 1
        }
        return lines
    }

    private static func filterLine(_ filters: ReportDocument.Filters) -> String? {
        var parts: [String] = []
        if let processes = filters.processes { parts.append("process \(processes.joined(separator: ","))") }
        if let types = filters.taskTypes { parts.append("task type \(types.joined(separator: ","))") }
        if let since = filters.since { parts.append("since +\(duration(since))") }
        if let until = filters.until { parts.append("until +\(duration(until))") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    private static func quoted(_ text: String) -> String {
        text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." } ? text : "'\(text)'"
    }

    package static func duration(_ nanoseconds: Int64) -> String {
        let value = Double(nanoseconds)
        switch abs(value) {
        case ..<1_000: return "\(nanoseconds)ns"
        case ..<1_000_000: return fixed(value / 1_000) + "µs"
        case ..<1_000_000_000: return fixed(value / 1_000_000) + "ms"
        default: return fixed(value / 1_000_000_000) + "s"
        }
    }

    private static func fixed(_ value: Double) -> String {
        let scaled = (value * 10).rounded() / 10
        return scaled == scaled.rounded() && abs(scaled) < 1e15 ? "\(Int64(scaled))" : "\(scaled)"
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int64(value))" : "\(value)"
    }
}
