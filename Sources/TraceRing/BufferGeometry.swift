package import CTraceABI

/// Why a buffer was refused.
package enum BufferError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooSmall(size: Int)
    case badMagic
    case unsupportedABI(major: UInt16)
    case inconsistent(String)

    package var description: String {
        switch self {
        case .tooSmall(let size): "buffer of \(size) bytes is smaller than its header"
        case .badMagic: "buffer does not start with the traced ABI magic"
        case .unsupportedABI(let major): "buffer speaks ABI \(major); this consumer speaks ABI \(TC_ABI_MAJOR)"
        case .inconsistent(let what): "buffer geometry is inconsistent: \(what)"
        }
    }
}

/// Where everything is in a client buffer (trace_abi.h, "LAYOUT").
///
/// The producer computes it with `layout(totalSize:chunkSize:)` and writes
/// it into the header; a consumer re-derives it from a copy of the header
/// with `init(validating:mappedSize:)` and from then on trusts only its own
/// copy, never the header again.
package struct BufferGeometry: Equatable, Sendable {
    package var totalSize: Int
    package var chunkSize: Int
    package var chunkCount: Int
    package var chunksOffset: Int
    package var metadataOffset: Int
    package var metadataSize: Int
    package var bitmapOffset: Int
    package var bitmapSize: Int
    package var clockKind: UInt32
    package var abiMinor: UInt16
    package var nominalTicksPerSecond: UInt64

    package init(totalSize: Int, chunkSize: Int, chunkCount: Int, chunksOffset: Int, metadataOffset: Int,
                 metadataSize: Int, bitmapOffset: Int, bitmapSize: Int, clockKind: UInt32, abiMinor: UInt16,
                 nominalTicksPerSecond: UInt64) {
        self.bitmapOffset = bitmapOffset
        self.bitmapSize = bitmapSize
        self.totalSize = totalSize
        self.chunkSize = chunkSize
        self.chunkCount = chunkCount
        self.chunksOffset = chunksOffset
        self.metadataOffset = metadataOffset
        self.metadataSize = metadataSize
        self.bitmapOffset = bitmapOffset
        self.bitmapSize = bitmapSize
        self.clockKind = clockKind
        self.abiMinor = abiMinor
        self.nominalTicksPerSecond = nominalTicksPerSecond
    }

    package var payloadSize: Int { chunkSize - Int(TC_CHUNK_HEADER_SIZE) }

    /// Smallest and largest buffers a client may create (the daemon caps lower).
    package static let minimumSize = 64 << 10
    package static let maximumSize = 1 << 30

    /// The layout of a new buffer of about `totalSize` bytes: the completion
    /// bitmap, a metadata area of 1/16 of the buffer (64 KiB to 1 MiB), and
    /// as many chunks as fit after (at most TC_MAX_CHUNKS).
    package static func layout(totalSize requested: Int, chunkSize requestedChunk: Int) -> BufferGeometry {
        var chunk = Int(TC_MIN_CHUNK_SIZE)
        while chunk < requestedChunk && chunk < Int(TC_MAX_CHUNK_SIZE) { chunk <<= 1 }
        let total = min(max(requested, minimumSize), maximumSize)
        let metadata = min(max(total / 16, 64 << 10), 1 << 20) & ~4095
        let estimate = min(max(total / chunk, 2), Int(TC_MAX_CHUNKS))
        let bitmap = pageRounded((estimate + 63) / 64 * 8)
        let chunksOffset = Int(TC_HEADER_SIZE) + bitmap + metadata
        let count = min(max((total - chunksOffset) / chunk, 2), Int(TC_MAX_CHUNKS))
        return BufferGeometry(
            totalSize: chunksOffset + count * chunk, chunkSize: chunk, chunkCount: count,
            chunksOffset: chunksOffset, metadataOffset: Int(TC_HEADER_SIZE) + bitmap, metadataSize: metadata,
            bitmapOffset: Int(TC_HEADER_SIZE), bitmapSize: bitmap,
            clockKind: UInt32(TC_CLOCK_MONOTONIC_NS), abiMinor: UInt16(TC_ABI_MINOR), nominalTicksPerSecond: 0)
    }

    private static func pageRounded(_ bytes: Int) -> Int { (bytes + 4095) & ~4095 }

    /// Writes the geometry into a zeroed header at `base`.
    package func writeHeader(at base: UnsafeMutableRawPointer, producerPID: Int32) {
        let header = base.assumingMemoryBound(to: tc_buffer_header.self)
        header.pointee.magic = TC_ABI_MAGIC
        header.pointee.abi_major = UInt16(TC_ABI_MAJOR)
        header.pointee.abi_minor = abiMinor
        header.pointee.header_size = TC_HEADER_SIZE
        header.pointee.total_size = UInt32(totalSize)
        header.pointee.chunk_size = UInt32(chunkSize)
        header.pointee.chunk_count = UInt32(chunkCount)
        header.pointee.chunks_offset = UInt32(chunksOffset)
        header.pointee.metadata_offset = UInt32(metadataOffset)
        header.pointee.metadata_size = UInt32(metadataSize)
        header.pointee.clock_kind = clockKind
        header.pointee.producer_pid = UInt32(bitPattern: producerPID)
        header.pointee.nominal_ticks_per_second = nominalTicksPerSecond
        header.pointee.bitmap_offset = UInt32(bitmapOffset)
        header.pointee.bitmap_size = UInt32(bitmapSize)
    }

    /// Validates the header at `base` of a mapping of `mappedSize` bytes.
    /// Every field is read once; every region must lie inside the mapping.
    package init(validating base: UnsafeRawPointer, mappedSize: Int) throws(BufferError) {
        guard mappedSize >= Int(TC_HEADER_SIZE) else { throw .tooSmall(size: mappedSize) }
        var header = tc_buffer_header()
        withUnsafeMutableBytes(of: &header) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base, count: Int(TC_HEADER_SIZE))) }
        guard header.magic == TC_ABI_MAGIC else { throw .badMagic }
        guard header.abi_major == UInt16(TC_ABI_MAJOR) else { throw .unsupportedABI(major: header.abi_major) }
        guard header.header_size == TC_HEADER_SIZE else { throw .inconsistent("header size \(header.header_size)") }
        let total = Int(header.total_size)
        guard total == mappedSize else { throw .inconsistent("total size \(total) but \(mappedSize) bytes are mapped") }
        let chunk = Int(header.chunk_size)
        guard chunk >= Int(TC_MIN_CHUNK_SIZE), chunk <= Int(TC_MAX_CHUNK_SIZE), chunk & (chunk - 1) == 0 else {
            throw .inconsistent("chunk size \(chunk)")
        }
        let metadataOffset = Int(header.metadata_offset), metadataSize = Int(header.metadata_size)
        guard metadataOffset >= Int(TC_HEADER_SIZE), metadataSize >= 0, metadataOffset + metadataSize <= total else {
            throw .inconsistent("metadata area \(metadataOffset)+\(metadataSize)")
        }
        let chunksOffset = Int(header.chunks_offset), count = Int(header.chunk_count)
        guard chunksOffset >= metadataOffset + metadataSize, chunksOffset % 64 == 0, count >= 1,
              count <= Int(TC_MAX_CHUNKS), count <= (total - chunksOffset) / chunk else {
            throw .inconsistent("\(count) chunks of \(chunk) bytes at \(chunksOffset)")
        }
        let bitmapOffset = Int(header.bitmap_offset), bitmapSize = Int(header.bitmap_size)
        guard bitmapOffset >= Int(TC_HEADER_SIZE), bitmapOffset % 8 == 0, bitmapSize >= (count + 63) / 64 * 8,
              bitmapOffset + bitmapSize <= metadataOffset || bitmapOffset >= metadataOffset + metadataSize,
              bitmapOffset + bitmapSize <= chunksOffset else {
            throw .inconsistent("completion bitmap \(bitmapOffset)+\(bitmapSize)")
        }
        let clock = header.clock_kind
        guard clock == UInt32(TC_CLOCK_TSC) || clock == UInt32(TC_CLOCK_MONOTONIC_NS) else {
            throw .inconsistent("clock kind \(clock)")
        }
        self.totalSize = total
        self.chunkSize = chunk
        self.chunkCount = count
        self.chunksOffset = chunksOffset
        self.metadataOffset = metadataOffset
        self.metadataSize = metadataSize
        self.bitmapOffset = bitmapOffset
        self.bitmapSize = bitmapSize
        self.clockKind = clock
        self.abiMinor = header.abi_minor
        self.nominalTicksPerSecond = header.nominal_ticks_per_second
    }

    package func chunk(_ index: Int, in base: UnsafeMutableRawPointer) -> UnsafeMutablePointer<tc_chunk_header> {
        (base + chunksOffset + index * chunkSize).assumingMemoryBound(to: tc_chunk_header.self)
    }

    /// Index of the chunk whose header is at `chunk`.
    package func index(of chunk: UnsafeMutablePointer<tc_chunk_header>, in base: UnsafeMutableRawPointer) -> Int {
        (UnsafeMutableRawPointer(chunk) - base - chunksOffset) / chunkSize
    }

    package func bitmap(in base: UnsafeMutableRawPointer) -> UnsafeMutablePointer<UInt64> {
        (base + bitmapOffset).assumingMemoryBound(to: UInt64.self)
    }

    package func header(in base: UnsafeMutableRawPointer) -> UnsafeMutablePointer<tc_buffer_header> {
        base.assumingMemoryBound(to: tc_buffer_header.self)
    }
}
