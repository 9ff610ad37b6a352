import CTraceABI
#if canImport(Glibc)
import Glibc
#endif

/// Sealed anonymous shared memory (`memfd_create(2)` plus file seals).
package enum SharedMemory {
    /// The seals a buffer must carry before a consumer maps it: without
    /// them a client could shrink the file and make the consumer die of
    /// SIGBUS on its next read.
    package static let requiredSeals: CInt = TC_F_SEAL_SHRINK | TC_F_SEAL_GROW | TC_F_SEAL_SEAL

    /// Creates a memfd of `size` bytes and seals it against resizing.
    package static func create(name: String, size: Int) throws(SystemError) -> FileDescriptor {
        let raw = try Syscall.call("memfd_create", subject: name) {
            tc_memfd_create(name, TC_MFD_CLOEXEC | TC_MFD_ALLOW_SEALING)
        }
        let descriptor = FileDescriptor(rawValue: raw)
        do {
            try descriptor.truncate(to: size)
            try Syscall.call("fcntl(F_ADD_SEALS)", subject: name) { tc_add_seals(raw, requiredSeals) }
        } catch {
            descriptor.close()
            throw error
        }
        return descriptor
    }

    /// The seals currently on `descriptor` (`F_GET_SEALS`).
    package static func seals(of descriptor: FileDescriptor) throws(SystemError) -> CInt {
        try Syscall.call("fcntl(F_GET_SEALS)") { tc_get_seals(descriptor.rawValue) }
    }
}
