import Foundation
import TestSupport
import Testing

/// `report` and `tasks` on damaged files, run as the real program: they read
/// what decodes, say what they skipped (file, offset, why), exit non-zero
/// only when nothing decodes, and never crash.
@Suite(.tags(.hostileInput)) struct DamagedTraceTests {
    enum Damage: String, CaseIterable, Sendable {
        /// Cut inside a frame after the first (the first holds the file
        /// header and the first metadata: cut there, nothing decodes).
        case truncated
        /// One byte flipped inside a frame after the first.
        case flippedByte
        /// The last frame cut short, as a writer killed mid-frame leaves it.
        case lastFrameCut
        case empty
        case notATrace

        /// Whether anything in the damaged file still decodes.
        var somethingDecodes: Bool { self != .empty && self != .notATrace }
    }

    /// One intact trace for every case: 40,000 tasks without sleeps, about
    /// 360,000 events in a few frames.
    static let intact: (directory: TemporaryDirectory, bytes: [UInt8])? = {
        guard let directory = try? TemporaryDirectory() else { return nil }
        let path = directory.file("intact.trace")
        guard let result = try? Processes.fixture("latencies", ["out": path, "tasks": "40000", "base-us": "0", "reply-us": "0"]),
              result.status == 0, let data = try? Data(contentsOf: URL(fileURLWithPath: path)) else { return nil }
        return (directory, [UInt8](data))
    }()

    static func damaged(_ damage: Damage, in directory: TemporaryDirectory) throws -> (path: String, intact: String) {
        let intact = try #require(Self.intact, "the latencies fixture did not write a trace")
        var bytes = intact.bytes
        switch damage {
        case .truncated: bytes = Array(bytes[..<(bytes.count * 9 / 10)])
        case .flippedByte: bytes[bytes.count * 9 / 10] ^= 0x5A
        case .lastFrameCut: bytes = Array(bytes.dropLast(9))
        case .empty: bytes = []
        case .notATrace: bytes = Array("root:x:0:0:root:/root:/bin/bash\n".utf8)
        }
        let path = directory.file("\(damage.rawValue).trace")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, intact.directory.file("intact.trace"))
    }

    @Test(.tags(.slow), arguments: Damage.allCases)
    func reportReadsWhatDecodesAndSaysWhatItSkipped(_ damage: Damage) throws {
        let directory = try TemporaryDirectory()
        let (path, _) = try Self.damaged(damage, in: directory)
        let result = try Processes.run(Processes.executable("tracectl"), ["report", path])
        if damage.somethingDecodes {
            #expect(result.status == 0, "\(damage): \(result.standardError)")
            #expect(result.lines.first?.contains(" events from 1 process(es)") == true, "\(result.lines.prefix(2))")
            let warnings = result.lines.filter { $0.hasPrefix("warning: ") }
            #expect(!warnings.isEmpty, "\(damage): nothing said about the damage")
            #expect(warnings.allSatisfy { $0.contains(path) }, "\(warnings)")
            #expect(warnings.contains { $0.contains("at byte ") })
        } else {
            #expect(result.status == 1, "\(damage): status \(result.status)")
            #expect(result.standardError.hasPrefix("tracectl: nothing in \(path) decodes as a trace"), "\(result.standardError)")
        }
        let json = try Processes.run(Processes.executable("tracectl"), ["report", "--json", path])
        #expect(json.status == result.status)
        if damage.somethingDecodes {
            #expect((try? JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8))) != nil)
        }
    }

    @Test(.tags(.slow), arguments: Damage.allCases)
    func tasksReadsWhatDecodesAndSaysWhatItSkipped(_ damage: Damage) throws {
        let directory = try TemporaryDirectory()
        let (path, _) = try Self.damaged(damage, in: directory)
        let result = try Processes.run(Processes.executable("tracectl"), ["tasks", "--type", "request", "--slowest", "2", path])
        if damage.somethingDecodes {
            #expect(result.status == 0, "\(damage): \(result.standardError)")
            #expect(result.lines.filter { $0.hasPrefix("task request #") }.count == 2)
            #expect(result.lines.contains { $0.hasPrefix("warning: ") && $0.contains(" of \(path)") })
            // tasks reads twice but says each problem once, as report does.
            let report = try Processes.run(Processes.executable("tracectl"), ["report", path])
            #expect(result.lines.filter { $0.hasPrefix("warning: ") } == report.lines.filter { $0.hasPrefix("warning: ") })
        } else {
            #expect(result.status == 1 || result.status == 4, "\(damage): status \(result.status)")
            #expect(result.standardError.hasPrefix("tracectl: "), "\(result.standardError)")
        }
    }
}
