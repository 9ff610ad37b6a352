// traced-load: a load generator for traced, the daemon's end-to-end benchmark
// (docs/performance.md, "End to end"; scripts/load-benchmark drives it).
//
// It connects to the daemon the way any service does (TRACED_RUNTIME_DIR,
// TRACED_DAEMON=on), waits until a session turns its tracing on, emits a
// fixed number of events from some threads, as fast as it can or paced at a
// rate, and prints what it emitted and how long that took, as key=value
// lines:
//
//   traced-load --kind counter --events 100000000 --threads 1 [--rate 20M]
import ArgumentParser
import TraceClient

struct TracedLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traced-load",
        abstract: "Emit a known number of trace events into a running traced session and time them.")

    @Option(help: "counter (1 event per call), region (an empty withRegion: 2 events), mixed (a region around a counter and a log: 4 events), or task (a task \"request\" created and ended: 2 events).")
    var kind: Workload.Kind = .counter

    @Option(help: "Events to emit in all (rounded down to whole calls of the kind, split evenly between threads).")
    var events: Int = 10_000_000

    @Option(help: "Producer threads.")
    var threads: Int = 1

    @Option(help: "Events per second in all, like 15M or 500K; 0 for as fast as possible.")
    var rate: String = "0"

    @Option(help: "Seconds to wait for a session to turn tracing on before giving up (exit status 3).")
    var wait: Int = 10

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be positive") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be 1 to 256") }
        guard Workload.rate(rate) != nil else { throw ValidationError("--rate: expected a number like 15M, 500K or 0, not '\(rate)'") }
    }

    func run() throws {
        // The first annotation opens the connection to traced (it is not
        // recorded); tracing stays off until a session's control word arrives.
        Trace.counter("connect", 0)
        guard Clock.waitUntil(seconds: wait, { Trace.isEnabled }) else {
            print("enabled=false")
            throw ExitCode(3)
        }
        let workload = Workload(kind: kind, events: events, threads: threads, rate: Workload.rate(rate) ?? 0)
        let elapsed = workload.run()
        let emitted = workload.emitted
        print("kind=\(kind.rawValue)")
        print("threads=\(threads)")
        print("emitted=\(emitted)")
        print("elapsed_ns=\(elapsed)")
        print("rate=\(elapsed > 0 ? UInt64(Double(emitted) * 1e9 / Double(elapsed)) : 0)")
    }
}

TracedLoad.main()
