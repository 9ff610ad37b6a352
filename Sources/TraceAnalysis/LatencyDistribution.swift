import Histogram

/// Durations of one task or region type, in bounded memory: an HdrHistogram
/// at 3 significant digits (a percentile is within 0.1% of the recorded
/// value at that rank), with the exact count, sum, minimum and maximum.
package struct LatencyDistribution: Sendable {
    /// Precision of percentiles and histogram buckets, in significant digits.
    package static let significantDigits = 3

    private var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
    package private(set) var count = 0
    package private(set) var total: Int64 = 0
    package private(set) var minimum: Int64 = .max
    package private(set) var maximum: Int64 = .min
    /// Exact counts per `LogBuckets` index.
    private var bucketCounts: [Int] = []

    package init() {
        histogram.autoResize = true
    }

    /// Records one duration; a negative one (a clock that went back in a
    /// damaged file) counts as 0.
    package mutating func record(_ nanoseconds: Int64) {
        let value = max(0, nanoseconds)
        _ = histogram.record(UInt64(value))
        count += 1
        total = total.saturatingAdd(value)
        minimum = min(minimum, value)
        maximum = max(maximum, value)
        let bucket = LogBuckets.index(of: value)
        if bucket >= bucketCounts.count { bucketCounts.append(contentsOf: repeatElement(0, count: bucket + 1 - bucketCounts.count)) }
        bucketCounts[bucket] += 1
    }

    /// The value at `percentile` (0...100), within the stated precision;
    /// the exact maximum at 100.
    package func percentile(_ percentile: Double) -> Int64 {
        guard count > 0 else { return 0 }
        if percentile >= 100 { return maximum }
        let value = Int64(clamping: histogram.valueAtPercentile(percentile))
        return min(max(value, minimum), maximum)
    }

    package var mean: Int64 { count == 0 ? 0 : total / Int64(count) }

    /// Adds what `other` recorded: the same as recording its durations here.
    package mutating func add(_ other: LatencyDistribution) {
        guard other.count > 0 else { return }
        histogram.add(other.histogram)
        count += other.count
        total = total.saturatingAdd(other.total)
        minimum = min(minimum, other.minimum)
        maximum = max(maximum, other.maximum)
        if other.bucketCounts.count > bucketCounts.count {
            bucketCounts.append(contentsOf: repeatElement(0, count: other.bucketCounts.count - bucketCounts.count))
        }
        for (index, count) in other.bucketCounts.enumerated() { bucketCounts[index] += count }
    }

    /// Exact counts per log-scale bucket (`LogBuckets`), non-empty buckets only.
    package var buckets: [(bucket: LogBuckets.Bucket, count: Int)] {
        bucketCounts.enumerated().filter { $0.element > 0 }.map { (LogBuckets.bucket($0.offset), $0.element) }
    }
}

/// Log-scale buckets people read easily: 1, 2 and 5 times each power of ten
/// nanoseconds ([1 ns, 2 ns), [2 ns, 5 ns), [5 ns, 10 ns), [10 ns, 20 ns) ...).
package enum LogBuckets {
    package struct Bucket: Equatable, Sendable {
        package var index: Int
        /// Inclusive low, exclusive high, nanoseconds.
        package var low: Int64
        package var high: Int64
    }

    /// The bucket index of `nanoseconds` (values below 1 ns go to bucket 0).
    package static func index(of nanoseconds: Int64) -> Int {
        guard nanoseconds >= 1 else { return 0 }
        var decade = 0
        var power: Int64 = 1
        while power <= nanoseconds / 10 {
            power *= 10
            decade += 1
        }
        let step = nanoseconds >= 5 * power ? 2 : nanoseconds >= 2 * power ? 1 : 0
        return decade * 3 + step
    }

    package static func bucket(_ index: Int) -> Bucket {
        var power: Int64 = 1
        for _ in 0..<(index / 3) { power = power.saturatingMultiply(10) }
        let steps: [Int64] = [1, 2, 5, 10]
        let low = power.saturatingMultiply(steps[index % 3])
        let high = power.saturatingMultiply(steps[index % 3 + 1])
        return Bucket(index: index, low: low, high: high)
    }
}
