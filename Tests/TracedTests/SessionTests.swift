import Foundation
import TestSupport
import Testing
import TraceFormat

/// The real binaries: traced in a temporary runtime directory, client
/// processes, tracectl start / stop / fetch.
@Suite(.serialized, .tags(.concurrency)) struct SessionTests {
    @Test func threeClientsOfFourThreadsAreRecordedExactlyAndRotated() throws {
        let daemon = try TracedDaemon()
        let started = try daemon.tracectl(["start", "exact", "--max-file-size", "64K", "--max-files", "1000"])
        #expect(started.status == 0, "\(started.standardError)")
        let events = 50_000
        let clients = try (0..<3).map { _ in try daemon.client(["threads": "4", "events": "\(events)"]) }
        let results = clients.map { $0.wait() }
        for result in results {
            #expect(result.status == 0, "client: \(result.standardError) \(result.standardOutput)")
            #expect(result.values["emitted"] == "\(4 * events)")
        }
        let stopped = try SessionFigures(try daemon.json(["stop", "exact"]))
        #expect(stopped.state == 2)
        let emitted = UInt64(3 * 4 * events)
        #expect(stopped.events + stopped.dropped == emitted)

        let fetched = daemon.directory.file("exact.trace")
        let fetch = try daemon.tracectl(["fetch", "exact", "-o", fetched])
        #expect(fetch.status == 0, "\(fetch.standardError)")
        #expect(try Processes.lz4Test(fetched).status == 0)
        let tally = try Tally(path: fetched)
        #expect(tally.violations.isEmpty, "\(tally.violations.prefix(3))")
        #expect(tally.diagnostics.isEmpty, "\(tally.diagnostics)")
        #expect(UInt64(tally.events) == stopped.events)
        #expect(tally.seq.count == 12)
        #expect(tally.perProcess.count == 3)
        #expect(Set(tally.processEnds.values) == [.exited])

        // Rotation: several files, each complete and accepted by lz4 -t.
        #expect(stopped.files > 1)
        let directory = daemon.state + "/sessions/exact"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".trace") }
        #expect(UInt64(files.count) == stopped.files)
        for file in files {
            #expect(try Processes.lz4Test(directory + "/" + file).status == 0, "\(file)")
            let alone = try Tally(path: directory + "/" + file)
            #expect(alone.diagnostics.isEmpty, "\(file) does not decode alone: \(alone.diagnostics)")
            let clocks = try clockProblems(in: directory + "/" + file)
            #expect(clocks.isEmpty, "\(file): \(clocks)")
        }
    }
}

