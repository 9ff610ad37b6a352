import CTraceABI
import TraceProtocol

// Viewers of running sessions (`tracectl top`, `tail`; docs/design.md,
// "Watching a session").
extension Daemon {
    func watchRequested(_ name: String, by connection: ControlConnection) {
        guard let session = controllable(name, replyingTo: connection) else { return }
        guard session.isRunning else {
            reply(connection, .error(.failed("session '\(name)' is \(session.state == .stopping ? "stopping" : "stopped"): there is nothing to watch; `tracectl fetch` it and read it with `tracectl report`")))
            return
        }
        let watching = controls.values.filter { $0.watching != nil }.count
        guard watching < LiveWatch.viewerLimit else {
            reply(connection, .error(.limitReached("traced has \(watching) viewers of sessions open, the limit; close one and try again")))
            return
        }
        if session.frameObserver == nil {
            session.frameObserver = { [unowned self, unowned session] frame, events in
                self.deliver(frame, events: events, of: session)
            }
        }
        connection.watching = LiveWatch(session: name)
        session.viewers.append(connection.id)
        log.info("uid \(connection.credentials.uid) (pid \(connection.credentials.pid)) watches session '\(name)'",
                 fields: Log.session(name) + Log.requester(connection.credentials))
        connection.queue(.liveData(session.liveStart()))
        connection.queue(.liveStatus(session.status()))
        connection.watching?.statusQueued = tc_monotonic_ns()
        writeControl(connection)
    }

    /// A frame the session wrote, to each of its viewers that has room.
    private func deliver(_ frame: ArraySlice<UInt8>, events: UInt64, of session: Session) {
        forEachViewer(of: session) { connection in
            catchUp(connection, session)
            if connection.watching?.lost.isEmpty == true && connection.pendingBytes + frame.count <= LiveWatch.queueLimit {
                connection.queue(.liveData(Array(frame)))
                writeControl(connection)
            } else {
                connection.watching?.lost.add(LiveLoss(frames: 1, bytes: UInt64(frame.count), events: events))
            }
        }
    }

    /// A viewer that lost frames and has taken everything queued since is
    /// told what it lost, and its trace starts again.
    private func catchUp(_ connection: ControlConnection, _ session: Session) {
        guard let lost = connection.watching?.lost, !lost.isEmpty, connection.pendingBytes == 0 else { return }
        connection.watching?.lost = LiveLoss()
        connection.queue(.liveLost(lost))
        connection.queue(.liveData(session.liveStart()))
    }

    /// Every scrape: a viewer that caught up is told what it lost, and each
    /// gets the session's status once a second (if it has room).
    func tickViewers(of session: Session, now: UInt64) {
        guard !session.viewers.isEmpty else { return }
        var status: SessionStatus?
        forEachViewer(of: session) { connection in
            catchUp(connection, session)
            if let watch = connection.watching, now.saturatingSubtract(watch.statusQueued) >= LiveWatch.statusInterval,
               connection.pendingBytes <= LiveWatch.queueLimit / 2 {
                if status == nil { status = session.status() }
                connection.queue(.liveStatus(status!))
                connection.watching?.statusQueued = now
            }
            writeControl(connection)
        }
    }

    /// The session stopped: each viewer is told (what it lost last, then
    /// the final status) and its connection closes once that is sent.
    func endViewers(of session: Session, _ status: SessionStatus) {
        forEachViewer(of: session) { connection in
            if let lost = connection.watching?.lost, !lost.isEmpty { connection.queue(.liveLost(lost)) }
            connection.watching = nil
            reply(connection, .stopped(status))
        }
        session.viewers = []
        session.frameObserver = nil
    }

    /// The session's viewers still connected (the others are forgotten).
    private func forEachViewer(of session: Session, _ body: (ControlConnection) -> Void) {
        session.viewers.removeAll { controls[$0]?.watching == nil }
        if session.viewers.isEmpty { session.frameObserver = nil }
        for id in session.viewers {
            if let connection = controls[id] { body(connection) }
        }
    }
}
