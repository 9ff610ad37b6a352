import Foundation
import Testing
import TestSupport

/// A flight recorder with `--trigger 'TYPE>DURATION'` saves its window by
/// itself when a task of that type is slow: the snapshot holds the slow
/// task whole and the window before it, passes `lz4 -t`, and `tracectl`
/// reads it; a run without a slow task saves nothing. `tracectl snapshots`
/// lists them, `fetch --snapshot` gets one, `snapshot` takes one by hand.
@Suite(.tags(.slow)) struct SnapshotTests {
    static func snapshots(_ daemon: TracedDaemon, _ session: String) -> String {
        daemon.state + "/sessions/\(session)/snapshots"
    }

    /// The requests scenario as a client of `daemon` (1 ms a request, the
    /// one at `outlier` 150 ms); waits for it, and returns its pid.
    @discardableResult
    static func requests(_ daemon: TracedDaemon, tasks: Int, outlier: Int? = nil, outlierMicroseconds: Int = 150_000) throws -> Int32 {
        var options = ["requests", "--tasks", String(tasks), "--slow-us", "1000"]
        if let outlier { options += ["--outlier-at", String(outlier), "--outlier-us", String(outlierMicroseconds)] }
        let client = try Background(Processes.executable("TraceFixture"), options, environment: daemon.clientEnvironment)
        let result = client.wait(seconds: 120)
        #expect(result.status == 0, "\(result.standardError)")
        return client.pid
    }

    static func list(_ directory: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/snapshots.json"))) as? [String: Any] ?? [:]
    }

    /// `tracectl tasks FILE --type request ...` as JSON objects.
    static func tasks(_ path: String, _ options: [String]) throws -> [[String: Any]] {
        let result = try Processes.run(Processes.executable("tracectl"), ["tasks", path, "--type", "request"] + options + ["--json"])
        #expect(result.status == 0, "\(result.standardError)")
        return try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]] ?? []
    }

    @Test func aSlowTaskIsSavedWholeWithTheWindowBeforeIt() throws {
        let daemon = try TracedDaemon()
        let started = try daemon.tracectl(["start", "fr", "--flight-recorder", "--window-time", "3s", "--trigger", "request>100ms",
                                           "--trigger", "never>1ms", "--no-exec"])
        #expect(started.status == 0, "\(started.standardError)")
        // 1 of 10,000 requests takes 150 ms, the others 1 ms.
        try Self.requests(daemon, tasks: 10_000, outlier: 5000)
        let directory = Self.snapshots(daemon, "fr")
        #expect(eventually(20) { FileManager.default.fileExists(atPath: directory + "/snapshots.json") })
        let listed = try daemon.json(["snapshots", "fr"]) as? [String: Any] ?? [:]
        let list = listed["snapshots"] as? [[String: Any]] ?? []
        #expect(list.count == 1, "\(listed)")
        let entry = try #require(list.first)
        #expect(entry["trigger"] as? String == "request>100ms" && entry["taskType"] as? String == "request")
        #expect((entry["latencyNanoseconds"] as? Int ?? 0) >= 150_000_000)
        // What each trigger saw: the one on a type that never appears says so.
        // (Each task end is matched a settle delay, ~1 s, after it.)
        #expect(eventually(10) { (try? daemon.tracectl(["snapshots", "fr"]))?.standardOutput.contains("10000 task(s) ended, 1 slower") == true })
        let text = try daemon.tracectl(["snapshots", "fr"])
        #expect(text.standardOutput.contains("never>1ms") && text.standardOutput.contains("no task of this type has ended yet"))
        let path = directory + "/fetched.trace"
        let fetched = try daemon.tracectl(["fetch", "fr", "--snapshot", "1", "-o", path])
        #expect(fetched.status == 0, "\(fetched.standardError)")
        #expect(FileManager.default.contents(atPath: path) == FileManager.default.contents(atPath: directory + "/000001.trace"))

        // An LZ4 frame sequence any lz4 reads, and a trace tracectl reads.
        let tested = try Processes.run("/usr/bin/lz4", ["-t", path])
        #expect(tested.status == 0, "\(tested.standardError)")
        let report = try Processes.run(Processes.executable("tracectl"), ["report", path, "--json"])
        #expect(report.status == 0, "\(report.standardError)")

        // The slow task whole: its begin, end and both regions.
        let slow = try #require(try Self.tasks(path, ["--slowest", "1"]).first)
        #expect(slow["id"] as? Int == entry["taskID"] as? Int)
        let begin = try #require(slow["begin"] as? Int), end = try #require(slow["end"] as? Int)
        #expect(end - begin >= 150_000_000)
        let regions = (slow["regions"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
        #expect(regions == ["handle", "tiny"])
        // And at least the 3 s window before its end: tasks that ended 3 s
        // before it (the requests before it took 1 ms each, 5 s in all).
        let earlier = try Self.tasks(path, ["--latency", "0..10ms", "--limit", "10000"])
        let first = try #require(earlier.compactMap { $0["begin"] as? Int }.min())
        #expect(end - first >= 3_000_000_000, "the snapshot begins \(Double(end - first) / 1e9) s before the slow task's end")
        #expect(daemon.process.standardError.contains("snapshot 1"), "\(daemon.process.standardError)")
        try FileManager.default.removeItem(atPath: path)

        // By hand, while it runs; then a snapshot that is not there.
        let byHand = try daemon.tracectl(["snapshot", "fr"])
        #expect(byHand.status == 0 && byHand.standardOutput.contains("snapshot #2") && byHand.standardOutput.contains("taken by hand"),
                "\(byHand.standardOutput)\(byHand.standardError)")
        let missing = try daemon.tracectl(["fetch", "fr", "--snapshot", "9", "-o", path])
        #expect(missing.status == 4 && missing.standardError.contains("has no snapshot 9 (kept: 1, 2"), "\(missing.standardError)")
        #expect(try daemon.tracectl(["stop", "fr"]).status == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["000001.trace", "000002.trace", "snapshots.json"], "\(files)")
        // Still listed once stopped.
        #expect(((try daemon.json(["snapshots", "fr"]) as? [String: Any])?["snapshots"] as? [[String: Any]])?.count == 2)
    }

    @Test func aTaskLongerThanTheWindowsAgeIsHeldWhole() throws {
        // A 4 s request, a 1 s window: the recorder keeps what followed the
        // watched task's begin while it is open. The request is the
        // client's last: it has left when the task is decided, a settle
        // delay after its end, and the snapshot still names its pid.
        let daemon = try TracedDaemon()
        let started = try daemon.tracectl(["start", "long", "--flight-recorder", "--window-time", "1s", "--trigger", "request>2s",
                                           "--trigger-after", "100ms", "--no-exec"])
        #expect(started.status == 0, "\(started.standardError)")
        let pid = try Self.requests(daemon, tasks: 1500, outlier: 1499, outlierMicroseconds: 4_000_000)
        let directory = Self.snapshots(daemon, "long")
        #expect(eventually(20) { FileManager.default.fileExists(atPath: directory + "/000001.trace") })
        #expect(eventually(10) { ((try? Self.list(directory))?["snapshots"] as? [[String: Any]])?.first?["pid"] as? Int == Int(pid) })
        let slow = try #require(try Self.tasks(directory + "/000001.trace", ["--slowest", "1"]).first)
        let begin = try #require(slow["begin"] as? Int), end = try #require(slow["end"] as? Int)
        #expect(end - begin >= 4_000_000_000)
        #expect((slow["regions"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String } == ["handle", "tiny"])
    }

    @Test func aFlightRecorderWithTriggersSendsItsSpansToo() throws {
        // The triggers and the OTLP path take their events from one decode
        // of each batch: both see every task.
        let sink = try OTLPSink()
        let daemon = try TracedDaemon()
        let started = try daemon.tracectl(["start", "both", "--flight-recorder", "--trigger", "request>100ms", "--otlp", sink.endpoint,
                                           "--no-exec"])
        #expect(started.status == 0, "\(started.standardError)")
        try Self.requests(daemon, tasks: 2000, outlier: 1000)
        let directory = Self.snapshots(daemon, "both")
        #expect(eventually(20) { ((try? Self.list(directory))?["snapshots"] as? [[String: Any]])?.count == 1 })
        #expect(eventually(10) { (try? daemon.tracectl(["snapshots", "both"]))?.standardOutput.contains("2000 task(s) ended, 1 slower") == true })
        let requestSpans = { (try? sink.received().spans.filter { $0["name"] as? String == "request" }) ?? [] }
        #expect(eventually(20) { requestSpans().count == 2000 })
        #expect(try daemon.tracectl(["stop", "both"]).status == 0)
        let requests = requestSpans()
        #expect(requests.count == 2000)
        let slow = requests.filter { (($0["end"] as? Int ?? 0) - ($0["start"] as? Int ?? 0)) >= 150_000_000 }
        #expect(slow.count == 1 && (slow.first?["attributes"] as? [String: Any])?["request.index"] as? Int == 1000, "\(slow)")
    }

    @Test func noSlowTaskNoSnapshot() throws {
        let daemon = try TracedDaemon()
        let started = try daemon.tracectl(["start", "quiet", "--flight-recorder", "--trigger", "request>100ms", "--no-exec"])
        #expect(started.status == 0, "\(started.standardError)")
        try Self.requests(daemon, tasks: 2000)
        #expect(try daemon.tracectl(["stop", "quiet"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: Self.snapshots(daemon, "quiet")))
        #expect(!daemon.process.standardError.contains("snapshot"))
        let listed = try daemon.tracectl(["snapshots", "quiet"])
        #expect(listed.status == 0 && listed.standardOutput.contains("0 kept") && listed.standardOutput.contains("2000 task(s) ended, 0 slower"),
                "\(listed.standardOutput)")
        // A streaming session takes no snapshots.
        #expect(try daemon.tracectl(["start", "files", "--no-exec"]).status == 0)
        let streaming = try daemon.tracectl(["snapshots", "files"])
        #expect(streaming.status == 4 && streaming.standardError.contains("is not a flight recorder"), "\(streaming.standardError)")
    }

    @Test func aStormOfSlowTasksMakesOneSnapshotPerIntervalAndCountsTheRest() throws {
        let daemon = try TracedDaemon()
        let started = try daemon.tracectl(["start", "storm", "--flight-recorder", "--trigger", "request>100ms",
                                           "--trigger-after", "200ms", "--no-exec"])
        #expect(started.status == 0, "\(started.standardError)")
        // 12 requests of 120 ms: 1.4 s, within one interval (10 s).
        let client = try Background(Processes.executable("TraceFixture"), ["requests", "--tasks", "12", "--slow-us", "120000"],
                                    environment: daemon.clientEnvironment)
        #expect(client.wait(seconds: 60).status == 0)
        #expect(try daemon.tracectl(["stop", "storm"]).status == 0)
        let list = try Self.list(Self.snapshots(daemon, "storm"))
        #expect((list["snapshots"] as? [[String: Any]])?.count == 1)
        #expect(list["heldBack"] as? Int == 11, "\(list)")
    }

    @Test func badTriggersAreRefusedWithTheFormTheyTake() throws {
        let daemon = try TracedDaemon()
        for (options, says) in [(["--flight-recorder", "--trigger", "request"], "a trigger is TYPE>DURATION"),
                                (["--flight-recorder", "--trigger", ">1ms"], "a trigger is TYPE>DURATION"),
                                (["--flight-recorder", "--trigger", "request>soon"], "'soon' is not a duration"),
                                (["--flight-recorder", "--trigger", "request>0"], "is not a duration from 1ns"),
                                (["--trigger", "request>1ms"], "--trigger needs --flight-recorder"),
                                (["--flight-recorder", "--trigger-after", "2s"], "need --trigger"),
                                (["--flight-recorder", "--trigger", "request>1ms", "--max-snapshots", "0"], "--max-snapshots must be from 1")] {
            let result = try daemon.tracectl(["start", "bad"] + options)
            #expect(result.status == 4, "\(options): \(result.standardError)")
            #expect(result.standardError.contains(says), "\(options): \(result.standardError)")
        }
    }
}
