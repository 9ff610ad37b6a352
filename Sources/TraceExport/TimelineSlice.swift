/// A task or region as the export draws it: a slice on one lane (track).
package struct TimelineSlice {
    package enum Kind: UInt8 { case task, region }

    /// Where a slice is in its life on a lane.
    enum State: UInt8 {
        /// On a lane, its begin held back until it is known to nest.
        case pending
        /// On a lane, its begin written.
        case committed
        /// Taken off its lane while open (it could no longer nest there): it
        /// goes to an overflow lane when it ends.
        case floating
        /// Ended and written.
        case done
    }

    package struct Flags: OptionSet, Sendable {
        package let rawValue: UInt16
        package init(rawValue: UInt16) { self.rawValue = rawValue }
        /// Never ended: its end is the trace's last timestamp.
        package static let neverEnded = Flags(rawValue: 1 << 0)
        /// Ended while a region begun after it on its lane was open: drawn on
        /// an overflow lane.
        package static let misnested = Flags(rawValue: 1 << 2)
        package static let endedTwice = Flags(rawValue: 1 << 3)
        package static let endedOnAnotherTask = Flags(rawValue: 1 << 4)
        /// Ended early on its lane because a slice below it ended and the
        /// export could no longer move it (past the buffering limit).
        package static let cutShort = Flags(rawValue: 1 << 5)
    }

    package var kind: Kind
    package var process: UInt32
    /// Name id (the catalog's), 0 for none.
    package var name: UInt32
    package var begin: Int64
    package var end: Int64
    package var flags: Flags = []
    /// The trace task: the task itself, or the task a region belongs to (0: none).
    package var task: UInt64
    /// The task's parent task (tasks only; 0: none).
    package var parentTask: UInt64 = 0
    /// The Swift task a region began on (0: none).
    package var swiftTask: UInt64 = 0
    package var beginThread: UInt32
    package var endThread: UInt32 = 0
    /// Stack id (0: none).
    package var stack: UInt32 = 0
    /// Whether flows go from it to child tasks' slices (the layout keeps their ids).
    var hasFlowsOut = false
    /// The flow from the parent task's slice (0: none).
    package var flowIn: UInt64 = 0
    var state: State = .pending
    var lane: Int32 = -1
    /// Index of its begin in its lane's held-back entries.
    var entry: Int = 0

    package init(kind: Kind, process: UInt32, name: UInt32, begin: Int64, task: UInt64, beginThread: UInt32) {
        self.kind = kind
        self.process = process
        self.name = name
        self.begin = begin
        self.end = begin
        self.task = task
        self.beginThread = beginThread
    }
}

/// A lane as the export declares it: a track (Perfetto) or a thread id (JSON).
package struct TimelineLane: Sendable {
    package enum Kind: Sendable, Equatable {
        /// A thread's own track: regions outside Swift tasks and trace tasks.
        case thread(UInt32)
        /// A trace task's track (`index` 0), or one of its sibling lanes for
        /// regions that ran concurrently in other Swift tasks (1, 2, ...).
        case task(id: UInt64, index: Int)
        /// Regions of a Swift task that ran outside any trace task.
        case swiftTask(UInt64)
        /// Regions that ended out of order, one slice after another.
        case overflow(Int)
    }

    /// Unique in the export (the sink gives it).
    package var id: UInt64
    package var process: UInt32
    package var kind: Kind
    /// For task lanes: the task's name id (0: unknown).
    package var taskName: UInt32 = 0
}

/// Receives the layout's output, in an order that is valid on each lane:
/// a lane before its slices, a slice's begin before those of the slices
/// nested in it, and the ends of nested slices before their parent's.
package protocol TimelineSink: AnyObject {
    /// Declares a lane; returns its id (its track's), unique in the export.
    func laneCreated(_ lane: TimelineLane) throws -> UInt64
    /// `flows`: ids of the flows that start at this slice (to child tasks).
    func sliceBegan(_ slice: TimelineSlice, on lane: TimelineLane, flows: [UInt64]) throws
    func sliceEnded(_ slice: TimelineSlice, on lane: TimelineLane) throws
}
