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
/// their switch-outs, and a spinning thread is sampled at the rate asked.
@Suite struct KernelStackTests {
    static func collector(cpuSampleHertz: Int = 0) throws -> KernelCollector {
        // 8 MiB rings: nothing is drained until the threads are done.
        try KernelCollector(tracepoints: try Tracepoints.locate(mounting: true), ringSize: 8 << 20,
                            classifier: try KernelCollectorTests.classifier.get(), cpuSampleHertz: cpuSampleHertz)
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

    @Test func aSpinningThreadIsSampledAtTheRateAskedWithItsUserStack() throws {
        let hertz = 99
        let collector = try Self.collector(cpuSampleHertz: hertz)
        let ids = ThreadIDs()
        // 200 ms on a CPU, however long other work makes that take (up to 20 s).
        let spin: UInt64 = 200_000_000
        try collector.enable()
        let spinner = try SystemThread.spawn(name: "spinner") {
            ids.record("spinner")
            let deadline = tc_monotonic_ns() + 100 * spin
            while Self.threadCPUTime() < spin && tc_monotonic_ns() < deadline {}
        }
        spinner.join()
        try collector.disable()
        var samples: [CPUSample] = []
        collector.drain { if case .sample(let sample) = $0 { samples.append(sample) } }
        let tid = try #require(ids["spinner"])
        let spinning = samples.filter { $0.tid == tid }
        // A CPU's clock fires every 1/99 s, and finds the thread running
        // as often as it runs: ~20 times in its 200 ms, however the
        // scheduler slices them. At least a quarter, at most twice that.
        let expected = Int(spin) * hertz / 1_000_000_000
        #expect(spinning.count >= expected / 4, "\(spinning.count) samples")
        #expect(spinning.count <= expected * 2 + 2, "\(spinning.count) samples")
        #expect(spinning.allSatisfy { $0.pid == getpid() && !$0.stackCut })
        #expect(!samples.contains { $0.pid == 0 })
        // The innermost frame is where it was: this process's code.
        let code = try Self.executableRanges()
        #expect(spinning.allSatisfy { sample in sample.stack.first.map { ip in code.contains { $0.contains(ip) } } ?? false })
        #expect(collector.statistics.map(\.undecodable) == collector.cpus.map { _ in 0 })
    }

    @Test func aSampleRateOutOfRangeIsRefused() throws {
        let tracepoints = try Tracepoints.locate(mounting: true)
        for hertz in [-1, KernelCollector.maximumSampleHertz + 1] {
            #expect(throws: KernelError.cpuSampleRate(hertz: hertz)) {
                try KernelCollector(tracepoints: tracepoints, cpuSampleHertz: hertz)
            }
        }
        #expect(KernelError.cpuSampleRate(hertz: -1).description
            == "a CPU sampling rate of -1 Hz is out of range: give 0 (no samples) to 10000 Hz")
    }

    /// The CPU time of the calling thread, in nanoseconds.
    static func threadCPUTime() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// The executable mappings of this process (`/proc/self/maps`).
    static func executableRanges() throws -> [Range<UInt64>] {
        let descriptor = try FileDescriptor.open("/proc/self/maps", O_RDONLY)
        defer { descriptor.close() }
        let maps = String(decoding: try descriptor.readToEnd(), as: UTF8.self)
        return maps.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 2, fields[1].contains("x") else { return nil }
            let bounds = fields[0].split(separator: "-").compactMap { UInt64($0, radix: 16) }
            return bounds.count == 2 ? bounds[0]..<bounds[1] : nil
        }
    }
}
