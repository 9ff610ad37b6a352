#if canImport(Glibc)
import Glibc
#endif

/// The terminal as `tracectl top` reads keys from it: no line editing, no
/// echo, and keys that would send signals (Ctrl-C) read as keys, so that
/// quitting always restores it. `restore()` puts back what was there.
final class RawTerminal {
    private var saved = termios()

    /// Nil when standard input is not a terminal.
    init?() {
        guard isatty(0) == 1, tcgetattr(0, &saved) == 0 else { return nil }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
        guard tcsetattr(0, TCSANOW, &raw) == 0 else { return nil }
    }

    func restore() { _ = tcsetattr(0, TCSANOW, &saved) }

    /// The key waiting (poll said standard input is readable), nil at its end.
    func key() -> UInt8? {
        var byte: UInt8 = 0
        return read(0, &byte, 1) == 1 ? byte : nil
    }
}
