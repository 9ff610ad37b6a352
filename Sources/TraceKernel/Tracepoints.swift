import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's tracefs: where tracepoint ids and record layouts are read.
///
/// A tracepoint's `id` is what `perf_event_open(2)` takes as its config;
/// its `format` names every field of the raw record with its offset and
/// size. Layouts change between kernels (sched_switch's `prev_state` was an
/// `int` before Linux 4.4...), so they are read at open time, never assumed.
package struct Tracepoints: Sendable {
    /// The directory tracefs is mounted on.
    package let root: String

    /// Where tracefs is mounted: its own mount point since Linux 4.1, and
    /// under debugfs, where older setups have it.
    package static let mountPoints = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

    /// The largest `id` or `format` file read (sched_switch's is ~2 KiB).
    static let fileLimit = 64 << 10

    package init(root: String) { self.root = root }

    /// The first of `mountPoints` that holds tracefs's `events`. With
    /// `mounting` and none found, mounts tracefs on the first (as `perf`
    /// does, tools/lib/api/fs): root only, and it stays mounted.
    package static func locate(mounting: Bool = false) throws(KernelError) -> Tracepoints {
        for point in mountPoints {
            if access(point + "/events", F_OK) == 0 { return Tracepoints(root: point) }
            // Mounted, but not this user's to read (tracefs is root's 0700).
            if errno == EACCES { throw .tracefsUnreadable(SystemError("access", subject: point + "/events")) }
        }
        guard mounting else { throw .tracefsNotMounted(searched: mountPoints, mountFailure: nil) }
        do {
            try FileSystem.mount("tracefs", on: mountPoints[0])
        } catch {
            throw .tracefsNotMounted(searched: mountPoints, mountFailure: error)
        }
        return Tracepoints(root: mountPoints[0])
    }

    /// The id and field layout of `system:event` (`sched`, `sched_switch`).
    package func format(_ system: String, _ event: String) throws(KernelError) -> TracepointFormat {
        let directory = "\(root)/events/\(system)/\(event)"
        let idText = try read(directory + "/id")
        let name = "\(system):\(event)"
        guard let id = idText.split(whereSeparator: \.isWhitespace).first.flatMap({ UInt64($0) }) else {
            throw .tracepointFormat(event: name, path: directory + "/id", problem: "no tracepoint id")
        }
        let path = directory + "/format"
        return try TracepointFormat(parsing: try read(path), name: name, id: id, path: path)
    }

    private func read(_ path: String) throws(KernelError) -> String {
        do {
            let descriptor = try FileDescriptor.open(path, O_RDONLY)
            defer { descriptor.close() }
            return String(decoding: try descriptor.readToEnd(limit: Self.fileLimit), as: UTF8.self)
        } catch {
            throw .tracefsUnreadable(error)
        }
    }
}

/// A tracepoint's id and the fields of its raw record, from its `format` file:
///
///     ID: 372
///     format:
///         field:unsigned short common_type;  offset:0;  size:2;  signed:0;
///         ...
///         field:pid_t prev_pid;  offset:24;  size:4;  signed:1;
package struct TracepointFormat: Equatable, Sendable {
    package struct Field: Equatable, Sendable {
        package var offset: Int
        package var size: Int

        package init(offset: Int, size: Int) {
            self.offset = offset
            self.size = size
        }
    }

    /// `system:event`.
    package let name: String
    package let id: UInt64
    /// The format file it was read from, for errors.
    package let path: String
    package let fields: [String: Field]

    /// Raw records are at most 64 KiB (a perf record's size is 16 bits).
    static let maximumOffset = 1 << 16

    /// Parses the `field:` lines of `text`; the name of each is the last
    /// word of its declaration without an array suffix (`char prev_comm[16]`
    /// is `prev_comm`, `__data_loc char[] filename` is `filename`).
    package init(parsing text: String, name: String, id: UInt64, path: String) throws(KernelError) {
        var fields: [String: Field] = [:]
        for line in text.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard trimmed.hasPrefix("field:") else { continue }
            let parts = trimmed.dropFirst("field:".count).split(separator: ";")
            guard let declaration = parts.first,
                  let word = declaration.split(whereSeparator: { $0 == " " || $0 == "\t" }).last,
                  let fieldName = word.split(separator: "[", omittingEmptySubsequences: false).first,
                  !fieldName.isEmpty
            else { throw .tracepointFormat(event: name, path: path, problem: "a field line without a name ('\(trimmed)')") }
            var offset: Int?, size: Int?
            for part in parts.dropFirst() {
                let pair = part.drop { $0 == " " || $0 == "\t" }.split(separator: ":", maxSplits: 1)
                guard pair.count == 2, let value = Int(pair[1]), (0...Self.maximumOffset).contains(value) else { continue }
                if pair[0] == "offset" { offset = value } else if pair[0] == "size" { size = value }
            }
            guard let offset, let size else {
                throw .tracepointFormat(event: name, path: path, problem: "field '\(fieldName)' without an offset and a size below \(Self.maximumOffset)")
            }
            guard fields[String(fieldName)] == nil else { throw .tracepointFormat(event: name, path: path, problem: "field '\(fieldName)' twice") }
            fields[String(fieldName)] = Field(offset: offset, size: size)
        }
        self.name = name
        self.id = id
        self.path = path
        self.fields = fields
    }

    /// Field `name`, which must be one of `sizes` bytes long.
    package func field(_ name: String, sizes: [Int]) throws(KernelError) -> Field {
        guard let field = fields[name] else {
            throw .tracepointFormat(event: self.name, path: path, problem: "no field '\(name)'")
        }
        guard sizes.contains(field.size) else {
            let expected = sizes.map(String.init).joined(separator: " or ")
            throw .tracepointFormat(event: self.name, path: path,
                                    problem: "field '\(name)' is \(field.size) bytes, not \(expected)")
        }
        return field
    }
}
