import Foundation
import Testing
import TestSupport
import TraceText

/// The report page in headless Chromium (Tests/Tools/check-page, which
/// fails on any console error, exception or network request): drawn from
/// the sample report, clicked through a bucket to a task's timeline, and
/// handing its export to a stand-in for the Perfetto UI.
@Suite(.serialized) struct HTMLReportPageTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let checkPage = repository + "/Tests/Tools/check-page"
    static let sample = repository + "/Tests/Traces/report-sample.json"

    /// What check-page printed, and its exit status.
    struct Check {
        var status: Int32
        var errors: [Any]
        var requests: [[String: Any]]
        var values: [Any?]
        var output: String
    }

    static func check(_ page: String, _ arguments: [String]) throws -> Check {
        let result = try Processes.run(checkPage, [page] + arguments)
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any],
                                   "check-page printed no report: \(result.standardError)")
        let evals = printed["evals"] as? [[String: Any]] ?? []
        return Check(status: result.status, errors: printed["errors"] as? [Any] ?? [],
                     requests: printed["requests"] as? [[String: Any]] ?? [],
                     values: evals.map { $0["value"] }, output: result.standardOutput + result.standardError)
    }

    static func sampleReport() throws -> (json: [UInt8], object: [String: Any]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: sample))
        return (Array(data), try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]))
    }

    /// The sampled tasks of `type`'s bucket `index`, slowest first, as the page lists them.
    static func sampled(_ report: [String: Any], type: String, bucket index: Int) throws -> [[String: Any]] {
        let samples = try #require((report["taskSamples"] as? [String: Any])?[type] as? [[String: Any]])
        let tasks = try #require(samples[index]["tasks"] as? [[String: Any]])
        return tasks.sorted { ($0["latency"] as? Double ?? 0) > ($1["latency"] as? Double ?? 0) }
    }

    static func regionCount(_ regions: [[String: Any]]) -> Int {
        regions.reduce(0) { $0 + 1 + regionCount($1["children"] as? [[String: Any]] ?? []) }
    }

    static let facts = """
        JSON.stringify({
          cards: document.querySelectorAll('#tasks .card').length,
          rows: document.querySelectorAll('#bucket-tasks .task-row').length,
          title: document.querySelector('#timeline-pane h3')?.textContent,
          regions: document.querySelectorAll('#timeline .bar.region').length,
          logs: document.querySelectorAll('#timeline .logmark').length,
          children: document.querySelectorAll('#timeline .bar.child').length,
          timeRows: document.querySelectorAll('#time-went tbody tr').length,
          regionRows: document.querySelectorAll('#region-table tbody tr').length,
          charts: document.querySelectorAll('#counters .chart').length,
          perfetto: document.getElementById('perfetto-box').dataset.perfetto,
        })
        """

    static func facts(_ value: Any??) throws -> [String: Any] {
        let text = try #require(value as? String)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func theSamplePageDrawsWithoutErrorsAndABucketLeadsToATaskTimeline() throws {
        let (json, report) = try Self.sampleReport()
        let directory = try TemporaryDirectory("report-html")
        let page = directory.file("report.html")
        let export = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Data(HTMLReport.page(reportJSON: json, perfettoExport: export)).write(to: URL(fileURLWithPath: page))
        // TRACED_REPORT_SCREENSHOT keeps the screenshot (docs/report-html.png is one).
        let screenshot = ProcessInfo.processInfo.environment["TRACED_REPORT_SCREENSHOT"] ?? directory.file("report.png")
        let check = try Self.check(page, [
            "--size", "1400x1000", "--screenshot", screenshot,
            "--eval", #"document.querySelector('.card[data-task-type="makeCappuccino"] .bucket[data-bucket="1"]').click()"#,
            "--eval", "document.querySelector('#bucket-tasks .task-row').click()",
            "--eval", Self.facts,
        ])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.errors.isEmpty)
        #expect(check.requests.allSatisfy { ($0["url"] as? String)?.hasPrefix("file://") == true }, "\(check.requests)")
        let facts = try Self.facts(check.values.last)
        let tasks = try Self.sampled(report, type: "makeCappuccino", bucket: 1)
        let slowest = try #require(tasks.first)
        #expect(tasks.count == 55)
        #expect(facts["cards"] as? Int == 3)
        #expect(facts["rows"] as? Int == 50)
        #expect(facts["title"] as? String == "makeCappuccino #\(slowest["id"] as? Int ?? -1)")
        #expect(facts["regions"] as? Int == Self.regionCount(slowest["regions"] as? [[String: Any]] ?? []))
        #expect(facts["logs"] as? Int == (slowest["logs"] as? [Any])?.count)
        #expect(facts["children"] as? Int == 0)
        // One row per region type with self time, and one for the time no region covers.
        #expect(facts["timeRows"] as? Int == ((slowest["selfTime"] as? [Any])?.count ?? -1) + 1)
        #expect(facts["regionRows"] as? Int == (report["regions"] as? [Any])?.count)
        #expect(facts["charts"] as? Int == (report["counters"] as? [Any])?.count)
        #expect(facts["perfetto"] as? String == "embedded")
        #expect(FileManager.default.fileExists(atPath: screenshot))
    }

    @Test func pagesChildTasksAndTheLogSearchWork() throws {
        let (json, report) = try Self.sampleReport()
        let directory = try TemporaryDirectory("report-html")
        let page = directory.file("report.html")
        try Data(HTMLReport.page(reportJSON: json, perfettoExport: nil)).write(to: URL(fileURLWithPath: page))
        let declined = (report["logs"] as? [[String: Any]] ?? []).flatMap { $0["examples"] as? [[String: Any]] ?? [] }
            .filter { ($0["message"] as? String)?.contains("declined") == true }.count
        let orders = try Self.sampled(report, type: "order", bucket: 1)
        let withChildren = try #require(orders.first { ($0["children"] as? [Any])?.count == 2 })
        let child = try #require((withChildren["children"] as? [[String: Any]])?.first)
        let check = try Self.check(page, [
            "--eval", #"document.querySelector('.card[data-task-type="makeCappuccino"] .bucket[data-bucket="1"]').click()"#,
            "--eval", "[...document.querySelectorAll('.pager button')].find((b) => b.textContent.startsWith('next')).click()",
            "--eval", "document.querySelectorAll('#bucket-tasks .task-row').length",
            "--eval", #"document.querySelector('.card[data-task-type="order"] .bucket[data-bucket="1"]').click()"#,
            "--eval", #"document.querySelector('#bucket-tasks .task-row[data-task="1:\#(withChildren["id"] as? Int ?? -1)"]').click()"#,
            "--eval", "document.querySelectorAll('#timeline .bar.child').length",
            "--eval", "document.querySelector('#timeline .bar.child').click()",
            "--eval", "document.querySelector('#timeline-pane .crumbs').textContent",
            "--eval", "const f = document.getElementById('log-filter'); f.value = 'DECLINED'; f.dispatchEvent(new Event('input'))",
            "--eval", "document.querySelectorAll('#log-table tbody tr').length",
            "--eval", "document.querySelectorAll('#log-table mark').length",
            "--eval", Self.facts,
        ])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.values.count == 12)
        guard check.values.count == 12 else { return }
        #expect(check.values[2] as? Int == 5)
        #expect(check.values[5] as? Int == 2)
        #expect(check.values[7] as? String == "order #\(withChildren["id"] as? Int ?? -1) › makeCappuccino #\(child["id"] as? Int ?? -1)")
        #expect(declined > 0)
        #expect(check.values[9] as? Int == declined)
        #expect(check.values[10] as? Int == declined)
        #expect(try Self.facts(check.values[11])["perfetto"] as? String == "omitted")
    }

    @Test func anExportTooBigToEmbedIsReplacedByTheCommandThatWritesIt() throws {
        let (json, _) = try Self.sampleReport()
        let directory = try TemporaryDirectory("report-html")
        let page = directory.file("report.html")
        try Data(HTMLReport.render(reportJSON: json, perfetto: nil, omittedBytes: 40_000_000)).write(to: URL(fileURLWithPath: page))
        let check = try Self.check(page, ["--eval", "document.getElementById('perfetto-box').textContent",
                                          "--eval", "document.getElementById('open-perfetto') === null"])
        #expect(check.status == 0, "\(check.output)")
        let text = try #require(check.values.first as? String)
        #expect(text.contains("(38.1 MiB) is too big to embed"))
        #expect(text.contains("tracectl export --format perfetto cafe-0.trace cafe-1.trace -o trace.pftrace"))
        #expect(text.contains("“Open trace file”"))
        #expect(check.values.last as? Bool == true)
    }

    /// A stand-in for ui.perfetto.dev, served from another origin than the
    /// report: like the UI's post_message_handler.ts, it answers a 'PING'
    /// from its opener with 'PONG' to the sender's origin and takes
    /// {perfetto: {buffer, title, fileName}}; it tells the opener what it
    /// got, for the test.
    static let perfettoStandIn = """
        <!doctype html><meta charset="utf-8"><title>Perfetto UI stand-in</title><link rel="icon" href="data:,">
        <script>
        window.addEventListener('message', (e) => {
          if (e.source !== window.opener) return;
          if (e.data === 'PING') { e.source.postMessage('PONG', e.origin); return; }
          const p = e.data && e.data.perfetto;
          if (!p) return;
          const bytes = new Uint8Array(p.buffer);
          let sum = 0;
          for (const b of bytes) sum = (sum * 31 + b) >>> 0;
          window.opener.postMessage({ received: bytes.length, sum, title: p.title, fileName: p.fileName }, '*');
        });
        </script>
        """

    @Test func openInPerfettoPingsTheUIUntilItAnswersThenPostsTheExport() throws {
        let (json, _) = try Self.sampleReport()
        let directory = try TemporaryDirectory("report-html")
        let export = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 8) }
        let server = try Background("/usr/bin/env", ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                                                    "--directory", directory.path])
        // SIGKILL: the server inherits the test's signal mask, which blocks SIGTERM.
        defer { server.kill(SIGKILL); server.wait() }
        #expect(server.waitForOutput { $0.contains { $0.hasPrefix("Serving HTTP on") } }, "\(server.standardError)")
        let serving = try #require(server.lines.first { $0.hasPrefix("Serving HTTP on") })
        let port = try #require(serving.split(separator: " ").dropFirst(5).first.map(String.init))
        // The same server under two names is two origins: the report on
        // 127.0.0.1, the stand-in on localhost in place of ui.perfetto.dev.
        let standIn = "http://localhost:\(port)/perfetto-ui.html"
        try Data(Self.perfettoStandIn.utf8).write(to: URL(fileURLWithPath: directory.file("perfetto-ui.html")))
        let page = Self.text(HTMLReport.page(reportJSON: json, perfettoExport: export))
            .replacingOccurrences(of: "https://ui.perfetto.dev", with: standIn)
        try Data(page.utf8).write(to: URL(fileURLWithPath: directory.file("report.html")))
        // The popup is closed once it answered: a hidden page draws no
        // frames, and check-page waits for two after each --eval.
        let handOff = """
            new Promise((resolve) => {
              const open = window.open;
              let ui = null;
              window.open = (...args) => (ui = open.apply(window, args));
              window.addEventListener('message', (e) => {
                if (e.data && e.data.received !== undefined) { ui.close(); resolve(JSON.stringify(e.data)); }
              });
              document.getElementById('open-perfetto').click();
              setTimeout(() => { if (ui) ui.close(); resolve('no answer'); }, 20000);
            })
            """
        let check = try Self.check("http://127.0.0.1:\(port)/report.html", [
            "--allow", "http://127.0.0.1:\(port)/", "--allow", "http://localhost:\(port)/",
            "--eval", handOff, "--eval", "document.getElementById('perfetto-status').textContent",
        ])
        #expect(check.status == 0, "\(check.output)")
        let got = try Self.facts(check.values.first)
        #expect(got["received"] as? Int == export.count)
        #expect(got["sum"] as? Int == Int(export.reduce(UInt32(0)) { $0 &* 31 &+ UInt32($1) }))
        #expect(got["title"] as? String == "traced: cafe-0.trace, cafe-1.trace")
        #expect(got["fileName"] as? String == "cafe-0.pftrace")
        #expect(check.values.last as? String == "Handed the trace to Perfetto UI (97.7 KiB).")
    }

    static func text(_ page: [UInt8]) -> String { String(decoding: page, as: UTF8.self) }
}

