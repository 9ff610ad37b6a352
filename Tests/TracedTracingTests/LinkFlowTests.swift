import Testing
import TestSupport

/// A span link becomes a flow in the Perfetto export, as Perfetto's own
/// trace_processor reads it (Tests/Tools/check-trace).
struct LinkFlowTests {
    @Test func aLinkIsAFlowFromTheLinkedSpanToTheLinkingOne() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("spans.trace")
        let fixture = try Processes.fixture("spans", environment: ["TRACED_FILE": trace])
        #expect(fixture.status == 0, "\(fixture.standardError)")
        let output = directory.file("spans.perfetto")
        let export = try Processes.run(Processes.executable("tracectl"), ["export", "--format", "perfetto", trace, "-o", output])
        #expect(export.status == 0, "\(export.standardError)")
        let read = try TraceReaders.check(output, queries: [
            """
            select s1.name as origin, s2.name as target,
                   cast(extract_arg(s1.arg_set_id, 'debug.task') as text) as originTask,
                   cast(extract_arg(s2.arg_set_id, 'debug.task') as text) as targetTask,
                   extract_arg(s1.arg_set_id, 'debug.message') as originMessage,
                   extract_arg(s2.arg_set_id, 'debug.message') as targetMessage
            from flow f join slice s1 on f.slice_out = s1.id join slice s2 on f.slice_in = s2.id
            order by s1.ts, s2.ts
            """,
        ])
        let flows = read.rows(0).map { row in
            ["origin", "target", "originTask", "targetTask"].map { row[$0] as? String ?? "-" }.joined(separator: " ")
        }
        // Two parent-to-child task flows, and the link: from the prepare
        // span's trace.context (task 1) to order's span.link (task 2).
        #expect(read.flows == 3)
        #expect(flows.contains("trace.context span.link 1 2"), "\(flows)")
        let link = try #require(read.rows(0).first { $0["target"] as? String == "span.link" })
        let linked = try #require(fixture.values["prepare_span"])
        #expect((link["originMessage"] as? String)?.contains("-\(linked)-01") == true)
        #expect((link["targetMessage"] as? String)?.contains("-\(linked)-01 why=batch") == true)
        #expect(flows.filter { $0.hasPrefix("order ") }.count == 2, "\(flows)")
        #expect(read.stats.isEmpty, "\(read.stats)")
    }
}
