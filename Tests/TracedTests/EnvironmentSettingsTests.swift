import Foundation
import TestSupport
import Testing

/// The `TRACED_*` environment of a traced process goes through the same
/// parser as every other setting; a bad value is a warning naming the
/// variable, and tracing goes on with the default.
@Suite struct EnvironmentSettingsTests {
    @Test(arguments: [
        ("TRACED_BUFFER_SIZE", "64X", "traced: TRACED_BUFFER_SIZE='64X' is not a size (like 64K, 16M or 1G); using the default"),
        ("TRACED_STACKS", "maybe", "traced: TRACED_STACKS='maybe' is not 1 or 0 (yes/no, true/false); taking it as 0"),
        ("TRACED_CLOCK", "tsc", "traced: TRACED_CLOCK='tsc' is not one of monotonic, auto; using the default"),
    ])
    func aBadValueIsSaidOnceAndTracingGoesOn(_ setting: (name: String, value: String, warning: String)) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("auto.trace")
        let result = try Processes.fixture("autostart", ["events": "50"],
                                           environment: ["TRACED_FILE": path, setting.name: setting.value])
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardError.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0 == setting.warning } .count == 1, "\(result.standardError)")
        let model = try TraceModel.load(paths: [path])
        #expect(model.events.count == Int(result.values["emitted"] ?? ""))
    }

    @Test func sizesWrittenAnyWayAreAcceptedWithoutAWord() throws {
        for value in ["2M", "2MB", "2MiB", "2097152"] {
            let directory = try TemporaryDirectory()
            let path = directory.file("auto.trace")
            let result = try Processes.fixture("autostart", ["events": "50"],
                                               environment: ["TRACED_FILE": path, "TRACED_BUFFER_SIZE": value])
            #expect(result.status == 0 && result.standardError.isEmpty, "\(value): \(result.standardError)")
        }
    }
}
