import CTraceABI
import Synchronization
import TraceFormat
#if canImport(Glibc)
import Glibc
#endif

/// The loaded ELF images, recorded in the metadata area so stacks can be
/// symbolized after the process is gone (`address - bias` is the address
/// in the file at `path`; the build id tells whether it is the same file).
final class ImageList: Sendable {
    private let known = Mutex<[ImageRecord]>([])

    /// Enumerates loaded images (dl_iterate_phdr) and records new ones.
    func refresh(in buffer: ProcessBuffer) {
        var found: [ImageRecord] = []
        withUnsafeMutablePointer(to: &found) { pointer in
            _ = tc_for_each_image({ context, image in
                guard let context, let image else { return }
                let list = context.assumingMemoryBound(to: [ImageRecord].self)
                let info = image.pointee
                let path = info.path.map { String(cString: $0) } ?? ""
                let buildID = info.build_id.map { Array(UnsafeBufferPointer(start: $0, count: Int(info.build_id_length))) } ?? []
                list.pointee.append(ImageRecord(
                    bias: UInt64(info.bias), textLow: UInt64(info.text_low), textHigh: UInt64(info.text_high),
                    buildID: buildID, path: path.isEmpty ? ImageList.executablePath() : path))
            }, pointer)
        }
        known.withLock { known in
            for image in found where !known.contains(image) {
                if buffer.appendMetadata(.image(image)) { known.append(image) }
            }
        }
    }

    /// Whether every address falls in a recorded image.
    func covers(_ addresses: some Sequence<UInt64>) -> Bool {
        known.withLock { known in
            addresses.allSatisfy { address in known.contains { $0.contains(address) } }
        }
    }

    /// The main program reports an empty name; /proc/self/exe names it.
    private static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "" }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
