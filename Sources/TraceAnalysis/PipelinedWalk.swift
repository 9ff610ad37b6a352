import Dispatch
import Synchronization
import TraceSystem

extension TraceWalk {
    /// `run` with the walk (decoding, merging, matching) on a thread of its
    /// own, ahead of `visitor` on the calling thread: for visitors as costly
    /// as the walk (the exporters), the two halves take two cores. The
    /// walk records its events in chunks (log messages copied), at most
    /// `PipelinedWalk.depth` chunks ahead; the visitor sees exactly the
    /// events, in exactly the order, `run` hands out. If the thread cannot
    /// be started, this is `run`.
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

    /// Events and the log bytes they point into. Sendable: a chunk is
    /// filled by the walk's thread, handed over through `Queue` (its mutex
    /// orders the writes before the reads) and never touched by the walk
    /// again.
    final class Chunk: @unchecked Sendable {
        static let capacity = 8192
        var events: [TraceEvent] = []
        /// The logs' messages, in the order of the logs in `events`: the
        /// n-th log's is `bytes[messages[n]]`, and its pointer is set again
        /// on replay (the walk's buffers are gone by then).
        var messages: [Range<Int>] = []
        var bytes: [UInt8] = []
        /// Set on the last chunk: the walk's `finish(last:)`.
        var finish: Int64?? = nil

        init() {
            events.reserveCapacity(Self.capacity)
        }

        func replay<Visitor: TraceVisitor>(into visitor: inout Visitor) {
            bytes.withUnsafeBytes { bytes in
                var logs = 0
                for event in events {
                    guard case .log(var log) = event.kind else {
                        visitor.visit(event)
                        continue
                    }
                    var copy = event
                    log.message = UnsafeRawBufferPointer(rebasing: bytes[messages[logs]])
                    logs += 1
                    copy.kind = .log(log)
                    visitor.visit(copy)
                }
            }
            if let finish { visitor.finish(last: finish) }
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

    /// The visitor the walk's thread runs: records events into chunks.
    struct Recorder: TraceVisitor {
        let queue: Queue
        var chunk = Chunk()

        init(queue: Queue) {
            self.queue = queue
        }

        /// Hands the current chunk over (if it holds anything).
        mutating func send() {
            guard !chunk.events.isEmpty || chunk.finish != nil else { return }
            queue.put(chunk)
            chunk = Chunk()
        }

        mutating func visit(_ event: TraceEvent) {
            if case .log(let log) = event.kind {
                let start = chunk.bytes.count
                chunk.bytes.append(contentsOf: log.message)
                chunk.messages.append(start..<chunk.bytes.count)
            }
            chunk.events.append(event)
            if chunk.events.count == Chunk.capacity { send() }
        }

        mutating func finish(last: Int64?) {
            chunk.finish = .some(last)
            send()
        }
    }
}
