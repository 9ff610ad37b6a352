import ArgumentParser
import TraceOTLP
import TraceProtocol

/// Which spans OTLP gets, as `export` and `start` take it; bad text is
/// refused (exit 4) with the form that is accepted.
struct OTLPFlags: ParsableArguments {
    @Option(name: .customLong("otlp-min-region"), help: ArgumentHelp(
        "OTLP: regions at least this long become spans; shorter ones are summed into their task's span. Spans of TracedTracer are always sent.",
        valueName: "duration"))
    var minRegion = "1ms"

    @Option(name: .customLong("otlp-only-slower-than"), help: ArgumentHelp(
        "OTLP: only tasks that took at least this long, with their region spans (decided when the task ends).", valueName: "duration"))
    var onlySlowerThan: String?

    @Option(name: .customLong("otlp-sample"), help: ArgumentHelp("OTLP: only every Nth trace, chosen by trace id.", valueName: "1/N"))
    var sample: String?

    /// Whether any of them was given.
    var given: Bool { minRegion != "1ms" || onlySlowerThan != nil || sample != nil }

    func assembly() throws -> SpanAssembler.Options {
        SpanAssembler.Options(minRegion: try Self.duration("--otlp-min-region", minRegion),
                              onlySlowerThan: try onlySlowerThan.map { try Self.duration("--otlp-only-slower-than", $0) } ?? 0,
                              sampleEvery: try sample.map(Self.sampleEvery) ?? 1)
    }

    /// Nanoseconds of a duration ("1ms", "250us", "0").
    private static func duration(_ option: String, _ text: String) throws -> Int64 {
        guard let nanoseconds = text == "0" ? 0 : Units.nanoseconds(text),
              nanoseconds <= SessionConfig.Limit.maximumSeconds * 1_000_000_000 else {
            throw Failure("\(option): expected a duration like 1ms, 250us or 2s (at most \(Units.render(seconds: SessionConfig.Limit.maximumSeconds))), not '\(text)'",
                          status: Exit.refused)
        }
        return Int64(nanoseconds)
    }

    /// N of "1/N" (or of "N").
    private static func sampleEvery(_ text: String) throws -> UInt64 {
        let number = text.hasPrefix("1/") ? text.dropFirst(2) : Substring(text)
        guard let every = UInt64(number), (1...1_000_000).contains(every) else {
            throw Failure("--otlp-sample: expected 1/N with N from 1 to 1000000 (1/10 sends every 10th trace), not '\(text)'",
                          status: Exit.refused)
        }
        return every
    }
}
