import Foundation
import Testing
import TestSupport

/// `tracectl export` of real traces, read back by Perfetto's own
/// trace_processor (Tests/Tools/check-trace, docs/readers.md): every task and
/// region is exactly one finished slice, logs are exactly the instants,
/// flows go from parent to child tasks, counters keep their values, threads
/// and processes their names, and trace_processor records no error.
struct ExportTests {
    /// Runs TraceFixture `scenario` into a trace, exports it in both formats
    /// and reads each back.
    private func exports(of scenario: String, _ options: [String] = [], environment: [String: String] = [:]) throws
        -> (fixture: ProcessResult, perfetto: TraceReaders, json: TraceReaders, directory: TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        let trace = directory.file("\(scenario).trace")
        let fixture = try Processes.run(Processes.executable("TraceFixture"), [scenario, "--out", trace] + options,
                                        environment: environment)
        #expect(fixture.status == 0, "\(fixture.standardError)")
        return (fixture, try export(trace, "perfetto", directory), try export(trace, "chrome-json", directory), directory)
    }

    private func export(_ trace: String, _ format: String, _ directory: TemporaryDirectory,
                        queries: [String] = []) throws -> TraceReaders {
        let output = directory.file("out.\(format)")
        let result = try Processes.run(Processes.executable("tracectl"), ["export", "--format", format, trace, "-o", output])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: output + ".partial"))
        let mode = (try FileManager.default.attributesOfItem(atPath: output)[.posixPermissions] as? Int) ?? -1
        #expect(mode == 0o600, "the export holds log messages: private like the trace")
        return try TraceReaders.check(output, queries: queries)
    }

    private func expectClean(_ read: TraceReaders, tasks: Int, regions: Int, logs: Int, flows: Int,
                             ignoring: Set<String> = [], sourceLocation: SourceLocation = #_sourceLocation) {
        let stats = read.stats.filter { !ignoring.contains($0["name"] as? String ?? "") }
        #expect(stats.isEmpty, "\(stats)", sourceLocation: sourceLocation)
        #expect(read.unfinished == 0, sourceLocation: sourceLocation)
        #expect(read.category("task").count == tasks, sourceLocation: sourceLocation)
        #expect(read.category("region").count == regions, sourceLocation: sourceLocation)
        #expect(read.category("log").count == logs && read.category("log").zeroDuration == logs, sourceLocation: sourceLocation)
        #expect(read.totalSlices == tasks + regions + logs, sourceLocation: sourceLocation)
        #expect(read.flows == flows, sourceLocation: sourceLocation)
    }

    /// The same trace gives the same bytes: names are numbered in the
    /// order the files define them, not in a Dictionary's (random) order.
    @Test func anExportAndAReportAreTheSameBytesEveryTime() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("async.trace")
        let fixture = try Processes.run(Processes.executable("TraceFixture"), ["async", "--out", trace])
        #expect(fixture.status == 0, "\(fixture.standardError)")
        for format in ["perfetto", "chrome-json"] {
            var outputs: [Data] = []
            for run in 0..<2 {
                let output = directory.file("\(run).\(format)")
                let result = try Processes.run(Processes.executable("tracectl"), ["export", "--format", format, trace, "-o", output])
                #expect(result.status == 0, "\(result.standardError)")
                outputs.append(try Data(contentsOf: URL(fileURLWithPath: output)))
            }
            #expect(outputs[0] == outputs[1], "\(format) export differs between runs")
        }
        let reports = try (0..<2).map { _ in
            try Processes.run(Processes.executable("tracectl"), ["report", "--json", trace]).standardOutput
        }
        #expect(reports[0] == reports[1])
    }

    @Test func tasksAcrossChildTasksAndThreadsExportWithFlowsToTheirChildren() throws {
        let (_, perfetto, json, _) = try exports(of: "async")
        // order, its three subs, shared; child x3, onWorker, hop, asyncRegion; one log;
        // a flow from order to each sub.
        for read in [perfetto, json] {
            expectClean(read, tasks: 5, regions: 6, logs: 1, flows: 3)
            #expect(read.named("sub") == 3 && read.named("child") == 3)
            #expect(Set(read.threadNames.values).isSuperset(of: ["worker-1", "worker-2"]))
            #expect(read.processNames.values.contains("TraceFixture"))
        }
    }

    @Test func misusedRegionsStayNestedAndEveryOneEnds() throws {
        let (_, perfetto, json, directory) = try exports(of: "misuse")
        for read in [perfetto, json] {
            // endedTwice, outer, inner, endedOnAnotherThread, endedOnAnotherTask, neverEnded;
            // endedTwiceTask once (its second end is misuse, not a slice).
            expectClean(read, tasks: 1, regions: 6, logs: 0, flows: 0)
        }
        let detail = try export(directory.file("misuse.trace"), "perfetto", directory, queries: [
            "SELECT s.name, t.name AS track FROM slice s JOIN track t ON s.track_id = t.id",
            "SELECT s.name, a.key FROM slice s JOIN args a USING (arg_set_id) WHERE a.key LIKE 'debug.%'",
        ])
        let tracks = Dictionary(detail.rows(0).map { ($0["name"] as? String ?? "", $0["track"] as? String ?? "") },
                                uniquingKeysWith: { first, _ in first })
        #expect(tracks["outer"] == "misnested regions")
        let annotations = Set(detail.rows(1).map { "\($0["name"] as? String ?? "") \($0["key"] as? String ?? "")" })
        #expect(annotations.contains("outer debug.ended_out_of_order"))
        #expect(annotations.contains("neverEnded debug.never_ended"))
        #expect(annotations.contains("endedOnAnotherThread debug.end_thread"))
    }

    @Test func logsExportWithTheirMessagesExactly() throws {
        let (_, perfetto, json, directory) = try exports(of: "logs")
        for read in [perfetto, json] { expectClean(read, tasks: 0, regions: 0, logs: 6, flows: 0) }
        for (format, prefix) in [("perfetto", "debug"), ("chrome-json", "args")] {
            let read = try export(directory.file("logs.trace"), format, directory, queries: [
                "SELECT s.name, a.key, a.display_value AS value FROM slice s JOIN args a USING (arg_set_id) "
                    + "WHERE a.key IN ('\(prefix).message', '\(prefix).truncated')",
            ])
            var messages: [String: String] = [:], truncated: Set<String> = []
            for row in read.rows(0) {
                let name = row["name"] as? String ?? ""
                if row["key"] as? String == "\(prefix).message" { messages[name] = row["value"] as? String ?? "" }
                if row["key"] as? String == "\(prefix).truncated", row["value"] as? String == "true" { truncated.insert(name) }
            }
            #expect(messages["short"] == "hello", "\(format)")
            #expect(messages["empty"] == "", "\(format)")
            #expect(messages["unicode"] == "café ☕️", "\(format)")
            #expect(messages["long"] == String(repeating: "x", count: 1024), "\(format)")
            #expect(messages["longUnicode"] == String(repeating: "é", count: 512), "\(format)")
            #expect(messages["lazy"] == "built", "\(format)")
            #expect(truncated == ["long", "longUnicode"], "\(format)")
        }
    }

    @Test func stacksExportAsSymbolizedFrames() throws {
        let (_, perfetto, json, directory) = try exports(of: "stacks")
        // trace_processor v52 reads no TrackEvent callstack: it counts the 7
        // as unknown fields, and nothing else; without them it is clean.
        #expect(perfetto.stats.map { "\($0["name"] ?? "") \($0["value"] ?? "")" } == ["unknown_extension_fields 7"])
        expectClean(perfetto, tasks: 1, regions: 3, logs: 3, flows: 0, ignoring: ["unknown_extension_fields"])
        expectClean(json, tasks: 1, regions: 3, logs: 3, flows: 0)
        let plain = directory.file("plain.pftrace")
        let without = try Processes.run(Processes.executable("tracectl"),
                                        ["export", "--no-callstacks", directory.file("stacks.trace"), "-o", plain])
        #expect(without.status == 0, "\(without.standardError)")
        expectClean(try TraceReaders.check(plain), tasks: 1, regions: 3, logs: 3, flows: 0)
        let detail = try export(directory.file("stacks.trace"), "perfetto", directory, queries: [
            "SELECT a.display_value AS stack FROM slice s JOIN args a USING (arg_set_id) WHERE a.key = 'debug.stack'",
        ])
        let stacks = detail.rows(0).compactMap { $0["stack"] as? String }
        #expect(stacks.count == 7)
        #expect(stacks.filter { $0.contains("stackMarkerFunction") }.count == 6, "\(stacks)")
        // The same stacks as the events' callstacks, read with Perfetto's own schema.
        let decoded = try Processes.run(TraceReaders.repositoryRoot + "/Tests/Tools/callstacks", [directory.file("out.perfetto")])
        #expect(decoded.status == 0, "\(decoded.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(decoded.standardOutput.utf8)) as? [String: Any]
        let callstacks = (object?["callstacks"] as? [[[String: Any]]]) ?? []
        #expect(callstacks.count == 7, "one callstack per event with a stack")
        let marked = callstacks.filter { frames in
            frames.contains { ($0["function"] as? String)?.contains("stackMarkerFunction") == true
                && ($0["file"] as? String)?.hasSuffix("Scenarios.swift") == true && ($0["line"] as? Int ?? 0) > 0 }
        }
        #expect(marked.count == 6, "\(callstacks.prefix(2))")
    }

    @Test(.tags(.slow)) func dropsExportAsACounterThatReachesEveryLostEvent() throws {
        // A 64 KiB buffer cannot hold four threads' bursts: most counters are lost.
        let (fixture, perfetto, json, _) = try exports(of: "burst", ["--threads", "4", "--events", "200000"],
                                                       environment: ["TRACED_BUFFER_SIZE": "64K"])
        let emitted = Int(fixture.values["emitted"] ?? "") ?? -1
        for (read, suffix) in [(perfetto, ""), (json, " value")] {
            #expect(read.stats.isEmpty, "\(read.stats)")
            let recorded = read.counter("seq" + suffix)?.count ?? -1
            let dropped = read.counter("dropped events" + suffix)
            #expect(recorded > 0 && recorded < emitted)
            #expect(dropped.map { Int($0.max) } == emitted - recorded, "emitted = recorded + dropped")
            #expect((dropped?.count ?? 0) > 1, "drops marked where they happened, not only at the end")
        }
    }

    @Test func theCafeExportsEveryOrderLogAndCounter() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("cafe.trace")
        let orders = 16
        let cafe = try Processes.run(Processes.executable("cafe"), ["--orders", "\(orders)"], environment: ["TRACED_FILE": trace])
        #expect(cafe.status == 0, "\(cafe.standardError)")
        for format in ["perfetto", "chrome-json"] {
            let read = try export(trace, format, directory)
            // Per order: steamMilk, extractCoffee, grindBeans, mixMilkCoffee; per 8 orders 4 cleanMachine.
            // Logs: orderID each, quality for orders 0 and 10 (the milk stops at 65: no warning).
            expectClean(read, tasks: orders, regions: orders * 4 + orders / 8 * 4, logs: orders + 2, flows: 0)
            let suffix = format == "chrome-json" ? " value" : ""
            // 35, 50, 65 per order.
            #expect(read.counter("milkTemperature" + suffix)?.count == orders * 3)
            #expect(read.counter("milkTemperature" + suffix)?.sum == Double(orders * (35 + 50 + 65)))
            #expect(read.counter("queueDepth" + suffix)?.count == orders + 1)
            #expect(read.counter("queueDepth" + suffix)?.sum == Double((1...orders).reduce(0, +)))
            #expect(read.counter("cleaningRounds" + suffix)?.count == orders / 8)
            #expect(read.processNames.values.contains("cafe"))
        }
    }
}
