import TraceOTLP
import TraceProtocol

/// The OTLP flags `export` takes, as `SpanAssembler` options; bad text is
/// refused (exit 4) with the form that is accepted.
enum OTLPOptions {
    static func assembly(minRegion: String, onlySlowerThan: String?, sample: String?) throws -> SpanAssembler.Options {
        SpanAssembler.Options(minRegion: try duration("--otlp-min-region", minRegion, zeroAllowed: true),
                              onlySlowerThan: try onlySlowerThan.map { try duration("--otlp-only-slower-than", $0, zeroAllowed: true) } ?? 0,
                              sampleEvery: try sample.map(sampleEvery) ?? 1)
    }

    /// Nanoseconds of a duration ("1ms", "250us", "0").
    static func duration(_ option: String, _ text: String, zeroAllowed: Bool) throws -> Int64 {
        guard let nanoseconds = text == "0" ? 0 : Units.nanoseconds(text), zeroAllowed || nanoseconds > 0,
              nanoseconds <= SessionConfig.Limit.maximumSeconds * 1_000_000_000 else {
            throw Failure("\(option): expected a duration like 1ms, 250us or 2s (at most \(Units.render(seconds: SessionConfig.Limit.maximumSeconds))), not '\(text)'",
                          status: Exit.refused)
        }
        return Int64(nanoseconds)
    }

    /// N of "1/N" (or of "N").
    static func sampleEvery(_ text: String) throws -> UInt64 {
        let number = text.hasPrefix("1/") ? text.dropFirst(2) : Substring(text)
        guard let every = UInt64(number), (1...1_000_000).contains(every) else {
            throw Failure("--otlp-sample: expected 1/N with N from 1 to 1000000 (1/10 sends every 10th trace), not '\(text)'",
                          status: Exit.refused)
        }
        return every
    }
}
