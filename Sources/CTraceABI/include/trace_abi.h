/*
 * trace_abi.h — the shared-memory ABI between a traced client and its consumer.
 *
 * COMPATIBILITY PROMISE
 *   This header is the single definition of the bytes a client process shares
 *   with the traced daemon (or with its own in-process writer). Within one
 *   major version (TC_ABI_MAJOR) fields are only ever added in reserved space
 *   and every reserved byte is written as zero, so a consumer of minor N reads
 *   a buffer of minor M > N correctly by ignoring what it does not know. A
 *   consumer refuses a buffer whose major version it does not speak. The
 *   prose version of this file, with the state machine and the orderings, is
 *   docs/abi.md; the two are kept identical.
 *
 * GLOSSARY
 *   buffer    One memfd created by the client, sealed against resizing,
 *             mapped MAP_SHARED by the client and by one consumer.
 *   chunk     A fixed-size slice of the buffer owned by at most one writer
 *             thread at a time; the unit handed from producer to consumer.
 *   event     A few bytes (docs/format.md, "Events") appended to a chunk's
 *             payload and published by a release-store of `committed`.
 *   metadata  Append-only records (strings, threads, stacks, images) in their
 *             own area, published by a release-store of `metadata_committed`.
 *   producer  Any thread of the client process.
 *   consumer  The traced daemon, or the client's own in-process writer thread.
 *
 * LAYOUT (offsets are from the start of the mapping; never pointers)
 *
 *   0          4096         bitmap_offset+B    metadata_offset+M          total
 *   +----------+--------------+-----------------+--------+-----+---------+
 *   |  header  | completion   |  metadata area  | chunk0 | ... | chunkN-1|
 *   |          | bitmap (B)   |      (M)        |        |     |         |
 *   +----------+--------------+-----------------+--------+-----+---------+
 *   tc_buffer_header          each chunk = chunk_size bytes, N = chunk_count
 *
 *   completion bitmap: bit i of 64-bit word i/64 is set when chunk i becomes
 *   COMPLETE; bit w of the header's completed_summary[w/64] is set when word
 *   w gained a bit. 64 x 64 x 64 = 262144 chunks at most.
 *
 *   chunk i, at chunks_offset + i * chunk_size:
 *   +---------------------------+------------------------------------------+
 *   | tc_chunk_header (64 B)    | payload: events, `committed` bytes valid |
 *   +---------------------------+------------------------------------------+
 *
 * CHUNK STATE MACHINE (who makes each move)
 *
 *            producer: CAS acquire          producer: store release
 *   FREE ---------------------------> WRITING ----------------------> COMPLETE
 *    ^                                   |                               |
 *    |     consumer, only after the      |                               |
 *    |     producer process is gone:     v                               |
 *    +---------------------------- (scrape `committed`, then FREE) <-----+
 *                                   consumer: store release (after copying)
 *
 *   - A producer thread takes a FREE chunk with a compare-exchange (several
 *     threads race for it), fills in the header, then appends events. After
 *     each event it release-stores `committed`.
 *   - When the next event does not fit, or the thread exits, the producer
 *     release-stores COMPLETE, then sets the chunk's completion bit and its
 *     word's summary bit (fetch-or release). It never touches the chunk again.
 *   - The consumer may copy the committed prefix of a WRITING chunk at any
 *     time ("scraping"): bytes below `committed` never change again. It keeps
 *     its own record of how far it has read each chunk.
 *   - The consumer finds COMPLETE chunks by exchanging summary words and
 *     then bitmap words with 0 (acquire), instead of scanning every chunk.
 *     Bits are hints: it checks each chunk's state before taking it.
 *   - The consumer copies a COMPLETE chunk, sets `committed` to 0, then
 *     release-stores FREE. Only the consumer moves a chunk out of COMPLETE.
 *
 * TRUST BOUNDARY
 *   The consumer trusts nothing in this mapping: the client may write any
 *   byte at any time, including while the consumer reads. The consumer reads
 *   each header field once, clamps every offset and length against the
 *   geometry it validated at registration (not against fields it re-reads),
 *   copies bytes out before decoding them, and learns the client's identity
 *   from the socket (SO_PEERCRED), never from `producer_pid`.
 */
#ifndef TRACE_ABI_H
#define TRACE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "TRCDSHM1" read as a little-endian 64-bit integer. */
#define TC_ABI_MAGIC 0x314D485344435254ull
#define TC_ABI_MAJOR 1
#define TC_ABI_MINOR 0

