/// One event of a trace, as `TraceWalk` hands it to every visitor: in
/// CLOCK_MONOTONIC time order across threads and processes, its names
/// resolved, its task or region matched (docs/analysis.md, "One value per
/// event"). What is common to every event is here; what a kind adds is in
/// its case. A new kind of event is a new case: the visitors that care
/// switch on it, and the others never see a new method to forget.
///
/// Pointers in a log's `message` are valid only during the `visit` call
/// that receives the event.
package struct TraceEvent {
    package var process: UInt32
    /// The trace index of the thread it happened on (ThreadRecord.index).
    package var thread: UInt32
    /// CLOCK_MONOTONIC nanoseconds. For the spans the walk reports at its
    /// end (never ended), the time of the trace's last event.
    package var time: Int64
    /// The Swift task it ran in (0: none, or an event the walk made up).
    package var swiftTask: UInt64
    package var kind: Kind

    package init(process: UInt32, thread: UInt32, time: Int64, swiftTask: UInt64, kind: Kind) {
        self.process = process
        self.thread = thread
        self.time = time
        self.swiftTask = swiftTask
        self.kind = kind
    }

    package enum Kind {
        /// A task's creation.
        case taskBegin(TaskSpan)
        /// A task's first end; at the end of the walk also each task never
        /// ended (`end == nil`), in creation order.
        case taskEnd(TaskSpan)
        /// An end whose task's creation is not in the trace, or a second
        /// end of one.
        case taskEndWithoutBegin(id: UInt64)
        case regionBegin(RegionSpan)
        /// A region's end; at the end of the walk also each region never
        /// ended (`end == nil`, flagged `neverEnded`), innermost first.
        case regionEnd(RegionSpan)
        /// A second end of a region: the region as first matched, flagged
        /// `endedTwice`; the event's time and thread are the second end's.
        case regionEndAgain(RegionSpan)
        /// An end whose region's begin is not in the trace (begun before
        /// tracing started, or dropped) or ended too long ago to tell.
        case orphanEnd(OrphanEnd)
        case log(LogRecord)
        case counter(CounterRecord)
        /// The thread lost `count` events just before this time (told by
        /// the batch that followed the loss).
        case dropped(count: UInt64)
        /// An event of a kind a later format version added, which this
        /// reader skips by its length (docs/format.md, "Events").
        case unknown(tag: UInt8)

        // What the kernel saw the thread do (kernel batches, written by
        // traced; docs/format.md, "Kernel events").
        /// The thread left its CPU.
        case switchOut(SwitchOut)
        /// The thread got a CPU.
        case switchIn(cpu: UInt32)
        /// The thread was made runnable.
        case wakeup(Wakeup)
        /// A CPU-clock sample of the running thread.
        case cpuSample(cpu: UInt32, stack: UInt32)
        /// The thread's name from here on.
        case threadName(TraceName)
        case threadExit
        /// A counter of the thread's process (of a kind this reader does
        /// not know: nil).
        case processStat(ProcessStat?, value: UInt64)
    }

    /// Whether the event is one the files hold, rather than one the walk
    /// made up: a loss, or a span reported at the end because it never ended.
    package var isRecorded: Bool {
        switch kind {
        case .taskEnd(let task): task.end != nil
        case .regionEnd(let region): region.end != nil
        case .dropped: false
        default: true
        }
    }
}

/// What a log adds to its event. `message` points into the walk's buffers
/// and is valid only during the call that receives it.
package struct LogRecord {
    /// The trace task it was logged in (0: none).
    package var task: UInt64
    package var category: TraceName
    package var message: UnsafeRawBufferPointer
    package var truncated: Bool
    package var stack: UInt32

    package var text: String { String(decoding: message, as: UTF8.self) }
}

/// What a counter sample adds to its event.
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

    package var name: TraceName
    package var value: Value
}

/// What an orphan end names: the region it ends, by the thread that began it
/// and its sequence there.
package struct OrphanEnd: Equatable, Sendable {
    package var beginThread: UInt32
    package var beginSequence: UInt64
}
