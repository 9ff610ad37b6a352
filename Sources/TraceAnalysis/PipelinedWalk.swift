import Dispatch
import Synchronization
import TraceSystem

extension TraceWalk {
    /// `run` with the walk (decoding, merging, matching) on a thread of its
    /// own, ahead of `visitor` on the calling thread: for visitors as costly
    /// as the walk (the exporters), the two halves take two cores. The
    /// walk records its callbacks in chunks (log messages copied), at most
    /// `PipelinedWalk.depth` chunks ahead; the visitor sees exactly the
    /// calls, in exactly the order, `run` would make, except `event`
    /// (every raw event), which is not passed on. If the thread cannot be
    /// started, this is `run`.
    package func runPipelined<Visitor: TraceVisitor>(_ visitor: inout Visitor, processes: Set<UInt32>? = nil) {
        let queue = PipelinedWalk.Queue()
        let walk = self
        let thread = try? SystemThread.spawn(name: "trace-walk") {
            var recorder = PipelinedWalk.Recorder(queue: queue)
            walk.run(&recorder, processes: processes)
            recorder.send()
            queue.close()
        }
        guard let thread else {
            run(&visitor, processes: processes)
            return
        }
        while let chunk = queue.take() { chunk.replay(into: &visitor) }
        thread.join()
    }
}

/// The parts of `TraceWalk.runPipelined`.
enum PipelinedWalk {
    /// Chunks the walk may be ahead of the visitor: memory is bounded by
    /// `depth` × `Chunk.capacity` calls.
    static let depth = 4

    /// One visitor call as the walk made it.
    enum Call: Sendable {
        case taskBegan(TaskSpan)
        case taskEnded(TaskSpan)
        case taskEndWithoutBegin(process: UInt32, id: UInt64, time: Int64)
        case regionBegan(RegionSpan)
        case regionEnded(RegionSpan)
        case regionEndedAgain(RegionSpan, time: Int64, thread: UInt32)
        case orphanEnd(OrphanEnd)
        /// The message is `Chunk.bytes[message]`.
        case log(process: UInt32, thread: UInt32, time: Int64, swiftTask: UInt64, task: UInt64, category: TraceName,
                 message: Range<Int>, truncated: Bool, stack: UInt32)
        case counter(CounterRecord)
        case dropped(process: UInt32, thread: UInt32, time: Int64, count: UInt64)
        case finish(last: Int64?)
    }

    /// Calls and the log bytes they point into. Sendable: a chunk is filled
    /// by the walk's thread, handed over through `Queue` (its mutex orders
    /// the writes before the reads) and never touched by the walk again.
    final class Chunk: @unchecked Sendable {
        static let capacity = 8192
        var calls: [Call] = []
        var bytes: [UInt8] = []

        init() {
            calls.reserveCapacity(Self.capacity)
        }

        func replay<Visitor: TraceVisitor>(into visitor: inout Visitor) {
            bytes.withUnsafeBytes { bytes in
                for call in calls {
                    switch call {
                    case .taskBegan(let task): visitor.taskBegan(task)
                    case .taskEnded(let task): visitor.taskEnded(task)
                    case .taskEndWithoutBegin(let process, let id, let time):
                        visitor.taskEndWithoutBegin(process: process, id: id, time: time)
                    case .regionBegan(let region): visitor.regionBegan(region)
                    case .regionEnded(let region): visitor.regionEnded(region)
                    case .regionEndedAgain(let region, let time, let thread):
                        visitor.regionEndedAgain(region, time: time, thread: thread)
                    case .orphanEnd(let end): visitor.orphanEnd(end)
                    case .log(let process, let thread, let time, let swiftTask, let task, let category, let message,
                              let truncated, let stack):
                        visitor.log(LogRecord(process: process, thread: thread, time: time, swiftTask: swiftTask, task: task,
                                              category: category, message: UnsafeRawBufferPointer(rebasing: bytes[message]),
                                              truncated: truncated, stack: stack))
                    case .counter(let counter): visitor.counter(counter)
                    case .dropped(let process, let thread, let time, let count):
                        visitor.dropped(process: process, thread: thread, time: time, count: count)
                    case .finish(let last): visitor.finish(last: last)
                    }
                }
            }
        }
    }

    /// A bounded hand-over of chunks from one thread to another.
    final class Queue: Sendable {
        private struct State {
            var chunks: [Chunk] = []
            var closed = false
        }

        private let state = Mutex(State())
        /// Signalled once per chunk put and once on close.
        private let ready = DispatchSemaphore(value: 0)
        /// Places for chunks not yet taken.
        private let room = DispatchSemaphore(value: PipelinedWalk.depth)

        /// Waits for room, then hands `chunk` over.
        func put(_ chunk: Chunk) {
            room.wait()
            state.withLock { $0.chunks.append(chunk) }
            ready.signal()
        }

        /// No more chunks will come.
        func close() {
            state.withLock { $0.closed = true }
            ready.signal()
        }

        /// The next chunk, waiting for it; nil once closed and empty.
        func take() -> Chunk? {
            while true {
                ready.wait()
                let taken: Chunk?? = state.withLock { state in
                    if !state.chunks.isEmpty { return .some(state.chunks.removeFirst()) }
                    return state.closed ? .some(nil) : nil
                }
                if let taken {
                    if taken != nil { room.signal() }
                    return taken
                }
            }
        }
    }

    /// The visitor the walk's thread runs: records calls into chunks.
    struct Recorder: TraceVisitor {
        let queue: Queue
        var chunk = Chunk()

        init(queue: Queue) {
            self.queue = queue
        }

        private mutating func record(_ call: Call) {
            chunk.calls.append(call)
            if chunk.calls.count == Chunk.capacity { send() }
        }

        /// Hands the current chunk over (if it holds anything).
        mutating func send() {
            guard !chunk.calls.isEmpty else { return }
            queue.put(chunk)
            chunk = Chunk()
        }

        mutating func taskBegan(_ task: TaskSpan) { record(.taskBegan(task)) }
        mutating func taskEnded(_ task: TaskSpan) { record(.taskEnded(task)) }
        mutating func taskEndWithoutBegin(process: UInt32, id: UInt64, time: Int64) {
            record(.taskEndWithoutBegin(process: process, id: id, time: time))
        }
        mutating func regionBegan(_ region: RegionSpan) { record(.regionBegan(region)) }
        mutating func regionEnded(_ region: RegionSpan) { record(.regionEnded(region)) }
        mutating func regionEndedAgain(_ region: RegionSpan, time: Int64, thread: UInt32) {
            record(.regionEndedAgain(region, time: time, thread: thread))
        }
        mutating func orphanEnd(_ end: OrphanEnd) { record(.orphanEnd(end)) }
        mutating func log(_ log: LogRecord) {
            let start = chunk.bytes.count
            chunk.bytes.append(contentsOf: log.message)
            record(.log(process: log.process, thread: log.thread, time: log.time, swiftTask: log.swiftTask, task: log.task,
                        category: log.category, message: start..<chunk.bytes.count, truncated: log.truncated,
                        stack: log.stack))
        }
        mutating func counter(_ counter: CounterRecord) { record(.counter(counter)) }
        mutating func dropped(process: UInt32, thread: UInt32, time: Int64, count: UInt64) {
            record(.dropped(process: process, thread: thread, time: time, count: count))
        }
        mutating func finish(last: Int64?) { record(.finish(last: last)) }
    }
}
