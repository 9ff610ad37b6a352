import CTraceABI
import TraceFormat
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

// The control socket: one request per connection (docs/protocol.md).
extension Daemon {
    func acceptControls() {
        guard let listener = controlListener else { return }
        while let socket = try? UnixSocket.accept(listener) {
            guard let credentials = try? UnixSocket.peer(socket) else {
                socket.close()
                continue
            }
            let id = nextIdentifier()
            let connection = ControlConnection(id: id, socket: socket, credentials: credentials)
            do {
                try epoll.add(socket, [.readable, .hangUp], token: Self.controlSocket | id)
            } catch {
                socket.close()
                continue
            }
            controls[id] = connection
        }
    }

    func readControl(_ connection: ControlConnection) {
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while controls[connection.id] != nil {
            let n = buffer.withUnsafeMutableBytes { recv(connection.socket.rawValue, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EAGAIN { break }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                // The peer left: a stop it waited for still completes.
                closeControl(connection)
                return
            }
            // One request per connection: what a peer sends after it is
            // read (to see the peer leave) and dropped, never buffered.
            guard !connection.answered else { continue }
            connection.incoming.append(Array(buffer[0..<n]))
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
                log.notice("control connection of uid \(connection.credentials.uid) refused: it speaks protocol \(hello.protocolVersion), traced \(ProtocolVersion.control)")
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
            clients: UInt64(clients.values.filter(\.isRegistered).count), runtimeDirectory: configuration.runtimeDirectory,
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

    private func fetchRequested(_ name: String, by connection: ControlConnection) {
        guard let session = sessions[name] else {
            reply(connection, .error(.unknownSession(name)))
            return
        }
        guard mayControl(session, connection.credentials) else {
            reply(connection, .error(.permissionDenied("session '\(name)' belongs to uid \(session.owner)")))
            return
        }
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
        log.notice("control request from uid \(connection.credentials.uid) refused: \(error)")
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
        } else if connection.answered && !isWaitingForStop(connection) {
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
