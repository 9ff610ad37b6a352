import Foundation
import Testing
import TestSupport

/// A session that sends its spans to an OTLP/HTTP endpoint while it runs
/// (`tracectl start --otlp`): a receiver that decodes every request with
/// opentelemetry-proto (`Tests/Tools/otlp-sink`) holds what the session's
/// own files say, and an endpoint that is down, refuses or hangs costs
/// spans on the wire (counted), never an event in the files.
@Suite(.tags(.concurrency)) struct OTLPStreamingTests {
    static let header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    /// traced with a traced.conf of `settings` (kept in `directory`).
    static func daemon(_ settings: String, _ directory: TemporaryDirectory) throws -> TracedDaemon {
        let path = directory.file("traced.conf")
        try settings.write(toFile: path, atomically: true, encoding: .utf8)
        return try TracedDaemon(arguments: ["--config", path])
    }

    static func start(_ daemon: TracedDaemon, _ name: String, _ options: [String]) throws {
        let started = try daemon.tracectl(["start", name, "--no-exec"] + options)
        #expect(started.status == 0, "\(started.standardError)")
    }

    /// The requests scenario as a client of `daemon`; waits for it.
    static func requests(_ daemon: TracedDaemon, tasks: Int, traceparent: String? = nil, service: String? = nil) throws {
        var options = ["requests", "--tasks", String(tasks)]
        if let traceparent { options += ["--traceparent", traceparent] }
        var environment = daemon.clientEnvironment
        if let service { environment["TRACED_SERVICE_NAME"] = service }
        let client = try Background(Processes.executable("TraceFixture"), options, environment: environment)
        let result = client.wait(seconds: 60)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.values["tasks"] == String(tasks))
    }

    static func otlpStatus(_ daemon: TracedDaemon, _ name: String) throws -> [String: Any] {
        let status = try daemon.json(["status", name]) as? [String: Any]
        let sessions = status?["sessions"] as? [[String: Any]] ?? []
        return sessions.first { $0["name"] as? String == name }?["otlp"] as? [String: Any] ?? [:]
    }

    static func number(_ status: [String: Any], _ key: String) -> Int { status[key] as? Int ?? -1 }
    static func dropped(_ status: [String: Any], _ reason: String) -> Int {
        (status["dropped"] as? [String: Any])?[reason] as? Int ?? 0
    }

    /// Tasks ended in the session's fetched files, and the events they
    /// dropped (`tracectl report --json`).
    static func recorded(_ daemon: TracedDaemon, _ name: String, _ directory: TemporaryDirectory) throws -> (tasks: Int, dropped: Int) {
        let path = directory.file("\(name).trace")
        let fetched = try daemon.tracectl(["fetch", name, "-o", path])
        #expect(fetched.status == 0, "\(fetched.standardError)")
        let report = try Processes.run(Processes.executable("tracectl"), ["report", path, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(report.standardOutput.utf8)) as? [String: Any]
        let tasks = (object?["tasks"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "request" }
            .reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
        return (tasks, object?["droppedEvents"] as? Int ?? -1)
    }

    @Test func aSessionSendsItsTasksAndLongRegionsWithTheTraceparentTheyContinue() throws {
        let sink = try OTLPSink()
        let daemon = try TracedDaemon()
        try Self.start(daemon, "sent", ["--otlp", sink.endpoint])
        try Self.requests(daemon, tasks: 30, traceparent: Self.header, service: "orders-api")
        #expect(eventually(20) { (try? sink.received().spans.count) == 60 })
        let stopped = try daemon.tracectl(["stop", "sent"])
        #expect(stopped.status == 0)
        let received = try sink.received()
        #expect(received.requests >= 1 && received.gzipped == received.requests)
        let requests = received.spans.filter { $0["name"] as? String == "request" }
        let handles = received.spans.filter { $0["name"] as? String == "handle" }
        #expect(requests.count == 30 && handles.count == 30)
        // Every request continues the caller's trace, as a SERVER span whose
        // parent is the caller's span; every handle is a child of its request.
        #expect(requests.allSatisfy {
            $0["trace_id"] as? String == "0af7651916cd43dd8448eb211c80319c" && $0["parent_span_id"] as? String == "b7ad6b7169203331"
                && $0["kind"] as? Int == 2
        })
        let requestIDs = Set(requests.compactMap { $0["span_id"] as? String })
        #expect(requestIDs.count == 30)
        #expect(Set(handles.compactMap { $0["parent_span_id"] as? String }) == requestIDs)
        let indices = requests.compactMap { ($0["attributes"] as? [String: Any])?["request.index"] as? Int }
        #expect(indices.sorted() == Array(0..<30))
        #expect(requests.allSatisfy { ($0["attributes"] as? [String: Any])?["traced.region.tiny.count"] as? Int == 1 })
        // TRACED_SERVICE_NAME names the service (the process is TraceFixture).
        #expect(requests.allSatisfy { ($0["resource"] as? [String: Any])?["service.name"] as? String == "orders-api" })

        let status = try Self.otlpStatus(daemon, "sent")
        #expect(Self.number(status, "spans") == 60 && Self.number(status, "sent") == 60 && Self.number(status, "queued") == 0)
        // Metrics at the stop: the counter's last value, and the events the
        // process recorded (a cumulative sum), as status counts them.
        #expect(eventually(10) { (try? sink.received().metrics.isEmpty) == false })
        let metrics = try sink.received().metrics
        let served = metrics.last { $0["name"] as? String == "requests.served" }
        #expect(served?["kind"] as? String == "gauge")
        #expect((served?["points"] as? [[String: Any]])?.last?["value"] as? Int == 30, "\(metrics)")
        let recorded = metrics.last { $0["name"] as? String == "traced.events.recorded" }
        #expect(recorded?["kind"] as? String == "sum" && recorded?["monotonic"] as? Bool == true)
        let sessions = (try daemon.json(["status", "sent"]) as? [String: Any])?["sessions"] as? [[String: Any]]
        let events = (sessions?.first?["clients"] as? [[String: Any]])?.first?["events"] as? Int
        #expect((recorded?["points"] as? [[String: Any]])?.last?["value"] as? Int == events, "\(String(describing: recorded))")
        #expect(Self.number(status, "metricsSent") >= 1)
        #expect((status["dropped"] as? [String: Any] ?? [:]).isEmpty)
        // The same trace on disk exports to the same spans.
        let directory = try TemporaryDirectory()
        let path = directory.file("sent.trace")
        #expect(try daemon.tracectl(["fetch", "sent", "-o", path]).status == 0)
        let exported = directory.file("sent.otlp")
        #expect(try Processes.run(Processes.executable("tracectl"), ["export", "--format", "otlp", path, "-o", exported]).status == 0)
        let checked = try Processes.run(TraceReaders.repositoryRoot + "/Tests/Tools/check-otlp", [exported])
        let file = (try JSONSerialization.jsonObject(with: Data(checked.standardOutput.utf8)) as? [String: Any])?["spans"]
            as? [[String: Any]] ?? []
        // A TSC client's ticks become nanoseconds through the clock syncs
        // around them: traced's recent ones while it sends, the file's when
        // it is read. Durations agree within the conversion's error.
        func shape(_ spans: [[String: Any]]) -> [(name: String, duration: Int)] {
            spans.map { ("\($0["name"] as? String ?? "") \($0["trace_id"] as? String ?? "")",
                         ($0["end"] as? Int ?? 0) - ($0["start"] as? Int ?? 0)) }
                .sorted { ($0.name, $0.duration) < ($1.name, $1.duration) }
        }
        let (fromFile, fromWire) = (shape(file), shape(received.spans))
        #expect(fromFile.map(\.name) == fromWire.map(\.name))
        let worst = zip(fromFile, fromWire).map { abs($0.duration - $1.duration) }.max() ?? 0
        #expect(worst < 20_000, "durations differ by up to \(worst) ns")
    }

    @Test func theSpansOfTwoProcessesGoUnderTheirOwnResources() throws {
        // Both clients at once: their tasks end interleaved, and a request
        // holds spans of both (queued as bytes, task by task; each request
        // puts them under their process's resource).
        let sink = try OTLPSink()
        let daemon = try TracedDaemon()
        try Self.start(daemon, "two", ["--otlp", sink.endpoint])
        let clients = try [("orders-api", 40), ("billing", 25)].map { service, tasks in
            var environment = daemon.clientEnvironment
            environment["TRACED_SERVICE_NAME"] = service
            return try Background(Processes.executable("TraceFixture"), ["requests", "--tasks", String(tasks)], environment: environment)
        }
        for client in clients { #expect(client.wait(seconds: 60).status == 0) }
        // Up to a minute: under ThreadSanitizer, with two other test
        // processes on 2 CPUs, the spans once took longer than 20 s (all
        // 130 came by the stop); the status says where they were.
        #expect(eventually(60) { (try? sink.received().spans.count) == 130 },
                "\((try? Self.otlpStatus(daemon, "two")) ?? [:])")
        #expect(try daemon.tracectl(["stop", "two"]).status == 0)
        let spans = try sink.received().spans
        func count(_ service: String, _ name: String) -> Int {
            spans.filter { ($0["resource"] as? [String: Any])?["service.name"] as? String == service && $0["name"] as? String == name }.count
        }
        #expect(count("orders-api", "request") == 40 && count("orders-api", "handle") == 40)
        #expect(count("billing", "request") == 25 && count("billing", "handle") == 25)
        let pids = Dictionary(grouping: spans) { ($0["resource"] as? [String: Any])?["service.name"] as? String ?? "" }
            .mapValues { Set($0.compactMap { ($0["resource"] as? [String: Any])?["process.pid"] as? Int }) }
        #expect(pids.count == 2 && pids.values.allSatisfy { $0.count == 1 } && pids["orders-api"] != pids["billing"], "\(pids)")
    }

    @Test func aDeadEndpointCostsSpansNotEventsAndSendingResumesWhenItReturns() throws {
        let directory = try TemporaryDirectory()
        let sink = try OTLPSink()
        let daemon = try TracedDaemon()
        try Self.start(daemon, "outage", ["--otlp", sink.endpoint])
        try Self.requests(daemon, tasks: 10)
        #expect(eventually(20) { (try? sink.received().spans.count) == 20 })

        // Down (connections refused): the batch in hand is retried, the rest waits.
        sink.stop()
        try Self.requests(daemon, tasks: 40)
        #expect(eventually(20) {
            let status = (try? Self.otlpStatus(daemon, "outage")) ?? [:]
            return Self.number(status, "retries") >= 1 && Self.number(status, "spans") == 100
        })
        let down = try Self.otlpStatus(daemon, "outage")
        #expect(Self.number(down, "sent") == 20)
        #expect((down["lastProblem"] as? String ?? "").contains("retrying"), "\(down)")

        // Back: what waited is sent, and new spans go too.
        try sink.restart()
        try Self.requests(daemon, tasks: 5)
        #expect(eventually(60) { (try? Self.otlpStatus(daemon, "outage")).map { Self.number($0, "sent") } == 110 },
                "\((try? Self.otlpStatus(daemon, "outage")) ?? [:])")
        #expect(try sink.received().spans.count == 90)
        #expect(try daemon.tracectl(["stop", "outage"]).status == 0)
        let files = try Self.recorded(daemon, "outage", directory)
        #expect(files.tasks == 55 && files.dropped == 0)
    }

    @Test func aFullQueueDropsWholeTasksCountedAndAHangingEndpointIsTimedOut() throws {
        let directory = try TemporaryDirectory()
        let sink = try OTLPSink()
        let daemon = try Self.daemon("otlp_queue_spans = 10\notlp_timeout = 500ms\n", directory)
        try sink.hang()
        try Self.start(daemon, "full", ["--otlp", sink.endpoint])
        // The first 10 spans become the batch in hand, which times out and is retried...
        try Self.requests(daemon, tasks: 5)
        #expect(eventually(20) { (try? Self.otlpStatus(daemon, "full")).map { Self.number($0, "retries") >= 1 } == true })
        // ...while the queue takes 10 more, and drops the other 30, task by task.
        try Self.requests(daemon, tasks: 20)
        #expect(eventually(20) { (try? Self.otlpStatus(daemon, "full")).map { Self.dropped($0, "queue full") } == 30 })
        let full = try Self.otlpStatus(daemon, "full")
        #expect((full["lastProblem"] as? String ?? "").contains("Timeout"), "\(full)")
        #expect(Self.number(full, "sent") == 0 && Self.number(full, "spans") == 50)

        try sink.release()
        #expect(eventually(30) { (try? Self.otlpStatus(daemon, "full")).map { Self.number($0, "sent") } == 20 },
                "\((try? Self.otlpStatus(daemon, "full")) ?? [:])")
        // Every span is sent, dropped or counted: none unaccounted for.
        let done = try Self.otlpStatus(daemon, "full")
        #expect(Self.number(done, "spans") == Self.number(done, "sent") + Self.dropped(done, "queue full"))
        #expect(try daemon.tracectl(["stop", "full"]).status == 0)
        let files = try Self.recorded(daemon, "full", directory)
        #expect(files.tasks == 25 && files.dropped == 0)
        let status = try daemon.tracectl(["status", "full"])
        #expect(status.standardOutput.contains("not sent queue full 30"), "\(status.standardOutput)")
    }

    @Test func aRefusedBatchIsLoggedAndCountedAndTheNextOneGoes() throws {
        let sink = try OTLPSink(["--answer", "400"])
        let daemon = try TracedDaemon()
        try Self.start(daemon, "refused", ["--otlp", sink.endpoint])
        try Self.requests(daemon, tasks: 5)
        #expect(eventually(20) { (try? Self.otlpStatus(daemon, "refused")).map { Self.dropped($0, "refused") } == 10 })
        try Self.requests(daemon, tasks: 5)
        #expect(eventually(20) { (try? Self.otlpStatus(daemon, "refused")).map { Self.number($0, "sent") } == 10 })
        #expect(try sink.received().refused == 1)
        #expect(eventually(10) {
            daemon.process.standardError.contains("refused a batch of 10 spans with 400 (refused by the test's sink); they are dropped")
        }, "\(daemon.process.standardError)")
    }

    @Test func compressionNoneSendsPlainRequests() throws {
        let sink = try OTLPSink()
        let directory = try TemporaryDirectory()
        let daemon = try Self.daemon("otlp_compression = none\n", directory)
        try Self.start(daemon, "plain", ["--otlp", sink.endpoint])
        try Self.requests(daemon, tasks: 5)
        #expect(eventually(20) { (try? sink.received().spans.count) == 10 })
        let received = try sink.received()
        #expect(received.requests >= 1 && received.gzipped == 0)
    }

    @Test func aBusyEndpointIsGivenItsBackoffWhateverArrivesMeanwhile() throws {
        // 503 (with Retry-After: 0) four times, then 200: the batch in hand
        // waits 0.5, 1, 2 and 4 s between its tries, while a burst of spans
        // (more than a batch, which wakes the sender) arrives.
        let sink = try OTLPSink(["--answer", "503", "--answer", "503", "--answer", "503", "--answer", "503"])
        let daemon = try TracedDaemon()
        try Self.start(daemon, "busy", ["--otlp", sink.endpoint])
        try Self.requests(daemon, tasks: 5)
        #expect(eventually(20) { (try? Self.otlpStatus(daemon, "busy")).map { Self.number($0, "retries") >= 1 } == true })
        try Self.requests(daemon, tasks: 400)
        #expect(eventually(40) { (try? Self.otlpStatus(daemon, "busy")).map { Self.number($0, "sent") } == 810 },
                "\((try? Self.otlpStatus(daemon, "busy")) ?? [:])")
        let attempts = try sink.received().attempts
        #expect(attempts.prefix(5).map(\.status) == [503, 503, 503, 503, 200], "\(attempts)")
        let gaps = zip(attempts.dropFirst(), attempts).prefix(4).map { $0.seconds - $1.seconds }
        for (gap, backoff) in zip(gaps, [0.5, 1, 2, 4]) {
            #expect(gap >= backoff * 0.9, "tries \(gaps) s apart, backoff \(backoff) s")
        }
    }

    @Test func anEndpointThatIsNotHTTPIsRefusedAtStart() throws {
        let daemon = try TracedDaemon()
        for endpoint in ["ftp://127.0.0.1:4318", "127.0.0.1:4318", "http://", "http://user:secret@127.0.0.1:4318", "http://127.0.0.1:99999"] {
            let result = try daemon.tracectl(["start", "bad", "--otlp", endpoint])
            #expect(result.status == 4, "\(endpoint)")
            #expect(result.standardError.contains("an OTLP/HTTP endpoint is http://HOST:PORT"), "\(result.standardError)")
        }
        let list = try daemon.tracectl(["list"])
        #expect(!list.standardOutput.contains("bad"))
    }
}

