import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// How tracectl writes a file a user asked for (`export -o`, `report
/// --html`): into OUT.partial, created afresh and private (0600: traces hold
/// log messages), synced, then renamed over OUT, which so gets that mode
/// whatever it had. On failure the partial file is removed, OUT is left as it
/// was, and tracectl exits with a sentence.
enum PrivateOutput {
    static func write<Result>(_ output: String, what: String, _ body: (FileDescriptor) throws -> Result) -> Result {
        let partial = output + ".partial"
        let destination: FileDescriptor
        do {
            try FileSystem.unlink(partial)
            destination = try FileDescriptor.open(partial, O_WRONLY | O_CREAT | O_EXCL, permissions: 0o600)
        } catch {
            Failure("cannot write '\(output)': \(error)").exit()
        }
        var open = true
        do {
            let result = try body(destination)
            try destination.sync()
            destination.close()
            open = false
            try FileSystem.rename(partial, to: output)
            return result
        } catch {
            if open { destination.close() }
            try? FileSystem.unlink(partial)
            Failure("\(what) failed: \(error) (nothing was written to '\(output)')").exit()
        }
    }
}
