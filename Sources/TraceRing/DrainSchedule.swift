/// When a consumer wakes, and whether producers should wake it.
///
/// Waking on every completed chunk costs the producer an eventfd write
/// (~1-2 µs) and the consumer a context switch, per ~1600 events: at full
/// speed that is several ns per event. So the consumer asks to be woken by
/// producers only when it matters:
/// - idle (its last pass freed nothing): wake me on the next completed
///   chunk, or at the next scrape;
/// - busy (it freed some): no wake-ups, drain again in `drainInterval`;
/// - under pressure (it freed ≥ 1/8 of the buffer in one pass): wake me on
///   the next completion too, so a burst cannot fill the buffer between
///   timer ticks.
/// Every `scrapeInterval` it also takes what is committed in chunks still
/// being written, so a quiet thread's events are never held back longer.
package struct DrainSchedule: Sendable {
    package var drainInterval: UInt64 = 10_000_000
    package var scrapeInterval: UInt64 = 100_000_000
    private var nextScrape: UInt64

    package init(now: UInt64) {
        nextScrape = now + scrapeInterval
    }

    /// Whether a scrape is due at `now`; if so, schedules the next one.
    package mutating func scrapeDue(now: UInt64) -> Bool {
        guard now >= nextScrape else { return false }
        nextScrape = now + scrapeInterval
        return true
    }

    /// How to sleep after a pass that freed `freed` of `chunkCount` chunks.
    package func sleep(now: UInt64, freed: Int, chunkCount: Int) -> (announce: Bool, timeoutMilliseconds: Int32) {
        let untilScrape = nextScrape > now ? nextScrape - now : 0
        if freed == 0 {
            return (true, Self.milliseconds(untilScrape))
        }
        return (freed * 8 >= chunkCount, Self.milliseconds(min(drainInterval, untilScrape)))
    }

    private static func milliseconds(_ nanoseconds: UInt64) -> Int32 {
        Int32(clamping: max(1, (nanoseconds + 999_999) / 1_000_000))
    }
}
