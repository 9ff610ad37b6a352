// The cost of each annotation, with tracing on (in-process trace to a file,
// drained by its writer thread on the other core), with tracing off, and
// with stacks on. One benchmark iteration is one API call; a region's
// begin+end is two events. docs/performance.md records the figures.
import Benchmark
import TraceClient

#if canImport(Glibc)
import Glibc
#endif

/// Where the traced benchmarks write; scripts/benchmark checks these files
/// for drops afterwards (a figure measured while dropping would be wrong).
func traceFile(_ name: String) -> String { "/tmp/traced-benchmark-\(name).trace" }

/// A buffer of 64 MiB (populated at creation like every buffer).
let bufferBytes = 64 << 20

/// The configuration of a benchmark that traces in process into
/// `traceFile(name)`: 1,000 calls per sample and at most 1,000 samples, so
/// one benchmark emits at most ~2 M events (~60 MB of 27-byte logs), which
/// the buffer holds even if the writer drained nothing. The writer cannot
/// keep up with a thread logging every 10 ns (LZ4 does ~1 GB/s here), and a
/// figure measured while dropping flatters the hot path; the writer's own
/// throughput is what the end-to-end figures measure.
func tracing(_ name: String, stacks: Bool = false) -> Benchmark.Configuration {
    .init(scalingFactor: .kilo, maxIterations: 1000, setup: {
        try Trace.start(writingTo: traceFile(name), options: TraceOptions(stacks: stacks))
    }, teardown: {
        try Trace.stop()
    })
}

/// Per-call cost in picoseconds, measured around the whole sample: wall
/// clock, and CPU time of the calling thread (which leaves out time the
/// hypervisor gave the vCPU to someone else, and the writer thread's work).
let wallPerCall = BenchmarkMetric.custom("wall clock per call (ps)", useScalingFactor: false)
let threadCPUPerCall = BenchmarkMetric.custom("thread CPU per call (ps)", useScalingFactor: false)

func clock(_ id: clockid_t) -> UInt64 {
    var ts = timespec()
    clock_gettime(id, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Runs `body` once per scaled iteration and records the per-call metrics.
@inline(__always)
func measure(_ benchmark: Benchmark, _ body: () -> Void) {
    let wall = clock(CLOCK_MONOTONIC), cpu = clock(CLOCK_THREAD_CPUTIME_ID)
    for _ in benchmark.scaledIterations { body() }
    let calls = UInt64(benchmark.scaledIterations.count)
    benchmark.measurement(wallPerCall, Int((clock(CLOCK_MONOTONIC) - wall) * 1000 / calls))
    benchmark.measurement(threadCPUPerCall, Int((clock(CLOCK_THREAD_CPUTIME_ID) - cpu) * 1000 / calls))
}

let benchmarks: @Sendable () -> Void = {
    try? Trace.configureBuffer(size: bufferBytes)
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, wallPerCall, threadCPUPerCall],
        timeUnits: .nanoseconds,
        warmupIterations: 5,
        scalingFactor: .mega,
        maxDuration: .seconds(4),
        maxIterations: 40
    )

    // MARK: Tracing on

    Benchmark("on: region begin+end (2 events)", configuration: tracing("region")) { benchmark in
        measure(benchmark) {
            Trace.startRegion("bench.region").end()
        }
    }

    Benchmark("on: withRegion (2 events)", configuration: tracing("withregion")) { benchmark in
        measure(benchmark) {
            Trace.withRegion("bench.withRegion") {}
        }
    }

    Benchmark("on: log (1 event)", configuration: tracing("log")) { benchmark in
        measure(benchmark) {
            Trace.log("bench.category", "a short static message")
        }
    }

    Benchmark("on: counter (1 event)", configuration: tracing("counter")) { benchmark in
        var value = 0
        measure(benchmark) {
            value &+= 1
            Trace.counter("bench.counter", value)
        }
    }

    Benchmark("on: task create+end (2 events)", configuration: tracing("task")) { benchmark in
        measure(benchmark) {
            TraceTask("bench.task").end()
        }
    }

    Benchmark("on: region begin+end inside a current task (2 events)", configuration: tracing("region-in-task")) { benchmark in
        let task = TraceTask("bench.outer")
        task.withCurrent {
            measure(benchmark) {
                Trace.startRegion("bench.region").end()
            }
        }
        task.end()
    }

    // MARK: Tracing off

    Benchmark("off: region begin+end") { benchmark in
        measure(benchmark) {
            Trace.startRegion("bench.region").end()
        }
    }

    Benchmark("off: withRegion") { benchmark in
        measure(benchmark) {
            Trace.withRegion("bench.withRegion") {}
        }
    }

    Benchmark("off: log") { benchmark in
        measure(benchmark) {
            Trace.log("bench.category", "a short static message")
        }
    }

    Benchmark("off: counter") { benchmark in
        var value = 0
        measure(benchmark) {
            value &+= 1
            Trace.counter("bench.counter", value)
        }
    }

    Benchmark("off: task create+end") { benchmark in
        measure(benchmark) {
            TraceTask("bench.task").end()
        }
    }

    // MARK: Reference

    // What the machine is doing right now: this VM's speed varies by 2x
    // with its host's load, so figures are read next to this one.
    Benchmark("reference: clock_gettime(CLOCK_MONOTONIC)") { benchmark in
        var sum: UInt64 = 0
        measure(benchmark) { sum &+= clock(CLOCK_MONOTONIC) }
        blackHole(sum)
    }

    // MARK: Stacks on

    Benchmark("stacks: region begin+end (stack on begin)", configuration: tracing("stacks", stacks: true)) { benchmark in
        measure(benchmark) {
            Trace.startRegion("bench.region").end()
        }
    }

    // Runtime names and the ServiceContext fallback (NameBenchmarks.swift).
    nameBenchmarks()
}
