import ArgumentParser
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a session's trace into one file (while it runs: everything so far).",
        discussion: "The file holds the session's files one after the other: `lz4 -t` and `tracectl report` read it.")

    @Argument(help: "Session name.")
    var name: String

    @Option(name: .shortAndLong, help: "Output file; '-' for standard output.")
    var output: String

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        let toStandardOutput = output == "-"
        let destination: FileDescriptor
        if toStandardOutput {
            destination = .standardOutput
        } else {
            do {
                destination = try FileDescriptor.open(output + ".partial", O_WRONLY | O_CREAT | O_TRUNC, permissions: 0o644)
            } catch {
                Failure("cannot write '\(output)': \(error)").exit()
            }
        }
        let progress = !toStandardOutput && isatty(1) == 1
        let link = DaemonLink.connect(daemon)
        defer { link.channel.close() }
        link.send(ControlRequest.fetch(name: name).encode())
        var received: UInt64 = 0
        var lastShown: UInt64 = 0
        while true {
            switch link.receive() {
            case .fetchData(let bytes):
                do {
                    try destination.writeAll(bytes)
                } catch {
                    Failure("writing '\(output)' failed: \(error)").exit()
                }
                received += UInt64(bytes.count)
                if progress && received - lastShown >= 1 << 20 {
                    lastShown = received
                    show("fetching '\(name)': \(received >> 20) MiB")
                }
            case .fetchEnd(let bytes, let files):
                if progress { show("") }
                guard bytes == received else {
                    Failure("traced announced \(bytes) bytes but sent \(received); '\(output)' is incomplete").exit()
                }
                if !toStandardOutput {
                    do {
                        try destination.sync()
                        destination.close()
                        try Syscall.call("rename", subject: output) { rename(output + ".partial", output) }
                    } catch {
                        Failure("finishing '\(output)' failed: \(error)").exit()
                    }
                    print("fetched session '\(name)': \(received) bytes from \(files) file(s) into \(output)")
                }
                return
            default:
                Failure("traced sent something other than trace data").exit()
            }
        }
    }

    /// A one-line progress display on the terminal (stdout).
    private func show(_ text: String) {
        try? FileDescriptor.standardOutput.writeAll(Array("\r\u{1B}[K\(text)".utf8))
    }
}
