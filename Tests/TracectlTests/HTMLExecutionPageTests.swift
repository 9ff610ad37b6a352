import Foundation
import Testing
import TestSupport

/// The report page of a trace with kernel events (TestSupport's
/// ExecutionTrace) in headless Chromium: "Where the time went" splits each
/// type's wall time, with the scheduler latency and the blocking stacks; a
/// task's timeline has its thread's states under its regions, and its pane
/// the task's split and its waits. The page of the same trace without
/// kernel events has none of it.
extension HTMLReportPageTests {
    static let executionFacts = """
        JSON.stringify({
          sections: [...document.getElementById('app').children].map((s) => s.id),
          nav: [...document.querySelectorAll('nav.sections a')].map((a) => a.textContent),
          types: [...document.querySelectorAll('#activity-table tbody tr')].map((r) => r.dataset.kind + ' ' + r.dataset.type),
          bar: [...document.querySelectorAll('#activity-table tr[data-type="order"] .act')]
            .map((e) => e.dataset.activity + ' ' + parseFloat(e.style.width).toFixed(1)),
          shares: [...document.querySelectorAll('#activity-table tr[data-type="order"] td.num')].map((e) => e.textContent),
          latency: document.getElementById('scheduler-latency')?.textContent ?? null,
          blocking: [...document.querySelectorAll('#blocking-table tbody tr')].map((r) => [...r.children].map((c) => c.textContent).join('|')),
          states: [...document.querySelectorAll('#timeline .track.states .spart')]
            .map((e) => e.dataset.activity + ' ' + parseFloat(e.style.width).toFixed(1)),
          stateLabels: [...document.querySelectorAll('#timeline .lab.states')].map((e) => e.textContent),
          taskActivity: [...document.querySelectorAll('#task-activity tbody tr')].map((r) => [...r.children].map((c) => c.textContent).join('|')),
          waits: [...document.querySelectorAll('#task-waits tbody tr')].map((r) => [...r.children].slice(0, 7).map((c) => c.textContent).join('|')),
          legends: document.querySelectorAll('.legend').length,
          regions: document.querySelectorAll('#timeline .bar.region').length,
        })
        """

