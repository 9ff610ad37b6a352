import Foundation
import TestSupport
import Testing
import TraceFormat

/// Execution events end to end: traced records what the kernel saw of a
/// client whose truths are known (TraceFixture's `execution` scenario), and
/// `tracectl report` splits each task's wall time by it.
/// Not tagged `concurrency`: under ThreadSanitizer the instrumented fixture
/// spins in TSan's runtime, not in its own function, and the truths are
/// about the kernel's view, not races (traced's loop is one thread).
@Suite(.serialized) struct ExecutionTests {
    /// Each truth within 5 % or 200 µs, whichever is larger.
    static func near(_ measured: Int64, _ truth: Int64) -> Bool {
        abs(measured - truth) <= max(truth / 20, 200_000)
    }

    /// Running time, from the kernel's switches, against the thread's own
    /// CPU clock: within `near`'s margin below it, up to a tenth above. On
    /// a VM the time between a switch-in and the next switch-out also holds
    /// what the thread's CPU clock leaves out (interrupts, time the host
    /// took), more the more often the thread is preempted: 10.61 against
    /// 10.05 ms with 18.8 ms runnable in a full run. Counting its runnable
    /// time as running would still be twice the CPU time or more.
    static func runningNear(_ running: Int64, cpu: Int64) -> Bool {
        running >= cpu - max(cpu / 20, 200_000) && running <= cpu + max(cpu / 10, 200_000)
    }

    /// Records TraceFixture's `execution` scenario through a session of
    /// `daemon`, with execution events lost none: the fetched trace, and
    /// the fixture's `key=value` lines.
    static func recordTruths(_ daemon: TracedDaemon) throws -> (path: String, values: [String: String]) {
        let started = try daemon.tracectl(["start", "truths"])
        #expect(started.status == 0, "\(started.standardError)")
        let fixture = try Background(Processes.executable("TraceFixture"), ["execution", "--wait", "10"],
                                     environment: daemon.clientEnvironment)
        let run = fixture.wait()
        #expect(run.status == 0, "\(run.standardError)")
        let stopped = try daemon.tracectl(["stop", "truths"])
        #expect(stopped.status == 0, "\(stopped.standardError)")
        let status = stopped.standardOutput
        #expect(status.contains("execution events"), "\(status)")
        #expect(status.contains("lost 0"), "\(status)")
        let path = daemon.directory.file("truths.trace")
        #expect(try daemon.tracectl(["fetch", "truths", "-o", path]).status == 0)
        return (path, run.values)
    }

    /// The report's split (`activity`, nanoseconds by part) of each task
    /// type of the trace at `path`.
    static func reportedActivity(_ daemon: TracedDaemon, _ path: String) throws -> [String: [String: Int64]] {
        let report = try daemon.tracectl(["report", path, "--json"])
        #expect(report.status == 0, "\(report.standardError)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(report.standardOutput.utf8)) as? [String: Any])
        let rows = try #require(document["tasks"] as? [[String: Any]])
        var types: [String: [String: Int64]] = [:]
        for row in rows {
            guard let type = row["type"] as? String else { continue }
            let parts = try #require(row["activity"] as? [String: NSNumber], "no activity for \(type): \(row)")
            types[type] = parts.mapValues(\.int64Value)
        }
        return types
    }

