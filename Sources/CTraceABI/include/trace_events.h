/*
 * trace_events.h — the event and record kinds shared by the client's
 * encoder (chunk payloads and metadata area) and the format's decoder.
 *
 * The byte-level specification is docs/format.md ("Events", "Records").
 * Numbers are never reused; new kinds take new numbers.
 */
#ifndef TRACE_EVENTS_H
#define TRACE_EVENTS_H

/* ---- Events (chunk payloads, and the body of a batch record) ----
 * event := kind:u8 fields
 * The fields of each kind are listed in docs/format.md. `dt` is the
 * timestamp delta from the previous event of the same batch (unsigned
 * varint); `str` is a string id; `z` is a zigzag varint; all integers are
 * LEB128 varints. The decoder keeps a small state per batch (ticks, regions
 * begun, Swift task, current trace task, last task begun); the batch header
 * carries it, so every batch decodes alone. */
enum {
    TC_EV_REGION_BEGIN = 0x01,        /* dt type:str [stack]                       */
    TC_EV_REGION_END = 0x02,          /* dt back                                   */
    TC_EV_REGION_END_FOREIGN = 0x03,  /* dt thread seq                             */
    TC_EV_TASK_BEGIN = 0x04,          /* dt id:z(from last task begun) type:str [stack] */
    TC_EV_TASK_END = 0x05,            /* dt id:z(from last task begun)             */
    TC_EV_LOG = 0x06,                 /* dt category:str lenflag bytes [stack]     */
    TC_EV_COUNTER_INT = 0x07,         /* dt name:str value:z                       */
    TC_EV_COUNTER_DOUBLE = 0x08,      /* dt name:str value:f64le                   */
    TC_EV_CONTEXT = 0x09,             /* swift:z task:z (deltas; no dt)            */
    /* Kinds 0x40...0x7f are extensions: dt length:u payload. A reader that
     * does not know one skips `length` bytes and counts it. */
    TC_EV_FIRST_EXTENSION = 0x40,
    TC_EV_LAST_EXTENSION = 0x7f,
    /* Set on a kind that may carry a stack: a stack id ends the event. */
    TC_EV_HAS_STACK = 0x80,
};

/* The largest encoding of each fixed-size event (varints of 10 bytes, ids
 * of 5). The hot path writes only when this much room is left. */
enum {
    TC_MAX_REGION_BEGIN = 1 + 10 + 5 + 5,
    TC_MAX_REGION_END = 1 + 10 + 10 + 10,
    TC_MAX_TASK = 1 + 10 + 10 + 5 + 5,
    TC_MAX_COUNTER = 1 + 10 + 5 + 10,
    TC_MAX_CONTEXT = 1 + 10 + 10,
    /* A log is this plus its message bytes. */
    TC_MAX_LOG_FIXED = 1 + 10 + 5 + 5 + 5,
    /* Longer log messages are truncated (and flagged as truncated). */
    TC_MAX_LOG_MESSAGE = 1024,
};

/* Event timestamps count the clock of their process (TC_CLOCK_*) shifted
 * right by this many bits: TSC ticks / 64 (as Go's tracer), so a delta of a
 * microsecond fits one byte; CLOCK_MONOTONIC in whole nanoseconds. */
enum {
    TC_TSC_SHIFT = 6,
};

/* ---- Records (the decompressed file stream, and the metadata area) ----
 * record := kind:u8 length:u payload[length]
 * In the metadata area, kinds 0x10...0x13 appear without their leading
 * process field; the consumer inserts it when copying them to a file. */
enum {
    TC_REC_FILE_HEADER = 0x01,
    TC_REC_PROCESS = 0x02,
    TC_REC_CLOCK_SYNC = 0x03,
    TC_REC_BATCH = 0x04,
    TC_REC_DROPS = 0x05,
    TC_REC_PROCESS_END = 0x06,
    TC_REC_FILE_END = 0x07,
    /* Format 1.1: one thread's events as the kernel saw them (traced). */
    TC_REC_KERNEL_BATCH = 0x08,
    TC_REC_STRING = 0x10,
    TC_REC_THREAD = 0x11,
    TC_REC_STACK = 0x12,
    TC_REC_IMAGE = 0x13,
};

/* ---- Kernel events (the body of a kernel batch record, format 1.1) ----
 * kernel-event := kind:u8 dt fields [stack]
 * Written by traced from the kernel's scheduler events, never by a client.
 * `dt` counts CLOCK_MONOTONIC nanoseconds from the previous event of the
 * batch (the first from the batch's base time), whatever the clock of the
 * process's annotations. Kinds have their own numbers: a kernel batch holds
 * no annotation event and a batch no kernel event. */
enum {
    TC_KEV_SWITCH_OUT = 0x01,  /* dt state cpu wait why:str [stack]             */
    TC_KEV_SWITCH_IN = 0x02,   /* dt cpu                                       */
    TC_KEV_WAKEUP = 0x03,      /* dt waker-process waker-tid cpu                */
    TC_KEV_SAMPLE = 0x04,      /* dt cpu stack (the stack bit is always set)    */
    TC_KEV_NAME = 0x05,        /* dt name:str                                  */
    TC_KEV_EXIT = 0x06,        /* dt                                           */
    TC_KEV_STAT = 0x07,        /* dt what value                                */
};

/* A thread's state as it left its CPU (TC_KEV_SWITCH_OUT). */
enum {
    TC_STATE_RUNNABLE = 0,      /* preempted or yielded: still wants a CPU      */
    TC_STATE_SLEEPING = 1,      /* interruptible wait (S)                       */
    TC_STATE_DISK = 2,          /* uninterruptible wait (D)                     */
    TC_STATE_STOPPED = 3,       /* stopped or traced (T, t)                     */
    TC_STATE_DEAD = 4,          /* exiting (X, Z): its last switch              */
    TC_STATE_OTHER = 5,         /* any other state bit the kernel sets          */
};

/* What a thread that left its CPU to wait was waiting for, as traced told
 * it from the kernel stack where it waited (TC_KEV_SWITCH_OUT). */
enum {
    TC_WAIT_NONE = 0,           /* not waiting (runnable), or not known         */
    TC_WAIT_LOCK = 1,           /* a futex: a lock, a condition, a semaphore    */
    TC_WAIT_IO = 2,             /* read, write, recv, poll, epoll, select, D    */
    TC_WAIT_SLEEP = 3,          /* nanosleep, clock_nanosleep                   */
    TC_WAIT_SYSCALL = 4,        /* another system call                          */
};

/* What a TC_KEV_STAT counts (a process's, in its main thread's batch). */
enum {
    TC_STAT_USER_CPU_NS = 1,
    TC_STAT_SYSTEM_CPU_NS = 2,
    TC_STAT_RSS_BYTES = 3,
    TC_STAT_THREADS = 4,
    TC_STAT_OPEN_FDS = 5,
    TC_STAT_MINOR_FAULTS = 6,
    TC_STAT_MAJOR_FAULTS = 7,
    TC_STAT_VOLUNTARY_SWITCHES = 8,
    TC_STAT_INVOLUNTARY_SWITCHES = 9,
};

/* String ids in kernel events are the process's like any other; traced
 * takes its own at and above this, where no client's reach (a client's
 * interner numbers its strings from 1, bounded by its metadata area). */
#define TC_KERNEL_STRING_BASE 0x80000000u

#endif /* TRACE_EVENTS_H */