extension SessionTests {
    @Test func filesBeyondTheRetentionCountAreDeletedAndCounted() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "kept", "--max-file-size", "64K", "--max-files", "3"]).status == 0)
        let client = try daemon.client(["threads": "2", "events": "300000"])
        #expect(client.wait().status == 0)
        let stopped = try SessionFigures(try daemon.json(["stop", "kept"]))
        #expect(stopped.filesDeleted > 0)
        #expect(stopped.files == stopped.filesDeleted + 3)
        let directory = daemon.state + "/sessions/kept"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".trace") }.sorted()
        #expect(files.count == 3)
        // The newest files are the ones kept, and each decodes alone.
        for file in files {
            #expect(try Processes.lz4Test(directory + "/" + file).status == 0)
            #expect(try Tally(path: directory + "/" + file).diagnostics.isEmpty)
        }
        let names = files.compactMap { Int($0.prefix(6)) }
        #expect(names == Array((Int(stopped.files) - 3)..<Int(stopped.files)))
        // Deleted means deleted: the files went through the trash, which
        // traced's own thread empties.
        #expect(try eventually { try FileManager.default.contentsOfDirectory(atPath: daemon.state + "/trash").isEmpty })
    }

    /// Like journald's SystemMaxUse: when sessions need more room than the
    /// quota, the oldest stopped session goes whole; a running session alone
    /// over the quota loses its oldest files. Each deletion is logged, and
    /// what traced leaves in its trash (here: planted as if by a crash) is
    /// deleted. (TraceFixture's counters take ~4.1 B each on disk.)
    @Test func theDiskQuotaDeletesOldestStoppedSessionsThenOldestFiles() throws {
        let daemon = try TracedDaemon(arguments: ["--disk-quota", "2M"])
        func session(_ name: String, events: Int) throws {
            #expect(try daemon.tracectl(["start", name, "--max-file-size", "64K", "--max-files", "1000"]).status == 0)
            #expect(try daemon.client(["threads": "1", "events": "\(events)"]).wait().status == 0)
        }
        func names() throws -> [String] {
            try #require(try daemon.json(["list"]) as? [[String: Any]]).compactMap { $0["name"] as? String }
        }
        try session("old", events: 400_000)
        let old = try SessionFigures(try daemon.json(["stop", "old"]))
        #expect(old.filesDeleted == 0, "~1.6 MB fits the quota: \(old)")
        try session("new", events: 200_000)
        #expect(try daemon.tracectl(["stop", "new"]).status == 0)
        #expect(daemon.process.standardError.contains("deleted stopped session 'old'"))
        #expect(try names() == ["new"])
        #expect(!FileManager.default.fileExists(atPath: daemon.state + "/sessions/old"))

        try session("big", events: 800_000)
        #expect(try eventually {
            let sessions = try #require((try daemon.json(["status", "big"]) as? [String: Any])?["sessions"] as? [Any])
            return try SessionFigures(try #require(sessions.first)).filesDeleted > 0
        })
        #expect(daemon.process.standardError.contains("deleted stopped session 'new'"))
        #expect(daemon.process.standardError.contains("deleted the oldest file of running session 'big'"))
        #expect(try names() == ["big"])
        let trash = daemon.state + "/trash"
        #expect(try eventually { try FileManager.default.contentsOfDirectory(atPath: trash).isEmpty })

        // What a killed traced left in its trash goes when it starts again.
        daemon.kill()
        #expect(FileManager.default.createFile(atPath: trash + "/1-1-000000.trace", contents: Data(count: 4096)))
        try daemon.restart()
        #expect(try eventually { try FileManager.default.contentsOfDirectory(atPath: trash).isEmpty })
    }

    /// A flight recorder keeps a client that left only while its window
    /// holds the client's events; status keeps counting it.
    @Test func aFlightRecorderForgetsClientsWhoseEventsLeftItsWindow() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "recorder", "--flight-recorder", "--window", "256K"]).status == 0)
        let fetched = daemon.directory.file("recorder.trace")
        func window() throws -> Tally {
            #expect(try daemon.tracectl(["fetch", "recorder", "-o", fetched]).status == 0)
            return try Tally(path: fetched)
        }
        let early = try daemon.client(["threads": "1", "events": "1000"])
        #expect(early.wait().status == 0)
        let first = try window()
        #expect(first.perProcess[early.pid] == 1000)
        #expect(first.processRecords.contains(early.pid))

        let late = try daemon.client(["threads": "1", "events": "1000000"])
        #expect(late.wait().status == 0)
        var last = try window()
        #expect(try eventually {
            last = try window()
            return !last.processRecords.contains(early.pid)
        }, "the window still names pid \(early.pid)")
        #expect(last.perProcess[early.pid] == nil)
        #expect(last.perProcess[late.pid] != nil)
        #expect(last.diagnostics.isEmpty, "\(last.diagnostics)")

        let stopped = try SessionFigures(try daemon.json(["stop", "recorder"]))
        let counted = stopped.clients.first { ($0["pid"] as? NSNumber)?.int32Value == early.pid }
        #expect((counted?["events"] as? NSNumber)?.uint64Value == 1000)
    }

    @Test func aFlightRecorderHoldsOnlyItsLastWindow() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "recorder", "--flight-recorder", "--window", "256K"]).status == 0)
        let events = 1_000_000
        let client = try daemon.client(["threads": "1", "events": "\(events)"])
        #expect(client.wait().status == 0)
        // Nothing is on disk until the recorder stops.
        let before = try FileManager.default.contentsOfDirectory(atPath: daemon.state + "/sessions/recorder")
        #expect(!before.contains { $0.hasSuffix(".trace") })
        let stopped = try SessionFigures(try daemon.json(["stop", "recorder"]))
        let fetched = daemon.directory.file("recorder.trace")
        #expect(try daemon.tracectl(["fetch", "recorder", "-o", fetched]).status == 0)
        #expect(try Processes.lz4Test(fetched).status == 0)
        let tally = try Tally(path: fetched)
        #expect(tally.diagnostics.isEmpty, "\(tally.diagnostics)")
        // The window keeps a sync before its first event, the dump adds one after.
        let clocks = try clockProblems(in: fetched)
        #expect(clocks.isEmpty, "\(clocks)")
        #expect(tally.processEnds.count == 1)
        let values = try #require(tally.seq.values.first)
        // The end of the run is there, its beginning is not: only the window.
        #expect(values.last == Int64(events - 1))
        #expect((values.first ?? 0) > 0)
        #expect(values.count < events / 2)
        #expect(stopped.events == UInt64(events) - stopped.dropped)
        // The window is contiguous but for counted drops.
        let gaps = zip(values, values.dropFirst()).reduce(0) { $0 + ($1.1 - $1.0 - 1) }
        #expect(UInt64(gaps) <= stopped.dropped)
    }

    /// Busy clients make a small window close many frames; each starts
    /// with the session's recent clock syncs, which must stay few.
    @Test func aBusyFlightRecorderHoldsEventsNotCopiesOfItsSyncs() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "recorder", "--flight-recorder", "--window", "512K"]).status == 0)
        let clients = try (0..<3).map { _ in try daemon.client(["threads": "2", "events": "500000"]) }
        for client in clients { #expect(client.wait().status == 0) }
        let stopped = try SessionFigures(try daemon.json(["stop", "recorder"]))
        #expect(stopped.events + stopped.dropped == 3_000_000)
        let fetched = daemon.directory.file("recorder.trace")
        #expect(try daemon.tracectl(["fetch", "recorder", "-o", fetched]).status == 0)
        let tally = try Tally(path: fetched)
        #expect(tally.diagnostics.isEmpty, "\(tally.diagnostics)")
        #expect(tally.events > 20_000)
        let clocks = try clockProblems(in: fetched)
        #expect(clocks.isEmpty, "\(clocks)")
    }

    /// A quiet thread's partial chunk waits for the next scrape or for its
    /// process to leave, which can be longer than the sync history each
    /// frame starts with (2 s). The frame that takes its events still
    /// holds a sync older than them, the clock's first (its anchor), so
    /// they convert. (Under ThreadSanitizer a busy recorder's drainer fell
    /// that far behind too.)
    @Test func eventsOlderThanTheSyncHistoryStillHaveASyncBeforeThem() throws {
        let directory = try TemporaryDirectory("anchor")
        let config = directory.file("traced.conf")
        // No scrape during the test: the quiet client's chunk is taken when it leaves.
        try "scrape_interval = 60s\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try TracedDaemon(arguments: ["--config", config])
        #expect(try daemon.tracectl(["start", "recorder", "--flight-recorder", "--window", "512K"]).status == 0)
        // 1000 events, a few KiB of one chunk, then asleep until killed.
        let quiet = try daemon.client(["threads": "1", "events": "1000", "pause": "60000000"])
        #expect(quiet.waitFor(line: "enabled=true"))
        // Past the history, a busy client fills the window several times:
        // every frame left in it begins more than 2 s after the quiet
        // client's events.
        usleep(2_500_000)
        let busy = try daemon.client(["threads": "1", "events": "1000000"])
        #expect(busy.wait().status == 0)
        quiet.kill(SIGKILL)
        _ = quiet.wait()
        _ = try daemon.json(["stop", "recorder"])
        let fetched = daemon.directory.file("recorder.trace")
        #expect(try daemon.tracectl(["fetch", "recorder", "-o", fetched]).status == 0)
        let tally = try Tally(path: fetched)
        #expect(tally.diagnostics.isEmpty, "\(tally.diagnostics)")
        // The quiet client's events are in the window, all of them (taken
        // when it left, after the busy client's), and the busy client's
        // first ones are not.
        #expect(tally.seq.values.contains { $0 == (0..<1000).map(Int64.init) }, "\(tally.seq.mapValues(\.count))")
        #expect(tally.seq.values.contains { ($0.first ?? 0) > 0 }, "\(tally.seq.mapValues { $0.first ?? -1 })")
        let clocks = try clockProblems(in: fetched)
        #expect(clocks.isEmpty, "\(clocks)")
    }

    @Test(.tags(.slow)) func fetchWhileRunningGivesEverythingSoFar() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "live", "--max-file-size", "256K", "--max-files", "10000"]).status == 0)
        #expect(try daemon.tracectl(["start", "live-window", "--flight-recorder", "--window", "1M"]).status == 0)
        let client = try daemon.client(["threads": "1", "forever": "1", "pause": "2000"])
        defer { client.kill(SIGKILL) }
        var fetchedSoFar = 0
        for round in 0..<2 {
            let seen = try #require(client.progress(atLeast: (client.latestProgress ?? 0) + 20_000))
            for name in ["live", "live-window"] {
                let path = daemon.directory.file("\(name)-\(round).trace")
                let fetch = try daemon.tracectl(["fetch", name, "-o", path])
                #expect(fetch.status == 0, "\(fetch.standardError)")
                #expect(try Processes.lz4Test(path).status == 0)
                // A running session's file has no end record yet; nothing else is missing.
                let tally = try Tally(path: path)
                #expect(tally.diagnostics.allSatisfy { $0.problem == .missingFileEnd }, "\(tally.diagnostics)")
                #expect(tally.violations.isEmpty)
                let values = try #require(tally.seq.values.first)
                // In order and without a gap; up to at least what was emitted
                // before the fetch began (all of it for the streaming session,
                // the last window for the flight recorder).
                #expect(Int(values.last ?? -1) >= seen - 1, "\(name): up to \(values.last ?? -1) of \(seen)")
                #expect(values.last.map { Int($0) + 1 == values.count + Int(values.first ?? 0) } == true)
                if name == "live" {
                    #expect(values.first == 0)
                    #expect(values.count > fetchedSoFar)
                    fetchedSoFar = values.count
                } else {
                    #expect(values.first ?? 0 > 0, "the window holds the whole run: \(values.first ?? -1) ... \(values.last ?? -1)")
                }
            }
        }
        #expect(try daemon.session("live").state == 0)
        #expect(try daemon.session("live-window").state == 0)
    }

    @Test func concurrentSessionsWithDifferentFiltersGetExactlyTheirEvents() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "only-a", "--process", "load-a*"]).status == 0)
        #expect(try daemon.tracectl(["start", "only-b", "--process", "load-b"]).status == 0)
        #expect(try daemon.tracectl(["start", "keep-logs", "--category", "keep"]).status == 0)
        let a = try daemon.client(["threads": "2", "events": "20000", "name": "load-a", "mixed": "1"])
        let b = try daemon.client(["threads": "2", "events": "30000", "name": "load-b", "mixed": "1"])
        let resultA = a.wait(), resultB = b.wait()
        #expect(resultA.status == 0 && resultB.status == 0)
        let emittedA = try #require(resultA.values["emitted"].flatMap(UInt64.init))
        let emittedB = try #require(resultB.values["emitted"].flatMap(UInt64.init))

        for (name, only, emitted) in [("only-a", a.pid, emittedA), ("only-b", b.pid, emittedB)] {
            let figures = try SessionFigures(try daemon.json(["stop", name]))
            let path = daemon.directory.file(name + ".trace")
            #expect(try daemon.tracectl(["fetch", name, "-o", path]).status == 0)
            let tally = try Tally(path: path)
            #expect(Array(tally.perProcess.keys) == [only], "\(name) recorded \(tally.perProcess)")
            #expect(figures.events + figures.dropped == emitted)
            #expect(UInt64(tally.events) == figures.events)
        }
        let keep = try SessionFigures(try daemon.json(["stop", "keep-logs"]))
        let path = daemon.directory.file("keep.trace")
        #expect(try daemon.tracectl(["fetch", "keep-logs", "-o", path]).status == 0)
        let tally = try Tally(path: path)
        #expect(tally.diagnostics.isEmpty)
        #expect(Array(tally.logCategories.keys) == ["keep"])
        #expect(tally.perProcess.count == 2)
        // Half the logs are filtered out; every other event is there.
        if keep.dropped == 0 {
            #expect(UInt64(tally.events) == (emittedA + emittedB) / 4 * 3 + (emittedA + emittedB) / 8)
        }
        #expect(tally.violations.isEmpty)
    }
}

