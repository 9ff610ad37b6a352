import ArgumentParser
import TraceClient
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// What traced-load emits: `calls` annotation calls of one kind on each of
/// `threads` threads, all starting together, each paced to its share of
/// `rate` events per second (or unpaced at 0).
struct Workload: Sendable {
    enum Kind: String, ExpressibleByArgument, CaseIterable, Sendable {
        case counter, region, mixed, task

        /// Events one call of this kind records.
        var eventsPerCall: Int {
            switch self {
            case .counter: 1
            case .region: 2
            case .mixed: 4
            case .task: 2
            }
        }
    }

    let kind: Kind
    let threads: Int
    let callsPerThread: Int
    /// Events per second, all threads together; 0 is unpaced.
    let rate: Double

    /// Calls made between two looks at the clock when paced: ~1,000 events,
    /// tens of microseconds, far below what the buffer holds.
    static let pacingBatch = 256

    init(kind: Kind, events: Int, threads: Int, rate: Double) {
        self.kind = kind
        self.threads = threads
        self.callsPerThread = events / kind.eventsPerCall / threads
        self.rate = rate
    }

    var emitted: Int { callsPerThread * threads * kind.eventsPerCall }

    /// "15M", "500K", "2000000", "0": events per second; nil if malformed.
    static func rate(_ text: String) -> Double? {
        var digits = Substring(text.uppercased())
        var scale = 1.0
        switch digits.last {
        case "K": scale = 1e3
        case "M": scale = 1e6
        case "G": scale = 1e9
        default: break
        }
        if scale > 1 { digits = digits.dropLast() }
        guard let value = Double(digits), value >= 0, value.isFinite else { return nil }
        return value * scale
    }

    /// Runs the threads; returns nanoseconds from the common start until the
    /// last thread's last event.
    func run() -> UInt64 {
        let start = Clock.now() + 1_000_000
        // Plain threads: a thread's chunk goes back to the buffer when it
        // exits (a Dispatch worker would keep it until the daemon scrapes).
        let workers = (0..<threads).map { _ in
            do {
                return try SystemThread.spawn(name: "load") { self.emit(startingAt: start) }
            } catch {
                // A process that cannot make threads cannot load anything.
                try? FileDescriptor.standardError.writeAll(Array("traced-load: \(error)\n".utf8))
                exit(1)
            }
        }
        for worker in workers { worker.join() }
        return Clock.now() - start
    }

    private func emit(startingAt start: UInt64) {
        Clock.sleep(until: start)
        // Nanoseconds per call on this thread, when paced.
        let interval = rate > 0 ? Double(threads * kind.eventsPerCall) * 1e9 / rate : 0
        var done = 0
        while done < callsPerThread {
            let end = interval > 0 ? min(callsPerThread, done + Self.pacingBatch) : callsPerThread
            switch kind {
            case .counter:
                for value in done..<end { Trace.counter("seq", value) }
            case .region:
                for _ in done..<end { Trace.withRegion("work") {} }
            case .task:
                for _ in done..<end { TraceTask("request").end() }
            case .mixed:
                for value in done..<end {
                    Trace.withRegion("work") {
                        Trace.counter("seq", value)
                        Trace.log(value % 2 == 0 ? "even" : "odd", "value \(value)")
                    }
                }
            }
            done = end
            // The schedule is absolute, so a late wake-up is made up by the
            // following batches instead of lowering the rate. Only a thread
            // that is ahead sleeps: a clock_nanosleep for a past instant
            // still costs ~15 µs here, which capped the rate near 13 M/s.
            if interval > 0 {
                let due = start + UInt64(Double(done) * interval)
                if Clock.now() < due { Clock.sleep(until: due) }
            }
        }
    }
}
