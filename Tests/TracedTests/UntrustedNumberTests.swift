import CTraceABI
import Foundation
import TestSupport
import Testing
import TraceFormat
import TraceProtocol
import TraceSystem

/// Numbers from places traced does not control — tracectl options, raw
/// control requests, a client's shared memory — past every sane range:
/// each is refused or marked, and traced keeps serving (issue 8's audit
/// crashed it with each of these).
@Suite(.serialized, .tags(.hostileInput)) struct UntrustedNumberTests {
    @Test func startOptionsPastTheirLimitsAreRefusedNamingTheLimit() throws {
        let daemon = try TracedDaemon()
        let refused: [([String], String)] = [
            (["--duration", "300000d"], "--duration 300000d is past its limit of 365d"),
            (["--max-age", "300000d"], "--max-age 300000d is past its limit of 365d"),
            (["--max-files", "9223372036854775808"], "--max-files must be from 1 to 100000"),
            (["--flight-recorder", "--window-time", "18446744074s"], "--window-time 18446744074s is past its limit of 365d"),
            (["--duration", "1e300s"], "expected a duration"),
            (["--max-file-size", "2T"], "--max-file-size must be from 64K to 1T"),
            (["--max-file-size", "99999999999999999999T"], "--max-file-size must be from 64K to 1T"),
            (["--flight-recorder", "--window", "5G"], "--window must be at most 4G"),
            (["--pid=-1"], "a process id is positive"),
        ]
        for (options, message) in refused {
            let result = try daemon.tracectl(["start", "refused"] + options)
            let usage = message.hasPrefix("expected")
            #expect(result.status == (usage ? 64 : 4), "\(options): \(result.status) \(result.standardError)")
            #expect(result.standardError.contains(message), "\(options): \(result.standardError)")
        }
        // At the limits, accepted.
        #expect(try daemon.tracectl(["start", "longest", "--duration", "365d", "--max-age", "365d", "--max-files", "100000",
                                     "--max-file-size", "1T"]).status == 0)
        #expect(try daemon.tracectl(["start", "oldest", "--flight-recorder", "--window-time", "365d"]).status == 0)
        // A raw request does not pass through tracectl's checks: traced
        // refuses each (code 1, invalid request) and keeps serving.
        var fields: [(String, (inout SessionConfig) -> Void)] = [
            ("maxFiles", { $0.maxFiles = .max }),
            ("durationSeconds", { $0.durationSeconds = .max }),
            ("maxFileAgeSeconds", { $0.maxFileAgeSeconds = .max }),
            ("maxFileSize", { $0.maxFileSize = .max }),
        ]
        fields.append(("windowSeconds", { config in
            config.mode = .flightRecorder
            config.windowSeconds = .max
        }))
        fields.append(("windowBytes", { config in
            config.mode = .flightRecorder
            config.windowBytes = .max
        }))
        for (field, change) in fields {
            var config = SessionConfig()
            change(&config)
            let peer = try RawPeer(daemon.runtime + "/control.sock")
            try peer.send(ControlHello().encode() + ControlRequest.start(name: "raw", config: config).encode())
            let reply = try #require(try peer.reply(), "\(field): closed without a reply")
            #expect(reply.type == .error, "\(field)")
            let error = try Self.error(reply.payload)
            #expect(error.code == ProtocolError.invalidRequest("").code, "\(field): \(error)")
        }
        // Past a tick and a periodic save, traced still serves.
        usleep(1_200_000)
        #expect(daemon.process.isRunning, "\(daemon.log)")
        let names = try #require(try daemon.json(["list"]) as? [[String: Any]]).compactMap { $0["name"] as? String }
        #expect(names == ["longest", "oldest"])
    }

    /// Drop counters no process could reach (summing past 2^64 across
    /// clients, and across reasons of one client) and a chunk claiming
    /// more events than its bytes hold: the clients are marked untrusted,
    /// their counts never become arithmetic that traps, and a well-behaved
    /// client beside them is recorded exactly.
    @Test func impossibleCountersMarkAClientUntrustedAndCrashNothing() throws {
        let daemon = try TracedDaemon()
        let producer = daemon.runtime + "/producer.sock"
        #expect(try daemon.tracectl(["start", "good", "--process", "load-good"]).status == 0)
        let good = try daemon.client(["threads": "2", "events": "50000", "name": "load-good"])
        // Counters set before the session begins are its first reading.
        let early = try GarbageBuffer(producerSocket: producer)
        early.setDropCounter(reason: UInt32(TC_DROP_BUFFER_FULL), to: 1 << 63)
        early.setDropCounter(reason: UInt32(TC_DROP_REENTRANT), to: 1 << 63)
        let rising = try (0..<2).map { _ in try GarbageBuffer(producerSocket: producer) }
        let twoReasons = try GarbageBuffer(producerSocket: producer)
        let claiming = try GarbageBuffer(producerSocket: producer)
        for peer in [early, twoReasons, claiming] + rising { #expect(try peer.peer.reply()?.type == .welcome) }
        #expect(try daemon.tracectl(["start", "everything"]).status == 0)
        // Once the session runs: two clients whose drops add up past 2^64
        // (4db1ffc trapped summing them at the next periodic save), one
        // whose two reasons do (it trapped in the stop's total).
        for peer in rising { peer.setDropCounter(reason: UInt32(TC_DROP_BUFFER_FULL), to: (1 << 63) + 1) }
        twoReasons.setDropCounter(reason: UInt32(TC_DROP_BUFFER_FULL), to: (1 << 63) + 1)
        twoReasons.setDropCounter(reason: UInt32(TC_DROP_REENTRANT), to: (1 << 63) + 1)
        var events = EventEncoding()
        for value in 0..<3 { events.counter(dt: 1, name: 0, value: Int64(value)) }
        claiming.complete(chunk: 0, events: events.writer.bytes, claimedEvents: 4_000_000_000)

        try daemon.waitUntil("five clients marked untrusted") {
            try daemon.session("everything").clients.filter { $0["untrusted"] != nil }.count == 5
        }
        // A periodic save and a few scrapes go by.
        usleep(1_200_000)
        #expect(daemon.process.isRunning, "\(daemon.log)")
        let clients = try daemon.session("everything").clients
        let reasons = clients.compactMap { $0["untrusted"] as? String }.sorted()
        #expect(reasons.count == 5, "\(clients)")
        #expect(reasons.contains("a chunk claimed 4000000000 events in \(events.writer.bytes.count) bytes"), "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("its drop counter for 'buffer full' started at 9223372036854775808") }, "\(reasons)")
        #expect(reasons.filter { $0.hasPrefix("its drop counter for 'buffer full' rose from 0 to 9223372036854775809") }.count == 3,
                "\(reasons)")
        // Frozen at their last plausible reading: nothing of 2^63 shows.
        #expect(try daemon.session("everything").dropped == 0)
        // The liar's events are those its bytes hold.
        let claimed = try #require(clients.first { ($0["untrusted"] as? String)?.contains("claimed") == true })
        #expect((claimed["events"] as? NSNumber)?.uint64Value == 3)
        let text = try daemon.tracectl(["status", "everything"])
        #expect(text.status == 0)
        #expect(text.standardOutput.components(separatedBy: "dropped untrusted (").count == 6, "\(text.standardOutput)")
        #expect(try daemon.tracectl(["list"]).status == 0)

        let result = good.wait()
        #expect(result.status == 0, "\(result.standardError)")
        let emitted = try #require(result.values["emitted"].flatMap(UInt64.init))
        let stopped = try SessionFigures(try daemon.json(["stop", "good"]))
        #expect(stopped.events + stopped.dropped == emitted)
        _ = try daemon.json(["stop", "everything"])
        let everything = daemon.directory.file("everything.trace")
        #expect(try daemon.tracectl(["fetch", "everything", "-o", everything]).status == 0)
        #expect(try Processes.lz4Test(everything).status == 0)
        #expect(try daemon.tracectl(["report", everything]).status == 0)
        #expect(daemon.process.isRunning)
        #expect(daemon.log.contains("its counts cannot be believed"))
    }

    @Test func dropTotalsSumWithoutOverflow() {
        let status = SessionStatus(name: "s", state: .running, mode: .streaming, owner: 0, startedRealtimeNanoseconds: 0,
                                   stoppedRealtimeNanoseconds: 0, events: 0,
                                   dropped: ["buffer full": .max, "reentrant": 5, "metadata lost": .max], bytesRaw: 0,
                                   bytesCompressed: 0, files: 0, filesDeleted: 0, diskBytes: 0, clients: [])
        #expect(status.droppedTotal == .max)
        #expect([UInt64.max, 1].saturatingSum() == .max)
        #expect(Int64(saturating: 1e300) == .max)
        #expect(Int64(saturating: -1e300) == .min)
        #expect(Int64(saturating: .nan) == 0)
        #expect(UInt64(saturating: 18446744073709551616.0) == .max)
        #expect(UInt64(saturating: -1) == 0)
        #expect(Int64(9_223_372_036_854_775_000).saturatingAdd(1000) == .max)
        #expect(UInt64(3).saturatingSubtract(5) == 0)
        #expect(Int64.min.saturatingSubtract(1) == .min)
        #expect(UInt64(1 << 40).saturatingMultiply(1 << 40) == .max)
        #expect(Int64(-(1 << 40)).saturatingMultiply(1 << 40) == .min)
    }

    @Test func sizesAndDurationsParseOneWayAndNeverTrap() {
        // Both sides optional: comparing a UInt64? with a promoted literal
        // made the Testing library read past the literal's slot (an
        // AddressSanitizer report in its AnyHashable conversion).
        let sizes: [(String, UInt64?)] = [
            ("64K", 64 << 10), ("64MB", 64 << 20), ("64MiB", 64 << 20), ("2g", 2 << 30), ("1T", 1 << 40), ("4096", 4096),
            ("99999999999999999999T", Units.maximum), ("9223372036854775808", Units.maximum),
            ("", nil), ("M", nil), ("-1K", nil), ("1.5M", nil), ("64X", nil), ("6 4K", nil), ("iB", nil), ("٣K", nil),
            ("64KiBB", nil),
        ]
        for (text, expected) in sizes { #expect(Units.bytes(text) == expected, "\(text)") }
        // A bare number is seconds everywhere.
        let durations: [(String, UInt64?)] = [
            ("250ms", 250_000_000), ("1.5s", 1_500_000_000), ("2", 2_000_000_000), ("0.01", 10_000_000),
            ("7d", 7 * 86400 * 1_000_000_000), ("300000d", Units.maximum), ("18446744074s", Units.maximum),
            ("", nil), ("s", nil), ("-1s", nil), ("1e30s", nil), ("inf", nil),
            ("nan", nil), ("0x10s", nil), ("1.2.3s", nil), ("5 s", nil), ("5w", nil),
        ]
        for (text, expected) in durations { #expect(Units.nanoseconds(text) == expected, "\(text)") }
        #expect(Units.render(bytes: 64 << 20) == "64M")
        #expect(Units.render(seconds: 365 * 86400) == "365d")
        #expect(Units.render(seconds: 90) == "90s")
    }

    private static func error(_ payload: [UInt8]) throws -> ProtocolError {
        try payload.withUnsafeBytes { bytes in
            var reader = ByteReader(bytes)
            let code = try reader.varint("code")
            return ProtocolError(code: code, message: try reader.string("message", limit: 4096))
        }
    }
}
