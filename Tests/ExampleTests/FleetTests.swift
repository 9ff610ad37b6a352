import Foundation
import TestSupport
import Testing

/// A fleet in miniature: three test hosts (network namespaces joined by a
/// bridge, each with a host name of its own), made by the test. Hosts A and
/// B each run their own traced and one instance of the Hummingbird example;
/// Arize Phoenix runs on C. A request enters A's service, which asks B's
/// (`--inventory`) with its `traceparent`; each traced sends its own spans
/// to Phoenix, which holds the request as one trace across both hosts.
@Suite(.serialized, .tags(.example)) struct FleetTests {
    /// The test's hosts: a bridge in this namespace (`.1`) and one
    /// namespace per host, each on a veth to the bridge.
    final class Hosts {
        let prefix: String
        let subnet: String
        let bridge: String
        private(set) var names: [String] = []

        init() throws {
            let id = String(getpid() % 100_000)
            prefix = "tf\(id)"
            bridge = "tfbr\(id)"
            subnet = "10.\(200 + Int(getpid() % 50)).\(Int(getpid() / 50 % 250)).0"
            try Self.ip(["link", "add", bridge, "type", "bridge"])
            try Self.ip(["addr", "add", address(1) + "/24", "dev", bridge])
            try Self.ip(["link", "set", bridge, "up"])
        }

        func address(_ host: Int) -> String { subnet.split(separator: ".").prefix(3).joined(separator: ".") + ".\(host)" }

        /// Makes host number `number` (its address ends in it).
        func add(_ number: Int) throws -> String {
            let name = "\(prefix)h\(number)"
            names.append(name)
            try Self.ip(["netns", "add", name])
            try Self.ip(["link", "add", "\(name)a", "type", "veth", "peer", "name", "\(name)b"])
            try Self.ip(["link", "set", "\(name)a", "netns", name])
            try Self.ip(["link", "set", "\(name)b", "master", bridge])
            try Self.ip(["link", "set", "\(name)b", "up"])
            try Self.ip(["-n", name, "addr", "add", address(number) + "/24", "dev", "\(name)a"])
            try Self.ip(["-n", name, "link", "set", "\(name)a", "up"])
            try Self.ip(["-n", name, "link", "set", "lo", "up"])
            return name
        }

        /// Runs a command on host `name`, under the host name `hostName`.
        func launcher(_ name: String, hostName: String) -> [String] {
            ["/usr/sbin/ip", "netns", "exec", name, "/usr/bin/unshare", "--uts", "/usr/bin/sh", "-c",
             "hostname \(hostName) && exec \"$0\" \"$@\""]
        }

        deinit {
            for name in names {
                _ = try? Processes.run("/usr/sbin/ip", ["link", "del", "\(name)b"])
                _ = try? Processes.run("/usr/sbin/ip", ["netns", "del", name])
            }
            _ = try? Processes.run("/usr/sbin/ip", ["link", "del", bridge])
        }

        static func ip(_ arguments: [String]) throws {
            let result = try Processes.run("/usr/sbin/ip", arguments)
            guard result.status == 0 else { throw Failure(description: "ip \(arguments.joined(separator: " ")): \(result.standardError)") }
        }

        struct Failure: Error, CustomStringConvertible {
            var description: String
        }
    }

    @Test func aRequestAcrossTwoHostsIsOneTraceInTheBackend() throws {
        guard FileManager.default.isExecutableFile(atPath: HummingbirdExampleTests.server) else {
            Issue.record("the example server is not built: no executable '\(HummingbirdExampleTests.server)'")
            return
        }
        let hosts = try Hosts()
        let (a, b, c) = (try hosts.add(2), try hosts.add(3), try hosts.add(4))
        let phoenix = try Phoenix(launcher: hosts.launcher(c, hostName: "host-c"), host: hosts.address(4))

        var daemons: [TracedDaemon] = []
        var servers: [Background] = []
        defer { for server in servers where server.isRunning { server.kill(SIGKILL) } }
        for (name, hostName, inventory) in [(b, "host-b", nil), (a, "host-a", "http://\(hosts.address(3)):8080")] {
            let daemon = try TracedDaemon(launcher: hosts.launcher(name, hostName: hostName))
            let started = try daemon.tracectl(["start", "fleet", "--no-exec", "--otlp", phoenix.endpoint])
            try #require(started.status == 0, "\(started.standardError)")
            let server = try Background("/usr/sbin/ip", ["netns", "exec", name, HummingbirdExampleTests.server, "--host", "0.0.0.0",
                                                          "--port", "8080"] + (inventory.map { ["--inventory", $0] } ?? []),
                                        environment: daemon.clientEnvironment)
            servers.append(server)
            try #require(server.waitForOutput { $0.contains { $0.hasPrefix("listening on 0.0.0.0:8080") } },
                         "the server on \(hostName) did not listen: \(server.standardError)")
            daemons.append(daemon)
        }
        // Until both traced have their server registered (the first span connects).
        for (daemon, address) in zip(daemons, [hosts.address(3), hosts.address(2)]) {
            let registered = try eventually(20) {
                _ = try Processes.run("/usr/bin/curl", ["-sf", "http://\(address):8080/health"])
                return try daemon.tracectl(["status", "fleet"]).standardOutput.contains("hummingbird-ord")
            }
            try #require(registered, "a server never registered with its traced: \(daemon.log)")
        }

        let answer = try Processes.run("/usr/bin/curl", ["-sf", "http://\(hosts.address(2)):8080/orders/5"])
        #expect(answer.status == 0 && answer.standardOutput.contains("\"id\":5"), "\(answer.standardOutput) \(answer.standardError)")

        for server in servers {
            server.kill(SIGTERM)
            #expect(server.wait(seconds: 20).status == 0)
        }
        var made = 0
        for daemon in daemons {
            #expect(try daemon.tracectl(["stop", "fleet"]).status == 0)
            let status = try #require(try daemon.json(["status", "fleet"]) as? [String: Any])
            let otlp = ((status["sessions"] as? [[String: Any]])?.first?["otlp"] as? [String: Any]) ?? [:]
            #expect(otlp["sent"] as? Int == otlp["spans"] as? Int && (otlp["dropped"] as? [String: Any] ?? [:]).isEmpty, "\(otlp)")
            made += otlp["spans"] as? Int ?? 0
        }

        var spans: [[String: Any]] = []
        #expect(try eventually(60) {
            spans = try phoenix.spans()
            return spans.count >= made
        }, "Phoenix holds \(spans.count) of \(made) spans")
        // The request on A: "/orders/{id}" with loadOrder, checkInventory and
        // fingerprintOrder under it; on B, the inventory's "/orders/{id}"
        // under A's checkInventory, with its own loadOrder and fingerprintOrder.
        let check = try #require(spans.first { $0["name"] as? String == "checkInventory" })
        let trace = try #require(check["trace_id"] as? String)
        let oneTrace = spans.filter { $0["trace_id"] as? String == trace }
        let requests = oneTrace.filter { $0["name"] as? String == "/orders/{id}" }
        #expect(requests.count == 2, "\(oneTrace.map { $0["name"] ?? "" })")
        let entry = try #require(requests.first { ($0["parent_span_id"] as? String ?? "").isEmpty })
        let inventory = try #require(requests.first { $0["parent_span_id"] as? String == check["span_id"] as? String })
        #expect(check["parent_span_id"] as? String == entry["span_id"] as? String)
        func children(_ span: [String: Any]) -> [String] {
            oneTrace.filter { $0["parent_span_id"] as? String == span["span_id"] as? String }.compactMap { $0["name"] as? String }.sorted()
        }
        #expect(children(entry) == ["checkInventory", "fingerprintOrder", "loadOrder"])
        #expect(children(inventory) == ["fingerprintOrder", "loadOrder"])
        #expect(oneTrace.count == 7)
    }
}
