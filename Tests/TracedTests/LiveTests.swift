import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `tracectl top` and `tail` on a running session (docs/design.md,
/// "Watching a session"): top's figures are the report's of the same
/// tasks; a tail that stops reading loses its view, is told how much, and
/// the session loses nothing.
@Suite(.tags(.slow)) struct LiveTests {
    static func objects(_ lines: [String]) -> [[String: Any]] {
        lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func topCountsWhatTheReportOfTheFetchedTraceCounts() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "live", "--no-exec"]).status == 0)
        let top = try Background(Processes.executable("tracectl"), ["top", "live", "--json"],
                                 environment: ["TRACED_RUNTIME_DIR": daemon.runtime])
        #expect(top.waitForOutput(seconds: 20) { !$0.isEmpty }, "\(top.standardError)")
        // 2,000 requests of 1 ms, one of 150 ms: 2.5 s, well within top's 10 s window.
        let client = try Background(Processes.executable("TraceFixture"),
                                    ["requests", "--tasks", "2000", "--slow-us", "1000", "--outlier-at", "1000"],
                                    environment: daemon.clientEnvironment)
        #expect(client.wait(seconds: 120).status == 0, "\(client.standardError)")
        // One frame as a person reads it, while the session runs.
        let once = try daemon.tracectl(["top", "live", "--once"])
        #expect(once.status == 0, "\(once.standardError)")
        #expect(once.standardOutput.contains("TASK TYPE") && once.standardOutput.contains("PROCESS"), "\(once.standardOutput)")
        #expect(try daemon.tracectl(["stop", "live"]).status == 0)
        let ended = top.wait(seconds: 30)
        #expect(ended.status == 0, "\(ended.standardError)")
        let frames = Self.objects(top.lines)
        let last = try #require(frames.last, "\(top.standardOutput)")
        #expect(last["state"] as? String == "stopped")
        #expect((last["lost"] as? [String: Any])?["frames"] as? Int == 0)
        let rows = last["taskTypes"] as? [[String: Any]] ?? []
        let request = try #require(rows.first { $0["type"] as? String == "request" }, "\(last)")

        let path = daemon.directory.file("live.trace")
        #expect(try daemon.tracectl(["fetch", "live", "-o", path]).status == 0)
        let report = try Processes.run(Processes.executable("tracectl"), ["report", path, "--json"])
        #expect(report.status == 0, "\(report.standardError)")
        let document = try JSONSerialization.jsonObject(with: Data(report.standardOutput.utf8)) as? [String: Any] ?? [:]
        let reported = try #require((document["tasks"] as? [[String: Any]])?.first { $0["type"] as? String == "request" })
        let latency = reported["latency"] as? [String: Any] ?? [:]
        #expect(reported["count"] as? Int == 2000)
        for figures in ["sinceStart", "window"] {
            let top = request[figures] as? [String: Any] ?? [:]
            #expect(top["completed"] as? Int == reported["count"] as? Int, "\(figures): \(top) against \(reported)")
            // The same durations in the same histogram (3 significant digits).
            for key in ["p50", "p99", "max"] {
                let mine = Double(top[key] as? Int ?? 0), theirs = Double(latency[key] as? Int ?? -1)
                #expect(abs(mine - theirs) <= theirs * 0.001, "\(figures) \(key): top \(mine), report \(theirs)")
            }
        }
        #expect((request["window"] as? [String: Any])?["max"] as? Int ?? 0 >= 150_000_000)
        #expect(request["inFlight"] as? Int == 0)
        // The client, by its status: every event it sent, none dropped.
        let processes = last["processes"] as? [[String: Any]] ?? []
        let fixture = try #require(processes.first { $0["pid"] as? Int == Int(client.pid) }, "\(processes)")
        #expect(fixture["events"] as? Int == document["trace"].flatMap { ($0 as? [String: Any])?["events"] as? Int })
        #expect((fixture["dropped"] as? [String: Any])?.isEmpty == true)
        // Frames came every second while it ran.
        #expect(frames.count >= 3, "\(frames.count) frames")

        // The rules fetch has: no such session, a stopped one.
        #expect(try daemon.tracectl(["top", "nosuch", "--once"]).status == 3)
        let stopped = try daemon.tracectl(["tail", "live"])
        #expect(stopped.status == 1 && stopped.standardError.contains("stopped"), "\(stopped.standardError)")
    }

    @Test func aTailThatKeepsUpShowsEveryLogOnce() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "followed", "--no-exec"]).status == 0)
        let tail = try Background(Processes.executable("tracectl"), ["tail", "followed", "--json"],
                                  environment: ["TRACED_RUNTIME_DIR": daemon.runtime])
        #expect(daemon.process.waitForError(containing: "watches session 'followed'"), "\(daemon.log)")
        // 100,000 logs at about 40,000 a second: a debug tail under the
        // suite's load keeps up (it showed ~150,000 a second alone).
        let client = try Background(Processes.executable("TraceFixture"),
                                    ["load", "--threads", "2", "--events", "50000", "--logs", "1", "--pause", "50000"],
                                    environment: daemon.clientEnvironment)
        #expect(client.wait(seconds: 120).status == 0)
        let stopped = try SessionFigures(try daemon.json(["stop", "followed"]))
        #expect(stopped.events == 100_000 && stopped.dropped == 0, "\(stopped)")
        let ended = tail.wait(seconds: 60)
        #expect(ended.status == 0, "\(ended.standardError)")
        let lines = Self.objects(tail.lines)
        let logs = lines.filter { $0["kind"] as? String == "log" }
        #expect(lines.allSatisfy { $0["kind"] as? String != "lost" }, "\(lines.filter { $0["kind"] as? String == "lost" })")
        #expect(logs.count == 100_000)
        // Each once: "value 0" ... "value 49999" from each of two threads.
        let messages = logs.compactMap { $0["message"] as? String }
        #expect(Set(messages).count == 50_000 && messages.count == 100_000)
        #expect(lines.last?["kind"] as? String == "stopped")
        #expect(!daemon.log.contains("took none of its reply"), "\(daemon.log)")
    }

    @Test func viewersCountAgainstTheControlConnectionLimits() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "watched", "--no-exec"]).status == 0)
        // 16 viewers of one uid: its control connections' limit.
        let tails = try (0..<16).map { _ in
            try Background(Processes.executable("tracectl"), ["tail", "watched"], environment: ["TRACED_RUNTIME_DIR": daemon.runtime])
        }
        #expect(eventually(30) { daemon.log.components(separatedBy: "watches session 'watched'").count - 1 == 16 }, "\(daemon.log)")
        let refused = try daemon.tracectl(["top", "watched", "--once"])
        #expect(refused.status == 4 && refused.standardError.contains("connections to traced open"), "\(refused.standardError)")
        // A stop is a control connection too: one viewer leaves first.
        tails[0].kill(SIGINT)
        _ = tails[0].wait(seconds: 10)
        #expect(eventually(20) { (try? daemon.tracectl(["stop", "watched"]))?.status == 0 })
        // The stop ends every other viewer, each told so.
        for tail in tails.dropFirst() {
            let ended = tail.wait(seconds: 30)
            #expect(ended.status == 0 && ended.standardOutput.contains("session 'watched' stopped"), "\(ended.standardError)")
        }
    }

    @Test func aTailThatStopsReadingLosesItsViewAndIsToldNotTheSessionsEvents() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "tailed", "--no-exec"]).status == 0)
        var pipe: [CInt] = [0, 0]
        #expect(Glibc.pipe(&pipe) == 0)
        let log = daemon.directory.file("tail.log")
        let tail = try Spawned(Processes.executable("tracectl"), ["tail", "tailed", "--json"],
                               environment: ["TRACED_RUNTIME_DIR": daemon.runtime], standardOutput: pipe[1], log: log)
        close(pipe[1])
        #expect(daemon.process.waitForError(containing: "watches session 'tailed'"), "\(daemon.log)")
        // 800,000 logs while nobody reads tail's output: its pipe fills, it
        // stops reading traced, and what traced queued for it fills.
        let client = try Background(Processes.executable("TraceFixture"),
                                    ["load", "--threads", "2", "--events", "400000", "--logs", "1", "--pause", "300"],
                                    environment: daemon.clientEnvironment.merging(["TRACED_BUFFER_SIZE": "16M"]) { $1 })
        let result = client.wait(seconds: 120)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.values["emitted"] == "800000")
        let stopped = try SessionFigures(try daemon.json(["stop", "tailed"]))
        // The session lost nothing: draining never waited for the viewer.
        #expect(stopped.events == 800_000 && stopped.dropped == 0, "\(stopped)")

        // Now read everything tail has to say.
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(pipe[0], &chunk, chunk.count)
            if n <= 0 { break }
            output += chunk[0..<n]
        }
        close(pipe[0])
        let status = tail.wait()
        #expect(status == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let lines = Self.objects(String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init))
        let logs = lines.filter { $0["kind"] as? String == "log" }.count
        let losses = lines.filter { $0["kind"] as? String == "lost" }
        let lostEvents = losses.compactMap { ($0["lost"] as? [String: Any])?["events"] as? Int }.reduce(0, +)
        #expect(!losses.isEmpty && lostEvents > 0, "tail was never told it lost anything: \(logs) logs")
        #expect(logs > 0)
        // Every event is either shown or counted as lost: whole frames go.
        #expect(logs + lostEvents == 800_000, "\(logs) shown + \(lostEvents) lost")
        #expect(lines.last?["kind"] as? String == "stopped")
        // The files have them all.
        let path = daemon.directory.file("tailed.trace")
        #expect(try daemon.tracectl(["fetch", "tailed", "-o", path]).status == 0)
        let tally = try Tally(path: path)
        #expect(tally.events == 800_000)
    }
}
