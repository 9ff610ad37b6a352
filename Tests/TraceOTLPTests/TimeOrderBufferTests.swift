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
        for time: Int64 in [20, 30, 50] { buffer.add(Self.event(time), from: 1) { out.append($0.time) } }
        for time: Int64 in [10, 40] { buffer.add(Self.event(time, thread: 2), from: 2) { out.append($0.time) } }
        buffer.release(before: 35) { out.append($0.time) }
        #expect(out == [10, 20, 30])
        buffer.add(Self.event(45, thread: 3), from: 3) { out.append($0.time) }
        buffer.releaseAll { out.append($0.time) }
        #expect(out == [10, 20, 30, 40, 45, 50])
        #expect(buffer.count == 0 && buffer.early == 0)
    }

    @Test func aFullBufferHandsOutItsOldestEarly() {
        var buffer = TimeOrderBuffer(eventLimit: 3, byteLimit: 100)
        var out: [Int64] = []
        // Five threads, one event each.
        for (thread, time): (UInt32, Int64) in [(1, 5), (2, 1), (3, 4), (4, 2), (5, 3)] {
            buffer.add(Self.event(time), from: thread) { out.append($0.time) }
        }
        #expect(out == [1, 2] && buffer.early == 2 && buffer.count == 3)
        let message = SpanEvent(time: 9, process: 1, thread: 1, swiftTask: 0, task: 1,
                                kind: .log(category: "c", message: [UInt8](repeating: 0x41, count: 150)))
        buffer.add(message, from: 1) { out.append($0.time) }
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
                buffer.add(Self.event(time, thread: thread), from: thread) { _ in out += 1 }
            }
            #expect(buffer.threadsWaiting == 1000)
            buffer.release(before: Int64((round + 1) * 1000)) { order.append($0.time) }
            #expect(buffer.threadsWaiting == 0 && buffer.count == 0)
        }
        #expect(out == 0 && order == (0..<100_000).map(Int64.init))
        #expect(buffer.queueSlots == 1000)
    }
}
