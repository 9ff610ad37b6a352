import TraceProtocol

/// A control connection watching a running session (`tracectl top`,
/// `tail`): it gets the session's trace as it is written, frame by frame,
/// after a start of its own (`Session.liveStart`), and its status once a
/// second, until the session stops.
///
/// traced never waits for a viewer. A frame that would take the bytes
/// queued for it past `queueLimit` is not sent, nor is any frame after it,
/// until the viewer has taken everything queued: then it is told what it
/// missed (`LiveLoss`) and its trace starts again, so that what follows
/// decodes alone. Draining, the session's files and the other viewers never
/// notice.
struct LiveWatch {
    let session: String
    /// What was not sent since the viewer last caught up.
    var lost = LiveLoss()
    /// When its last status was queued (CLOCK_MONOTONIC ns).
    var statusQueued: UInt64 = 0

    init(session: String) { self.session = session }

    /// Bytes queued for one viewer at most: a second of a busy session's
    /// trace (~3 bytes an event).
    static let queueLimit = 2 << 20
    /// Viewers in all: with `queueLimit`, what they can make traced hold.
    static let viewerLimit = 64
    /// A status at most this often (a scrape comes every 100 ms by default).
    static let statusInterval: UInt64 = 1_000_000_000
}
