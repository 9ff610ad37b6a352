#if canImport(Glibc)
import Glibc
#endif

/// A `MAP_SHARED` read-write mapping of a whole descriptor, unmapped on deinit.
///
/// Owners keep it alive for as long as any pointer into it is in use; the
/// client's process buffer is never unmapped because threads hold cursors
/// into it for the life of the process.
package final class MemoryMapping: @unchecked Sendable {
    // Sendable: the address and size never change; what lives at the address
    // is synchronized by the ABI's atomics, not by this object.
    package let base: UnsafeMutableRawPointer
    package let size: Int

    /// `mmap(2)` of `size` bytes of `descriptor` from offset 0.
    package init(descriptor: FileDescriptor, size: Int, populate: Bool = false) throws(SystemError) {
        var flags = MAP_SHARED
        if populate { flags |= MAP_POPULATE }
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, flags, descriptor.rawValue, 0)
        guard let address, address != MAP_FAILED else {
            throw SystemError("mmap")
        }
        self.base = address
        self.size = size
    }

    deinit {
        munmap(base, size)
    }

    package var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base, count: size)
    }
}
