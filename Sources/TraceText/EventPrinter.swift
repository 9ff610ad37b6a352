package import TraceFormat
import TraceAnalysis

/// Renders decoded events and a file summary as text.
package struct EventPrinter {
    /// The reader whose tables and diagnostics the summary shows.
    package let reader: TraceReader
    /// Where names come from: a reader that has read the files' metadata
    /// first, since a string record may follow the events that use it.
    package let names: TraceReader

    package init(reader: TraceReader, names: TraceReader? = nil) {
        self.reader = reader
        self.names = names ?? reader
    }

    package func line(_ header: BatchHeader, _ event: RawEvent) -> String {
        let p = header.process
        // "#id" only for an id no string record of the files defines.
        func name(_ id: UInt32) -> String { names.string(p, id) ?? "#\(id)" }
        let thread = KernelThread.tid(ofKey: header.thread).map { "tid\($0)" } ?? "t\(header.thread)"
        let prefix = "\(event.ticks) p\(p) \(thread)" + (event.swiftTask != 0 ? " st\(event.swiftTask)" : "")
        let body: String
        switch event.kind {
        case .regionBegin:
            body = "region-begin \(name(event.name)) #\(event.regionSequence) task=\(event.task)"
        case .regionEnd, .regionEndForeign:
            body = "region-end t\(event.regionThread)#\(event.regionSequence)"
        case .taskBegin:
            body = "task-begin \(name(event.name)) id=\(event.task) parent=\(event.parentTask)"
        case .taskEnd:
            body = "task-end id=\(event.task)"
        case .log:
            let message = String(decoding: event.message, as: UTF8.self)
            body = "log [\(name(event.name))] \(message)\(event.truncated ? "…" : "") task=\(event.task)"
        case .counterInteger:
            body = "counter \(name(event.name))=\(event.integerValue)"
        case .counterDouble:
            body = "counter \(name(event.name))=\(event.doubleValue)"
        case .context, .extension:
            body = "event \(event.kind.name)"
        case .switchOut, .switchIn, .wakeup, .cpuSample, .threadName, .threadExit, .processStat:
            body = Self.kernelBody(event, name)
        }
        return prefix + " " + body + (event.stack != 0 ? " stack=\(event.stack)" : "")
    }

    private static let states = ["R", "S", "D", "T", "X"]
    private static let waits = ["", "lock", "io", "sleep", "syscall"]

    private static func kernelBody(_ event: RawEvent, _ name: (UInt32) -> String) -> String {
        let k = event.kernel
        switch event.kind {
        case .switchOut:
            let state = Int(k.state) < states.count ? states[Int(k.state)] : "state\(k.state)"
            let wait = Int(k.wait) < waits.count ? waits[Int(k.wait)] : "wait\(k.wait)"
            return "switch-out \(state) cpu\(k.cpu)" + (wait.isEmpty ? "" : " wait=\(wait)")
                + (event.name != 0 ? " in=\(name(event.name))" : "")
        case .switchIn:
            return "switch-in cpu\(k.cpu)"
        case .wakeup:
            let waker = k.wakerTid == 0 ? (k.wakerProcess == 0 ? "an interrupt or another process" : "p\(k.wakerProcess)")
                : "p\(k.wakerProcess) tid\(k.wakerTid)"
            return "wakeup by \(waker) to cpu\(k.cpu)"
        case .cpuSample:
            return "cpu-sample cpu\(k.cpu)"
        case .threadName:
            return "thread-name \(name(event.name))"
        case .threadExit:
            return "thread-exit"
        case .processStat:
            let what = ProcessStat(rawValue: k.what)?.name ?? "stat\(k.what)"
            return "stat \(what)=\(UInt64(bitPattern: event.integerValue))"
        default:
            return "event \(event.kind.name)"
        }
    }

    package func batchLine(_ header: BatchHeader) -> String {
        if header.kernel, let tid = KernelThread.tid(ofKey: header.thread) {
            return "kernel batch p\(header.process) tid\(tid) base \(header.baseTicks)"
        }
        return "batch p\(header.process) t\(header.thread) chunk #\(header.chunkSequence) at +\(header.segmentOffset)"
            + " base \(header.baseTicks) regions \(header.regionSequence)"
            + (header.droppedBefore > 0 ? " after \(header.droppedBefore) dropped" : "")
    }

    package func sizes(_ kinds: [TraceEventKind: (count: Int, bytes: Int)]) -> String {
        let total = kinds.values.reduce((0, 0)) { ($0.0 + $1.count, $0.1 + $1.bytes) }
        var lines = ["kind                      events     bytes  bytes/event"]
        for (kind, entry) in kinds.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            lines.append(kind.name.padding(26) + "\(entry.count)".leftPadding(10) + "\(entry.bytes)".leftPadding(10)
                         + String(format2(Double(entry.bytes) / Double(max(entry.count, 1)))).leftPadding(13))
        }
        lines.append("all".padding(26) + "\(total.0)".leftPadding(10) + "\(total.1)".leftPadding(10)
                     + format2(Double(total.1) / Double(max(total.0, 1))).leftPadding(13))
        return lines.joined(separator: "\n")
    }

    private func format2(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }

    /// `nameOverflows`: per process, events whose runtime name was past
    /// the process's bound (RuntimeNames), shown next to its drops;
    /// `outside`: per process, events timed outside the session, warned
    /// about after the reader's diagnostics.
    package func summary(nameOverflows: [UInt32: Int64] = [:], outside: [UInt32: Int] = [:]) -> String {
        var lines: [String] = []
        for header in reader.headers {
            lines.append("file: format \(header.major).\(header.minor), written by \(header.producer)"
                + (header.session.isEmpty ? "" : ", session \(header.session) file \(header.fileIndex)"))
        }
        for (key, process) in reader.processes.sorted(by: { $0.key < $1.key }) {
            let threads = reader.threads.filter { $0.key.process == key }.count
            let drops = reader.drops[key]
            let reasons = (drops?.counts ?? [:]).sorted { $0.key < $1.key }
                .map { "\(DropReason.name($0.key)) \($0.value)" }.joined(separator: ", ")
            lines.append("process \(key): pid \(process.pid) \(process.name), \(threads) threads, "
                + "dropped \(drops?.droppedEvents ?? 0)" + (reasons.isEmpty ? "" : " (\(reasons))")
                + (nameOverflows[key].map { ", \($0) named \(RuntimeNames.other) (over \(RuntimeNames.limit) runtime names)" } ?? ""))
        }
        if let kernel = reader.drops[DropCounts.kernelCollector] {
            let reasons = kernel.counts.sorted { $0.key < $1.key }.map { "\(DropReason.name($0.key)) \($0.value)" }
            lines.append("kernel collector (records of any process): dropped \(kernel.droppedEvents)"
                + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: ", ")))"))
        }
        lines.append("events: \(reader.eventCount) in \(reader.batchCount) batches")
        let timing = outside.sorted { $0.key < $1.key }
            .map { ReaderDiagnostic(fileOffset: 0, problem: .outsideSession(process: $0.key, count: $0.value)) }
        for diagnostic in reader.diagnostics + timing {
            lines.append("warning: \(diagnostic)")
        }
        return lines.joined(separator: "\n")
    }
}
