import CTraceABI
import TraceFormat
import TraceOTLP
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

// Sessions: start, stop (with the clients' confirmation), limits, quota.
extension Daemon {
    func startSession(_ requested: String, _ config: SessionConfig, by credentials: UnixSocket.Credentials) -> ControlReply {
        guard !shuttingDown else { return .error(.failed("traced is stopping")) }
        let name = requested.isEmpty ? generatedName() : requested
        guard Self.isValidName(name) else {
            return .error(.invalidRequest("session name '\(name)': use letters, digits, '.', '_' and '-' (at most 64, not starting with '.' or '-')"))
        }
        guard sessions[name] == nil else { return .error(.sessionExists(name)) }
        guard sessions.values.filter(\.isRunning).count < configuration.maxSessions else {
            return .error(.limitReached("traced runs its limit of \(configuration.maxSessions) sessions (max_sessions); stop one first"))
        }
        var checked: SessionConfig
        do {
            checked = try config.validated()
        } catch {
            return .error(error)
        }
        if checked.otlp == nil, let endpoint = configuration.otlpEndpoint { checked.otlp = SessionConfig.OTLP(endpoint: endpoint) }
        if checked.mode == .flightRecorder {
            let held = sessions.values.filter { $0.isRunning && $0.config.mode == .flightRecorder }
                .map(\.config.windowBytes).saturatingSum()
            guard held.saturatingAdd(checked.windowBytes) <= configuration.flightRecorderMemory else {
                let limit = Units.render(bytes: configuration.flightRecorderMemory)
                return .error(.limitReached("running flight recorders hold windows of \(Units.render(bytes: held)) "
                    + "in traced's memory; a \(Units.render(bytes: checked.windowBytes)) window would pass "
                    + "flight_recorder_memory (\(limit)): stop one, ask for a smaller --window, or raise the limit"))
            }
        }
        if let missing = checked.pids.first(where: { ProcFiles.owner(pid: $0) == nil }) {
            return .error(.invalidRequest("--pid \(missing): no such process (`ps -p \(missing)`)"))
        }
        var cgroups: [String] = []
        do {
            for unit in checked.execution?.units ?? [] { cgroups.append(try Cgroups.directory(ofUnit: unit)) }
            for path in checked.execution?.cgroups ?? [] { cgroups.append(try Cgroups.directory(of: path)) }
        } catch {
            return .error(error)
        }
        let session: Session
        do {
            let directory = try storage.create(session: name)
            var sending = OTLPSender.Settings(url: "")
            sending.queueSpans = configuration.otlpQueueSpans
            sending.timeoutMilliseconds = configuration.otlpTimeoutMilliseconds
            sending.gzip = configuration.otlpGzip
            // An ended task's last events can wait for a scrape or two.
            let settle = max(1_000_000_000, configuration.scrapeInterval.saturatingMultiply(2).saturatingAdd(configuration.drainInterval))
            session = try Session(name: name, config: checked, owner: credentials.uid, directory: directory, trash: storage.trash,
                                  sending: sending, otlpSettle: settle)
        } catch let error as ProtocolError {
            return .error(error)
        } catch {
            return .error(.failed("cannot create session '\(name)': \(error)"))
        }
        session.cgroupDirectories = cgroups
        sessions[name] = session
        sessionOrder.append(name)
        for client in clients.values where client.isRegistered && selects(session, client) {
            session.join(client)
            updateControl(client)
        }
        recordProcessesWithoutClients(session)
        routeExecution()
        persist(session)
        log.info("session '\(name)' started by uid \(credentials.uid) (\(checked.mode == .streaming ? "streaming" : "flight recorder"), \(session.members.count) client(s))", fields: Log.session(name))
        updateStatus()
        return .started(name: name)
    }

