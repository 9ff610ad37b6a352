import Foundation
import Testing
import TestSupport
import TraceAnalysis

/// A process bootstrapped with TracedTracer and TraceLogHandler runs known
/// spans (TraceFixture `spans`); the trace read back holds exactly what the
/// mapping in docs/design.md ("Existing services") promises.
struct SpanTraceTests {
    struct Run {
        var result: ProcessResult
        var model: TraceModel
        var path: String
    }

    static func run(_ directory: TemporaryDirectory, _ name: String, traceparent: String? = nil) throws -> Run {
        let path = directory.file(name)
        let result = try Processes.fixture("spans", traceparent.map { ["traceparent": $0] } ?? [:],
                                           environment: ["TRACED_FILE": path])
        #expect(result.status == 0, "\(result.standardError)")
        let model = try TraceModel.load(paths: [path])
        #expect(model.diagnostics.isEmpty)
        #expect(model.droppedEvents == 0)
        return Run(result: result, model: model, path: path)
    }

    /// Logs of `task`, as "category message", in trace order.
    static func logs(_ model: TraceModel, task: UInt64) -> [String] {
        model.events.compactMap { event in
            guard case .log(let id, let category, let message, _, _) = event.kind, id == task else { return nil }
            return "\(category) \(message)"
        }
    }

    static func traceContext(_ logs: [String]) -> TraceContext? {
        logs.first.flatMap(TraceContext.init)
    }

    struct TraceContext {
        var traceID: Substring
        var spanID: Substring
        var parent: Substring?
        init?(_ log: String) {
            let words = log.split(separator: " ")
            guard words.count >= 2, words[0] == "trace.context" else { return nil }
            let fields = words[1].split(separator: "-")
            guard fields.count == 4, fields[0] == "00", fields[1].count == 32, fields[2].count == 16, fields[3] == "01" else { return nil }
            traceID = fields[1]
            spanID = fields[2]
            parent = words.count > 2 && words[2].hasPrefix("parent=") ? words[2].dropFirst("parent=".count) : nil
        }
    }

