import Foundation
import TestSupport
import Testing

/// The shipped units and config, and traced under systemd's protocols:
/// socket activation with named descriptors, sd_notify readiness.
@Suite(.serialized) struct SystemdTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func theUnitsVerifyCleanly() throws {
        let directory = try TemporaryDirectory("units")
        let units = ["traced.service", "traced-producer.socket", "traced-control.socket"]
        for unit in units {
            var text = try String(contentsOfFile: Self.repository + "/systemd/" + unit, encoding: .utf8)
            // verify wants ExecStart to exist.
            text = text.replacingOccurrences(of: "/usr/bin/traced", with: Processes.executable("traced"))
            try text.write(toFile: directory.file(unit), atomically: true, encoding: .utf8)
        }
        let result = try Processes.run("/usr/bin/systemd-analyze", ["verify", "--man=no"] + units.map(directory.file))
        #expect(result.status == 0)
        // Unknown keys and bad values are only warnings: none may appear.
        #expect(result.standardError.isEmpty, "\(result.standardError)")
    }

    /// systemd's own measure of the service's sandbox: at most 1.0 (it
    /// was 1.5 running as root; docs/design.md, "Running as a service",
    /// says what each remaining item is for).
    @Test func theServiceIsExposedAtMostOnePointZero() throws {
        let directory = try TemporaryDirectory("units")
        var text = try String(contentsOfFile: Self.repository + "/systemd/traced.service", encoding: .utf8)
        text = text.replacingOccurrences(of: "/usr/bin/traced", with: Processes.executable("traced"))
        try text.write(toFile: directory.file("traced.service"), atomically: true, encoding: .utf8)
        let result = try Processes.run("/usr/bin/systemd-analyze", ["security", "--offline=yes", "--no-pager", directory.file("traced.service")])
        let line = try #require(result.lines.first { $0.contains("Overall exposure level") }, "\(result.standardOutput)\(result.standardError)")
        let score = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)")
        #expect(score <= 1.0, "\(result.standardOutput)")
        // What counts against it is what design.md explains: nothing else.
        let counted = result.lines.filter { $0.hasPrefix("✗") }.compactMap { $0.dropFirst(2).split(separator: " ").first.map(String.init) }
        // AmbientCapabilities= and @debug (perf_event_open): CAP_PERFMON
        // for execution events ("Who may record what").
        #expect(Set(counted) == ["RootDirectory=/RootImage=", "RestrictAddressFamilies=~AF_UNIX", "ProtectProc=", "PrivateUsers=", "DeviceAllow=",
                                 "AmbientCapabilities=", "SystemCallFilter=~@debug"],
                "\(result.standardOutput)")
    }

    @Test func theShippedConfigIsTheDefaultsKeyForKey() throws {
        let path = Self.repository + "/config/traced.conf"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        // Every key is documented commented out at its default: uncommented,
        // the file must still be accepted (for the keys whose default does
        // not depend on the user).
        let uncommented = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("#"), line.contains(" = "), !line.hasPrefix("# "),
                  !line.hasPrefix("#runtime_directory"), !line.hasPrefix("#state_directory") else { return String(line) }
            return String(line.dropFirst())
        }.joined(separator: "\n")
        let directory = try TemporaryDirectory("config")
        try uncommented.write(toFile: directory.file("traced.conf"), atomically: true, encoding: .utf8)
        let keys = uncommented.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains(" = ") }
        #expect(keys.count == 15, "\(keys)")
        let checked = try Processes.run(Processes.executable("traced"), ["--config", directory.file("traced.conf"), "--check-config"])
        #expect(checked.status == 0, "\(checked.standardError)")
        // And the values are the built-in ones.
        let defaults = try Processes.run(Processes.executable("traced"), ["--config", "/dev/null", "--print-config"])
        for key in keys {
            #expect(defaults.standardOutput.split(separator: "\n").contains(key), "\(key) is not traced's default:\n\(defaults.standardOutput)")
        }
    }

    @Test func aBadConfigFailsNamingFileLineAndProblem() throws {
        let directory = try TemporaryDirectory("bad-config")
        let cases: [(String, String)] = [
            ("max_clients = 10\n# fine\nlog_level = loud\n", ":3: log_level must be error, warning, notice, info or debug, not 'loud'"),
            ("disk_quota = lots\n", ":1: disk_quota must be a size like 64K, 16M or 2G, not 'lots'"),
            ("\n\nmax_buffer_size\n", ":3: expected `key = value`, found 'max_buffer_size'"),
            ("stop_timout = 1s\n", ":1: unknown key 'stop_timout'"),
            ("state_directory = relative/path\n", ":1: state_directory must be an absolute path"),
            // Out of range: refused naming the limit, never converted.
            ("drain_interval = 300000d\n", ":1: drain_interval must be at most 1s, not '300000d'"),
            ("stop_timeout = 99999999999999999999999h\n", ":1: stop_timeout must be at most 10m, not '99999999999999999999999h'"),
            ("max_buffer_size = 2G\n", ":1: max_buffer_size must be at most 1G, not '2G'"),
            ("disk_quota = 99999999999T\n", ":1: disk_quota must be at most 1048576T, not '99999999999T'"),
            ("max_clients = 99999999999999999999\n", ":1: max_clients must be a positive number"),
            ("max_sessions = 100000\n", ":1: max_sessions must be at most 4096, not '100000'"),
            ("otlp_endpoint = localhost:4318\n", ":1: otlp_endpoint 'localhost:4318' is not an http or https URL"),
            ("kernel_ring_size = 5K\n", ":1: kernel_ring_size must be a power of two from 4K, like 512K or 16M, not '5K'"),
            ("otlp_compression = zstd\n", ":1: otlp_compression must be gzip or none, not 'zstd'"),
            ("kernel_ring_size = 512M\n", ":1: kernel_ring_size must be at most 256M, not '512M'"),
            ("scrape_interval = 0.1ms\n", ":1: scrape_interval must be a duration of at least 1ms"),
            // A bare duration is seconds here too, as in tracectl and systemd.
            ("drain_interval = 2\n", ":1: drain_interval must be at most 1s, not '2'"),
        ]
        for (text, expected) in cases {
            let path = directory.file("traced.conf")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try Processes.run(Processes.executable("traced"),
                                           ["--config", path, "--runtime-dir", directory.file("run"), "--state-dir", directory.file("state")])
            #expect(result.status == 1)
            #expect(result.standardError.contains(path + expected), "\(result.standardError)")
            #expect(!FileManager.default.fileExists(atPath: directory.file("run")), "traced started despite the bad config")
        }
    }

    @Test func sighupReloadsWhatCanChangeAndKeepsTheRest() throws {
        let directory = try TemporaryDirectory("reload")
        let config = directory.file("traced.conf")
        try "log_level = info\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try TracedDaemon(arguments: ["--config", config])
        func reload(_ text: String, _ count: Int) throws {
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            daemon.process.kill(SIGHUP)
            try daemon.waitUntil("reload \(count)") { daemon.log.components(separatedBy: "configuration reloaded").count == count + 1 }
        }
        try reload("log_level = debug\ndrain_interval = 50ms\ncontrol_group = nogroup\n", 1)
        // The file names a new control group (the control socket's, a
        // restart's business); a flag names the state directory (flags win,
        // also on reload, so it does not count as a change).
        #expect(daemon.log.contains("control_group cannot change without a restart"), "\(daemon.log)")
        #expect(!daemon.log.contains("state_directory"))
        // The new drain interval paces the timer at once: a client writing
        // a million events a second is drained every 50 ms, not every 10.
        #expect(!daemon.log.contains("drain_interval cannot change"))
        #expect(try daemon.tracectl(["start", "slower"]).status == 0)
        let busy = try daemon.client(["threads": "1", "forever": "1"])
        #expect(busy.waitFor(line: "enabled=true"))
        usleep(200_000)
        let woke = try SessionTests.wakeUps(of: daemon.process.pid, over: 1)
        #expect(woke <= 40, "at drain_interval = 50ms traced woke \(woke) times in 1 s for a busy client (at 10 ms: ~100)")
        busy.kill(SIGKILL)
        _ = busy.wait()
        #expect(try daemon.tracectl(["stop", "slower"]).status == 0)
        // The new buffer limit applies: a default 4 MiB client is refused, with the reason.
        try reload("log_level = debug\nmax_buffer_size = 1M\n", 2)
        #expect(try daemon.tracectl(["start", "after-reload"]).status == 0)
        let client = try daemon.client(["threads": "1", "events": "10", "wait": "2"])
        let result = client.wait()
        #expect(result.status == 3)
        #expect(result.standardError.contains("exceeds traced's limit of 1 MiB"), "\(result.standardError)")
        // A broken file on reload keeps the running configuration.
        try "log_level = loud\n".write(toFile: config, atomically: true, encoding: .utf8)
        daemon.process.kill(SIGHUP)
        try daemon.waitUntil("the refused reload") { daemon.log.contains(config + ":1: log_level must be") }
        #expect(try daemon.tracectl(["list"]).status == 0)
    }

    @Test func socketActivationWithNamedDescriptorsAndReadiness() throws {
        let directory = try TemporaryDirectory("activation")
        let run = directory.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let notify = try NotifySocket(path: directory.file("notify"))
        let log = directory.file("traced.log")
        let activator = try Spawned("/usr/bin/systemd-socket-activate", [
            "-l", run + "/producer.sock", "-l", run + "/control.sock", "--fdname=producer:control",
            "-E", "NOTIFY_SOCKET=" + notify.path,
            Processes.executable("traced"), "--runtime-dir", run, "--state-dir", directory.file("state"),
        ], environment: [:], log: log)
        defer { if activator.isRunning { activator.kill() } }
        var logged: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: run + "/control.sock") && activator.isRunning && Date() < deadline { usleep(10_000) }
        let environment = ["TRACED_RUNTIME_DIR": run]
        let list = try Processes.run(Processes.executable("tracectl"), ["list"], environment: environment)
        #expect(list.status == 0, "\(list.standardError) \(logged)")
        let messages = notify.receive(until: { $0.contains("READY=1") }, seconds: 10)
        #expect(messages.contains { $0.contains("READY=1") }, "\(messages)")
        #expect(logged.contains("(socket activation)"), "\(logged)")
        #expect(try Processes.run(Processes.executable("tracectl"), ["start", "activated"], environment: environment).status == 0)
        let client = try Background(Processes.executable("TraceFixture"), ["load", "--threads", "1", "--events", "1000"],
                                    environment: environment.merging(["TRACED_DAEMON": "on"]) { $1 })
        let result = client.wait()
        #expect(result.values["emitted"] == "1000", "\(result.standardError)")
        let status = try Processes.run(Processes.executable("tracectl"), ["stop", "activated"], environment: environment)
        #expect(status.standardOutput.contains("events 1000, dropped none"), "\(status.standardOutput)")
        let exitStatus = activator.kill(SIGTERM)
        #expect(exitStatus == 0, "traced exited with wait status \(exitStatus): \(logged)")
        let stopping = notify.receive(until: { $0.contains("STOPPING=1") }, seconds: 10)
        #expect(stopping.contains { $0.contains("STOPPING=1") }, "\(stopping)")
        // systemd's sockets are not traced's to remove: their units keep
        // listening and start traced again.
        for socket in ["producer.sock", "control.sock"] {
            #expect(FileManager.default.fileExists(atPath: run + "/" + socket), "traced removed \(socket)")
        }
    }
}

/// The datagram socket systemd listens on for sd_notify messages, played
/// by the test.
final class NotifySocket {
    let path: String
    private let descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard descriptor >= 0, bound == 0 else { throw DaemonFailure(log: "cannot bind \(path): errno \(errno)") }
    }

    deinit { close(descriptor) }

    /// Messages received until one satisfies `done`, or `seconds` pass.
    func receive(until done: (String) -> Bool, seconds: Double) -> [String] {
        var messages: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 100) > 0 else { continue }
            let n = recv(descriptor, &buffer, buffer.count, 0)
            guard n > 0 else { continue }
            let message = String(decoding: buffer[0..<n], as: UTF8.self)
            messages.append(message)
            if done(message) { break }
        }
        return messages
    }
}
