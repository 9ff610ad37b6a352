/// What `SpanAssembler` is fed on the live path, as one value of plain data:
/// names are numbers in the session's `SpanNames`, and a log's message
/// waits beside it in the `TimeOrderBuffer` (handed over with it), so that
/// keeping, ordering and handing out an event retains and allocates nothing.
package struct SpanEvent: Sendable {
    package enum Kind: Sendable {
        /// `type`: a number in `SpanNames`.
        case taskBegan(parent: UInt64, type: UInt32)
        case taskEnded
        /// `thread` is the thread that began it; `type`: a number in `SpanNames`.
        case regionBegan(sequence: UInt64, type: UInt32)
        /// `thread` is the thread that began it.
        case regionEnded(sequence: UInt64)
        /// `category`: a number in `SpanNames`; the message comes with the event.
        case log(category: UInt32)
        /// The process left: what it left open goes out.
        case processLeft
    }

    package var time: Int64
    package var process: UInt32
    package var thread: UInt32
    package var swiftTask: UInt64
    /// The task begun or ended, or the context's task (regions, logs).
    package var task: UInt64
    package var kind: Kind

    package init(time: Int64, process: UInt32, thread: UInt32, swiftTask: UInt64, task: UInt64, kind: Kind) {
        self.time = time
        self.process = process
        self.thread = thread
        self.swiftTask = swiftTask
        self.task = task
        self.kind = kind
    }
}
