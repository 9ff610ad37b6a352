import CTraceABI
import Foundation
import Testing
import TestSupport
import TraceAnalysis
import TraceExport
import TraceFormat
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Two functions of this test's own executable: a CPU sample's stack is
/// these two return addresses, which the export's symbolizer must name.
@_cdecl("traced_export_test_leaf") func tracedExportTestLeaf() {}
@_cdecl("traced_export_test_root") func tracedExportTestRoot() {}

/// A hand-written trace with kernel batches, exported in both formats and
/// read back by Perfetto's own trace_processor: every switch, wakeup and
/// wait becomes the thread state trace_processor derives (or the JSON
/// slice), every CPU sample a `perf_sample` with its symbolized callstack,
/// and every tid belongs to its process.
///
/// The trace: process 1 (cafe, pid 100) with the client's threads main
/// (101) and worker (102), and helper (103), which only the kernel saw;
/// process 2 (pid 200), which traced records by pid, with thread 201.
///
///     cpu0  main 1000-2000 > worker 2000-3500 . worker 5050-8000 (dies)
///     cpu1  helper 1600-2400 . main 2600-4000 . main 4200-6000 . main 7100-
///     cpu2  201 8500-
///
/// main waits for a futex from 2000 (woken by worker at 2500), is preempted
/// at 4000, reads from a disk from 6000 (woken by an interrupt at 7000);
/// worker sleeps from 3500 to 5000 (and wakes main at 3200, while it
/// runs: a wakeup that changes nothing); helper waits in epoll_wait from 2400
/// until 201 wakes it at 9000, the trace's last event; 201 leaves its CPU at
/// 8900 to wait in a kernel function outside any system call (the report's
/// unknown). main's region "brew" runs 1000-5000; main is sampled at 3000,
/// 201 at 8800.
///
/// Process stats: cafe's nine at 1000 and four again at 8000 (in main's
/// batch), with one of a kind no reader knows (99); process 2's thread
/// count at 8600.
struct KernelExportTests {
    static let lastTime: Int64 = 9000

    /// Writes the trace; its sample stack's two return addresses are in
    /// this executable (the first byte after each function's start).
    static func writeTrace(_ path: String) throws {
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1, pid: 100, name: "cafe")
        try trace.process(2, pid: 200, name: "other")
        try trace.strings(1, [1: "brew", 0x8000_0001: "futex", 0x8000_0002: "clock_nanosleep", 0x8000_0003: "read",
                              0x8000_0004: "epoll_wait", 0x8000_0005: "helper"])
        try trace.thread(1, index: 1, tid: 101, name: "main")
        try trace.thread(1, index: 2, tid: 102, name: "worker")
        let leaf: @convention(c) () -> Void = tracedExportTestLeaf
        let root: @convention(c) () -> Void = tracedExportTestRoot
        let image = try #require(Self.image(containing: unsafeBitCast(leaf, to: UInt.self)))
        try trace.metadata(1, .image(image))
        try trace.metadata(1, .stack(StackRecord(id: 1, frames: [UInt64(unsafeBitCast(leaf, to: UInt.self)) + 1,
                                                                 UInt64(unsafeBitCast(root, to: UInt.self)) + 1])))
        // Cut at the kernel's bound: its root is a "[cut]" frame.
        try trace.metadata(2, .stack(StackRecord(id: 1, frames: [0x1234, 0x5678], cut: true)))
        try trace.strings(2, [0x8000_0001: "do_signal_stop"])

        var brew = EventEncoding()
        brew.regionBegin(dt: 0, type: 1)
        brew.regionEnd(dt: 4000, back: 0)
        try trace.batch(process: 1, thread: 1, base: 1000, brew)

