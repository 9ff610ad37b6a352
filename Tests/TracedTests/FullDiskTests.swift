import Foundation
import TestSupport
import Testing
import TraceFormat

/// traced's state directory on a small tmpfs that fills up while a client
/// records: what cannot be written is counted as dropped ("write failed"),
/// status shows the failure and its time, no temporary file stays,
/// recording resumes by itself once space returns, and the files then
/// hold the drops status shows, of clients that left meanwhile too.
/// Mounting needs root (CI runs as root).
@Suite(.serialized) struct FullDiskTests {
    @Test(.tags(.slow)) func aFullDiskIsCountedShownCleanedUpAndRecoveredFrom() throws {
        let disk = try SmallDisk()
        defer { disk.unmount() }
        let state = disk.state
        let daemon = try TracedDaemon(arguments: ["--state-dir", state])
        defer { daemon.kill() }
        #expect(try daemon.tracectl(["start", "full", "--max-file-size", "1M", "--max-files", "1000"]).status == 0)
        let client = try daemon.client(["threads": "2", "events": "1000000", "pause": "10000", "mixed": "1"])

        var failure: [String: Any] = [:]
        try daemon.waitUntil("writing failed", seconds: 60) {
            failure = try Self.writeFailure(daemon) ?? [:]
            return !failure.isEmpty
        }
        #expect(failure["resumed"] as? Bool == false)
        let message = failure["message"] as? String ?? ""
        #expect(message.contains("No space left on device"), "\(message)")
        let at = (failure["realtimeNanoseconds"] as? NSNumber)?.uint64Value ?? 0
        #expect(abs(Double(at) / 1e9 - Date().timeIntervalSince1970) < 60)
        let text = try daemon.tracectl(["status", "full"]).standardOutput
        #expect(text.contains("write failed at "), "\(text)")
        #expect(text.contains("writing suspended"), "\(text)")
        // A client records and exits while nothing can be written: none of
        // its records (process, drops, end) reached a file.
        let brief = try daemon.client(["threads": "1", "events": "20000", "name": "brief"]).wait(seconds: 60)
        #expect(brief.status == 0, "\(brief.standardError)")
        let briefEmitted = try #require(brief.values["emitted"].flatMap(UInt64.init))
        try daemon.waitUntil("the brief client left") {
            try daemon.session("full").clients.contains { $0["name"] as? String == "brief" && $0["connected"] as? Bool == false }
        }
        #expect(try Self.writeFailure(daemon)?["resumed"] as? Bool == false)

        // Space comes back: a new file is tried within a second and writing goes on.
        try disk.free()
        try daemon.waitUntil("writing resumed", seconds: 20) {
            try Self.writeFailure(daemon)?["resumed"] as? Bool == true
        }
        let result = client.wait(seconds: 120)
        #expect(result.status == 0, "\(result.standardError)")
        let emitted = try #require(result.values["emitted"].flatMap(UInt64.init)) + briefEmitted

        // Every event is either in the files or counted as dropped.
        let stopped = try #require(try daemon.json(["stop", "full"]) as? [String: Any])
        let figures = try SessionFigures(stopped)
        let drops = stopped["dropped"] as? [String: NSNumber] ?? [:]
        #expect((drops["write failed"]?.uint64Value ?? 0) > 0, "\(drops)")
        #expect(figures.events + figures.dropped == emitted, "\(figures.events) + \(figures.dropped) != \(emitted)")
        let fetched = disk.directory.file("full.trace")
        #expect(try daemon.tracectl(["fetch", "full", "-o", fetched]).status == 0)
        #expect(try Processes.lz4Test(fetched).status == 0)
        let tally = try Tally(path: fetched)
        #expect(UInt64(tally.events) == figures.events)
        #expect(tally.violations.isEmpty)
        // The file cut at the failure has no end record: that is all a reader notes.
        #expect(tally.diagnostics.allSatisfy { $0.problem == .missingFileEnd }, "\(tally.diagnostics)")
        // The files hold the drops status shows, by process and reason: the
        // first file written after the failure carries them (was: report
        // "dropped: 0" against status's millions of write-failed drops).
        try Self.expectReportDrops(fetched, equal: stopped, daemon)

        // Nothing temporary is left, and the failure was logged once, its end once.
        let session = state + "/sessions/full"
        let left = try FileManager.default.contentsOfDirectory(atPath: session).filter { $0.hasSuffix(".tmp") }
        #expect(left.isEmpty, "\(left)")
        #expect(daemon.log.components(separatedBy: "session 'full': writing").count == 3, "\(daemon.log)")
        #expect(daemon.log.components(separatedBy: "writing resumed").count == 2, "\(daemon.log)")
        #expect(daemon.process.isRunning)
    }

