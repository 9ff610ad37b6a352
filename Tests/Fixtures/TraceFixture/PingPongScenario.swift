import CTraceABI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `pingpong`: pairs of threads passing one byte back and forth over two
/// pipes for `--seconds` (default 5), as fast as they can: each pass is a
/// wakeup and two context switches, the load that execution events cost
/// most on. No annotations. Prints the passes, so a test or benchmark
/// knows the switches it caused (at least 2 per pass):
/// `pairs=P`, `passes=N`, `seconds=S`.
enum PingPongScenario {
    static func run(_ options: Fixture.Options) {
        let pairs = options.number("pairs", default: 1)
        let seconds = options.number("seconds", default: 5)
        guard (1...64).contains(pairs), (1...3600).contains(seconds) else {
            Fixture.fail("--pairs from 1 to 64, --seconds from 1 to 3600")
        }
        let counter = Counter()
        var workers: [Worker<Int>] = []
        for pair in 0..<pairs {
            let ping = BytePipe(), pong = BytePipe()
            workers.append(Worker("ping-\(pair)") {
                var count = 0
                while !counter.stopped {
                    ping.send()
                    pong.receive()
                    count += 1
                }
                ping.send(0)   // the other side's stop
                return count
            })
            workers.append(Worker("pong-\(pair)") {
                while ping.receiveValue() == 1 { pong.send() }
                return 0
            })
        }
        let start = tc_monotonic_ns()
        usleep(UInt32(seconds) * 1_000_000)
        counter.finish()
        let total = workers.map { $0.join() }.reduce(0, +)
        let elapsed = Double(tc_monotonic_ns() - start) / 1e9
        print("pairs=\(pairs)")
        print("passes=\(total)")
        print("seconds=\(elapsed)")
    }

    /// The stop flag the threads poll between passes.
    private final class Counter: Sendable {
        private let stop = Atomic<Bool>(false)
        var stopped: Bool { stop.load(ordering: .relaxed) }
        func finish() { stop.store(true, ordering: .relaxed) }
    }
}

/// `spinner`: once tracing is on, one thread computes for `--seconds`
/// (default 1) in `burnCPU`, a function of its own that makes no calls in
/// its loop: a CPU profile's top entry. Prints `spinner.tid=T`.
enum SpinnerScenario {
    static func run(_ options: Fixture.Options) {
        Fixture.waitUntilEnabled(options)
        let seconds = options.number("seconds", default: 1)
        guard (1...600).contains(seconds) else { Fixture.fail("--seconds from 1 to 600") }
        let worker = Worker("spinner") { () -> Int32 in
            let end = tc_monotonic_ns() + UInt64(seconds) * 1_000_000_000
            var state: UInt64 = 1
            while tc_monotonic_ns() < end { state = burnCPU(state) }
            print("spinner.state=\(state % 10)")
            return Int32(truncatingIfNeeded: tc_gettid())
        }
        print("spinner.tid=\(worker.join())")
    }

    /// A few million steps of an xorshift: the spinning function. A
    /// `while` with masking operators, not `for _ in 0..<n`: in a debug
    /// build the range's iterator is a call (`IndexingIterator.next()`),
    /// which then took 60 % of the samples, and a sample in it does not
    /// always have this function as its caller (CI, 2026-12-07).
    @inline(never)
    static func burnCPU(_ seed: UInt64) -> UInt64 {
        var x = seed
        var step = 0
        while step < 2_000_000 {
            x ^= x &<< 13
            x ^= x &>> 7
            x ^= x &<< 17
            step &+= 1
        }
        return x
    }
}