        var main = KernelEventEncoding()
        main.switchIn(dt: 0, cpu: 0)                                                                    // 1000
        for (what, value) in Self.firstStats { main.stat(dt: 0, what: what, value: value) }             // 1000
        main.switchOut(dt: 1000, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, why: 0x8000_0001) // 2000
        main.wakeup(dt: 500, wakerProcess: 1, wakerTid: 102, cpu: 1)                                    // 2500
        main.switchIn(dt: 100, cpu: 1)                                                                  // 2600
        main.sample(dt: 400, cpu: 1, stack: 1)                                                          // 3000
        main.wakeup(dt: 200, wakerProcess: 1, wakerTid: 102, cpu: 1)                                    // 3200
        main.switchOut(dt: 800, state: TC_STATE_RUNNABLE, cpu: 1)                                       // 4000
        main.switchIn(dt: 200, cpu: 1)                                                                  // 4200
        main.switchOut(dt: 1800, state: TC_STATE_DISK, cpu: 1, wait: TC_WAIT_IO, why: 0x8000_0003)      // 6000
        main.wakeup(dt: 1000, wakerProcess: 0, wakerTid: 0, cpu: 1)                                     // 7000
        main.switchIn(dt: 100, cpu: 1)                                                                  // 7100
        main.stat(dt: 900, what: TC_STAT_USER_CPU_NS, value: 3_000_000)                                 // 8000
        main.stat(dt: 0, what: TC_STAT_RSS_BYTES, value: 9 << 20)
        main.stat(dt: 0, what: TC_STAT_THREADS, value: 2)
        main.stat(dt: 0, what: TC_STAT_VOLUNTARY_SWITCHES, value: 14)
        main.stat(dt: 0, what: 99, value: 7)
        try trace.kernelBatch(process: 1, tid: 101, base: 1000, main)

        var worker = KernelEventEncoding()
        worker.switchIn(dt: 0, cpu: 0)                                                                  // 2000
        worker.switchOut(dt: 1500, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_SLEEP, why: 0x8000_0002) // 3500
        worker.wakeup(dt: 1500, wakerProcess: 0, wakerTid: 0, cpu: 0)                                   // 5000
        worker.switchIn(dt: 50, cpu: 0)                                                                 // 5050
        worker.switchOut(dt: 2950, state: TC_STATE_DEAD, cpu: 0)                                        // 8000
        worker.exit(dt: 1)                                                                              // 8001
        try trace.kernelBatch(process: 1, tid: 102, base: 2000, worker)

        var helper = KernelEventEncoding()
        helper.name(dt: 0, name: 0x8000_0005)                                                           // 1500
        helper.switchIn(dt: 100, cpu: 1)                                                                // 1600
        helper.switchOut(dt: 800, state: TC_STATE_SLEEPING, cpu: 1, wait: TC_WAIT_IO, why: 0x8000_0004) // 2400
        helper.wakeup(dt: 6600, wakerProcess: 2, wakerTid: 201, cpu: 1)                                 // 9000
        try trace.kernelBatch(process: 1, tid: 103, base: 1500, helper)

