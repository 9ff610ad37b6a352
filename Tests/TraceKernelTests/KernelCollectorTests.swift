import CTraceABI
import Foundation
import TestSupport
import Testing
import TraceKernel
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// The collector on the running kernel (the tests run as root): a thread
/// of this process sleeping, child processes forking, naming, mapping and
/// exiting, rings too small to keep up. Each test opens its own collector;
/// the events are system-wide, so tests pick their own threads' records.
@Suite struct KernelCollectorTests {
    /// Made from kallsyms once for all the tests' collectors.
    static let classifier = Result { () throws(KernelError) in WaitClassifier(symbols: try KernelSymbols.load()) }

    static func collector(ringSize: Int = KernelCollector.defaultRingSize) throws -> KernelCollector {
        try KernelCollector(tracepoints: try Tracepoints.locate(mounting: true), ringSize: ringSize,
                            classifier: try classifier.get())
    }

    /// Runs `path` to its end; its pid.
    @discardableResult
    static func run(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    static func sorted(_ records: [KernelRecord]) -> [KernelRecord] {
        records.sorted { ($0.time ?? 0) < ($1.time ?? 0) }
    }

    @Test func aSleepingThreadSwitchesOutAsleepIsWokenAndSwitchesBackIn() throws {
        // 8 MiB rings: nothing is drained until the sleep is over, and the
        // other tests keep both CPUs busy meanwhile.
        let collector = try Self.collector(ringSize: 8 << 20)
        let tid = currentThreadID(), pid = getpid()
        try collector.enable()
        let before = tc_monotonic_ns()
        var request = timespec(tv_sec: 0, tv_nsec: 20_000_000)
        nanosleep(&request, nil)
        let after = tc_monotonic_ns()
        try collector.disable()
        var records: [KernelRecord] = []
        collector.drain { records.append($0) }

        let during = Self.sorted(records).filter { ($0.time ?? 0) >= before && ($0.time ?? 0) <= after }
        let asleep = during.compactMap { record -> ContextSwitch? in
            guard case .contextSwitch(let change) = record, change.previousTID == tid, change.previousState == .sleeping else { return nil }
            return change
        }
        let wakeups = during.compactMap { record -> Wakeup? in
            guard case .wakeup(let wakeup) = record, wakeup.wakeeTID == tid else { return nil }
            return wakeup
        }
        try #require(asleep.count == 1)
        try #require(wakeups.count == 1)
        let out = asleep[0], woken = wakeups[0]
        #expect(out.previousPID == pid)
        #expect(!out.preempted)
        #expect(woken.time >= before + 20_000_000)
        #expect(woken.time > out.time)
        // The timer's interrupt woke it: the thread it interrupted is no waker.
        #expect(woken.inInterrupt)
        let backIn = during.compactMap { record -> ContextSwitch? in
            guard case .contextSwitch(let change) = record, change.nextTID == tid, change.time >= woken.time else { return nil }
            return change
        }
        try #require(backIn.count == 1)
        #expect(backIn[0].time >= woken.time && backIn[0].time <= after)
        #expect(collector.statistics.map(\.undecodable) == collector.cpus.map { _ in 0 })
    }

    @Test func aChildsForkExecNameMappingsAndExitAreSeen() throws {
        let collector = try Self.collector(ringSize: 8 << 20)
        let before = tc_monotonic_ns()
        try collector.enable()
        let child = try Self.run("/bin/sleep", ["0.02"])
        try collector.disable()
        let after = tc_monotonic_ns()
        var records: [KernelRecord] = []
        collector.drain { records.append($0) }
        #expect(collector.statistics.map(\.lost) == collector.cpus.map { _ in 0 })

        var forks: [TaskLifecycle] = [], exits: [TaskLifecycle] = [], names: [TaskName] = []
        var mappings: [ExecutableMapping] = [], sleeps: [ContextSwitch] = []
        for record in records {
            switch record {
            case .fork(let fork) where fork.tid == child: forks.append(fork)
            case .exit(let exit) where exit.pid == child: exits.append(exit)
            case .name(let name) where name.pid == child: names.append(name)
            case .mapping(let mapping) where mapping.pid == child: mappings.append(mapping)
            case .contextSwitch(let change) where change.previousTID == child && change.previousState == .sleeping:
                sleeps.append(change)
            default: break
            }
        }
        #expect(forks == [TaskLifecycle(time: forks.first?.time ?? 0, pid: child, tid: child, parentPID: getpid(),
                                        parentTID: forks.first?.parentTID ?? 0)])
        #expect(names.map(\.name) == ["sleep"])
        #expect(names.map(\.isExec) == [true])
        #expect(exits.map(\.tid) == [child])
        let fork = try #require(forks.first), name = try #require(names.first), exit = try #require(exits.first)
        #expect(before < fork.time && fork.time < name.time && name.time < exit.time && exit.time < after)
        #expect(exit.time - name.time >= 20_000_000)

        let binary = URL(fileURLWithPath: "/bin/sleep").resolvingSymlinksInPath().path
        let text = mappings.filter { $0.path == binary }
        try #require(text.count >= 1)
        #expect(text.allSatisfy { $0.buildID.count == 20 && $0.protection & UInt32(PROT_EXEC) != 0 })
        #expect(text.allSatisfy { $0.time > name.time && $0.time < exit.time })
        #expect(mappings.contains { $0.path == "[vdso]" && $0.buildID.isEmpty })
        // sleep(1) sleeps: its one thread switches out asleep, in its process.
        #expect(!sleeps.isEmpty)
        #expect(sleeps.allSatisfy { $0.previousPID == child })
    }

    @Test func aSmallRingWrapsManyTimesAndEveryRecordStillDecodes() throws {
        // 16 KiB rings, drained at each quarter: the 100 execs below write
        // ~300 KiB, so the rings run past their ends some twenty times, and
        // a record straddles the end at most of them.
        let collector = try Self.collector(ringSize: 16 << 10)
        let before = tc_monotonic_ns()
        try collector.enable()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "i=0; while [ $i -lt 100 ]; do /bin/true; i=$((i + 1)); done"]
        try child.run()
        var records: [KernelRecord] = []
        while child.isRunning {
            try collector.wait(timeoutMilliseconds: 5)
            collector.drain { records.append($0) }
        }
        try collector.disable()
        let after = tc_monotonic_ns()
        collector.drain { records.append($0) }

        let statistics = collector.statistics
        #expect(statistics.map(\.ring.wrappedRecords).reduce(0, +) > 0)
        #expect(statistics.map(\.undecodable) == collector.cpus.map { _ in 0 })
        #expect(statistics.map(\.ring.resynchronizations) == collector.cpus.map { _ in 0 })
        #expect(statistics.map(\.records).reduce(0, +) == records.count)
        // A record pieced together wrong would not land in the window.
        #expect(records.allSatisfy { record in record.time.map { $0 > before && $0 < after } ?? true })
        let shell = child.processIdentifier
        let forked = Set(records.compactMap { if case .fork(let fork) = $0, fork.parentPID == shell { fork.pid } else { nil } })
        let execs = records.filter { if case .name(let name) = $0 { forked.contains(name.pid) && name.name == "true" && name.isExec } else { false } }
        #expect(!execs.isEmpty)
        if statistics.allSatisfy({ $0.lost == 0 }) {
            #expect(forked.count == 100)
            #expect(execs.count == 100)
        }
    }

    @Test func aRingNobodyDrainsCountsWhatItCouldNotKeep() throws {
        let collector = try Self.collector(ringSize: 16 << 10)
        let cpu = try #require(collector.cpus.last), index = collector.cpus.count - 1
        try collector.enable()
        // Fifty execs pinned to one CPU write far more than 16 KiB there.
        try Self.run("/usr/bin/taskset", ["-c", "\(cpu)", "/bin/sh", "-c",
                                          "i=0; while [ $i -lt 50 ]; do /bin/true; i=$((i + 1)); done"])
        let pending = try collector.kernelLostCounts()[index]
        #expect(pending > 0)
        collector.drain { _ in }
        // The kernel writes a PERF_RECORD_LOST only ahead of a record that
        // fits: the losses still untold when the drain made room go out
        // with the first record written there after it.
        try Self.run("/usr/bin/taskset", ["-c", "\(cpu)", "/bin/true"])
        try collector.disable()
        collector.drain { _ in }
        let reported = collector.statistics[index].lost
        let final = try collector.kernelLostCounts()[index]
        #expect(reported >= pending)
        #expect(reported <= final)
    }

    @Test func aPermissionErrorSaysWhatToGrant() {
        let denied = SystemError("perf_event_open", subject: "sched:sched_switch, cpu 0", errno: .permissionDenied)
        #expect(KernelError.open(event: "sched:sched_switch", cpu: 0, denied).description
            == "perf_event_open(sched:sched_switch, cpu 0) failed: Permission denied (traced needs CAP_PERFMON: the packaged unit grants it (AmbientCapabilities=CAP_PERFMON); or run it as root)")
        let notPermitted = SystemError("perf_event_open", subject: "sched:sched_waking, cpu 1", errno: Errno(rawValue: EPERM))
        #expect(KernelError.open(event: "sched:sched_waking", cpu: 1, notPermitted).description
            == "perf_event_open(sched:sched_waking, cpu 1) failed: Operation not permitted (traced needs CAP_PERFMON: the packaged unit grants it (AmbientCapabilities=CAP_PERFMON); or run it as root)")
        let idFile = SystemError("open", subject: "/sys/kernel/tracing/events/sched/sched_switch/id", errno: .permissionDenied)
        #expect(KernelError.tracefsUnreadable(idFile).description
            == "open('/sys/kernel/tracing/events/sched/sched_switch/id'): Permission denied (tracefs is readable by root only: run traced as root, or run `traced --prepare-kernel RUNTIME_DIR/kernel` as root before it, as the packaged unit does, and grant it CAP_PERFMON)")
        #expect(KernelError.tracefsNotMounted(searched: Tracepoints.mountPoints, mountFailure: nil).description
            == "tracefs is not mounted (looked in /sys/kernel/tracing, /sys/kernel/debug/tracing): "
            + "mount it with `mount -t tracefs nodev /sys/kernel/tracing`")
    }

    @Test func aTracefsWithoutTheEventIsRefusedNamingTheFile() throws {
        let directory = try TemporaryDirectory()
        do {
            _ = try Tracepoints(root: directory.path).format("sched", "sched_switch")
            Issue.record("a tracefs without events was accepted")
        } catch {
            #expect(error.description == "open('\(directory.path)/events/sched/sched_switch/id'): No such file or directory "
                + "(is this kernel built with CONFIG_TRACEPOINTS and the sched events?)")
        }
    }

    @Test func aRingSizeThatIsNotAPowerOfTwoNumberOfPagesIsRefused() throws {
        let tracepoints = try Tracepoints.locate(mounting: true)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        for size in [0, page - 1, 3 * page, 512 << 20] {
            #expect(throws: KernelError.ringSize(bytes: size, pageSize: page)) {
                try KernelCollector(tracepoints: tracepoints, ringSize: size)
            }
        }
    }
}
