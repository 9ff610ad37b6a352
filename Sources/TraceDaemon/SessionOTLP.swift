import CTraceABI
import TraceFormat
import TraceOTLP
import TraceProtocol
import TraceSystem

/// A session's spans on their way to an OpenTelemetry backend
/// (docs/design.md, "OTLP"): the events of the batches the session takes,
/// decoded on the drain thread (`Session.watch`), go into a
/// `TimeOrderBuffer`, which hands them in time order to a `SpanAssembler`,
/// whose finished tasks are encoded and go to an `OTLPSender`, whose own
/// thread sends them. The files are written before and whatever happens
/// here: a dead or slow endpoint costs the session spans on the wire
/// (counted), never events in its files.
final class SessionOTLP {
    let url: String
    private let sender: OTLPSender
    private var assembler: SpanAssembler!
    /// Unchecked: the drain thread alone uses it, one access at a time
    /// (as the assembler's state).
    @exclusivity(unchecked) private var buffer = TimeOrderBuffer()
    /// The names the buffered events refer to.
    private let names = SpanNames()
    /// The name of a task or region whose string the process did not send.
    private lazy var unknownName = names.number("?")
    /// Each process's counters changed since the last metrics request: the
    /// last value and its time.
    private var counters: [UInt32: [String: (time: Int64, value: OTLPMetric.Value)]] = [:]
    /// When metrics were last sent (CLOCK_MONOTONIC ns), and how often.
    private var metricsSent: UInt64 = 0
    static let metricsInterval: UInt64 = 10_000_000_000
    private var resources: [UInt32: OTLPResource] = [:]
    /// A finished task's spans, encoded for the sender (its room kept).
    private let encoded = ProtobufWriter(output: nil, flushThreshold: 0)
    private let hostName = HostName.current
    /// CLOCK_REALTIME minus CLOCK_MONOTONIC at the session's start.
    private let realtimeOffset: Int64
    private let startedMonotonic: UInt64

    /// How long an ended task waits for the rest of its events (`settle`).
    private let settleDelay: Int64

    /// `settle`: how long after its end a task's events may still come
    /// (a quiet thread's partial chunk waits for the next scrape).
    init(settings: SessionConfig.OTLP, sending: OTLPSender.Settings, settle: UInt64, startedRealtime: UInt64,
         startedMonotonic: UInt64) throws(SystemError) {
        url = sending.url
        settleDelay = Int64(clamping: settle)
        realtimeOffset = Int64(clamping: startedRealtime) &- Int64(clamping: startedMonotonic)
        self.startedMonotonic = startedMonotonic
        sender = try OTLPSender(settings: sending)
        let options = SpanAssembler.Options(minRegion: Int64(clamping: settings.minRegionNanoseconds),
                                            onlySlowerThan: Int64(clamping: settings.onlySlowerThanNanoseconds),
                                            sampleEvery: settings.sampleEvery, seed: startedRealtime)
        let offset = realtimeOffset
        assembler = SpanAssembler(options: options, unixTime: { UInt64(clamping: $0.saturatingAdd(offset)) }) { [unowned self] process, spans in
            let resource = resources[process] ?? OTLPResource(serviceName: "unknown", hostName: hostName, pid: 0)
            // Encoded here, once: the sender's queue holds bytes.
            encoded.removeAll()
            for span in spans { OTLPEncoding.protobuf(span, into: encoded) }
            encoded.withBytes { sender.enqueue(resource, count: spans.count, encoded: $0) }
        }
    }

    /// A process joined: its spans carry its name and pid.
    func join(process: UInt32, pid: Int32, name: String) {
        resources[process] = OTLPResource(serviceName: name, hostName: hostName, pid: pid)
    }

    /// A process left (its last batches taken): what it left open is sent
    /// as it is, so that a process that died mid-request holds nothing.
    func leave(process: UInt32) {
        add(SpanEvent(time: Int64(clamping: tc_monotonic_ns()), process: process, thread: 0, swiftTask: 0, task: 0,
                      kind: .processLeft), from: UInt32.max)
        names.forget(process: process)
    }

    /// `thread`: whose batch brought it (its events come in time order).
    private func add(_ event: SpanEvent, message: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                     from thread: UInt32) {
        buffer.add(event, message: message, from: thread, overflow: apply)
    }

    private func apply(_ event: SpanEvent, _ message: UnsafeRawBufferPointer) {
        assembler.apply(event, message: message, names: names)
    }

