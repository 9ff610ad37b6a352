extension String {
    /// Padded with spaces on the right to `width` characters (never cut).
    package func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    /// Padded with spaces on the left to `width` characters (never cut).
    package func leftPadding(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
