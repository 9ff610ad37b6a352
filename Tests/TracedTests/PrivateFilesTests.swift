import Foundation
import TestSupport
import Testing

/// Traces hold log messages: a file a process traces itself into
/// (TRACED_FILE) and a file `tracectl fetch -o` writes are created 0600, as
/// `perf record`'s are, whatever the umask lets through.
@Suite struct PrivateFilesTests {
    @Test func tracesWrittenByAClientAndByFetchAreReadableByTheirOwnerOnly() throws {
        let directory = try TemporaryDirectory("traced-private")
        let traced = directory.file("auto.trace")
        let result = try Processes.fixture("autostart", ["events": "50"], environment: ["TRACED_FILE": traced])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try Self.mode(traced) == 0o600)

        let daemon = try TracedDaemon()
        #expect(try daemon.tracectl(["start", "private"]).status == 0)
        _ = try daemon.json(["stop", "private"])
        let fetched = directory.file("fetched.trace")
        // A file that was there keeps nothing of its mode: fetch replaces it.
        #expect(FileManager.default.createFile(atPath: fetched, contents: nil, attributes: [.posixPermissions: 0o644]))
        #expect(FileManager.default.createFile(atPath: fetched + ".partial", contents: Data([1, 2, 3]),
                                               attributes: [.posixPermissions: 0o666]))
        #expect(try daemon.tracectl(["fetch", "private", "-o", fetched]).status == 0)
        #expect(try Self.mode(fetched) == 0o600)
        #expect(!FileManager.default.fileExists(atPath: fetched + ".partial"))
        #expect(try Processes.lz4Test(fetched).status == 0)
    }

    private static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }
}