    /// The facts of the page `tracectl report --html` writes for
    /// ExecutionTrace, after opening its task's timeline.
    static func executionPage(kernel: Bool) throws -> [String: Any] {
        let directory = try TemporaryDirectory("report-html-execution")
        let trace = directory.file("execution.trace")
        try ExecutionTrace.write(trace, kernel: kernel)
        let page = directory.file("report.html")
        let written = try Processes.run(Processes.executable("tracectl"), ["report", trace, "--html", page])
        #expect(written.status == 0, "\(written.standardError)")
        let check = try Self.check(page, [
            "--eval", #"document.querySelector('.card[data-task-type="order"] .bucket').click()"#,
            "--eval", "document.querySelector('#bucket-tasks .task-row').click()",
            "--eval", Self.executionFacts,
        ])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.errors.isEmpty)
        return try Self.facts(check.values.last)
    }

    @Test func theExecutionSectionSplitsEachTypeAndListsTheBlockingStacks() throws {
        let facts = try Self.executionPage(kernel: true)
        #expect(facts["sections"] as? [String] == ["tasks", "execution", "regions", "counters", "logs", "losses"])
        #expect(facts["nav"] as? [String] == ["Tasks", "Where the time went", "Regions", "Counters", "Logs", "Losses & diagnostics"])
        #expect(facts["types"] as? [String] == ["task order", "region brew", "region grind"])
        // 840, 260, 300 and 100 of 1500 ns.
        #expect(facts["bar"] as? [String] == ["running 56.0", "runnable 17.3", "lock 20.0", "io 6.7"])
        #expect(facts["shares"] as? [String] == ["56 %", "17.3 %", "20 %", "6.67 %", "–", "–", "–", "–"])
        #expect(facts["latency"] as? String
                == "Scheduler latency (from a wakeup to the switch-in that ends it): 5 wakeups · p50 20 ns · p90 100 ns · p99 100 ns · max 100 ns")
        #expect(facts["blocking"] as? [String] == [
            "lock|futex|300 ns|2|0x1000\n0x2000\n0x3000", "io|–|100 ns|1|0x4000", "syscall|wait4|100 ns|1|0x4000",
            "sleep|nanosleep|90 ns|1|no user stack recorded",
        ])
    }

    @Test func aTasksTimelineHasItsThreadsStatesAndItsPaneItsSplitAndWaits() throws {
        let facts = try Self.executionPage(kernel: true)
        #expect(facts["regions"] as? Int == 2)
        #expect(facts["stateLabels"] as? [String] == ["main (100) · state"])
        // The task's 1500 ns from 1000 to 2500, each part's share of the axis.
        #expect(facts["states"] as? [String] == [
            "running 6.7", "lock 13.3", "runnable 3.3", "running 23.3", "runnable 6.7", "running 20.0", "io 6.7", "runnable 6.7",
            "running 3.3", "lock 6.7", "runnable 0.7", "running 2.7",
        ])
        #expect(facts["taskActivity"] as? [String] == ["running|840 ns|56 %", "runnable|260 ns|17.3 %", "lock|300 ns|20 %", "io|100 ns|6.67 %"])
        #expect(facts["waits"] as? [String] == [
            "+100 ns|lock|futex|200 ns|brew|main (100)|thread 200 (worker)",
            "+1.1 µs|io|–|100 ns|grind|main (100)|an interrupt or another process",
            "+1.35 µs|lock|futex|100 ns|grind|main (100)|thread 200 (worker)",
        ])
        // Under the timeline and in the section.
        #expect(facts["legends"] as? Int == 2)
    }

    /// TestSupport's LossyTrace: a blocking stack cut at the kernel's bound
    /// says so after its frames, and the losses table has the kernel
    /// collector's "kernel ring full", of no pid.
    @Test func aCutStackAndTheKernelCollectorsLossesAreShown() throws {
        let directory = try TemporaryDirectory("report-html-losses")
        let trace = directory.file("lossy.trace")
        try LossyTrace.write(trace)
        let page = directory.file("report.html")
        let written = try Processes.run(Processes.executable("tracectl"), ["report", trace, "--html", page])
        #expect(written.status == 0, "\(written.standardError)")
        let check = try Self.check(page, ["--eval", """
            JSON.stringify({
              blocking: [...document.querySelectorAll('#blocking-table tbody tr')].map((r) => [...r.children].map((c) => c.textContent).join('|')),
              drops: [...document.querySelectorAll('#drop-table tbody tr')].map((r) => [...r.children].map((c) => c.textContent).join('|')),
            })
            """])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.errors.isEmpty)
        let facts = try Self.facts(check.values.last)
        #expect(facts["blocking"] as? [String] == [
            // The innermost 8 frames, then the cut.
            "lock|futex|200 ns|1|" + (LossyTrace.frames.prefix(8) + ["… (cut: the kernel records at most 127 frames)"]).joined(separator: "\n"),
        ])
        #expect(facts["drops"] as? [String] == [
            "kernel collector|kernel ring full|1,234", "cafe (pid 42)|buffer full|3", "total||1,237",
        ])
    }

    @Test func thePageOfATraceWithoutKernelEventsHasNoneOfIt() throws {
        let facts = try Self.executionPage(kernel: false)
        #expect(facts["sections"] as? [String] == ["tasks", "regions", "counters", "logs", "losses"])
        #expect(facts["nav"] as? [String] == ["Tasks", "Regions", "Counters", "Logs", "Losses & diagnostics"])
        #expect(facts["regions"] as? Int == 2)
        #expect(facts["latency"] is NSNull)
        for key in ["types", "bar", "blocking", "states", "stateLabels", "taskActivity", "waits"] {
            #expect((facts[key] as? [Any])?.isEmpty == true, "\(key)")
        }
        #expect(facts["legends"] as? Int == 0)
    }
}
