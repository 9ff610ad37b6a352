import CTraceABI
import TraceFormat
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

// The control socket: one request per connection (docs/protocol.md); a
// watch keeps its connection until the session stops (Daemon+Live).
extension Daemon {
    func acceptControls() {
        guard let listener = controlListener else { return }
        while let socket = try? UnixSocket.accept(listener) {
            guard let credentials = try? UnixSocket.peer(socket) else {
                socket.close()
                continue
            }
            // One user's idle connections cannot use up traced's descriptors.
            let now = tc_monotonic_ns()
            let mine = controls.values.filter { $0.credentials.uid == credentials.uid }.count
            guard mine < Self.controlConnectionsPerUser, controls.count < Self.controlConnectionsInAll else {
                limited.write(.controlConnections, .notice,
                              "uid \(credentials.uid) has \(mine) control connections open, traced \(controls.count) in all (limits \(Self.controlConnectionsPerUser) and \(Self.controlConnectionsInAll)); closing pid \(credentials.pid)'s",
                              fields: Log.requester(credentials), now: now)
                // Said before closing, so tracectl can say it (exit 4); a
                // full socket buffer just closes.
                let refusal = ControlReply.error(.limitReached(
                    "uid \(credentials.uid) has \(mine) connections to traced open, the limit (traced \(controls.count) in all, of \(Self.controlConnectionsInAll)); close some and try again"))
                _ = refusal.encode().withUnsafeBytes { try? UnixSocket.sendSome($0, on: socket) }
                socket.close()
                continue
            }
            let id = nextIdentifier()
            let connection = ControlConnection(id: id, socket: socket, credentials: credentials, now: now)
            do {
                try epoll.add(socket, [.readable, .hangUp], token: Self.controlSocket | id)
            } catch {
                socket.close()
                continue
            }
            controls[id] = connection
        }
    }

    /// Closes control connections that sent no request in time, and those
    /// whose peer stopped taking its reply. A connection waiting for a stop
    /// is not idle: the stop ends within stop_timeout.
    func closeIdleControls(now: UInt64) {
        for connection in Array(controls.values) where !isWaitingForStop(connection) {
            // Saturating: `now` was read when this pass of the loop began,
            // and a reply sent since (a viewer's frame) moved lastProgress
            // past it; a wrapping difference called that connection stalled.
            let silent = !connection.answered && now.saturatingSubtract(connection.acceptedAt) > Self.requestDeadline
            let stalled = connection.answered && connection.hasPendingOutput
                && now.saturatingSubtract(connection.lastProgress) > Self.replyStallLimit
            guard silent || stalled else { continue }
            limited.write(.controlConnections, .notice,
                          silent ? "a control connection of uid \(connection.credentials.uid) sent no request within \(Self.requestDeadline / 1_000_000_000) s; closing it"
                                 : "a control connection of uid \(connection.credentials.uid) took none of its reply for \(Self.replyStallLimit / 1_000_000_000) s; closing it",
                          fields: Log.requester(connection.credentials), now: now)
            closeControl(connection)
        }
    }

    func readControl(_ connection: ControlConnection) {
        while controls[connection.id] != nil {
            let received: UnixSocket.Received
            do {
                received = try UnixSocket.receive(on: connection.socket, capacity: 16 << 10, maxDescriptors: 0)
            } catch where error.errno == .wouldBlock {
                return
            } catch {
                closeControl(connection)
                return
            }
            if received.bytes.isEmpty {
                // The peer left: a stop it waited for still completes.
                closeControl(connection)
                return
            }
            // One request per connection: what a peer sends after it is
            // read (to see the peer leave) and dropped, never buffered.
            guard !connection.answered else { continue }
            connection.incoming.append(received.bytes)
            while controls[connection.id] != nil, !connection.answered {
                switch connection.incoming.next(limit: Frame.controlLimit) {
                case .incomplete:
                    break
                case .invalid(let length):
                    reject(connection, .invalidRequest("a message of \(length) bytes (at most \(Frame.controlLimit))"))
                    return
                case .message(let message):
                    handle(message, on: connection)
                    continue
                }
                break
            }
        }
    }

    private func handle(_ message: MessageBuffer.Message, on connection: ControlConnection) {
        guard connection.greeted else {
            guard MessageType(rawValue: message.type) == .controlHello,
                  let hello = try? message.decode(ControlHello.self) else {
                reject(connection, .invalidRequest("a control connection starts with a hello"))
                return
            }
            guard hello.protocolVersion == ProtocolVersion.control else {
                // The reply carries traced's own version: the peer names both.
                limited.write(.controlConnections, .notice,
                              "control connection of uid \(connection.credentials.uid) refused: it speaks protocol \(hello.protocolVersion), traced \(ProtocolVersion.control)",
                              fields: Log.requester(connection.credentials), now: tc_monotonic_ns())
                connection.answered = true
                reply(connection, .error(.unsupportedVersion(ProtocolVersion.control)))
                return
            }
            connection.greeted = true
            return
        }
        let request: ControlRequest
        do {
            request = try message.withReader { (reader) throws(ProtocolError) in
                try ControlRequest(type: message.type, decoding: &reader)
            }
        } catch {
            reject(connection, error)
            return
        }
        connection.answered = true
        switch request {
        case .start(let name, let config): reply(connection, startSession(name, config, by: connection.credentials))
        case .stop(let name): stopRequested(name, by: connection)
        case .list: reply(connection, .sessions(sessionOrder.compactMap { sessions[$0]?.status() }))
        case .status(let name): reply(connection, status(name))
        case .fetch(let name): fetchRequested(name, by: connection)
        case .listSnapshots(let name): reply(connection, snapshotsRequested(name, by: connection.credentials))
        case .fetchSnapshot(let name, let index): fetchSnapshotRequested(name, index: index, by: connection)
        case .takeSnapshot(let name): reply(connection, snapshotRequested(name, by: connection.credentials))
        case .watch(let name): watchRequested(name, by: connection)
        }
    }

