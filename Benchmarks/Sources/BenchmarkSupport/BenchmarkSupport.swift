// What every benchmark target here shares: where traced benchmarks write,
// how a benchmark traces in process, the per-call metrics and the loop
// that measures them, the default configuration.
public import Benchmark
import TraceClient

#if canImport(Glibc)
public import Glibc
#endif

/// Where the traced benchmarks write; scripts/benchmark checks these files
/// for drops afterwards (a figure measured while dropping would be wrong).
public func traceFile(_ name: String) -> String { "/tmp/traced-benchmark-\(name).trace" }

/// The trace buffer of every benchmark: 64 MiB (populated at creation like
/// every buffer).
public let bufferBytes = 64 << 20

/// The configuration of a benchmark that traces in process into
/// `traceFile(name)`: 1,000 calls per sample and at most 1,000 samples, so
/// one benchmark emits at most ~2 M events for one event a call (~60 MB of
/// 27-byte logs; ~4 M for a span's begin and end), which the buffer holds
/// even if the writer drained nothing. The writer cannot keep up with a
/// thread logging every 10 ns (LZ4 does ~1 GB/s here), and a figure
/// measured while dropping flatters the hot path; the writer's own
/// throughput is what the end-to-end figures measure.
public func tracing(_ name: String, stacks: Bool = false) -> Benchmark.Configuration {
    .init(scalingFactor: .kilo, maxIterations: 1000, setup: {
        try Trace.start(writingTo: traceFile(name), options: TraceOptions(stacks: stacks))
    }, teardown: {
        try Trace.stop()
    })
}

/// Per-call cost in picoseconds, measured around the whole sample: wall
/// clock, and CPU time of the calling thread (which leaves out time the
/// hypervisor gave the vCPU to someone else, and the writer thread's work).
public let wallPerCall = BenchmarkMetric.custom("wall clock per call (ps)", useScalingFactor: false)
public let threadCPUPerCall = BenchmarkMetric.custom("thread CPU per call (ps)", useScalingFactor: false)

@inlinable
public func clock(_ id: clockid_t) -> UInt64 {
    var ts = timespec()
    clock_gettime(id, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Runs `body` once per scaled iteration and records the per-call metrics.
/// Inlined into each benchmark, so that the loop calls `body` directly (a
/// call through a closure would cost more than the cheapest annotations).
@inlinable @inline(__always)
public func measure(_ benchmark: Benchmark, _ body: () -> Void) {
    let wall = clock(CLOCK_MONOTONIC), cpu = clock(CLOCK_THREAD_CPUTIME_ID)
    for _ in benchmark.scaledIterations { body() }
    let calls = UInt64(benchmark.scaledIterations.count)
    benchmark.measurement(wallPerCall, Int((clock(CLOCK_MONOTONIC) - wall) * 1000 / calls))
    benchmark.measurement(threadCPUPerCall, Int((clock(CLOCK_THREAD_CPUTIME_ID) - cpu) * 1000 / calls))
}

/// The buffer size and the default configuration every target starts with:
/// wall clock, mallocs and the per-call metrics, up to 40 samples or 4 s
/// of a million calls each unless a benchmark says otherwise.
public func configureBenchmarks() {
    try? Trace.configureBuffer(size: bufferBytes)
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, wallPerCall, threadCPUPerCall],
        timeUnits: .nanoseconds,
        warmupIterations: 5,
        scalingFactor: .mega,
        maxDuration: .seconds(4),
        maxIterations: 40
    )
}
