import Foundation
import TestSupport
import Testing

/// What `go tool pprof -top` (Debian's golang-go) puts first in a CPU
/// profile that `tracectl profile --kind cpu` wrote from a fetched trace:
/// the heaviest row after the header ("flat flat% sum% cum cum% name"), and
/// the whole listing for the failure message.
func topOfCPUProfile(_ daemon: TracedDaemon, trace path: String) throws -> (first: Substring, listing: String) {
    let profile = daemon.directory.file("cpu.pb.gz")
    let written = try daemon.tracectl(["profile", path, "--kind", "cpu", "-o", profile])
    #expect(written.status == 0, "\(written.standardError)")
    let go = try #require(["/usr/bin/go", "/usr/lib/go/bin/go"].first { FileManager.default.isExecutableFile(atPath: $0) },
                          "go is not installed (scripts/install-dependencies installs golang-go)")
    let top = try Processes.run(go, ["tool", "pprof", "-top", profile], environment: ["HOME": daemon.directory.path])
    #expect(top.status == 0, "\(top.standardError)")
    let rows = top.standardOutput.split(separator: "\n").drop { !$0.contains("flat%") }.dropFirst()
    return (try #require(rows.first, "\(top.standardOutput)"), top.standardOutput)
}
