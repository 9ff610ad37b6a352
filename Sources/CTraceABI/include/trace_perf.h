/*
 * trace_perf.h — Linux perf events for TraceKernel: perf_event_open(2), its
 * ioctls, and the consumer's side of a perf ring buffer.
 *
 * Swift cannot call the variadic syscall(2), and the kernel's
 * struct perf_event_attr is bit-fields and unions. So an event is described
 * by tc_perf_attr below (fixed-width fields, the attribute bits as a flag
 * set) and perf_events.c fills the kernel's struct from it. Every constant
 * mirrored from <linux/perf_event.h> is pinned there with _Static_assert.
 * docs/design.md, "Kernel events: the collector", says what is opened.
 *
 * THE RING (one per CPU; the kernel produces, traced is the only consumer)
 *
 *   0             page_size                    page_size + data_size
 *   +-------------+--------------------------------------------+
 *   | mmap page:  | data area, 2^n pages: records back to back,|
 *   | data_head,  | each starting with a perf_event_header     |
 *   | data_tail   | {u32 type; u16 misc; u16 size}             |
 *   +-------------+--------------------------------------------+
 *
 *   data_head (the kernel writes it) and data_tail (the consumer writes it)
 *   are free-running byte counts; position p is at p mod data_size in the
 *   data area, so a record may run off the end and continue at the start.
 *   [data_tail, data_head) holds the records not yet read. The ring is
 *   mapped writable, which tells the kernel never to overwrite bytes at or
 *   after data_tail: a record that does not fit is counted, and the count
 *   goes out as a PERF_RECORD_LOST ahead of the next record that fits.
 *
 * ORDERING (kernel/events/ring_buffer.c, perf_output_put_handle)
 *
 *   kernel                              consumer
 *   if (load data_tail leaves room) {   load-acquire data_head      (C)
 *       store record bytes              load record bytes
 *       smp_wmb()                   (B) store-release data_tail     (D)
 *       store data_head
 *   }
 *
 *   C pairs with B: every byte below the head the consumer loaded is
 *   visible to it. D pairs with the kernel's load of data_tail: the
 *   consumer's loads of the records happen before the kernel can see the
 *   space free and overwrite it (the kernel asks for smp_mb(); a release
 *   store orders all earlier loads and stores before it, which is what is
 *   needed, and is what the kernel's own tools/ use). data_tail is written
 *   only by the consumer, so it keeps its own copy and never loads it back.
 *
 * TRUST
 *   The consumer trusts nothing in the data area: every record size is
 *   checked against the bytes [data_tail, data_head) it claims to lie in,
 *   and data_head against data_size, before any byte is read.
 */
#ifndef TRACE_PERF_H
#define TRACE_PERF_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* perf_event_attr.type */
#define TC_PERF_TYPE_SOFTWARE 1u
#define TC_PERF_TYPE_TRACEPOINT 2u
/* perf_event_attr.config of a software event: no samples of its own; it
 * carries the side-band records (fork, exit, comm, mmap). */
#define TC_PERF_COUNT_SW_DUMMY 9ull
/* ... a timer on the CPU's clock (an hrtimer): samples what runs there
 * whatever the hardware, the one sampling clock a VM without a PMU has. */
#define TC_PERF_COUNT_SW_CPU_CLOCK 0ull

/* perf_event_attr.sample_type bits, in the order a sample carries them. */
#define TC_PERF_SAMPLE_TID 0x2ull
#define TC_PERF_SAMPLE_TIME 0x4ull
#define TC_PERF_SAMPLE_CPU 0x80ull
#define TC_PERF_SAMPLE_CALLCHAIN 0x20ull
#define TC_PERF_SAMPLE_RAW 0x400ull
#define TC_PERF_SAMPLE_IDENTIFIER 0x10000ull

/* A PERF_SAMPLE_CALLCHAIN is {u64 nr; u64 ips[nr]}: return addresses,
 * innermost first, each context's run of them behind a marker saying whose
 * they are. Any value at or above TC_PERF_CONTEXT_MAX is a marker (the
 * others are the hypervisor's, a guest's, and deferred user stacks). */
#define TC_PERF_CONTEXT_KERNEL 0xffffffffffffff80ull /* (u64)-128 */
#define TC_PERF_CONTEXT_USER 0xfffffffffffffe00ull   /* (u64)-512 */
#define TC_PERF_CONTEXT_MAX 0xfffffffffffff001ull    /* (u64)-4095 */

/* perf_event_attr.read_format: read(2) gives {u64 value; u64 lost}, the
 * records of this event the ring had no room for (Linux 6.0). */
#define TC_PERF_FORMAT_LOST 0x10ull