    /// A session stopped while writing is suspended, the disk freed just
    /// before, between two retries: the stop tries a file once more, and it
    /// carries the counts of everything the failure lost, of a client that
    /// left meanwhile too, so `report` shows the drops status shows.
    @Test(.tags(.slow)) func aStopWhileWritingIsSuspendedWritesTheDropsOnceSpaceIsBack() throws {
        let disk = try SmallDisk(taken: 30)
        defer { disk.unmount() }
        let daemon = try TracedDaemon(arguments: ["--state-dir", disk.state])
        defer { daemon.kill() }
        #expect(try daemon.tracectl(["start", "full", "--max-file-size", "1M", "--max-files", "1000"]).status == 0)
        let client = try daemon.client(["threads": "2", "events": "300000", "pause": "10000", "mixed": "1"])
        try daemon.waitUntil("writing failed", seconds: 60) { try Self.writeFailure(daemon) != nil }
        // The client ends (and leaves) while nothing can be written.
        let result = client.wait(seconds: 120)
        #expect(result.status == 0, "\(result.standardError)")
        let emitted = try #require(result.values["emitted"].flatMap(UInt64.init))
        // Cutting the failed file back may have freed a page: taken too, so
        // every retry fails until the stop.
        try disk.fillUp()
        let failedAt = { (try Self.writeFailure(daemon)?["realtimeNanoseconds"] as? NSNumber)?.uint64Value }
        let before = try failedAt()
        try daemon.waitUntil("a retry failed") { try failedAt() != before }
        #expect(try Self.writeFailure(daemon)?["resumed"] as? Bool == false)

        // The next retry is a second away: the stop's own try writes the file.
        try disk.free()
        let stopped = try #require(try daemon.json(["stop", "full"]) as? [String: Any])
        #expect((stopped["writeFailure"] as? [String: Any])?["resumed"] as? Bool == true, "\(stopped)")
        let figures = try SessionFigures(stopped)
        #expect(figures.events + figures.dropped == emitted, "\(figures.events) + \(figures.dropped) != \(emitted)")
        let fetched = disk.directory.file("full.trace")
        #expect(try daemon.tracectl(["fetch", "full", "-o", fetched]).status == 0)
        let tally = try Tally(path: fetched)
        #expect(UInt64(tally.events) == figures.events)
        #expect(tally.diagnostics.allSatisfy { $0.problem == .missingFileEnd }, "\(tally.diagnostics)")
        #expect(tally.processEnds.values.contains(.exited), "the client's end, lost with its drops: \(tally.processEnds)")
        try Self.expectReportDrops(fetched, equal: stopped, daemon)
    }

    /// `report` on `trace` counts the drops the stopped session's status
    /// (`stopped`) counts, in total, by reason, and by client and reason.
    private static func expectReportDrops(_ trace: String, equal stopped: [String: Any], _ daemon: TracedDaemon,
                                          sourceLocation: SourceLocation = #_sourceLocation) throws {
        let figures = try SessionFigures(stopped)
        let byReason = (stopped["dropped"] as? [String: NSNumber] ?? [:]).mapValues(\.uint64Value)
        #expect((byReason["write failed"] ?? 0) > 0, "\(byReason)", sourceLocation: sourceLocation)
        var perClient: Set<String> = []
        for client in figures.clients {
            let pid = (client["pid"] as? NSNumber)?.int32Value ?? 0, name = client["name"] as? String ?? ""
            for (reason, count) in client["dropped"] as? [String: NSNumber] ?? [:] where count.uint64Value > 0 {
                perClient.insert("  pid \(pid) \(name): \(reason) \(count.uint64Value)")
            }
        }
        // Records the kernel collector lost (a busy machine): the files
        // hold them too, as the kernel collector's, in the total.
        let lost = ((stopped["execution"] as? [String: Any])?["lost"] as? NSNumber)?.uint64Value ?? 0
        var all = byReason
        if lost > 0 { all["kernel ring full"] = lost }
        // One walk of a trace of millions of events: the text says it all.
        let result = try daemon.tracectl(["report", trace])
        #expect(result.status == 0, "\(result.standardError)", sourceLocation: sourceLocation)
        let reasons = all.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        let total = "dropped: \(figures.dropped + lost) event(s) (" + reasons.joined(separator: ", ") + ")"
        #expect(result.lines.contains(total), "\(total)\n\(result.standardOutput)", sourceLocation: sourceLocation)
        if figures.clients.count > 1 {
            let shown = Set(result.lines.filter { $0.hasPrefix("  pid ") && $0.contains(": ") })
            #expect(shown == perClient, sourceLocation: sourceLocation)
        }
    }

    /// traced's state directory on a 32 MiB tmpfs, `taken` MiB of it
    /// taken, until `unmount`.
    final class SmallDisk {
        let directory: TemporaryDirectory
        let state: String
        private var fillers: [String]

        init(taken: Int = 24) throws {
            directory = try TemporaryDirectory("traced-full-disk")
            state = directory.file("state")
            #expect(mkdir(state, 0o755) == 0)
            let mounted = try Processes.run("/bin/mount", ["-t", "tmpfs", "-o", "size=32m", "tmpfs", state])
            try #require(mounted.status == 0, "mounting a tmpfs needs root: \(mounted.standardError)")
            fillers = [state + "/filler"]
            #expect(FileManager.default.createFile(atPath: fillers[0], contents: Data(count: taken << 20)))
        }

        func unmount() { _ = try? Processes.run("/bin/umount", ["-l", state]) }

        /// Takes what space is left.
        func fillUp() throws {
            let filler = state + "/filler\(fillers.count)"
            fillers.append(filler)
            let dd = try Processes.run("/bin/dd", ["if=/dev/zero", "of=" + filler, "bs=4k"])
            #expect(dd.standardError.contains("No space left on device"), "\(dd.standardError)")
        }

        /// Gives the space taken back.
        func free() throws {
            for filler in fillers { try FileManager.default.removeItem(atPath: filler) }
            fillers = []
        }
    }

    private static func writeFailure(_ daemon: TracedDaemon) throws -> [String: Any]? {
        let report = try #require(try daemon.json(["status", "full"]) as? [String: Any])
        let session = try #require((report["sessions"] as? [[String: Any]])?.first)
        return session["writeFailure"] as? [String: Any]
    }
}
