import Foundation
import TestSupport
import Testing
import TraceFormat

/// traced's state directory on a small tmpfs that fills up while a client
/// records: what cannot be written is counted as dropped ("write failed"),
/// status shows the failure and its time, no temporary file stays, and
/// recording resumes by itself once space returns. Mounting needs root
/// (CI runs as root).
@Suite(.serialized) struct FullDiskTests {
    @Test(.tags(.slow)) func aFullDiskIsCountedShownCleanedUpAndRecoveredFrom() throws {
        let disk = try TemporaryDirectory("traced-full-disk")
        let state = disk.file("state")
        #expect(mkdir(state, 0o755) == 0)
        let mounted = try Processes.run("/bin/mount", ["-t", "tmpfs", "-o", "size=32m", "tmpfs", state])
        try #require(mounted.status == 0, "mounting a tmpfs needs root: \(mounted.standardError)")
        defer { _ = try? Processes.run("/bin/umount", ["-l", state]) }
        // 24 of the 32 MiB are taken; deleting this gives them back.
        let filler = state + "/filler"
        #expect(FileManager.default.createFile(atPath: filler, contents: Data(count: 24 << 20)))

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

        // Space comes back: a new file is tried within a second and writing goes on.
        try FileManager.default.removeItem(atPath: filler)
        try daemon.waitUntil("writing resumed", seconds: 20) {
            try Self.writeFailure(daemon)?["resumed"] as? Bool == true
        }
        let result = client.wait(seconds: 120)
        #expect(result.status == 0, "\(result.standardError)")
        let emitted = try #require(result.values["emitted"].flatMap(UInt64.init))

        // Every event is either in the files or counted as dropped.
        let stopped = try #require(try daemon.json(["stop", "full"]) as? [String: Any])
        let figures = try SessionFigures(stopped)
        let drops = stopped["dropped"] as? [String: NSNumber] ?? [:]
        #expect((drops["write failed"]?.uint64Value ?? 0) > 0, "\(drops)")
        #expect(figures.events + figures.dropped == emitted, "\(figures.events) + \(figures.dropped) != \(emitted)")
        let fetched = disk.file("full.trace")
        #expect(try daemon.tracectl(["fetch", "full", "-o", fetched]).status == 0)
        #expect(try Processes.lz4Test(fetched).status == 0)
        let tally = try Tally(path: fetched)
        #expect(UInt64(tally.events) == figures.events)
        #expect(tally.violations.isEmpty)
        // The file cut at the failure has no end record: that is all a reader notes.
        #expect(tally.diagnostics.allSatisfy { $0.problem == .missingFileEnd }, "\(tally.diagnostics)")

        // Nothing temporary is left, and the failure was logged once, its end once.
        let session = state + "/sessions/full"
        let left = try FileManager.default.contentsOfDirectory(atPath: session).filter { $0.hasSuffix(".tmp") }
        #expect(left.isEmpty, "\(left)")
        #expect(daemon.log.components(separatedBy: "session 'full': writing").count == 3, "\(daemon.log)")
        #expect(daemon.log.components(separatedBy: "writing resumed").count == 2, "\(daemon.log)")
        #expect(daemon.process.isRunning)
    }

    private static func writeFailure(_ daemon: TracedDaemon) throws -> [String: Any]? {
        let report = try #require(try daemon.json(["status", "full"]) as? [String: Any])
        let session = try #require((report["sessions"] as? [[String: Any]])?.first)
        return session["writeFailure"] as? [String: Any]
    }
}
