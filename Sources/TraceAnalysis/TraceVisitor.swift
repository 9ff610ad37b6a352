package import TraceFormat

/// A task as the walk matched it: its creation, and its first end.
package struct TaskSpan: Equatable, Sendable {
    package var process: UInt32
    package var id: UInt64
    /// The task that was current where this one was created (0: none).
    package var parent: UInt64
    package var type: TraceName
    /// Creation time, nil when the creation is not in the trace.
    package var begin: Int64?
    /// The first end; nil while open and for tasks never ended in the trace.
    package var end: Int64?
    /// Where it was created.
    package var thread: UInt32
    package var swiftTask: UInt64
    package var stack: UInt32

    package init(process: UInt32, id: UInt64, parent: UInt64, type: TraceName, begin: Int64?, end: Int64?, thread: UInt32,
                 swiftTask: UInt64, stack: UInt32) {
        self.process = process
        self.id = id
        self.parent = parent
        self.type = type
        self.begin = begin
        self.end = end
        self.thread = thread
        self.swiftTask = swiftTask
        self.stack = stack
    }

    /// Creation to first end, when both are in the trace. Both times come
    /// from the file: the difference saturates.
    package var latency: Int64? {
        guard let begin, let end else { return nil }
        return end.saturatingSubtract(begin)
    }
}

/// A region as the walk matched it.
package struct RegionSpan: Equatable, Sendable {
    /// Ways a region broke the rules of `TraceRegion`: it ends once, on the
    /// task that began it, after the regions nested in it.
    package struct Misuse: OptionSet, Hashable, Sendable {
        package var rawValue: UInt8
        package init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `end()` was called again on an ended region.
        package static let endedTwice = Misuse(rawValue: 1)
        /// Ended while a region begun after it (by the same owner) was open.
        package static let endedOutOfOrder = Misuse(rawValue: 2)
        /// Ended on another Swift task (or, outside Swift tasks, another thread).
        package static let endedOnAnotherTask = Misuse(rawValue: 4)
        /// Never ended before the trace ended.
        package static let neverEnded = Misuse(rawValue: 8)

        package static let all: [(Misuse, String)] = [
            (.endedTwice, "endedTwice"), (.endedOutOfOrder, "endedOutOfOrder"),
            (.endedOnAnotherTask, "endedOnAnotherTask"), (.neverEnded, "neverEnded"),
        ]
        /// The names of the flags set ("endedTwice", ...).
        package var names: [String] { Self.all.filter { contains($0.0) }.map(\.1) }
    }

    package var process: UInt32
    package var type: TraceName
    /// The trace task it belongs to (0: none).
    package var task: UInt64
    /// Unique in the walk: how children name their parent.
    package var serial: UInt64
    /// The region of the same owner it is nested in (its serial; 0: none).
    package var parent: UInt64
    /// How deep it was nested in its owner's open regions at its begin.
    package var depth: Int
    package var beginThread: UInt32
    /// The Swift task that began it (0: not in a Swift task).
    package var swiftTask: UInt64
    package var sequence: UInt64
    package var begin: Int64
    package var end: Int64?
    package var endThread: UInt32?
    package var stack: UInt32
    package var misuse: Misuse

    package init(process: UInt32, type: TraceName, task: UInt64, serial: UInt64, parent: UInt64, depth: Int,
                 beginThread: UInt32, swiftTask: UInt64, sequence: UInt64, begin: Int64, end: Int64?, endThread: UInt32?,
                 stack: UInt32, misuse: Misuse) {
        self.process = process
        self.type = type
        self.task = task
        self.serial = serial
        self.parent = parent
        self.depth = depth
        self.beginThread = beginThread
        self.swiftTask = swiftTask
        self.sequence = sequence
        self.begin = begin
        self.end = end
        self.endThread = endThread
        self.stack = stack
        self.misuse = misuse
    }

    package var duration: Int64? { end.map { $0.saturatingSubtract(begin) } }
}

