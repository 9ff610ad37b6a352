import Foundation

/// Perfetto's own trace_processor, as `Tests/Tools/check-trace` runs it
/// (docs/readers.md): what it read from an exported trace.
package struct TraceReaders {
    package let json: [String: Any]

    package static let repositoryRoot: String = {
        var path = #filePath
        for _ in 0..<3 { path = (path as NSString).deletingLastPathComponent }
        return path
    }()

    /// Loads `path`, with `queries` run against it.
    package static func check(_ path: String, queries: [String] = []) throws -> TraceReaders {
        var arguments = [path]
        for query in queries { arguments += ["--query", query] }
        let result = try Processes.run(repositoryRoot + "/Tests/Tools/check-trace", arguments)
        guard result.status == 0, let data = result.standardOutput.data(using: .utf8),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CheckFailed(description: "check-trace failed (\(result.status)): \(result.standardError)")
        }
        return TraceReaders(json: object)
    }

    package struct CheckFailed: Error, CustomStringConvertible {
        package var description: String
    }

    private var slices: [String: Any] { json["slices"] as? [String: Any] ?? [:] }
    package var totalSlices: Int { slices["total"] as? Int ?? -1 }
    package var unfinished: Int { slices["unfinished"] as? Int ?? -1 }
    package var flows: Int { json["flows"] as? Int ?? -1 }
    package var stats: [[String: Any]] { json["stats"] as? [[String: Any]] ?? [] }

    /// Slices of a category: (count, zero-duration count).
    package func category(_ name: String) -> (count: Int, zeroDuration: Int) {
        let rows = slices["by_category"] as? [[String: Any]] ?? []
        guard let row = rows.first(where: { $0["category"] as? String == name }) else { return (0, 0) }
        return (row["count"] as? Int ?? -1, row["zero_duration"] as? Int ?? -1)
    }

    /// Slices of a name.
    package func named(_ name: String) -> Int {
        let rows = slices["by_name"] as? [[String: Any]] ?? []
        return rows.filter { $0["name"] as? String == name }.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
    }

    /// Counter tracks by name: (samples, sum, max).
    package func counter(_ name: String) -> (count: Int, sum: Double, max: Double)? {
        let rows = json["counters"] as? [[String: Any]] ?? []
        guard let row = rows.first(where: { $0["name"] as? String == name }) else { return nil }
        return (row["count"] as? Int ?? -1, (row["sum"] as? NSNumber)?.doubleValue ?? .nan,
                (row["max"] as? NSNumber)?.doubleValue ?? .nan)
    }

    /// Thread names by tid (the threads trace_processor adds itself have none).
    package var threadNames: [Int: String] {
        var names: [Int: String] = [:]
        for row in json["threads"] as? [[String: Any]] ?? [] {
            if let tid = row["tid"] as? Int, let name = row["name"] as? String { names[tid] = name }
        }
        return names
    }

    package var processNames: [Int: String] {
        var names: [Int: String] = [:]
        for row in json["processes"] as? [[String: Any]] ?? [] {
            if let pid = row["pid"] as? Int, let name = row["name"] as? String { names[pid] = name }
        }
        return names
    }

    /// Rows of the n-th `--query`.
    package func rows(_ index: Int) -> [[String: Any]] {
        let queries = json["queries"] as? [[String: Any]] ?? []
        guard index < queries.count else { return [] }
        return queries[index]["rows"] as? [[String: Any]] ?? []
    }
}
