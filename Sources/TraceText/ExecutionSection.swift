/// The report's text about what the kernel events tell: per task and region
/// type, where the wall time went (docs/analysis.md, "Where the time went:
/// execution"), the scheduler latency, and the stacks where threads waited
/// longest ("Top blocking stacks"). A trace without kernel events
/// gets one line saying so, and nothing else of the report changes.
extension ReportPrinter {
    /// Where traced records the events that fill this section.
    static let noExecutionEvents =
        "execution events: none in this trace (traced records them where perf events are permitted; see `tracectl status`)"

    /// Each part's column: wide enough for "runnable", "123.5µs" and "100%".
    private static let partWidth = 10

    /// The wall time of each type by activity, as time on one line and as
    /// its share of the type's total on the next; then the scheduler latency.
    static func execution(_ report: ReportDocument) -> [String] {
        guard let execution = report.execution else { return [] }
        var out: [String] = []
        out.append("")
        out.append("execution (where the wall time went, from kernel events: time, and share of the type's total)")
        for (heading, rows) in [("task type", report.tasks), ("region type", report.regions)] {
            let rows = rows.filter { $0.activity != nil && ($0.latency?.total ?? 0) > 0 }
            guard let first = rows.first?.activity else { continue }
            out.append("  " + heading.padding(24) + first.parts.map { $0.name.leftPadding(partWidth) }.joined())
            for row in rows {
                guard let activity = row.activity, let total = row.latency?.total else { continue }
                out.append("  " + row.type.padding(24)
                           + activity.parts.map { part($0.nanoseconds, duration).leftPadding(partWidth) }.joined())
                out.append("  " + "".padding(24)
                           + activity.parts.map { part($0.nanoseconds) { share($0, of: total) }.leftPadding(partWidth) }
                    .joined())
            }
        }
        out.append(contentsOf: untold(report.tasks, "task") + untold(report.regions, "region"))
        let wait = execution.schedulerLatency
        out.append("")
        out.append("scheduler latency (from a wakeup to the switch-in that ends it: how long woken threads waited for a CPU)")
        out.append("  " + "wakeups".leftPadding(9) + "p50".leftPadding(11) + "p90".leftPadding(11) + "p99".leftPadding(11)
                   + "max".leftPadding(11))
        if let l = wait.latency {
            out.append("  " + "\(wait.count)".leftPadding(9) + duration(l.p50).leftPadding(11) + duration(l.p90).leftPadding(11)
                       + duration(l.p99).leftPadding(11) + duration(l.max).leftPadding(11))
        } else {
            out.append("  " + "0".leftPadding(9))
        }
        out.append(contentsOf: blocking(execution.blocking, processes: report.trace.processes))
        return out
    }

    /// Why some of the unknown time is unknown: the spans whose Swift task
    /// moved threads without idle threads telling when.
    private static func untold(_ rows: [ReportDocument.TypeRow], _ kind: String) -> [String] {
        rows.compactMap { row in
            guard let untold = row.untold else { return nil }
            let left = untold["leftUnseen"] ?? 0, resumed = untold["resumedUnseen"] ?? 0
            var reasons: [String] = []
            if left > 0 { reasons.append("\(left) ended on another thread that was not seen idle before") }
            if resumed > 0 { reasons.append("\(resumed) suspended, resumed on a thread not seen leaving idle since") }
            return "  \(kind) \(row.type): part unknown, its Swift task moved unseen: " + reasons.joined(separator: "; ")
        }
    }

    /// Frames shown under each blocking stack.
    static let blockingFrames = 5

    /// The stacks where threads waited longest: per stack its wait, call,
    /// total and count, then its innermost frames.
    private static func blocking(_ rows: [ReportDocument.BlockingRow], processes: [ReportDocument.ProcessRow]) -> [String] {
        var out = ["", "blocking stacks (where threads waited longest: from leaving the CPU to wait to the wakeup, "
                   + "summed per stack, wait and call)"]
        guard !rows.isEmpty else {
            out.append("  none: no wait of a known kind (lock, io, sleep, syscall) ended in the trace")
            return out
        }
        out.append("  " + "wait".padding(9) + "why".padding(24) + "total".leftPadding(10) + "waits".leftPadding(9))
        for row in rows {
            let process = processes.count > 1 ? processes.first { $0.process == row.process } : nil
            out.append("  " + row.wait.padding(9) + (row.why.isEmpty ? "-" : row.why).padding(24)
                       + duration(row.total).leftPadding(10) + "\(row.count)".leftPadding(9)
                       + (process.map { "  pid \($0.pid) \($0.name)" } ?? ""))
            if row.stack.isEmpty { out.append("      (no user stack recorded)") }
            let stack = StackText.abbreviated(row.stack, frames: blockingFrames)
            for frame in stack.frames { out.append("      at \(frame)") }
            if stack.more > 0 { out.append("      … \(stack.more) more frame(s)") }
            if let cut = stack.cut { out.append("      " + cut) }
        }
        return out
    }

    /// A part as `text` says it, or "-" when it is none of the time.
    private static func part(_ nanoseconds: Int64, _ text: (Int64) -> String) -> String {
        nanoseconds == 0 ? "-" : text(nanoseconds)
    }

    /// A whole percentage; "<1%" for a part that rounds to none of the total.
    private static func share(_ part: Int64, of total: Int64) -> String {
        let percent = (Double(part) * 100 / Double(total)).rounded()
        return percent < 1 ? "<1%" : "\(Int(min(percent, 100)))%"
    }
}
