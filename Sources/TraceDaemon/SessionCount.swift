import TraceFormat
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Where a streaming session's writing stood when its status was saved:
/// the file being written (or the next one) and the bytes of whole frames
/// in it. The saved counts are exactly those of the frames before it.
struct WrittenPosition: Codable, Equatable {
    var file: UInt64
    var offset: UInt64
}

/// What a session's files hold past a `WrittenPosition`: events and the
/// latest drop counts of each process, by pid. An interrupted session's
/// saved status is up to a second older than the kill that ended it;
/// recovery adds what its files hold beyond the saved position, so its
/// counts are those of its files (and of files retention deleted before).
struct SessionCount {
    private(set) var processes: [Int32: (name: String, events: UInt64, drops: [UInt32: UInt64]?)] = [:]
    /// Events of the kernel batches traced wrote (execution events): not
    /// any client's.
    private(set) var kernelEvents: UInt64 = 0

    /// Reads the part of `files` (a session's `NNNNNN.trace` paths) past
    /// `position`; damage is skipped, as every reader does.
    init(files: [String], after position: WrittenPosition) {
        let reader = TraceReader()
        var events: [UInt32: UInt64] = [:]
        var kernelEvents: UInt64 = 0
        for path in files {
            guard let index = Self.index(of: path), index >= position.file,
                  let descriptor = try? FileDescriptor.open(path, O_RDONLY) else { continue }
            defer { descriptor.close() }
            guard var bytes = try? descriptor.readToEnd() else { continue }
            if index == position.file { bytes.removeFirst(min(bytes.count, Int(clamping: position.offset))) }
            reader.read(bytes: bytes) { header, _ in
                if header.kernel { kernelEvents += 1 } else { events[header.process, default: 0] += 1 }
            }
        }
        self.kernelEvents = kernelEvents
        for process in Set(events.keys).union(reader.drops.keys) {
            let pid = reader.processes[process]?.pid ?? 0
            var entry = processes[pid] ?? (reader.processes[process]?.name ?? "", 0, nil)
            entry.events = entry.events.saturatingAdd(events[process] ?? 0)
            if let drops = reader.drops[process]?.counts {
                var merged = entry.drops ?? [:]
                for (reason, count) in drops { merged[reason] = merged[reason, default: 0].saturatingAdd(count) }
                entry.drops = merged
            }
            processes[pid] = entry
        }
    }

    /// `NNNNNN` of `.../NNNNNN.trace`.
    static func index(of path: String) -> UInt64? {
        guard let name = path.split(separator: "/").last, name.hasSuffix(".trace") else { return nil }
        return UInt64(name.dropLast(6))
    }

    /// `status` with these counts added: each process's events go to the
    /// first client of its pid, whose drops become the latest the files
    /// hold; a process the status did not know yet is added as a departed
    /// client. Session totals are summed again.
    func apply(to status: inout SessionStatus) {
        var remaining = processes
        for index in status.clients.indices {
            guard let counts = remaining.removeValue(forKey: status.clients[index].pid) else { continue }
            status.clients[index].events = status.clients[index].events.saturatingAdd(counts.events)
            if let drops = counts.drops { status.clients[index].dropped = DropReason.named(drops) }
        }
        for (pid, counts) in remaining.sorted(by: { $0.key < $1.key }) {
            status.clients.append(SessionStatus.Client(pid: pid, name: counts.name, connected: false, events: counts.events,
                                                       dropped: DropReason.named(counts.drops ?? [:]), bytes: 0))
        }
        status.events = status.clients.map(\.events).saturatingSum()
        if var execution = status.execution {
            execution.events = execution.events.saturatingAdd(kernelEvents)
            status.execution = execution
        }
        status.dropped = SessionStatus.droppedByReason(of: status.clients)
    }
}
