import CTraceABI
import FoundationEssentials
import TraceFormat
import TraceOTLP
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// A flight recorder that saves its window by itself when a task is slow
/// (`tracectl start --flight-recorder --trigger 'TYPE>DURATION'`;
/// docs/design.md, "Snapshots").
///
/// traced decides, not the client: it decodes the task begins, ends and
/// renames (`task.type`) of the batches it drains, so a client pays nothing
/// for triggers, set or not. Their events wait in a `TimeOrderBuffer` for
/// the same settle delay as the OTLP path's (a task's begin, rename and end
/// can come in different threads' chunks, in any order), then are matched
/// in time order. A task of a trigger's type that ended later than the
/// threshold after its creation fires it; the snapshot is taken
/// `afterNanoseconds` after the task's end (or when the match is made, if
/// that is later): the flight recorder's window as one trace file,
/// `snapshots/NNNNNN.trace` in the session's directory, listed with what
/// fired it in `snapshots/snapshots.json` (a `SnapshotList`, rewritten
/// with each snapshot and at the stop). Every flight recorder has one:
/// without triggers it only takes snapshots by hand (`tracectl snapshot`)
/// and decodes nothing.
///
/// At most one snapshot per `intervalNanoseconds` (by the slow task's
/// end): the triggers in between are counted (`heldBack`). At most
/// `maximum` snapshots are kept, the oldest deleted first.
final class SessionSnapshots {
    typealias Taken = SnapshotList.Entry

    /// A trigger fired: the snapshot is due at `due` (CLOCK_MONOTONIC ns).
    private struct Fired {
        var due: UInt64
        var trigger: String
        var type: String
        var process: UInt32
        var task: UInt64
        var latency: UInt64
    }

    private struct TaskKey: Hashable {
        var process: UInt32
        var id: UInt64
    }

    /// Tasks held open at most (a process that never ends what it begins).
    static let openLimit = 65536

    private let settings: SessionConfig.Snapshots
    /// Each type's lowest threshold, its trigger's text and its index in `list.triggers`.
    private let thresholds: [String: (threshold: UInt64, text: String, index: Int)]
    private let directory: String
    private let settle: Int64
    private var buffer = TimeOrderBuffer()
    private let names = SpanNames()
    private let typeCategory: UInt32
    private var open: [TaskKey: (begin: Int64, type: UInt32)] = [:]
    private var pids: [UInt32: Int32] = [:]
    private var pending: [Fired] = []
    /// The end of the slow task of the last trigger that fired.
    private var lastFired: Int64?
    private var nextIndex: UInt64 = 1
    /// What is kept and counted so far.
    private(set) var list = SnapshotList()
    private var failure: String?

    init(settings: SessionConfig.Snapshots, directory: String, settle: UInt64) {
        self.settings = settings
        var thresholds: [String: (UInt64, String, Int)] = [:]
        for (index, trigger) in settings.triggers.enumerated() {
            list.triggers.append(SnapshotList.Trigger(trigger: trigger.description))
            if thresholds[trigger.type].map({ trigger.thresholdNanoseconds < $0.0 }) ?? true {
                thresholds[trigger.type] = (trigger.thresholdNanoseconds, trigger.description, index)
            }
        }
        self.thresholds = thresholds
        self.directory = directory + "/snapshots"
        self.settle = Int64(clamping: settle)
        typeCategory = names.number(String(describing: SpanCategory.taskType))
    }

    var bytesOnDisk: UInt64 { list.snapshots.map(\.bytes).saturatingSum() }

    /// A problem writing a snapshot not reported yet.
    func takeFailure() -> String? {
        defer { failure = nil }
        return failure
    }

    func join(process: UInt32, pid: Int32) { pids[process] = pid }

    func leave(process: UInt32) {
        buffer.add(SpanEvent(time: Int64(clamping: tc_monotonic_ns()), process: process, thread: 0, swiftTask: 0, task: 0,
                             kind: .processLeft), from: UInt32.max, overflow: apply)
        names.forget(process: process)
    }

    /// Keeps a batch's task begins, ends and renames (its clock's ticks
    /// turned into CLOCK_MONOTONIC ns by `nanoseconds`; `name`: the
    /// process's strings).
    func take(_ header: BatchHeader, events: UnsafeRawBufferPointer, nanoseconds: (UInt64) -> Int64?,
              name: (UInt32) -> String?) {
        guard !thresholds.isEmpty else { return }
        let process = header.process
        var reader = ByteReader(events)
        var state = header.initialState
        while !reader.isAtEnd {
            guard let event = try? EventDecoder.next(&reader, &state) else { return }
            let kind: SpanEvent.Kind
            switch event.kind {
            case .taskBegin:
                kind = .taskBegan(parent: event.parentTask, type: names.number(event.name, of: process, name) ?? SpanNames.overflow)
            case .taskEnd:
                kind = .taskEnded
            case .log where event.task != 0:
                guard names.number(event.name, of: process, name) == typeCategory else { continue }
                kind = .log(category: typeCategory)
            default:
                continue
            }
            guard let time = nanoseconds(event.ticks) else { continue }
            buffer.add(SpanEvent(time: time, process: process, thread: state.thread, swiftTask: 0, task: event.task, kind: kind),
                       message: kind.isLog ? event.message : UnsafeRawBufferPointer(start: nil, count: 0),
                       from: header.thread, overflow: apply)
        }
    }

