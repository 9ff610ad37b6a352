import CTraceABI
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// What places an ELF file's code in a process: its loadable segments (file
/// offset → link-time address) and its GNU build id. traced reads it for
/// the executable mappings of processes that do not link TraceClient, so
/// their stacks symbolize as clients' do (docs/design.md, "Execution
/// events").
///
/// The file is untrusted input: a process may map any file it wrote, and
/// traced may be more privileged than it. Every offset and count read from
/// it is checked, reads are bounded (`maximumSegments` program headers of
/// at most 128 bytes each, `maximumNoteBytes` of notes), and a file that
/// does not parse gives nil, never a trap. Only the native byte order
/// (little-endian) is read, in both classes (32 and 64 bit). The build id
/// is the note the kernel reads too: a `PT_NOTE` segment's
/// `NT_GNU_BUILD_ID` note (the `.note.gnu.build-id` section).
package struct ElfFile: Equatable, Sendable {
    /// A `PT_LOAD` program header.
    package struct Segment: Equatable, Sendable {
        package var fileOffset: UInt64
        /// `p_vaddr`: the link-time address of `fileOffset`.
        package var address: UInt64
        package var fileSize: UInt64
        package var memorySize: UInt64
        package var isExecutable: Bool

        package init(fileOffset: UInt64, address: UInt64, fileSize: UInt64, memorySize: UInt64, isExecutable: Bool) {
            self.fileOffset = fileOffset
            self.address = address
            self.fileSize = fileSize
            self.memorySize = memorySize
            self.isExecutable = isExecutable
        }
    }

    package var segments: [Segment]
    /// Empty when the file has no build id note.
    package var buildID: [UInt8]

    /// Program headers read at most (a linked file has about a dozen).
    package static let maximumSegments = 256
    /// Bytes of `PT_NOTE` segments read at most, all together.
    package static let maximumNoteBytes = 64 << 10
    /// Longest build id kept (the trace format's limit; GNU ld's are 20).
    package static let maximumBuildIDLength = 64

    package init(segments: [Segment], buildID: [UInt8]) {
        self.segments = segments
        self.buildID = buildID
    }

    /// Parses the file through `read(offset, count)`, which returns the
    /// file's bytes from `offset`, at most `count` of them (fewer at its
    /// end); nil if they are not an ELF file of this byte order.
    package init?(reading read: (UInt64, Int) -> [UInt8]) {
        let header = Bytes(read(0, 64))
        guard header.count >= 52, header.u32(0) == 0x464C_457F, header.u8(5) == 1 else { return nil }
        let wide: Bool
        switch header.u8(4) {
        case 1: wide = false
        case 2: wide = true
        default: return nil
        }
        guard let tableOffset = wide ? header.u64(32) : header.u32(28).map(UInt64.init),
              let entrySize = header.u16(wide ? 54 : 42), let entries = header.u16(wide ? 56 : 44),
              Int(entrySize) >= (wide ? 56 : 32), entrySize <= 128 else { return nil }
        let count = min(Int(entries), Self.maximumSegments)
        let table = Bytes(read(tableOffset, count * Int(entrySize)))
        var segments: [Segment] = []
        var notes: [(offset: UInt64, size: Int, alignment: UInt64)] = []
        var noteBytes = 0
        for index in 0..<count {
            let at = index * Int(entrySize)
            guard let type = table.u32(at), let flags = table.u32(at + (wide ? 4 : 24)),
                  let offset = wide ? table.u64(at + 8) : table.u32(at + 4).map(UInt64.init),
                  let address = wide ? table.u64(at + 16) : table.u32(at + 8).map(UInt64.init),
                  let fileSize = wide ? table.u64(at + 32) : table.u32(at + 16).map(UInt64.init),
                  let memorySize = wide ? table.u64(at + 40) : table.u32(at + 20).map(UInt64.init),
                  let alignment = wide ? table.u64(at + 48) : table.u32(at + 28).map(UInt64.init) else { break }
            switch type {
            case 1: // PT_LOAD
                segments.append(Segment(fileOffset: offset, address: address, fileSize: fileSize, memorySize: memorySize,
                                        isExecutable: flags & 1 != 0))
            case 4: // PT_NOTE
                let size = Int(min(fileSize, UInt64(Self.maximumNoteBytes - noteBytes)))
                noteBytes += size
                if size > 0 { notes.append((offset, size, alignment)) }
            default:
                break
            }
        }
        var buildID: [UInt8] = []
        for note in notes {
            if let found = Self.buildID(in: Bytes(read(note.offset, note.size)), alignment: note.alignment) {
                buildID = found
                break
            }
        }
        self.init(segments: segments, buildID: buildID)
    }

    /// Reads the file at `path`, a regular file only; nil if it cannot be
    /// opened or does not parse. The path is found with `O_PATH`, which
    /// opens nothing, and the file opened for reading only once `fstat`
    /// says it is regular (through `/proc/self/fd`, the same inode): a
    /// process can put a link to a device or a FIFO where the file it
    /// mapped was, and opening some devices does something (a watchdog
    /// starts, a tape rewinds) or blocks.
    package init?(path: String) {
        guard let handle = try? FileDescriptor.open(path, TC_O_PATH) else { return nil }
        defer { handle.close() }
        guard let status = try? handle.status(), status.st_mode & S_IFMT == S_IFREG,
              let descriptor = try? FileDescriptor.open("/proc/self/fd/\(handle.rawValue)", O_RDONLY) else { return nil }
        defer { descriptor.close() }
        self.init { offset, count in
            guard let start = Int(exactly: offset), count > 0 else { return [] }
            var bytes = [UInt8](repeating: 0, count: count)
            let n = (try? bytes.withUnsafeMutableBytes { (buffer) throws(SystemError) in
                try descriptor.read(into: buffer, at: start)
            }) ?? 0
            return Array(bytes.prefix(max(n, 0)))
        }
    }

    /// The executable segment that a mapping of the file from
    /// `fileOffset` (page-aligned, as mmap(2) requires) begins in.
    package func executableSegment(mappedFrom fileOffset: UInt64, pageSize: UInt64) -> Segment? {
        let mask = pageSize > 0 && pageSize & (pageSize &- 1) == 0 ? ~(pageSize &- 1) : ~UInt64(0)
        return segments.first { segment in
            let (end, overflow) = segment.fileOffset.addingReportingOverflow(max(segment.fileSize, 1))
            return segment.isExecutable && segment.fileOffset & mask <= fileOffset && (overflow || fileOffset < end)
        }
    }

    /// The `NT_GNU_BUILD_ID` note's descriptor among `notes`. Name and
    /// descriptor are padded to the segment's alignment (4, or 8 for
    /// 64-bit notes such as `.note.gnu.property`), as readers of the gABI do.
    private static func buildID(in notes: Bytes, alignment: UInt64) -> [UInt8]? {
        let align = alignment == 8 ? 8 : 4
        func padded(_ n: Int) -> Int { (n + align - 1) / align * align }
        var at = 0
        while let nameSize = notes.u32(at), let size = notes.u32(at + 4), let type = notes.u32(at + 8) {
            // Sizes from the file: each at most the bytes there are.
            guard nameSize <= UInt32(notes.count), size <= UInt32(notes.count) else { return nil }
            let name = at + 12
            let descriptor = padded(name + Int(nameSize))
            let next = padded(descriptor + Int(size))
            guard next <= notes.count || descriptor + Int(size) <= notes.count else { return nil }
            if type == 3, nameSize == 4, notes.bytes[name..<(name + 4)] == [0x47, 0x4E, 0x55, 0], size > 0 {
                return Array(notes.bytes[descriptor..<(descriptor + Int(min(size, UInt32(maximumBuildIDLength))))])
            }
            at = next
        }
        return nil
    }
}

/// Little-endian fields of a byte array, nil where they would reach past it.
private struct Bytes {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var count: Int { bytes.count }

    func u8(_ at: Int) -> UInt8? { at >= 0 && at < bytes.count ? bytes[at] : nil }

    func u16(_ at: Int) -> UInt16? { field(at, 2).map(UInt16.init) }
    func u32(_ at: Int) -> UInt32? { field(at, 4).map(UInt32.init) }
    func u64(_ at: Int) -> UInt64? { field(at, 8) }

    private func field(_ at: Int, _ width: Int) -> UInt64? {
        guard at >= 0, at <= bytes.count - width else { return nil }
        var value: UInt64 = 0
        for index in 0..<width { value |= UInt64(bytes[at + index]) << (8 * index) }
        return value
    }
}
