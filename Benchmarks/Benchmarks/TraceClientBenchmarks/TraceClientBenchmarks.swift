// The cost of each annotation, with tracing on (in-process trace to a file,
// drained by its writer thread on the other core), with tracing off, and
// with stacks on. One benchmark iteration is one API call; a region's
// begin+end is two events. docs/performance.md records the figures.
import Benchmark
import BenchmarkSupport
import TraceClient

#if canImport(Glibc)
import Glibc
#endif

let benchmarks: @Sendable () -> Void = {
    configureBenchmarks()

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

    // Three async functions deep, each after an await (so each is a
    // resumed partial function with its own async context): the capture
    // follows the awaiting callers' contexts (docs/design.md, "Stacks").
    Benchmark("stacks: region begin+end in async code, 3 awaiting callers (stack on begin)",
              configuration: tracing("stacks-async", stacks: true)) { benchmark async in
        await AsyncChain.outer(benchmark)
    }

    // Runtime names and the ServiceContext fallback (NameBenchmarks.swift).
    nameBenchmarks()
}

/// The async callers of the async stacks benchmark.
enum AsyncChain {
    @inline(never)
    static func outer(_ benchmark: Benchmark) async {
        await Task.yield()
        await middle(benchmark)
    }

    @inline(never)
    static func middle(_ benchmark: Benchmark) async {
        await Task.yield()
        await inner(benchmark)
    }

    @inline(never)
    static func inner(_ benchmark: Benchmark) async {
        await Task.yield()
        measure(benchmark) {
            Trace.startRegion("bench.region").end()
        }
    }
}
