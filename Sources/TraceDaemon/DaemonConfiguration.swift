import TraceKernel
import TraceProtocol
import TraceRing
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// traced's settings: built-in defaults, then the configuration file
/// (config/traced.conf documents every key), then command-line flags.
package struct DaemonConfiguration: Equatable, Sendable {
    package var runtimeDirectory: String
    package var stateDirectory: String
    /// Group allowed on the control socket (mode 0660) when traced runs as root.
    package var controlGroup = "tracing"
    /// Largest client buffer accepted; larger registrations are refused.
    package var maxBufferSize = 64 << 20
    package var maxClients = 1024
    package var maxClientsPerUser = 128
    package var maxSessions = 32
    /// All sessions' files together; oldest stopped sessions go first.
    package var diskQuota: UInt64 = 1 << 30
    /// All running flight recorders' windows together (held in memory).
    package var flightRecorderMemory: UInt64 = 1 << 30
    package var drainIntervalMilliseconds = 10
    package var scrapeIntervalMilliseconds = 100
    /// How long a stop waits for clients to confirm tracing is off.
    package var stopTimeoutMilliseconds = 500
    /// Each CPU's perf ring for execution events, in bytes: a power of two.
    package var kernelRingSize = ExecutionRecorder.ringSize
    package var logLevel = "info"
    /// Where sessions send spans when `tracectl start` names no `--otlp`
    /// (docs/design.md, "OTLP"); nil: nowhere.
    package var otlpEndpoint: String?
    /// Spans a session may hold for its endpoint before it drops them.
    package var otlpQueueSpans = 16384
    /// How long one OTLP request may take, connecting included.
    package var otlpTimeoutMilliseconds = 10_000
    /// Requests gzipped (`otlp_compression = gzip`, the default, as the
    /// Collector's exporters do), or sent plain (`none`, as the OTel SDKs'
    /// default): gzip costs traced CPU for bytes on the wire.
    package var otlpGzip = true

    /// The intervals in nanoseconds, as the loop counts time.
    var drainInterval: UInt64 { UInt64(drainIntervalMilliseconds) * 1_000_000 }
    var scrapeInterval: UInt64 { UInt64(scrapeIntervalMilliseconds) * 1_000_000 }
    var stopTimeout: UInt64 { UInt64(stopTimeoutMilliseconds) * 1_000_000 }

    /// Keys SIGHUP cannot change: the sockets and directories in use.
    /// Changing them needs a restart.
    static let fixedKeys: Set<String> = ["runtime_directory", "state_directory", "control_group"]

    /// `self` (a reloaded configuration) with `running`'s values for the
    /// fixed keys, and the fixed keys it asked to change.
    func keepingFixedSettings(of running: DaemonConfiguration) -> (DaemonConfiguration, refused: [(key: String, wanted: String, kept: String)]) {
        let wanted = Dictionary(uniqueKeysWithValues: settings.map { ($0.key, $0.value) })
        var kept = self
        var refused: [(key: String, wanted: String, kept: String)] = []
        for (key, value) in running.settings where Self.fixedKeys.contains(key) && wanted[key] != value {
            refused.append((key, wanted[key] ?? "", value))
            // A value traced runs with was accepted once: it sets again.
            try? kept.set(key, value)
        }
        return (kept, refused)
    }

    /// Defaults, then `file` (if any), then `flags` (key, value), in order:
    /// how traced starts and what SIGHUP reloads. A problem names the file
    /// and line, or the flag.
    package static func load(file: String?, flags: [(key: String, value: String)]) throws(ConfigurationError) -> DaemonConfiguration {
        var settings = defaults()
        if let file { try settings.apply(file: file) }
        for (key, value) in flags {
            do throws(ConfigurationError.Problem) {
                try settings.set(key, value)
            } catch {
                throw ConfigurationError(file: "--" + String(key.map { $0 == "_" ? "-" : $0 }), line: 0, message: error.text)
            }
        }
        return settings
    }

    package static func defaults() -> DaemonConfiguration {
        DaemonConfiguration(runtimeDirectory: defaultRuntimeDirectory(), stateDirectory: defaultStateDirectory())
    }

    /// `$TRACED_RUNTIME_DIR`; else `$RUNTIME_DIRECTORY` (systemd's
    /// `RuntimeDirectory=`); else where `RuntimePaths.listening` says.
    static func defaultRuntimeDirectory() -> String {
        if getenv(RuntimePaths.environmentVariable) == nil, let systemd = systemdDirectory("RUNTIME_DIRECTORY") { return systemd }
        return RuntimePaths.listening().directory
    }

    /// The first directory systemd passes in `variable`
    /// (`RuntimeDirectory=` and the like set `$RUNTIME_DIRECTORY`, ...; a
    /// list is colon-separated): where traced run as a service keeps
    /// things, whatever user it runs as.
    static func systemdDirectory(_ variable: String) -> String? {
        guard let value = getenv(variable).map({ String(cString: $0) }),
              let first = value.split(separator: ":").first, first.hasPrefix("/") else { return nil }
        return String(first)
    }

    /// `$STATE_DIRECTORY` (systemd's `StateDirectory=`); else
    /// `/var/lib/traced` for root; `$XDG_STATE_HOME/traced` or
    /// `~/.local/state/traced` for anyone else.
    package static func defaultStateDirectory() -> String {
        if let systemd = systemdDirectory("STATE_DIRECTORY") { return systemd }
        if getuid() == 0 { return "/var/lib/traced" }
        if let state = getenv("XDG_STATE_HOME").map({ String(cString: $0) }), !state.isEmpty { return state + "/traced" }
        let home = getenv("HOME").map { String(cString: $0) } ?? "/tmp"
        return home + "/.local/state/traced"
    }

    /// The file traced reads when no `--config` is given, if it exists:
    /// `traced.conf` in `$CONFIGURATION_DIRECTORY` (systemd's
    /// `ConfigurationDirectory=`); else `/etc/traced/traced.conf` for root,
    /// `$XDG_CONFIG_HOME/traced/traced.conf` or `~/.config/traced/traced.conf`
    /// for anyone else.
    package static func defaultFile() -> String? {
        let candidate = systemdDirectory("CONFIGURATION_DIRECTORY").map { $0 + "/traced.conf" }
            ?? (getuid() == 0 ? "/etc/traced/traced.conf"
            : (getenv("XDG_CONFIG_HOME").map { String(cString: $0) } ?? ((getenv("HOME").map { String(cString: $0) } ?? "") + "/.config")) + "/traced/traced.conf")
        return access(candidate, R_OK) == 0 ? candidate : nil
    }

    /// Applies the file at `path`; every problem names the file and line.
    package mutating func apply(file path: String) throws(ConfigurationError) {
        let text: String
        do {
            let descriptor = try FileDescriptor.open(path, O_RDONLY)
            defer { descriptor.close() }
            text = String(decoding: try descriptor.readToEnd(limit: 1 << 20), as: UTF8.self)
        } catch {
            throw ConfigurationError(file: path, line: 0, message: "cannot read it: \(error)")
        }
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let trimmed = line.trimmingSpaces()
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw ConfigurationError(file: path, line: number + 1, message: "expected `key = value`, found '\(trimmed)'")
            }
            let key = String(trimmed[..<equals]).trimmingSpaces()
            let value = String(trimmed[trimmed.index(after: equals)...]).trimmingSpaces()
            do throws(ConfigurationError.Problem) {
                try set(key, value)
            } catch {
                throw ConfigurationError(file: path, line: number + 1, message: error.text)
            }
        }
    }

    /// Sets one key (from the file or a flag).
    package mutating func set(_ key: String, _ value: String) throws(ConfigurationError.Problem) {
        switch key {
        case "runtime_directory": runtimeDirectory = try Self.path(key, value)
        case "state_directory": stateDirectory = try Self.path(key, value)
        case "control_group": controlGroup = value
        case "max_buffer_size":
            maxBufferSize = Int(try Self.size(key, value, limit: UInt64(BufferGeometry.maximumSize)))
        case "max_clients": maxClients = try Self.count(key, value, limit: 1 << 20)
        case "max_clients_per_user": maxClientsPerUser = try Self.count(key, value, limit: 1 << 20)
        case "max_sessions": maxSessions = try Self.count(key, value, limit: 4096)
        case "disk_quota": diskQuota = try Self.size(key, value)
        case "flight_recorder_memory": flightRecorderMemory = try Self.size(key, value)
        case "drain_interval": drainIntervalMilliseconds = try Self.milliseconds(key, value, limit: 1000)
        case "scrape_interval": scrapeIntervalMilliseconds = try Self.milliseconds(key, value, limit: 60_000)
        case "stop_timeout": stopTimeoutMilliseconds = try Self.milliseconds(key, value, limit: 600_000)
        case "kernel_ring_size":
            let bytes = try Self.size(key, value, limit: UInt64(PerfRing.maximumDataSize))
            guard bytes >= 4096, bytes & (bytes - 1) == 0 else {
                throw .init("kernel_ring_size must be a power of two from 4K, like 512K or 16M, not '\(value)'")
            }
            kernelRingSize = Int(bytes)
        case "otlp_endpoint":
            if value.isEmpty {
                otlpEndpoint = nil
            } else if case .failure(let refusal) = OTLPEndpoint.tracesURL(value) {
                throw .init("otlp_endpoint \(refusal)")
            } else {
                otlpEndpoint = value
            }
        case "otlp_queue_spans": otlpQueueSpans = try Self.count(key, value, limit: 1 << 20)
        case "otlp_timeout": otlpTimeoutMilliseconds = try Self.milliseconds(key, value, limit: 600_000)
        case "otlp_compression":
            guard value == "gzip" || value == "none" else {
                throw .init("otlp_compression must be gzip or none, not '\(value)'")
            }
            otlpGzip = value == "gzip"
        case "log_level":
            guard Log.Level(name: value) != nil else {
                throw .init("log_level must be error, warning, notice, info or debug, not '\(value)'")
            }
            logLevel = value
        default:
            throw .init("unknown key '\(key)' (see config/traced.conf for the keys)")
        }
    }

    private static func path(_ key: String, _ value: String) throws(ConfigurationError.Problem) -> String {
        guard value.hasPrefix("/") else { throw .init("\(key) must be an absolute path, not '\(value)'") }
        return value
    }

    private static func count(_ key: String, _ value: String, limit: Int) throws(ConfigurationError.Problem) -> Int {
        guard let number = Int(value), number > 0 else { throw .init("\(key) must be a positive number, not '\(value)'") }
        guard number <= limit else { throw .init("\(key) must be at most \(limit), not '\(value)'") }
        return number
    }

    /// "64M", "1G", "4096"... (Units.bytes), at most `limit` (by default
    /// 2^60, 1048576T: far past any disk, and short of where Units saturates).
    static func size(_ key: String, _ value: String, limit: UInt64 = 1 << 60) throws(ConfigurationError.Problem) -> UInt64 {
        guard let bytes = Units.bytes(value), bytes > 0 else {
            throw .init("\(key) must be a size like 64K, 16M or 2G, not '\(value)'")
        }
        guard bytes <= limit else { throw .init("\(key) must be at most \(Units.render(bytes: limit)), not '\(value)'") }
        return bytes
    }

    /// Every setting as the file states it, in the order config/traced.conf
    /// documents them: `set` reads each value back unchanged.
    var settings: [(key: String, value: String)] {
        [("runtime_directory", runtimeDirectory), ("state_directory", stateDirectory), ("control_group", controlGroup),
         ("max_buffer_size", Units.render(bytes: UInt64(maxBufferSize))), ("max_clients", "\(maxClients)"),
         ("max_clients_per_user", "\(maxClientsPerUser)"), ("max_sessions", "\(maxSessions)"),
         ("disk_quota", Units.render(bytes: diskQuota)),
         ("flight_recorder_memory", Units.render(bytes: flightRecorderMemory)), ("drain_interval", "\(drainIntervalMilliseconds)ms"),
         ("scrape_interval", "\(scrapeIntervalMilliseconds)ms"), ("stop_timeout", "\(stopTimeoutMilliseconds)ms"),
         ("kernel_ring_size", Units.render(bytes: UInt64(kernelRingSize))), ("otlp_endpoint", otlpEndpoint ?? ""),
         ("otlp_queue_spans", "\(otlpQueueSpans)"), ("otlp_timeout", otlpTimeoutMilliseconds % 1000 == 0 ? "\(otlpTimeoutMilliseconds / 1000)s" : "\(otlpTimeoutMilliseconds)ms"),
         ("otlp_compression", otlpGzip ? "gzip" : "none"), ("log_level", logLevel)]
    }

    /// The settings in the file's syntax, one `key = value` per line
    /// (`traced --print-config`).
    package func rendered() -> String {
        settings.map { "\($0.key) = \($0.value)" }.joined(separator: "\n")
    }

    /// "10ms", "2s", "5m" (Units.nanoseconds; a bare number is seconds),
    /// from 1 ms to `limit` milliseconds.
    static func milliseconds(_ key: String, _ value: String, limit: Int) throws(ConfigurationError.Problem) -> Int {
        guard let nanoseconds = Units.nanoseconds(value), nanoseconds >= 1_000_000 else {
            throw .init("\(key) must be a duration of at least 1ms, like 10ms, 2s or 5m, not '\(value)'")
        }
        guard nanoseconds <= UInt64(limit) * 1_000_000 else {
            throw .init("\(key) must be at most \(Units.render(seconds: UInt64(limit) / 1000)), not '\(value)'")
        }
        return Int(nanoseconds / 1_000_000)
    }
}

/// A configuration problem, located: "traced.conf:12: unknown key 'foo'".
package struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    package var file: String
    package var line: Int
    package var message: String

    package struct Problem: Error, Equatable, Sendable {
        package var text: String
        package init(_ text: String) { self.text = text }
    }

    package var description: String {
        line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)"
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}

extension Substring {
    func trimmingSpaces() -> String { String(self).trimmingSpaces() }
}
