import Foundation
import TestSupport
import Testing
import TraceProtocol

/// The Debian package scripts/package builds (docs/packaging.md): the files
/// it ships, what its control file declares, that its binaries run without
/// a Swift toolchain, and lintian's verdict. scripts/test builds the package
/// before the suite runs; these tests read it and never build it.
@Suite(.serialized, .tags(.debianPackage)) struct PackageTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    /// The package of this version: Version.current is what `tracectl
    /// --version` prints, and the .deb's version must be the same.
    static let package = repository + "/.build/package/traced_\(Version.current)_amd64.deb"

    /// Lintian warnings docs/packaging.md explains and keeps (none so far).
    /// A new one fails the suite until it is fixed or explained there and
    /// named here.
    static let keptLintianWarnings: Set<String> = []

    /// The .deb's path, or a failure saying how to make it.
    private static func deb() throws -> String {
        guard FileManager.default.fileExists(atPath: package) else {
            throw PackageMissing(path: package)
        }
        return package
    }

    struct PackageMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "\(path) does not exist: run scripts/package first (scripts/test does)" }
    }

    @Test func theDebShipsBinariesUnitsConfigurationManualsCompletionsAndDocs() throws {
        let listing = try Processes.run("/usr/bin/dpkg-deb", ["--contents", try Self.deb()])
        #expect(listing.status == 0, "\(listing.standardError)")
        // `dpkg-deb -c` prints `ls -l`-like lines ending in "./PATH".
        let paths = Set(listing.lines.compactMap { $0.split(separator: " ").last.map { String($0.dropFirst()) } })
        let expected = [
            "/usr/bin/traced", "/usr/bin/tracectl",
            "/lib/systemd/system/traced.service", "/lib/systemd/system/traced-producer.socket",
            "/lib/systemd/system/traced-control.socket", "/usr/lib/sysusers.d/traced.conf",
            "/etc/traced/traced.conf",
            "/usr/share/man/man1/tracectl.1.gz", "/usr/share/man/man8/traced.8.gz", "/usr/share/man/man5/traced.conf.5.gz",
            "/usr/share/bash-completion/completions/tracectl", "/usr/share/zsh/vendor-completions/_tracectl",
            "/usr/share/doc/traced/copyright", "/usr/share/doc/traced/changelog.gz", "/usr/share/doc/traced/README.md",
            "/usr/share/doc/traced/docs/design.md", "/usr/share/doc/traced/docs/format.md",
            "/usr/share/doc/traced/docs/protocol.md", "/usr/share/doc/traced/docs/analysis.md",
        ]
        for path in expected {
            #expect(paths.contains(path), "\(path) is not in the package:\n\(listing.standardOutput)")
        }
    }

    @Test func theControlFileDeclaresTheVersionTheLibrariesAndTheConffile() throws {
        let deb = try Self.deb()
        let fields = try Processes.run("/usr/bin/dpkg-deb", ["--field", deb, "Version", "Depends"])
        #expect(fields.status == 0, "\(fields.standardError)")
        let control = Dictionary(fields.lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }, uniquingKeysWith: { $1 })
        #expect(control["Version"] == Version.current)
        // Names only: dpkg-shlibdeps chose the versions from the symbols used.
        let depends = Set((control["Depends"] ?? "").split(separator: ",").map {
            String($0.trimmingCharacters(in: .whitespaces).prefix { $0 != " " })
        })
        for package in ["libc6", "liblz4-1", "libsystemd0", "libcurl4", "libstdc++6", "libgcc-s1", "init-system-helpers", "systemd"] {
            #expect(depends.contains(package), "Depends lacks \(package): \(control["Depends"] ?? "")")
        }
        let conffiles = try Processes.run("/usr/bin/dpkg-deb", ["--info", deb, "conffiles"])
        #expect(conffiles.lines == ["/etc/traced/traced.conf"], "\(conffiles.standardOutput)\(conffiles.standardError)")
    }

    @Test func theBinariesLinkNothingOfTheToolchainAndRunInAnEmptyEnvironment() throws {
        let root = try TemporaryDirectory("traced-deb")
        let extracted = try Processes.run("/usr/bin/dpkg-deb", ["--extract", try Self.deb(), root.path])
        #expect(extracted.status == 0, "\(extracted.standardError)")
        for name in ["traced", "tracectl"] {
            let binary = root.file("usr/bin/" + name)
            let libraries = try Processes.run("/usr/bin/ldd", [binary])
            #expect(libraries.status == 0, "\(libraries.standardError)")
            #expect(libraries.lines.count >= 4, "\(libraries.standardOutput)")
            for line in libraries.lines {
                #expect(!line.contains("not found"), "\(name): \(line)")
                #expect(!line.lowercased().contains("swift"), "\(name) loads a library of the Swift toolchain: \(line)")
            }
            #expect(libraries.lines.contains { $0.contains("liblz4.so.1 => /") }, "\(libraries.standardOutput)")
            // No LD_LIBRARY_PATH, no toolchain on PATH: as on a machine without Swift.
            let help = try Processes.run("/usr/bin/env", ["-i", "PATH=/usr/bin:/bin", binary, "--help"])
            #expect(help.status == 0, "\(name) --help: \(help.standardError)")
            #expect(help.standardOutput.hasPrefix("OVERVIEW: "), "\(help.standardOutput)")
            let version = try Processes.run("/usr/bin/env", ["-i", "PATH=/usr/bin:/bin", binary, "--version"])
            #expect(version.lines == [Version.current], "\(name) --version: \(version.standardOutput)\(version.standardError)")
        }
    }

    @Test func lintianFindsNoErrorAndOnlyTheWarningsThePackagingDocKeeps() throws {
        let result = try Processes.run("/usr/bin/lintian", ["--no-cfg", try Self.deb()])
        // Lines are "E: traced: TAG [details]" (or W:, I:, N:).
        let errors = result.lines.filter { $0.hasPrefix("E: ") }
        #expect(errors.isEmpty, "lintian reports errors:\n\(errors.joined(separator: "\n"))")
        let warnings = result.lines.filter { $0.hasPrefix("W: ") }
        let unexplained = warnings.filter { line in
            let tag = line.split(separator: " ").dropFirst(2).first.map(String.init) ?? line
            return !Self.keptLintianWarnings.contains(tag)
        }
        #expect(unexplained.isEmpty, "lintian warnings docs/packaging.md does not explain (fix them, or explain them there and in keptLintianWarnings):\n\(unexplained.joined(separator: "\n"))")
        // lintian's status is 0 when it found no error (and ran at all).
        #expect(result.status == 0, "lintian exited \(result.status): \(result.standardError)")
    }
}
