package import TraceSystem

/// The bytes of one trace file for a walk: mapped from disk, or given in
/// memory (tests, fuzzing). Stable for the source's life.
///
/// Sendable: the bytes never change. `release(below:)`, which keeps a mark,
/// is called only by a walk's first pass, before the source is shared;
/// `release(_:)` only advises the kernel.
package final class TraceSource: @unchecked Sendable {
    private let mapping: FileMapping?
    private let owned: UnsafeMutableRawBufferPointer?
    package let name: String
    package let bytes: UnsafeRawBufferPointer

    package init(path: String) throws(SystemError) {
        let mapping = try FileMapping(path: path)
        self.mapping = mapping
        owned = nil
        bytes = mapping.bytes
        name = path
    }

    package init(bytes: [UInt8], name: String = "") {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        owned = buffer
        mapping = nil
        self.bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count])
        self.name = name
    }

    deinit { owned?.deallocate() }

    package var size: Int { bytes.count }

    /// Gives back the memory of pages in `range` (mapped files only).
    package func release(_ range: Range<Int>) { mapping?.release(range) }
    /// Gives back the pages below `offset` (mapped files only).
    package func release(below offset: Int) { mapping?.release(below: offset) }
}
