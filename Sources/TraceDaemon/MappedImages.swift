import TraceFormat
import TraceKernel
#if canImport(Glibc)
import Glibc
#endif

/// The image records traced writes for a process that does not link
/// TraceClient, the same records a client writes of itself (format.md,
/// "0x13 image"), from its executable file mappings: those in
/// `/proc/PID/maps` when it starts being recorded, and those the kernel's
/// mmap records announce later (dlopen, exec).
enum MappedImages {
    /// The images of `pid`'s executable mappings now.
    static func current(pid: Int32) -> [ImageRecord] {
        ProcFiles.executableMappings(pid: pid).compactMap(image)
    }

    /// The image record of one executable mapping of a file; nil for one
    /// of no file (`//anon`, `[vdso]`). The file's program headers give the
    /// load bias and the text range, read through
    /// `/proc/PID/map_files/START-END` (the very file mapped, whatever its
    /// name now; it needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), else
    /// through the process's root, else at its path. A file that cannot be
    /// read, or whose build id is not the one the kernel gave, is taken to
    /// place file offsets at the same link-time addresses (true of what GNU
    /// ld links; a frame of another file then may not resolve).
    static func image(of mapping: ExecutableMapping) -> ImageRecord? {
        guard mapping.path.hasPrefix("/"), !mapping.path.hasPrefix("//"), mapping.length > 0 else { return nil }
        let (end, overflow) = mapping.address.addingReportingOverflow(mapping.length)
        guard !overflow else { return nil }
        let candidates = [
            "/proc/\(mapping.pid)/map_files/\(String(mapping.address, radix: 16))-\(String(end, radix: 16))",
            "/proc/\(mapping.pid)/root\(mapping.path)",
            mapping.path,
        ]
        let page = UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 1))
        for path in candidates {
            guard let file = ElfFile(path: path) else { continue }
            guard mapping.buildID.isEmpty || file.buildID == mapping.buildID,
                  let segment = file.executableSegment(mappedFrom: mapping.fileOffset, pageSize: page) else { continue }
            // The mapping's first byte is file offset `fileOffset`, which
            // the segment places at `address + (fileOffset - its offset)`.
            let bias = mapping.address &- mapping.fileOffset &+ segment.fileOffset &- segment.address
            return ImageRecord(bias: bias, textLow: segment.address, textHigh: segment.address &+ segment.memorySize,
                               buildID: file.buildID, path: mapping.path)
        }
        return ImageRecord(bias: mapping.address &- mapping.fileOffset, textLow: mapping.fileOffset,
                           textHigh: mapping.fileOffset &+ mapping.length, buildID: mapping.buildID, path: mapping.path)
    }
}
