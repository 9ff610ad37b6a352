import CLZ4

// The only file that calls liblz4. Every file traced writes is a sequence of
// LZ4 frames (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md):
// independent blocks, block and content checksums, and the content size in
// the header, so `lz4 -t` checks each frame and a reader can skip one.
//
// Frames are assembled here around liblz4's block compressor rather than by
// its frame API (LZ4F_compress*), whose xxHash32 is 5x slower than ours on
// this machine: the checksums were a quarter of the daemon's CPU per event
// (docs/performance.md). Decoding stays with liblz4's frame API, which
// checks every checksum we write; so do `lz4 -t` and the tests.

/// A liblz4 failure, with liblz4's own name for it.
package struct LZ4Error: Error, Equatable, Sendable, CustomStringConvertible {
    package let name: String
    package var description: String { "LZ4: \(name)" }

    static func check(_ code: Int) -> LZ4Error? {
        guard LZ4F_isError(code) != 0 else { return nil }
        return LZ4Error(name: String(cString: LZ4F_getErrorName(code)))
    }
}

/// Compresses whole buffers into complete LZ4 frames, reusing one
/// compression state and one output buffer.
package final class LZ4FrameCompressor {
    /// The frame's maximum block size: 256 KiB (BD code 5).
    static let blockSize = 256 << 10
    /// Frame descriptor flags: version 01, independent blocks, block
    /// checksums, content size, content checksum, no dictionary.
    private static let flags: UInt8 = 0b0111_1100
    /// Block descriptor: maximum block size code 5 (256 KiB).
    private static let blockDescriptor: UInt8 = 5 << 4
    /// Set in a block's size when the block is stored uncompressed.
    private static let uncompressedBit: UInt32 = 1 << 31

    private let state: UnsafeMutableRawPointer
    private var output: [UInt8] = []

    package init() {
        state = .allocate(byteCount: Int(LZ4_sizeofState()), alignment: 16)
    }

    deinit {
        state.deallocate()
    }

    /// The largest frame `inputCount` bytes can become: a block that does
    /// not shrink is stored as it is.
    static func bound(_ inputCount: Int) -> Int {
        let blocks = (inputCount + blockSize - 1) / blockSize
        return 15 + inputCount + blocks * 8 + 8
    }

    /// Compresses `input` into one complete frame. The slice shares this
    /// compressor's buffer: use it before the next call.
    package func frame(of input: UnsafeRawBufferPointer) -> ArraySlice<UInt8> {
        let bound = Self.bound(input.count)
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let state = self.state
        let written = output.withUnsafeMutableBytes { out -> Int in
            var at = 0
            func put32(_ value: UInt32) {
                out.storeBytes(of: value.littleEndian, toByteOffset: at, as: UInt32.self)
                at += 4
            }
            put32(0x184D_2204)
            out[4] = Self.flags
            out[5] = Self.blockDescriptor
            out.storeBytes(of: UInt64(input.count).littleEndian, toByteOffset: 6, as: UInt64.self)
            out[14] = UInt8(truncatingIfNeeded: XXHash32.hash(UnsafeRawBufferPointer(rebasing: out[4..<14])) >> 8)
            at = 15
            var offset = 0
            while offset < input.count {
                let length = min(Self.blockSize, input.count - offset)
                let source = input.baseAddress! + offset
                let data = out.baseAddress! + at + 4
                // Capacity one short of the input: liblz4 returns 0 when the
                // block would not shrink, and the block is stored instead.
                var size = Int(LZ4_compress_fast_extState(
                    state, source.assumingMemoryBound(to: CChar.self), data.assumingMemoryBound(to: CChar.self),
                    Int32(length), Int32(length - 1), 1))
                var header = UInt32(size)
                if size <= 0 {
                    data.copyMemory(from: source, byteCount: length)
                    size = length
                    header = UInt32(length) | Self.uncompressedBit
                }
                put32(header)
                at += size
                put32(XXHash32.hash(UnsafeRawBufferPointer(start: data, count: size)))
                offset += length
            }
            put32(0)
            put32(XXHash32.hash(input))
            return at
        }
        return output[0..<written]
    }
}

/// Decodes LZ4 frames one at a time.
package final class LZ4FrameDecompressor {
    private var context: OpaquePointer?

    package init() throws(LZ4Error) {
        var context: OpaquePointer?
        if let error = LZ4Error.check(LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))) {
            throw error
        }
        self.context = context
    }

    deinit {
        LZ4F_freeDecompressionContext(context)
    }

    /// The outcome of decoding the frame at the start of some input.
    package enum Outcome: Equatable {
        /// A whole frame: `consumed` input bytes, decompressed `content`
        /// (empty for a skippable frame).
        case frame(consumed: Int, content: [UInt8])
        /// The input ends inside the frame.
        case truncated
        /// The frame is damaged (bad header, checksum, block).
        case corrupt(String)
    }

    /// Decodes the frame starting at `input`, refusing content larger than
    /// `maximumContent` (a damaged header must not make us allocate 4 GiB).
    package func decodeFrame(_ input: UnsafeRawBufferPointer, maximumContent: Int) -> Outcome {
        LZ4F_resetDecompressionContext(context)
        guard input.count >= 4 else { return .truncated }
        var capacity = 1 << 16
        var produced = 0
        var consumed = 0
        var buffer = [UInt8](repeating: 0, count: capacity)
        while true {
            if produced == capacity {
                guard capacity < maximumContent else { return .corrupt("frame content exceeds \(maximumContent) bytes") }
                capacity = min(capacity * 2, maximumContent)
                buffer.append(contentsOf: repeatElement(0, count: capacity - buffer.count))
            }
            var sourceSize = input.count - consumed
            var destinationSize = capacity - produced
            let hint = buffer.withUnsafeMutableBytes { out in
                LZ4F_decompress(context, out.baseAddress! + produced, &destinationSize,
                                input.baseAddress! + consumed, &sourceSize, nil)
            }
            if let error = LZ4Error.check(hint) { return .corrupt(error.name) }
            consumed += sourceSize
            produced += destinationSize
            if hint == 0 {
                buffer.removeLast(buffer.count - produced)
                return .frame(consumed: consumed, content: buffer)
            }
            if consumed == input.count { return .truncated }
            if sourceSize == 0 && destinationSize == 0 && produced < capacity {
                return .corrupt("decoder made no progress")
            }
        }
    }

    /// The LZ4 frame magic number, little-endian, as it starts a frame.
    package static let frameMagic: [UInt8] = [0x04, 0x22, 0x4D, 0x18]

    /// Whether the four bytes at `offset` start an LZ4 frame or a skippable frame.
    package static func startsFrame(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset + 4 <= bytes.count else { return false }
        if bytes[offset] == 0x04 && bytes[offset + 1] == 0x22 && bytes[offset + 2] == 0x4D && bytes[offset + 3] == 0x18 {
            return true
        }
        return bytes[offset] & 0xF0 == 0x50 && bytes[offset + 1] == 0x2A && bytes[offset + 2] == 0x4D && bytes[offset + 3] == 0x18
    }
}
