import Foundation
import Testing
import TestSupport

/// `tracectl export --format otlp` and `otlp-json`, decoded by the
/// OpenTelemetry project's own classes (`Tests/Tools/check-otlp`, with
/// opentelemetry-proto): spans of known workloads, with the ids, parents,
/// attributes and events the mapping in docs/design.md ("OTLP") promises.
struct OTLPExportTests {
    struct Span {
        var name: String
        var traceID: String
        var spanID: String
        var parent: String
        var kind: Int
        var start: UInt64
        var end: UInt64
        var attributes: [String: Any]
        var events: [(name: String, attributes: [String: Any])]
        var links: [(traceID: String, spanID: String)]
        var statusCode: Int
        var resource: [String: Any]

        init(_ json: [String: Any]) {
            name = json["name"] as? String ?? ""
            traceID = json["trace_id"] as? String ?? ""
            spanID = json["span_id"] as? String ?? ""
            parent = json["parent_span_id"] as? String ?? ""
            kind = json["kind"] as? Int ?? -1
            start = (json["start"] as? NSNumber)?.uint64Value ?? 0
            end = (json["end"] as? NSNumber)?.uint64Value ?? 0
            attributes = json["attributes"] as? [String: Any] ?? [:]
            events = (json["events"] as? [[String: Any]] ?? []).map {
                ($0["name"] as? String ?? "", $0["attributes"] as? [String: Any] ?? [:])
            }
            links = (json["links"] as? [[String: Any]] ?? []).map {
                ($0["trace_id"] as? String ?? "", $0["span_id"] as? String ?? "")
            }
            statusCode = (json["status"] as? [String: Any])?["code"] as? Int ?? -1
            resource = json["resource"] as? [String: Any] ?? [:]
        }
    }

    /// Exports `trace` and decodes the output; the protobuf and JSON forms
    /// must decode to the same spans.
    static func export(_ trace: String, _ directory: TemporaryDirectory, _ options: [String] = []) throws -> [Span] {
        let tracectl = Processes.executable("tracectl")
        var decoded: [[Span]] = []
        for (format, flag) in [("otlp", [String]()), ("otlp-json", ["--json"])] {
            let output = directory.file("\(UUID().uuidString).\(format)")
            let exported = try Processes.run(tracectl, ["export", "--format", format, trace, "-o", output] + options)
            #expect(exported.status == 0, "\(exported.standardError)")
            let checked = try Processes.run(TraceReaders.repositoryRoot + "/Tests/Tools/check-otlp", [output] + flag)
            #expect(checked.status == 0, "\(checked.standardError)")
            let object = try JSONSerialization.jsonObject(with: Data(checked.standardOutput.utf8)) as? [String: Any]
            decoded.append((object?["spans"] as? [[String: Any]] ?? []).map(Span.init))
        }
        #expect(decoded[0].map(\.spanID) == decoded[1].map(\.spanID))
        #expect(decoded[0].map(\.start) == decoded[1].map(\.start))
        #expect(decoded[0].map(\.attributes.count) == decoded[1].map(\.attributes.count))
        return decoded[0]
    }

    @Test func spansKeepTheirIdsParentsAttributesEventsLinksAndStatus() throws {
        let directory = try TemporaryDirectory()
        let caller = try SpanTraceTests.run(directory, "caller.trace")
        let header = try #require(caller.result.values["traceparent"])
        let callee = try SpanTraceTests.run(directory, "callee.trace", traceparent: header)
        let sent = try #require(SpanTraceTests.TraceContextHeader(header))

        let first = try Self.export(caller.path, directory)
        #expect(first.map(\.name).sorted() == ["extractCoffee", "grindFine", "order", "pay", "prepare", "steamMilk", "tamp"])
        let order = try #require(first.first { $0.name == "order" })
        let prepare = try #require(first.first { $0.name == "prepare" })
        #expect(order.traceID == caller.result.values["trace_id"])
        #expect(String(sent.spanID) == order.spanID)
        #expect(order.parent.isEmpty && order.kind == 1)
        #expect(prepare.spanID == caller.result.values["prepare_span"] && prepare.traceID != order.traceID)
        // Region spans and subtasks are children of the order span, in its trace.
        for name in ["grindFine", "pay", "steamMilk", "extractCoffee"] {
            let child = try #require(first.first { $0.name == name })
            #expect(child.traceID == order.traceID && child.parent == order.spanID, "\(name)")
            #expect(child.start >= order.start && child.end <= order.end, "\(name)")
        }
        // Attributes typed back, the cut one marked; the log line and the
        // span event are events; the link names the prepare span.
        #expect(order.attributes["order.id"] as? Int == 42)
        let note = try #require(order.attributes["order.note"] as? String)
        #expect(note == String(repeating: "x", count: 256) + "…(truncated)")
        #expect(order.events.map(\.name) == ["fixture.orders", "paid"])
        #expect(order.events[0].attributes["message"] as? String == "[info] taking order table=7")
        #expect(order.events[1].attributes["amount"] as? String == "3.5")
        #expect(order.links.count == 1 && order.links[0].traceID == prepare.traceID && order.links[0].spanID == prepare.spanID)
        // The renamed region span: its name, attribute and event (logged
        // while "tamp", nested in it, was open) are its own.
        let grind = try #require(first.first { $0.name == "grindFine" })
        #expect(grind.attributes["grams"] as? Int == 18 && grind.events.map(\.name) == ["pressed"])
        let tamp = try #require(first.first { $0.name == "tamp" })
        #expect(tamp.parent == grind.spanID && tamp.events.isEmpty && tamp.attributes.isEmpty)
        let pay = try #require(first.first { $0.name == "pay" })
        #expect(pay.statusCode == 2)
        #expect(pay.events.map(\.name) == ["exception"] && pay.events[0].attributes["exception.type"] as? String == "Declined")
        #expect(first.allSatisfy { $0.resource["service.name"] as? String == "TraceFixture" && $0.resource["process.pid"] as? Int != nil })

        // The callee continues the caller's trace: its order span is a SERVER
        // span whose parent is the caller's span that sent the header.
        let second = try Self.export(callee.path, directory, ["--host-name", "host-b"])
        let served = try #require(second.first { $0.name == "order" })
        #expect(served.traceID == order.traceID && served.parent == order.spanID && served.kind == 2)
        #expect(second.allSatisfy { $0.resource["host.name"] as? String == "host-b" })
        #expect(second.filter { $0.traceID == order.traceID }.count == 6)
    }

