package import TraceAnalysis
package import TraceFormat

/// Renders a TraceReport as aligned text.
package enum ReportPrinter {
    package static func render(_ report: TraceReport, diagnostics: [ReaderDiagnostic]) -> String {
        var out: [String] = []
        out.append("\(report.events) events from \(report.processes) process(es), \(report.threads) thread(s), over \(duration(report.span))")
        let dropLine = report.drops.sorted { $0.key < $1.key }.map { "\(DropReason.name($0.key)) \($0.value)" }.joined(separator: ", ")
        out.append("dropped: \(report.droppedEvents) event(s)" + (dropLine.isEmpty ? "" : " (\(dropLine))"))
        if !report.tasks.isEmpty {
            out.append("")
            out.append("tasks (latency from creation to first end)")
            out.append(contentsOf: table(report.tasks))
            for (type, count) in report.unfinishedTasks.sorted(by: { $0.key < $1.key }) {
                out.append("  \(type): \(count) not ended in the trace")
            }
        }
        if !report.regions.isEmpty {
            out.append("")
            out.append("regions (duration)")
            out.append(contentsOf: table(report.regions))
        }
        if !report.logs.isEmpty {
            out.append("")
            out.append("logs")
            for (category, count) in report.logs.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }) {
                out.append("  \(pad(category, 24)) \(count)")
            }
        }
        if !report.counters.isEmpty {
            out.append("")
            out.append("counters" + String(repeating: " ", count: 19) + "samples        min        max       last")
            for (name, c) in report.counters.sorted(by: { $0.key < $1.key }) {
                out.append("  \(pad(name, 24)) \(lpad("\(c.samples)", 8)) \(lpad(number(c.minimum), 10)) \(lpad(number(c.maximum), 10)) \(lpad(number(c.last), 10))")
            }
        }
        let misuse = report.misuse.sorted { "\($0.key)" < "\($1.key)" }.map { "\($0.key): \($0.value)" }
        if !misuse.isEmpty || report.orphanEnds > 0 {
            out.append("")
            out.append("region misuse: " + (misuse + (report.orphanEnds > 0 ? ["ends without a begin: \(report.orphanEnds)"] : [])).joined(separator: ", "))
        }
        if !diagnostics.isEmpty {
            out.append("")
            out.append(contentsOf: diagnostics.map { "warning: \($0)" })
        }
        return out.joined(separator: "\n")
    }

    private static func table(_ rows: [String: TraceReport.Distribution]) -> [String] {
        var lines = ["  " + pad("type", 24) + lpad("count", 8) + lpad("p50", 11) + lpad("p90", 11) + lpad("p99", 11) + lpad("max", 11)]
        for (type, d) in rows.sorted(by: { $0.value.total > $1.value.total }) {
            lines.append("  " + pad(type, 24) + lpad("\(d.count)", 8) + lpad(duration(d.p50), 11) + lpad(duration(d.p90), 11)
                         + lpad(duration(d.p99), 11) + lpad(duration(d.maximum), 11))
        }
        return lines
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
        return scaled == scaled.rounded() ? "\(Int(scaled))" : "\(scaled)"
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int64(value))" : "\(value)"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    private static func lpad(_ text: String, _ width: Int) -> String {
        text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
    }
}
