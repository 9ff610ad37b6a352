import Foundation
import Testing
import TestSupport

/// Every fuzz target replays its seed corpus and every input that once
/// crashed it (Tests/Fuzz/regressions), in the ordinary build: a decoder
/// that traps again fails here, without libFuzzer.
@Suite(.tags(.hostileInput)) struct FuzzReplayTests {
    static let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz").path

    static let targets = ["producer-messages", "control-messages", "buffer-consumer", "trace-file", "elf-file", "kernel-ring"]

    /// Inputs in a folder (none if it does not exist).
    static func count(_ folder: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.count
    }

    @Test(arguments: targets)
    func aTargetReplaysItsSeedsAndSavedCrashesWithoutATrap(_ target: String) throws {
        let corpus = Self.fuzz + "/corpus/" + target, regressions = Self.fuzz + "/regressions/" + target
        let folders = [corpus, regressions].filter { FileManager.default.fileExists(atPath: $0) }
        let expected = folders.map(Self.count).reduce(0, +)
        #expect(Self.count(corpus) > 0, "no seed corpus in \(corpus)")
        let result = try Processes.run(Processes.executable("traced-fuzz"), [target] + folders)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.lines == ["\(target): \(expected) inputs replayed"])
    }

    @Test func everyTargetHasASeedCorpusAndIsReplayedHere() throws {
        // scripts/fuzz fuzzes the folders of Tests/Fuzz/corpus: a target
        // without one would be neither fuzzed nor replayed.
        let result = try Processes.run(Processes.executable("traced-fuzz"), ["targets"])
        #expect(result.status == 0, "\(result.standardError)")
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.fuzz + "/corpus").filter { !$0.hasPrefix(".") }
        #expect(result.lines.sorted() == folders.sorted())
        #expect(Self.targets.sorted() == folders.sorted())
    }

    @Test func theSeedsOnDiskAreTheOnesTheEncodersWriteNow() throws {
        // Seeds are built by `traced-fuzz seeds`: regenerated, they must
        // equal those committed (a format change regenerates them).
        let directory = try TemporaryDirectory("seeds")
        let result = try Processes.run(Processes.executable("traced-fuzz"), ["seeds", directory.path])
        #expect(result.status == 0, "\(result.standardError)")
        for target in Self.targets {
            let fresh = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/" + target).sorted()
            #expect(!fresh.isEmpty)
            for name in fresh {
                let committed = FileManager.default.contents(atPath: Self.fuzz + "/corpus/" + target + "/" + name)
                #expect(committed == FileManager.default.contents(atPath: directory.path + "/" + target + "/" + name),
                        "\(target)/\(name) differs from what `traced-fuzz seeds` writes")
            }
        }
    }
}