    /// Turns tracing off in the session's clients (unless another session
    /// keeps it on) and waits, at most `stop_timeout`, for them to confirm
    /// that no event is in flight; then `finishStop` takes everything.
    func beginStop(_ session: Session, waiter: UInt64?) {
        if let waiter { session.stopWaiters.append(waiter) }
        let now = tc_monotonic_ns()
        session.beginStopping(deadline: now.saturatingAdd(configuration.stopTimeout))
        for member in session.members.values where member.connected {
            guard let client = member.client else { continue }
            if let sequence = updateControl(client) { session.pendingAcks[member.id] = sequence }
        }
        checkStops(now: now)
    }

    /// Finishes stops whose clients all confirmed, or whose time is up.
    func checkStops(now: UInt64) {
        for name in sessionOrder {
            guard let session = sessions[name], session.state == .stopping else { continue }
            session.pendingAcks = session.pendingAcks.filter { id, sequence in
                guard let client = clients[id] else { return false }
                return client.acknowledged < sequence
            }
            if session.pendingAcks.isEmpty || now >= session.stopDeadline {
                if !session.pendingAcks.isEmpty {
                    log.notice("session '\(name)': \(session.pendingAcks.count) client(s) did not confirm within \(configuration.stopTimeoutMilliseconds) ms; taking what they committed", fields: Log.session(name))
                }
                finishStop(session)
            }
        }
    }

    private func finishStop(_ session: Session) {
        for member in session.members.values where member.connected {
            if let client = clients[member.id] { drainCompletely(client) }
        }
        if session.execution != nil { kernel.drain(everything: true) }
        report(session.takeSnapshots(now: tc_monotonic_ns(), stopping: true), of: session)
        session.finish()
        if let otlp = session.otlp { endingOTLP.append(otlp) }
        routeExecution()
        reportFailure(session)
        persist(session)
        let status = session.status()
        log.info("session '\(session.name)' stopped: \(status.events) events, \(status.droppedTotal) dropped, \(status.files) file(s), \(status.diskBytes >> 10) KiB", fields: Log.session(session.name))
        for waiter in session.stopWaiters { reply(to: waiter, .stopped(status)) }
        session.stopWaiters = []
        endViewers(of: session, status)
        updateStatus()
        enforceQuota()
    }

    func stopExpiredSessions(now: UInt64) {
        for name in sessionOrder {
            guard let session = sessions[name], session.isRunning, session.config.durationSeconds > 0,
                  now.saturatingSubtract(session.startedMonotonic) >= session.config.durationSeconds.saturatingMultiply(1_000_000_000)
            else { continue }
            log.info("session '\(name)' reached its duration of \(session.config.durationSeconds) s", fields: Log.session(name))
            beginStop(session, waiter: nil)
        }
    }

    /// Saves `session.json`. A failure (a full disk) is logged when it
    /// begins and when saving works again, not every second.
    func persist(_ session: Session, durable: Bool = true) {
        session.savedMonotonic = tc_monotonic_ns()
        do {
            try storage.persist(session, durable: durable)
            if session.persistFailing {
                session.persistFailing = false
                log.notice("session '\(session.name)': its state is saved again", fields: Log.session(session.name))
            }
        } catch {
            guard !session.persistFailing else { return }
            session.persistFailing = true
            log.warning("cannot save the state of session '\(session.name)': \(error); the last saved state stays, and saving is tried again every second while it runs", fields: Log.session(session.name))
        }
    }

    /// Logs a session's write failure when it begins (error) and when
    /// writing resumes (notice): once each, however long it lasts.
    /// What went wrong sending a session's spans, logged at most once a
    /// minute (status shows the last, with its time).
    func reportOTLPProblem(_ session: Session, now: UInt64) {
        guard let otlp = session.otlp, now.saturatingSubtract(session.otlpReported) >= Self.otlpReportInterval || session.otlpReported == 0,
              let problem = otlp.takeProblem() else { return }
        session.otlpReported = now
        log.warning("session '\(session.name)': \(problem) (status shows what was dropped; logged at most once a minute)",
                    fields: Log.session(session.name))
    }

