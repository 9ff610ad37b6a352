import Foundation
import Testing
import TestSupport

/// tracectl's failures name the socket or session, say what to do, and
/// exit with the documented status (docs/protocol.md, "tracectl exit
/// statuses").
@Suite struct TracectlErrorTests {
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

    @Test func anUnknownSessionPointsAtTheList() throws {
        let daemon = try TracedDaemon()
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
