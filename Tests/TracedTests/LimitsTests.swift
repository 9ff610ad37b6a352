import Foundation
import TestSupport
import Testing
import TraceProtocol

/// What any local user can do at will is bounded: control connections per
/// uid and in all, how long one may idle, and how much traced logs about
/// input it refuses.
@Suite(.serialized, .tags(.hostileInput)) struct LimitsTests {
    @Test func idleControlConnectionsAreCappedPerUserAndClosedInTime() throws {
        let daemon = try TracedDaemon()
        let control = daemon.runtime + "/control.sock"
        // Half say hello and then nothing, half say nothing at all.
        let idle = try (0..<16).map { index in
            let peer = try RawPeer(control)
            if index % 2 == 0 { try peer.send(ControlHello().encode()) }
            return peer
        }
        // The user's next connection is refused, with a reason tracectl shows.
        let refused = try daemon.tracectl(["list"])
        #expect(refused.status == 4, "\(refused.standardError)")
        #expect(refused.standardError.contains("has 16 connections to traced open, the limit"), "\(refused.standardError)")
        // Each idle one is closed once its 5 s to send a request are over.
        let start = Date()
        for peer in idle { #expect(try peer.reply(seconds: 10) == nil) }
        #expect(Date().timeIntervalSince(start) > 4)
        // traced logs the closing after it closed: the line may trail the
        // peers' end of file (it did, once, in a busy CI run).
        try daemon.waitUntil("the closings logged", seconds: 10) { daemon.log.contains("sent no request within 5 s") }
        #expect(try daemon.tracectl(["list"]).status == 0)
    }

    @Test(.tags(.slow)) func badProducerInputIsLoggedTenTimesPerTenSecondsThenCounted() throws {
        let daemon = try TracedDaemon()
        let producer = daemon.runtime + "/producer.sock"
        for _ in 0..<200 {
            let peer = try RawPeer(producer)
            try peer.send([0, 0, 0, 0])
            #expect(try peer.reply() == nil)
        }
        let lines = daemon.log.split(separator: "\n").filter { $0.contains("on the producer socket; closing its connection") }
        #expect(lines.count == 10, "\(lines.count) lines")
        #expect(eventually(15) { daemon.log.contains("190 similar message(s) about bad producer input suppressed in the last 10 s") },
                "\(daemon.log)")
        #expect(daemon.process.isRunning)
    }
}
