import CTraceABI
import TraceFormat
import TraceSystem

// Execution events: which sessions the kernel collector serves, and the
// processes they record that do not link TraceClient.
extension Daemon {
    /// Opens the collector while a session wants execution events and
    /// closes it when none does; tells it what to record. Called after
    /// every change of sessions or members.
    func routeExecution() {
        let recording = sessionOrder.compactMap { sessions[$0] }
            .filter { $0.state == .running || $0.state == .stopping }
            .compactMap(\.execution)
        guard !recording.isEmpty else {
            if kernel.isOpen {
                for descriptor in kernel.descriptors { epoll.remove(descriptor) }
                kernel.close()
                log.info("execution events: no session records them; perf events closed")
            }
            return
        }
        if !kernel.isOpen, kernel.open(log: log, prepared: KernelFiles.directory(socketDirectory: socketDirectory)) {
            for descriptor in kernel.descriptors {
                do {
                    try epoll.add(descriptor, .readable, token: Self.kernelToken)
                } catch {
                    log.warning("cannot watch a perf ring: \(error); it is drained on the timer only")
                }
            }
            log.info("execution events: recording on \(kernel.descriptors.count) CPU(s)")
        }
        for execution in recording { execution.problem = kernel.problem ?? "" }
        kernel.route(recording)
    }

    /// Each recorded process's counters, for the sessions whose interval
    /// came (on the scrape tick: at most once a scrape interval).
    func sampleProcessStats(now: UInt64) {
        var read: [Int32: [(what: Int, value: UInt64)]] = [:]
        for name in sessionOrder {
            guard let session = sessions[name], session.isRunning, let execution = session.execution,
                  let interval = session.config.execution?.statsIntervalMilliseconds, interval > 0,
                  now >= execution.nextStats else { continue }
            execution.nextStats = now.saturatingAdd(interval.saturatingMultiply(1_000_000))
            for pid in execution.recordedPIDs {
                if read[pid] == nil { read[pid] = ProcFiles.stats(pid: pid) }
                execution.stats(pid: pid, at: now, read[pid] ?? [])
            }
        }
    }

    /// The `--pid` processes of a new session that are not clients: traced
    /// records their execution events under a process record of its own
    /// (if the requester may: root, or the process's owner).
    func recordProcessesWithoutClients(_ session: Session) {
        guard let execution = session.execution else { return }
        let clientPIDs = Set(clients.values.map(\.credentials.pid))
        for pid in session.config.pids where !clientPIDs.contains(pid) {
            guard let uid = ProcFiles.owner(pid: pid) else {
                execution.leftOut.append("pid \(pid): exited before the session started")
                continue
            }
            let name = ProcFiles.name(pid: pid) ?? "pid \(pid)"
            guard session.owner == 0 || session.owner == uid else {
                execution.leftOut.append("pid \(pid) (\(name)): uid \(uid) is not the session owner's; left out")
                continue
            }
            let key = UInt32(truncatingIfNeeded: nextIdentifier())
            execution.add(pid: pid, key: key, record: ProcessRecord(
                process: key, pid: pid, uid: uid, name: name, clockKind: UInt32(TC_CLOCK_MONOTONIC_NS),
                nominalTicksPerSecond: 1_000_000_000))
            let now = tc_monotonic_ns()
            for tid in ExecutionRecorder.threads(of: pid) {
                if let name = ProcFiles.name(pid: pid, tid: tid) { execution.name(pid: pid, tid: tid, at: now, name) }
            }
        }
    }
}