extension HTMLReportPageTests {
    /// The page drawn from what `tracectl report --json` prints for a real
    /// trace (TraceFixture's async scenario: tasks in a task group, a task
    /// ended on another thread, regions hopping executors, logs), with the
    /// trace's Perfetto export from `tracectl export` embedded.
    /// `tracectl report --html` end to end: the page of a real trace draws,
    /// a bucket lists its sampled tasks, a task opens its timeline, and the
    /// embedded export is `tracectl export`'s, byte for byte.
    @Test func reportHTMLOfARealTraceDrawsItsBucketsTasksAndExport() throws {
        let directory = try TemporaryDirectory("report-html")
        let trace = directory.file("async.trace")
        let recorded = try Processes.fixture("async", ["out": trace])
        #expect(recorded.status == 0, "\(recorded.standardError)")
        let page = directory.file("report.html")
        let written = try Processes.run(Processes.executable("tracectl"), ["report", trace, "--html", page])
        #expect(written.status == 0, "\(written.standardError)")
        #expect(written.lines.last == "wrote \(page)")
        let mode = (try FileManager.default.attributesOfItem(atPath: page)[.posixPermissions] as? Int) ?? -1
        #expect(mode == 0o600, "the page holds log messages: private like the trace")
        #expect(!FileManager.default.fileExists(atPath: page + ".partial") && !FileManager.default.fileExists(atPath: page + ".pftrace"))
        let printed = try Processes.run(Processes.executable("tracectl"), ["report", "--json", trace])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(printed.standardOutput.utf8)) as? [String: Any])
        let pftrace = directory.file("async.pftrace")
        let exported = try Processes.run(Processes.executable("tracectl"), ["export", "--format", "perfetto", trace, "-o", pftrace])
        #expect(exported.status == 0, "\(exported.standardError)")
        let export = try [UInt8](Data(contentsOf: URL(fileURLWithPath: pftrace)))
        let check = try Self.check(page, [
            "--eval", "document.querySelector('#tasks .bucket').click()",
            "--eval", "document.querySelectorAll('#bucket-tasks .task-row').length",
            "--eval", "document.querySelector('#bucket-tasks .task-row').click()",
            "--eval", "document.querySelectorAll('#timeline .bar').length",
            "--eval", "atob(document.getElementById('perfetto').textContent) === String.fromCharCode(...[\(export.prefix(64).map(String.init).joined(separator: ","))]) + atob(document.getElementById('perfetto').textContent).slice(64)",
            "--eval", "atob(document.getElementById('perfetto').textContent).length",
            "--eval", Self.facts,
        ])
        #expect(check.status == 0, "\(check.output)")
        let tasks = try #require(report["tasks"] as? [Any])
        #expect(!tasks.isEmpty)
        #expect((check.values[1] as? Int ?? 0) > 0, "the bucket lists no task")
        #expect((check.values[3] as? Int ?? 0) > 0, "the task's timeline has no bar")
        #expect(check.values[4] as? Bool == true)
        #expect(check.values[5] as? Int == export.count)
        let facts = try Self.facts(check.values.last)
        #expect(facts["cards"] as? Int == tasks.count)
        #expect(facts["regionRows"] as? Int == (report["regions"] as? [Any])?.count)
        #expect(facts["perfetto"] as? String == "embedded")
    }
}