    /// One event of a batch of `process`'s (`Session.watch` decodes it for
    /// the triggers too): `time` its CLOCK_MONOTONIC ns, if its ticks
    /// convert; `thread` the thread its decoder state is at, `batchThread`
    /// the thread whose batch brought it (its events come in time order);
    /// `name` the process's string of an id.
    func take(_ event: RawEvent, at time: Int64?, thread: UInt32, batchThread: UInt32, process: UInt32,
              name: (UInt32) -> String?) {
        guard let time else { return }
        let kind: SpanEvent.Kind
        var thread = thread
        var message = UnsafeRawBufferPointer(start: nil, count: 0)
        switch event.kind {
        case .taskBegin: kind = .taskBegan(parent: event.parentTask, type: names.number(event.name, of: process, name) ?? unknownName)
        case .taskEnd: kind = .taskEnded
        case .regionBegin:
            guard event.task != 0 else { return }
            kind = .regionBegan(sequence: event.regionSequence, type: names.number(event.name, of: process, name) ?? unknownName)
        case .regionEnd, .regionEndForeign:
            kind = .regionEnded(sequence: event.regionSequence)
            thread = event.regionThread
        case .log:
            guard event.task != 0, let category = names.number(event.name, of: process, name) else { return }
            kind = .log(category: category)
            message = event.message
        case .counterInteger, .counterDouble:
            guard let counter = name(event.name) else { return }
            let value: OTLPMetric.Value = if case .counterInteger = event.kind { .int(event.integerValue) } else { .double(event.doubleValue) }
            if (counters[process]?[counter]?.time ?? .min) <= time { counters[process, default: [:]][counter] = (time, value) }
            return
        default:
            return
        }
        add(SpanEvent(time: time, process: process, thread: thread, swiftTask: event.swiftTask, task: event.task, kind: kind),
            message: message, from: batchThread)
    }

    /// What a process recorded and dropped so far in the session, for the
    /// metrics.
    struct Tally {
        var process: UInt32
        var events: UInt64
        var dropped: [String: UInt64]
    }

    /// Every scrape: events older than `settle` go to the assembler; every
    /// `metricsInterval`, the metrics (`tallies` gives the processes' counts).
    func tick(now: UInt64, tallies: () -> [Tally]) {
        buffer.release(before: Int64(clamping: now).saturatingSubtract(settleDelay), apply)
        if metricsSent == 0 { metricsSent = now }
        guard now.saturatingSubtract(metricsSent) >= Self.metricsInterval else { return }
        metricsSent = now
        sendMetrics(tallies(), now: now)
    }

    /// The counters' last values (gauges), and the events each process
    /// recorded and dropped by reason (cumulative sums since the session
    /// began): `traced.events.recorded`, `traced.events.dropped`.
    private func sendMetrics(_ tallies: [Tally], now: UInt64) {
        let unix = { (time: Int64) in UInt64(clamping: time.saturatingAdd(self.realtimeOffset)) }
        let stamp = unix(Int64(clamping: now))
        let start = unix(Int64(clamping: startedMonotonic))
        var groups: [OTLPResourceMetrics] = []
        for tally in tallies {
            guard let resource = resources[tally.process] else { continue }
            var metrics = [OTLPMetric(name: "traced.events.recorded", unit: "{event}", kind: .sum(start: start),
                                      points: [OTLPMetric.Point(time: stamp, value: .int(Int64(clamping: tally.events)))])]
            let drops = tally.dropped.sorted { $0.key < $1.key }.map { reason, count in
                OTLPMetric.Point(attributes: [OTLPAttribute("reason", .string(reason))], time: stamp, value: .int(Int64(clamping: count)))
            }
            if !drops.isEmpty {
                metrics.append(OTLPMetric(name: "traced.events.dropped", unit: "{event}", kind: .sum(start: start), points: drops))
            }
            for (name, last) in (counters[tally.process] ?? [:]).sorted(by: { $0.key < $1.key }) {
                metrics.append(OTLPMetric(name: SpanLogText.bounded(name, limit: SpanLogText.nameLimit), kind: .gauge,
                                          points: [OTLPMetric.Point(time: unix(last.time), value: last.value)]))
            }
            groups.append(OTLPResourceMetrics(resource: resource, metrics: metrics))
        }
        counters = [:]
        sender.enqueueMetrics(groups)
    }

    /// The session stopped: what is still open is sent as it is, and the
    /// sender gets a moment to deliver what is queued.
    func finish(tallies: [Tally]) {
        sendMetrics(tallies, now: tc_monotonic_ns())
        buffer.releaseAll(apply)
        assembler.finish(at: Int64(clamping: tc_monotonic_ns()))
        sender.stop()
    }

    /// Waits for the sender's thread, which a stop gave its grace period
    /// already (traced's exit).
    func close() { sender.join() }

    /// Joins the sender's thread if its stop's grace is over; false while
    /// it still sends.
    func closeIfDone() -> Bool { sender.joinIfEnded() }

    func takeProblem() -> String? { sender.takeProblem() }

    var status: SessionStatus.OTLP {
        let statistics = sender.statistics
        let counts = assembler.counts
        var status = SessionStatus.OTLP(url: url)
        status.spans = counts.tasks.saturatingAdd(counts.regionSpans)
        status.sent = statistics.sentSpans
        status.requests = statistics.requests
        status.queued = statistics.queued
        let dropped: [(String, UInt64)] = [("queue full", statistics.droppedQueueFull), ("refused", statistics.droppedRejected),
                                           ("undelivered", statistics.droppedUndelivered), ("sampled out", counts.sampledOut),
                                           ("open limit", counts.overOpenLimit), ("late", counts.late)]
        status.dropped = Dictionary(uniqueKeysWithValues: dropped.filter { $0.1 > 0 })
        status.retries = statistics.retries
        status.metricsSent = statistics.metricsSent
        status.metricsLost = statistics.metricsLost
        status.lastProblem = statistics.lastProblem
        if statistics.lastProblemMonotonic != 0 {
            status.lastProblemRealtimeNanoseconds = UInt64(clamping: Int64(clamping: statistics.lastProblemMonotonic).saturatingAdd(realtimeOffset))
        }
        return status
    }
}
