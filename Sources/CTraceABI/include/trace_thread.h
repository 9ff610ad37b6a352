/*
 * trace_thread.h — the per-thread state of the client's hot path.
 *
 * Process-local (not part of the shared-memory ABI). It lives in C because
 * Swift has no thread-local storage of its own: a `_Thread_local` object read
 * through a static inline accessor costs nothing measurable, where
 * pthread_getspecific costs ~2 ns and Foundation's thread dictionary ~1 µs
 * (docs/performance.md). Only the owning thread reads or writes its state,
 * except for the fork handler, which runs in the child's only thread.
 */
#ifndef TRACE_THREAD_H
#define TRACE_THREAD_H

#include <stdint.h>
#include "trace_abi.h"
#include "trace_stack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Direct-mapped cache from a StaticString's address to its string id, so
 * interning a region type on the hot path is one compare. 64 entries cover
 * the "handful of unique types" a thread uses. */
#define TC_INTERN_CACHE_SIZE 64u

typedef struct tc_intern_slot {
    uintptr_t key;
    uint32_t id;
    uint32_t reserved;
} tc_intern_slot;

/* Values of tc_thread_state.status. */
enum {
    TC_THREAD_NEW = 0,
    TC_THREAD_REGISTERED = 1,
    /* Pthread key destructors ran; the thread is exiting. */
    TC_THREAD_EXITING = 2,
};

typedef struct tc_thread_state {
    /* Next byte to write in the current chunk's payload, or NULL when the
     * thread holds no chunk (not registered yet, or dropping). */
    uint8_t *cursor;
    /* End of the current chunk's payload. The fast path writes only when
     * cursor + (largest event of that kind) <= limit. */
    uint8_t *limit;
    /* Start of the current chunk's payload and its header. */
    uint8_t *payload;
    tc_chunk_header *chunk;
    /* Timestamp of the previous event in this chunk (deltas are taken from
     * it; clamped so deltas are never negative). */
    uint64_t last_ticks;
    /* Regions begun by this thread so far. */
    uint64_t region_seq;
    /* The event context as last written in this chunk (a context event is
     * written when it changes; all 0 at a chunk's start, as the decoder
     * assumes): the Swift task (the runtime's id, 0 outside a task) and the
     * current trace task. */
    uint64_t swift_task_id;
    uint64_t context_task;
    /* The last task this thread began in this chunk (task ids are written
     * as deltas from it). */
    uint64_t last_task;
    /* Block of process-unique task ids reserved by this thread. */
    uint64_t task_id_next;
    uint64_t task_id_limit;
    /* Events dropped since the thread's previous chunk. */
    uint64_t dropped_pending;
    /* Events written into the current chunk (stored in its header when it
     * is completed). */
    uint32_t chunk_events;
    uint32_t thread_index;
    uint32_t chunk_sequence;
    /* free_generation seen at the last failed chunk acquisition. */
    uint32_t seen_free_generation;
    /* Nonzero while the thread is inside an event or the slow path: a
     * signal handler that emits meanwhile drops its event (reentrant). */
    uint32_t busy;
    uint32_t status;
    /* Bounds of this thread's stack for the frame-pointer walk. */
    uintptr_t stack_low;
    uintptr_t stack_high;
    tc_intern_slot intern[TC_INTERN_CACHE_SIZE];
    /* Scratch for one stack capture (trace_stack.h, tc_capture_stack). */
    uintptr_t frames[TC_STACK_CAPACITY];
} tc_thread_state;

extern _Thread_local tc_thread_state tc_thread;

static inline tc_thread_state *tc_thread_state_get(void) {
    return &tc_thread;
}

static inline tc_intern_slot *tc_intern_slots(tc_thread_state *state) { return state->intern; }
static inline uintptr_t *tc_stack_scratch(tc_thread_state *state) { return state->frames; }

/* The buffer header, published once the buffer exists, for the one path
 * that must not take a lock: counting an event dropped by a signal handler
 * that interrupted the slow path. */
extern tc_buffer_header *tc_shared_header;

static inline tc_buffer_header *tc_shared_header_load(void) {
    return __atomic_load_n(&tc_shared_header, __ATOMIC_ACQUIRE);
}
static inline void tc_shared_header_store(tc_buffer_header *header) {
    __atomic_store_n(&tc_shared_header, header, __ATOMIC_RELEASE);
}

/* Relaxed accessors for `busy`, which the stopping thread reads while the
 * owner writes it (plain stores on x86-64 and arm64). */
static inline void tc_busy_store(tc_thread_state *state, uint32_t value) {
    __atomic_store_n(&state->busy, value, __ATOMIC_RELAXED);
}
static inline uint32_t tc_busy_load(tc_thread_state *state) { return __atomic_load_n(&state->busy, __ATOMIC_RELAXED); }

/* The process-wide control word (TC_CONTROL_* bits). Not in the mapping:
 * whoever drives tracing (the in-process session, or the daemon connection)
 * sets it. isEnabled is one relaxed load of it. */
extern uint32_t tc_control;

static inline uint32_t tc_control_load(void) { return __atomic_load_n(&tc_control, __ATOMIC_RELAXED); }
static inline void tc_control_store(uint32_t value) { __atomic_store_n(&tc_control, value, __ATOMIC_RELEASE); }
static inline uint32_t tc_control_fetch_and(uint32_t mask) {
    return __atomic_fetch_and(&tc_control, mask, __ATOMIC_ACQ_REL);
}

/* TC_TASKS_LOCAL (set once, never cleared): some TraceTask was made
 * current: until then the hot path skips the task-local lookup (~10-20 ns)
 * when recording the current task. TC_TASKS_SERVICE_CONTEXT: the process
 * asked (TraceTask.followsServiceContext, which may clear it again) that,
 * without a current TraceTask,
 * the one in ServiceContext.current counts as current. One relaxed load
 * tells the hot path whether to look anywhere. */
extern uint32_t tc_tasks_in_use;
#define TC_TASKS_LOCAL 1u
#define TC_TASKS_SERVICE_CONTEXT 2u

static inline uint32_t tc_tasks_in_use_load(void) { return __atomic_load_n(&tc_tasks_in_use, __ATOMIC_RELAXED); }
static inline void tc_tasks_in_use_add(uint32_t bits) {
    /* A load first: making a task current is frequent, the first time is not. */
    if ((__atomic_load_n(&tc_tasks_in_use, __ATOMIC_RELAXED) & bits) != bits)
        __atomic_fetch_or(&tc_tasks_in_use, bits, __ATOMIC_RELAXED);
}
static inline void tc_tasks_in_use_set(void) { tc_tasks_in_use_add(TC_TASKS_LOCAL); }
static inline void tc_tasks_in_use_remove(uint32_t bits) { __atomic_fetch_and(&tc_tasks_in_use, ~bits, __ATOMIC_RELAXED); }

/* Incremented in a forked child: its inherited buffer belongs to the parent. */
extern uint32_t tc_fork_epoch;

static inline uint32_t tc_fork_epoch_load(void) { return __atomic_load_n(&tc_fork_epoch, __ATOMIC_ACQUIRE); }

#ifdef __cplusplus
}
#endif

#endif /* TRACE_THREAD_H */