/* The header fills one page so the metadata area starts page-aligned. */
#define TC_HEADER_SIZE 4096u
/* One cache line: headers of neighbouring chunks never share a line. */
#define TC_CHUNK_HEADER_SIZE 64u
/* Chunks are powers of two between one page and 1 MiB: a page keeps many
 * threads within a small buffer, 1 MiB bounds what one thread can hold. */
#define TC_MIN_CHUNK_SIZE 4096u
#define TC_MAX_CHUNK_SIZE (1u << 20)
/* Drop counters are striped by thread index so dropping threads do not all
 * bounce one cache line; a stripe is one line of eight 64-bit counters. */
#define TC_DROP_STRIPES 16u
#define TC_DROP_REASONS 8u
/* Two-level completion bitmap: up to 64 summary words, each covering 64
 * bitmap words of 64 chunks. */
#define TC_SUMMARY_WORDS 64u
#define TC_MAX_CHUNKS 262144u /* TC_SUMMARY_WORDS * 64 * 64 */

/* Values of tc_chunk_header.state. */
enum {
    TC_CHUNK_FREE = 0,
    TC_CHUNK_WRITING = 1,
    TC_CHUNK_COMPLETE = 2,
};

/* Values of tc_buffer_header.clock_kind: what an event timestamp counts. */
enum {
    /* x86 time-stamp counter divided by 64 (TC_TSC_SHIFT); only chosen when
     * CPUID reports it invariant. */
    TC_CLOCK_TSC = 1,
    /* CLOCK_MONOTONIC in nanoseconds (the fallback, and the only choice on
     * other architectures). */
    TC_CLOCK_MONOTONIC_NS = 2,
};

/* Indices into a drop stripe. Each counts events (or, for
 * TC_LOST_METADATA, metadata records) that the client could not record. */
enum {
    /* No chunk was free: the consumer is behind or the buffer is too small. */
    TC_DROP_BUFFER_FULL = 0,
    /* An event was emitted from a signal handler that interrupted another
     * event on the same thread. */
    TC_DROP_REENTRANT = 1,
    /* An event was emitted by a thread after its trace state was torn down
     * (pthread key destructors running at thread exit). */
    TC_DROP_THREAD_EXITING = 2,
    /* Not an event drop: a string or stack could not be added because the
     * metadata area is full; the event was recorded with id 0 instead. */
    TC_LOST_METADATA = 3,
    /* Never counted in a buffer: the consumer (traced) took these events
     * but could not write them (a full disk). It appears only in drops
     * records, so that emitted = recorded + dropped holds for a session
     * whose files could not hold everything. */
    TC_DROP_WRITE_FAILED = 4,
    /* Never counted in a buffer: records of the kernel (execution events)
     * that traced's perf rings had no room for (PERF_RECORD_LOST). They
     * cannot be told apart by process, so they appear only in drops
     * records of process 0, the kernel collector (docs/format.md). */
    TC_DROP_KERNEL_RING_FULL = 5,
};

/* Bits of the process-wide control word (tc_control, not in the mapping). */
enum {
    TC_CONTROL_ENABLED = 1u << 0,
    TC_CONTROL_STACKS = 1u << 1,
    /* Set by the library constructor when TRACED_FILE asks a process to
     * trace itself: the first annotation starts the in-process trace. */
    TC_CONTROL_AUTOSTART = 1u << 2,
    /* Set by the library constructor unless TRACED_DAEMON=off: the first
     * annotation starts the connection to the daemon. */
    TC_CONTROL_CONNECT = 1u << 3,
};

/* 64 bytes at the start of every chunk. All fields except `state` and
 * `committed` are written by the producer between acquiring the chunk and
 * its first release-store of `committed`, and never change afterwards. */
