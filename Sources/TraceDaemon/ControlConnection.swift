import CTraceABI
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// A tracectl connection on the control socket: a hello, one request,
/// its reply (or a stream of fetched bytes), then the daemon closes.
final class ControlConnection {
    let id: UInt64
    let socket: FileDescriptor
    let credentials: UnixSocket.Credentials
    var incoming = MessageBuffer()
    private var outgoing: [UInt8] = []
    private var sent = 0
    var greeted = false
    var answered = false
    var fetch: FetchStream?
    /// Set while it watches a running session (`Daemon+Live`): it stays
    /// open after its request, and frames are queued to it as they come.
    var watching: LiveWatch?
    /// When it connected, and when it last took reply bytes (CLOCK_MONOTONIC
    /// ns): how long it may idle is bounded (`Daemon.requestDeadline`,
    /// `Daemon.replyStallLimit`).
    let acceptedAt: UInt64
    private(set) var lastProgress: UInt64

    init(id: UInt64, socket: FileDescriptor, credentials: UnixSocket.Credentials, now: UInt64) {
        self.id = id
        self.socket = socket
        self.credentials = credentials
        self.acceptedAt = now
        self.lastProgress = now
    }

    var hasPendingOutput: Bool { sent < outgoing.count || fetch != nil }
    /// Reply bytes queued and not sent yet.
    var pendingBytes: Int { outgoing.count - sent }

    func queue(_ reply: ControlReply) {
        if sent == outgoing.count {
            outgoing.removeAll(keepingCapacity: true)
            sent = 0
        }
        outgoing.append(contentsOf: reply.encode())
    }

    /// Writes what it can without blocking. Returns false if the peer is gone.
    func flush() -> Bool {
        while true {
            if sent == outgoing.count, let stream = fetch {
                // Refill from the fetch, one chunk at a time: memory stays bounded.
                switch stream.next() {
                case .chunk(let bytes): queue(.fetchData(bytes))
                case .end(let total, let files):
                    queue(.fetchEnd(bytes: total, files: files))
                    fetch = nil
                case .failed(let reason):
                    queue(.error(.failed(reason)))
                    fetch = nil
                }
            }
            guard sent < outgoing.count else { return true }
            let n: Int?
            do {
                n = try outgoing.withUnsafeBytes { (bytes) throws(SystemError) in
                    try UnixSocket.sendSome(UnsafeRawBufferPointer(rebasing: bytes[sent...]), on: socket)
                }
            } catch {
                return false
            }
            guard let n else { return true }
            sent += n
            lastProgress = tc_monotonic_ns()
        }
    }

    func close() {
        fetch = nil
        watching = nil
        socket.close()
    }
}

/// Reads a session's files (or bytes) in chunks for a fetch.
final class FetchStream {
    enum Next {
        case chunk([UInt8])
        case end(bytes: UInt64, files: UInt64)
        case failed(String)
    }

    private var files: [(descriptor: FileDescriptor, remaining: Int)] = []
    private var bytes: [UInt8]?
    private var offset = 0
    private var total: UInt64 = 0
    private let fileCount: UInt64

    /// Opens every file now, so retention deleting one meanwhile does not
    /// cut the fetch; a file still being written is read up to its size now.
    init(_ snapshot: TraceSnapshot) throws(SystemError) {
        switch snapshot {
        case .bytes(let data):
            bytes = data
            fileCount = 1
        case .files(let paths):
            for path in paths {
                let descriptor = try FileDescriptor.open(path, O_RDONLY)
                files.append((descriptor, try descriptor.size()))
            }
            fileCount = UInt64(paths.count)
        }
    }

    deinit { for file in files { file.descriptor.close() } }

    func next() -> Next {
        if let data = bytes {
            guard offset < data.count else { return .end(bytes: total, files: fileCount) }
            let end = min(data.count, offset + Frame.fetchChunk)
            let chunk = Array(data[offset..<end])
            offset = end
            total += UInt64(chunk.count)
            return .chunk(chunk)
        }
        while let file = files.first {
            guard file.remaining > 0 else {
                file.descriptor.close()
                files.removeFirst()
                continue
            }
            var chunk = [UInt8](repeating: 0, count: min(Frame.fetchChunk, file.remaining))
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { (raw) throws(SystemError) in try file.descriptor.read(into: raw) }
            } catch {
                return .failed("reading the session's files failed: \(error)")
            }
            guard n > 0 else {
                files[0].remaining = 0
                continue
            }
            files[0].remaining -= n
            total += UInt64(n)
            return .chunk(Array(chunk[0..<n]))
        }
        return .end(bytes: total, files: fileCount)
    }
}
