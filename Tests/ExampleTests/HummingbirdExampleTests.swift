import Foundation
import TestSupport
import Testing

/// The Hummingbird example (Examples/hummingbird-orders) as a client of a
/// real traced: known requests with known counts, some carrying a W3C
/// `traceparent`, then the trace checked task by task, region by region,
/// log by log. scripts/test builds the example first (debug).
@Suite(.serialized, .tags(.example)) struct HummingbirdExampleTests {
    /// Where scripts/test builds the example's server (debug);
    /// HUMMINGBIRD_ORDERS overrides it.
    static var server: String {
        if let path = ProcessInfo.processInfo.environment["HUMMINGBIRD_ORDERS"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.path + "/Examples/hummingbird-orders/.build/debug/hummingbird-orders"
    }

    /// The two requests that continue another process's trace.
    static let orderTrace = "0af7651916cd43dd8448eb211c80319c"
    static let orderParent = "b7ad6b7169203331"
    static let postTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let postParent = "00f067aa0ba902b7"

    @Test func everyRequestIsATaskOfItsRouteWithItsSpansLogsAndTraceIds() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.server) else {
            Issue.record("""
                the example server is not built: no executable '\(Self.server)' \
                (build it with `cd Examples/hummingbird-orders && swift build`, as scripts/test does)
                """)
            return
        }
        let daemon = try TracedDaemon()
        let started = try daemon.tracectl(["start", "orders"])
        try #require(started.status == 0, "\(started.standardError)")
        let (server, http) = try Self.serve(daemon, session: "orders")
        defer { if server.isRunning { server.kill(SIGKILL) } }

        for _ in 0..<5 { #expect(try http.get("/menu").status == 200) }
        for id in 1...4 { #expect(try http.get("/orders/\(id)").status == 200) }
        let postedItems = [2, 3, 1]
        for count in postedItems {
            #expect(try http.post("/orders", items: count).status == 201)
        }
        let fromAnotherProcess = "00-\(Self.orderTrace)-\(Self.orderParent)-01"
        #expect(try http.get("/orders/7", traceparent: fromAnotherProcess).status == 200)
        #expect(try http.post("/orders", items: 2, traceparent: "00-\(Self.postTrace)-\(Self.postParent)-01").status == 201)

        // A request's span ends after its response is written, so the server
        // is stopped (gracefully) first: then every span has ended, and traced
        // drains what an exited client left before the session stops.
        server.kill(SIGTERM)
        let exit = server.wait(seconds: 20)
        #expect(exit.status == 0, "the server's exit: \(exit.status) \(exit.standardError.suffix(2000))")
        let stopped = try daemon.tracectl(["stop", "orders"])
        try #require(stopped.status == 0, "\(stopped.standardError)")
        let trace = daemon.directory.file("orders.trace")
        try #require(try daemon.tracectl(["fetch", "orders", "-o", trace]).status == 0)
        #expect(try Processes.lz4Test(trace).status == 0)

        let report = try #require(try daemon.json(["report", trace]) as? [String: Any])
        let tasks = Self.counts(report["tasks"])
        let dump = try daemon.tracectl(["dump", trace])
        try #require(dump.status == 0, "\(dump.standardError)")
        // Every request is one task: its route is its span's `http.route`
        // attribute (a /health warm-up may have been recorded too).
        var routes: [String: Int] = [:]
        for line in dump.lines {
            guard let attribute = line.range(of: "[span.attribute] http.route=") else { continue }
            routes[String(line[attribute.upperBound...].prefix { $0 != " " }), default: 0] += 1
        }
        let warmUps = routes.removeValue(forKey: "/health") ?? 0
        #expect(routes == ["/menu": 5, "/orders/{id}": 5, "/orders": 4], "routes: \(routes)")
        #expect(tasks.filter { $0.key != "reserveItem" }.values.reduce(0, +) == 14 + warmUps, "task types: \(tasks)")
        // Each posted item is reserved by a child Swift task: a subtask.
        #expect(tasks["reserveItem"] == postedItems.reduce(0, +) + 2)
        // Hummingbird's TracingMiddleware names its span after the route
        // once the handler has run; the rename (a `task.type` log) types the
        // request's task by its route.
        #expect(tasks["/menu"] == 5, "task types: \(tasks)")
        #expect(tasks["/orders/{id}"] == 5, "task types: \(tasks)")
        #expect(tasks["/orders"] == 4, "task types: \(tasks)")
        let regions = Self.counts(report["regions"])
        #expect(regions == ["sortMenu": 5, "loadOrder": 5, "fingerprintOrder": 9, "chargePayment": 4], "regions: \(regions)")
        let logs = Self.counts(report["logs"], key: "category")
        // menu served ×5, loading order ×5, order received ×4, order created ×4.
        #expect(logs["hummingbird-orders"] == 18, "log categories: \(logs)")

        // The requests with a traceparent: their tasks continue those traces,
        // and carry their spans' ids, their parent and their log lines.
        let contexts = dump.lines.filter { $0.contains("[trace.context]") }
        let order = contexts.filter { $0.contains("00-\(Self.orderTrace)-") }
        #expect(order.count == 3, "task, loadOrder, fingerprintOrder: \(order)")
        #expect(order.filter { $0.contains("parent=\(Self.orderParent)") }.count == 1)
        let posted = contexts.filter { $0.contains("00-\(Self.postTrace)-") }
        #expect(posted.count == 5, "task, 2 × reserveItem, chargePayment, fingerprintOrder: \(posted)")
        // Every other request began a trace of its own: one id per request
        // (the /health warm-ups included), the two above among them.
        let traceIDs = Set(contexts.compactMap { line in
            line.range(of: "00-").map { String(line[$0.upperBound...].prefix(32)) }
        })
        #expect(traceIDs.count == 14 + warmUps, "\(traceIDs.count) trace ids")
        #expect(traceIDs.isSuperset(of: [Self.orderTrace, Self.postTrace]))

        // A route is a type `tasks` selects by, though no event names it
        // (only the rename log does).
        let slowestMenu = try #require(try daemon.json(["tasks", trace, "--type", "/menu", "--slowest", "2"]) as? [[String: Any]])
        #expect(slowestMenu.map { $0["type"] as? String } == ["/menu", "/menu"])
        // tracectl tasks --trace-id finds each of them, whole.
        let orderTrees = try Self.trees(daemon, trace, traceID: Self.orderTrace)
        #expect(orderTrees.count == 1)
        #expect(orderTrees.map { $0["type"] as? String } == ["/orders/{id}"])
        if let tree = orderTrees.first {
            #expect(Self.types(tree["regions"]) == ["loadOrder", "fingerprintOrder"])
            let messages = (tree["logs"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
            #expect(messages.contains { $0.hasPrefix("[info] loading order") && $0.contains("order=7") }, "\(messages)")
        }
        let postTrees = try Self.trees(daemon, trace, traceID: Self.postTrace)
        #expect(postTrees.count == 1)
        #expect(postTrees.map { $0["type"] as? String } == ["/orders"])
        if let tree = postTrees.first {
            #expect(Self.types(tree["children"]) == ["reserveItem", "reserveItem"])
            #expect(Self.types(tree["regions"]) == ["chargePayment", "fingerprintOrder"])
        }
    }

    /// type (or `key`) → count, from the report's JSON rows.
    /// The example's server as a client of `daemon`, on a port of its
    /// choosing, once `session` has it: the first span connects the
    /// process, so /health until traced has it registered (those requests
    /// are tasks of their own: tests count without them).
    static func serve(_ daemon: TracedDaemon, session: String) throws -> (Background, HTTP) {
        let server = try Background(Self.server, ["--port", "0"], environment: daemon.clientEnvironment)
        guard server.waitForOutput(until: { $0.contains { $0.hasPrefix("listening on 127.0.0.1:") } }) else {
            server.kill(SIGKILL)
            throw HTTPFailure(description: "the server did not listen: \(server.standardError)")
        }
        guard let port = server.lines.compactMap({ $0.split(separator: ":").last.flatMap { Int($0) } }).first else {
            server.kill(SIGKILL)
            throw HTTPFailure(description: "the server said no port: \(server.lines)")
        }
        let http = HTTP(port: port)
        let registered = try eventually(20) {
            _ = try http.get("/health")
            return try daemon.tracectl(["status", session]).standardOutput.contains("hummingbird-ord")
        }
        guard registered else {
            server.kill(SIGKILL)
            throw HTTPFailure(description: "the server never registered with traced: \(daemon.log)")
        }
        return (server, http)
    }

    static func counts(_ rows: Any?, key: String = "type") -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in rows as? [[String: Any]] ?? [] {
            if let name = row[key] as? String, let count = row["count"] as? Int { counts[name] = count }
        }
        return counts
    }

    /// `tracectl tasks TRACE --trace-id ID --json`: the trees of one distributed request.
    static func trees(_ daemon: TracedDaemon, _ trace: String, traceID: String) throws -> [[String: Any]] {
        try #require(try daemon.json(["tasks", trace, "--trace-id", traceID]) as? [[String: Any]])
    }

    /// The `type` of each row, in order.
    static func types(_ rows: Any?) -> [String] {
        (rows as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
    }
}

/// HTTP/1.1 requests to 127.0.0.1 with curl (Debian's package), one process
/// each: the test sends a few dozen, so simplicity beats speed.
struct HTTP {
    var port: Int

    struct Answer {
        var status: Int
        var body: String
    }

    func get(_ path: String, traceparent: String? = nil) throws -> Answer {
        try curl(path, traceparent: traceparent, extra: [])
    }

    func post(_ path: String, items count: Int, traceparent: String? = nil) throws -> Answer {
        let items = (0..<count).map { "\"item-\($0)\"" }.joined(separator: ",")
        return try curl(path, traceparent: traceparent,
                        extra: ["-X", "POST", "-H", "Content-Type: application/json", "--data", "{\"items\":[\(items)]}"])
    }

    private func curl(_ path: String, traceparent: String?, extra: [String]) throws -> Answer {
        var arguments = ["-sS", "--max-time", "10", "-w", "\n%{http_code}"] + extra
        if let traceparent { arguments += ["-H", "traceparent: \(traceparent)"] }
        arguments.append("http://127.0.0.1:\(port)\(path)")
        let result = try Processes.run("/usr/bin/curl", arguments)
        guard result.status == 0, let newline = result.standardOutput.lastIndex(of: "\n"),
              let status = Int(result.standardOutput[result.standardOutput.index(after: newline)...]) else {
            throw HTTPFailure(description: "curl \(path) failed (\(result.status)): \(result.standardError)")
        }
        return Answer(status: status, body: String(result.standardOutput[..<newline]))
    }
}

struct HTTPFailure: Error, CustomStringConvertible {
    var description: String
}
