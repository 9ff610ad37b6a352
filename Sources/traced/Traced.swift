import ArgumentParser
import TraceDaemon
import TraceProtocol

/// traced: the tracing daemon. Configuration: built-in defaults, then the
/// configuration file, then these flags.
@main
struct Traced: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traced",
        abstract: "The traced daemon: registers traced processes, runs sessions, writes LZ4-compressed trace files.",
        version: Version.current)

    @Option(help: "Configuration file (default, if present: traced.conf in $CONFIGURATION_DIRECTORY; /etc/traced/traced.conf as root; ~/.config/traced/traced.conf otherwise).")
    var config: String?

    @Option(help: "Directory of producer.sock and control.sock (default: $TRACED_RUNTIME_DIR; $RUNTIME_DIRECTORY; /run/traced as root; $XDG_RUNTIME_DIR/traced, or /tmp/traced-UID, otherwise).")
    var runtimeDir: String?

    @Option(help: "Directory of sessions and their files (default: $STATE_DIRECTORY; /var/lib/traced as root; ~/.local/state/traced otherwise).")
    var stateDir: String?

    @Option(help: "error, warning, notice, info or debug.")
    var logLevel: String?

    @Option(help: "Disk space all sessions may use, like 1G.")
    var diskQuota: String?

    @Option(help: "Largest client buffer accepted, like 64M.")
    var maxBufferSize: String?

    @Option(help: "Memory all running flight recorders' windows may hold together, like 1G.")
    var flightRecorderMemory: String?

    @Flag(help: "Check the configuration and exit.")
    var checkConfig = false

    @Flag(help: "Print the configuration in effect (defaults, file, flags) in the file's syntax and exit.")
    var printConfig = false

    @Option(help: ArgumentHelp("As root, before an unprivileged traced starts: copy the scheduler tracepoints' formats and the kernel's symbols, which it cannot read, into this directory (its socket directory's 'kernel'), and exit.", valueName: "directory"))
    var prepareKernel: String?

    func run() throws {
        if let prepareKernel {
            try KernelFiles.prepare(into: prepareKernel, group: "traced")
            return
        }
        let file = config ?? DaemonConfiguration.defaultFile()
        let flags = [("runtime_directory", runtimeDir), ("state_directory", stateDir), ("log_level", logLevel),
                     ("disk_quota", diskQuota), ("max_buffer_size", maxBufferSize),
                     ("flight_recorder_memory", flightRecorderMemory)]
            .compactMap { key, value in value.map { (key: key, value: $0) } }
        // A ConfigurationError names the file and line (or the flag); a
        // DaemonError says what to do. ArgumentParser prints either and
        // exits with status 1.
        if checkConfig || printConfig {
            let settings = try DaemonConfiguration.load(file: file, flags: flags)
            print(printConfig ? settings.rendered() : "configuration OK" + (file.map { " (\($0))" } ?? " (defaults)"))
            return
        }
        let daemon = try Daemon(configurationFile: file, flags: flags)
        try daemon.run()
    }
}