    @Test func eachTaskSplitsIntoWhatItsThreadDidAndNamesItsWaker() throws {
        let daemon = try TracedDaemon()
        let (path, values) = try Self.recordTruths(daemon)
        let types = try Self.reportedActivity(daemon, path)
        func activity(_ type: String) throws -> [String: Int64] { try #require(types[type], "no task type \(type)") }
        func wall(_ type: String) throws -> Int64 { try activity(type).values.reduce(0, +) }

        let spin = try activity("spin")
        // 10 ms of its CPU time, and the task's few µs around the loop.
        let spun = Int64(values["spin.cpu_ns"] ?? "") ?? 10_000_000
        #expect(spun >= 10_000_000)
        #expect(Self.runningNear(spin["running"] ?? 0, cpu: spun), "spin: \(spin), CPU \(spun) ns")
        let sleep = try activity("sleep")
        #expect(Self.near(sleep["sleep"] ?? 0, 20_000_000), "sleep: \(sleep)")
        let lock = try activity("lock")
        // The waiter blocks from its lock call to the holder's unlock, 5 ms
        // after it (more when the holder's sleep overshoots).
        let released = Int64(values["lock.released_after_ns"] ?? "") ?? 5_000_000
        #expect(released >= 5_000_000)
        #expect(Self.near(lock["lock"] ?? 0, released), "lock: \(lock), released after \(released) ns")
        let pipe = try activity("pipe")
        // The reader waits from its read to the write, 3 ms after it began
        // (more when the writer's sleep overshoots).
        let written = Int64(values["pipe.written_after_ns"] ?? "") ?? 3_000_000
        #expect(written >= 3_000_000)
        #expect(Self.near(pipe["io"] ?? 0, written), "pipe: \(pipe), written after \(written) ns")
        // Three threads spinning on one CPU: what they did not run, they
        // waited for the CPU.
        let crowd = try activity("crowd")
        let crowdWall = try wall("crowd")
        #expect(Self.near((crowd["running"] ?? 0) + (crowd["runnable"] ?? 0), crowdWall), "crowd: \(crowd)")
        #expect((crowd["runnable"] ?? 0) > crowdWall / 3, "crowd: \(crowd)")

        // The waiter on the mutex was woken by its holder; the pipe's
        // reader by its writer (dump: "tidT wakeup by pK tidW").
        let dump = try daemon.tracectl(["dump", path])
        #expect(dump.status == 0)
        func wakers(of tid: String) -> Set<String> {
            Set(dump.standardOutput.split(separator: "\n").compactMap { line -> String? in
                guard line.contains(" tid\(tid) wakeup by "), let by = line.range(of: " tid", options: .backwards) else { return nil }
                return String(line[by.upperBound...].prefix { $0.isNumber })
            })
        }
        let waiter = try #require(values["lock.tid"]), holder = try #require(values["lock.holder"])
        #expect(wakers(of: waiter).contains(holder), "wakers of \(waiter): \(wakers(of: waiter)), holder \(holder)")
        let reader = try #require(values["pipe.tid"]), writer = try #require(values["pipe.writer"])
        #expect(wakers(of: reader).contains(writer), "wakers of \(reader): \(wakers(of: reader)), writer \(writer)")
    }

    /// Swift tasks suspended at an `await` inside a region (TraceFixture's
    /// `suspension` scenario: `Task.sleep` of 20 ms, and a continuation a
    /// pthread resumes 20 ms later): the region's time off any thread is
    /// suspended, within the await, near its length; the task runs little.
    @Test func aSwiftTaskSuspendedAtAnAwaitIsOnNoThreadForAboutTheAwait() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "awaits"]).status == 0)
        let repeats = 3
        let fixture = try Background(Processes.executable("TraceFixture"), ["suspension", "--repeat", "\(repeats)", "--wait", "10"],
                                     environment: daemon.clientEnvironment)
        let run = fixture.wait()
        #expect(run.status == 0, "\(run.standardError)")
        let values = run.values
        let stopped = try daemon.tracectl(["stop", "awaits"])
        #expect(stopped.status == 0 && stopped.standardOutput.contains("lost 0"), "\(stopped.standardOutput)")
        let path = daemon.directory.file("awaits.trace")
        #expect(try daemon.tracectl(["fetch", "awaits", "-o", path]).status == 0)

        let report = try daemon.tracectl(["report", path, "--json"])
        #expect(report.status == 0, "\(report.standardError)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(report.standardOutput.utf8)) as? [String: Any])
        let regions = try #require(document["regions"] as? [[String: Any]])
        for (piece, type) in [("sleep", "awaitSleep"), ("resume", "awaitResume")] {
            let row = try #require(regions.first { $0["type"] as? String == type }, "no region type \(type)")
            let parts = try #require(row["activity"] as? [String: NSNumber], "no activity for \(type): \(row)").mapValues(\.int64Value)
            let awaits = try #require(values["\(piece).await_ns"]).split(separator: ",").compactMap { Int64($0) }
            #expect(awaits.count == repeats && awaits.allSatisfy { $0 >= 20_000_000 }, "\(piece): \(awaits)")
            let awaited = awaits.reduce(0, +), suspended = parts["suspended"] ?? 0
            // The task left its thread after the await began and came back
            // before it returned: suspended lies inside the awaits, and with
            // the time it then waited for a CPU (runnable: the await returns
            // only once it runs, later on a busy machine) makes them up.
            let waited = suspended + (parts["runnable"] ?? 0)
            #expect(suspended <= awaited && Self.near(waited, awaited), "\(type): \(parts), awaited \(awaited) ns")
            #expect((parts["running"] ?? 0) < Int64(repeats) * 1_000_000, "\(type): \(parts)")
            #expect(row["untold"] == nil, "\(type): \(row)")
        }
        let tasks = try daemon.tracectl(["tasks", path, "--type", "suspendedSleep", "--slowest", "1"])
        #expect(tasks.status == 0, "\(tasks.standardError)")
        let line = try #require(tasks.standardOutput.split(separator: "\n").first { $0.contains("├ awaitSleep") })
        // The text names the part (its length is checked in the JSON above,
        // within the tolerance: under load a little runnable time can bring
        // it just under 20 ms).
        #expect(line.contains("suspended 19.") || line.contains("suspended 2"), "\(tasks.standardOutput)")
    }

    /// A process recorded by pid before it registers as a client (a
    /// `--pid`, or a unit's process that connects late; TraceFixture's
    /// `--delay` keeps it from connecting for 2 s): once it registers, the
    /// kernel's events of its threads go under its client key, merge with
    /// its annotations, and the report splits its tasks' time. What traced
    /// recorded before stays under traced's key, which ends there
    /// ("tracing stopped").
    @Test func aProcessRecordedByPidThatRegistersLaterHasItsTasksSplitByItsThreads() throws {
        let daemon = try TracedDaemon()
        let fixture = try Background(Processes.executable("TraceFixture"), ["execution", "--delay", "2000", "--wait", "10"],
                                     environment: daemon.clientEnvironment)
        let started = try daemon.tracectl(["start", "late", "--pid", "\(fixture.pid)"])
        #expect(started.status == 0, "\(started.standardError)")
        let run = fixture.wait()
        #expect(run.status == 0, "\(run.standardError)")
        let stopped = try daemon.tracectl(["stop", "late"])
        #expect(stopped.status == 0 && stopped.standardOutput.contains("lost 0"), "\(stopped.standardOutput)")
        let path = daemon.directory.file("late.trace")
        #expect(try daemon.tracectl(["fetch", "late", "-o", path]).status == 0)

        // Two records of the pid: traced's, from the start, and the client's.
        let reader = TraceReader()
        try reader.read(path: path) { _, _ in }
        #expect(reader.diagnostics.isEmpty, "\(reader.diagnostics)")
        let keys = reader.processes.filter { $0.value.pid == fixture.pid }.map(\.key)
        #expect(keys.count == 2, "\(reader.processes)")
        #expect(Set(keys.compactMap { reader.processEnds[$0]?.reason }) == [.tracingStopped, .exited], "\(reader.processEnds)")

        let report = try daemon.tracectl(["report", path, "--json"])
        #expect(report.status == 0, "\(report.standardError)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(report.standardOutput.utf8)) as? [String: Any])
        let rows = try #require(document["tasks"] as? [[String: Any]])
        let row = try #require(rows.first { $0["type"] as? String == "spin" }, "no task type spin")
        let spin = try #require(row["activity"] as? [String: NSNumber], "no activity for spin: \(row)").mapValues(\.int64Value)
        let spun = Int64(run.values["spin.cpu_ns"] ?? "") ?? 10_000_000
        #expect((spin["running"] ?? 0) > 0 && Self.runningNear(spin["running"] ?? 0, cpu: spun), "spin: \(spin), CPU \(spun) ns")
    }

    /// A client's last acts come after it said goodbye (TraceFixture's
    /// `exit`: an atexit handler sleeps 10 ms after TraceClient's farewell,
    /// and two threads wait until exit_group kills them), and its threads'
    /// last switches after the kernel closed its socket: each of its
    /// threads' exit and last switch-out (dead) is in the trace, and
    /// `status` stops listing the process once they are handed on.
    @Test func theKernelEventsOfAnExitingClientAreRecordedToEachThreadsEnd() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "ends"]).status == 0)
        let fixture = try Background(Processes.executable("TraceFixture"), ["exit", "--threads", "2", "--wait", "10"],
                                     environment: daemon.clientEnvironment)
        let run = fixture.wait()
        #expect(run.status == 0, "\(run.standardError)")
        let printed = (run.values["tids"] ?? "").split(separator: ",").map(String.init)
        #expect(printed.count == 3 && printed.first == "\(fixture.pid)", "\(run.standardOutput)")
        func recorded() throws -> [Int]? {
            let status = try daemon.json(["status", "ends"]) as? [String: Any]
            let execution = (status?["sessions"] as? [[String: Any]])?.first?["execution"] as? [String: Any]
            return execution?["processes"] as? [Int]
        }
        let gone = try eventually(10) { try recorded() == [] }
        let listed = try recorded()
        #expect(gone, "status lists \(String(describing: listed))")
        #expect(try daemon.tracectl(["stop", "ends"]).status == 0)
        let path = daemon.directory.file("ends.trace")
        #expect(try daemon.tracectl(["fetch", "ends", "-o", path]).status == 0)

        let reader = TraceReader()
        try reader.read(path: path) { _, _ in }
        let key = try #require(reader.processes.first { $0.value.pid == fixture.pid }?.key, "\(reader.processes)")
        let dump = try daemon.tracectl(["dump", path])
        #expect(dump.status == 0, "\(dump.standardError)")
        // "TIME pK tidT what": the kernel's events of the process's threads.
        var events: [String: [String]] = [:]
        for line in dump.standardOutput.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3).map(String.init)
            guard fields.count == 4, fields[1] == "p\(key)", fields[2].hasPrefix("tid") else { continue }
            events[String(fields[2].dropFirst(3)), default: []].append(fields[3])
        }
        #expect(Set(printed).isSubset(of: Set(events.keys)), "\(printed), threads with events: \(events.keys.sorted())")
        for (tid, what) in events.sorted(by: { $0.key < $1.key }) {
            #expect(what.contains("thread-exit"), "tid \(tid) has no exit: \(what.suffix(4))")
            // A process's stats (on its main thread's track) may be read once
            // more after its threads died and before it is reaped: a zombie's
            // /proc still answers, with its last counts (open-fds=0).
            let last = what.last { !$0.hasPrefix("stat ") }
            #expect(last?.hasPrefix("switch-out X") == true, "tid \(tid) ends with \(what.suffix(4))")
        }
    }

    /// With the smallest perf rings (`kernel_ring_size = 4K`: one page a
    /// CPU, drained when a quarter full), a pipe ping-pong overfills them:
    /// records are lost, and the fetched trace says "kernel ring full" with
    /// exactly the count that `status` showed at the stop.
    @Test func aBurstOfSwitchesOverfillsSmallRingsAndTheReportCountsEveryLoss() throws {
        let directory = try TemporaryDirectory("small-rings")
        let config = directory.file("traced.conf")
        try "kernel_ring_size = 4K\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try TracedDaemon(arguments: ["--config", config])
        // A first session opens the collector (reading the kernel's symbols
        // takes a while), so that the second starts before the burst ends.
        let sleeper = try Background("/bin/sh", ["-c", "while :; do sleep 0.1; done"], environment: [:])
        defer { sleeper.kill(SIGKILL); sleeper.wait() }
        #expect(try daemon.tracectl(["start", "opener", "--pid", "\(sleeper.pid)"]).status == 0)
        let pingpong = try Background(Processes.executable("TraceFixture"), ["pingpong", "--pairs", "2", "--seconds", "4"],
                                      environment: [:])
        defer { pingpong.kill(SIGKILL); pingpong.wait() }
        usleep(300_000)
        let started = try daemon.tracectl(["start", "burst", "--pid", "\(pingpong.pid)", "--stats-interval", "0",
                                           "--max-file-size", "64K", "--max-files", "1000"])
        #expect(started.status == 0, "\(started.standardError)")
        usleep(1_000_000)
        let stopped = try daemon.tracectl(["stop", "burst", "--json"])
        #expect(stopped.status == 0, "\(stopped.standardError)")
        let status = try #require(try JSONSerialization.jsonObject(with: Data(stopped.standardOutput.utf8)) as? [String: Any])
        let execution = try #require(status["execution"] as? [String: Any], "\(status)")
        let lost = try #require((execution["lost"] as? NSNumber)?.uint64Value, "\(execution)")
        let events = try #require((execution["events"] as? NSNumber)?.uint64Value, "\(execution)")
        #expect(lost > 0, "4 KiB rings under a ping-pong of two pairs lost nothing: \(execution)")
        #expect(events > 0, "the ping-pong was not recorded: \(execution)")

        let path = daemon.directory.file("burst.trace")
        #expect(try daemon.tracectl(["fetch", "burst", "-o", path]).status == 0)
        let json = try daemon.tracectl(["report", "--json", path])
        #expect(json.status == 0, "\(json.standardError)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let drops = try #require(report["drops"] as? [[String: Any]])
        let ring = drops.filter { $0["reason"] as? String == "kernel ring full" }
        #expect(ring.count == 1 && ring.first?["process"] as? Int == 0 && ring.first?["name"] as? String == "kernel collector",
                "\(drops)")
        #expect((ring.first?["count"] as? NSNumber)?.uint64Value == lost, "status lost \(lost), report \(drops)")
        let text = try daemon.tracectl(["report", path])
        #expect(text.standardOutput.contains("dropped: \(lost) event(s) (kernel ring full \(lost))"),
                "\(text.standardOutput.prefix(600))")
        #expect(try daemon.tracectl(["stop", "opener"]).status == 0)
    }

    /// The part of the report's split (docs/analysis.md, "Where the time
    /// went: execution") that a row of trace_processor's `thread_state`
    /// stands for, as the Perfetto export writes a switch-out (docs/design.md,
    /// "What the kernel saw"): a wait the report names has a blocked reason,
    /// with `io_wait` set for io and the call it waits in for the rest (a
    /// futex is lock, nanosleep, clock_nanosleep and pause sleep, any other
    /// call syscall); a wait the report calls unknown has none. Dead (X),
    /// stopped, idle, and no row at all (before the thread's first switch)
    /// are unknown.
    static func part(state: String, ioWait: Int?, blockedFunction: String?) -> String {
        switch (state, ioWait) {
        case ("Running", _): "running"
        case ("R", _), ("R+", _): "runnable"
        case ("S", 1?), ("D", 1?): "io"
        case ("S", 0?), ("D", 0?):
            switch blockedFunction {
            case "futex", "futex_waitv": "lock"
            case "nanosleep", "clock_nanosleep", "pause": "sleep"
            default: "syscall"
            }
        default: "unknown"
        }
    }

    /// Switch-outs that `dump` shows of a thread it does not show running
    /// (no switch-in since the thread's last switch-out, or none before).
    static func switchOutsWithoutSwitchIn(_ dump: String) -> Int {
        var running: [String: Bool] = [:]
        var count = 0
        for line in dump.split(separator: "\n") {
            // "TIME pP tidT switch-in cpuN", "TIME pP tidT switch-out STATE cpuN ..."
            let fields = line.split(separator: " ")
            guard fields.count >= 4, fields[1].hasPrefix("p"), fields[2].hasPrefix("tid") else { continue }
            let thread = "\(fields[1]) \(fields[2])"
            switch fields[3] {
            case "switch-in": running[thread] = true
            case "switch-out":
                if running[thread] != true { count += 1 }
                running[thread] = false
            default: break
            }
        }
        return count
    }

    /// The workload of the test above, exported to Perfetto and read by
    /// Perfetto's own trace_processor: the `thread_state` rows of each
    /// task's thread, cut to the task's slice and summed by the part each
    /// stands for, are the report's split of the task's type, to the
    /// nanosecond (time no row covers is unknown). The two derive the same
    /// thing from the same switches and wakeups, so no tolerance is given.
    ///
    /// A trace may lack a switch-in: perf here never delivers the switches
    /// out of some threads (those of the machine's pid 1), so a recorded
    /// thread that gets its CPU from one is not seen getting it (2 runs in
    /// 25 of this workload). The report counts the thread runnable until its
    /// next switch-out; trace_processor counts that switch-out in
    /// `mismatched_sched_switch_tids` and leaves the runnable state before
    /// it open (`dur` -1) beside the states that follow, so an open row that
    /// is not its thread's last ends where the next one begins: the same
    /// runnable time.
    @Test func theExportedWorkloadsThreadStatesAgreeWithTheReport() throws {
        let daemon = try TracedDaemon()
        let (path, values) = try Self.recordTruths(daemon)
        let reported = try Self.reportedActivity(daemon, path)
        let exported = daemon.directory.file("truths.pftrace")
        let export = try daemon.tracectl(["export", "--format", "perfetto", path, "-o", exported])
        #expect(export.status == 0, "\(export.standardError)")
        let read = try TraceReaders.check(exported, queries: [
            "SELECT tr.name AS track, s.name, s.ts, s.dur FROM slice s JOIN track tr ON tr.id = s.track_id WHERE s.category = 'task'",
            """
            SELECT t.tid, s.ts, s.dur, s.state, s.io_wait, s.blocked_function
            FROM thread_state s JOIN thread t USING (utid) ORDER BY t.tid, s.ts
            """,
        ])
        // trace_processor's only complaint: switch-outs the trace itself
        // shows no switch-in for, if any.
        let mismatched = "mismatched_sched_switch_tids"
        #expect(read.stats.allSatisfy { $0["name"] as? String == mismatched }, "\(read.stats)")
        let dump = try daemon.tracectl(["dump", path])
        #expect(dump.status == 0, "\(dump.standardError)")
        let lacking = Self.switchOutsWithoutSwitchIn(dump.standardOutput)
        let mismatches = read.stats.first { $0["name"] as? String == mismatched }?["value"] as? Int ?? 0
        #expect(mismatches <= lacking, "\(mismatches) mismatched switches, \(lacking) switch-outs without a switch-in in the trace")

        // Each thread's states as trace_processor has them: [begin, end).
        var states: [Int: [(begin: Int64, end: Int64, part: String)]] = [:]
        let rows = read.rows(1)
        for (index, row) in rows.enumerated() {
            let tid = try #require(row["tid"] as? Int)
            let ts = Int64(try #require(row["ts"] as? Int)), dur = Int64(try #require(row["dur"] as? Int))
            let next = index + 1 < rows.count && rows[index + 1]["tid"] as? Int == tid
                ? Int64(try #require(rows[index + 1]["ts"] as? Int)) : Int64.max
            let part = Self.part(state: try #require(row["state"] as? String), ioWait: row["io_wait"] as? Int,
                                 blockedFunction: row["blocked_function"] as? String)
            states[tid, default: []].append((ts, dur < 0 ? next : ts + dur, part))
        }

        // Each task's thread, by its slice's track ("TYPE #ID").
        let types = ["spin", "sleep", "lock", "pipe", "crowd"]
        var threads: [String: Int] = [:]
        for type in types {
            let tids = try #require(values["\(type).tid"]).split(separator: ",")
            let ids = try #require(values["\(type).task"]).split(separator: ",")
            #expect(tids.count == ids.count && !ids.isEmpty)
            for (tid, id) in zip(tids, ids) { threads["\(type) #\(id)"] = Int(tid) }
        }
        let slices = read.rows(0)
        #expect(slices.count == threads.count, "\(slices)")
        var exportedParts: [String: [String: Int64]] = [:]
        for slice in slices {
            let type = try #require(slice["name"] as? String), track = try #require(slice["track"] as? String)
            let tid = try #require(threads[track], "a task slice on \(track) that the fixture did not run")
            let begin = Int64(try #require(slice["ts"] as? Int)), end = begin + Int64(try #require(slice["dur"] as? Int))
            var parts: [String: Int64] = [:]
            for state in states[tid] ?? [] {
                let overlap = min(end, state.end) - max(begin, state.begin)
                if overlap > 0 { parts[state.part, default: 0] += overlap }
            }
            parts["unknown", default: 0] += (end - begin) - parts.values.reduce(0, +)
            exportedParts[type, default: [:]].merge(parts, uniquingKeysWith: +)
        }
        for type in types {
            let report = try #require(reported[type], "no task type \(type) in the report")
            let fromExport = (exportedParts[type] ?? [:]).filter { $0.value != 0 }
            #expect(fromExport == report.filter { $0.value != 0 }, "\(type): trace_processor \(fromExport), report \(report)")
        }
        // What the workload is made of shows in both: not a vacuous match.
        #expect(exportedParts["sleep"]?["sleep"] ?? 0 > 0 && exportedParts["lock"]?["lock"] ?? 0 > 0
                && exportedParts["pipe"]?["io"] ?? 0 > 0 && exportedParts["crowd"]?["runnable"] ?? 0 > 0, "\(exportedParts)")
    }

    @Test func aPidThatDoesNotExistIsRefusedAndNoExecRecordsNone() throws {
        let daemon = try TracedDaemon()
        let missing = try daemon.tracectl(["start", "ghost", "--pid", "4194303"])
        #expect(missing.status == 4)
        #expect(missing.standardError.contains("--pid 4194303: no such process"), "\(missing.standardError)")

        #expect(try daemon.tracectl(["start", "plain", "--no-exec"]).status == 0)
        let client = try daemon.client(["threads": "1", "events": "1000"])
        #expect(client.wait().status == 0)
        let stopped = try daemon.tracectl(["stop", "plain"])
        #expect(stopped.standardOutput.contains("execution events: off (--no-exec)"), "\(stopped.standardOutput)")
        let path = daemon.directory.file("plain.trace")
        #expect(try daemon.tracectl(["fetch", "plain", "-o", path]).status == 0)
        let tally = try Tally(path: path)
        #expect(tally.kernelEvents == 0)
        #expect(tally.events > 0)
    }

    /// A process that does not link TraceClient: its threads' switches are
    /// recorded under a process record traced writes.
    @Test func aProcessWithoutTraceClientIsRecordedByPid() throws {
        let daemon = try TracedDaemon()
        let sleeper = try Background("/bin/sh", ["-c", "while :; do sleep 0.01; done"], environment: [:])
        defer { sleeper.kill(SIGKILL); sleeper.wait() }
        let pid = sleeper.pid
        #expect(try daemon.tracectl(["start", "bypid", "--pid", "\(pid)"]).status == 0)
        Thread.sleep(forTimeInterval: 0.5)
        let stopped = try daemon.tracectl(["stop", "bypid"])
        #expect(stopped.standardOutput.contains("1 process(es): \(pid)"), "\(stopped.standardOutput)")
        let path = daemon.directory.file("bypid.trace")
        #expect(try daemon.tracectl(["fetch", "bypid", "-o", path]).status == 0)
        let tally = try Tally(path: path)
        #expect(tally.kernelEvents > 10)
        #expect(tally.processRecords == [pid])
        #expect(tally.diagnostics.isEmpty, "\(tally.diagnostics)")
    }

    /// `--cgroup` and `--unit` record a cgroup's processes, and those it
    /// starts later; a cgroup or unit that does not exist is refused.
    @Test func aCgroupsProcessesAndTheProcessesTheyStartAreRecorded() throws {
        let daemon = try TracedDaemon()
        let root = try #require(["/sys/fs/cgroup", "/sys/fs/cgroup/unified"].first {
            FileManager.default.fileExists(atPath: $0 + "/cgroup.procs") && FileManager.default.fileExists(atPath: $0 + "/cgroup.controllers")
        }, "no cgroup v2 hierarchy")
        let name = "traced-test-\(getpid()).service"
        let directory = root + "/" + name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A shell that moves itself into the cgroup, then starts a child
        // every 50 ms.
        let shell = try Background("/bin/sh", ["-c", "echo $$ > \(directory)/cgroup.procs; echo moved; while :; do sleep 0.05; done"])
        defer { shell.kill(SIGKILL); shell.wait() }
        #expect(shell.waitFor(line: "moved"))
        let started = try daemon.tracectl(["start", "unit", "--unit", name, "--stats-interval", "100ms"])
        #expect(started.status == 0, "\(started.standardError)")
        Thread.sleep(forTimeInterval: 1)
        let stopped = try daemon.tracectl(["stop", "unit"])
        #expect(stopped.standardOutput.contains("\(shell.pid)"), "\(stopped.standardOutput)")
        let path = daemon.directory.file("unit.trace")
        #expect(try daemon.tracectl(["fetch", "unit", "-o", path]).status == 0)
        let tally = try Tally(path: path)
        #expect(tally.processRecords.contains(shell.pid))
        // Its `sleep` children, each a process of the unit.
        #expect(tally.processRecords.count > 5, "\(tally.processRecords)")
        #expect(tally.diagnostics.isEmpty, "\(tally.diagnostics)")
        let dump = try daemon.tracectl(["dump", path]).standardOutput
        #expect(dump.contains("stat voluntary-switches="))

        let nothing = try daemon.tracectl(["start", "none", "--cgroup", "/no/such/cgroup"])
        #expect(nothing.status == 4 && nothing.standardError.contains("no such cgroup"), "\(nothing.standardError)")
        let escape = try daemon.tracectl(["start", "none", "--cgroup", "../etc"])
        #expect(escape.status == 4 && escape.standardError.contains("a cgroup is a path under /sys/fs/cgroup"), "\(escape.standardError)")
        let unit = try daemon.tracectl(["start", "none", "--unit", "no-such-unit"])
        #expect(unit.status == 4 && unit.standardError.contains("no cgroup of no-such-unit.service"), "\(unit.standardError)")
    }

    /// `go tool pprof -top` (Debian's golang-go) reads `tracectl profile
    /// --kind cpu` and names the function that spun as its top entry.
    @Test func aCPUProfileNamesTheSpinningFunctionFirstInGoToolPprof() throws {
        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "prof", "--cpu-samples", "199"]).status == 0)
        let spinner = try Background(Processes.executable("TraceFixture"), ["spinner", "--seconds", "1"],
                                     environment: daemon.clientEnvironment)
        let run = spinner.wait()
        #expect(run.status == 0, "\(run.standardError)")
        #expect(try daemon.tracectl(["stop", "prof"]).status == 0)
        let path = daemon.directory.file("prof.trace")
        #expect(try daemon.tracectl(["fetch", "prof", "-o", path]).status == 0)
        let top = try topOfCPUProfile(daemon, trace: path)
        #expect(top.first.contains("burnCPU"), "\(top.listing)")
    }

    /// traced as an ordinary user: perf events are refused, annotations
    /// are recorded, and status says what is missing and what would enable
    /// it. With CAP_PERFMON alone and the kernel's files copied by `traced
    /// --prepare-kernel` (the packaged unit's setting), it records them.
    @Test func anUnprivilegedTracedRecordsAnnotationsAndSaysWhyNotExecution() throws {
        func asNobody(_ capabilities: String?) -> [String] {

            ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
                + (capabilities.map { ["--inh-caps=+\($0)", "--ambient-caps=+\($0)"] } ?? ["--inh-caps=-all"]) + ["--"]
        }
        func handOver(_ directory: String) throws {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
            for sub in ["run", "state"] {
                try FileManager.default.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true,
                                                        attributes: [.ownerAccountID: 65534, .posixPermissions: 0o700])
            }
        }
        do {
            let daemon = try TracedDaemon(launcher: asNobody(nil), prepare: handOver)
            #expect(try daemon.tracectl(["start", "plain"]).status == 0)
            let client = try daemon.client(["threads": "1", "events": "1000"])
            #expect(client.wait().status == 0)
            let stopped = try daemon.tracectl(["stop", "plain"])
            #expect(stopped.standardOutput.contains("execution events: not recorded:"), "\(stopped.standardOutput)")
            #expect(stopped.standardOutput.contains("annotations are"), "\(stopped.standardOutput)")
            let path = daemon.directory.file("plain.trace")
            #expect(try daemon.tracectl(["fetch", "plain", "-o", path]).status == 0)
            let tally = try Tally(path: path)
            #expect(tally.events == 1000 && tally.kernelEvents == 0)
            let report = try daemon.tracectl(["report", path])
            #expect(report.standardOutput.contains("execution events: none in this trace"), "\(report.standardOutput)")
        }
        do {
            let daemon = try TracedDaemon(launcher: asNobody("perfmon")) { directory in
                try handOver(directory)
                // Under the unit's UMask=0077, as ExecStartPre= runs it.
                let prepared = try Processes.run("/bin/sh", ["-c", "umask 077 && exec \"$0\" --prepare-kernel \"$1\"",
                                                             Processes.executable("traced"), directory + "/run/kernel"])
                #expect(prepared.status == 0, "\(prepared.standardError)")
            }
            #expect(try daemon.tracectl(["start", "exec"]).status == 0)
            // A client that sleeps, blocks and spins: it switches for sure
            // (a short burst of events may run without one).
            let client = try Background(Processes.executable("TraceFixture"), ["execution", "--wait", "10"],
                                        environment: daemon.clientEnvironment)
            #expect(client.wait().status == 0)
            let stopped = try daemon.tracectl(["stop", "exec"])
            #expect(!stopped.standardOutput.contains("not recorded"), "\(stopped.standardOutput)\n\(daemon.log)")
            let path = daemon.directory.file("exec.trace")
            #expect(try daemon.tracectl(["fetch", "exec", "-o", path]).status == 0)
            #expect(try Tally(path: path).kernelEvents > 0, "\(stopped.standardOutput)\n\(daemon.log)")
        }
        do {
            // A prepared copy traced's user cannot enter is said to be that,
            // not blamed on tracefs.
            let daemon = try TracedDaemon(launcher: asNobody("perfmon")) { directory in
                try handOver(directory)
                let prepared = try Processes.run(Processes.executable("traced"), ["--prepare-kernel", directory + "/run/kernel"])
                #expect(prepared.status == 0, "\(prepared.standardError)")
                try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory + "/run/kernel")
            }
            #expect(try daemon.tracectl(["start", "hidden"]).status == 0)
            let stopped = try daemon.tracectl(["stop", "hidden"])
            #expect(stopped.standardOutput.contains("execution events: not recorded:")
                    && stopped.standardOutput.contains("copied must be readable by traced's user"), "\(stopped.standardOutput)")
        }
    }
}
