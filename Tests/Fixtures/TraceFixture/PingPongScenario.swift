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
