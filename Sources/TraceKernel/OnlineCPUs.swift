import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// The CPUs the kernel lists as online (`/sys/devices/system/cpu/online`,
/// a list like `0-3,6`), where per-CPU events are opened.
package enum OnlineCPUs {
    package static let path = "/sys/devices/system/cpu/online"
    /// The kernel's own limit (NR_CPUS is at most 8192): a list naming
    /// more is refused rather than followed.
    package static let limit = 8192

    package static func read(from path: String = path) throws(KernelError) -> [Int] {
        let text: String
        do {
            let descriptor = try FileDescriptor.open(path, O_RDONLY)
            defer { descriptor.close() }
            text = String(decoding: try descriptor.readToEnd(limit: 1 << 16), as: UTF8.self)
        } catch {
            throw .onlineCPUs(path: path, problem: "\(error)")
        }
        guard let cpus = parse(text) else {
            throw .onlineCPUs(path: path, problem: "'\(text.prefix(80))' is not a list of CPUs below \(limit)")
        }
        return cpus
    }

    /// The CPUs of a list like `0-3,6\n`, ascending, or nil if it is not
    /// one (empty, malformed, a range backwards or beyond `limit`).
    package static func parse(_ text: String) -> [Int]? {
        var cpus: [Int] = []
        for item in text.split(whereSeparator: { $0 == "," || $0.isWhitespace }) {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let first = Int(bounds[0]), let last = Int(bounds[bounds.count - 1]),
                  first >= 0, first <= last, last < limit
            else { return nil }
            cpus.append(contentsOf: first...last)
        }
        let sorted = Set(cpus).sorted()
        return sorted.isEmpty ? nil : sorted
    }
}