    /// One event, in time order.
    private func apply(_ event: SpanEvent, _ message: UnsafeRawBufferPointer) {
        let key = TaskKey(process: event.process, id: event.task)
        switch event.kind {
        case .taskBegan(_, let type):
            if open.count < Self.openLimit { open[key] = (event.time, type) }
        case .log:
            guard open[key] != nil else { return }
            open[key]?.type = names.number(String(decoding: message, as: UTF8.self))
        case .taskEnded:
            guard let task = open.removeValue(forKey: key) else {
                list.unmatched += 1
                return
            }
            let type = names[task.type]
            guard let trigger = thresholds[type] else { return }
            list.triggers[trigger.index].tasks += 1
            let latency = UInt64(clamping: event.time.saturatingSubtract(task.begin))
            guard latency > trigger.threshold else { return }
            list.triggers[trigger.index].slow += 1
            if let last = lastFired, event.time.saturatingSubtract(last) < Int64(clamping: settings.intervalNanoseconds) {
                list.heldBack += 1
                return
            }
            lastFired = event.time
            pending.append(Fired(due: UInt64(clamping: event.time).saturatingAdd(settings.afterNanoseconds), trigger: trigger.text,
                                 type: type, process: event.process, task: event.task, latency: latency))
        case .processLeft:
            open = open.filter { $0.key.process != event.process }
        default:
            break
        }
    }

    /// Matches what has settled, and takes the snapshots that are due:
    /// `window` gives the flight recorder's window as a trace file's bytes.
    /// Returns the snapshots taken.
    func tick(now: UInt64, window: () -> [UInt8]) -> [Taken] {
        buffer.release(before: Int64(clamping: now).saturatingSubtract(settle), apply)
        var made: [Taken] = []
        while let first = pending.first, first.due <= now {
            pending.removeFirst()
            if let snapshot = save(first, bytes: window()) { made.append(snapshot) }
        }
        return made
    }

    /// The session stopped: what is pending is taken now.
    func finish(window: () -> [UInt8]) -> [Taken] {
        buffer.releaseAll(apply)
        let due = pending
        pending = []
        let made = due.compactMap { save($0, bytes: window()) }
        if !list.snapshots.isEmpty || list.heldBack > 0 { writeList() }
        return made
    }

    /// A snapshot now, by hand (`tracectl snapshot`).
    func takeByHand(window: [UInt8]) -> Taken? {
        save(Fired(due: 0, trigger: "by hand", type: "", process: 0, task: 0, latency: 0), bytes: window)
    }

    /// A problem writing a snapshot, for the one who asked for it.
    var lastFailure: String? { failure }

    private func save(_ fired: Fired, bytes: [UInt8]) -> Taken? {
        let digits = String(nextIndex)
        let file = String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".trace"
        let path = directory + "/" + file
        do {
            try FileSystem.makeDirectories(directory, mode: 0o750)
            let descriptor = try FileDescriptor.open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC, permissions: 0o640)
            defer { descriptor.close() }
            try descriptor.writeAll(bytes)
            try descriptor.sync()
            try FileSystem.rename(path + ".tmp", to: path)
        } catch {
            try? FileSystem.unlink(path + ".tmp")
            failure = "snapshot \(nextIndex): writing '\(path)' failed: \(error)"
            return nil
        }
        let snapshot = Taken(index: nextIndex, file: file, realtimeNanoseconds: tc_realtime_ns(), trigger: fired.trigger,
                             taskType: fired.type, taskID: fired.task, pid: pids[fired.process] ?? 0,
                             latencyNanoseconds: fired.latency, bytes: UInt64(bytes.count))
        nextIndex += 1
        list.snapshots.append(snapshot)
        while UInt64(list.snapshots.count) > settings.maximum {
            try? FileSystem.unlink(directory + "/" + list.snapshots.removeFirst().file)
        }
        writeList()
        return snapshot
    }

    /// `snapshots.json`: what each kept snapshot holds, replaced whole.
    private func writeList() {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(list) else { return }
        let path = directory + "/snapshots.json"
        do {
            let descriptor = try FileDescriptor.open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC, permissions: 0o640)
            defer { descriptor.close() }
            try descriptor.writeAll(Array(data))
            try FileSystem.rename(path + ".tmp", to: path)
        } catch {
            failure = "writing '\(path)' failed: \(error)"
        }
    }
}

private extension SpanEvent.Kind {
    var isLog: Bool {
        if case .log = self { return true }
        return false
    }
}

extension SessionSnapshots {
    /// The list a stopped session left in `directory`'s `snapshots/`, if any.
    static func stored(in directory: String) -> SnapshotList? {
        let path = directory + "/snapshots/snapshots.json"
        guard let descriptor = try? FileDescriptor.open(path, O_RDONLY) else { return nil }
        defer { descriptor.close() }
        guard let bytes = try? descriptor.readToEnd(limit: 4 << 20) else { return nil }
        return try? JSONDecoder().decode(SnapshotList.self, from: Data(bytes))
    }
}
