#if canImport(Glibc)
package import Glibc
#endif

/// Calls on paths rather than descriptors, each wrapped once: the daemon's
/// state directory, session files and trash go through these.
package enum FileSystem {
    /// `rename(2)`.
    package static func rename(_ from: String, to: String) throws(SystemError) {
        try Syscall.call("rename", subject: from) { Glibc.rename(from, to) }
    }

    /// Replaces `path` whole with `bytes`: written to `path.tmp` (mode
    /// 0640; fsynced first when `durable`), then renamed over it. On a
    /// failure (a full disk) the temporary file is removed and `path` keeps
    /// what it had.
    package static func replace(_ path: String, with bytes: [UInt8], durable: Bool) throws(SystemError) {
        let temporary = path + ".tmp"
        do {
            let descriptor = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, permissions: 0o640)
            defer { descriptor.close() }
            try descriptor.writeAll(bytes)
            if durable { try descriptor.sync() }
            try rename(temporary, to: path)
        } catch {
            try? unlink(temporary)
            throw error
        }
    }

    /// `unlink(2)`; a file that is already gone is not an error.
    package static func unlink(_ path: String) throws(SystemError) {
        do {
            try Syscall.call("unlink", subject: path) { Glibc.unlink(path) }
        } catch where error.errno == .notFound {
            return
        }
    }

    /// `unlink(2)` of a file, or of every file in a directory and then the
    /// directory (`rmdir(2)`): one level, what session directories hold.
    package static func removeTree(_ path: String) throws(SystemError) {
        do {
            try Syscall.call("unlink", subject: path) { Glibc.unlink(path) }
            return
        } catch where error.errno == Errno(rawValue: EISDIR) {
            for entry in entries(path) { try unlink(path + "/" + entry) }
            try Syscall.call("rmdir", subject: path) { Glibc.rmdir(path) }
        } catch where error.errno == .notFound {
            return
        }
    }

    /// `mkdir(2)` of one directory; an existing one is an error (`exists`).
    package static func makeDirectory(_ path: String, mode: mode_t) throws(SystemError) {
        try Syscall.call("mkdir", subject: path) { Glibc.mkdir(path, mode) }
    }

    /// `mkdir -p`: every missing component with mode 0755, and `mode` on
    /// the last one if this call made it. One that exists keeps its mode
    /// (an administrator's, or systemd's `StateDirectoryMode=`).
    package static func makeDirectories(_ path: String, mode: mode_t) throws(SystemError) {
        var partial = ""
        var made = false
        for component in path.split(separator: "/") {
            partial += "/" + component
            do {
                try makeDirectory(partial, mode: 0o755)
                made = true
            } catch where error.errno == .exists {
                made = false
                continue
            }
        }
        if made { try changeMode(path, to: mode) }
    }

    /// `chmod(2)`: `mode` exactly, whatever the umask.
    package static func changeMode(_ path: String, to mode: mode_t) throws(SystemError) {
        try Syscall.call("chmod", subject: path) { Glibc.chmod(path, mode) }
    }

    /// `mount(2)` of a filesystem that needs no device, such as tracefs
    /// (`mount -t tracefs nodev /sys/kernel/tracing`); needs CAP_SYS_ADMIN.
    package static func mount(_ type: String, on target: String) throws(SystemError) {
        try Syscall.call("mount", subject: target) { Glibc.mount("nodev", target, type, 0, nil) }
    }

    /// `fsync(2)` of a directory, so that a rename in it survives a crash.
    package static func syncDirectory(_ path: String) throws(SystemError) {
        let directory = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
        defer { directory.close() }
        try directory.sync()
    }

    /// The names in a directory, sorted, without "." and ".."; none if it
    /// cannot be read.
    package static func entries(_ directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The size `stat(2)` gives, or nil if there is no such file.
    package static func size(of path: String) -> UInt64? {
        status(of: path).map { UInt64(clamping: $0.st_size) }
    }

    /// The owner's uid `stat(2)` gives, or nil if there is no such file.
    package static func owner(of path: String) -> UInt32? {
        status(of: path).map(\.st_uid)
    }

    /// The inode number `stat(2)` gives (of what a link leads to), or nil
    /// if there is no such file.
    package static func inode(of path: String) -> UInt64? {
        status(of: path).map { UInt64($0.st_ino) }
    }

    private static func status(of path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }
}
