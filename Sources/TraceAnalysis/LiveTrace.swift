import CTraceABI
package import TraceFormat

/// A running session's trace as a viewer receives it (`tracectl top`,
/// `tail`; docs/design.md, "Watching a session"): whole frames, in the
/// order traced wrote them, turned into the task ends and logs a live view
/// shows.
///
/// Batches of different threads come in the order traced drained them, not
/// in time order: a task's end can come before its begin (the thread that
/// began it had not filled its chunk yet). So a task is matched as its
/// events come: its begin opens it, its end closes it, and an end whose
/// begin has not come waits `settle` (as traced's OTLP path does) before it
/// counts as an end without a begin. A task's type is its last one: its
/// begin's name, or the last `task.type` log before its end. The events of
/// one `take` come out in time order.
package final class LiveTrace {
    /// One thing a live view shows.
    package struct Event: Sendable {
        package enum Kind: Sendable {
            /// A task ended `latency` ns after its creation.
            case taskEnd(id: UInt64, type: String, latency: Int64)
            /// A log; `taskType` is the type of its task, if that is open.
            case log(category: String, message: String, task: UInt64, taskType: String?)
        }

        /// The trace's key of the process (`pid`, `processName` name it).
        package var process: UInt32
        package var pid: Int32
        package var processName: String
        /// CLOCK_MONOTONIC ns.
        package var time: Int64
        package var kind: Kind
    }

    private struct OpenTask {
        var begin: Int64
        /// The begin's name (a string of its process), until a rename.
        var name: UInt32
        var renamed: String?
    }

    /// Tasks held open, and ends waiting for their begin, at most (a
    /// process that never ends what it begins).
    package static let openLimit = 1 << 16

    private let reader = TraceReader()
    private let settle: Int64
    // Unchecked: `take` alone works on them, one access at a time; the
    // run-time checks of a class's stored property at each event's use
    // were a part of top's CPU (docs/performance.md, "Watching a session").
    @exclusivity(unchecked) private var open: [TaskKey: OpenTask] = [:]
    /// Ends whose begin has not come: their time, and when they came (the
    /// newest event time seen then).
    @exclusivity(unchecked) private var earlyEnds: [TaskKey: (end: Int64, came: Int64)] = [:]
    @exclusivity(unchecked) private var converter: (syncs: Int, clock: ClockConverter)?
    /// The last event's process and its clock, and the piece of the clock
    /// conversion its ticks fell in: a batch's events share them.
    @exclusivity(unchecked) private var lastClock: (process: UInt32, kind: UInt32)?
    @exclusivity(unchecked) private var piece: ClockConverter.Segment?
    /// The newest event time seen (CLOCK_MONOTONIC ns).
    @exclusivity(unchecked) package private(set) var newest: Int64 = .min
    /// Ends whose begin never came within `settle` (the task began before
    /// the viewer attached, or in what it lost).
    package private(set) var endsWithoutBegin = 0
    /// Tasks still open when their process ended, or when frames were lost.
    package private(set) var abandoned = 0

    /// `settle`: how long an end waits for its begin (ns).
    package init(settle: Int64 = 2_000_000_000) {
        self.settle = settle
    }

    /// The process record of `process`, once its trace named it.
    package func processRecord(_ process: UInt32) -> ProcessRecord? { reader.processes[process] }

    /// Open tasks by their type now (what is in flight).
    package func openByType() -> [String: Int] {
        var counts: [String: Int] = [:]
        for (key, task) in open { counts[type(of: task, process: key.process), default: 0] += 1 }
        return counts
    }

    /// CLOCK_REALTIME minus CLOCK_MONOTONIC, from the first clock sync that came.
    package var realtimeOffset: Int64? { ClockConverter.realtimeOffset(from: reader.clockSyncs) }

    /// Problems decoding what came (a damaged frame, an unknown record).
    package var diagnostics: [ReaderDiagnostic] { reader.diagnostics }

    /// Decodes the next frames; returns their task ends and logs in time order.
    package func take(_ frames: UnsafeRawBufferPointer) -> [Event] {
        var out: [Event] = []
        reader.readContinuing(frames) { header, raw in
            // A pattern, not `==` (`TraceEventKind`: a tenth of top's CPU).
            switch raw.kind {
            case .taskBegin, .taskEnd, .log: break
            default: return
            }
            let process = header.process
            guard let time = nanoseconds(raw.ticks, process: process) else { return }
            newest = max(newest, time)
            let key = TaskKey(process: process, id: raw.task)
            switch raw.kind {
            case .taskBegin:
                let task = OpenTask(begin: time, name: raw.name)
                if !earlyEnds.isEmpty, let early = earlyEnds.removeValue(forKey: key) {
                    out.append(ended(task, key: key, at: early.end))
                } else if open.count < Self.openLimit {
                    open[key] = task
                }
            case .taskEnd:
                if let task = open.removeValue(forKey: key) {
                    out.append(ended(task, key: key, at: time))
                } else if earlyEnds.count < Self.openLimit {
                    earlyEnds[key] = (time, newest)
                }
            default:
                let category = reader.string(process, raw.name) ?? "string #\(raw.name)"
                let message = String(decoding: raw.message, as: UTF8.self)
                if raw.task != 0, !message.isEmpty, category == TraceCatalog.taskTypeCategory, open[key] != nil {
                    open[key]?.renamed = message
                }
                let taskType = raw.task == 0 ? nil : open[key].map { type(of: $0, process: process) }
                out.append(event(process, time, .log(category: category, message: message, task: raw.task, taskType: taskType)))
            }
        }
        expire()
        forgetEndedProcesses()
        out.sort { $0.time < $1.time }
        return out
    }

    /// Frames were lost: what was open may have ended in them, so nothing
    /// stays open (counted as abandoned).
    package func lost() {
        abandoned += open.count
        open.removeAll()
        endsWithoutBegin += earlyEnds.count
        earlyEnds.removeAll()
    }

    private func ended(_ task: OpenTask, key: TaskKey, at end: Int64) -> Event {
        event(key.process, end, .taskEnd(id: key.id, type: type(of: task, process: key.process),
                                         latency: end.saturatingSubtract(task.begin)))
    }

    private func event(_ process: UInt32, _ time: Int64, _ kind: Event.Kind) -> Event {
        let record = reader.processes[process]
        return Event(process: process, pid: record?.pid ?? 0, processName: record?.name ?? "", time: time, kind: kind)
    }

    private func type(of task: OpenTask, process: UInt32) -> String {
        task.renamed ?? reader.string(process, task.name) ?? "string #\(task.name)"
    }

    /// Ends that waited `settle` for their begin count as ends without one.
    private func expire() {
        guard !earlyEnds.isEmpty else { return }
        let before = earlyEnds.count
        earlyEnds = earlyEnds.filter { newest.saturatingSubtract($0.value.came) < settle }
        endsWithoutBegin += before - earlyEnds.count
    }

    /// Tasks of a process that ended never end.
    private func forgetEndedProcesses() {
        guard !reader.processEnds.isEmpty, !open.isEmpty else { return }
        let before = open.count
        open = open.filter { reader.processEnds[$0.key.process] == nil }
        abandoned += before - open.count
    }

    /// CLOCK_MONOTONIC ns of `ticks` of `process`'s clock, through the
    /// clock syncs received so far.
    private func nanoseconds(_ ticks: UInt64, process: UInt32) -> Int64? {
        let kind: UInt32
        if let last = lastClock, last.process == process {
            kind = last.kind
        } else {
            // A process not named yet counts as the default clock, and is
            // looked up again at its next event.
            guard let record = reader.processes[process] else { return Int64(clamping: ticks) }
            kind = record.clockKind
            // A piece converts one clock's ticks.
            if lastClock?.kind != kind { piece = nil }
            lastClock = (process, kind)
        }
        guard kind != UInt32(TC_CLOCK_MONOTONIC_NS) else { return Int64(clamping: ticks) }
        if converter?.syncs != reader.clockSyncs.count {
            let nominal = reader.processes.values.map(\.nominalTicksPerSecond).max() ?? 0
            converter = (reader.clockSyncs.count, ClockConverter(syncs: reader.clockSyncs, nominalTicksPerSecond: nominal))
            piece = nil
        }
        return converter?.clock.monotonicNanoseconds(ticks: ticks, clockKind: kind, piece: &piece)
    }
}
