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
        let hertz = recording.map { Int($0.sampleHertz) }.max() ?? 0
        let wasOpen = kernel.isOpen
        if !wasOpen || kernel.sampleHertz != hertz {
            for descriptor in kernel.descriptors { epoll.remove(descriptor) }
        }
        if (!wasOpen || kernel.sampleHertz != hertz),
           kernel.open(log: log, prepared: KernelFiles.directory(socketDirectory: socketDirectory), sampleHertz: hertz,
                       ringSize: configuration.kernelRingSize) {
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

    /// Children of recorded processes join the sessions that record their
    /// parent's unit or cgroup at once, before a scan would find them (a
    /// short-lived child would be gone by then).
    func adoptChildren() {
        for (parent, child) in kernel.takeChildren() {
            for name in sessionOrder {
                guard let session = sessions[name], !session.cgroupDirectories.isEmpty,
                      session.execution?.key(of: parent) != nil else { continue }
                record([child], in: session, noting: false)
            }
        }
    }

    /// Whether `client` takes part in `session`: by pid or name, or as a
    /// process of one of its units or cgroups; every client when the
    /// session names none of these.
    func selects(_ session: Session, _ client: Client) -> Bool {
        let config = session.config
        let pid = client.credentials.pid
        if session.cgroupDirectories.isEmpty { return config.selects(pid: pid, name: client.name) }
        if (!config.pids.isEmpty || !config.processNames.isEmpty) && config.selects(pid: pid, name: client.name) { return true }
        return session.cgroupDirectories.contains { Cgroups.processes(in: $0).contains(pid) }
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

    /// The `--pid` processes of a new session that are not clients, and the
    /// processes of its units and cgroups (`scanCgroups`).
    func recordProcessesWithoutClients(_ session: Session) {
        record(session.config.pids, in: session, noting: true)
        scanCgroups(session)
    }

    /// The processes now in a session's units and cgroups that it does not
    /// record yet. On start and every scrape: processes a unit starts later
    /// join within a scrape interval (a recorded process's children at once).
    func scanCgroups(_ session: Session) {
        guard session.isRunning, !session.cgroupDirectories.isEmpty else { return }
        var pids = Set<Int32>()
        for directory in session.cgroupDirectories { pids.formUnion(Cgroups.processes(in: directory)) }
        record(pids.sorted(), in: session, noting: false)
    }

    /// Processes whose execution events `session` records though they are
    /// not its clients: under a process record traced writes (if the
    /// requester may: root, or the process's owner).
    func record(_ pids: [Int32], in session: Session, noting: Bool) {
        guard let execution = session.execution else { return }
        let clientPIDs = Set(clients.values.map(\.credentials.pid))
        var added = false
        for pid in pids where !clientPIDs.contains(pid) && execution.key(of: pid) == nil && !execution.isLeftOut(pid) {
            guard let uid = ProcFiles.owner(pid: pid) else {
                if noting { execution.leaveOut(pid, "pid \(pid): exited before the session started") }
                continue
            }
            let name = ProcFiles.name(pid: pid) ?? "pid \(pid)"
            guard session.owner == 0 || session.owner == uid else {
                execution.leaveOut(pid, "pid \(pid) (\(name)): uid \(uid) is not the session owner's; left out")
                continue
            }
            added = true
            let key = UInt32(truncatingIfNeeded: nextIdentifier())
            let now = tc_monotonic_ns()
            execution.add(pid: pid, key: key, record: ProcessRecord(
                process: key, pid: pid, uid: uid, name: name, clockKind: UInt32(TC_CLOCK_MONOTONIC_NS),
                nominalTicksPerSecond: 1_000_000_000), now: now)
            for tid in ExecutionRecorder.threads(of: pid) {
                if let name = ProcFiles.name(pid: pid, tid: tid) { execution.name(pid: pid, tid: tid, at: now, name) }
            }
            // What it maps later comes from the kernel's mmap records
            // (`ExecutionRecorder`); one mapped in between comes twice and
            // is written once.
            for image in MappedImages.current(pid: pid) { execution.image(pid: pid, image) }
        }
        if added { routeExecution() }
    }
}
