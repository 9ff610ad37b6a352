import CTraceABI
import Foundation
import TestSupport
import Testing
import TraceFormat
import TraceProtocol
import TraceSystem

/// Broken and hostile peers on both sockets, and a client whose shared
/// buffer fills with garbage, while a well-behaved client is traced: traced
/// answers each with an error or a closed connection, and the good
/// client's trace is exact.
@Suite(.serialized, .tags(.hostileInput)) struct HostileInputTests {
    @Test func malformedMessagesAndAGarbageBufferLeaveTracedServingEveryoneElse() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "good", "--process", "load-good"]).status == 0)
        #expect(try daemon.tracectl(["start", "everything"]).status == 0)
        let good = try daemon.client(["threads": "2", "events": "50000", "name": "load-good", "mixed": "1"])

        let producer = daemon.runtime + "/producer.sock"
        var random = SeededGenerator(seed: 7)
        try Self.expectClosedOr(.refused, sending: Self.brokenProducerMessages(&random), to: producer)
        for (what, hello, descriptors, expected) in try Self.refusedHellos() {
            let peer = try RawPeer(producer)
            try peer.send(hello, descriptors: descriptors)
            for descriptor in descriptors { descriptor.close() }
            let reply: RawPeer.Reply = try #require(try peer.reply(), "\(what): closed without a reason")
            let refused = reply.type == .refused
            #expect(refused, "\(what)")
            let text = reply.text
            #expect(text.contains(expected), "\(what): \(text)")
        }
        // Half a message, then gone.
        try RawPeer(producer).send(Array(Hello(abiMajor: 1, abiMinor: 0, processName: "half", bufferSize: 1 << 20).encode().prefix(6)))

        let control = daemon.runtime + "/control.sock"
        try Self.expectClosedOr(.error, sending: Self.brokenControlMessages(&random), to: control)

        // A registered client that scribbles over its whole buffer.
        let garbage = try GarbageBuffer(producerSocket: producer)
        let welcome: MessageType? = try garbage.peer.reply()?.type
        #expect(welcome == .welcome)
        for _ in 0..<40 {
            garbage.scribble(using: &random)
            usleep(20_000)
        }
        try daemon.waitUntil("traced counted the garbage") {
            let clients: [[String: Any]] = try daemon.session("everything").clients
            return clients.contains { (client: [String: Any]) -> Bool in ((client["malformed"] as? NSNumber)?.uint64Value ?? 0) > 0 }
        }

        // Everyone else was served: the good client's trace is exact.
        let result = good.wait()
        #expect(result.status == 0, "\(result.standardError)")
        let emitted = try #require(result.values["emitted"].flatMap(UInt64.init))
        let stopped = try SessionFigures(try daemon.json(["stop", "good"]))
        #expect(stopped.events + stopped.dropped == emitted)
        let path = daemon.directory.file("good.trace")
        #expect(try daemon.tracectl(["fetch", "good", "-o", path]).status == 0)
        let tally = try Tally(path: path)
        #expect(tally.diagnostics.isEmpty, "\(tally.diagnostics)")
        #expect(tally.violations.isEmpty)
        #expect(UInt64(tally.events) == stopped.events)
        #expect(Array(tally.perProcess.keys) == [good.pid])

        // The session that took the garbage client in still finishes into a
        // file every reader accepts.
        _ = try daemon.json(["stop", "everything"])
        let everything = daemon.directory.file("everything.trace")
        #expect(try daemon.tracectl(["fetch", "everything", "-o", everything]).status == 0)
        #expect(try Processes.lz4Test(everything).status == 0)
        #expect(try Tally(path: everything).perProcess[good.pid] != nil)
        #expect(daemon.process.isRunning)
        #expect(daemon.log.contains("failed validation"))
    }

    /// A registered client writes a chunk whose last event is timed 2^62 ns
    /// (146 years) after the one before, beside a well-behaved client:
    /// traced records it as written (it reads no times), and `report` on
    /// the fetched trace keeps the session's duration, counts the one event
    /// and has every other (docs/analysis.md, "Timestamps outside the session").
    @Test func aTimestampScribbledIntoABufferIsCountedAndLeftOutOfTheReport() throws {
        let daemon = try TracedDaemon()
        // Without execution events, the report's events are the clients'.
        #expect(try daemon.tracectl(["start", "scribbled", "--no-exec"]).status == 0)
        let liar = try GarbageBuffer(producerSocket: daemon.runtime + "/producer.sock")
        #expect(try liar.peer.reply()?.type == .welcome)
        let good = try daemon.client(["threads": "2", "events": "20000", "name": "load-good"])
        var events = EventEncoding()
        events.counter(dt: 0, name: 0, value: 1)
        events.counter(dt: 1000, name: 0, value: 2)
        events.counter(dt: 1 << 62, name: 0, value: 3)
        liar.complete(chunk: 0, events: events.bytes, claimedEvents: 3)
        try daemon.waitUntil("traced took the liar's chunk") {
            try daemon.session("scribbled").clients.contains { ($0["events"] as? NSNumber)?.uint64Value == 3 }
        }
        let result = good.wait()
        #expect(result.status == 0, "\(result.standardError)")
        let stopped = try SessionFigures(try daemon.json(["stop", "scribbled"]))
        let path = daemon.directory.file("scribbled.trace")
        let fetched = try daemon.tracectl(["fetch", "scribbled", "-o", path])
        #expect(fetched.status == 0, "\(fetched.standardError)")

        let report = try daemon.tracectl(["report", "--json", path])
        #expect(report.status == 0, "\(report.standardError)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(report.standardOutput.utf8)) as? [String: Any])
        let trace = try #require(document["trace"] as? [String: Any])
        // Was 146 years; the session took a few seconds.
        let duration = (trace["duration"] as? NSNumber)?.int64Value ?? -1
        #expect(duration > 0 && duration < 60_000_000_000, "\(duration) ns")
        #expect((trace["events"] as? NSNumber)?.uint64Value == stopped.events - 1)
        let problems = (document["diagnostics"] as? [[String: Any]] ?? []).compactMap { $0["problem"] as? String }
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.hasPrefix("1 event(s) of process ") == true, "\(problems)")
        #expect(problems.first?.hasSuffix(" timed more than 120 s outside the session's clock syncs left out of the timeline "
                                          + "(scribbled timestamps)") == true, "\(problems)")
        let text = try daemon.tracectl(["report", path]).standardOutput
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("warning: ") }.count == 1, "\(text)")
    }

    /// A stream socket may deliver a hello in pieces; its descriptors come
    /// with the first one and wait for the rest.
    @Test func aHelloInTwoPiecesIsWelcomed() throws {
        let daemon = try TracedDaemon()
        for split in [1, 5, 9] {
            let client = try GarbageBuffer(producerSocket: daemon.runtime + "/producer.sock", splitAt: split)
            let reply = try #require(try client.peer.reply(), "split at \(split): closed")
            #expect(reply.type == .welcome, "split at \(split): \(reply.text)")
        }
    }

    @Test func silentConnectionsAreBoundedAndDoNotHoldTracedUp() throws {
        let daemon = try TracedDaemon()
        let producer = daemon.runtime + "/producer.sock"
        // A user's connections without a hello are capped...
        let silent = try (0..<16).map { _ in try RawPeer(producer) }
        let oneTooMany = try RawPeer(producer)
        #expect(try oneTooMany.reply(seconds: 5) == nil)
        #expect(eventually(5) { daemon.log.contains("producer connections without a hello") }, "\(daemon.log)")
        // ...and closed when no hello came in time (5 s).
        for peer in silent { #expect(try peer.reply(seconds: 10) == nil) }
        #expect(eventually(5) { daemon.log.contains("sent no hello within 5 s") }, "\(daemon.log)")
        // Then the user's clients register as usual.
        #expect(try daemon.tracectl(["start", "after"]).status == 0)
        let client = try daemon.client(["threads": "1", "events": "1000"])
        #expect(client.wait().values["emitted"] == "1000")
        #expect(try SessionFigures(try daemon.json(["stop", "after"])).events == 1000)

        // A control connection that never asks anything does not keep a
        // stopping traced from exiting.
        let idle = try RawPeer(daemon.runtime + "/control.sock")
        try idle.send(ControlHello().encode())
        daemon.process.kill(SIGTERM)
        #expect(daemon.process.wait(seconds: 10).status == 0, "\(daemon.log)")
        #expect(try idle.reply(seconds: 1) == nil)
    }

    /// Sends each message on a fresh connection to `socket`: traced must
    /// close it, or answer with `allowed` (a refusal or an error), nothing else.
    private static func expectClosedOr(_ allowed: MessageType, sending messages: [(String, [UInt8])], to socket: String) throws {
        for (what, bytes) in messages {
            let peer = try RawPeer(socket)
            try peer.send(bytes)
            // An undefined type counts as a wrong answer (.hello is never one).
            let answer: MessageType? = try peer.reply().map { $0.type ?? .hello }
            let closedOrAllowed = answer == nil || answer == allowed
            #expect(closedOrAllowed, "\(what): \(String(describing: answer))")
        }
    }

    /// Messages no producer may send: each must close the connection (or
    /// get a refusal), never more.
    private static func brokenProducerMessages(_ random: inout SeededGenerator) -> [(String, [UInt8])] {
        let noise: [UInt8] = (0..<512).map { _ in UInt8.random(in: 0...255, using: &random) }
        let ack = ControlAck(sequence: 1).encode()
        let fullHello: [UInt8] = Hello(abiMajor: 1, abiMinor: 0, processName: "x", bufferSize: 1 << 20).encode()
        let truncatedHello = frame(type: MessageType.hello.rawValue, Array(fullHello[5..<7]))
        var messages: [(String, [UInt8])] = []
        messages.append(("random bytes", noise))
        messages.append(("a length of 4 GiB", [0xff, 0xff, 0xff, 0xff, 0x01]))
        messages.append(("a message over the producer limit",
                         frame(type: MessageType.hello.rawValue, [UInt8](repeating: 0, count: Frame.producerLimit + 1))))
        messages.append(("a zero length", [0, 0, 0, 0]))
        messages.append(("an acknowledgement before any hello", ack))
        messages.append(("a goodbye before any hello", Goodbye(reason: .exiting).encode()))
        messages.append(("a hello cut short", truncatedHello))
        messages.append(("an unknown message type", frame(type: 0x7f, [1, 2, 3])))
        messages.append(("a reply type from a producer", frame(type: MessageType.welcome.rawValue, [0, 0, 0])))
        return messages
    }

    /// Hellos that are well-formed messages but must be refused, with the
    /// words the refusal must contain.
    private static func refusedHellos() throws -> [(String, [UInt8], [FileDescriptor], String)] {
        func buffer(_ size: Int) throws -> FileDescriptor { try SharedMemory.create(name: "hostile", size: size) }
        let plainFile = try FileDescriptor.open("/proc/self/exe", O_RDONLY)
        let megabyte = 1 << 20
        func hello(abi: UInt64 = UInt64(TC_ABI_MAJOR), size: Int = megabyte, protocolVersion: UInt64 = ProtocolVersion.producer) -> [UInt8] {
            var message = Hello(abiMajor: abi, abiMinor: 0, processName: "hostile", bufferSize: UInt64(size))
            message.protocolVersion = protocolVersion
            return message.encode()
        }
        func notifier() throws -> FileDescriptor { try EventNotifier.create().descriptor }
        var hellos: [(String, [UInt8], [FileDescriptor], String)] = []
        hellos.append(("no descriptors", hello(), [], "2 descriptors"))
        hellos.append(("an ABI from the future", hello(abi: 99), [try buffer(megabyte), try notifier()], "ABI 99"))
        hellos.append(("a protocol from the future", hello(protocolVersion: 42), [try buffer(megabyte), try notifier()], "protocol 42"))
        hellos.append(("a file instead of a memfd", hello(), [plainFile, try notifier()], "sealed memfd"))
        hellos.append(("a size that is not the buffer's", hello(size: 2 * megabyte), [try buffer(megabyte), try notifier()], "the hello said"))
        hellos.append(("a buffer over the limit", hello(size: 1 << 30), [try buffer(1 << 30), try notifier()], "limit"))
        hellos.append(("a pipe instead of an eventfd", hello(), [try buffer(megabyte), try pipeEnd()], "not an eventfd"))
        hellos.append(("a header that is not a buffer", hello(), [try buffer(megabyte), try notifier()], "refused"))
        return hellos
    }

    /// Requests no tracectl sends: each must get an error reply or a
    /// closed connection.
    private static func brokenControlMessages(_ random: inout SeededGenerator) -> [(String, [UInt8])] {
        let hello: [UInt8] = ControlHello().encode()
        let noise: [UInt8] = (0..<2048).map { _ in UInt8.random(in: 0...255, using: &random) }
        var future = ControlHello()
        future.protocolVersion = 9
        var messages: [(String, [UInt8])] = []
        messages.append(("random bytes", noise))
        messages.append(("a length over the control limit", [0x01, 0x00, 0x10, 0x00, MessageType.start.rawValue]))
        messages.append(("a request before the hello", frame(type: MessageType.list.rawValue, [])))
        messages.append(("a hello from the future", future.encode()))
        let afterHello: [(String, [UInt8])] = [
            ("a start whose config is garbage", frame(type: MessageType.start.rawValue, Array(noise.prefix(300)))),
            ("a stop of a name that is not a string", frame(type: MessageType.stop.rawValue, [0xff, 0xff, 0xff, 0xff, 0x0f])),
            ("a reply type as a request", frame(type: MessageType.sessions.rawValue, [0])),
            ("an unknown request", frame(type: 0x7e, [])),
            ("a start with a path in its name", ControlRequest.start(name: "../../etc", config: SessionConfig()).encode()),
        ]
        for (what, request) in afterHello { messages.append((what, hello + request)) }
        return messages
    }

    private static func frame(type: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count + 1)
        return withUnsafeBytes(of: length.littleEndian, Array.init) + [type] + payload
    }

    private static func pipeEnd() throws -> FileDescriptor {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw SystemError("pipe") }
        close(ends[1])
        return FileDescriptor(rawValue: ends[0])
    }
}