    private func status(_ name: String) -> ControlReply {
        let selected: [Session]
        if name.isEmpty {
            selected = sessionOrder.compactMap { sessions[$0] }
        } else if let session = sessions[name] {
            selected = [session]
        } else {
            return .error(.unknownSession(name))
        }
        let daemon = DaemonStatus(
            version: Version.current, pid: getpid(), uptimeSeconds: (tc_monotonic_ns() - startedMonotonic) / 1_000_000_000,
            clients: UInt64(clients.values.filter(\.isRegistered).count), runtimeDirectory: socketDirectory,
            stateDirectory: configuration.stateDirectory, diskBytes: diskUsage(), diskQuota: configuration.diskQuota)
        return .status(daemon, selected.map { $0.status() })
    }

    /// The requester may act on `session`: it owns it, or is root.
    func mayControl(_ session: Session, _ credentials: UnixSocket.Credentials) -> Bool {
        credentials.uid == 0 || credentials.uid == session.owner || credentials.uid == getuid()
    }

    private func stopRequested(_ name: String, by connection: ControlConnection) {
        guard let session = sessions[name] else {
            reply(connection, .error(.unknownSession(name)))
            return
        }
        guard mayControl(session, connection.credentials) else {
            reply(connection, .error(.permissionDenied("session '\(name)' belongs to uid \(session.owner)")))
            return
        }
        switch session.state {
        case .running: beginStop(session, waiter: connection.id)
        case .stopping: session.stopWaiters.append(connection.id)
        case .stopped, .interrupted: reply(connection, .stopped(session.status()))
        }
    }

    /// The session `name`, if the requester may act on it; else the error to reply.
    func controllable(_ name: String, by credentials: UnixSocket.Credentials) -> Result<Session, ProtocolError> {
        guard let session = sessions[name] else { return .failure(.unknownSession(name)) }
        guard mayControl(session, credentials) else {
            return .failure(.permissionDenied("session '\(name)' belongs to uid \(session.owner)"))
        }
        return .success(session)
    }

    /// The session `name` if the requester may act on it; else nil, the
    /// error replied.
    func controllable(_ name: String, replyingTo connection: ControlConnection) -> Session? {
        switch controllable(name, by: connection.credentials) {
        case .success(let session): return session
        case .failure(let error):
            reply(connection, .error(error))
            return nil
        }
    }

    private func fetchRequested(_ name: String, by connection: ControlConnection) {
        guard let session = controllable(name, replyingTo: connection) else { return }
        if session.isRunning {
            // Everything committed so far, then a frame boundary.
            for client in clients.values where session.includes(client) { drain(client, scrape: true) }
        }
        do {
            connection.fetch = try FetchStream(session.snapshot())
        } catch {
            reply(connection, .error(.failed("cannot read session '\(name)': \(error)")))
            return
        }
        writeControl(connection)
    }

    func reply(_ connection: ControlConnection, _ reply: ControlReply) {
        connection.queue(reply)
        writeControl(connection)
    }

    /// Replies to a connection by id, if it is still there.
    func reply(to id: UInt64, _ reply: ControlReply) {
        guard let connection = controls[id] else { return }
        self.reply(connection, reply)
    }

    private func reject(_ connection: ControlConnection, _ error: ProtocolError) {
        limited.write(.controlConnections, .notice, "control request from uid \(connection.credentials.uid) refused: \(error)",
                      fields: Log.requester(connection.credentials), now: tc_monotonic_ns())
        connection.answered = true
        reply(connection, .error(error))
    }

    func writeControl(_ connection: ControlConnection) {
        guard connection.flush() else {
            closeControl(connection)
            return
        }
        if connection.hasPendingOutput {
            try? epoll.modify(connection.socket, [.readable, .hangUp, .writable], token: Self.controlSocket | connection.id)
        } else if connection.answered && connection.watching == nil && !isWaitingForStop(connection) {
            closeControl(connection)
        } else {
            try? epoll.modify(connection.socket, [.readable, .hangUp], token: Self.controlSocket | connection.id)
        }
    }

    func isWaitingForStop(_ connection: ControlConnection) -> Bool {
        sessions.values.contains { $0.stopWaiters.contains(connection.id) }
    }

    func closeControl(_ connection: ControlConnection) {
        epoll.remove(connection.socket)
        controls[connection.id] = nil
        connection.close()
    }
}
