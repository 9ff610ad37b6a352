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

    @Option(help: ArgumentHelp("A flight recorder's snapshot instead (its number in `tracectl snapshots NAME`).", valueName: "K"))
    var snapshot: UInt64?

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        let toStandardOutput = output == "-"
        // Made when the first bytes come, so that a refusal (an unknown
        // session or snapshot) leaves no FILE.partial behind.
        var opened: FileDescriptor?
        func destination() -> FileDescriptor {
            if let opened { return opened }
            if toStandardOutput {
                opened = .standardOutput
            } else {
                do {
                    // Created afresh, private (a trace holds log messages); the
                    // rename gives FILE that mode whatever it had.
                    try FileSystem.unlink(output + ".partial")
                    opened = try FileDescriptor.open(output + ".partial", O_WRONLY | O_CREAT | O_EXCL, permissions: 0o600)
                } catch {
                    Failure("cannot write '\(output)': \(error)").exit()
                }
            }
            return opened!
        }
        let progress = !toStandardOutput && isatty(1) == 1
        let link = DaemonLink.connect(daemon)
        defer { link.channel.close() }
        link.send((snapshot.map { ControlRequest.fetchSnapshot(name: name, index: $0) } ?? ControlRequest.fetch(name: name)).encode())
        var received: UInt64 = 0
        var lastShown: UInt64 = 0
        while true {
            switch link.receive() {
            case .fetchData(let bytes):
                do {
                    try destination().writeAll(bytes)
                } catch {
                    discardPartial("writing '\(output)' failed: \(error)")
                }
                received += UInt64(bytes.count)
                if progress && received - lastShown >= 1 << 20 {
                    lastShown = received
                    show("fetching '\(name)': \(received >> 20) MiB")
                }
            case .fetchEnd(let bytes, let files):
                if progress { show("") }
                guard bytes == received else {
                    discardPartial("traced announced \(bytes) bytes but sent \(received); nothing was written to '\(output)'")
                }
                if !toStandardOutput {
                    do {
                        let file = destination()
                        try file.sync()
                        file.close()
                        try FileSystem.rename(output + ".partial", to: output)
                    } catch {
                        discardPartial("finishing '\(output)' failed: \(error)")
                    }
                    print("fetched session '\(name)': \(received) bytes from \(files) file(s) into \(output)")
                }
                return
            default:
                Failure("traced sent something other than trace data").exit()
            }
        }
    }

    /// Fails without leaving `FILE.partial` behind (standard output has none).
    private func discardPartial(_ message: String) -> Never {
        if output != "-" { try? FileSystem.unlink(output + ".partial") }
        Failure(message).exit()
    }

    /// A one-line progress display on the terminal (stdout).
    private func show(_ text: String) {
        try? FileDescriptor.standardOutput.writeAll(Array("\r\u{1B}[K\(text)".utf8))
    }
}