/// A log message; `message` points into the walk's buffers and is valid
/// only during the call that receives it.
package struct LogRecord {
    package var process: UInt32
    package var thread: UInt32
    package var time: Int64
    package var swiftTask: UInt64
    package var task: UInt64
    package var category: TraceName
    package var message: UnsafeRawBufferPointer
    package var truncated: Bool
    package var stack: UInt32

    package var text: String { String(decoding: message, as: UTF8.self) }
}

package struct CounterRecord: Sendable {
    package enum Value: Equatable, Sendable {
        case integer(Int64)
        case double(Double)

        package var number: Double {
            switch self {
            case .integer(let value): Double(value)
            case .double(let value): value
            }
        }
    }

    package var process: UInt32
    package var thread: UInt32
    package var time: Int64
    package var name: TraceName
    package var value: Value
}

/// An end whose begin is not in the trace (begun before tracing started,
/// or its begin was dropped) or was already ended long ago.
package struct OrphanEnd: Equatable, Sendable {
    package var process: UInt32
    package var thread: UInt32
    package var beginThread: UInt32
    package var beginSequence: UInt64
    package var time: Int64
}

/// One event in time order, with its names resolved; `message` is valid
/// only during the call.
package struct TraceEvent {
    package var process: UInt32
    package var thread: UInt32
    package var time: Int64
    /// The event's type, category or counter name (the empty name for ends).
    package var name: TraceName
    package var raw: RawEvent
}

/// What `TraceWalk.run` calls, in time order. Every method has an empty
/// default, so a visitor implements what it needs.
package protocol TraceVisitor {
    /// Every event, before matching.
    mutating func event(_ event: TraceEvent, catalog: TraceCatalog)
    mutating func taskBegan(_ task: TaskSpan)
    /// At its first end; at the end of the walk also for tasks never ended
    /// (`end == nil`, in creation order); a later end of the same task is
    /// an orphan (`taskEndWithoutBegin`).
    mutating func taskEnded(_ task: TaskSpan)
    /// An end whose task's creation is not in the trace.
    mutating func taskEndWithoutBegin(process: UInt32, id: UInt64, time: Int64)
    mutating func regionBegan(_ region: RegionSpan)
    /// At its end; at the end of the walk also for regions never ended
    /// (`end == nil`, flagged `neverEnded`), innermost first.
    mutating func regionEnded(_ region: RegionSpan)
    /// A second end of a region (`region` is the first match, flagged
    /// `endedTwice`).
    mutating func regionEndedAgain(_ region: RegionSpan, time: Int64, thread: UInt32)
    mutating func orphanEnd(_ end: OrphanEnd)
    mutating func log(_ log: LogRecord)
    mutating func counter(_ counter: CounterRecord)
    /// A thread dropped `count` events just before `time` (from the batch
    /// that followed the loss).
    mutating func dropped(process: UInt32, thread: UInt32, time: Int64, count: UInt64)
    /// After the last event and the unfinished spans; `last` is the time of
    /// the last event (nil for a trace without events).
    mutating func finish(last: Int64?)
}

extension TraceVisitor {
    package mutating func event(_ event: TraceEvent, catalog: TraceCatalog) {}
    package mutating func taskBegan(_ task: TaskSpan) {}
    package mutating func taskEnded(_ task: TaskSpan) {}
    package mutating func taskEndWithoutBegin(process: UInt32, id: UInt64, time: Int64) {}
    package mutating func regionBegan(_ region: RegionSpan) {}
    package mutating func regionEnded(_ region: RegionSpan) {}
    package mutating func regionEndedAgain(_ region: RegionSpan, time: Int64, thread: UInt32) {}
    package mutating func orphanEnd(_ end: OrphanEnd) {}
    package mutating func log(_ log: LogRecord) {}
    package mutating func counter(_ counter: CounterRecord) {}
    package mutating func dropped(process: UInt32, thread: UInt32, time: Int64, count: UInt64) {}
    package mutating func finish(last: Int64?) {}
}
