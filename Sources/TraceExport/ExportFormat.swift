package import TraceAnalysis

/// An output format of `tracectl export`: it draws the slices `SliceLayout`
/// places, and writes processes, threads, logs, counters, drops and what the
/// kernel saw itself.
package protocol ExportFormat: TimelineSink {
    /// Before anything else: the trace's first clock sync (CLOCK_MONOTONIC
    /// and CLOCK_REALTIME nanoseconds at one instant), if it has one.
    func start(monotonic: Int64, realtime: Int64?) throws
    func process(_ process: UInt32, pid: Int32, name: String) throws
    func thread(_ process: UInt32, index: UInt32, tid: Int32, name: String) throws
    func log(_ log: ExportLog) throws
    func counter(_ counter: ExportCounter) throws
    /// `total` events of `process` dropped so far, the last `count` of them
    /// just before `time` (on `thread`, 0 when unknown).
    func dropped(process: UInt32, thread: UInt32, time: Int64, count: UInt64, total: UInt64) throws
    /// A kernel event of the walk (switch out or in, wakeup, CPU sample,
    /// thread name, exit, process stat), in time order with the rest.
    func kernel(_ event: TraceEvent) throws
    /// Everything is given: end what is still open at `lastTime` (the
    /// trace's last event), flush and end the output.
    func finish(at lastTime: Int64) throws
}

/// A log as the formats write it.
package struct ExportLog {
    /// A log's message: a String, or the bytes of the walk's log record.
    package enum Message {
        case text(String)
        /// UTF-8 as the client wrote it (it may be ill-formed), valid only
        /// during the call that is given the log: the walk's own buffer,
        /// not copied into a String for every log.
        case bytes(UnsafeRawBufferPointer)
    }

    package var time: Int64
    package var process: UInt32
    package var thread: UInt32
    package var task: UInt64
    package var swiftTask: UInt64
    /// The category's name id.
    package var category: UInt32
    package var message: Message
    package var truncated: Bool
    package var stack: UInt32
    /// A flow that starts at this log (a span's `trace.context`), 0 for none.
    package var flowOut: UInt64 = 0
    /// A flow that ends at this log (a `span.link`), 0 for none.
    package var flowIn: UInt64 = 0

    package init(time: Int64, process: UInt32, thread: UInt32, task: UInt64, swiftTask: UInt64, category: UInt32,
                 message: Message, truncated: Bool, stack: UInt32) {
        self.time = time
        self.process = process
        self.thread = thread
        self.task = task
        self.swiftTask = swiftTask
        self.category = category
        self.message = message
        self.truncated = truncated
        self.stack = stack
    }

    package init(time: Int64, process: UInt32, thread: UInt32, task: UInt64, swiftTask: UInt64, category: UInt32,
                 message: String, truncated: Bool, stack: UInt32) {
        self.init(time: time, process: process, thread: thread, task: task, swiftTask: swiftTask, category: category,
                  message: .text(message), truncated: truncated, stack: stack)
    }

    /// The message as well-formed UTF-8: what `String(decoding:as:)` makes
    /// of the bytes (ill-formed sequences become U+FFFD), without making a
    /// String when they are ASCII, which is what logs mostly are.
    package func withMessageUTF8<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        switch message {
        case .text(var text):
            return try text.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        case .bytes(let bytes):
            if Self.isASCII(bytes) { return try body(bytes) }
            var text = String(decoding: bytes, as: UTF8.self)
            return try text.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        }
    }

    private static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var high: UInt8 = 0
        for byte in bytes { high |= byte }
        return high < 0x80
    }
}

/// A counter sample as the formats write it.
package struct ExportCounter {
    package enum Value { case integer(Int64), double(Double) }
    package var time: Int64
    package var process: UInt32
    /// The counter's name id.
    package var name: UInt32
    package var value: Value

    package init(time: Int64, process: UInt32, name: UInt32, value: Value) {
        self.time = time
        self.process = process
        self.name = name
        self.value = value
    }
}
