import Foundation

/// `Tests/Tools/otlp-sink`, an OTLP/HTTP receiver that decodes what it gets
/// with opentelemetry-proto: started for one test on a free port of
/// 127.0.0.1, stopped and started again on the same port, told to refuse or
/// to hang.
package final class OTLPSink {
    private let directory: TemporaryDirectory
    private var process: Background
    package private(set) var port: Int

    package var endpoint: String { "http://127.0.0.1:\(port)" }

    package init(_ options: [String] = []) throws {
        directory = try TemporaryDirectory("otlp-sink")
        (process, port) = try Self.launch(directory, options)
    }

    deinit { process.kill(SIGKILL) }

    private static func launch(_ directory: TemporaryDirectory, _ options: [String]) throws -> (Background, Int) {
        let portFile = directory.file("port")
        try? FileManager.default.removeItem(atPath: portFile)
        let process = try Background(TraceReaders.repositoryRoot + "/Tests/Tools/otlp-sink", [portFile] + options)
        var port: Int?
        _ = eventually(20) {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
            return port != nil || !process.isRunning
        }
        guard let port else { throw Failure(description: "otlp-sink did not start: \(process.standardError)") }
        return (process, port)
    }

    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    /// Stops it (SIGKILL: connections refused from now on).
    package func stop() {
        process.kill(SIGKILL)
        _ = process.wait(seconds: 10)
    }

    /// Starts it again on the same port.
    package func restart(_ options: [String] = []) throws {
        (process, port) = try Self.launch(directory, ["--port", String(port)] + options)
    }

    /// What it received: requests decoded, how many were gzip, how many it
    /// refused, and the spans.
    package struct Received {
        package var requests: Int
        package var gzipped: Int
        package var refused: Int
        package var spans: [[String: Any]]
        /// Metrics requests' metrics, each with its resource, name, kind and points.
        package var metrics: [[String: Any]]
        /// Every POST of spans: when (seconds since the sink started) and the status answered.
        package var attempts: [(seconds: Double, status: Int)]
    }

    package func received() throws -> Received {
        let result = try Processes.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(port)/received"])
        guard result.status == 0,
              let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any] else {
            throw Failure(description: "otlp-sink did not answer: \(result.standardError)")
        }
        return Received(requests: object["count"] as? Int ?? -1, gzipped: object["gzip"] as? Int ?? -1,
                        refused: object["refused"] as? Int ?? -1, spans: object["spans"] as? [[String: Any]] ?? [],
                        metrics: object["metrics"] as? [[String: Any]] ?? [],
                        attempts: (object["attempts"] as? [[Any]] ?? []).map {
                            ((($0.first as? NSNumber)?.doubleValue ?? -1), ($0.last as? Int) ?? -1)
                        })
    }

    /// Answers the next requests with these statuses.
    package func answer(_ statuses: [Int]) throws { try control("answer", statuses.map(String.init).joined(separator: "\n")) }
    /// Accepts requests and never answers them, until `release`.
    package func hang() throws { try control("hang", "") }
    package func release() throws { try control("release", "") }

    private func control(_ what: String, _ body: String) throws {
        let result = try Processes.run("/usr/bin/curl", ["-sf", "-X", "POST", "--data-binary", body,
                                                         "http://127.0.0.1:\(port)/control/\(what)"])
        guard result.status == 0 else { throw Failure(description: "otlp-sink /control/\(what): \(result.standardError)") }
    }
}