    static let otlpReportInterval: UInt64 = 60_000_000_000

    /// One journal message per snapshot taken, with SESSION= and the task.
    func report(_ snapshots: [SessionSnapshots.Taken], of session: Session) {
        for snapshot in snapshots where snapshot.taskID == 0 {
            log.notice("session '\(session.name)': snapshot \(snapshot.index) (\(snapshot.bytes >> 10) KiB) taken by hand",
                       fields: Log.session(session.name) + [("SNAPSHOT", snapshot.file)])
        }
        for snapshot in snapshots where snapshot.taskID != 0 {
            log.notice("session '\(session.name)': snapshot \(snapshot.index) (\(snapshot.bytes >> 10) KiB): task \(snapshot.taskType) #\(snapshot.taskID) of pid \(snapshot.pid) took \(snapshot.latencyNanoseconds / 1_000_000).\(snapshot.latencyNanoseconds / 100_000 % 10)ms, trigger \(snapshot.trigger)",
                       fields: Log.session(session.name) + [("TASK_TYPE", snapshot.taskType), ("TASK_ID", String(snapshot.taskID)),
                                                            ("CLIENT_PID", String(snapshot.pid)), ("SNAPSHOT", snapshot.file)])
        }
        if let problem = session.snapshots?.takeFailure() {
            log.warning("session '\(session.name)': \(problem)", fields: Log.session(session.name))
        }
    }

    func reportFailure(_ session: Session) {
        guard let failure = session.failure, failure != session.reportedFailure else { return }
        let previous = session.reportedFailure
        session.reportedFailure = failure
        if failure.resumed && previous?.realtimeNanoseconds == failure.realtimeNanoseconds {
            log.notice("session '\(session.name)': writing resumed; events in between were dropped (write failed)", fields: Log.session(session.name))
        } else {
            log.error("session '\(session.name)': \(failure.message); its clients keep running, and the events traced cannot write are dropped (write failed)"
                + (session.config.mode == .streaming ? " until writing works again (tried every second)" : ""), fields: Log.session(session.name))
        }
    }

    func diskUsage() -> UInt64 {
        sessions.values.map { $0.status().diskBytes }.saturatingSum()
    }

    // MARK: Disk quota

    /// Keeps all sessions' files under `disk_quota`, like journald's
    /// SystemMaxUse: the oldest stopped sessions go first (each logged),
    /// then the oldest complete files of running sessions.
    func enforceQuota() {
        var used = diskUsage()
        guard used > configuration.diskQuota else { return }
        let stopped = sessionOrder.compactMap { sessions[$0] }
            .filter { $0.state == .stopped || $0.state == .interrupted }
            .sorted { $0.stoppedRealtime < $1.stoppedRealtime }
        for session in stopped where used > configuration.diskQuota {
            let freed = session.status().diskBytes
            storage.remove(session)
            sessions[session.name] = nil
            sessionOrder.removeAll { $0 == session.name }
            used -= min(used, freed)
            log.warning("deleted stopped session '\(session.name)' (\(freed >> 10) KiB) to stay under the disk quota of \(configuration.diskQuota >> 20) MiB", fields: Log.session(session.name))
        }
        for name in sessionOrder where used > configuration.diskQuota {
            guard let session = sessions[name], session.isRunning else { continue }
            while used > configuration.diskQuota {
                let freed = session.evictOldestFile()
                if freed == 0 { break }
                used -= min(used, freed)
                log.warning("deleted the oldest file of running session '\(name)' (\(freed >> 10) KiB) to stay under the disk quota", fields: Log.session(name))
            }
        }
    }

    // MARK: Names

    private func generatedName() -> String {
        var now = time_t(tc_realtime_ns() / 1_000_000_000)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let base = "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))-\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
        var name = base
        var n = 2
        while sessions[name] != nil {
            name = "\(base)-\(n)"
            n += 1
        }
        return name
    }

    static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 64, let first = name.first, first != ".", first != "-" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
    }
}
