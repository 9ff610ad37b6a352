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
/// for triggers, set or not. A task is matched as its events come: its
/// begin opens it, its end closes it, and one that lasted no longer than
/// the lowest threshold is done with there (most are). One that lasted
/// longer, or whose end came before its begin (threads' chunks come in any
/// order), waits for the settle delay, as the OTLP path's events do, so
/// that a rename or begin drained later still counts; then it is decided.
/// A task of a trigger's type that ended later than the
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
        /// When the slow task began (CLOCK_MONOTONIC ns; 0 by hand).
        var begin: Int64 = 0
        var trigger: String
        var type: String
        /// The process's pid (0 by hand, or if it was never told).
        var pid: Int32 = 0
        var task: UInt64
        var latency: UInt64
    }

    private struct Waiting {
        var begin: Int64?
        var end: Int64
        var type: UInt32?
        /// CLOCK_MONOTONIC ns when it is decided.
        var decide: UInt64
    }

    /// Tasks held open at most (a process that never ends what it begins).
    static let openLimit = 65536

    private let settings: SessionConfig.Snapshots
    /// Each type's lowest threshold, its trigger's text and its index in `list.triggers`.
    private let thresholds: [String: (threshold: UInt64, text: String, index: Int)]
    private let directory: String
    private let settle: Int64
    private let names = SpanNames()
    private let typeCategory: UInt32
    /// The lowest threshold: a task no longer than this fires nothing.
    private let lowest: UInt64
    // Unchecked: the drain thread alone uses them, one access at a time;
    // the run-time checks of a class's stored property at every use were a
    // sixth of `take`'s time.
    @exclusivity(unchecked) private var open: [TaskKey: (begin: Int64, type: UInt32)] = [:]
    /// Ended tasks that wait for the settle delay: slow enough to fire
    /// (a rename may still come), or ended before their begin came.
    @exclusivity(unchecked) private var waiting: [TaskKey: Waiting] = [:]
    /// `waiting`'s keys in the order they came (decided in that order).
    private var waitingOrder: [TaskKey] = []
    private var waitingHead = 0
    /// Each name number's trigger (its index in `list.triggers`), once
    /// looked up: -1 none, -2 not looked up yet.
    private var triggerOfNumber: [Int] = []
    /// By a trigger's index: its type's lowest threshold, and that trigger.
    private let triggerOfIndex: [(threshold: UInt64, text: String, index: Int)]
    /// Renames of tasks not begun yet, and when they came.
    @exclusivity(unchecked) private var earlyRenames: [TaskKey: (type: UInt32, came: UInt64)] = [:]
    private var pids: [UInt32: Int32] = [:]
    /// Processes that left, and when (CLOCK_MONOTONIC ns), oldest first:
    /// each one's pid is kept until the tasks it ended are decided, a
    /// settle delay later.
    private var departed: [(process: UInt32, left: UInt64)] = []
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
        triggerOfIndex = settings.triggers.map { thresholds[$0.type]! }
        lowest = thresholds.values.map(\.0).min() ?? .max
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

    /// Its last batches were taken: what it left open never ends.
    func leave(process: UInt32) {
        open = open.filter { $0.key.process != process }
        names.forget(process: process)
        departed.append((process, tc_monotonic_ns()))
    }

    /// Whether it matches tasks (it has triggers): `take` is for nothing
    /// otherwise.
    var watches: Bool { !thresholds.isEmpty }

    /// Matches a task begin, end or rename of `process`'s, as the batches
    /// bring them (`Session.watch` decodes them for the OTLP path too):
    /// `time` its CLOCK_MONOTONIC ns, if its ticks convert; `now` when its
    /// batch was taken; `name` the process's string of an id.
    func take(_ event: RawEvent, at time: Int64?, process: UInt32, now: UInt64, name: (UInt32) -> String?) {
        let key = TaskKey(process: process, id: event.task)
        switch event.kind {
        case .taskBegin:
            guard let time else { return }
            var type = names.number(event.name, of: process, name) ?? SpanNames.overflow
            if let early = earlyRenames.removeValue(forKey: key) { type = early.type }
            if waiting[key] != nil {
                waiting[key]?.begin = time
                if waiting[key]?.type == nil { waiting[key]?.type = type }
            } else if open.count < Self.openLimit {
                open[key] = (time, type)
            }
        case .log where event.task != 0:
            guard names.number(event.name, of: process, name) == typeCategory else { return }
            let type = names.number(String(decoding: event.message, as: UTF8.self))
            if open[key] != nil {
                open[key]?.type = type
            } else if waiting[key] != nil {
                waiting[key]?.type = type
            } else if earlyRenames.count < Self.openLimit {
                earlyRenames[key] = (type, now)
            }
        case .taskEnd:
            guard let end = time else { return }
            if let task = open.removeValue(forKey: key) {
                let latency = UInt64(clamping: end.saturatingSubtract(task.begin))
                guard latency > lowest else {
                    count(type: task.type, latency: latency)
                    return
                }
                wait(key, Waiting(begin: task.begin, end: end, type: task.type, decide: now &+ UInt64(settle)))
            } else {
                wait(key, Waiting(begin: nil, end: end, type: nil, decide: now &+ UInt64(settle)))
            }
        default:
            return
        }
    }

    private func wait(_ key: TaskKey, _ task: Waiting) {
        guard waiting.count < Self.openLimit, waiting[key] == nil else { return }
        waiting[key] = task
        waitingOrder.append(key)
    }

    /// When the oldest task that may still be snapshot began (CLOCK_MONOTONIC
    /// ns), if any: an open task of a type with a trigger, an ended one
    /// waiting to be decided, one whose snapshot is due. The flight recorder
    /// keeps what followed, so that the snapshot holds the task whole even
    /// when it outlasts the window's age.
    func oldestWatchedBegin() -> UInt64? {
        var oldest: Int64?
        for task in open.values where trigger(of: task.type) != nil { oldest = min(oldest ?? .max, task.begin) }
        for task in waiting.values { if let begin = task.begin { oldest = min(oldest ?? .max, begin) } }
        for fired in pending { oldest = min(oldest ?? .max, fired.begin) }
        return oldest.map { UInt64(clamping: $0) }
    }

    /// The trigger of the type numbered `type`, if it has one.
    private func trigger(of type: UInt32) -> (threshold: UInt64, text: String, index: Int)? {
        let number = Int(type)
        if number >= triggerOfNumber.count {
            triggerOfNumber += [Int](repeating: -2, count: max(number + 1 - triggerOfNumber.count, 64))
        }
        if triggerOfNumber[number] == -2 { triggerOfNumber[number] = thresholds[names[type]]?.index ?? -1 }
        let index = triggerOfNumber[number]
        guard index >= 0 else { return nil }
        return triggerOfIndex[index]
    }

    /// A task of `type` ended after `latency`: counted by its trigger.
    private func count(type: UInt32, latency: UInt64) {
        guard let trigger = trigger(of: type) else { return }
        list.triggers[trigger.index].tasks += 1
        if latency > trigger.threshold { list.triggers[trigger.index].slow += 1 }
    }

    /// Decides the waiting tasks whose settle delay is over (all of them
    /// when `everything`).
    private func decide(now: UInt64, everything: Bool = false) {
        while waitingHead < waitingOrder.count {
            let key = waitingOrder[waitingHead]
            guard let task = waiting[key] else {
                waitingHead += 1
                continue
            }
            guard everything || task.decide <= now else { break }
            waitingHead += 1
            waiting[key] = nil
            guard let begin = task.begin, let typeNumber = task.type else {
                list.unmatched += 1
                continue
            }
            let latency = UInt64(clamping: task.end.saturatingSubtract(begin))
            count(type: typeNumber, latency: latency)
            guard let trigger = trigger(of: typeNumber), latency > trigger.threshold else { continue }
            let type = names[typeNumber]
            if let last = lastFired, task.end.saturatingSubtract(last) < Int64(clamping: settings.intervalNanoseconds) {
                list.heldBack += 1
                continue
            }
            lastFired = task.end
            pending.append(Fired(due: UInt64(clamping: task.end).saturatingAdd(settings.afterNanoseconds), begin: begin, trigger: trigger.text,
                                 type: type, pid: pids[key.process] ?? 0, task: key.id, latency: latency))
        }
        if waitingHead > 1024 && waitingHead * 2 > waitingOrder.count {
            waitingOrder.removeFirst(waitingHead)
            waitingHead = 0
        }
        let expired = now.saturatingSubtract(UInt64(settle))
        // Every task a departed process ended waited at most a settle
        // delay after it left, and is decided by now (waiting tasks are
        // decided in the order they came).
        let gone = departed.prefix { everything || $0.left < expired }
        if !gone.isEmpty {
            for process in gone { pids[process.process] = nil }
            departed.removeFirst(gone.count)
        }
        if !earlyRenames.isEmpty { earlyRenames = earlyRenames.filter { everything ? false : $0.value.came > expired } }
    }

    /// Matches what has settled, and takes the snapshots that are due:
    /// `window` gives the flight recorder's window as a trace file's bytes.
    /// Returns the snapshots taken.
    func tick(now: UInt64, window: () -> [UInt8]) -> [Taken] {
        decide(now: now)
        var made: [Taken] = []
        while let first = pending.first, first.due <= now {
            pending.removeFirst()
            if let snapshot = save(first, bytes: window()) { made.append(snapshot) }
        }
        return made
    }

    /// The session stopped: what is pending is taken now.
    func finish(window: () -> [UInt8]) -> [Taken] {
        decide(now: tc_monotonic_ns(), everything: true)
        let due = pending
        pending = []
        let made = due.compactMap { save($0, bytes: window()) }
        if !list.snapshots.isEmpty || list.heldBack > 0 { writeList() }
        return made
    }

    /// A snapshot now, by hand (`tracectl snapshot`).
    func takeByHand(window: [UInt8]) -> Taken? {
        save(Fired(due: 0, trigger: "by hand", type: "", task: 0, latency: 0), bytes: window)
    }

    /// A problem writing a snapshot, for the one who asked for it.
    var lastFailure: String? { failure }

    private func save(_ fired: Fired, bytes: [UInt8]) -> Taken? {
        let file = RotatingFiles.name(nextIndex)
        let path = directory + "/" + file
        do {
            try FileSystem.makeDirectories(directory, mode: 0o750)
            try FileSystem.replace(path, with: bytes, durable: true)
        } catch {
            failure = "snapshot \(nextIndex): writing '\(path)' failed: \(error)"
            return nil
        }
        let snapshot = Taken(index: nextIndex, file: file, realtimeNanoseconds: tc_realtime_ns(), trigger: fired.trigger,
                             taskType: fired.type, taskID: fired.task, pid: fired.pid,
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
            try FileSystem.replace(path, with: Array(data), durable: false)
        } catch {
            failure = "writing '\(path)' failed: \(error)"
        }
    }
}


extension SessionSnapshots {
    /// The list a stopped session left in `directory`'s `snapshots/`, if any.
    static func stored(in directory: String) -> SnapshotList? {
        guard let bytes = try? Storage.read(directory + "/snapshots/snapshots.json") else { return nil }
        return try? JSONDecoder().decode(SnapshotList.self, from: Data(bytes))
    }
}
