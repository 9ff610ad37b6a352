package import Testing

/// What a test needs, or what it is for, as Swift Testing tags. `scripts/test`
/// chooses its steps' tests by these tags, never by suite names: a renamed
/// or new suite keeps its tag, so it stays in its step (README, "Tests";
/// `scripts/tagged-tests` checks every run against the tags in the source).
///
/// Put a tag on the same line as the `@Suite(` or `@Test(` it marks: the
/// check finds tagged suites in the source by that line.
extension Tag {
    /// Threads, processes and shared memory meeting: also run under
    /// ThreadSanitizer (step `tsan`).
    @Tag package static var concurrency: Self
    /// Bytes, messages, files or numbers from a peer that may lie: also run
    /// under AddressSanitizer (step `asan`).
    @Tag package static var hostileInput: Self
    /// Takes long enough to leave out of the developer's loop
    /// (`scripts/test --quick` skips it; the full run keeps it).
    @Tag package static var slow: Self
    /// Needs the Hummingbird example's server (step `example` builds it).
    @Tag package static var example: Self
    /// Needs the Debian package (step `package` builds it).
    @Tag package static var debianPackage: Self
    /// Boots a real systemd in a throwaway container with the package
    /// installed (step `systemd`).
    @Tag package static var container: Self
}
