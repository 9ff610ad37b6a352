import Synchronization
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Deleting off the event loop. Unlinking a 64 MiB trace file, or a stopped
/// session's 400 MB, blocks for milliseconds (the file system frees every
/// extent), and the single-threaded daemon drains nothing meanwhile: a
/// deletion to stay under the disk quota cost ~600,000 counters at 20 M/s
/// (docs/performance.md). So the loop only renames what goes into
/// `STATE/trash/` (one metadata update on the same file system), and a
/// thread of its own deletes what is there. Whatever a crash leaves in the
/// trash is deleted when traced starts again.
final class Trash: Sendable {
    let directory: String
    private let wakeup: EventNotifier
    /// Numbers the entries, so two discarded files of the same name differ.
    private let sequence = Atomic<UInt64>(0)

    /// Creates `directory` if needed and starts the thread that empties it
    /// (first of what an earlier traced left there).
    init(directory: String) throws(SystemError) {
        self.directory = directory
        try FileSystem.makeDirectories(directory, mode: 0o750)
        let wakeup = try EventNotifier.create()
        self.wakeup = wakeup
        _ = try SystemThread.spawn(name: "traced-trash") {
            while true {
                Self.empty(directory)
                try? wakeup.wait(timeoutMilliseconds: -1)
            }
        }
    }

    /// Moves the file or directory at `path` out of sight for deletion;
    /// returns false (and leaves it) if it is not there. Where it cannot be
    /// renamed into the trash, it is deleted here instead.
    @discardableResult
    func discard(_ path: String) -> Bool {
        let number = sequence.add(1, ordering: .relaxed).newValue
        let base = path.split(separator: "/").last.map(String.init) ?? "entry"
        let target = "\(directory)/\(getpid())-\(number)-\(base)"
        do throws(SystemError) {
            try FileSystem.rename(path, to: target)
            wakeup.signal()
            return true
        } catch where error.errno == .notFound {
            return false
        } catch {
            return Self.delete(path)
        }
    }

    private static func empty(_ directory: String) {
        for entry in FileSystem.entries(directory) { _ = delete(directory + "/" + entry) }
    }

    /// Deletes a file, or a directory and the files in it.
    private static func delete(_ path: String) -> Bool {
        (try? FileSystem.removeTree(path)) != nil
    }
}
