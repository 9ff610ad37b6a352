import TraceFormat

/// Sizes and durations as people write them: one parser for traced.conf,
/// traced's and tracectl's flags and the environment of a traced process.
///
/// Nothing here traps (docs/design.md, "Untrusted numbers"): text that is
/// not a size or a duration is nil, and one past what 63 bits hold is
/// `maximum`, which is past every limit. Limits on the value (a window of at
/// most 4G, ...) are checked by whoever applies it, against the text's
/// value, so its message can name the limit.
package enum Units {
    /// The largest size or duration any of them takes: 2^63 - 1.
    package static let maximum = UInt64(Int64.max)

    /// Bytes in "4096", "64K", "16M", "2G", "1T" (powers of 1024); a
    /// trailing "B" or "iB" is allowed ("64MB", "64MiB"), case does not
    /// matter. Nil if it is not such a size; `maximum` past it.
    package static func bytes(_ text: String) -> UInt64? {
        var digits = Substring(text.uppercased())
        if digits.hasSuffix("IB") {
            digits = digits.dropLast(2)
            guard let last = digits.last, "KMGT".contains(last) else { return nil }
        } else if digits.hasSuffix("B") {
            digits = digits.dropLast()
        }
        var shift: UInt64 = 0
        switch digits.last {
        case "K": shift = 10
        case "M": shift = 20
        case "G": shift = 30
        case "T": shift = 40
        default: break
        }
        if shift > 0 { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        // Past 64 bits is past every limit.
        let number = UInt64(digits) ?? .max
        return min(number.saturatingMultiply(1 << shift), maximum)
    }

    /// Nanoseconds in "250ms", "30s", "5m", "1h", "7d" (fractions allowed:
    /// "1.5s"); a bare number is seconds everywhere (traced.conf, traced's
    /// and tracectl's flags, the environment), as in systemd's time spans.
    /// Nil if it is not such a duration; `maximum` nanoseconds (~292 years)
    /// past it.
    package static func nanoseconds(_ text: String) -> UInt64? {
        let units: [(suffix: String, nanoseconds: Double)] = [
            ("ms", 1e6), ("us", 1e3), ("ns", 1), ("s", 1e9), ("m", 60e9), ("h", 3600e9), ("d", 86400e9),
        ]
        var number = Substring(text)
        var scale = 1e9
        if let unit = units.first(where: { text.hasSuffix($0.suffix) }) {
            number = number.dropLast(unit.suffix.count)
            scale = unit.nanoseconds
        }
        // Digits and one point only: Double() would also take "inf", "nan",
        // "1e30" and hexadecimal.
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              number.filter({ $0 == "." }).count <= 1, let value = Double(number) else { return nil }
        return min(UInt64(saturating: (value * scale).rounded()), maximum)
    }

    /// The largest unit that states `bytes` exactly: "64M", "1G", "4097".
    package static func render(bytes: UInt64) -> String {
        for (suffix, shift) in [("T", 40), ("G", 30), ("M", 20), ("K", 10)] as [(String, UInt64)]
        where bytes > 0 && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(suffix)"
        }
        return "\(bytes)"
    }

    /// The largest unit that states `nanoseconds` exactly: "250ms", "2s", "1500ns".
    package static func render(nanoseconds: UInt64) -> String {
        guard nanoseconds % 1_000_000_000 != 0 else { return render(seconds: nanoseconds / 1_000_000_000) }
        for (suffix, unit) in [("ms", 1_000_000), ("us", 1000)] as [(String, UInt64)] where nanoseconds % unit == 0 {
            return "\(nanoseconds / unit)\(suffix)"
        }
        return "\(nanoseconds)ns"
    }

    /// The largest unit that states whole `seconds` exactly: "365d", "90m", "45s".
    package static func render(seconds: UInt64) -> String {
        for (suffix, unit) in [("d", 86400), ("h", 3600), ("m", 60)] as [(String, UInt64)]
        where seconds > 0 && seconds % unit == 0 {
            return "\(seconds / unit)\(suffix)"
        }
        return "\(seconds)s"
    }
}
