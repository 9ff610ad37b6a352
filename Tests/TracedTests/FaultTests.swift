import Foundation
import TestSupport
import Testing
import TraceFormat

/// Kills, restarts and broken peers: what traced and its clients survive.
@Suite(.serialized) struct FaultTests {
    @Test func aClientKilledMidBurstLosesNothingItCommitted() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "burst"]).status == 0)
        let client = try daemon.client(["threads": "2", "forever": "1"])
        let seen = try #require(client.progress(atLeast: 300_000), "the client did not get going: \(client.standardError)")
        client.kill(SIGKILL)
        client.wait()
        try daemon.waitUntil("the client is gone") { try daemon.session("burst").clients.allSatisfy { $0["connected"] as? Bool == false } }
        let stopped = try SessionFigures(try daemon.json(["stop", "burst"]))
        let fetched = daemon.directory.file("burst.trace")
        #expect(try daemon.tracectl(["fetch", "burst", "-o", fetched]).status == 0)
        #expect(try Processes.lz4Test(fetched).status == 0)
        let tally = try Tally(path: fetched)
        #expect(tally.diagnostics.isEmpty, "\(tally.diagnostics)")
        #expect(tally.violations.isEmpty)
        #expect(Set(tally.processEnds.values) == [.disconnected])
        #expect(UInt64(tally.events) == stopped.events)
        // Every value up to the last one recorded is there, but for counted
        // drops; and at least what the client reported before the kill.
        #expect(tally.seq.count == 2)
        var gaps: Int64 = 0
        var covered: UInt64 = 0
        for values in tally.seq.values {
            let last = try #require(values.last)
            gaps += last + 1 - Int64(values.count)
            covered += UInt64(last + 1)
        }
        // (Once seen under the full AddressSanitizer run, not since: 775
        // values missing and 0 dropped. Say where, if it comes back.)
        let missing = tally.seq.mapValues { values in
            zip(values, values.dropFirst()).filter { $1 != $0 + 1 }.prefix(5).map { "\($0)->\($1)" }
                + (values.first.map { $0 == 0 ? [] : ["starts at \($0)"] } ?? [])
        }
        #expect(UInt64(gaps) <= stopped.dropped, "gaps \(missing); clients \(stopped.clients)")
        #expect(covered >= UInt64(seen))
    }

    @Test(.tags(.slow)) func tracedKilledAndRestartedWhileClientsEmit() throws {
        let daemon = try TracedDaemon()
        // Small files, so that one is being written when traced is killed;
        // all kept, so that the fetch has both clients whatever the size
        // of one drain (in a busy CI run one client's drain filled the
        // default 8 files and pushed the other's out).
        #expect(try daemon.tracectl(["start", "before", "--max-file-size", "64K", "--max-files", "1000"]).status == 0)
        let clients = try (0..<2).map { _ in try daemon.client(["threads": "2", "forever": "1"]) }
        for client in clients { #expect(client.progress(atLeast: 200_000) != nil) }
        let footprintBefore = clients.map { Self.footprint($0.pid) }
        for footprint in footprintBefore { #expect(footprint.buffers.count == 1, "\(footprint)") }
        // A running session's status is saved every second, so recovery
        // has recent counters, not those of the start.
        let saved = daemon.state + "/sessions/before/session.json"
        var savedEvents: UInt64 = 0
        #expect(try eventually {
            let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: saved))) as? [String: Any]
            savedEvents = ((record?["status"] as? [String: Any])?["events"] as? NSNumber)?.uint64Value ?? 0
            return savedEvents > 0
        })
        daemon.kill()

        // Without traced the clients go on: their progress grows and no
        // event waits on the daemon.
        let outage = clients.map { $0.lines.count }
        for client in clients { #expect(client.progress(atLeast: (client.latestProgress ?? 0) + 100_000) != nil) }
        try daemon.restart()
        for (client, first) in zip(clients, outage) {
            let worst = client.lines[first...].compactMap { Self.value("worst", in: $0) }.max() ?? 0
            #expect(worst < 1_000_000_000, "an event took \(worst) ns while traced was down")
        }

        // The session of the killed traced is interrupted; what it wrote decodes.
        let listed = try #require(try daemon.json(["list"]) as? [[String: Any]])
        let recovered = try #require(listed.first { $0["name"] as? String == "before" })
        #expect(recovered["state"] as? Int == 3)
        #expect(((recovered["events"] as? NSNumber)?.uint64Value ?? 0) >= savedEvents)
        let before = daemon.directory.file("before.trace")
        #expect(try daemon.tracectl(["fetch", "before", "-o", before]).status == 0)
        #expect(try Processes.lz4Test(before).status == 0)
        let interrupted = try Tally(path: before)
        #expect(interrupted.diagnostics.allSatisfy { $0.problem == .missingFileEnd }, "\(interrupted.diagnostics)")
        #expect(interrupted.violations.isEmpty)
        #expect(interrupted.perProcess.count == 2)

        // The clients register again by themselves; the next session records them.
        #expect(try daemon.tracectl(["start", "after"]).status == 0)
        try daemon.waitUntil("both clients re-registered", seconds: 40) {
            try daemon.session("after").clients.filter { $0["connected"] as? Bool == true }.count == 2
        }
        for client in clients { #expect(client.progress(atLeast: (client.latestProgress ?? 0) + 100_000) != nil) }
        let after = try SessionFigures(try daemon.json(["stop", "after"]))
        #expect(after.events > 0)
        let fetched = daemon.directory.file("after.trace")
        #expect(try daemon.tracectl(["fetch", "after", "-o", fetched]).status == 0)
        let tally = try Tally(path: fetched)
        #expect(tally.diagnostics.isEmpty, "\(tally.diagnostics)")
        #expect(tally.violations.isEmpty)
        #expect(Set(tally.perProcess.keys) == Set(clients.map(\.pid)))
        #expect(UInt64(tally.events) == after.events)

        // Reconnecting cost the clients nothing: they map the same one
        // buffer (a new one would be another memfd) and hold as many
        // descriptors as before. (Resident memory is no measure of this: it
        // grows with the run under a sanitizer, whose shadow memory and
        // stack depot follow what the process does.)
        for (client, before) in zip(clients, footprintBefore) {
            let now = Self.footprint(client.pid)
            #expect(now.buffers == before.buffers, "pid \(client.pid) mapped \(before.buffers), now \(now.buffers)")
            #expect(now.descriptors == before.descriptors, "pid \(client.pid) held \(before.descriptors) descriptors, now \(now.descriptors)")
            #expect(client.isRunning)
            client.kill(SIGKILL)
        }
    }

    @Test func sigtermFinishesEverySessionAndExitsZero() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "streaming", "--max-file-size", "64K"]).status == 0)
        #expect(try daemon.tracectl(["start", "recorder", "--flight-recorder"]).status == 0)
        let client = try daemon.client(["threads": "2", "forever": "1"])
        #expect(client.progress(atLeast: 200_000) != nil)
        let result = daemon.terminate()
        #expect(result.status == 0, "\(result.standardError)")
        // The sockets it bound itself go with it.
        #expect(!FileManager.default.fileExists(atPath: daemon.runtime + "/control.sock"))
        #expect(!FileManager.default.fileExists(atPath: daemon.runtime + "/producer.sock"))
        #expect(client.progress(atLeast: (client.latestProgress ?? 0) + 100_000) != nil, "the client stalled without traced")

        try daemon.restart()
        let listed = try #require(try daemon.json(["list"]) as? [[String: Any]])
        #expect(listed.count == 2)
        #expect(listed.allSatisfy { $0["state"] as? Int == 2 }, "\(listed)")
        for name in ["streaming", "recorder"] {
            let path = daemon.directory.file(name + ".trace")
            #expect(try daemon.tracectl(["fetch", name, "-o", path]).status == 0)
            #expect(try Processes.lz4Test(path).status == 0)
            let tally = try Tally(path: path)
            #expect(tally.diagnostics.isEmpty, "\(name): \(tally.diagnostics)")
            #expect(tally.violations.isEmpty)
            #expect(tally.events > 0)
            #expect(Set(tally.processEnds.values) == [.tracingStopped])
        }
        client.kill(SIGKILL)
    }

    /// The trace buffers `pid` maps (the inodes of its `memfd:traced:`
    /// mappings) and the number of descriptors it holds.
    private static func footprint(_ pid: Int32) -> (buffers: Set<String>, descriptors: Int) {
        // Read to its end: String(contentsOfFile:) stops after one read of a
        // /proc file (~4 KB), and a sanitized process maps far more than that.
        let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/maps")
        let maps = String(decoding: (try? handle?.readToEnd()) ?? Data(), as: UTF8.self)
        let buffers = maps.split(separator: "\n").filter { $0.contains("/memfd:traced:") }.compactMap { line in
            // address perms offset device inode path
            line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).first.map(String.init)
        }
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
        return (Set(buffers), descriptors)
    }

    static func value(_ key: String, in line: String) -> Int? {
        line.split(separator: " ").first { $0.hasPrefix(key + "=") }.flatMap { Int($0.dropFirst(key.count + 1)) }
    }
}

extension Background {
    /// The last `progress=` a `load --forever` client printed.
    var latestProgress: Int? { lines.compactMap { FaultTests.value("progress", in: $0) }.last }

    /// Waits until the client reports at least `events` (woken by each
    /// report); the count seen, or nil if it ended or hung first.
    func progress(atLeast events: Int, seconds: Double = 30) -> Int? {
        var seen: Int?
        let reached = waitForOutput(seconds: seconds) { lines in
            seen = lines.compactMap { FaultTests.value("progress", in: $0) }.last
            return (seen ?? 0) >= events
        }
        return reached ? seen : nil
    }
}

extension TracedDaemon {
    /// One session's entry in `tracectl status NAME --json`.
    func session(_ name: String) throws -> SessionFigures {
        let report = try #require(try json(["status", name]) as? [String: Any])
        let sessions = try #require(report["sessions"] as? [Any])
        return try SessionFigures(try #require(sessions.first))
    }

    /// Polls `condition` until it holds, failing after `seconds`.
    func waitUntil(_ what: String, seconds: Double = 20, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? condition()) == true { return }
            usleep(50_000)
        }
        throw DaemonFailure(log: "waited \(seconds) s for \(what); traced's log:\n" + log)
    }
}
