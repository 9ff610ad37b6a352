/// What `tracectl top` shows of each task type: tasks completed and their
/// latency over the last `windowSeconds` and since the viewer attached.
///
/// A task counts in the second of the trace's clock its end falls in
/// (CLOCK_MONOTONIC, whole seconds), so an end that comes late (its thread's
/// batch drained after others) still lands in its own second. The window is
/// the last `windowSeconds` seconds up to the newest event seen, the one
/// that holds it included, and never reaches before the first event the
/// viewer saw. Latencies are `LatencyDistribution`s, as `tracectl report`
/// keeps them: the same tasks give the same percentiles.
package struct LiveTaskTable {
    package struct Figures: Codable, Equatable, Sendable {
        package var completed: Int
        /// Nanoseconds (0 when nothing completed).
        package var p50: Int64
        package var p99: Int64
        package var max: Int64

        init(_ distribution: LatencyDistribution) {
            completed = distribution.count
            p50 = distribution.percentile(50)
            p99 = distribution.percentile(99)
            max = distribution.count == 0 ? 0 : distribution.maximum
        }
    }

    package struct Row: Codable, Equatable, Sendable {
        package var type: String
        package var completedPerSecond: Double
        package var inFlight: Int
        package var window: Figures
        package var sinceStart: Figures
    }

    /// The window a frame covers: CLOCK_MONOTONIC ns, from and to.
    package struct Window: Codable, Equatable, Sendable {
        package var from: Int64
        package var to: Int64
        package var seconds: Double { Double(max(0, to - from)) / 1e9 }
    }

    package let windowSeconds: Int64
    /// Per second of the trace's clock (its index), per type.
    private var seconds: [Int64: [String: LatencyDistribution]] = [:]
    private var totals: [String: LatencyDistribution] = [:]
    private var first: Int64?

    package init(windowSeconds: Int64 = 10) {
        self.windowSeconds = max(1, windowSeconds)
    }

    /// A task of `type` ended at `end` (CLOCK_MONOTONIC ns), `latency` ns after its creation.
    package mutating func record(type: String, end: Int64, latency: Int64) {
        seconds[Self.second(of: end), default: [:]][type, default: LatencyDistribution()].record(latency)
        totals[type, default: LatencyDistribution()].record(latency)
    }

    /// The viewer saw an event at `time`: the window starts no earlier than its first.
    package mutating func saw(_ time: Int64) {
        if first == nil || time < first! { first = time }
    }

    private static func second(of time: Int64) -> Int64 { time >= 0 ? time / 1_000_000_000 : (time + 1) / 1_000_000_000 - 1 }

    /// The window ending at `newest` (the newest event time), and a row per
    /// type that completed a task since the start or has one in flight;
    /// seconds before the window are forgotten.
    package mutating func rows(newest: Int64, inFlight: [String: Int]) -> (window: Window, rows: [Row]) {
        let last = Self.second(of: newest)
        let firstSecond = last - windowSeconds + 1
        seconds = seconds.filter { $0.key >= firstSecond }
        let window = Window(from: max(first ?? newest, firstSecond.saturatingMultiply(1_000_000_000)), to: newest)
        var inWindow: [String: LatencyDistribution] = [:]
        for (_, types) in seconds {
            for (type, distribution) in types { inWindow[type, default: LatencyDistribution()].add(distribution) }
        }
        let types = Set(totals.keys).union(inFlight.filter { $0.value > 0 }.keys)
        let rows = types.map { type in
            let windowed = inWindow[type] ?? LatencyDistribution()
            return Row(type: type, completedPerSecond: window.seconds > 0 ? Double(windowed.count) / window.seconds : 0,
                       inFlight: inFlight[type] ?? 0, window: Figures(windowed),
                       sinceStart: Figures(totals[type] ?? LatencyDistribution()))
        }
        return (window, rows)
    }
}
