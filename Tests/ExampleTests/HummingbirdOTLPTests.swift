import Foundation
import TestSupport
import Testing

/// The Hummingbird example under wrk while its session sends spans to a
/// real OpenTelemetry backend, Arize Phoenix: Phoenix ends up holding
/// exactly the requests the session's files hold, route by route, with their
/// child spans under them and the trace id of the requests that came with a
/// `traceparent`.
@Suite(.serialized, .tags(.example)) struct HummingbirdOTLPTests {
    static let menuTrace = "0af7651916cd43dd8448eb211c80319c"
    static let menuParent = "b7ad6b7169203331"

    /// `wrk` for `seconds` against `path`; the requests it completed.
    static func wrk(_ port: Int, _ path: String, seconds: Int, headers: [String] = []) throws -> Int {
        let arguments = ["-t1", "-c2", "-d\(seconds)s"] + headers.flatMap { ["-H", $0] } + ["http://127.0.0.1:\(port)\(path)"]
        let result = try Processes.run("/usr/bin/wrk", arguments)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(!result.standardOutput.contains("Non-2xx"), "\(result.standardOutput)")
        let line = result.lines.first { $0.contains(" requests in ") } ?? ""
        return Int(line.split(separator: " ").first ?? "") ?? -1
    }

    @Test func wrkLoadLandsInPhoenixExactlyAsTheSessionsFilesHoldIt() throws {
        guard FileManager.default.isExecutableFile(atPath: HummingbirdExampleTests.server) else {
            Issue.record("the example server is not built: no executable '\(HummingbirdExampleTests.server)'")
            return
        }
        let phoenix = try Phoenix()
        let daemon = try TracedDaemon()
        let started = try daemon.tracectl(["start", "fleet", "--no-exec", "--otlp", phoenix.endpoint])
        try #require(started.status == 0, "\(started.standardError)")
        let (server, http) = try HummingbirdExampleTests.serve(daemon, session: "fleet")
        defer { if server.isRunning { server.kill(SIGKILL) } }
        let port = http.port

        let menus = try Self.wrk(port, "/menu", seconds: 2, headers: ["traceparent: 00-\(Self.menuTrace)-\(Self.menuParent)-01"])
        let orders = try Self.wrk(port, "/orders/3", seconds: 1)
        #expect(menus > 0 && orders > 0)

        server.kill(SIGTERM)
        #expect(server.wait(seconds: 20).status == 0)
        try #require(try daemon.tracectl(["stop", "fleet"]).status == 0)
        let trace = daemon.directory.file("fleet.trace")
        try #require(try daemon.tracectl(["fetch", "fleet", "-o", trace]).status == 0)
        let report = try #require(try daemon.json(["report", trace]) as? [String: Any])
        #expect(report["droppedEvents"] as? Int == 0)
        let tasks = HummingbirdExampleTests.counts(report["tasks"])
        // wrk counts the responses it read; the server may have answered a
        // few more as wrk closed its connections.
        let recordedMenus = tasks["/menu"] ?? 0, recordedOrders = tasks["/orders/{id}"] ?? 0
        #expect(recordedMenus >= menus && recordedMenus <= menus + 2, "wrk \(menus), files \(recordedMenus)")
        #expect(recordedOrders >= orders && recordedOrders <= orders + 2, "wrk \(orders), files \(recordedOrders)")

        // Everything was sent: nothing dropped on the way.
        let status = try #require(try daemon.json(["status", "fleet"]) as? [String: Any])
        let session = (status["sessions"] as? [[String: Any]])?.first { $0["name"] as? String == "fleet" }
        let otlp = try #require(session?["otlp"] as? [String: Any])
        let made = otlp["spans"] as? Int ?? -1
        #expect(otlp["sent"] as? Int == made && (otlp["dropped"] as? [String: Any] ?? [:]).isEmpty, "\(otlp)")

        // Phoenix stores what it takes a moment later.
        var spans: [[String: Any]] = []
        #expect(try eventually(60) {
            spans = try phoenix.spans()
            return spans.count >= made
        }, "Phoenix holds \(spans.count) of \(made) spans")
        var names: [String: Int] = [:]
        for span in spans { names[span["name"] as? String ?? "", default: 0] += 1 }
        #expect(names["/menu"] == recordedMenus && names["sortMenu"] == recordedMenus, "\(names)")
        #expect(names["/orders/{id}"] == recordedOrders && names["loadOrder"] == recordedOrders
                && names["fingerprintOrder"] == recordedOrders, "\(names)")
        #expect(spans.count == made)

        // The menu requests continue the caller's trace, under its span;
        // every child span is under a request span of its own trace.
        let menuSpans = spans.filter { $0["name"] as? String == "/menu" }
        #expect(menuSpans.allSatisfy { $0["trace_id"] as? String == Self.menuTrace && $0["parent_span_id"] as? String == Self.menuParent })
        let orderSpans = spans.filter { $0["name"] as? String == "/orders/{id}" }
        #expect(Set(orderSpans.compactMap { $0["trace_id"] as? String }).count == recordedOrders)
        var requests: [String: String] = [:]  // span id: trace id
        for span in menuSpans + orderSpans { requests[span["span_id"] as? String ?? ""] = span["trace_id"] as? String }
        for name in ["sortMenu", "loadOrder", "fingerprintOrder"] {
            let children = spans.filter { $0["name"] as? String == name }
            #expect(children.allSatisfy { child in
                requests[child["parent_span_id"] as? String ?? ""] == child["trace_id"] as? String
            }, "\(name)")
        }
    }
}
