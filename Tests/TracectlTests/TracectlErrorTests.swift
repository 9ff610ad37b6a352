import Foundation
import Testing
import TestSupport
import TraceProtocol
import TraceSystem

/// tracectl's failures name the socket or session, say what to do, and
/// exit with the documented status (docs/protocol.md, "tracectl exit
/// statuses").
@Suite(.tags(.hostileInput)) struct TracectlErrorTests {
    @Test func noDaemonSaysHowToStartOne() throws {
        let directory = try TemporaryDirectory("no-daemon")
        for arguments in [["list"], ["status"], ["start", "s"], ["stop", "s"], ["fetch", "s", "-o", directory.file("s.trace")]] {
            let result = try Processes.run(Processes.executable("tracectl"), arguments, environment: ["TRACED_RUNTIME_DIR": directory.path])
            #expect(result.status == 69, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains("'\(directory.path)/control.sock'"), "\(result.standardError)")
            #expect(result.standardError.contains("systemctl start traced"), "\(result.standardError)")
            #expect(result.standardOutput.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("s.trace")))
    }

    @Test func anOrdinaryUserWithoutTheirOwnTracedReachesTheSystemOne() throws {
        // No traced of their own (nothing in /tmp/traced-65534): tracectl,
        // like a client, goes to the system's socket.
        let result = try Processes.run("/usr/bin/setpriv", [
            "--reuid=65534", "--regid=65534", "--clear-groups", Processes.executable("tracectl"), "list",
        ], environment: ["TRACED_RUNTIME_DIR": "", "XDG_RUNTIME_DIR": ""])
        #expect(result.standardError.contains("'/run/traced/control.sock'"), "\(result.standardError)")
        #expect([69, 77].contains(result.status))
    }

    @Test func aStaleSocketOfTheirOwnSendsAnOrdinaryUserToTheSystemTraced() throws {
        // Their own traced was killed: its socket file is there, and
        // refuses connections. tracectl (and a client, by the same code)
        // goes on to the system's socket.
        let directory = try TemporaryDirectory("stale-socket")
        let own = directory.file("traced")
        try FileManager.default.createDirectory(atPath: own, withIntermediateDirectories: false)
        try UnixSocket.listen(path: own + "/control.sock").close()
        for path in [directory.path, own, own + "/control.sock"] { chmod(path, 0o777) }
        let result = try Processes.run("/usr/bin/setpriv", [
            "--reuid=65534", "--regid=65534", "--clear-groups", Processes.executable("tracectl"), "list",
        ], environment: ["TRACED_RUNTIME_DIR": "", "XDG_RUNTIME_DIR": directory.path])
        #expect(result.standardError.contains("'/run/traced/control.sock'"), "\(result.standardError)")
        #expect([69, 77].contains(result.status))
    }

    @Test func anUnknownSessionPointsAtTheList() throws {
        let daemon = try TracedDaemon(arguments: ["--flight-recorder-memory", "5G"])
        for arguments in [["stop", "nosuch"], ["status", "nosuch"], ["fetch", "nosuch", "-o", daemon.directory.file("x.trace")]] {
            let result = try daemon.tracectl(arguments)
            #expect(result.status == 3, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains("no session 'nosuch' (list them with `tracectl list`)"), "\(result.standardError)")
        }
        #expect(!FileManager.default.fileExists(atPath: daemon.directory.file("x.trace")))
        // A name taken is refused with its own status.
        #expect(try daemon.tracectl(["start", "twice"]).status == 0)
        let again = try daemon.tracectl(["start", "twice"])
        #expect(again.status == 4)
        #expect(again.standardError.contains("a session 'twice' already exists"), "\(again.standardError)")
        // A window traced would have to hold in memory past 4 GiB.
        let huge = try daemon.tracectl(["start", "huge", "--flight-recorder", "--window", "5G"])
        #expect(huge.status == 4, "\(huge.standardError)")
        #expect(huge.standardError.contains("--window must be at most 4G"), "\(huge.standardError)")
        #expect(try daemon.tracectl(["start", "huge", "--flight-recorder", "--window", "4G"]).status == 0)
        // All windows together stay under flight_recorder_memory (5G here).
        #expect(try daemon.tracectl(["start", "small", "--flight-recorder", "--window", "1G"]).status == 0)
        let over = try daemon.tracectl(["start", "over", "--flight-recorder", "--window", "64K"])
        #expect(over.status == 4, "\(over.standardError)")
        #expect(over.standardError.contains("running flight recorders hold windows of 5G in traced's memory; a 64K window would pass flight_recorder_memory (5G)"), "\(over.standardError)")
        // A streaming session holds no window; a stopped recorder frees its.
        #expect(try daemon.tracectl(["start", "streaming"]).status == 0)
        #expect(try daemon.tracectl(["stop", "small"]).status == 0)
        #expect(try daemon.tracectl(["start", "over", "--flight-recorder", "--window", "64K"]).status == 0)
    }

    @Test func someoneOutsideTheTracingGroupIsToldToJoinIt() throws {
        let daemon = try TracedDaemon()
        // The directories are open to everyone; the control socket is not.
        for path in [daemon.directory.path, daemon.runtime] { chmod(path, 0o755) }
        let result = try Processes.run("/usr/bin/setpriv", [
            "--reuid=65534", "--regid=65534", "--clear-groups", Processes.executable("tracectl"), "list",
        ], environment: ["TRACED_RUNTIME_DIR": daemon.runtime])
        #expect(result.status == 77, "\(result.standardError)")
        #expect(result.standardError.contains("permission denied on '\(daemon.runtime)/control.sock'"), "\(result.standardError)")
        #expect(result.standardError.contains("usermod -aG tracing"), "\(result.standardError)")
        // The producer socket stays open to any process.
        let producer = try #require(try FileManager.default.attributesOfItem(atPath: daemon.runtime + "/producer.sock")[.posixPermissions] as? Int)
        #expect(producer & 0o006 == 0o006)
    }
}

extension TracectlErrorTests {
    /// Replies grow with every client a session ever had, far past the
    /// 64 KiB a request may take: tracectl reads them whole. The peer is
    /// this test, answering a stop as traced would (it takes traced 20,000
    /// client processes to get there).
    @Test func aReplyLargerThanARequestMayBeIsRead() throws {
        let directory = try TemporaryDirectory("big-reply")
        let listener = try UnixSocket.listen(path: directory.file("control.sock"))
        defer { listener.close() }
        let clients = (0..<20_000).map {
            SessionStatus.Client(pid: Int32($0 + 2), name: "worker-\($0)", connected: false, events: UInt64($0),
                                 dropped: [:], bytes: UInt64($0) * 8)
        }
        let status = SessionStatus(
            name: "many", state: .stopped, mode: .streaming, owner: 0, startedRealtimeNanoseconds: 1,
            stoppedRealtimeNanoseconds: 2, events: 199_990_000, dropped: [:], bytesRaw: 0, bytesCompressed: 0,
            files: 1, filesDeleted: 0, diskBytes: 0, clients: clients)
        let reply = ControlReply.stopped(status).encode()
        #expect(reply.count > 4 * Frame.controlLimit)

        let tracectl = try Background(Processes.executable("tracectl"), ["stop", "many", "--json"],
                                      environment: ["TRACED_RUNTIME_DIR": directory.path])
        var peer: FileDescriptor?
        #expect(try eventually(10) {
            peer = try UnixSocket.accept(listener)
            return peer != nil
        })
        let connection = try #require(peer)
        defer { connection.close() }
        try connection.setNonBlocking(false)
        // The hello and the request, then the reply in one go.
        _ = try UnixSocket.receive(on: connection, capacity: 4096, maxDescriptors: 0)
        try connection.writeAll(reply)
        let result = tracectl.wait()
        #expect(result.status == 0, "\(result.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let listed = try #require(object["clients"] as? [[String: Any]])
        #expect(listed.count == 20_000)
        #expect(listed.last?["name"] as? String == "worker-19999")
    }
}
