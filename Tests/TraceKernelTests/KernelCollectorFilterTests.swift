import CTraceABI
import Foundation
import Testing
import TraceKernel
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Two threads of this process on one CPU passing a byte back and forth
/// through two pipes: the pinger leaves the CPU at every pass.
private final class PingPong: @unchecked Sendable {
    // Written by each thread once before `ready` is signalled, read after.
    var tids: [Int32] = [0, 0]
    let ready = DispatchSemaphore(value: 0)
    let done = DispatchSemaphore(value: 0)
    private var there: [Int32] = [-1, -1], back: [Int32] = [-1, -1]
    let passes: Int
    let cpu: Int

    init(passes: Int, cpu: Int) {
        self.passes = passes
        self.cpu = cpu
        pipe(&there)
        pipe(&back)
    }

    // The pinger closes there[1] (the ponger's end of file); both threads
    // hold `self`, so this runs after them.
    deinit { [there[0], back[0], back[1]].forEach { Glibc.close($0) } }

    /// Starts both threads; they pass `passes` bytes after `go`.
    func start(go: DispatchSemaphore) {
        Thread.detachNewThread { [self] in
            pin()
            tids[1] = currentThreadID()
            ready.signal()
            var byte: UInt8 = 0
            while read(there[0], &byte, 1) == 1 { _ = write(back[1], &byte, 1) }
        }
        Thread.detachNewThread { [self] in
            pin()
            tids[0] = currentThreadID()
            ready.signal()
            go.wait()
            var byte: UInt8 = 1
            for _ in 0..<passes {
                _ = write(there[1], &byte, 1)
                _ = read(back[0], &byte, 1)
            }
            Glibc.close(there[1])
            done.signal()
        }
        ready.wait()
        ready.wait()
    }

    /// The calling thread runs on `cpu` only.
    private func pin() { precondition(tc_pin_to_cpu(Int32(cpu)) == 0, "cannot pin a thread to CPU \(cpu)") }
}

extension KernelCollectorTests {
    /// Switches and wakings that `filter`'s threads (`chosen`, and those
    /// newer than `last`) take part in, and the others.
    static func split(_ records: [KernelRecord], chosen: Set<Int32>, last: Int32) -> (kept: Int, others: [KernelRecord]) {
        func isChosen(_ tid: Int32) -> Bool { chosen.contains(tid) || tid > last }
        var kept = 0, others: [KernelRecord] = []
        for record in records {
            switch record {
            case .contextSwitch(let change):
                if isChosen(change.previousTID) || isChosen(change.nextTID) { kept += 1 } else { others.append(record) }
            case .wakeup(let wakeup):
                if isChosen(wakeup.wakeeTID) { kept += 1 } else { others.append(record) }
            default: break
            }
        }
        return (kept, others)
    }

