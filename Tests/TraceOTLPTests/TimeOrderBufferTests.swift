import Testing
import TraceOTLP

/// `TimeOrderBuffer`: events that arrive out of order across threads come
/// out in time order, and a full buffer gives up its oldest early.
struct TimeOrderBufferTests {
    static func event(_ time: Int64, thread: UInt32 = 1) -> SpanEvent {
        SpanEvent(time: time, process: 1, thread: thread, swiftTask: 0, task: 1, kind: .taskEnded)
    }

    @Test func eventsComeOutInTimeOrderOnlyOnceTheirTimeHasPassed() {
        var buffer = TimeOrderBuffer()
        var out: [Int64] = []
        // Thread 2's chunk (a task's begin at 10) arrives after thread 1's.
        for time: Int64 in [20, 30, 50] { buffer.add(Self.event(time), from: 1) { event, _ in out.append(event.time) } }
        for time: Int64 in [10, 40] { buffer.add(Self.event(time, thread: 2), from: 2) { event, _ in out.append(event.time) } }
        buffer.release(before: 35) { event, _ in out.append(event.time) }
        #expect(out == [10, 20, 30])
        buffer.add(Self.event(45, thread: 3), from: 3) { event, _ in out.append(event.time) }
        buffer.releaseAll { event, _ in out.append(event.time) }
        #expect(out == [10, 20, 30, 40, 45, 50])
        #expect(buffer.count == 0 && buffer.early == 0)
    }

    @Test func aFullBufferHandsOutItsOldestEarly() {
        var buffer = TimeOrderBuffer(eventLimit: 3, byteLimit: 100)
        var out: [Int64] = []
        // Five threads, one event each.
        for (thread, time): (UInt32, Int64) in [(1, 5), (2, 1), (3, 4), (4, 2), (5, 3)] {
            buffer.add(Self.event(time), from: thread) { event, _ in out.append(event.time) }
        }
        #expect(out == [1, 2] && buffer.early == 2 && buffer.count == 3)
        let log = SpanEvent(time: 9, process: 1, thread: 1, swiftTask: 0, task: 1, kind: .log(category: 1))
        [UInt8](repeating: 0x41, count: 150).withUnsafeBytes { message in
            buffer.add(log, message: message, from: 1) { event, _ in out.append(event.time) }
        }
        // The message alone passes the byte limit: everything goes, itself last.
        #expect(out == [1, 2, 3, 4, 5, 9] && buffer.count == 0)
    }

    @Test func threadsThatComeAndGoLeaveNoQueuesBehind() {
        // 100 rounds of 1,000 threads never seen before (as a hostile batch
        // header naming a new thread each time would make), each round
        // released before the next: the slots are reused, not added.
        var buffer = TimeOrderBuffer()
        var out = 0
        var order: [Int64] = []
        for round in 0..<100 {
            for slot in 0..<1000 {
                let thread = UInt32(round * 1000 + slot)
                let time = Int64(round * 1000 + (slot * 7919) % 1000)
                buffer.add(Self.event(time, thread: thread), from: thread) { _, _ in out += 1 }
            }
            #expect(buffer.threadsWaiting == 1000)
            buffer.release(before: Int64((round + 1) * 1000)) { event, _ in order.append(event.time) }
            #expect(buffer.threadsWaiting == 0 && buffer.count == 0)
        }
        #expect(out == 0 && order == (0..<100_000).map(Int64.init))
        #expect(buffer.queueSlots == 1000)
    }

    @Test func messagesComeOutWithTheirEventsWhileTheQueuesAreCompacted() {
        // Two threads, 5,000 logs each with a message of its own, released
        // in steps: each message comes out whole with its event, in time
        // order, while each queue drops what it handed out.
        var buffer = TimeOrderBuffer()
        var out: [(Int64, String)] = []
        func take(_ event: SpanEvent, _ message: UnsafeRawBufferPointer) {
            out.append((event.time, String(decoding: message, as: UTF8.self)))
        }
        for index in 0..<5000 {
            for thread: UInt32 in [1, 2] {
                let time = Int64(index * 2) + Int64(thread)
                // Every third event has no message.
                let text = index % 3 == 0 ? "" : "t\(thread) #\(index) " + String(repeating: "x", count: index % 17)
                let event = SpanEvent(time: time, process: 1, thread: thread, swiftTask: 0, task: 1,
                                      kind: index % 3 == 0 ? .taskEnded : .log(category: 1))
                var copy = text
                copy.withUTF8 { buffer.add(event, message: UnsafeRawBufferPointer($0), from: thread, overflow: take) }
            }
            if index % 700 == 699 { buffer.release(before: Int64(index * 2 - 500), take) }
        }
        buffer.releaseAll(take)
        #expect(out.count == 10_000 && buffer.count == 0 && buffer.early == 0)
        #expect(out.map(\.0) == (1...10_000).map(Int64.init))
        for (time, text) in out {
            let index = Int(time - 1) / 2, thread = (time - 1) % 2 + 1
            let expected = index % 3 == 0 ? "" : "t\(thread) #\(index) " + String(repeating: "x", count: index % 17)
            #expect(text == expected, "event at \(time)")
        }
    }
}
