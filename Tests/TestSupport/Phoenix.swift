import Foundation

/// Arize Phoenix (`arize-phoenix` from PyPI, in `.build/phoenix-venv`, which
/// scripts/install-dependencies makes): a real OpenTelemetry backend that
/// takes OTLP/HTTP at `/v1/traces` and answers queries about the spans it
/// stored. Started for one test, on free ports of this machine, with its
/// database in a directory of its own.
package final class Phoenix {
    private let directory: TemporaryDirectory
    private let process: Background
    package let port: Int
    /// The address it listens on, and others reach it at.
    package let host: String

    package var endpoint: String { "http://\(host):\(port)" }

    package static var executable: String {
        let venv = ProcessInfo.processInfo.environment["TRACED_PHOENIX_VENV"]
            ?? TraceReaders.repositoryRoot + "/.build/phoenix-venv"
        return venv + "/bin/phoenix"
    }

    /// `launcher`: a command it runs under (`ip netns exec NAME`, to put
    /// it on a test host of its own), listening on `host`.
    package init(launcher: [String] = [], host: String = "127.0.0.1") throws {
        directory = try TemporaryDirectory("phoenix")
        let ports = try Self.freePorts(2)
        port = ports[0]
        self.host = host
        let command = launcher + [Self.executable, "serve"]
        process = try Background(command[0], Array(command.dropFirst()), environment: [
            "PHOENIX_WORKING_DIR": directory.path, "PHOENIX_PORT": String(ports[0]), "PHOENIX_GRPC_PORT": String(ports[1]),
            "PHOENIX_HOST": host, "PHOENIX_TELEMETRY_ENABLED": "false",
        ])
        let up = eventually(120) {
            (try? Processes.run("/usr/bin/curl", ["-sf", "-o", "/dev/null", "http://\(host):\(ports[0])/healthz"]))?.status == 0
                || !process.isRunning
        }
        guard up, process.isRunning else {
            throw Failure(description: "Phoenix did not start: \(process.standardError.suffix(3000))")
        }
    }

    deinit {
        process.kill(SIGTERM)
        _ = process.wait(seconds: 20)
    }

    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    /// Every span of the default project, as Phoenix's REST API gives them
    /// (OTLP JSON field names: `name`, `trace_id`, `span_id`,
    /// `parent_span_id`, `attributes`, ...), page by page.
    package func spans() throws -> [[String: Any]] {
        var spans: [[String: Any]] = []
        var cursor: String?
        repeat {
            var url = "http://\(host):\(port)/v1/projects/default/spans/otlpv1?limit=1000"
            if let cursor { url += "&cursor=" + (cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor) }
            let result = try Processes.run("/usr/bin/curl", ["-sf", url])
            guard result.status == 0,
                  let page = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any] else {
                // No project yet: nothing stored.
                if spans.isEmpty { return [] }
                throw Failure(description: "Phoenix did not answer \(url): \(result.standardError)")
            }
            spans += page["data"] as? [[String: Any]] ?? []
            cursor = page["next_cursor"] as? String
        } while cursor != nil
        return spans
    }

    /// `count` TCP ports of 127.0.0.1 free now (bound to 0, read, closed).
    static func freePorts(_ count: Int) throws -> [Int] {
        let result = try Processes.run("/usr/bin/env", ["python3", "-c", """
            import socket
            sockets = [socket.socket() for _ in range(\(count))]
            for s in sockets: s.bind(("127.0.0.1", 0))
            print(" ".join(str(s.getsockname()[1]) for s in sockets))
            """])
        let ports = result.standardOutput.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        guard ports.count == count else { throw Failure(description: "no free ports: \(result.standardError)") }
        return ports
    }
}