    @Test func aBusyThreadNotChosenLeavesNoSwitchOrWakingInTheRingsAndTheChosenOnesAll() throws {
        let collector = try Self.collector(ringSize: 8 << 20)
        let pair = PingPong(passes: 20_000, cpu: collector.cpus.last ?? 0), go = DispatchSemaphore(value: 0)
        pair.start(go: go)
        let tid = currentThreadID()
        // Read after the pair started: its threads are not newer.
        let last = try #require(ThreadFilter.lastAllocatedThread())
        try #require(pair.tids.allSatisfy { $0 > 0 && $0 <= last })
        let filter = try #require(ThreadFilter(threads: [tid], newerThan: last))
        // Before enabling: until `select`, every thread is recorded.
        #expect(try collector.select(filter))
        #expect(try !collector.select(filter))
        try collector.enable()
        go.signal()
        var request = timespec(tv_sec: 0, tv_nsec: 20_000_000)
        nanosleep(&request, nil)
        pair.done.wait()
        try collector.disable()
        var records: [KernelRecord] = []
        collector.drain { records.append($0) }

        let (kept, others) = Self.split(records, chosen: [tid], last: last)
        // 20,000 passes switch between the pair's threads 40,000 times or
        // more: none of it reached a ring.
        #expect(others.isEmpty)
        #expect(!records.contains { record in
            if case .contextSwitch(let change) = record {
                return pair.tids.contains(change.previousTID) && pair.tids.contains(change.nextTID)
            }
            return false
        })
        // The chosen thread's sleep is there, whole.
        let asleep = records.filter { if case .contextSwitch(let change) = $0 { change.previousTID == tid && change.previousState == .sleeping } else { false } }
        let woken = records.filter { if case .wakeup(let wakeup) = $0 { wakeup.wakeeTID == tid } else { false } }
        #expect(asleep.count >= 2)
        #expect(woken.count >= 2)
        #expect(kept >= 4)
        // Its switch-ins too, each once, and no other thread's stack was
        // unwound: a switch from a thread not chosen has no callchain.
        let into = records.compactMap { record -> ContextSwitch? in
            if case .contextSwitch(let change) = record, change.nextTID == tid { change } else { nil }
        }
        #expect(into.count >= 2)
        #expect(Set(into.map(\.time)).count == into.count)
        let unwound = records.compactMap { record -> Int32? in
            guard case .contextSwitch(let change) = record, !change.userStack.isEmpty else { return nil }
            return change.previousTID == tid || change.previousTID > last ? nil : change.previousTID
        }
        #expect(unwound.isEmpty, "stacks of threads not chosen: \(Set(unwound))")
        #expect(asleep.allSatisfy { if case .contextSwitch(let change) = $0 { !change.userStack.isEmpty } else { false } })
        #expect(collector.statistics.map(\.undecodable) == collector.cpus.map { _ in 0 })
    }

    @Test func everyThreadIsRecordedAgainOnceTheFilterIsLifted() throws {
        let collector = try Self.collector(ringSize: 8 << 20)
        let pair = PingPong(passes: 5_000, cpu: collector.cpus.last ?? 0), go = DispatchSemaphore(value: 0)
        pair.start(go: go)
        let last = try #require(ThreadFilter.lastAllocatedThread())
        try collector.enable()
        let nobody = try #require(ThreadFilter(threads: [], newerThan: last))
        #expect(try collector.select(nobody))
        #expect(try collector.select(nil))
        #expect(collector.filter == nil)
        go.signal()
        pair.done.wait()
        try collector.disable()
        var records: [KernelRecord] = []
        collector.drain { records.append($0) }
        // The pinger leaves its CPU at each pass, for its partner to
        // answer on the same CPU, and comes back.
        let pinger = pair.tids[0]
        let out = records.filter { if case .contextSwitch(let change) = $0 { change.previousTID == pinger } else { false } }
        let back = records.filter { if case .contextSwitch(let change) = $0 { change.nextTID == pinger } else { false } }
        #expect(out.count >= 5_000)
        #expect(back.count >= 5_000)
        #expect(collector.statistics.map(\.undecodable) == collector.cpus.map { _ in 0 })
    }

    /// Two threads spinning on one CPU, one chosen: each preempts the
    /// other. The chosen one's preemptions (state R: preempted on its way
    /// back to user mode, not "R+") are recorded, by the event with user
    /// callchains only, with its user stack and no wait; the other's
    /// switches into it are recorded without a stack; each switch once.
    @Test func aPreemptedChosenThreadIsRecordedWithItsUserStackAndTheOtherWithout() throws {
        let collector = try Self.collector(ringSize: 8 << 20)
        let cpu = collector.cpus.last ?? 0
        final class Spinners: @unchecked Sendable {
            // Written by each thread before `ready` is signalled.
            var tids: [Int32] = [0, 0]
            let ready = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        }
        let spinners = Spinners(), go = DispatchSemaphore(value: 0)
        for index in 0..<2 {
            Thread.detachNewThread {
                precondition(tc_pin_to_cpu(Int32(cpu)) == 0, "cannot pin a thread to CPU \(cpu)")
                spinners.tids[index] = currentThreadID()
                spinners.ready.signal()
                go.wait()
                var now = timespec(), end = timespec()
                clock_gettime(CLOCK_MONOTONIC, &end)
                end.tv_nsec += 300_000_000
                repeat { clock_gettime(CLOCK_MONOTONIC, &now) } while now.tv_sec * 1_000_000_000 + now.tv_nsec
                    < end.tv_sec * 1_000_000_000 + end.tv_nsec
                spinners.done.signal()
            }
        }
        spinners.ready.wait()
        spinners.ready.wait()
        let last = try #require(ThreadFilter.lastAllocatedThread())
        let (chosen, other) = (spinners.tids[0], spinners.tids[1])
        let filter = try #require(ThreadFilter(threads: [chosen], newerThan: last))
        #expect(try collector.select(filter))
        try collector.enable()
        go.signal()
        go.signal()
        spinners.done.wait()
        spinners.done.wait()
        try collector.disable()
        var switches: [ContextSwitch] = []
        collector.drain { if case .contextSwitch(let change) = $0 { switches.append(change) } }

        let preempted = switches.filter { $0.previousTID == chosen && $0.previousState == .running }
        #expect(preempted.count >= 5, "\(switches.count) switches")
        #expect(preempted.allSatisfy { !$0.userStack.isEmpty && $0.wait == .none && $0.why.isEmpty })
        // Back on its CPU as often, from the other or any thread not chosen.
        let handedBack = switches.filter { $0.previousTID != chosen && $0.previousTID <= last && $0.nextTID == chosen }
        #expect(handedBack.count >= 5)
        #expect(handedBack.allSatisfy { $0.userStack.isEmpty })
        #expect(Set(switches.map { "\($0.time) \($0.previousTID) \($0.nextTID)" }).count == switches.count)
        // The other's switches to threads not chosen are not recorded
        // (threads newer than the filter are chosen).
        #expect(!switches.contains { $0.previousTID == other && $0.nextTID != chosen && $0.nextTID <= last })
    }

    /// While `select` replaces the events, the kernel records a switch or
    /// a waking twice, one copy right after the other, each with its own
    /// clock reading: the second is dropped, and only that.
    @Test func aSwitchOrWakingRecordedTwiceInARowIsHandedOnOnce() {
        func change(_ previous: Int32, _ next: Int32, at time: UInt64, stack: [UInt64] = []) -> KernelRecord {
            .contextSwitch(ContextSwitch(time: time, cpu: 0, previousTID: previous, previousPID: 1, previousState: .sleeping,
                                         preempted: false, nextTID: next, userStack: stack))
        }
        func waking(_ wakee: Int32, at time: UInt64) -> KernelRecord {
            .wakeup(Wakeup(time: time, cpu: 0, wakerTID: 5, wakerPID: 5, wakeeTID: wakee, inInterrupt: false))
        }
        var duplicates = Duplicates()
        let records = [
            change(11, 12, at: 1_000, stack: [0x1000]), change(11, 12, at: 1_900),  // a copy without callchain
            waking(11, at: 2_000), waking(11, at: 2_040),                         // a copy
            change(12, 11, at: 3_000), change(12, 13, at: 3_010),                 // another switch
            waking(13, at: 4_000), change(13, 12, at: 4_010), waking(13, at: 4_020),  // not in a row
            change(12, 11, at: 5_000), change(12, 11, at: 5_000 + Duplicates.window + 1),  // too far apart
            waking(11, at: 300_000), waking(11, at: 300_000 + Duplicates.wakingWindow + 1),  // woken twice
        ]
        let kept = records.filter { !duplicates.repeats($0) }
        #expect(kept.count == records.count - 2)
        #expect(kept.first == records[0])
    }

    @Test func threadsThatDoNotFitAFilterAreNotFilteredAndRunsBecomeRanges() {
        #expect(ThreadFilter(threads: [7, 5, 6, 9], newerThan: 100)?.wakingFilter == "(pid>=5&&pid<=7)||pid==9||pid>100")
        #expect(ThreadFilter(threads: [], newerThan: nil)?.switchFilter == "prev_pid<0||next_pid<0")
        #expect(ThreadFilter(threads: [3, 4], newerThan: 9)?.switchOutFilter
            == "((prev_pid>=3&&prev_pid<=4)||prev_pid>9)&&prev_state&255")
        #expect(ThreadFilter(threads: [3, 4], newerThan: 9)?.runnableOutFilter
            == "((prev_pid>=3&&prev_pid<=4)||prev_pid>9)&&!(prev_state&255)")
        #expect(ThreadFilter(threads: [3, 4], newerThan: 9)?.switchInFilter
            == "((next_pid>=3&&next_pid<=4)||next_pid>9)&&!((prev_pid>=3&&prev_pid<=4)||prev_pid>9)")
        let scattered = (0..<400).map { Int32(1_000 + 2 * $0) }
        #expect(ThreadFilter(threads: scattered, newerThan: 5_000) == nil)
        #expect(ThreadFilter(threads: scattered.map { $0 / 2 }, newerThan: 5_000) != nil)
    }
}
