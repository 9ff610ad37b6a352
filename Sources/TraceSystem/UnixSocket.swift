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
            try socket.writeAll(Array(bytes[sent...]))
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
}
