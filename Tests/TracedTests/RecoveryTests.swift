import Foundation
import TestSupport
import Testing

/// traced killed while a session records: the session it finds at restart
/// counts what its files hold, not what it last saved (up to a second
/// older than the kill).
@Suite(.serialized) struct RecoveryTests {
    @Test(.tags(.slow)) func anInterruptedSessionCountsTheEventsItsFilesHold() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "cut", "--max-file-size", "1M", "--max-files", "1000"]).status == 0)
        let clients = try (0..<2).map { _ in try daemon.client(["threads": "2", "forever": "1"]) }
        for client in clients { #expect(client.progress(atLeast: 300_000) != nil) }
        // At least one periodic save with events, then more written after it.
        let saved = daemon.state + "/sessions/cut/session.json"
        #expect(eventually { Self.savedEvents(saved) > 0 })
        let before = Self.savedEvents(saved)
        #expect(eventually { Self.savedEvents(saved) > before })
        usleep(500_000)
        daemon.kill()
        let savedAtKill = Self.savedEvents(saved)
        try daemon.restart()

        let listed = try #require(try daemon.json(["list"]) as? [[String: Any]])
        let recovered = try #require(listed.first { $0["name"] as? String == "cut" })
        #expect(recovered["state"] as? Int == 3)
        let events = (recovered["events"] as? NSNumber)?.uint64Value ?? 0
        let fetched = daemon.directory.file("cut.trace")
        #expect(try daemon.tracectl(["fetch", "cut", "-o", fetched]).status == 0)
        let tally = try Tally(path: fetched)
        #expect(tally.diagnostics.allSatisfy { $0.problem == .missingFileEnd }, "\(tally.diagnostics)")
        #expect(events == UInt64(tally.events), "recovered \(events), the files hold \(tally.events), saved \(savedAtKill)")
        #expect(events > savedAtKill)
        // Per client too.
        let perClient = try #require(recovered["clients"] as? [[String: Any]])
        var byPid: [Int32: Int] = [:]
        for client in perClient {
            let pid = (client["pid"] as? NSNumber)?.int32Value ?? 0
            byPid[pid, default: 0] += (client["events"] as? NSNumber)?.intValue ?? 0
        }
        #expect(byPid == tally.perProcess)
        for client in clients { client.kill(SIGKILL) }
    }

    private static func savedEvents(_ path: String) -> UInt64 {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)),
              let record = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return 0 }
        return ((record["status"] as? [String: Any])?["events"] as? NSNumber)?.uint64Value ?? 0
    }
}