    @Test func shortRegionsAreSummedIntoTheirTaskAndSamplingChoosesWholeTasks() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("latencies.trace")
        // Task i sleeps 20 ms × (1, 2, 3, 5)[i % 4] in "work", inside "handle", then 200 µs in "reply".
        // A minimum of 15 ms between them: a loaded machine (tests run side
        // by side, three processes of them) has stretched the 200 µs past
        // 1 ms, and once to 5.04 ms; a sleep is never shorter than asked.
        let run = try Processes.fixture("latencies", ["tasks": "8", "base-us": "20000", "reply-us": "200", "out": path])
        #expect(run.status == 0, "\(run.standardError)")

        let all = try Self.export(path, directory, ["--otlp-min-region", "15ms"])
        let tasks = all.filter { $0.name == "request" }
        #expect(tasks.count == 8)
        #expect(all.filter { $0.name == "handle" }.count == 8 && all.filter { $0.name == "work" }.count == 8)
        #expect(all.filter { $0.name == "reply" }.isEmpty)
        for task in tasks {
            #expect(task.attributes["traced.region.reply.count"] as? Int == 1)
            #expect((task.attributes["traced.region.reply.ns"] as? Int ?? 0) >= 200_000)
            #expect(task.events.map(\.name) == ["step"])
            // Fresh ids for tasks without a trace context, and the regions in their trace.
            let handle = try #require(all.first { $0.name == "handle" && $0.parent == task.spanID })
            #expect(handle.traceID == task.traceID)
            #expect(all.contains { $0.name == "work" && $0.parent == handle.spanID && $0.traceID == task.traceID })
        }
        #expect(Set(tasks.map(\.traceID)).count == 8 && Set(all.map(\.spanID)).count == all.count)
        // The same file exported again gets the same ids.
        let again = try Self.export(path, directory, ["--otlp-min-region", "15ms"])
        #expect(again.map(\.spanID) == all.map(\.spanID))

        // Everything is a span with no minimum.
        let everything = try Self.export(path, directory, ["--otlp-min-region", "0"])
        #expect(everything.filter { $0.name == "reply" }.count == 8)
        // Only the two 100 ms tasks (i = 3, 7), each with its two regions.
        let slow = try Self.export(path, directory, ["--otlp-only-slower-than", "90ms", "--otlp-min-region", "15ms"])
        #expect(slow.filter { $0.name == "request" }.count == 2 && slow.count == 6)
        #expect(slow.filter { $0.name == "request" }.allSatisfy { $0.end - $0.start >= 100_000_000 })
        // 1/3 by trace id: the tasks whose trace id's low 64 bits are a multiple of 3.
        let expected = tasks.filter { UInt64($0.traceID.suffix(16), radix: 16)! % 3 == 0 }.map(\.spanID)
        let sampled = try Self.export(path, directory, ["--otlp-sample", "1/3", "--otlp-min-region", "15ms"])
        #expect(sampled.filter { $0.name == "request" }.map(\.spanID) == expected)
        #expect(sampled.count == 3 * expected.count)
    }

    @Test func badOTLPOptionsAreRefusedWithTheFormTheyTake() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("spans.trace")
        _ = try SpanTraceTests.run(directory, "spans.trace")
        let tracectl = Processes.executable("tracectl")
        for (option, value, says) in [("--otlp-sample", "1/0", "expected 1/N"), ("--otlp-min-region", "soon", "expected a duration"),
                                      ("--otlp-only-slower-than", "-1s", "expected a duration")] {
            let result = try Processes.run(tracectl, ["export", "--format", "otlp", path, "-o", directory.file("out"), "\(option)=\(value)"])
            #expect(result.status == 4, "\(option) \(value)")
            #expect(result.standardError.contains(says), "\(result.standardError)")
        }
    }
}
