package import TraceAnalysis
import TraceFormat

/// A report as data: what `tracectl report --json` prints, what the text
/// report and the HTML page are rendered from. Times are nanoseconds;
/// absolute times are CLOCK_MONOTONIC (`trace.start` is the first event).
/// docs/analysis.md describes every field.
package struct ReportDocument: Codable, Sendable {
    package var format = "traced-report"
    package var version = 1
    package var trace: Trace
    package var precision = Precision()
    package var filters: Filters
    package var tasks: [TypeRow] = []
    package var regions: [TypeRow] = []
    package var logs: [LogRow] = []
    package var counters: [CounterRow] = []
    package var droppedEvents: UInt64 = 0
    package var drops: [DropRow] = []
    package var misuse: [MisuseRow] = []
    package var orphanEnds = 0
    package var taskEndsWithoutBegin = 0
    package var diagnostics: [DiagnosticRow] = []
    /// What the kernel events tell about the trace as a whole; nil when it
    /// has none (then no row has `activity` either).
    package var execution: Execution?
    /// For the HTML page: per task type, per histogram bucket, some task trees.
    package var taskSamples: [String: [BucketSample]]?

    package struct Trace: Codable, Sendable {
        package var files: [String]
        package var events: Int
        package var start: Int64
        package var end: Int64
        package var duration: Int64
        package var processes: [ProcessRow]
    }

    package struct ProcessRow: Codable, Sendable {
        package var process: UInt32
        package var pid: Int32
        package var name: String
        package var threads: Int
        package var events: Int
    }

    package struct Precision: Codable, Sendable {
        package var significantDigits = LatencyDistribution.significantDigits
    }

    package struct Filters: Codable, Sendable {
        package var processes: [String]?
        package var taskTypes: [String]?
        /// Nanoseconds from the trace's start (its earliest batch's base time).
        package var since: Int64?
        package var until: Int64?

        package init(processes: [String]? = nil, taskTypes: [String]? = nil, since: Int64? = nil, until: Int64? = nil) {
            self.processes = processes
            self.taskTypes = taskTypes
            self.since = since
            self.until = until
        }
    }

    package struct Latency: Codable, Sendable {
        package var min: Int64
        package var mean: Int64
        package var p50: Int64
        package var p90: Int64
        package var p99: Int64
        package var max: Int64
        package var total: Int64
    }

    package struct Bucket: Codable, Sendable {
        package var low: Int64
        package var high: Int64
        package var count: Int
    }

    package struct TaskRef: Codable, Sendable {
        package var process: UInt32
        package var id: UInt64
        package var begin: Int64
        package var latency: Int64
    }

    package struct TypeRow: Codable, Sendable {
        package var type: String
        package var count: Int
        package var unfinished: Int
        package var latency: Latency?
        package var histogram: [Bucket]
        package var slowest: [TaskRef]?
        /// Where the wall time of the ended spans went (traces with kernel
        /// events): parts that add up to `latency.total`.
        package var activity: TimeByActivity?
        /// Of the ended spans, how many have time unknown because their
        /// Swift task moved threads unseen, by why (`Untold`); with kernel
        /// events only, and only when some have.
        package var untold: [String: Int]?
    }

    /// Nanoseconds by what the span's thread did (docs/analysis.md, "Where
    /// the time went: execution").
    package struct TimeByActivity: Codable, Equatable, Sendable {
        package var running: Int64
        package var runnable: Int64
        package var lock: Int64
        package var io: Int64
        package var sleep: Int64
        package var syscall: Int64
        package var suspended: Int64
        package var unknown: Int64

        init(_ times: ActivityTimes) {
            running = times[.running]
            runnable = times[.runnable]
            lock = times[.lock]
            io = times[.io]
            sleep = times[.sleep]
            syscall = times[.syscall]
            suspended = times[.suspended]
            unknown = times[.unknown]
        }

        /// The parts in `Activity` order, named as in the JSON.
        package var parts: [(name: String, nanoseconds: Int64)] {
            [("running", running), ("runnable", runnable), ("lock", lock), ("io", io), ("sleep", sleep),
             ("syscall", syscall), ("suspended", suspended), ("unknown", unknown)]
        }
    }

    package struct Execution: Codable, Sendable {
        /// From a wakeup of a waiting thread to its next switch-in, every
        /// thread's: how long woken threads waited for a CPU.
        package var schedulerLatency: Distribution
        /// The stacks where threads waited longest, most time first
        /// (`TraceSummary.Options.blockingStacks` of them).
        package var blocking: [BlockingRow]
    }

    /// Where threads waited, summed over the waits of one process at one
    /// user stack, of one kind, in one call (docs/analysis.md, "Top
    /// blocking stacks").
    package struct BlockingRow: Codable, Sendable {
        package var process: UInt32
        /// lock, io, sleep or syscall.
        package var wait: String
        /// The system call or kernel function ("": not told).
        package var why: String
        package var count: Int
        /// Nanoseconds waited, summed.
        package var total: Int64
        /// The stack's id in the trace (0: none recorded) and its frames,
        /// innermost first.
        package var stackID: UInt32
        package var stack: [String]
    }

    /// A distribution of durations not tied to a type.
    package struct Distribution: Codable, Sendable {
        package var count: Int
        package var latency: Latency?
        package var histogram: [Bucket]
    }

    package struct LogExample: Codable, Sendable {
        package var time: Int64
        package var process: UInt32
        package var thread: Int32
        package var task: UInt64
        package var message: String
        package var truncated: Bool
    }

    package struct LogRow: Codable, Sendable {
        package var category: String
        package var count: Int
        package var examples: [LogExample]
    }

    package struct CounterRow: Codable, Sendable {
        package var name: String
        package var process: UInt32
        package var samples: Int
        package var min: Double
        package var max: Double
        package var last: Double
        /// [time, value] pairs, at most 1000, evenly strided over the samples.
        package var series: [[Double]]
    }

    /// The name of the drop rows of process 0 (DropCounts.kernelCollector):
    /// kernel records traced's perf rings had no room for, of any process.
    package static let kernelCollector = "kernel collector"

    package struct DropRow: Codable, Sendable {
        package var process: UInt32
        package var pid: Int32
        package var name: String
        package var reason: String
        package var count: UInt64
    }

    package struct MisuseExample: Codable, Sendable {
        package var process: UInt32
        package var type: String
        package var task: UInt64
        package var begin: Int64
        package var end: Int64?
        package var thread: Int32
        package var endThread: Int32?
        package var stack: [String]
    }

    package struct MisuseRow: Codable, Sendable {
        package var kind: String
        package var count: Int
        package var examples: [MisuseExample]
    }

    package struct DiagnosticRow: Codable, Sendable {
        package var file: String
        package var offset: Int
        package var problem: String
    }

    package struct BucketSample: Codable, Sendable {
        package var low: Int64
        package var high: Int64
        package var total: Int
        package var tasks: [TaskTree]

        package init(low: Int64, high: Int64, total: Int, tasks: [TaskTree]) {
            self.low = low
            self.high = high
            self.total = total
            self.tasks = tasks
        }
    }

    /// Builds the document from a finished summary.
    package init(summary: TraceSummary, catalog: TraceCatalog, stacks: StackResolver, filters: Filters) {
        let start = summary.first ?? 0
        let end = summary.last ?? start
        var processRows: [ProcessRow] = []
        for (key, process) in catalog.processes.sorted(by: { $0.key < $1.key }) {
            let threads = catalog.threads.keys.filter { $0.process == key }.count
            processRows.append(ProcessRow(process: key, pid: process.pid, name: process.name, threads: threads,
                                          events: summary.eventsByProcess[key] ?? 0))
        }
        trace = Trace(files: catalog.paths, events: summary.events, start: start, end: end,
                      duration: end.saturatingSubtract(start), processes: processRows)
        self.filters = filters
        func row(_ name: TraceName, _ statistics: TraceSummary.TypeStatistics, slowest: Bool) -> TypeRow {
            let d = Distribution(statistics.distribution)
            return TypeRow(
                type: catalog.string(name), count: d.count, unfinished: statistics.unfinished, latency: d.latency,
                histogram: d.histogram,
                slowest: slowest ? statistics.slowest.map {
                    TaskRef(process: $0.process, id: $0.id, begin: $0.begin ?? 0, latency: $0.latency ?? 0)
                } : nil,
                activity: summary.hasActivity ? TimeByActivity(statistics.activity) : nil,
                untold: statistics.untold.total == 0 ? nil
                    : Dictionary(uniqueKeysWithValues: Untold.allCases.map { ($0.name, statistics.untold[$0]) }))
        }
        if let latency = summary.schedulerLatency {
            let blocking = summary.blocking?.top(summary.options.blockingStacks) ?? []
            execution = Execution(schedulerLatency: Distribution(latency), blocking: blocking.map { key, total in
                BlockingRow(process: key.process, wait: key.activity.name, why: catalog.string(key.why), count: total.count,
                            total: total.nanoseconds, stackID: key.stack, stack: stacks.lines(key.process, key.stack))
            })
        }
        // Heaviest first: what took the most time in all.
        tasks = summary.tasks.map { row($0.key, $0.value, slowest: true) }
            .sorted { ($0.latency?.total ?? 0, $1.type) > ($1.latency?.total ?? 0, $0.type) }
        regions = summary.regions.map { row($0.key, $0.value, slowest: false) }
            .sorted { ($0.latency?.total ?? 0, $1.type) > ($1.latency?.total ?? 0, $0.type) }
        logs = summary.logs.map { name, statistics in
            LogRow(category: catalog.string(name), count: statistics.count, examples: statistics.examples.map {
                LogExample(time: $0.time, process: $0.process, thread: catalog.thread($0.process, $0.thread)?.tid ?? 0,
                           task: $0.task, message: $0.message, truncated: $0.truncated)
            })
        }.sorted { ($0.count, $1.category) > ($1.count, $0.category) }
        counters = summary.counters.map { key, statistics in
            CounterRow(name: catalog.string(key.name), process: key.process, samples: statistics.samples,
                       min: statistics.minimum, max: statistics.maximum, last: statistics.last,
                       series: statistics.series.map { [Double($0.time), $0.value] })
        }.sorted { ($0.name, $0.process) < ($1.name, $1.process) }
        droppedEvents = catalog.droppedEvents
        for (process, counts) in catalog.drops.sorted(by: { $0.key < $1.key }) {
            let record = catalog.processes[process]
            let name = process == DropCounts.kernelCollector ? Self.kernelCollector : record?.name ?? ""
            for (reason, count) in counts.counts.sorted(by: { $0.key < $1.key }) where count > 0 {
                drops.append(DropRow(process: process, pid: record?.pid ?? 0, name: name,
                                     reason: DropReason.name(reason), count: count))
            }
        }
        misuse = summary.misuseCounts.map { name, count, examples in
            MisuseRow(kind: name, count: count, examples: examples.map { region in
                MisuseExample(
                    process: region.process, type: catalog.string(region.type), task: region.task, begin: region.begin,
                    end: region.end, thread: catalog.thread(region.process, region.beginThread)?.tid ?? 0,
                    endThread: region.endThread.map { catalog.thread(region.process, $0)?.tid ?? 0 },
                    stack: stacks.lines(region.process, region.stack))
            })
        }
        orphanEnds = summary.orphanEnds
        taskEndsWithoutBegin = summary.taskEndsWithoutBegin
        diagnostics = catalog.diagnostics.map {
            DiagnosticRow(file: $0.file, offset: $0.fileOffset, problem: $0.description)
        }
    }
}

extension ReportDocument.Distribution {
    init(_ d: LatencyDistribution) {
        count = d.count
        latency = d.count == 0 ? nil : ReportDocument.Latency(
            min: d.minimum, mean: d.mean, p50: d.percentile(50), p90: d.percentile(90), p99: d.percentile(99),
            max: d.maximum, total: d.total)
        histogram = d.buckets.map { ReportDocument.Bucket(low: $0.bucket.low, high: $0.bucket.high, count: $0.count) }
    }
}