/* The attribute bits tc_perf_event_open sets (tc_perf_attr.flags). */
#define TC_PERF_ATTR_DISABLED 0x001u      /* created off; PERF_EVENT_IOC_ENABLE starts it */
#define TC_PERF_ATTR_USE_CLOCKID 0x002u   /* times on tc_perf_attr.clockid */
#define TC_PERF_ATTR_SAMPLE_ID_ALL 0x004u /* side-band records end with the sample id fields */
#define TC_PERF_ATTR_TASK 0x008u          /* PERF_RECORD_FORK, PERF_RECORD_EXIT */
#define TC_PERF_ATTR_COMM 0x010u          /* PERF_RECORD_COMM */
#define TC_PERF_ATTR_COMM_EXEC 0x020u     /* ... flagged when due to an exec */
#define TC_PERF_ATTR_MMAP 0x040u          /* executable mappings ... */
#define TC_PERF_ATTR_MMAP2 0x080u         /* ... as PERF_RECORD_MMAP2 */
#define TC_PERF_ATTR_BUILD_ID 0x100u      /* ... carrying the build id (Linux 5.12) */
#define TC_PERF_ATTR_WATERMARK 0x200u     /* poll(2) wakes at wakeup_watermark bytes */
#define TC_PERF_ATTR_FREQ 0x400u          /* sample_period is a frequency in Hz (sample_freq) */
#define TC_PERF_ATTR_EXCLUDE_CALLCHAIN_KERNEL 0x800u /* callchains without kernel frames */
#define TC_PERF_ATTR_EXCLUDE_CALLCHAIN_USER 0x1000u  /* callchains without user frames */

/* What tc_perf_event_open needs to know; unlisted kernel fields are 0. */
typedef struct tc_perf_attr {
    uint32_t type;
    uint32_t flags;
    uint64_t config;
    /* A sample every this many events; with TC_PERF_ATTR_FREQ, this many
     * samples a second (the kernel's union of sample_period, sample_freq). */
    uint64_t sample_period;
    uint64_t sample_type;
    uint64_t read_format;
    uint32_t wakeup_watermark;
    int32_t clockid;
    /* Return addresses a callchain holds at most, markers counted while
     * they fit (0: kernel.perf_event_max_stack, the most it allows). */
    uint16_t sample_max_stack;
} tc_perf_attr;

/* perf_event_open(2) with PERF_FLAG_FD_CLOEXEC and no group: the new
 * descriptor, or -1 with errno set. pid -1 and a cpu: every task on it. */
int tc_perf_event_open(const tc_perf_attr *attr, pid_t pid, int cpu);
/* PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_DISABLE: 0 or -1 with errno. */
int tc_perf_enable(int fd);
int tc_perf_disable(int fd);
/* PERF_EVENT_IOC_SET_OUTPUT: `fd`'s records go into the ring mapped on
 * `target` (same CPU, same clock). 0 or -1 with errno. */
int tc_perf_set_output(int fd, int target);
/* PERF_EVENT_IOC_ID: the id a sample's PERF_SAMPLE_IDENTIFIER carries. */
int tc_perf_id(int fd, uint64_t *id);
/* PERF_EVENT_IOC_SET_FILTER: a tracepoint event's ftrace filter; the
 * kernel takes one per event (EEXIST after), of at most a page. */
int tc_perf_set_filter(int fd, const char *filter);

/* perf_event_header.type values decoded by TraceKernel. */
#define TC_PERF_RECORD_LOST 2u
#define TC_PERF_RECORD_COMM 3u
#define TC_PERF_RECORD_EXIT 4u
#define TC_PERF_RECORD_FORK 7u
#define TC_PERF_RECORD_SAMPLE 9u
#define TC_PERF_RECORD_MMAP2 10u
#define TC_PERF_RECORD_LOST_SAMPLES 13u
/* perf_event_header.misc bits. */
#define TC_PERF_RECORD_MISC_COMM_EXEC 0x2000u
#define TC_PERF_RECORD_MISC_MMAP_BUILD_ID 0x4000u

/* Offsets in the mmap page (struct perf_event_mmap_page). */
#define TC_PERF_PAGE_DATA_HEAD 1024u
#define TC_PERF_PAGE_DATA_TAIL 1032u
#define TC_PERF_PAGE_DATA_OFFSET 1040u
#define TC_PERF_PAGE_DATA_SIZE 1048u

/* C in the diagram above: the bytes below the returned head are visible. */
static inline uint64_t tc_perf_head_load_acquire(const void *page) {
    return __atomic_load_n((const uint64_t *)((const uint8_t *)page + TC_PERF_PAGE_DATA_HEAD), __ATOMIC_ACQUIRE);
}
/* D in the diagram above: every load of the records below `tail` is done
 * before the kernel may reuse their bytes. */
static inline void tc_perf_tail_store_release(void *page, uint64_t tail) {
    __atomic_store_n((uint64_t *)((uint8_t *)page + TC_PERF_PAGE_DATA_TAIL), tail, __ATOMIC_RELEASE);
}
/* data_tail when the consumer starts (the kernel sets it 0 at mmap; a
 * consumer mapping a ring someone else read would start where they left). */
static inline uint64_t tc_perf_tail_load_relaxed(const void *page) {
    return __atomic_load_n((const uint64_t *)((const uint8_t *)page + TC_PERF_PAGE_DATA_TAIL), __ATOMIC_RELAXED);
}
/* data_offset and data_size: written by the kernel before mmap returns,
 * never changed afterwards; relaxed loads. */
static inline uint64_t tc_perf_page_field_load_relaxed(const void *page, uint32_t offset) {
    return __atomic_load_n((const uint64_t *)((const uint8_t *)page + offset), __ATOMIC_RELAXED);
}

#ifdef __cplusplus
}
#endif

#endif /* TRACE_PERF_H */
