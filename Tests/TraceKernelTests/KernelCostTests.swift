import CTraceABI
import Foundation
import Synchronization
import TestSupport
import Testing
import TraceKernel
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// What callchains cost the drain: two threads of this process ping-pong a
/// byte over two pipes for a second, as fast as the scheduler lets them,
/// while the test thread drains whenever `wait` returns; once without
/// callchains, once with. Prints records a second and the drain's CPU time
/// a record (docs/design.md, "Kernel events: the collector", takes its
/// figures from a release build of this test). Checks what must hold at
/// any speed: every switch-out of the two threads asleep waits in `read`.
///
/// Run on request only (TRACED_KERNEL_COST=1): the events are system-wide,
/// and a second of ~400,000 records would fill the rings of every other
/// collector test running beside it.
@Suite(.tags(.slow), .enabled(if: ProcessInfo.processInfo.environment["TRACED_KERNEL_COST"] != nil))
struct KernelCostTests {
    enum Collector: String, CaseIterable {
        case none = "no collector"
        case withoutCallchains = "callchains off"
        /// The chains read and the user stacks copied, every frame unknown.
        case withoutSymbols = "callchains, no symbols"
        case withCallchains = "callchains on"
    }

    struct Run {
        var roundTrips = 0
        var records = 0
        var bytes = 0
        var seconds = 0.0
        var drainNanoseconds: UInt64 = 0
        var lost: UInt64 = 0
        var undecodable = 0
        var readWaits = 0
        var userFrames = 0
        /// Switch-outs of the two threads not classified as a read, and
        /// the first few of them.
        var otherWaits = 0
        var firstOtherWaits: [String] = []

        var summary: String {
            func rate(_ count: Int) -> String { "\(Int(Double(count) / seconds))" }
            var text = "\(rate(roundTrips)) round trips/s"
            if records > 0 {
                text += ", \(rate(records)) records/s of \(bytes / records) bytes, "
                    + "\(drainNanoseconds / UInt64(records)) ns of drain CPU per record, \(lost) lost, "
                    + "\(readWaits) reads waited, \(userFrames / max(readWaits, 1)) user frames each"
            }
            return text
        }
    }

    /// What the test thread and the two players share.
    final class Shared: Sendable {
        let stop = Atomic<Bool>(false)
        let roundTrips = Atomic<Int>(0)
        let tids = Mutex<[Int32]>([])
    }

    static func threadCPUTime() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Ping-pongs for `seconds` under `kind` of collector, draining it
    /// whenever `wait` returns.
    static func pingPong(_ kind: Collector, classifier: WaitClassifier, seconds: Double) throws -> Run {
        var collector: KernelCollector?
        if kind != .none {
            collector = try KernelCollector(
                tracepoints: try Tracepoints.locate(mounting: true), callchains: kind != .withoutCallchains,
                classifier: kind == .withoutSymbols ? WaitClassifier(symbols: KernelSymbols(parsing: [])) : classifier)
        }
        var there: [Int32] = [0, 0], back: [Int32] = [0, 0]
        try #require(pipe(&there) == 0 && pipe(&back) == 0)
        // there[1] is closed once the pinger is done, ending the ponger's read.
        defer { [there[0], back[0], back[1]].forEach { close($0) } }
        let ping = (read: back[0], write: there[1]), pong = (read: there[0], write: back[1])
        let shared = Shared()
        try collector?.enable()
        let start = tc_monotonic_ns()
        let pinger = try SystemThread.spawn(name: "ping") {
            shared.tids.withLock { $0.append(currentThreadID()) }
            var byte: UInt8 = 0
            while !shared.stop.load(ordering: .relaxed) {
                guard write(ping.write, &byte, 1) == 1, read(ping.read, &byte, 1) == 1 else { break }
                shared.roundTrips.add(1, ordering: .relaxed)
            }
        }
        let ponger = try SystemThread.spawn(name: "pong") {
            shared.tids.withLock { $0.append(currentThreadID()) }
            var byte: UInt8 = 0
            while read(pong.read, &byte, 1) == 1, write(pong.write, &byte, 1) == 1 {}
        }
        var run = Run()
        var threads: Set<Int32> = []
        func drain() {
            guard let collector else { return }
            if threads.count < 2 { threads = Set(shared.tids.withLock { $0 }) }
            let cpuBefore = threadCPUTime()
            run.records += collector.drain { record in
                guard case .contextSwitch(let change) = record, change.previousState == .sleeping,
                      threads.contains(change.previousTID) else { return }
                if kind == .withCallchains && (change.wait != .io || change.why != "read") {
                    run.otherWaits += 1
                    if run.firstOtherWaits.count < 10 { run.firstOtherWaits.append("\(change.wait) \(change.why)") }
                } else {
                    run.readWaits += 1
                    run.userFrames += change.userStack.count
                }
            }
            run.drainNanoseconds += threadCPUTime() - cpuBefore
        }
        let end = start + UInt64(seconds * 1e9)
        while tc_monotonic_ns() < end {
            if let collector { try collector.wait(timeoutMilliseconds: 10) } else { usleep(10_000) }
            drain()
        }
        shared.stop.store(true, ordering: .relaxed)
        pinger.join()
        close(ping.write)
        ponger.join()
        run.seconds = Double(tc_monotonic_ns() - start) / 1e9
        run.roundTrips = shared.roundTrips.load(ordering: .relaxed)
        try collector?.disable()
        drain()
        if let collector {
            run.lost = collector.statistics.map(\.lost).reduce(0, +)
            run.undecodable = collector.statistics.map(\.undecodable).reduce(0, +)
            run.bytes = collector.statistics.map(\.ring.bytes).reduce(0, +)
        }
        return run
    }

    @Test func aPipePingPongIsDrainedAndItsReadsClassifiedWithAndWithoutCallchains() throws {
        let classifier = try KernelCollectorTests.classifier.get()
        for kind in Collector.allCases {
            let run = try Self.pingPong(kind, classifier: classifier, seconds: 1)
            print("\(kind.rawValue): \(run.summary)")
            // Thousands of round trips even on a loaded machine.
            #expect(run.roundTrips > 1000)
            guard kind != .none else { continue }
            #expect(run.undecodable == 0)
            #expect(run.readWaits > 1000)
            #expect(run.otherWaits == 0, "\(run.firstOtherWaits)")
        }
    }
}
