import TraceKernel
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// What traced needs of the kernel's root-only files to record execution
/// events when it runs unprivileged (docs/design.md, "Who may record
/// what"): the scheduler tracepoints' ids and layouts from tracefs (root
/// 0700), and the kernel's text symbols from /proc/kallsyms (addresses
/// read as 0 without CAP_SYSLOG), which tell the call a thread waited in.
/// The packaged unit copies them with `traced --prepare-kernel DIR`, run
/// as root before traced starts (`ExecStartPre=+`), into
/// `/run/traced/kernel`; traced, as its own user, reads them there.
package enum KernelFiles {
    static let tracepoints = [("sched", "sched_switch"), ("sched", "sched_waking")]
    /// Where traced looks for them: under its socket directory.
    static func directory(socketDirectory: String) -> String { socketDirectory + "/kernel" }

    /// Copies the tracepoints' `id` and `format` files into
    /// `DIR/events/SYSTEM/EVENT/` (world-readable: they describe the
    /// kernel's record layouts, not the system) and the text symbols into
    /// `DIR/kallsyms`, readable by `group` only (kernel addresses defeat
    /// KASLR). Mounts tracefs if needed. Root only.
    package static func prepare(into directory: String, group: String?) throws(KernelFileError) {
        let tracefs: Tracepoints
        do {
            tracefs = try Tracepoints.locate(mounting: true)
        } catch {
            throw KernelFileError("\(error)")
        }
        for (system, event) in tracepoints {
            let target = "\(directory)/events/\(system)/\(event)"
            do {
                try FileSystem.makeDirectories(target, mode: 0o755)
                // Each one 0755 whatever the umask: under the unit's
                // UMask=0077, mkdir makes them root's alone, and traced, as
                // its own user, could not reach the files in them.
                for path in [directory, "\(directory)/events", "\(directory)/events/\(system)", target] {
                    try FileSystem.changeMode(path, to: 0o755)
                }
                for file in ["id", "format"] {
                    try copy("\(tracefs.root)/events/\(system)/\(event)/\(file)", to: "\(target)/\(file)", mode: 0o644, group: nil)
                }
            } catch {
                throw KernelFileError("cannot copy tracepoint \(system):\(event) into '\(target)': \(error)")
            }
        }
        do {
            try copy("/proc/kallsyms", to: "\(directory)/kallsyms", mode: 0o640, group: group) { line in
                // "ffffffff81000000 T _stext": text symbols only.
                let fields = line.split(separator: " ", maxSplits: 3)
                return fields.count >= 3 && (fields[1] == "T" || fields[1] == "t")
            }
        } catch {
            throw KernelFileError("cannot copy the kernel's symbols into '\(directory)/kallsyms': \(error)")
        }
    }

    /// Copies `source` to `target` (through a temporary file renamed into
    /// place), keeping only the lines `keep` accepts.
    private static func copy(_ source: String, to target: String, mode: mode_t, group: String?,
                             keep: ((Substring) -> Bool)? = nil) throws(SystemError) {
        let input = try FileDescriptor.open(source, O_RDONLY)
        defer { input.close() }
        var bytes = try input.readToEnd(limit: 64 << 20)
        if let keep {
            let text = String(decoding: bytes, as: UTF8.self)
            bytes = Array(text.split(separator: "\n").filter(keep).joined(separator: "\n").utf8) + [0x0a]
        }
        let temporary = target + ".new"
        let output = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, permissions: mode)
        defer { output.close() }
        try output.writeAll(bytes)
        try Syscall.call("fchmod", subject: temporary) { fchmod(output.rawValue, mode) }
        if let group, let entry = getgrnam(group) {
            try Syscall.call("fchown", subject: temporary) { fchown(output.rawValue, 0, entry.pointee.gr_gid) }
        }
        try FileSystem.rename(temporary, to: target)
    }
}

package struct KernelFileError: Error, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}