    @Test func spansBecomeTasksRegionsSubtasksAndLogs() throws {
        let directory = try TemporaryDirectory()
        let run = try Self.run(directory, "spans.trace")
        let model = run.model
        // Root spans are tasks named after the operation; concurrent children
        // (async let) are subtasks of the order; nested children are regions.
        #expect(model.tasks.map(\.type).prefix(2) == ["prepare", "order"])
        #expect(Set(model.tasks.map(\.type).dropFirst(2)) == ["steamMilk", "extractCoffee"])
        #expect(model.tasks.count == 4)
        let prepare = try #require(model.tasks.first { $0.type == "prepare" })
        let order = try #require(model.tasks.first { $0.type == "order" })
        #expect(prepare.parent == 0 && order.parent == 0)
        #expect(model.tasks.filter { $0.parent == order.id }.count == 2)
        #expect(model.tasks.allSatisfy { $0.end != nil && $0.extraEnds == 0 })
        // A region keeps the type it began with; its rename is a log.
        #expect(model.regions.map(\.type) == ["grind", "tamp", "pay"])
        #expect(model.regions.allSatisfy { $0.task == order.id && $0.misuse.isEmpty && $0.end != nil })

        let orderLogs = Self.logs(model, task: order.id)
        let context = try #require(Self.traceContext(orderLogs))
        #expect(context.parent == nil)
        #expect(run.result.values["trace_id"] == String(context.traceID))
        let grind = try #require(orderLogs.first { $0.hasPrefix("trace.context [grind] ") })
        let pay = try #require(orderLogs.first { $0.hasPrefix("trace.context [pay] ") })
        #expect(grind.contains("-\(context.traceID)-") && pay.contains("-\(context.traceID)-"))
        let note = "order.note=" + String(repeating: "x", count: 256) + "…(truncated)"
        let prepareContext = try #require(Self.traceContext(Self.logs(model, task: prepare.id)))
        #expect(prepareContext.traceID != context.traceID)
        #expect(run.result.values["prepare_span"] == String(prepareContext.spanID))
        // Every log in order, the span contexts masked (their span ids are random).
        let masked = orderLogs.map { $0.hasPrefix("trace.context") ? String($0.prefix { $0 != "0" }) + "…" : $0 }
        #expect(masked == [
            "trace.context …",
            "fixture.orders [info] taking order table=7",
            "trace.context [grind] …",
            "span.name [grind] grindFine",
            "trace.context [tamp] …",
            "span.event [grindFine] pressed",
            "span.attribute [grindFine] grams=18",
            "span.event paid amount=3.5",
            "span.link 00-\(prepareContext.traceID)-\(prepareContext.spanID)-01 why=batch",
            "trace.context [pay] …",
            "span.error [pay] Declined: Declined()",
            "span.status [pay] error",
            "span.attribute order.id=42",
            "span.attribute \(note)",
        ])
        for child in model.tasks where child.parent == order.id {
            let logs = Self.logs(model, task: child.id)
            #expect(logs.count == 1)
            let childContext = try #require(Self.traceContext(logs))
            #expect(childContext.traceID == context.traceID && childContext.spanID != context.spanID)
        }
        // The log handler forwarded the line, with the ids the metadata
        // provider added; the trace's copy leaves the ids out.
        #expect(run.result.values["forwarded.info"]
            == "fixture.orders taking order span_id=\(context.spanID) table=7 trace_id=\(context.traceID)")
        #expect(run.result.values["traceparent"] == "00-\(context.traceID)-\(context.spanID)-01")
    }

    @Test func anInjectedTraceparentContinuesTheTraceInAnotherProcessAndTracectlFindsBoth() throws {
        let directory = try TemporaryDirectory()
        let first = try Self.run(directory, "caller.trace")
        let header = try #require(first.result.values["traceparent"])
        let second = try Self.run(directory, "callee.trace", traceparent: header)
        let order = try #require(second.model.tasks.first { $0.type == "order" })
        let context = try #require(Self.traceContext(Self.logs(second.model, task: order.id)))
        let sent = try #require(TraceContextHeader(header))
        #expect(context.traceID == sent.traceID)
        #expect(context.parent == sent.spanID)
        #expect(second.result.values["tracestate"] == "vendor=1")
        #expect(second.result.values["trace_id"] == String(sent.traceID))

        let tracectl = Processes.executable("tracectl")
        let result = try Processes.run(tracectl, ["tasks", first.path, second.path, "--trace-id", String(sent.traceID), "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        let trees = try JSONDecoder().decode([TaskTree].self, from: Data(result.standardOutput.utf8))
        #expect(trees.map(\.type) == ["order", "order"])
        #expect(Set(trees.map(\.pid)).count == 2)
        #expect(trees.allSatisfy { Set($0.children.map(\.type)) == ["steamMilk", "extractCoffee"] })
        #expect(trees.allSatisfy { $0.regions.map(\.type) == ["grind", "pay"] })  // "tamp" nested in "grind"

        let text = try Processes.run(tracectl, ["tasks", first.path, second.path, "--trace-id", String(sent.traceID)])
        #expect(text.status == 0)
        #expect(text.lines.filter { $0.hasPrefix("task order #") }.count == 2)

        // The other root of each file ("prepare") is a trace of its own.
        let none = try Processes.run(tracectl, ["tasks", first.path, "--trace-id", String(repeating: "ab", count: 16)])
        #expect(none.status == 1)
        #expect(none.standardError.contains("no task of trace abab"))
        let bad = try Processes.run(tracectl, ["tasks", first.path, "--trace-id", String(repeating: "0", count: 32)])
        #expect(bad.status != 0 && bad.standardError.contains("is not a trace id"))
    }

    struct TraceContextHeader {
        var traceID: Substring
        var spanID: Substring
        init?(_ header: String) {
            let fields = header.split(separator: "-")
            guard fields.count == 4 else { return nil }
            traceID = fields[1]
            spanID = fields[2]
        }
    }
}