typedef struct tc_chunk_header {
    /* TC_CHUNK_*. Orderings: see the state machine above. */
    uint32_t state;
    /* Payload bytes holding complete events. Producer: release-store after
     * each event. Consumer: acquire-load, then clamp to the payload size. */
    uint32_t committed;
    /* Process-unique index of the writer thread (1-based; metadata record
     * "thread" maps it to the OS thread id and name). */
    uint32_t thread_index;
    /* Per-thread chunk sequence number, so the consumer can order chunks. */
    uint32_t sequence;
    /* Timestamp the first event's delta is taken from (clock_kind units). */
    uint64_t base_ticks;
    /* The thread's count of regions begun before this chunk. */
    uint64_t region_seq_base;
    /* Events this thread dropped since its previous chunk (positional: the
     * totals are the drop stripes in the buffer header). */
    uint64_t dropped_before;
    /* Events in the chunk, written by the producer before it stores
     * COMPLETE: a consumer that takes a whole chunk without scanning it
     * counts events from here (a lie only misstates the liar's counts). */
    uint32_t event_count;
    uint8_t reserved[20];
} tc_chunk_header;

/* The first TC_HEADER_SIZE bytes of the buffer. */
typedef struct tc_buffer_header {
    /* --- geometry: written once by the producer before the buffer is
     *     shared; the consumer copies and validates it at registration --- */
    uint64_t magic;
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t header_size;
    uint32_t total_size;
    uint32_t chunk_size;
    uint32_t chunk_count;
    uint32_t chunks_offset;
    uint32_t metadata_offset;
    uint32_t metadata_size;
    uint32_t clock_kind;
    /* Informational only (the consumer uses SO_PEERCRED). */
    uint32_t producer_pid;
    /* Nominal tick rate measured at creation, 0 if unknown; readers convert
     * with clock-sync records, this is only a hint. */
    uint64_t nominal_ticks_per_second;
    /* The completion bitmap: ceil(chunk_count / 64) 64-bit words. */
    uint32_t bitmap_offset;
    uint32_t bitmap_size;

    /* --- consumer -> producer (offset 64) --- */
    /* 1 while the consumer sleeps waiting for a completed chunk. Consumer:
     * store seq_cst, then rescan, then sleep. Producer, after completing a
     * chunk: exchange seq_cst with 0 and, if it was 1, signal the eventfd. */
    uint32_t consumer_waiting;
    /* Incremented (release) by the consumer after it frees chunks; a
     * dropping producer retries acquisition only when it changed
     * (relaxed load), so a full buffer costs one load per dropped event. */
    uint32_t free_generation;
    uint8_t reserved1[56];

    /* --- producer -> consumer (offset 128) --- */
    /* Bytes of the metadata area holding complete records. Producer:
     * release-store after appending (under the process's metadata lock).
     * Consumer: acquire-load, clamp to metadata_size. */
    uint32_t metadata_committed;
    uint8_t reserved2[60];

    /* --- completion summary (offset 192): bit w of word w/64 set (fetch-or
     *     release) by a producer after it sets a bit in bitmap word w;
     *     exchanged with 0 (acquire) by the consumer --- */
    uint64_t completed_summary[TC_SUMMARY_WORDS];

    uint8_t reserved3[1024 - 192 - TC_SUMMARY_WORDS * 8];

    /* --- drop counters (offset 1024): [stripe][reason], relaxed adds by
     *     producers, relaxed loads by the consumer; monotonic --- */
    uint64_t drops[TC_DROP_STRIPES][TC_DROP_REASONS];

    uint8_t reserved4[TC_HEADER_SIZE - 1024 - TC_DROP_STRIPES * TC_DROP_REASONS * 8];
} tc_buffer_header;

