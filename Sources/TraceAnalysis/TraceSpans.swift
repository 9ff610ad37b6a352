import TraceFormat

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
