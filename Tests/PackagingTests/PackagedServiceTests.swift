import Foundation
import TestSupport
import Testing

/// The .deb `scripts/package` builds, installed with dpkg into a container
/// booted with the real systemd (Tests/Tools/systemd-box), and used as an
/// administrator and users would: socket activation, an unprivileged
/// traced, a DynamicUser service traced end to end by a member of
/// `tracing`, a user outside it refused, reload, restart and stop in the
/// middle of sessions, structured journal fields, and a purge that leaves
/// nothing behind; execution events by `--unit` (PackagedExecutionTests.swift).
/// Needs root (CI runs as root); where the container cannot boot, it fails
/// saying why.
@Suite(.serialized, .tags(.container)) struct PackagedServiceTests {
    static let alice = "alice"  // in group tracing
    static let bob = "bob"      // not

    @Test func thePackageUnderARealSystemd() throws {
        let box = try Self.bootedWithThePackage()

        // Installed: users made, sockets listening, traced not yet running.
        #expect(try box.run("getent", "passwd", "traced").status == 0)
        #expect(try box.run("getent", "group", "tracing").status == 0)
        #expect(try box.run("systemctl", "is-active", "traced-producer.socket", "traced-control.socket").lines == ["active", "active"])
        #expect(try box.run("systemctl", "is-active", "traced.service").lines == ["inactive"])

        // Started through socket activation, as user traced.
        try box.run("systemctl", "start", "traced").requireSuccess("systemctl start traced")
        let firstPID = try mainPID(box)
        #expect(try box.run("ps", "-o", "user=", "-p", String(firstPID)).lines == ["traced"])
        #expect(try box.run("journalctl", "-u", "traced", "-o", "cat").standardOutput
            .contains("listening on /run/traced/producer.sock and /run/traced/control.sock (socket activation)"))
        let daemon = try daemonStatus(box)
        #expect(daemon["runtimeDirectory"] as? String == "/run/traced")
        #expect(daemon["stateDirectory"] as? String == "/var/lib/traced")
        #expect(try box.run("stat", "-c", "%U:%G %a", "/run/traced/control.sock", "/run/traced/producer.sock", "/var/lib/traced").lines
            == ["root:tracing 660", "root:root 666", "traced:traced 700"])

        // A DynamicUser service traced end to end by a member of tracing.
        try box.run(as: Self.alice, "tracectl", "start", "s1").requireSuccess("tracectl start s1")
        try box.run("systemd-run", "--quiet", "--unit", "cafe1", "-p", "DynamicUser=yes", "--wait",
                    "/usr/local/bin/cafe", "--orders", "300", "--wait-for-tracing", "10").requireSuccess("the cafe service")
        try box.run(as: Self.alice, "tracectl", "stop", "s1").requireSuccess("tracectl stop s1")
        try box.run(as: Self.alice, "tracectl", "fetch", "s1", "-o", "/home/alice/s1.trace").requireSuccess("tracectl fetch s1")
        try box.run(as: Self.alice, "lz4", "-t", "/home/alice/s1.trace").requireSuccess("lz4 -t")
        #expect(try taskCount(box, "/home/alice/s1.trace") == 300)
        let status = try sessionStatus(box, "s1")
        #expect(status["owner"] as? Int == Int(try box.run("id", "-u", Self.alice).lines.first ?? ""))

        // Outside tracing: refused, and told what to do.
        let refused = try box.run(as: Self.bob, "tracectl", "list")
        #expect(refused.status == 77)
        #expect(refused.standardError.contains("usermod -aG tracing"), "\(refused.standardError)")

        // Warnings carry structured fields: a process that sends garbage on
        // the producer socket is named by CLIENT_PID.
        let garbage = try box.run(as: Self.bob, "python3", "-c", """
            import os, socket
            print(os.getpid(), flush=True)
            s = socket.socket(socket.AF_UNIX)
            s.connect("/run/traced/producer.sock")
            s.sendall(b"\\xff" * 64)
            s.recv(16)
            """)
        let garbagePID = try #require(garbage.lines.first, "\(garbage.standardError)")
        #expect(eventuallyJournal(box, ["CLIENT_PID=\(garbagePID)"]) { $0["PRIORITY"] as? String == "4" } != nil)

        // reload applies a changed setting: a disk quota that the stopped
        // session s1 is over, so traced deletes it, saying so with SESSION=.
        try box.shell("echo 'disk_quota = 1K' >> /etc/traced/traced.conf").requireSuccess("editing traced.conf")
        try box.run("systemctl", "reload", "traced").requireSuccess("systemctl reload traced")
        #expect(try daemonStatus(box)["diskQuota"] as? Int == 1024)
        let deleted = eventuallyJournal(box, ["SESSION=s1"]) { ($0["MESSAGE"] as? String ?? "").contains("deleted stopped session") }
        #expect(deleted?["PRIORITY"] as? String == "4")
        #expect(try box.run(as: Self.alice, "tracectl", "status", "s1").status == 3)
        try box.shell("sed -i '/^disk_quota = 1K$/d' /etc/traced/traced.conf && systemctl reload traced").requireSuccess("restoring traced.conf")
        #expect(try daemonStatus(box)["diskQuota"] as? Int == 1 << 30)

        // restart in the middle of a session: the service's process
        // registers again, and the interrupted session stays fetchable.
        try box.run(as: Self.alice, "tracectl", "start", "long").requireSuccess("tracectl start long")
        try box.run("systemd-run", "--quiet", "--unit", "cafe2", "-p", "DynamicUser=yes",
                    "/usr/local/bin/cafe", "--orders", "100000000").requireSuccess("the long cafe service")
        #expect(eventually(20) { ((try? sessionStatus(box, "long"))?["events"] as? Int ?? 0) > 0 })
        try box.run("systemctl", "restart", "traced").requireSuccess("systemctl restart traced")
        let secondPID = try mainPID(box)
        #expect(secondPID != firstPID)
        #expect(eventually(20) { ((try? daemonStatus(box))?["clients"] as? Int ?? 0) == 1 }, "cafe did not register again")
        let long = try sessionStatus(box, "long")
        #expect(long["state"] as? Int == 2, "\(long)")  // stopped: traced finished it on SIGTERM
        try box.run(as: Self.alice, "tracectl", "fetch", "long", "-o", "/home/alice/long.trace").requireSuccess("tracectl fetch long")
        try box.run(as: Self.alice, "lz4", "-t", "/home/alice/long.trace").requireSuccess("lz4 -t long.trace")
        #expect(try taskCount(box, "/home/alice/long.trace") > 0)
        // The process that registered again is traced by a new session.
        try box.run(as: Self.alice, "tracectl", "start", "after").requireSuccess("tracectl start after")
        #expect(eventually(20) { ((try? sessionStatus(box, "after"))?["events"] as? Int ?? 0) > 0 })

        // stop finishes the running session's files.
        try box.run("systemctl", "stop", "cafe2").requireSuccess("systemctl stop cafe2")
        try box.run("systemctl", "stop", "traced").requireSuccess("systemctl stop traced")
        #expect(try box.run("systemctl", "is-active", "traced.service").lines == ["inactive"])
        let files = try box.shell("ls /var/lib/traced/sessions/after/*.trace").lines
        #expect(!files.isEmpty)
        for file in files {
            #expect(try box.run("lz4", "-t", file).status == 0, "\(file) is not a complete LZ4 file")
        }
        #expect(try box.run("journalctl", "-u", "traced", "-o", "cat").standardOutput.contains("stopping: finishing 1 running session(s)"))
        // (The next tracectl starts traced again through its socket.)
        #expect(try sessionStatus(box, "after")["state"] as? Int == 2)

        // purge: no process, no file, no unit, no user left.
        try box.run("dpkg", "--purge", "traced").requireSuccess("dpkg --purge traced")
        #expect(try box.run("pgrep", "-x", "traced").status == 1)
        for path in ["/var/lib/traced", "/etc/traced", "/run/traced", "/usr/bin/traced", "/usr/bin/tracectl",
                     "/lib/systemd/system/traced.service", "/usr/lib/sysusers.d/traced.conf"] {
            #expect(try box.run("test", "-e", path).status == 1, "\(path) is left after purge")
        }
        #expect(try box.shell("ls /etc/systemd/system/*/traced* /var/lib/systemd/deb-systemd-helper-enabled/*traced* 2>/dev/null").lines == [])
        #expect(try box.run("systemctl", "list-unit-files", "--no-legend", "traced*").lines == [])
        #expect(try box.run("getent", "passwd", "traced").status == 2)
        #expect(try box.run("getent", "group", "tracing").status == 2)
    }

    /// A container with the package installed (dpkg -i), the users alice
    /// (in `tracing`) and bob (not), and cafe in /usr/local/bin.
    static func bootedWithThePackage() throws -> SystemdBox {
        let package = try builtPackage()
        let box = try SystemdBox()
        try FileManager.default.copyItem(atPath: package, toPath: box.share.file("traced.deb"))
        try FileManager.default.copyItem(atPath: Processes.executable("cafe"), toPath: box.share.file("cafe"))
        try box.run("dpkg", "-i", "/share/traced.deb").requireSuccess("dpkg -i")
        try box.shell("""
            useradd -m -G tracing \(alice) && useradd -m \(bob) && install -m 755 /share/cafe /usr/local/bin/cafe
            """).requireSuccess("adding users")
        return box
    }

    /// The .deb `scripts/package` left in .build/package.
    static func builtPackage() throws -> String {
        let directory = TraceReaders.repositoryRoot + "/.build/package"
        let debs = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".deb") }
        guard let deb = debs.first, debs.count == 1 else {
            throw SystemdBox.Failed(description: "expected one .deb in \(directory), found \(debs): run scripts/package first (scripts/test does)")
        }
        return directory + "/" + deb
    }

    func mainPID(_ box: SystemdBox) throws -> Int {
        let pid = Int(try box.run("systemctl", "show", "-p", "MainPID", "--value", "traced").lines.first ?? "") ?? 0
        try #require(pid > 0, "traced.service has no main process")
        return pid
    }

    func statusJSON(_ box: SystemdBox, _ arguments: [String]) throws -> [String: Any] {
        let result = try box.run(["setpriv", "--reuid", Self.alice, "--regid", Self.alice, "--init-groups", "--reset-env",
                                  "tracectl", "status", "--json"] + arguments)
        try result.requireSuccess("tracectl status")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    }

    func daemonStatus(_ box: SystemdBox) throws -> [String: Any] {
        try #require(try statusJSON(box, [])["daemon"] as? [String: Any])
    }

    func sessionStatus(_ box: SystemdBox, _ name: String) throws -> [String: Any] {
        let sessions = try #require(try statusJSON(box, [name])["sessions"] as? [[String: Any]])
        return try #require(sessions.first)
    }

    /// makeCappuccino tasks in `trace` by `tracectl report --json`.
    func taskCount(_ box: SystemdBox, _ trace: String) throws -> Int {
        let report = try box.run(as: Self.alice, "tracectl", "report", trace, "--json")
        try report.requireSuccess("tracectl report")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.standardOutput.utf8)) as? [String: Any])
        let tasks = try #require(json["tasks"] as? [[String: Any]])
        return tasks.first { $0["type"] as? String == "makeCappuccino" }?["count"] as? Int ?? 0
    }

    /// The first entry of traced's journal matching `matches` for which
    /// `accept` holds, waiting up to 10 s for it.
    func eventuallyJournal(_ box: SystemdBox, _ matches: [String], accept: ([String: Any]) -> Bool) -> [String: Any]? {
        var found: [String: Any]?
        _ = eventually(10) {
            let result = try? box.run(["journalctl", "-u", "traced", "-o", "json", "--no-pager"] + matches)
            for line in result?.lines ?? [] {
                if let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], accept(entry) {
                    found = entry
                    return true
                }
            }
            return false
        }
        return found
    }
}

extension ProcessResult {
    /// Fails the test with what the command said unless it exited 0.
    @discardableResult
    func requireSuccess(_ what: String) throws -> ProcessResult {
        try #require(status == 0, "\(what) failed (\(status)): \(standardOutput)\(standardError)")
        return self
    }
}
