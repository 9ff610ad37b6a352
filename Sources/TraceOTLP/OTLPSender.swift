import CTraceABI
import Synchronization
import TraceFormat
package import TraceSystem

/// Sends spans to an OTLP/HTTP endpoint from a thread of its own, so that
/// a slow or dead endpoint never slows whoever hands them over (traced's
/// drain): `enqueue` takes a lock for a moment and never waits.
///
/// - Batched: a request holds up to `batchSpans` spans (or one task's, if
///   it alone has more), sent once that many wait or `flushMilliseconds`
///   after the first of them.
/// - Protobuf (`application/x-protobuf`), gzip-compressed unless the
///   endpoint refuses that (415 turns it off).
/// - 429, 502, 503, 504 and no answer at all (refused, timed out, reset)
///   are retried with exponential backoff from 0.5 s to 30 s (or the
///   `Retry-After` it asks for); a batch not delivered within `giveUpAfter`
///   is dropped and counted. Any other answer that is not 2xx drops the
///   batch (counted as rejected), and says why in `takeProblem`.
/// - The queue holds at most `queueSpans` spans; what does not fit is
///   dropped whole, task by task, and counted.
/// - Metrics (`enqueueMetrics`) go to the sibling `/v1/metrics`, one
///   attempt each: they are cumulative, so the next request carries what a
///   lost one had. At most 4 wait; a fifth replaces the oldest.
package final class OTLPSender: Sendable {
    package struct Settings: Sendable {
        package var url: String
        package var batchSpans = 512
        package var queueSpans = 16384
        package var flushMilliseconds = 1000
        package var timeoutMilliseconds = 10_000
        package var giveUpAfterMilliseconds = 300_000
        package var gzip = true

        package init(url: String) { self.url = url }
    }

    /// What the sender did so far.
    package struct Statistics: Equatable, Sendable, Codable {
        package var sentSpans: UInt64 = 0
        package var requests: UInt64 = 0
        /// Dropped because the queue was full (the endpoint is slow or down).
        package var droppedQueueFull: UInt64 = 0
        /// Dropped because the endpoint refused them (4xx but 429, 5xx but 502-504).
        package var droppedRejected: UInt64 = 0
        /// Dropped after retrying for `giveUpAfter`, or still queued when the sender stopped.
        package var droppedUndelivered: UInt64 = 0
        /// Attempts that failed and were tried again.
        package var retries: UInt64 = 0
        /// Metrics requests delivered, and lost (refused, failed, replaced).
        package var metricsSent: UInt64 = 0
        package var metricsLost: UInt64 = 0
        /// Spans waiting now.
        package var queued: UInt64 = 0
        /// The last failure, and when (CLOCK_MONOTONIC ns; 0: none).
        package var lastProblem = ""
        package var lastProblemMonotonic: UInt64 = 0

        package init() {}

        package var dropped: UInt64 { droppedQueueFull.saturatingAdd(droppedRejected).saturatingAdd(droppedUndelivered) }
    }

    /// Spans of one resource waiting, encoded as a request carries them
    /// (`OTLPEncoding.protobuf(_:into:)` of each): at most `batchSpans`,
    /// unless one task alone has more (a task's spans stay together).
    private struct Pending {
        var resource: OTLPResource
        var spans: Int
        var bytes: [UInt8]
    }

    private struct State {
        var queue: [Pending] = []
        var metrics: [[OTLPResourceMetrics]] = []
        var queued = 0
        /// When the oldest queued span was queued (CLOCK_MONOTONIC ns).
        var oldest: UInt64 = 0
        var statistics = Statistics()
        /// A problem not yet taken by `takeProblem`.
        var untoldProblem: String?
        var stopping = false
        /// When stopping: the time by which whatever is left is dropped.
        var stopDeadline: UInt64 = 0
        /// The thread is done (it ended after a stop): `join` will not wait.
        var ended = false
    }

    private let settings: Settings
    private let state = Mutex(State())
    private let wake: EventNotifier
    private let thread: Mutex<SystemThread?> = Mutex(nil)

    package init(settings: Settings) throws(SystemError) {
        self.settings = settings
        wake = try EventNotifier.create()
        let spawned = try SystemThread.spawn(name: "traced-otlp") { [self] in run() }
        thread.withLock { $0 = spawned }
    }

    /// Queues one task's `count` spans of `resource`, `encoded` as a
    /// request carries them (`OTLPEncoding.protobuf(_:into:)` of each, one
    /// after the other); drops them whole, counted, when they do not fit.
    /// The spans are encoded once, by the caller, and wait as bytes: a copy
    /// of their values cost more than encoding them.
    package func enqueue(_ resource: OTLPResource, count: Int, encoded: UnsafeRawBufferPointer) {
        let wakeNow = state.withLock { state -> Bool in
            guard !state.stopping else {
                state.statistics.droppedUndelivered += UInt64(count)
                return false
            }
            guard state.queued + count <= settings.queueSpans else {
                state.statistics.droppedQueueFull += UInt64(count)
                return false
            }
            if state.queue.isEmpty { state.oldest = tc_monotonic_ns() }
            let last = state.queue.count - 1
            if last >= 0 && state.queue[last].spans + count <= settings.batchSpans && state.queue[last].resource == resource {
                state.queue[last].spans += count
                state.queue[last].bytes.append(contentsOf: encoded)
            } else {
                state.queue.append(Pending(resource: resource, spans: count, bytes: Array(encoded)))
            }
            state.queued += count
            // Once, as a batch's worth comes together: the sender takes
            // batch after batch without waiting while that many wait (a
            // signal per task after that was a system call each).
            return state.queued >= settings.batchSpans && state.queued - count < settings.batchSpans
        }
        if wakeNow { wake.signal() }
    }

    /// Queues one metrics request; never waits.
    package func enqueueMetrics(_ groups: [OTLPResourceMetrics]) {
        guard !groups.isEmpty else { return }
        let queued = state.withLock { state -> Bool in
            guard !state.stopping else { return false }
            if state.metrics.count >= 4 {
                state.metrics.removeFirst()
                state.statistics.metricsLost += 1
            }
            state.metrics.append(groups)
            return true
        }
        // Not after a stop: the thread may have closed the eventfd.
        if queued { wake.signal() }
    }

    package var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.queued = UInt64(state.queued)
            return statistics
        }
    }

    /// A problem (a refused batch, an endpoint that went away) that has not
    /// been taken yet: for the caller's log.
    package func takeProblem() -> String? {
        state.withLock { state in
            defer { state.untoldProblem = nil }
            return state.untoldProblem
        }
    }

    /// Sends what is queued for at most `graceMilliseconds` more, then drops
    /// the rest (counted) and ends the thread. Does not wait for it.
    package func stop(graceMilliseconds: UInt64 = 2000) {
        state.withLock { state in
            state.stopping = true
            state.stopDeadline = tc_monotonic_ns() &+ graceMilliseconds * 1_000_000
        }
        wake.signal()
    }

    /// Waits for the thread to end: within the grace of an earlier `stop`,
    /// or of one made now.
    package func join() {
        let stopped = state.withLock { $0.stopping }
        if !stopped { stop() }
        let spawned = thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        spawned?.join()
    }

    /// Joins the thread if it ended (its stop's grace is over) and says so;
    /// false, without waiting, while it still runs.
    package func joinIfEnded() -> Bool {
        guard state.withLock({ $0.ended }) else { return false }
        join()
        return true
    }

    // MARK: The sender's thread

    private func run() {
        let post = HTTPPost(url: settings.url)
        // One request's bytes at a time, its room kept.
        let request = ProtobufWriter(output: nil, flushThreshold: 0)
        let metricsPost = HTTPPost(url: Self.metricsURL(settings.url))
        var gzip = settings.gzip
        while true {
            for groups in takeMetrics() { deliverMetrics(groups, post: metricsPost) }
            let next = takeBatch()
            if next.stopping && tc_monotonic_ns() >= next.deadline {
                // The grace is over: what still waits is not sent.
                dropQueued(next.batch)
                break
            }
            if next.batch.isEmpty {
                if next.stopping { break }
                try? wake.wait(timeoutMilliseconds: Int32(clamping: next.waitMilliseconds))
                continue
            }
            request.removeAll()
            deliver(next.batch, post: post, request: request, gzip: &gzip)
        }
        wake.close()
        state.withLock { $0.ended = true }
    }

    /// The next batch, when one is due: `batchSpans` spans are waiting, the
    /// oldest has waited `flushMilliseconds`, or the sender is stopping.
    /// Otherwise how long to wait for one.
    private func takeBatch() -> (batch: [Pending], stopping: Bool, deadline: UInt64, waitMilliseconds: Int) {
        let now = tc_monotonic_ns()
        let flush = UInt64(settings.flushMilliseconds) * 1_000_000
        return state.withLock { state in
            guard state.queued > 0 else { return ([], state.stopping, state.stopDeadline, settings.flushMilliseconds) }
            let age = now &- state.oldest
            guard state.stopping || state.queued >= settings.batchSpans || age >= flush else {
                return ([], false, 0, Int((flush - age) / 1_000_000) + 1)
            }
            var groups = 0
            var taken = 0
            // Whole entries up to `batchSpans` spans (an entry holds at
            // most that many, unless one task alone has more).
            while groups < state.queue.count && (groups == 0 || taken + state.queue[groups].spans <= settings.batchSpans) {
                taken += state.queue[groups].spans
                groups += 1
            }
            let batch = Array(state.queue.prefix(groups))
            state.queue.removeFirst(groups)
            state.queued -= taken
            // What is left waited as long as the batch did, near enough.
            return (batch, state.stopping, state.stopDeadline, 0)
        }
    }

    /// Sends one batch until it is delivered, refused, or given up;
    /// `request`: an empty writer to encode it in.
    private func deliver(_ batch: [Pending], post: HTTPPost, request: ProtobufWriter, gzip: inout Bool) {
        let count = UInt64(batch.reduce(0) { $0 + $1.spans })
        Self.encode(batch, into: request)
        let plain = request.bytes
        // Level 1: a third of the default level's CPU (zlib was a fifth
        // of traced's time per span at the default), for a few per cent
        // more bytes on the wire.
        let compressed = gzip ? try? Gzip.compress(plain, level: 1) : nil
        let started = tc_monotonic_ns()
        var backoff: UInt64 = 500
        while true {
            let useGzip = gzip && compressed != nil
            var headers = ["Content-Type: application/x-protobuf", "Expect:"]
            if useGzip { headers.append("Content-Encoding: gzip") }
            // Stopping: no request outlasts the grace.
            var timeout = settings.timeoutMilliseconds
            if let deadline = currentStopDeadline() {
                let now = tc_monotonic_ns()
                guard now < deadline else {
                    record { $0.droppedUndelivered += count }
                    return
                }
                timeout = min(timeout, Int((deadline - now) / 1_000_000) + 1)
            }
            let outcome = post.post(useGzip ? compressed ?? plain : plain, headers: headers, timeoutMilliseconds: timeout)
            var retryAfter: Int?
            switch outcome {
            case .answered(let status, _, _) where (200..<300).contains(status):
                record { $0.sentSpans += count; $0.requests += 1 }
                return
            case .answered(415, _, _) where useGzip:
                gzip = false
                problem("\(settings.url) does not take gzip (415): sending uncompressed")
                continue
            case .answered(let status, let after, let body) where [429, 502, 503, 504].contains(status):
                retryAfter = after
                problem("\(settings.url) answered \(status)\(Self.reason(body)): retrying")
            case .answered(let status, _, let body):
                record { $0.droppedRejected += count; $0.requests += 1 }
                problem("\(settings.url) refused a batch of \(count) spans with \(status)\(Self.reason(body)); they are dropped")
                return
            case .failed(let why):
                problem("\(settings.url): \(why): retrying")
            }
            let now = tc_monotonic_ns()
            let giveUp = started &+ UInt64(settings.giveUpAfterMilliseconds) * 1_000_000
            // What the server asks, but never less than the backoff.
            let wait = max(backoff, retryAfter.map { UInt64(max(0, min($0, 60))) * 1000 } ?? 0)
            let limit = currentStopDeadline() ?? giveUp
            if now &+ wait * 1_000_000 >= min(giveUp, limit) {
                record { $0.droppedUndelivered += count }
                problem("\(settings.url): gave up on a batch of \(count) spans")
                return
            }
            record { $0.retries += 1 }
            sleep(until: now &+ wait * 1_000_000)
            backoff = min(backoff * 2, 30_000)
        }
    }

    /// Counts `batch` and everything still queued as undelivered (the stop's
    /// grace is over).
    private func dropQueued(_ batch: [Pending]) {
        let inHand = UInt64(batch.reduce(0) { $0 + $1.spans })
        state.withLock { state in
            state.statistics.droppedUndelivered += inHand + UInt64(state.queued)
            state.queue = []
            state.queued = 0
        }
    }

    /// Waits until `until` (CLOCK_MONOTONIC ns), or the stop's deadline if
    /// that comes first. New spans signal `wake` too: they do not cut a
    /// backoff short.
    private func sleep(until: UInt64) {
        while true {
            let now = tc_monotonic_ns()
            let end = min(until, currentStopDeadline() ?? .max)
            guard now < end else { return }
            try? wake.wait(timeoutMilliseconds: Int32(clamping: (end - now) / 1_000_000 + 1))
        }
    }

    /// The metrics endpoint beside a traces URL (`…/v1/traces` → `…/v1/metrics`).
    static func metricsURL(_ traces: String) -> String {
        traces.hasSuffix("/v1/traces") ? String(traces.dropLast("/v1/traces".count)) + "/v1/metrics" : traces
    }

    private func takeMetrics() -> [[OTLPResourceMetrics]] {
        state.withLock { state in
            defer { state.metrics = [] }
            return state.metrics
        }
    }

    private func deliverMetrics(_ groups: [OTLPResourceMetrics], post: HTTPPost) {
        let writer = ProtobufWriter(output: nil)
        OTLPEncoding.protobuf(groups, into: writer)
        let outcome = post.post(writer.bytes, headers: ["Content-Type: application/x-protobuf", "Expect:"],
                                timeoutMilliseconds: settings.timeoutMilliseconds)
        switch outcome {
        case .answered(let status, _, _) where (200..<300).contains(status):
            record { $0.metricsSent += 1 }
        case .answered(let status, _, let body):
            record { $0.metricsLost += 1 }
            problem("\(Self.metricsURL(settings.url)) answered \(status)\(Self.reason(body)) to metrics; the next request carries their totals")
        case .failed(let why):
            record { $0.metricsLost += 1 }
            problem("\(Self.metricsURL(settings.url)): \(why) (metrics; the next request carries their totals)")
        }
    }

    private func currentStopDeadline() -> UInt64? {
        state.withLock { $0.stopping ? $0.stopDeadline : nil }
    }

    private func record(_ change: (inout Statistics) -> Void) {
        state.withLock { change(&$0.statistics) }
    }

    private func problem(_ text: String) {
        let now = tc_monotonic_ns()
        state.withLock { state in
            state.statistics.lastProblem = text
            state.statistics.lastProblemMonotonic = now
            state.untoldProblem = text
        }
    }

    /// ": <the start of the body>", when it said anything.
    private static func reason(_ body: String) -> String {
        let line = body.prefix { $0 != "\n" }.prefix(200)
        return line.isEmpty ? "" : " (\(line))"
    }

    /// One `ExportTraceServiceRequest`: a `ResourceSpans` per resource, in
    /// first-seen order, with the spans of all its entries.
    private static func encode(_ batch: [Pending], into request: ProtobufWriter) {
        var done = [Bool](repeating: false, count: batch.count)
        for first in batch.indices where !done[first] {
            OTLPEncoding.protobuf(batch[first].resource, into: request) {
                for index in first..<batch.count where !done[index] && batch[index].resource == batch[first].resource {
                    done[index] = true
                    batch[index].bytes.withUnsafeBytes { request.raw($0) }
                }
            }
        }
    }
}