        var other = KernelEventEncoding()
        other.switchIn(dt: 0, cpu: 2)                                                                   // 8500
        other.stat(dt: 100, what: TC_STAT_THREADS, value: 1)                                            // 8600
        other.sample(dt: 200, cpu: 2, stack: 1)                                                         // 8800
        other.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 2, wait: TC_WAIT_NONE, why: 0x8000_0001) // 8900
        try trace.kernelBatch(process: 2, tid: 201, base: 8500, other)
        try trace.finish()
    }

    /// cafe's stats at 1000: every kind traced records.
    static let firstStats: [(Int, UInt64)] = [
        (TC_STAT_USER_CPU_NS, 1_000_000), (TC_STAT_SYSTEM_CPU_NS, 500_000), (TC_STAT_RSS_BYTES, 8 << 20),
        (TC_STAT_THREADS, 3), (TC_STAT_OPEN_FDS, 12), (TC_STAT_MINOR_FAULTS, 100), (TC_STAT_MAJOR_FAULTS, 2),
        (TC_STAT_VOLUNTARY_SWITCHES, 10), (TC_STAT_INVOLUNTARY_SWITCHES, 1),
    ]

    /// The image record of the loaded file holding `address`, from
    /// /proc/self/maps: its load address (where its offset 0 is mapped) as
    /// the bias, its whole address space as the text.
    static func image(containing address: UInt) -> ImageRecord? {
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return nil }
        let lines = maps.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        func range(_ fields: [Substring]) -> (UInt, UInt)? {
            let bounds = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            return bounds.count == 2 ? (bounds[0], bounds[1]) : nil
        }
        guard let line = lines.first(where: { $0.count >= 6 && range($0).map { $0.0 <= address && address < $0.1 } == true })
        else { return nil }
        let path = String(line[5])
        guard let base = lines.filter({ $0.count >= 6 && $0[5] == line[5] && UInt($0[2], radix: 16) == 0 })
            .compactMap({ range($0)?.0 }).min() else { return nil }
        return ImageRecord(bias: UInt64(base), textLow: 0, textHigh: 1 << 40, buildID: [0xab, 0xcd, 0xef], path: path)
    }

    /// A value of a query's row as text, "-" for NULL.
    static func text(_ value: Any?) -> String { value.map { $0 is NSNull ? "-" : "\($0)" } ?? "-" }

    static func export(_ trace: String, _ format: TraceExporter.Format, to path: String) throws -> TraceExporter.Summary {
        let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC)
        defer { fd.close() }
        return try TraceExporter.export(paths: [trace], format: format, to: fd, callstacks: false)
    }

    @Test func threadStatesAndSamplesReadBackFromThePerfettoExport() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("kernel.trace")
        try Self.writeTrace(trace)
        let path = directory.file("kernel.pftrace")
        let summary = try Self.export(trace, .perfetto, to: path)
        #expect(summary.kernelEvents == 39 && summary.unknownStats == 1 && summary.regions == 1)
        let read = try TraceReaders.check(path, queries: [
            """
            SELECT t.tid, s.ts, s.dur, s.state, s.cpu, s.io_wait, s.blocked_function, w.tid AS waker
            FROM thread_state s JOIN thread t USING (utid) LEFT JOIN thread w ON s.waker_utid = w.utid
            ORDER BY t.tid, s.ts
            """,
            "SELECT t.tid, p.pid FROM thread t JOIN process p USING (upid) WHERE t.tid != 0 ORDER BY t.tid",
            """
            WITH RECURSIVE chain(sample, id, depth) AS (
              SELECT id, callsite_id, 0 FROM perf_sample
              UNION ALL
              SELECT chain.sample, c.parent_id, chain.depth + 1 FROM chain JOIN stack_profile_callsite c ON c.id = chain.id
              WHERE c.parent_id IS NOT NULL)
            SELECT s.ts, t.tid, s.cpu, s.cpu_mode, chain.depth, f.name AS function, m.name AS mapping, m.build_id
            FROM chain JOIN perf_sample s ON s.id = chain.sample JOIN thread t USING (utid)
            JOIN stack_profile_callsite c ON c.id = chain.id JOIN stack_profile_frame f ON f.id = c.frame_id
            JOIN stack_profile_mapping m ON m.id = f.mapping
            ORDER BY s.ts, chain.depth
            """,
            "SELECT COUNT(*) AS samples FROM perf_sample",
            "SELECT s.cpu, s.ts, s.dur, t.tid, s.priority FROM sched s JOIN thread t USING (utid) WHERE t.tid != 0 ORDER BY s.cpu, s.ts",
        ])
        #expect(read.stats.isEmpty, "\(read.stats)")
        #expect(read.totalSlices == 1 && read.unfinished == 0 && read.named("brew") == 1)
        // What trace_processor derives: every state of every thread, with
        // its CPU when running, its wait's function and I/O flag (set for
        // what the report calls io, S or D; a wait the report does not name
        // has neither), its waker (0: an interrupt); the states open at the
        // trace's end last -1.
        let states = read.rows(0).map { row in
            ["tid", "ts", "dur", "state", "cpu", "io_wait", "blocked_function", "waker"].map { Self.text(row[$0]) }.joined(separator: " ")
        }
        #expect(states == [
            "101 1000 1000 Running 0 - - -",
            "101 2000 500 S - 0 futex -",
            "101 2500 100 R - - - 102",
            "101 2600 1400 Running 1 - - -",
            "101 4000 200 R - - - -",
            "101 4200 1800 Running 1 - - -",
            "101 6000 1000 D - 1 read -",
            "101 7000 100 R - - - 0",
            "101 7100 -1 Running 1 - - -",
            "102 2000 1500 Running 0 - - -",
            "102 3500 1500 S - 0 clock_nanosleep -",
            "102 5000 50 R - - - 0",
            "102 5050 2950 Running 0 - - -",
            "102 8000 -1 X - - - -",
            "103 1600 800 Running 1 - - -",
            "103 2400 6600 S - 1 epoll_wait -",
            "103 9000 -1 R - - - 201",
            "201 8500 400 Running 2 - - -",
            "201 8900 -1 S - - - -",
        ], "\(states.joined(separator: "\n"))")
        // Every tid in its process, the client's threads and the kernel's alike.
        var pids: [Int: Int] = [:]
        for row in read.rows(1) { if let tid = row["tid"] as? Int { pids[tid] = row["pid"] as? Int } }
        #expect(pids[101] == 100 && pids[102] == 100 && pids[103] == 100 && pids[201] == 200, "\(pids)")
        #expect(read.threadNames[101] == "main" && read.threadNames[102] == "worker" && read.threadNames[103] == "helper")
        #expect(read.threadNames[201] == nil, "a thread the kernel never named has no name")
        // Each sample's frames, innermost (depth 0) first, named by the symbolizer.
        let image = try #require(Self.image(containing: unsafeBitCast(tracedExportTestLeaf as @convention(c) () -> Void,
                                                                      to: UInt.self)))
        let frames = read.rows(2).map { row in
            let mapping = Self.text(row["mapping"]) == image.path ? "image" : Self.text(row["mapping"])
            return ["ts", "tid", "cpu", "cpu_mode", "depth", "function"].map { Self.text(row[$0]) }.joined(separator: " ")
                + " \(mapping) \(Self.text(row["build_id"]))"
        }
        #expect(frames == [
            "3000 101 1 user 0 traced_export_test_leaf image abcdef",
            "3000 101 1 user 1 traced_export_test_root image abcdef",
            "8800 201 2 user 0 0x1234  ",
            "8800 201 2 user 1 0x5678  ",
            "8800 201 2 user 2 [cut]  ",
        ], "\(frames.joined(separator: "\n"))")
        #expect(read.rows(3).first?["samples"] as? Int == 2)
        // The CPUs' runs: main gives cpu0 to worker at 2000 in one switch;
        // a normal thread's priority (0 would read as real-time in the UI).
        let runs = read.rows(4).map { row in ["cpu", "ts", "dur", "tid", "priority"].map { Self.text(row[$0]) }.joined(separator: " ") }
        #expect(runs == ["0 1000 1000 101 120", "0 2000 1500 102 120", "0 5050 2950 102 120", "1 1600 800 103 120",
                         "1 2600 1400 101 120", "1 4200 1800 101 120", "1 7100 -1 101 120", "2 8500 400 201 120"], "\(runs)")
    }

    @Test func threadStatesAreSlicesOfTheirOwnLanesInTheChromeJSONExport() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("kernel.trace")
        try Self.writeTrace(trace)
        let path = directory.file("kernel.json")
        _ = try Self.export(trace, .chromeJSON, to: path)
        let read = try TraceReaders.check(path, queries: [
            """
            SELECT t.name AS lane, s.name, s.ts, s.dur, s.depth, a.int_value AS cpu FROM slice s
            JOIN thread_track tt ON s.track_id = tt.id JOIN thread t USING (utid)
            LEFT JOIN args a ON a.arg_set_id = s.arg_set_id AND a.key = 'args.cpu'
            WHERE s.category = 'thread_state' ORDER BY lane, s.ts
            """,
        ])
        #expect(read.json["trace_type"] as? String == "json")
        #expect(read.stats.isEmpty, "\(read.stats)")
        #expect(read.unfinished == 0)
        #expect(read.category("region").count == 1 && read.category("thread_state").count == 17)
        // The region stays alone on main's own lane, where it nests.
        let tracks = (read.json["slices"] as? [String: Any])?["by_track"] as? [[String: Any]] ?? []
        #expect(tracks.first { $0["tid"] as? Int == 101 }?["count"] as? Int == 1)
        #expect(tracks.allSatisfy { $0["max_depth"] as? Int == 0 })
        let slices = read.rows(0).map { row in ["lane", "name", "ts", "dur", "cpu"].map { Self.text(row[$0]) }.joined(separator: " | ") }
        // States that last no time (helper's runnable at the trace's end)
        // make no slice; a dead thread's last state ends at its switch.
        #expect(slices == [
            "helper 103 state | running | 1600 | 800 | 1",
            "helper 103 state | io: epoll_wait | 2400 | 6600 | -",
            "main 101 state | running | 1000 | 1000 | 0",
            "main 101 state | lock: futex | 2000 | 500 | -",
            "main 101 state | runnable | 2500 | 100 | -",
            "main 101 state | running | 2600 | 1400 | 1",
            "main 101 state | runnable | 4000 | 200 | -",
            "main 101 state | running | 4200 | 1800 | 1",
            "main 101 state | io: read | 6000 | 1000 | -",
            "main 101 state | runnable | 7000 | 100 | -",
            "main 101 state | running | 7100 | 1900 | 1",
            "thread 201 state | running | 8500 | 400 | 2",
            "thread 201 state | unknown: do_signal_stop | 8900 | 100 | -",
            "worker 102 state | running | 2000 | 1500 | 0",
            "worker 102 state | sleep: clock_nanosleep | 3500 | 1500 | -",
            "worker 102 state | runnable | 5000 | 50 | -",
            "worker 102 state | running | 5050 | 2950 | 0",
        ], "\(slices.joined(separator: "\n"))")
        #expect(read.threadNames[101] == "main", "the thread's own lane keeps its name")
    }

    /// Process stats read back from both exports as counter tracks of their
    /// process, one per stat, named "stat NAME": in the Perfetto export
    /// with its unit (ns, bytes, count), in the JSON export as `C` events
    /// (which trace_processor names "NAME value"). The stat of a kind no
    /// reader knows is in neither, and counted.
    @Test func processStatsAreCounterTracksOfTheirProcessInBothExports() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("kernel.trace")
        try Self.writeTrace(trace)
        let query = """
            SELECT p.pid, t.name, t.unit, c.ts, CAST(c.value AS INT) AS value
            FROM process_counter_track t JOIN process p USING (upid) JOIN counter c ON c.track_id = t.id
            WHERE t.name GLOB 'stat *' ORDER BY p.pid, t.name, c.ts
            """
        func counters(_ read: TraceReaders) -> [String] {
            read.rows(0).map { row in ["pid", "name", "unit", "ts", "value"].map { Self.text(row[$0]) }.joined(separator: " | ") }
        }

        let protobuf = directory.file("stats.pftrace")
        #expect(try Self.export(trace, .perfetto, to: protobuf).unknownStats == 1)
        let perfetto = try TraceReaders.check(protobuf, queries: [query])
        #expect(perfetto.stats.isEmpty, "\(perfetto.stats)")
        let tracks = counters(perfetto)
        #expect(tracks == [
            "100 | stat involuntary-switches | count | 1000 | 1",
            "100 | stat major-faults | count | 1000 | 2",
            "100 | stat minor-faults | count | 1000 | 100",
            "100 | stat open-fds | count | 1000 | 12",
            "100 | stat rss-bytes | bytes | 1000 | 8388608",
            "100 | stat rss-bytes | bytes | 8000 | 9437184",
            "100 | stat system-cpu-ns | ns | 1000 | 500000",
            "100 | stat threads | count | 1000 | 3",
            "100 | stat threads | count | 8000 | 2",
            "100 | stat user-cpu-ns | ns | 1000 | 1000000",
            "100 | stat user-cpu-ns | ns | 8000 | 3000000",
            "100 | stat voluntary-switches | count | 1000 | 10",
            "100 | stat voluntary-switches | count | 8000 | 14",
            "200 | stat threads | count | 8600 | 1",
        ], "\(tracks.joined(separator: "\n"))")

        let text = directory.file("stats.json")
        #expect(try Self.export(trace, .chromeJSON, to: text).unknownStats == 1)
        let json = try TraceReaders.check(text, queries: [query.replacingOccurrences(of: "'stat *'", with: "'stat * value'")])
        #expect(json.stats.isEmpty, "\(json.stats)")
        // The same values at the same times, microseconds written with
        // three decimals; the format has no units.
        let jsonTracks = counters(json)
        #expect(jsonTracks == tracks.map { line in
            var fields = line.components(separatedBy: " | ")
            fields[1] += " value"
            fields[2] = "-"
            return fields.joined(separator: " | ")
        }, "\(jsonTracks.joined(separator: "\n"))")
    }

    /// A damaged trace's CPU numbers past what trace_processor takes (it
    /// refuses such a bundle, and the trace with it): those switches are
    /// left out and counted, the rest loads.
    @Test func switchesOnCPUsPastTheLimitAreLeftOutAndCounted() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("cpus.trace")
        let writer = try HandWrittenTrace(path: trace)
        try writer.process(1, pid: 100, name: "cafe")
        var events = KernelEventEncoding()
        events.switchIn(dt: 0, cpu: 3)
        events.switchOut(dt: 100, state: TC_STATE_RUNNABLE, cpu: 3)
        events.switchIn(dt: 100, cpu: 1_000_000)
        events.switchOut(dt: 100, state: TC_STATE_RUNNABLE, cpu: 1_000_000)
        try writer.kernelBatch(process: 1, tid: 101, base: 1000, events)
        try writer.finish()
        let path = directory.file("cpus.pftrace")
        let summary = try Self.export(trace, .perfetto, to: path)
        #expect(summary.kernelEvents == 4 && summary.kernelEventsLeftOut == 2)
        let read = try TraceReaders.check(path, queries: ["SELECT ts, dur, state, cpu FROM thread_state ORDER BY ts"])
        #expect(read.stats.isEmpty, "\(read.stats)")
        let states = read.rows(0).map { row in ["ts", "dur", "state", "cpu"].map { Self.text(row[$0]) }.joined(separator: " ") }
        #expect(states == ["1000 100 Running 3", "1100 -1 R -"], "\(states)")
    }

    /// Enough switches on one CPU for several bundles (written 4096 events
    /// at a time), each instant's three events (a switch-out, the switch-in
    /// it pairs with, a wakeup) split by no bundle: every switch stays one
    /// `sched_switch` from one thread to the other, so the CPU is never
    /// idle (no slice of pid 0) and every state but the last lasts 100 ns.
    @Test func switchesSpanningSeveralBundlesStayPaired() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.file("many.trace")
        let writer = try HandWrittenTrace(path: trace)
        try writer.process(1, pid: 300, name: "pingpong")
        let instants = 3000
        // ping and pong take turns on cpu0 every 100 ns (each has an event
        // at every instant), and woken, already runnable, is woken at each.
        var ping = KernelEventEncoding(), pong = KernelEventEncoding(), woken = KernelEventEncoding()
        for i in 0..<instants {
            let dt: UInt64 = i == 0 ? 0 : 100
            if i % 2 == 0 {
                ping.switchOut(dt: dt, state: TC_STATE_RUNNABLE, cpu: 0)
                pong.switchIn(dt: dt, cpu: 0)
            } else {
                pong.switchOut(dt: dt, state: TC_STATE_RUNNABLE, cpu: 0)
                ping.switchIn(dt: dt, cpu: 0)
            }
            woken.wakeup(dt: dt, wakerProcess: 0, wakerTid: 0, cpu: 0)
        }
        try writer.kernelBatch(process: 1, tid: 301, base: 1000, ping)
        try writer.kernelBatch(process: 1, tid: 302, base: 1000, pong)
        try writer.kernelBatch(process: 1, tid: 303, base: 1000, woken)
        try writer.finish()
        let path = directory.file("many.pftrace")
        let summary = try Self.export(trace, .perfetto, to: path)
        #expect(summary.kernelEvents == 3 * instants)
        let read = try TraceReaders.check(path, queries: [
            "SELECT dur, COUNT(*) AS count FROM thread_state GROUP BY dur ORDER BY dur",
            "SELECT COUNT(*) AS runs, SUM(utid = 0) AS idle FROM sched",
        ])
        #expect(read.stats.isEmpty, "\(read.stats)")
        let durations = read.rows(0).map { "\(Self.text($0["dur"])) x\(Self.text($0["count"]))" }
        #expect(durations == ["-1 x3", "100 x\(2 * instants - 2)"], "\(durations)")
        #expect(read.rows(1).first?["runs"] as? Int == instants && read.rows(1).first?["idle"] as? Int == 0, "\(read.rows(1))")
    }
}