/// traced's address space over many sessions with `--otlp`: measured in
/// the plain build only (under ThreadSanitizer every thread maps memory of
/// the sanitizer's own), hence not tagged concurrency.
@Suite(.tags(.slow)) struct OTLPSenderThreadTests {
    @Test func stoppedSessionsLeaveNoSenderThreadBehind() throws {
        // Each session with --otlp has a sender thread; traced joins it at
        // its next tick (at least once a second) after the stop let it go,
        // and the next thread reuses its stack. Unjoined, every thread would
        // keep its 8 MiB stack mapped: ten sessions, 80 MiB more address space.
        let sink = try OTLPSink([])
        let daemon = try TracedDaemon()
        func cycle(_ index: Int) throws {
            try OTLPStreamingTests.start(daemon, "s\(index)", ["--otlp", sink.endpoint])
            #expect(try daemon.tracectl(["stop", "s\(index)"]).status == 0)
            usleep(1_300_000)
        }
        try cycle(0)
        let before = try Self.addressSpace(daemon.process.pid)
        for index in 1...10 { try cycle(index) }
        let after = try Self.addressSpace(daemon.process.pid)
        #expect(after - before < 24 << 20, "traced's address space grew by \((after - before) >> 20) MiB over 10 sessions")
    }

    /// VmSize of `pid`, in bytes.
    static func addressSpace(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmSize:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) << 10
    }
}
