import CTraceABI
import TraceFormat
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Why traced could not start or had to stop.
package struct DaemonError: Error, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}

/// The traced daemon: one thread, one epoll loop (docs/design.md,
/// "The daemon"). Sockets, client eventfds, a timerfd and a signalfd are its
/// only inputs; all state is owned by this loop, so nothing is locked.
package final class Daemon {
    var configuration: DaemonConfiguration
    let configurationFile: String?
    /// Command-line settings: they override the file, also on reload.
    let flags: [(key: String, value: String)]
    let log: Log
    /// What peers can make traced log at will goes through this.
    let limited: LogLimiter
    let epoll: Epoll
    let storage: Storage
    var producerListener: FileDescriptor?
    /// Socket files traced bound itself (not systemd's): removed at exit.
    private var boundSocketPaths: [String] = []
    var controlListener: FileDescriptor?
    /// Where the sockets are: `runtime_directory`, or where systemd bound
    /// the ones it passed (what status shows).
    var socketDirectory = ""
    let signals: SignalNotifier
    /// Ticks from every `drain_interval` to every `idleTick`, as the work
    /// needs (`paceTimer`).
    var timer: PeriodicTimer
    /// False once re-arming the timer failed (logged once): it keeps its period.
    var timerPaced = true
    var clients: [UInt64: Client] = [:]
    var controls: [UInt64: ControlConnection] = [:]
    /// Sessions by name, and their names in the order they started.
    var sessions: [String: Session] = [:]
    /// Stopped sessions' OTLP senders still in their grace (or not joined
    /// yet): joined as they end, whether or not their session is still
    /// kept, so that no thread outlives what it was for.
    var endingOTLP: [SessionOTLP] = []
    var sessionOrder: [String] = []
    var nextID: UInt64 = 1
    var shuttingDown = false
    let startedMonotonic = tc_monotonic_ns()
    var nextScrape: UInt64 = 0
    var nextWatchdog: UInt64 = 0
    let watchdogInterval: UInt64?
    /// Clients whose eventfd fired since the last drain.
    var woken: Set<UInt64> = []
    /// The kernel's view of the recorded processes (execution events).
    let kernel = ExecutionRecorder()
    /// A kernel ring passed its watermark since the last drain.
    var kernelReady = false

    // Epoll tokens: a kind in the top byte, an id below.
    static let producerToken: UInt64 = 1
    static let controlToken: UInt64 = 2
    static let signalToken: UInt64 = 3
    static let timerToken: UInt64 = 4
    static let kernelToken: UInt64 = 5
    static let clientSocket: UInt64 = 1 << 56
    static let clientWake: UInt64 = 2 << 56
    static let controlSocket: UInt64 = 3 << 56
    static let idMask: UInt64 = (1 << 56) - 1
    /// How long a producer connection may stay without a hello (ns).
    static let helloDeadline: UInt64 = 5_000_000_000
    /// Producer connections without a hello yet, per uid.
    static let helloBacklogPerUser = 16
    /// Control connections open at once, per uid and in all.
    static let controlConnectionsPerUser = 16
    static let controlConnectionsInAll = 256
    /// A control connection's request is due this long after it connects,
    /// and a reply (a fetch) that makes no progress this long is abandoned.
    static let requestDeadline: UInt64 = 5_000_000_000
    static let replyStallLimit: UInt64 = 60_000_000_000
    /// How often a running session's `session.json` is saved: what a
    /// killed traced leaves for recovery is at most this old.
    static let statusSaveInterval: UInt64 = 1_000_000_000
    /// The timer's longest period (`paceTimer`): with no session running
    /// there is nothing to drain, only deadlines of seconds (hello,
    /// request) and the watchdog to keep.
    static let idleTick: UInt64 = 1_000_000_000

    /// Sets everything up; `run()` serves.
    package init(configurationFile: String?, flags: [(key: String, value: String)]) throws(DaemonError) {
        do {
            configuration = try DaemonConfiguration.load(file: configurationFile, flags: flags)
        } catch {
            throw DaemonError("\(error)")
        }
        self.configurationFile = configurationFile
        self.flags = flags
        log = Log(level: Log.Level(name: configuration.logLevel) ?? .info)
        limited = LogLimiter(log: log)
        signal(SIGPIPE, SIG_IGN)
        do {
            epoll = try Epoll()
            signals = try SignalNotifier.receiving([SIGTERM, SIGINT, SIGHUP])
            timer = try PeriodicTimer.every(nanoseconds: configuration.drainInterval)
        } catch {
            throw DaemonError("cannot set up the event loop: \(error)")
        }
        do {
            storage = try Storage(stateDirectory: configuration.stateDirectory)
        } catch {
            throw DaemonError("cannot use the state directory '\(configuration.stateDirectory)': \(error) (set state_directory, or --state-dir)")
        }
        // WATCHDOG_USEC comes from the environment: saturated, not trusted.
        watchdogInterval = Systemd.watchdogMicroseconds().map { $0.saturatingMultiply(1000) / 2 }
        try openSockets()
        do {
            try epoll.add(signals.descriptor, .readable, token: Self.signalToken)
            try epoll.add(timer.descriptor, .readable, token: Self.timerToken)
        } catch {
            throw DaemonError("cannot set up the event loop: \(error)")
        }
        for session in storage.recover(log: log) {
            sessions[session.name] = session
            sessionOrder.append(session.name)
        }
        nextScrape = tc_monotonic_ns() + configuration.scrapeInterval
    }

    /// The producer and control sockets: from systemd (socket activation,
    /// named "producer" and "control"), else bound here.
    private func openSockets() throws(DaemonError) {
        let activated = Systemd.listenedSockets()
        for (name, descriptor) in activated where name != "producer" && name != "control" {
            log.warning("systemd passed a socket named '\(name)'; traced takes 'producer' and 'control' (FileDescriptorName= in its .socket units), closing it")
            FileDescriptor(rawValue: descriptor).close()
        }
        let paths = RuntimePaths(directory: configuration.runtimeDirectory)
        if activated.isEmpty {
            do {
                try FileSystem.makeDirectories(paths.directory, mode: 0o755)
            } catch {
                throw DaemonError("cannot create the runtime directory '\(paths.directory)': \(error) (set runtime_directory, or --runtime-dir)")
            }
        }
        producerListener = try listener(activated["producer"], path: paths.producerSocket, mode: 0o666)
        controlListener = try listener(activated["control"], path: paths.controlSocket, mode: 0o660)
        if let control = controlListener, activated["control"] == nil { restrictControlSocket(paths.controlSocket, control) }
        boundSocketPaths = [("producer", paths.producerSocket), ("control", paths.controlSocket)]
            .filter { activated[$0.0] == nil }.map(\.1)
        do {
            if let producerListener { try epoll.add(producerListener, .readable, token: Self.producerToken) }
            if let controlListener { try epoll.add(controlListener, .readable, token: Self.controlToken) }
        } catch {
            throw DaemonError("cannot watch the sockets: \(error)")
        }
        let producerPath = producerListener.flatMap(UnixSocket.localPath) ?? paths.producerSocket
        let controlPath = controlListener.flatMap(UnixSocket.localPath) ?? paths.controlSocket
        socketDirectory = String(producerPath[..<(producerPath.lastIndex(of: "/") ?? producerPath.startIndex)])
        log.info("listening on \(producerPath) and \(controlPath)" + (activated.isEmpty ? "" : " (socket activation)"))
    }

    private func listener(_ activated: CInt?, path: String, mode: mode_t) throws(DaemonError) -> FileDescriptor {
        if let activated {
            let descriptor = FileDescriptor(rawValue: activated)
            try? descriptor.setNonBlocking(true)
            return descriptor
        }
        do {
            let descriptor = try UnixSocket.listen(path: path)
            _ = chmod(path, mode)
            return descriptor
        } catch {
            if error.errno == .addressInUse {
                throw DaemonError("another traced already listens on '\(path)' (stop it, or use another --runtime-dir)")
            }
            throw DaemonError("cannot listen on '\(path)': \(error)")
        }
    }

    /// As root: the control socket belongs to group `control_group` (0660),
    /// so its members may use tracectl. Without that group: root only.
    private func restrictControlSocket(_ path: String, _ descriptor: FileDescriptor) {
        guard getuid() == 0 else {
            _ = chmod(path, 0o600)
            return
        }
        if let group = getgrnam(configuration.controlGroup) {
            _ = chown(path, 0, group.pointee.gr_gid)
        } else {
            _ = chmod(path, 0o600)
            log.warning("group '\(configuration.controlGroup)' does not exist: only root may use tracectl (create it with `groupadd \(configuration.controlGroup)`)")
        }
    }

    // MARK: The loop

    /// Serves until SIGTERM (or SIGINT), then finishes every running
    /// session and returns.
    package func run() throws(DaemonError) {
        Systemd.notify("READY=1")
        updateStatus()
        while true {
            let ready: [Epoll.Ready]
            do {
                ready = try epoll.wait(timeoutMilliseconds: -1)
            } catch {
                throw DaemonError("the event loop failed: \(error)")
            }
            var tick = false
            for event in ready {
                switch event.token {
                case Self.producerToken: acceptProducers()
                case Self.controlToken: acceptControls()
                case Self.signalToken: handleSignals()
                case Self.timerToken:
                    timer.acknowledge()
                    tick = true
                case Self.kernelToken: kernelReady = true
                default:
                    dispatch(event)
                }
            }
            service(tick: tick)
            // Shutting down waits for the stops and for replies on their way
            // (a stop's result, a fetch); an idle control connection does not
            // hold it up.
            if shuttingDown && !sessions.values.contains(where: { $0.state == .stopping })
                && !controls.values.contains(where: { $0.hasPendingOutput || isWaitingForStop($0) }) {
                for connection in Array(controls.values) { closeControl(connection) }
                break
            }
        }
        for client in clients.values { finish(client, reason: .tracingStopped) }
        // Sessions that send over OTLP had 2 s to deliver what waited when
        // they stopped: let them finish, then their threads end with us.
        for session in sessions.values { session.otlp?.close() }
        for otlp in endingOTLP { otlp.close() }
        log.info("stopped")
    }

    private func dispatch(_ event: Epoll.Ready) {
        let id = event.token & Self.idMask
        switch event.token & ~Self.idMask {
        case Self.clientSocket:
            guard let client = clients[id] else { return }
            if event.readable || event.closed { readProducer(client) }
            if event.writable, clients[id] != nil { writeProducer(client) }
        case Self.clientWake:
            guard let client = clients[id] else { return }
            client.wake?.drain()
            woken.insert(id)
        case Self.controlSocket:
            guard let connection = controls[id] else { return }
            if event.readable || event.closed { readControl(connection) }
            if event.writable, controls[id] != nil { writeControl(connection) }
        default:
            break
        }
    }

    /// After each batch of events: drain, and on the timer, the periodic work.
    private func service(tick: Bool) {
        let now = tc_monotonic_ns()
        // A tick of the quiet pace (`paceTimer`) comes every scrape_interval:
        // each is a scrape, whatever the timer's jitter.
        let scrape = tick && (now >= nextScrape || timer.interval >= configuration.scrapeInterval)
        if scrape { nextScrape = now + configuration.scrapeInterval }
        if tick {
            for client in clients.values where client.isRegistered { drain(client, scrape: scrape) }
        } else {
            for id in woken { if let client = clients[id] { drain(client, scrape: false) } }
        }
        woken.removeAll()
        if kernelReady || tick {
            kernel.drain()
            if let problem = kernel.takeFilterProblem() {
                log.warning("execution events: cannot filter the kernel's switches to the recorded threads: \(problem); reading every thread's, ignoring")
            }
            kernelReady = false
            adoptChildren()
        }
        if scrape {
            for name in sessionOrder { if let session = sessions[name] { scanCgroups(session) } }
            sampleProcessStats(now: now)
            for name in sessionOrder {
                guard let session = sessions[name], session.state == .running || session.state == .stopping else { continue }
                session.tick(now: now)
                reportFailure(session)
                reportOTLPProblem(session, now: now)
                report(session.takeSnapshots(now: now), of: session)
                tickViewers(of: session, now: now)
                if now.saturatingSubtract(session.savedMonotonic) >= Self.statusSaveInterval { persist(session, durable: false) }
            }
            endingOTLP.removeAll { $0.closeIfDone() }
            stopExpiredSessions(now: now)
            closeSilentProducers(now: now)
            closeIdleControls(now: now)
            limited.flush(now: now)
            enforceQuota()
        }
        if tick { checkStops(now: now) }
        if let interval = watchdogInterval, now >= nextWatchdog {
            Systemd.notify("WATCHDOG=1")
            nextWatchdog = now.saturatingAdd(interval)
        }
        paceTimer()
    }

    /// The timer's pace (design.md, "How the drainer wakes"):
    /// - every `drain_interval` while a session is stopping, or while a
    ///   client that is recording will not signal its next chunk (its last
    ///   drain freed some and withdrew the announcement, or it has not been
    ///   drained since it registered): only the timer brings its events in;
    /// - every `scrape_interval` (at most a second) while sessions run and
    ///   every recording client will signal: a tick is then only the scrape
    ///   of chunks still being written, and the deadlines;
    /// - once a second with no session running: nothing to drain, only
    ///   deadlines of seconds (a producer's hello, a control request).
    /// Never less often than every half of the watchdog's ping period. Each
    /// wake-up costs tens of µs of CPU on a VM: a traced with nothing to do
    /// woke 100 times a second. The pass of the loop that changes what is
    /// needed re-arms the timer: a quiet client's signal is drained at once,
    /// and while it keeps writing it is drained every `drain_interval`.
    private func paceTimer() {
        guard timerPaced else { return }
        let drain = configuration.drainInterval
        let scrape = configuration.scrapeInterval
        var running = false
        var stopping = false
        for session in sessions.values {
            if session.state == .stopping { stopping = true } else if session.state == .running { running = true }
        }
        let hurried = stopping
            || (running && clients.values.contains { $0.isRegistered && $0.control.enabled && !$0.willSignal })
        var wanted = hurried ? drain : running ? min(max(scrape, drain), Self.idleTick) : Self.idleTick
        if let interval = watchdogInterval { wanted = min(wanted, max(interval / 2, drain)) }
        guard wanted != timer.interval else { return }
        do {
            try timer.change(every: wanted)
        } catch {
            timerPaced = false
            log.error("cannot re-arm the drain timer: \(error); it keeps its period of \(timer.interval / 1_000_000) ms from now on")
        }
    }

    private func handleSignals() {
        for signal in signals.pending() {
            switch signal {
            case SIGHUP: reload()
            case SIGTERM, SIGINT: beginShutdown()
            default: break
            }
        }
    }

    /// SIGTERM: stop accepting, finish every running session, exit.
    private func beginShutdown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        Systemd.notify("STOPPING=1")
        log.info("stopping: finishing \(sessions.values.filter(\.isRunning).count) running session(s)")
        for listener in [producerListener, controlListener].compactMap({ $0 }) {
            epoll.remove(listener)
            listener.close()
        }
        producerListener = nil
        controlListener = nil
        // Sockets systemd passed stay: their .socket units keep listening
        // and start traced again on the next connection.
        for path in boundSocketPaths { unlink(path) }
        for name in sessionOrder where sessions[name]?.isRunning == true { beginStop(sessions[name]!, waiter: nil) }
    }

    /// SIGHUP: re-reads the configuration file; keys naming sockets and
    /// directories need a restart and are left as they are. The rest
    /// applies from here (docs/design.md, "Configuration").
    private func reload() {
        Systemd.notify("RELOADING=1")
        defer { Systemd.notify("READY=1") }
        guard let configurationFile else {
            log.info("SIGHUP: no configuration file to reload")
            return
        }
        let loaded: DaemonConfiguration
        do {
            loaded = try DaemonConfiguration.load(file: configurationFile, flags: flags)
        } catch {
            log.error("SIGHUP: \(error); keeping the running configuration")
            return
        }
        let (fresh, refused) = loaded.keepingFixedSettings(of: configuration)
        for (key, wanted, kept) in refused {
            log.warning("SIGHUP: \(key) cannot change without a restart (\(kept) -> \(wanted)); keeping \(kept)")
        }
        configuration = fresh
        log.setLevel(Log.Level(name: fresh.logLevel) ?? .info)
        log.notice("configuration reloaded from \(configurationFile)")
        enforceQuota()
        // A new drain_interval or scrape_interval paces the timer from now.
        paceTimer()
    }

    func updateStatus() {
        let running = sessions.values.filter(\.isRunning).count
        Systemd.notify("STATUS=\(running) session(s) running, \(clients.values.filter(\.isRegistered).count) client(s)")
    }

    func nextIdentifier() -> UInt64 {
        defer { nextID += 1 }
        return nextID
    }
}
