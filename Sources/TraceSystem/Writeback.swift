import CTraceABI

// Writeback lives apart from FileDescriptor.swift: sync_file_range is a GNU
// call, reached through CTraceABI, whose import would make that file's
// Glibc types (mode_t, off_t) ambiguous.
extension FileDescriptor {
    /// `sync_file_range(2)` with `SYNC_FILE_RANGE_WRITE`: starts writing the
    /// dirty pages of `length` bytes at `offset` to disk without waiting for
    /// them. Fails with `ESPIPE` on pipes and sockets.
    package func startWriteback(offset: Int, length: Int) throws(SystemError) {
        try Syscall.call("sync_file_range") { tc_start_writeback(rawValue, Int64(offset), Int64(length)) }
    }

    /// `posix_fadvise(2)` with `POSIX_FADV_DONTNEED`: drops the clean cached
    /// pages of `length` bytes at `offset`; dirty pages and pages still
    /// being written stay cached.
    package func dropCachedPages(offset: Int, length: Int) throws(SystemError) {
        try Syscall.call("posix_fadvise") { tc_drop_cached(rawValue, Int64(offset), Int64(length)) }
    }
}
