#if canImport(Glibc)
import Glibc
#endif

/// A read-only `MAP_PRIVATE` mapping of a whole file, for readers of trace
/// files: the file's bytes are read in place instead of copied into memory,
/// and `release(below:)` gives back the pages a sequential reader is done
/// with, so resident memory stays bounded by what is being read, not by the
/// file's size. Unmapped on deinit. A file cut while it is read would fault
/// (SIGBUS) on the lost pages; traced cuts a session's file back only after
/// a failed write, and a running session is read through `tracectl fetch`.
package final class FileMapping {
    private let base: UnsafeRawPointer?
    package let size: Int
    private var released = 0
    /// Not a regular file (a pipe, `/dev/stdin`, a process substitution):
    /// its bytes are read into memory instead, and `release` does nothing.
    private let owned: UnsafeMutableRawBufferPointer?

    /// Opens and maps `path` (`open(2)`, `fstat(2)`, `mmap(2)`); an empty
    /// file maps to no bytes.
    package init(path: String) throws(SystemError) {
        let descriptor = try FileDescriptor.open(path, O_RDONLY)
        defer { descriptor.close() }
        let status = try descriptor.status()
        guard status.st_mode & S_IFMT == S_IFREG else {
            let bytes = try descriptor.readToEnd()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
            owned = buffer
            base = UnsafeRawPointer(buffer.baseAddress)
            size = bytes.count
            return
        }
        owned = nil
        size = Int(status.st_size)
        guard size > 0 else {
            base = nil
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor.rawValue, 0)
        guard let address, address != MAP_FAILED else { throw SystemError("mmap", subject: path) }
        base = UnsafeRawPointer(address)
    }

    deinit {
        if let owned {
            owned.deallocate()
        } else if let base {
            munmap(UnsafeMutableRawPointer(mutating: base), size)
        }
    }

    /// The file's bytes, valid while this mapping lives.
    package var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// How far around a faulting page the kernel maps cached pages
    /// (fault_around_bytes, 64 KiB by default), twice for margin.
    private static let faultAround = 128 << 10

    /// `madvise(MADV_DONTNEED)` on the whole pages below `offset`: they drop
    /// out of this process's resident set and are read again from the page
    /// cache if touched. Advice only: a failure changes nothing but memory.

    package func release(below offset: Int) {
        guard let base, owned == nil else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = min(offset, size) / page * page
        guard end > released else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base) + released, end - released, MADV_DONTNEED)
        released = end
    }

    /// `madvise(MADV_DONTNEED)` on the pages `range` touches, for a reader
    /// that reads out of order: releasing a page something reads again only
    /// costs reading it again from the page cache.
    package func release(_ range: Range<Int>) {
        guard let base, owned == nil, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        // A page fault maps the cached pages around it too (the kernel's
        // fault-around, 64 KiB): pages before `range`, released with an
        // earlier range, come back that way. Release them again, or a
        // reader's resident memory grows with the file.
        let start = max(0, range.lowerBound - Self.faultAround) / page * page
        let end = min(size, (range.upperBound + page - 1) / page * page)
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base) + start, end - start, MADV_DONTNEED)
    }
}