extension SessionTests {
    /// traced's loop wakes every drain_interval (10 ms) only while a client
    /// that records needs the timer; with a session and nothing to drain,
    /// every scrape_interval (100 ms); with no session, once a second.
    /// Counted as the loop thread's voluntary context switches (each
    /// wake-up is one), which the kernel keeps whatever else the machine
    /// does.
    @Test(.tags(.slow)) func tracedWakesAsOftenAsThereIsWorkToDo() throws {
        let daemon = try TracedDaemon()
        func wakeUps(over seconds: Double) throws -> Int { try Self.wakeUps(of: daemon.process.pid, over: seconds) }
        usleep(300_000)
        let idle = try wakeUps(over: 3)
        #expect(idle <= 12, "idle traced woke \(idle) times in 3 s")
        #expect(try daemon.tracectl(["start", "paced"]).status == 0)
        usleep(200_000)
        let quiet = try wakeUps(over: 2)
        #expect(quiet <= 40, "with a session and no client traced woke \(quiet) times in 2 s (100 ms: ~20)")
        // About a million events a second: the drain keeps freeing chunks,
        // so the timer hurries.
        let client = try daemon.client(["threads": "1", "forever": "1"])
        #expect(client.waitFor(line: "enabled=true"))
        usleep(200_000)
        let busy = try wakeUps(over: 1)
        #expect(busy >= 40, "with a client writing a million events a second traced woke \(busy) times in 1 s (10 ms: ~100)")
        client.kill(SIGKILL)
        _ = client.wait()
        #expect(try daemon.tracectl(["stop", "paced"]).status == 0)
        usleep(300_000)
        let idleAgain = try wakeUps(over: 3)
        #expect(idleAgain <= 12, "traced woke \(idleAgain) times in 3 s after its only session stopped")
    }

