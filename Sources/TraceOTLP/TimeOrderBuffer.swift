/// Events that arrive out of time order across threads, handed out in time
/// order once no earlier one can still come (`release(before:)`).
///
/// traced takes each thread's events as its chunks come, so a task's begin
/// (on the thread that made it) can arrive after its logs (on the thread
/// that ran it), and its end before its rename. Every event arrives within
/// about two scrapes of when it happened, so the buffer holds about that
/// long's worth. Bounded: past `eventLimit` events or `byteLimit` bytes of
/// log messages, the oldest are handed out early (counted in `early`).
///
/// Each thread's events arrive in time order, so they wait in a queue per
/// thread (the thread whose batch brought them), and a min-heap of the
/// queues by the time of their first event merges them: an event costs an
/// append and a sift among the threads, not among all the events (a heap
/// of events took a fifth of traced's time under a span benchmark).
/// Equal times go in arrival order. A log's message waits in its queue's
/// bytes, and is handed out with the event (valid during the call only):
/// events are plain data, so keeping and moving them costs no reference
/// counting and no allocation of their own.
///
/// A queue lives while it holds events: once emptied, its slot is free for
/// the next thread that comes (its storage kept up to `keptCapacity`), so
/// that threads which come and go, or a hostile batch header naming a new
/// thread each time, cost no memory beyond what the buffer holds.
package struct TimeOrderBuffer {
    /// An event waiting, and where its message is in its queue's `bytes`
    /// (counted from `bytesBase`, so that dropping a prefix moves nothing).
    private struct Waiting {
        var event: SpanEvent
        var arrival: UInt64
        var messageStart: Int
        var messageCount: Int
    }

    private struct Queue {
        var key = QueueKey(process: 0, thread: 0)
        var waiting: [Waiting] = []
        var bytes: [UInt8] = []
        /// How many bytes were dropped from the front of `bytes`.
        var bytesBase = 0
        var head = 0
        var isEmpty: Bool { head == waiting.count }
    }

    private struct QueueKey: Hashable {
        var process: UInt32
        var thread: UInt32
    }

    /// A non-empty queue, by its first event.
    private struct Entry {
        var time: Int64
        var arrival: UInt64
        var queue: Int
    }

    private var queues: [Queue] = []
    private var queueIndex: [QueueKey: Int] = [:]
    /// The queue the last event went to (a batch's events come together):
    /// valid while that slot holds events under the key asked for.
    private var lastIndex = -1
    /// Slots in `queues` whose queue is empty and belongs to no thread.
    private var freeQueues: [Int] = []
    /// Events (and message bytes) an emptied queue keeps room for; more is
    /// given back.
    private static let keptCapacity = 4096
    /// Queues with events, in `heap`.
    private var heap: [Entry] = []
    private var arrivals: UInt64 = 0
    private var messageBytes = 0
    package private(set) var count = 0
    package let eventLimit: Int
    package let byteLimit: Int
    /// Events handed out before their time because the buffer was full.
    package private(set) var early: UInt64 = 0
    /// Threads with events waiting, and the queue slots made so far (at
    /// most the most threads that had events waiting at once).
    package var threadsWaiting: Int { queueIndex.count }
    package var queueSlots: Int { queues.count }

    package init(eventLimit: Int = 1 << 18, byteLimit: Int = 32 << 20) {
        self.eventLimit = eventLimit
        self.byteLimit = byteLimit
    }

    /// Keeps `event` (and its `message`, for a log), which came in a batch
    /// of `thread` (its events come in time order); when that passes a
    /// limit, hands the oldest to `body`.
    package mutating func add(_ event: SpanEvent, message: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                              from thread: UInt32, overflow body: (SpanEvent, UnsafeRawBufferPointer) -> Void) {
        arrivals &+= 1
        messageBytes += message.count
        let key = QueueKey(process: event.process, thread: thread)
        let index: Int
        if lastIndex >= 0 && queues[lastIndex].key == key && !queues[lastIndex].isEmpty {
            index = lastIndex
        } else if let known = queueIndex[key] {
            index = known
        } else {
            if let free = freeQueues.popLast() {
                index = free
            } else {
                index = queues.count
                queues.append(Queue())
            }
            queues[index].key = key
            queueIndex[key] = index
        }
        lastIndex = index
        let wasEmpty = queues[index].isEmpty
        let start = queues[index].bytesBase + queues[index].bytes.count
        if !message.isEmpty { queues[index].bytes.append(contentsOf: message) }
        queues[index].waiting.append(Waiting(event: event, arrival: arrivals, messageStart: start, messageCount: message.count))
        count += 1
        if wasEmpty {
            heap.append(Entry(time: event.time, arrival: arrivals, queue: index))
            siftUp(heap.count - 1)
        }
        while count > eventLimit || messageBytes > byteLimit, popFirst(body) {
            early += 1
        }
    }

    /// Hands every event older than `time` to `body`, oldest first.
    package mutating func release(before time: Int64, _ body: (SpanEvent, UnsafeRawBufferPointer) -> Void) {
        while let first = heap.first, first.time < time, popFirst(body) {}
    }

    /// Hands every event to `body`, oldest first.
    package mutating func releaseAll(_ body: (SpanEvent, UnsafeRawBufferPointer) -> Void) {
        while popFirst(body) {}
    }

    private static func before(_ a: Entry, _ b: Entry) -> Bool { (a.time, a.arrival) < (b.time, b.arrival) }

    /// Hands the oldest event (the first of the queue at the heap's top) to
    /// `body`; false when there is none.
    private mutating func popFirst(_ body: (SpanEvent, UnsafeRawBufferPointer) -> Void) -> Bool {
        guard let top = heap.first else { return false }
        let index = top.queue
        let waiting = queues[index].waiting[queues[index].head]
        queues[index].head += 1
        count -= 1
        messageBytes -= waiting.messageCount
        if waiting.messageCount == 0 {
            body(waiting.event, UnsafeRawBufferPointer(start: nil, count: 0))
        } else {
            let offset = waiting.messageStart - queues[index].bytesBase
            queues[index].bytes.withUnsafeBytes { bytes in
                body(waiting.event, UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + waiting.messageCount)]))
            }
        }
        if queues[index].isEmpty {
            let keep = queues[index].waiting.capacity <= Self.keptCapacity && queues[index].bytes.capacity <= Self.keptCapacity * 64
            queues[index].waiting.removeAll(keepingCapacity: keep)
            queues[index].bytes.removeAll(keepingCapacity: keep)
            queues[index].bytesBase = 0
            queues[index].head = 0
            queueIndex[queues[index].key] = nil
            freeQueues.append(index)
            heap.swapAt(0, heap.count - 1)
            heap.removeLast()
        } else {
            let head = queues[index].head
            if head >= 1024 && head * 2 >= queues[index].waiting.count {
                // Drop what was handed out: the events, and the bytes before
                // the first message still waiting.
                let firstStart = queues[index].waiting[head].messageStart - queues[index].bytesBase
                queues[index].waiting.removeFirst(head)
                queues[index].bytes.removeFirst(firstStart)
                queues[index].bytesBase += firstStart
                queues[index].head = 0
            }
            let next = queues[index].waiting[queues[index].head]
            heap[0] = Entry(time: next.event.time, arrival: next.arrival, queue: index)
        }
        if !heap.isEmpty { siftDown(0) }
        return true
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && Self.before(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count && Self.before(heap[right], heap[smallest]) { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
