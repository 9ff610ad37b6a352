/// The version of the file format this code writes and reads.
///
/// Compatibility rules (docs/format.md, "Versions"): a reader refuses a file
/// whose major version differs from its own; it reads a file of a newer
/// minor version, skipping record and event kinds it does not know and
/// reporting each as a diagnostic; it reads every older minor version.
package enum FormatVersion {
    package static let major: UInt64 = 1
    package static let minor: UInt64 = 3
    /// The first four bytes of every decompressed file stream: "TRCD".
    package static let magic: [UInt8] = [0x54, 0x52, 0x43, 0x44]
}