    /// A client writing slowly (1000 events a second, in bursts) under a
    /// running session is drained when it signals a completed chunk and on
    /// the scrape every scrape_interval (100 ms), not on 10 ms ticks; every
    /// event still arrives, none dropped.
    @Test func aQuietClientIsDrainedOnItsSignalsAndScrapesWithNothingLost() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "quiet"]).status == 0)
        let events = 3000
        let client = try daemon.client(["threads": "1", "events": "\(events)", "pause": "1000000"])
        #expect(client.waitFor(line: "enabled=true"))
        usleep(200_000)
        let woke = try Self.wakeUps(of: daemon.process.pid, over: 2)
        // 20 scrapes, a signal and a drain or two per completed chunk.
        #expect(woke <= 100, "traced woke \(woke) times in 2 s for a client writing 1000 events a second (10 ms ticks: ~200)")
        let result = client.wait()
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.values["emitted"] == "\(events)")
        let stopped = try SessionFigures(try daemon.json(["stop", "quiet"]))
        #expect(stopped.dropped == 0)
        #expect(stopped.events >= UInt64(events))
        let fetched = daemon.directory.file("quiet.trace")
        #expect(try daemon.tracectl(["fetch", "quiet", "-o", fetched]).status == 0)
        let tally = try Tally(path: fetched)
        #expect(tally.violations.isEmpty, "\(tally.violations.prefix(3))")
        #expect(tally.seq.values.map(\.count).reduce(0, +) == events)
    }

    /// How often traced's loop thread (`pid`) woke during the next `seconds`.
    static func wakeUps(of pid: Int32, over seconds: Double) throws -> Int {
        let before = try voluntarySwitches(pid)
        usleep(UInt32(seconds * 1_000_000))
        return try voluntarySwitches(pid) - before
    }

    /// `voluntary_ctxt_switches` of the thread `pid` (traced's loop).
    static func voluntarySwitches(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/task/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("voluntary_ctxt_switches:") }),
              let count = Int(line.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? "") else {
            throw DaemonFailure(log: "no voluntary_ctxt_switches in /proc/\(pid)/task/\(pid)/status")
        }
        return count
    }
}
