// Arithmetic on numbers traced did not compute itself (docs/design.md,
// "Untrusted numbers"). Swift traps on overflow and on out-of-range
// conversions; a count, a size or a timestamp read from shared memory, a
// message, a file or a command line must never reach `+`, `*` or `Int(x)`
// unchecked. Where a value cannot be refused where it enters (a counter
// that is summed, a timestamp that is scaled), it is combined with these:
// the result sticks at the type's bound instead of trapping, and a bound
// is an implausible value the caller can show as such.

extension FixedWidthInteger {
    /// `self + other`, or the type's bound it would pass.
    @inlinable
    package func saturatingAdd(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other < 0 ? .min : .max
    }

    /// `self - other`, or the type's bound it would pass (0 for an unsigned
    /// type going below zero).
    @inlinable
    package func saturatingSubtract(_ other: Self) -> Self {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }

    /// `self * other`, or the type's bound it would pass.
    @inlinable
    package func saturatingMultiply(_ other: Self) -> Self {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) != (other < 0) ? .min : .max
    }

    /// `value` rounded toward zero, clamped to the type's range; NaN is 0.
    @inlinable
    package init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value <= Double(Self.min) {
            self = .min
        } else if value >= Double(Self.max) {
            // Double(Self.max) rounds up to 2^bits for 64-bit types: every
            // value at or above it is out of range.
            self = .max
        } else {
            self = Self(value)
        }
    }
}

extension Sequence where Element: FixedWidthInteger {
    /// The sum, stuck at the type's bound instead of overflowing.
    @inlinable
    package func saturatingSum() -> Element {
        reduce(0) { $0.saturatingAdd($1) }
    }
}
