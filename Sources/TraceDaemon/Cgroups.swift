import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// The processes of a systemd unit or a cgroup (`tracectl start --unit`,
/// `--cgroup`): a cgroup directory under /sys/fs/cgroup, its processes and
/// those of the cgroups below it, however many start later.
enum Cgroups {
    static let mount = "/sys/fs/cgroup"

    /// The hierarchies a unit's cgroup can be found in: the unified one
    /// (cgroup v2, at the mount or, on a hybrid system, under `unified`),
    /// then systemd's own v1 hierarchy.
    static var roots: [String] {
        [mount, mount + "/unified", mount + "/systemd"].filter { access($0 + "/cgroup.procs", F_OK) == 0 }
    }

    /// The directory of `--cgroup PATH`: absolute under /sys/fs/cgroup, or
    /// relative to a hierarchy's root ("/system.slice/nginx.service").
    static func directory(of path: String) throws(ProtocolError) -> String {
        let parts = path.split(separator: "/")
        guard !path.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." }) else {
            throw .invalidRequest("--cgroup '\(path)': a cgroup is a path under \(mount), like /system.slice/nginx.service")
        }
        let candidates = path.hasPrefix(mount + "/") ? [path] : roots.map { $0 + "/" + parts.joined(separator: "/") }
        guard let found = candidates.first(where: { access($0 + "/cgroup.procs", F_OK) == 0 }) else {
            throw .invalidRequest("--cgroup '\(path)': no such cgroup under \(mount) (looked in \(roots.joined(separator: ", ")))")
        }
        return found
    }

    /// The cgroup directory of systemd unit `unit` (".service" added when
    /// it has no unit suffix, as systemctl does).
    static func directory(ofUnit unit: String) throws(ProtocolError) -> String {
        let suffixes = [".service", ".scope", ".slice", ".socket", ".mount", ".swap"]
        let name = suffixes.contains(where: { unit.hasSuffix($0) }) ? unit : unit + ".service"
        guard !name.contains("/"), !name.hasPrefix(".") else {
            throw .invalidRequest("--unit '\(unit)': a unit name like nginx.service")
        }
        for root in roots {
            if let found = search(root, for: name, depth: 6) { return found }
        }
        throw .invalidRequest("--unit '\(unit)': no cgroup of \(name) under \(mount): is it running? (`systemctl status \(name)`)")
    }

    private static func search(_ directory: String, for name: String, depth: Int) -> String? {
        guard depth > 0 else { return nil }
        var below: [String] = []
        for entry in FileSystem.entries(directory) where access("\(directory)/\(entry)/cgroup.procs", F_OK) == 0 {
            if entry == name { return "\(directory)/\(entry)" }
            below.append("\(directory)/\(entry)")
        }
        for child in below {
            if let found = search(child, for: name, depth: depth - 1) { return found }
        }
        return nil
    }

    /// The processes in `directory` and the cgroups below it, now.
    static func processes(in directory: String) -> Set<Int32> {
        var pids = Set<Int32>()
        collect(directory, into: &pids, depth: 32)
        return pids
    }

    private static func collect(_ directory: String, into pids: inout Set<Int32>, depth: Int) {
        guard depth > 0 else { return }
        if let descriptor = try? FileDescriptor.open(directory + "/cgroup.procs", O_RDONLY) {
            defer { descriptor.close() }
            if let bytes = try? descriptor.readToEnd(limit: 16 << 20) {
                for line in bytes.split(separator: 0x0a) { if let pid = Int32(String(decoding: line, as: UTF8.self)) { pids.insert(pid) } }
            }
        }
        for entry in FileSystem.entries(directory) where access("\(directory)/\(entry)/cgroup.procs", F_OK) == 0 {
            collect("\(directory)/\(entry)", into: &pids, depth: depth - 1)
        }
    }
}
