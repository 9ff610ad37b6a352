import TraceFormat

/// What a person reads first about a trace: per task type latency
/// distributions (creation to first end), per region type durations, logs
/// by category, counters, misuse and losses.
package struct TraceReport: Sendable {
    /// Count and percentiles of a set of durations (nanoseconds).
    package struct Distribution: Equatable, Sendable {
        package var count: Int
        package var total: Int64
        package var minimum: Int64
        package var p50: Int64
        package var p90: Int64
        package var p99: Int64
        package var maximum: Int64

        package init?(_ values: [Int64]) {
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            func percentile(_ p: Double) -> Int64 {
                sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
            }
            count = sorted.count
            // Durations come from file timestamps: their sum may pass Int64.
            total = sorted.saturatingSum()
            minimum = sorted[0]
            p50 = percentile(0.50)
            p90 = percentile(0.90)
            p99 = percentile(0.99)
            maximum = sorted[sorted.count - 1]
        }
    }

    package struct CounterSummary: Equatable, Sendable {
        package var samples: Int
        package var minimum: Double
        package var maximum: Double
        package var last: Double
    }

    package var events: Int
    package var processes: Int
    package var threads: Int
    /// First to last event, nanoseconds.
    package var span: Int64
    package var tasks: [String: Distribution] = [:]
    /// Tasks with a creation but no end in the trace, by type.
    package var unfinishedTasks: [String: Int] = [:]
    package var regions: [String: Distribution] = [:]
    package var logs: [String: Int] = [:]
    package var counters: [String: CounterSummary] = [:]
    package var misuse: [RegionMatcher.Misuse: Int] = [:]
    package var orphanEnds: Int
    package var droppedEvents: UInt64
    package var drops: [UInt32: UInt64] = [:]

    package init(_ model: TraceModel) {
        events = model.events.count
        processes = model.processes.count
        threads = model.threads.count
        // Times come from the file (a scribbled timestamp can lie anywhere in
        // Int64): differences saturate rather than trap, here and below.
        span = (model.events.last?.time ?? 0).saturatingSubtract(model.events.first?.time ?? 0)
        var latencies: [String: [Int64]] = [:]
        for task in TaskMatcher.match(model) where task.begin != nil {
            if let latency = task.latency {
                latencies[task.type, default: []].append(latency)
            } else {
                unfinishedTasks[task.type, default: 0] += 1
            }
        }
        tasks = latencies.compactMapValues(Distribution.init)
        let matched = RegionMatcher.match(model)
        var durations: [String: [Int64]] = [:]
        for span in matched.spans {
            if let end = span.end { durations[span.type, default: []].append(end.saturatingSubtract(span.begin)) }
            for misuse in span.misuse { self.misuse[misuse, default: 0] += 1 }
        }
        regions = durations.compactMapValues(Distribution.init)
        orphanEnds = matched.orphanEnds.count
        for event in model.events {
            switch event.kind {
            case .log(_, let category, _, _, _):
                logs[category, default: 0] += 1
            case .counter(let name, let value):
                let number: Double = switch value {
                case .integer(let integer): Double(integer)
                case .double(let double): double
                }
                if var summary = counters[name] {
                    summary.samples += 1
                    summary.minimum = min(summary.minimum, number)
                    summary.maximum = max(summary.maximum, number)
                    summary.last = number
                    counters[name] = summary
                } else {
                    counters[name] = CounterSummary(samples: 1, minimum: number, maximum: number, last: number)
                }
            default:
                break
            }
        }
        droppedEvents = model.droppedEvents
        for counts in model.drops.values {
            for (reason, count) in counts.counts { drops[reason, default: 0] = drops[reason, default: 0].saturatingAdd(count) }
        }
    }
}