_Static_assert(sizeof(tc_chunk_header) == TC_CHUNK_HEADER_SIZE, "chunk header is one cache line");
_Static_assert(offsetof(tc_chunk_header, state) == 0, "ABI: chunk state at 0");
_Static_assert(offsetof(tc_chunk_header, committed) == 4, "ABI: committed at 4");
_Static_assert(offsetof(tc_chunk_header, thread_index) == 8, "ABI: thread_index at 8");
_Static_assert(offsetof(tc_chunk_header, sequence) == 12, "ABI: sequence at 12");
_Static_assert(offsetof(tc_chunk_header, base_ticks) == 16, "ABI: base_ticks at 16");
_Static_assert(offsetof(tc_chunk_header, region_seq_base) == 24, "ABI: region_seq_base at 24");
_Static_assert(offsetof(tc_chunk_header, dropped_before) == 32, "ABI: dropped_before at 32");
_Static_assert(offsetof(tc_chunk_header, event_count) == 40, "ABI: event_count at 40");
_Static_assert(sizeof(tc_buffer_header) == TC_HEADER_SIZE, "header is one page");
_Static_assert(offsetof(tc_buffer_header, magic) == 0, "ABI: magic at 0");
_Static_assert(offsetof(tc_buffer_header, abi_major) == 8, "ABI: abi_major at 8");
_Static_assert(offsetof(tc_buffer_header, header_size) == 12, "ABI: header_size at 12");
_Static_assert(offsetof(tc_buffer_header, total_size) == 16, "ABI: total_size at 16");
_Static_assert(offsetof(tc_buffer_header, chunk_size) == 20, "ABI: chunk_size at 20");
_Static_assert(offsetof(tc_buffer_header, chunk_count) == 24, "ABI: chunk_count at 24");
_Static_assert(offsetof(tc_buffer_header, chunks_offset) == 28, "ABI: chunks_offset at 28");
_Static_assert(offsetof(tc_buffer_header, metadata_offset) == 32, "ABI: metadata_offset at 32");
_Static_assert(offsetof(tc_buffer_header, metadata_size) == 36, "ABI: metadata_size at 36");
_Static_assert(offsetof(tc_buffer_header, clock_kind) == 40, "ABI: clock_kind at 40");
_Static_assert(offsetof(tc_buffer_header, producer_pid) == 44, "ABI: producer_pid at 44");
_Static_assert(offsetof(tc_buffer_header, nominal_ticks_per_second) == 48, "ABI: ticks/s at 48");
_Static_assert(offsetof(tc_buffer_header, bitmap_offset) == 56, "ABI: bitmap_offset at 56");
_Static_assert(offsetof(tc_buffer_header, bitmap_size) == 60, "ABI: bitmap_size at 60");
_Static_assert(offsetof(tc_buffer_header, consumer_waiting) == 64, "ABI: consumer line at 64");
_Static_assert(offsetof(tc_buffer_header, free_generation) == 68, "ABI: free_generation at 68");
_Static_assert(offsetof(tc_buffer_header, metadata_committed) == 128, "ABI: producer line at 128");
_Static_assert(offsetof(tc_buffer_header, completed_summary) == 192, "ABI: completion summary at 192");
_Static_assert(TC_MAX_CHUNKS == TC_SUMMARY_WORDS * 64u * 64u, "summary covers every chunk");
_Static_assert(offsetof(tc_buffer_header, drops) == 1024, "ABI: drop stripes at 1024");
_Static_assert(__atomic_always_lock_free(4, 0) && __atomic_always_lock_free(8, 0),
               "shared counters must be lock-free: a lock cannot live in memory both sides write");

/* ---- Atomic accessors ----
 * Fields that two parties write are plain integers in the structs above
 * (Swift cannot import C11 _Atomic members). They are accessed only through
 * these helpers, one per field and ordering, so every call site names the
 * ordering it relies on. Swift must not form `&pointer.pointee.field` for
 * shared memory: for some fields (imported C arrays) Swift hands the callee
 * a temporary copy and writes it back afterwards, erasing concurrent
 * updates. The helpers take the struct pointer and compute the address in C.
 * They use the GCC/Clang __atomic builtins on plain aligned integers. */

/* Chunk state: see the state machine above. */
static inline uint32_t tc_chunk_state_load_acquire(tc_chunk_header *c) {
    return __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
}
static inline uint32_t tc_chunk_state_load_relaxed(tc_chunk_header *c) {
    return __atomic_load_n(&c->state, __ATOMIC_RELAXED);
}
/* Producer WRITING -> COMPLETE; consumer COMPLETE -> FREE. */
static inline void tc_chunk_state_store_release(tc_chunk_header *c, uint32_t state) {
    __atomic_store_n(&c->state, state, __ATOMIC_RELEASE);
}
/* Producer FREE -> WRITING: acquire on success, so the consumer's reset of
 * `committed` (made before its release-store of FREE) is visible. */
