import CTraceABI
import Foundation
import TestSupport
import Testing
import TraceKernel
import TraceSystem

/// `ElfFile` against the dynamic loader's own view of this process, and on
/// files that lie.
@Suite(.tags(.hostileInput)) struct ElfFileTests {
    /// What the loader says of each loaded image (`dl_iterate_phdr`, the
    /// same walk TraceClient records its images with).
    struct LoadedImage {
        var path: String
        var bias: UInt64
        var textLow: UInt64
        var textHigh: UInt64
        var buildID: [UInt8]
    }

    static func loadedImages() -> [LoadedImage] {
        var found: [LoadedImage] = []
        withUnsafeMutablePointer(to: &found) { pointer in
            _ = tc_for_each_image({ context, image in
                guard let context, let image else { return }
                let info = image.pointee
                let buildID = info.build_id.map { Array(UnsafeBufferPointer(start: $0, count: Int(info.build_id_length))) } ?? []
                context.assumingMemoryBound(to: [LoadedImage].self).pointee.append(LoadedImage(
                    path: info.path.map { String(cString: $0) } ?? "", bias: UInt64(info.bias),
                    textLow: UInt64(info.text_low), textHigh: UInt64(info.text_high), buildID: buildID))
            }, pointer)
        }
        return found
    }

    /// Every image this test process loaded from a file (the Swift runtime
    /// libraries are linked by lld, whose text addresses are not its file
    /// offsets; libc by GNU ld): the file gives the loader's build id, its
    /// text range, and, for each executable mapping of it in
    /// /proc/self/maps, the loader's load bias.
    @Test func aLoadedFileGivesTheLoadersBuildIDTextRangeAndBias() throws {
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        // Read to its end: Foundation stops at the first page of a /proc file.
        let descriptor = try FileDescriptor.open("/proc/self/maps", O_RDONLY)
        defer { descriptor.close() }
        let maps = String(decoding: try descriptor.readToEnd(), as: UTF8.self).split(separator: "\n").map {
            $0.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        }
        var checked = 0, biases = 0, unmapped: [String] = []
        for image in Self.loadedImages() {
            let path = image.path.isEmpty ? executable : image.path
            guard path.hasPrefix("/") else { continue } // linux-vdso.so.1
            let file = try #require(ElfFile(path: path), "\(path)")
            #expect(file.buildID == image.buildID, "\(path)")
            let text = file.segments.filter(\.isExecutable)
            #expect(text.map(\.address).min() == image.textLow, "\(path)")
            #expect(text.map { $0.address + $0.memorySize }.max() == image.textHigh, "\(path)")
            // The maps file names the file by its path without links.
            let canonical = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            let before = biases
            defer { if biases == before { unmapped.append(canonical) } }
            for fields in maps where fields.count == 6 && fields[1].contains("x")
                && fields[5].trimmingCharacters(in: .whitespaces) == canonical {
                let range = fields[0].split(separator: "-")
                let start = try #require(UInt64(range[0], radix: 16)), offset = try #require(UInt64(fields[2], radix: 16))
                let segment = try #require(file.executableSegment(mappedFrom: offset, pageSize: 4096), "\(path) \(fields)")
                #expect(start &- offset &+ segment.fileOffset &- segment.address == image.bias, "\(path) \(fields)")
                biases += 1
            }
            checked += 1
        }
        // The test binary, the Swift runtime's libraries, libc, the loader.
        #expect(checked >= 5 && unmapped.isEmpty, "\(checked) images, \(biases) mappings; none of \(unmapped)")
    }

    /// A 64-bit ELF file as lld lays one out: a read-only segment, then the
    /// text a page further in addresses than in the file; a property note
    /// aligned to 8 before the build id note.
    static func sample(buildID: [UInt8] = Array(1...20), noteNameSize: UInt32 = 4, entries: UInt16 = 3) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 0x600)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + $0.count), with: $0) }
        }
        bytes.replaceSubrange(0..<6, with: [0x7F, 0x45, 0x4C, 0x46, 2, 1])
        put(UInt64(64), at: 32) // e_phoff
        put(UInt16(56), at: 54) // e_phentsize
        put(UInt16(entries), at: 56)
        func header(_ index: Int, type: UInt32, flags: UInt32, offset: UInt64, address: UInt64, size: UInt64, align: UInt64) {
            let at = 64 + index * 56
            put(type, at: at); put(flags, at: at + 4); put(offset, at: at + 8); put(address, at: at + 16)
            put(size, at: at + 32); put(size, at: at + 40); put(align, at: at + 48)
        }
        header(0, type: 1, flags: 4, offset: 0, address: 0, size: 0x300, align: 0x1000)
        header(1, type: 1, flags: 5, offset: 0x300, address: 0x1300, size: 0x200, align: 0x1000)
        // Two notes in one segment aligned to 8: a property note (name "GNU",
        // 16 bytes), then the build id.
        let notes = 0x200
        put(UInt32(4), at: notes); put(UInt32(16), at: notes + 4); put(UInt32(5), at: notes + 8)
        bytes.replaceSubrange((notes + 12)..<(notes + 16), with: [0x47, 0x4E, 0x55, 0])
        let second = notes + 32
        put(noteNameSize, at: second); put(UInt32(buildID.count), at: second + 4); put(UInt32(3), at: second + 8)
        bytes.replaceSubrange((second + 12)..<(second + 16), with: [0x47, 0x4E, 0x55, 0])
        bytes.replaceSubrange((second + 16)..<(second + 16 + buildID.count), with: buildID)
        header(2, type: 4, flags: 4, offset: UInt64(notes), address: UInt64(notes), size: UInt64(32 + 16 + buildID.count), align: 8)
        return bytes
    }

    static func parse(_ bytes: [UInt8]) -> ElfFile? {
        ElfFile { offset, count in
            guard offset < UInt64(bytes.count) else { return [] }
            return Array(bytes[Int(offset)...].prefix(count))
        }
    }

    @Test func theTextSegmentAndTheBuildIDAreFoundPastOtherNotes() throws {
        let file = try #require(Self.parse(Self.sample()))
        #expect(file.buildID == Array(1...20))
        #expect(file.segments.count == 2)
        // mmap(2) maps the text from its page, file offset 0.
        let text = try #require(file.executableSegment(mappedFrom: 0, pageSize: 4096))
        #expect(text.address == 0x1300 && text.fileOffset == 0x300)
        #expect(file.executableSegment(mappedFrom: 0x1000, pageSize: 4096) == nil)
    }

    /// Lies in the headers give nil or fewer facts, never a trap or a read
    /// past the limits.
    @Test func aFileThatLiesGivesNoneOfWhatItCannotBackUp() throws {
        #expect(Self.parse([]) == nil)
        #expect(Self.parse(Array("#!/bin/sh\necho not an elf file\n".utf8) + [UInt8](repeating: 0, count: 64)) == nil)
        #expect(Self.parse(Array(Self.sample().prefix(40))) == nil)
        var bigEndian = Self.sample()
        bigEndian[5] = 2
        #expect(Self.parse(bigEndian) == nil)
        // A name size past the note: no build id.
        #expect(try #require(Self.parse(Self.sample(noteNameSize: 0xFFFF_FFF0))).buildID.isEmpty)
        // 65,535 program headers claimed, 3 there: the table is read once,
        // up to `maximumSegments` entries.
        var reads: [(UInt64, Int)] = []
        let bytes = Self.sample(entries: 0xFFFF)
        let file = try #require(ElfFile { offset, count in
            reads.append((offset, count))
            guard offset < UInt64(bytes.count) else { return [] }
            return Array(bytes[Int(offset)...].prefix(count))
        })
        #expect(file.segments.count == 2 && file.buildID == Array(1...20))
        #expect(reads.allSatisfy { $0.1 <= max(ElfFile.maximumSegments * 56, ElfFile.maximumNoteBytes) }, "\(reads)")
        // An entry size past any real one is refused.
        var wide = Self.sample()
        wide[54] = 0xFF
        wide[55] = 0xFF
        #expect(Self.parse(wide) == nil)
        // A file that is not regular is not opened for reading: a device
        // could act on the open, and a FIFO without a writer would block it.
        #expect(ElfFile(path: "/dev/null") == nil)
        #expect(ElfFile(path: "/no/such/file") == nil)
        let directory = try TemporaryDirectory("elf")
        #expect(mkfifo(directory.file("fifo"), 0o600) == 0)
        #expect(ElfFile(path: directory.file("fifo")) == nil)
    }
}
