import CTraceABI
import Dispatch
import Foundation
import Synchronization
import TestSupport
import Testing
import TraceKernel
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Callchains on the running kernel (the tests run as root): threads of
/// this process waiting on a lock, a timer and a pipe are told apart by
/// their switch-outs.
@Suite struct KernelStackTests {
    static func collector() throws -> KernelCollector {
        // 8 MiB rings: nothing is drained until the threads are done.
        try KernelCollector(tracepoints: try Tracepoints.locate(mounting: true), ringSize: 8 << 20,
                            classifier: try KernelCollectorTests.classifier.get())
    }

    /// The threads' ids by role, as each thread reports its own.
    final class ThreadIDs: Sendable {
        private let ids = Mutex<[String: Int32]>([:])
        func record(_ role: String) { ids.withLock { $0[role] = currentThreadID() } }
        subscript(role: String) -> Int32? { ids.withLock { $0[role] } }
    }

    @Test func threadsWaitingOnALockATimerAndAPipeAreToldApart() throws {
        let collector = try Self.collector()
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        let readEnd = ends[0], writeEnd = ends[1]
        defer { close(readEnd); close(writeEnd) }
        let lock = NSLock()  // a pthread mutex
        let ids = ThreadIDs()
        let started = DispatchSemaphore(value: 0)
        try collector.enable()
        let before = tc_monotonic_ns()
        lock.lock()
        let threads = [
            try SystemThread.spawn(name: "locker") {
                ids.record("locker")
                started.signal()
                lock.lock()  // contended: the test holds it 20 ms
                lock.unlock()
            },
            try SystemThread.spawn(name: "sleeper") {
                ids.record("sleeper")
                started.signal()
                var request = timespec(tv_sec: 0, tv_nsec: 20_000_000)
                nanosleep(&request, nil)
            },
            try SystemThread.spawn(name: "reader") {
                ids.record("reader")
                started.signal()
                var byte: UInt8 = 0
                _ = read(readEnd, &byte, 1)  // written 20 ms later
            },
        ]
        for _ in threads { started.wait() }
        var request = timespec(tv_sec: 0, tv_nsec: 20_000_000)
        nanosleep(&request, nil)
        lock.unlock()
        var byte: UInt8 = 1
        try #require(write(writeEnd, &byte, 1) == 1)
        for thread in threads { thread.join() }
        let after = tc_monotonic_ns()
        try collector.disable()
        var records: [KernelRecord] = []
        collector.drain { records.append($0) }
        #expect(collector.statistics.map(\.undecodable) == collector.cpus.map { _ in 0 })

        let wanted: [(role: String, kind: WaitKind, why: Set<String>)] = [
            ("locker", .lock, ["futex"]), ("sleeper", .sleep, ["nanosleep", "clock_nanosleep"]), ("reader", .io, ["read"]),
        ]
        for (role, kind, why) in wanted {
            let tid = try #require(ids[role])
            // Asleep (S), not the last switch of a thread that exits.
            let asleep = records.compactMap { record -> ContextSwitch? in
                guard case .contextSwitch(let change) = record, change.previousTID == tid,
                      change.previousState == .sleeping, change.time > before, change.time < after
                else { return nil }
                return change
            }
            try #require(!asleep.isEmpty, "no switch-out of the \(role)")
            for change in asleep {
                #expect(change.wait == kind, "\(role): \(change.wait) \(change.why)")
                #expect(why.contains(change.why), "\(role): \(change.why)")
                // Its user stack: where it entered the kernel, and callers.
                #expect(change.userStack.count >= 2, "\(role): \(change.userStack)")
                #expect(!change.stackCut)
            }
        }
    }
}