static inline _Bool tc_chunk_state_cas_acquire(tc_chunk_header *c, uint32_t expected, uint32_t desired) {
    return __atomic_compare_exchange_n(&c->state, &expected, desired, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
/* Consumer: everything below the loaded value (and the header fields) is visible. */
static inline uint32_t tc_chunk_committed_load_acquire(tc_chunk_header *c) {
    return __atomic_load_n(&c->committed, __ATOMIC_ACQUIRE);
}
/* Producer, after each event: publishes the event's bytes. */
static inline void tc_chunk_committed_store_release(tc_chunk_header *c, uint32_t bytes) {
    __atomic_store_n(&c->committed, bytes, __ATOMIC_RELEASE);
}
/* Consumer, before its release-store of FREE (which orders it). */
static inline void tc_chunk_committed_reset_relaxed(tc_chunk_header *c) {
    __atomic_store_n(&c->committed, 0, __ATOMIC_RELAXED);
}

/* consumer_waiting: the consumer stores 1 (seq_cst, then a full fence) before
 * its last look for work; a producer that completes a chunk exchanges it
 * with 0 (seq_cst) and signals if it was 1. Dekker-style: either the
 * producer sees 1 or the consumer sees the producer's completion. */
static inline void tc_waiting_announce_seq_cst(tc_buffer_header *h) {
    __atomic_store_n(&h->consumer_waiting, 1, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
static inline void tc_waiting_withdraw_relaxed(tc_buffer_header *h) {
    __atomic_store_n(&h->consumer_waiting, 0, __ATOMIC_RELAXED);
}
static inline uint32_t tc_waiting_take_seq_cst(tc_buffer_header *h) {
    return __atomic_exchange_n(&h->consumer_waiting, 0, __ATOMIC_SEQ_CST);
}

/* free_generation: a hint, so relaxed on the producer side. */
static inline uint32_t tc_free_generation_load_relaxed(tc_buffer_header *h) {
    return __atomic_load_n(&h->free_generation, __ATOMIC_RELAXED);
}
static inline void tc_free_generation_increment_release(tc_buffer_header *h) {
    __atomic_fetch_add(&h->free_generation, 1, __ATOMIC_RELEASE);
}

/* metadata_committed: producer release-stores after appending a record (under
 * its metadata lock); consumer acquire-loads before reading records. */
static inline uint32_t tc_metadata_committed_load_acquire(tc_buffer_header *h) {
    return __atomic_load_n(&h->metadata_committed, __ATOMIC_ACQUIRE);
}
static inline void tc_metadata_committed_store_release(tc_buffer_header *h, uint32_t bytes) {
    __atomic_store_n(&h->metadata_committed, bytes, __ATOMIC_RELEASE);
}

/* 64-bit words reached through the pointer helpers below (bitmap, summary,
 * drop counters), and process-local tables. */
static inline uint64_t tc_load_acquire_u64(uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void tc_store_release_u64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void tc_store_relaxed_u64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline uint64_t tc_load_relaxed_u64(uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void tc_fetch_add_relaxed_u64(uint64_t *p, uint64_t v) { __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
static inline uint64_t tc_exchange_acquire_u64(uint64_t *p, uint64_t v) {
    return __atomic_exchange_n(p, v, __ATOMIC_ACQUIRE);
}
static inline void tc_fetch_or_release_u64(uint64_t *p, uint64_t v) { __atomic_fetch_or(p, v, __ATOMIC_RELEASE); }

/* Address of summary word `index`. Swift code must take addresses of shared
 * fields through helpers like this: `&pointer.pointee.tupleField` may hand
 * a closure a temporary copy and write it back, erasing concurrent updates. */
static inline uint64_t *tc_summary_word(tc_buffer_header *header, uint32_t index) {
    return &header->completed_summary[index % TC_SUMMARY_WORDS];
}

static inline uint64_t *tc_drop_counter(tc_buffer_header *header, uint32_t stripe, uint32_t reason) {
    return &header->drops[stripe % TC_DROP_STRIPES][reason % TC_DROP_REASONS];
}

/* Producer, after release-storing COMPLETE into chunk `index`. */
static inline void tc_mark_completed(tc_buffer_header *header, uint64_t *bitmap, uint32_t index) {
    uint32_t word = index / 64u;
    __atomic_fetch_or(&bitmap[word], 1ull << (index % 64u), __ATOMIC_RELEASE);
    __atomic_fetch_or(&header->completed_summary[(word / 64u) % TC_SUMMARY_WORDS], 1ull << (word % 64u),
                      __ATOMIC_RELEASE);
}

static inline tc_chunk_header *tc_chunk_at(void *base, uint32_t chunks_offset, uint32_t chunk_size,
                                           uint32_t index) {
    return (tc_chunk_header *)((uint8_t *)base + chunks_offset + (size_t)index * chunk_size);
}

#ifdef __cplusplus
}
#endif

#endif /* TRACE_ABI_H */
