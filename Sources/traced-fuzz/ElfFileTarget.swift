import TraceKernel

/// ELF files as traced reads those that recorded processes map (`ElfFile`,
/// for the image records of processes without TraceClient): the input is
/// the file. A process may map any file it wrote, so every header field
/// is a lie to survive. Each executable segment is then looked up from the
/// offsets the file's own segments give, at two page sizes.
enum ElfFileTarget {
    static func run(_ data: UnsafeRawBufferPointer) {
        let bytes = Array(data)
        guard let file = ElfFile(reading: { offset, count in
            guard offset < UInt64(bytes.count), count > 0 else { return [] }
            let start = Int(offset)
            return Array(bytes[start..<(start + min(count, bytes.count - start))])
        }) else { return }
        precondition(file.buildID.count <= ElfFile.maximumBuildIDLength && file.segments.count <= ElfFile.maximumSegments)
        for segment in file.segments {
            _ = file.executableSegment(mappedFrom: segment.fileOffset, pageSize: 4096)
            _ = file.executableSegment(mappedFrom: segment.fileOffset & ~0xFFFF, pageSize: 0x10000)
        }
    }
}
