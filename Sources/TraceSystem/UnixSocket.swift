import CTraceABI
#if canImport(Glibc)
import Glibc
#endif

/// Unix-domain stream sockets with descriptor passing (`SCM_RIGHTS`).
package enum UnixSocket {
    /// `socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)`.
    package static func pair() throws(SystemError) -> (FileDescriptor, FileDescriptor) {
        var fds: [CInt] = [-1, -1]
        try Syscall.call("socketpair") {
            socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0, &fds)
        }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// Sends `bytes` (at least one) with `descriptors` attached.
    package static func send(
        _ bytes: [UInt8], descriptors: [FileDescriptor], on socket: FileDescriptor
    ) throws(SystemError) {
        precondition(!bytes.isEmpty, "SCM_RIGHTS needs at least one byte of payload")
        let raw = descriptors.map(\.rawValue)
        let sent = try bytes.withUnsafeBufferPointer { (payload) throws(SystemError) in
            try raw.withUnsafeBufferPointer { (fds) throws(SystemError) in
                try Syscall.call("sendmsg") {
                    tc_send_with_fds(socket.rawValue, payload.baseAddress, payload.count, fds.baseAddress, CInt(fds.count))
                }
            }
        }
        if sent < bytes.count {
            // Descriptors go with the first byte; the rest is plain data.
            try sendAll(Array(bytes[sent...]), on: socket)
        }
    }

    /// Sends all of `bytes` on a blocking socket with `MSG_NOSIGNAL`: a peer
    /// that is gone throws (`EPIPE`) instead of raising SIGPIPE, which would
    /// kill a traced service (or tracectl) that did not ignore it.
    package static func sendAll(_ bytes: [UInt8], on socket: FileDescriptor) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let start = offset
            let sent = try bytes.withUnsafeBufferPointer { (raw) throws(SystemError) -> Int in
                try Syscall.call("send") {
                    Glibc.send(socket.rawValue, raw.baseAddress! + start, raw.count - start, CInt(MSG_NOSIGNAL))
                }
            }
            offset += sent
        }
    }

    /// `send(2)` with `MSG_NOSIGNAL` on a non-blocking socket: the bytes the
    /// kernel took, or nil if it took none (`EAGAIN`); a peer that is gone
    /// throws (`EPIPE`), it never raises SIGPIPE.
    package static func sendSome(_ bytes: UnsafeRawBufferPointer, on socket: FileDescriptor) throws(SystemError) -> Int? {
        try Syscall.callUnlessWouldBlock("send") {
            Glibc.send(socket.rawValue, bytes.baseAddress, bytes.count, CInt(MSG_NOSIGNAL))
        }
    }

    /// What one `receive` returned.
    package struct Received {
        package var bytes: [UInt8]
        package var descriptors: [FileDescriptor]
        /// The kernel dropped descriptors for lack of control space (MSG_CTRUNC).
        package var truncated: Bool
    }

    /// Receives up to `capacity` bytes and up to `maxDescriptors` descriptors
    /// (any beyond that are closed). Empty bytes mean the peer closed.
    package static func receive(
        on socket: FileDescriptor, capacity: Int, maxDescriptors: Int
    ) throws(SystemError) -> Received {
        var bytes = [UInt8](repeating: 0, count: capacity)
        var fds = [CInt](repeating: -1, count: max(maxDescriptors, 1))
        var received: CInt = 0
        var truncated: CInt = 0
        let n = try bytes.withUnsafeMutableBufferPointer { (payload) throws(SystemError) in
            try fds.withUnsafeMutableBufferPointer { (fdBuffer) throws(SystemError) in
                try Syscall.call("recvmsg") {
                    tc_receive_with_fds(socket.rawValue, payload.baseAddress, payload.count,
                                        fdBuffer.baseAddress, CInt(maxDescriptors), &received, &truncated)
                }
            }
        }
        return Received(
            bytes: Array(bytes[0..<n]),
            descriptors: fds[0..<Int(received)].map { FileDescriptor(rawValue: $0) },
            truncated: truncated != 0)
    }

    /// Binds and listens on `path` (non-blocking), replacing a stale socket
    /// file that nothing listens on any more.
    package static func listen(path: String, backlog: CInt = 128) throws(SystemError) -> FileDescriptor {
        var fd = tc_unix_listen(path, backlog)
        if fd < 0 && Errno.current == .addressInUse {
            // Left behind by a daemon that died: only remove it if nobody answers.
            if let probe = try? connect(path: path) {
                probe.close()
                throw SystemError("bind", subject: path, errno: .addressInUse)
            }
            unlink(path)
            fd = tc_unix_listen(path, backlog)
        }
        guard fd >= 0 else { throw SystemError("bind", subject: path) }
        return FileDescriptor(rawValue: fd)
    }

    /// Connects to the socket at `path` (blocking, close-on-exec).
    package static func connect(path: String) throws(SystemError) -> FileDescriptor {
        let fd = tc_unix_connect(path)
        guard fd >= 0 else { throw SystemError("connect", subject: path) }
        return FileDescriptor(rawValue: fd)
    }

    /// The path `socket` is bound to (a listening socket passed by
    /// systemd, say), or nil for an unnamed or abstract one.
    package static func localPath(_ socket: FileDescriptor) -> String? {
        var buffer = [CChar](repeating: 0, count: 110)
        let n = tc_unix_local_path(socket.rawValue, &buffer, buffer.count)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `accept4` a connection (non-blocking, close-on-exec), or nil if none is waiting.
    package static func accept(_ listener: FileDescriptor) throws(SystemError) -> FileDescriptor? {
        try Syscall.callUnlessWouldBlock("accept4") {
            tc_accept4(listener.rawValue, CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue))
        }.map(FileDescriptor.init(rawValue:))
    }

    /// Who is on the other end (`SO_PEERCRED`), as the kernel says.
    package struct Credentials: Equatable, Sendable {
        package var pid: Int32
        package var uid: UInt32
        package var gid: UInt32
    }

    package static func peer(_ socket: FileDescriptor) throws(SystemError) -> Credentials {
        var pid: pid_t = 0, uid: uid_t = 0, gid: gid_t = 0
        try Syscall.call("getsockopt(SO_PEERCRED)") { tc_peer_credentials(socket.rawValue, &pid, &uid, &gid) }
        return Credentials(pid: pid, uid: uid, gid: gid)
    }
}
