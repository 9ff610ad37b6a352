import TraceProtocol
import TraceSystem

/// `tracectl snapshots`, `fetch --snapshot` and `snapshot`: a flight
/// recorder's snapshots (docs/design.md, "Snapshots triggered by latency"),
/// with the access rules of `fetch`.
extension Daemon {
    /// The snapshots kept: a live session's, or those a stopped one left
    /// on disk.
    func snapshotsRequested(_ name: String, by credentials: UnixSocket.Credentials) -> ControlReply {
        switch controllable(name, by: credentials) {
        case .failure(let error): return .error(error)
        case .success(let session):
            guard session.config.mode == .flightRecorder else {
                return .error(.invalidRequest("session '\(name)' is not a flight recorder: it takes no snapshots"))
            }
            return .snapshots(session.snapshots?.list ?? SessionSnapshots.stored(in: session.directory) ?? SnapshotList())
        }
    }

    /// Streams snapshot `index`'s file, as a fetch does.
    func fetchSnapshotRequested(_ name: String, index: UInt64, by connection: ControlConnection) {
        guard let session = controllable(name, replyingTo: connection) else { return }
        let list = session.snapshots?.list ?? SessionSnapshots.stored(in: session.directory) ?? SnapshotList()
        guard let entry = list.snapshots.first(where: { $0.index == index }) else {
            let kept = list.snapshots.map { String($0.index) }.joined(separator: ", ")
            reply(connection, .error(.invalidRequest("session '\(name)' has no snapshot \(index) (kept: \(kept.isEmpty ? "none" : kept); list them with `tracectl snapshots \(name)`)")))
            return
        }
        do {
            connection.fetch = try FetchStream(.files([session.directory + "/snapshots/" + entry.file]))
        } catch {
            reply(connection, .error(.failed("cannot read snapshot \(index) of session '\(name)': \(error)")))
            return
        }
        writeControl(connection)
    }

    /// A snapshot of a running flight recorder's window, now.
    func snapshotRequested(_ name: String, by credentials: UnixSocket.Credentials) -> ControlReply {
        switch controllable(name, by: credentials) {
        case .failure(let error): return .error(error)
        case .success(let session):
            guard session.config.mode == .flightRecorder, session.isRunning else {
                return .error(.invalidRequest("session '\(name)' is not a running flight recorder: only its window can be snapshot (fetch a stopped session)"))
            }
            // Everything committed so far.
            for client in clients.values where session.includes(client) { drain(client, scrape: true) }
            guard let taken = session.takeSnapshotByHand() else {
                return .error(.failed(session.snapshots?.lastFailure ?? "the snapshot could not be written"))
            }
            report([taken], of: session)
            return .snapshotTaken(taken)
        }
    }
}
