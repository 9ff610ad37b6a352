import CTraceABI
import TraceFormat

extension Session {
    /// A client's part in the session. `client` is kept while the session
    /// may still write records that need it (the client is connected, or a
    /// flight recorder's window still holds its events); after that only
    /// what status shows is kept, so a long session with many short-lived
    /// clients does not hold every one's metadata and buffer state.
    final class Member {
        let id: UInt64
        let pid: Int32
        let name: String
        let clockKind: UInt32
        /// Its process record, kept after `release` for `owed`'s records.
        let processRecord: ProcessRecord
        private(set) var client: Client?
        /// Events (and their bytes) in frames written, or in the window.
        var events: UInt64 = 0
        var bytes: UInt64 = 0
        /// Appended to the output, not yet in a frame (`Session.settle`).
        var pendingEvents: UInt64 = 0
        var pendingBytes: UInt64 = 0
        /// Events lost because writing failed: dropped, "write failed".
        var writeFailed: UInt64 = 0
        /// The client's drop counters when it joined.
        let dropsAtJoin: [UInt32: UInt64]
        /// Its buffer's drops during the session, frozen when it left.
        var dropsAtEnd: [UInt32: UInt64]?
        var connected = true
        /// When it left (CLOCK_MONOTONIC ns).
        var left: UInt64 = 0
        /// Its end record's fields, once it left.
        var end: (ticks: UInt64, reason: ProcessEnd.Reason)?
        /// Its drop counts (and end, once it left) may be missing from the
        /// files: a record carrying them was lost, or "write failed" grew
        /// since the last one written. Set when it leaves and when writing
        /// fails, cleared when a frame carrying its counts is written
        /// (`Session.settle`). While set, every new file's preamble carries
        /// them: the file after a failure, or the one tried at stop.
        var owed = false
        private var malformedAtRelease: UInt64 = 0
        private var untrustedAtRelease: String?

        init(client: Client, dropsAtJoin: [UInt32: UInt64]) {
            self.id = client.id
            self.pid = client.credentials.pid
            self.name = client.name
            self.clockKind = client.clockKind
            self.processRecord = client.processRecord
            self.client = client
            self.dropsAtJoin = dropsAtJoin
        }

        var malformed: UInt64 { client?.malformed ?? malformedAtRelease }
        var untrusted: String? { client == nil ? untrustedAtRelease : client?.untrusted }

        /// Keeps only what status shows.
        func release() {
            malformedAtRelease = malformed
            untrustedAtRelease = untrusted
            client = nil
        }

        /// What its buffer dropped while in the session.
        func bufferDrops() -> [UInt32: UInt64] {
            if let dropsAtEnd { return dropsAtEnd }
            guard let client else { return [:] }
            var counts = client.dropCounters()
            for (reason, before) in dropsAtJoin { counts[reason, default: 0] &-= min(before, counts[reason, default: 0]) }
            return counts.filter { $0.value > 0 }
        }

        /// Every event of the client the session lost, by reason.
        func drops() -> [UInt32: UInt64] {
            var counts = bufferDrops()
            if writeFailed > 0 { counts[UInt32(TC_DROP_WRITE_FAILED)] = writeFailed }
            return counts
        }
    }
}
