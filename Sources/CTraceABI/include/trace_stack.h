/*
 * trace_stack.h — the call stack of the calling thread, for the events that
 * carry one (stacks on: `TraceOptions(stacks: true)`, `tracectl start
 * --stacks`; docs/design.md, "Stacks").
 *
 * A capture has two parts, innermost first:
 *
 *   thread's stack (frame-pointer records)        heap (Swift async contexts)
 *   ┌──────────────────────────────┐
 *   │ fp → [saved fp][return addr] │ ─▶ ... ─▶ the frame of the async function
 *   └──────────────────────────────┘          the runtime resumed; fp[-1] is its
 *                                             context ─▶ parent ─▶ ... ─▶ the task's
 *                                             first context (parent 0)
 *
 * 1. Sync frames: the frame-pointer chain, every record checked against the
 *    thread's stack bounds before it is read, each next record further up
 *    the stack (so a corrupt chain cannot loop).
 * 2. Async frames: on Linux a Swift async function's frame record looks like
 *    any other (the saved-fp bit 60 that marks async frames on Darwin is not
 *    set here), so a frame counts as async when the concurrency runtime
 *    called it, that is, its return address lies in the runtime's code: the
 *    runtime resumes a task by calling its resume function. Such a frame
 *    keeps its async context in the slot just below the frame record
 *    (fp[-1]); the runtime's call sites that proved right are remembered
 *    and tried first (tc_resume_sites). A context begins with two words:
 *    its parent context (the awaiting caller's) and the resume function
 *    where the caller continues.
 *    The walk records each resume function, parent after parent, up to the
 *    task's first context (parent 0), and drops the executor's frames below
 *    the async frame, as the Swift runtime's own backtracer does.
 *
 * Contexts are on the heap, where nothing bounds them. Every read through a
 * context goes through the kernel (process_vm_readv on this process, the
 * page-sized block holding it and the block below, into a copy on the
 * walker's stack): an unmapped, unreadable or non-canonical address fails
 * with EFAULT instead of faulting, and every word used comes from the copy,
 * so memory freed or changed under the walk cannot fault it either. Only
 * the page-sized blocks holding the running task object itself, which is
 * live and so mapped, are read in place. A chain counts only when it ends
 * where a task's chain must end: a context with parent 0, inside the running
 * task's own allocation (the runtime places a task's first context right
 * after the task object), whose resume function is the runtime's (task
 * completion). Any other chain (unreadable, too long, a slot that held no
 * context) is discarded and the walk goes on with the thread's stack, as if
 * the frame were not async. Bounds: TC_ASYNC_PAGE_READS reads (one
 * syscall each) and TC_ASYNC_CONTEXTS contexts per capture.
 */
#ifndef TRACE_STACK_H
#define TRACE_STACK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest stack captured, sync and async frames together; deeper stacks
 * keep their innermost frames. At most 128 fit a stack record
 * (docs/format.md, "0x12 stack"). */
#define TC_STACK_CAPACITY 127u

/* Reads of async contexts one capture may make (one process_vm_readv of up
 * to two 4 KiB blocks each, ~0.7-0.9 µs here): the contexts of one task sit
 * in a few slabs of its allocator. */
#define TC_ASYNC_PAGE_READS 16
/* Contexts one capture may follow, past the recorded ones too: the walk
 * must reach the task's first context for the chain to count. */
#define TC_ASYNC_CONTEXTS 512
/* The task's first context lies within this many bytes after the task
 * object (the task header and its fragments: ~300 bytes in Swift 6.3). */
#define TC_ASYNC_ROOT_WINDOW 4096
/* Bytes every task object has (a Job header of 64 bytes, the resume
 * context, the runtime's private storage: ~250 bytes in Swift 6.3): the
 * blocks holding them are mapped while the task runs, and are read in
 * place. */
#define TC_ASYNC_TASK_BYTES 128

/* Executor call sites a process remembers: see tc_resume_sites. */
#define TC_ASYNC_SITES 8

/* Return addresses of frames that proved to be resumed async functions'
 * (the runtime's call sites that resume a task: a handful). A walk tries
 * frames returning to one of them first, and the other frames that
 * returned into the runtime only if none does; a frame whose chain proves
 * itself adds its site. With the runtime in its own library such frames
 * are few anyway; with the runtime linked into the executable every frame
 * of the executable returns "into the runtime", and without the sites each
 * would cost a read. Slots fill once and are never cleared (relaxed
 * atomics: a slot seen empty only costs the second pass). */
typedef struct tc_resume_sites {
    uintptr_t site[TC_ASYNC_SITES];
} tc_resume_sites;

/* What a walk needs to follow async contexts. */
typedef struct tc_async_env {
    /* The running Swift task (swift_task_getCurrent), 0 for none: then no
     * frame is taken for async. Its first TC_ASYNC_TASK_BYTES must be
     * mapped (the walk reads their blocks in place). */
    uintptr_t task;
    /* The concurrency runtime's code, [low, high). */
    uintptr_t runtime_low;
    uintptr_t runtime_high;
    /* The process process_vm_readv reads: this one. */
    int pid;
    /* Sites learned so far, and where to learn (NULL: none, every
     * candidate frame is tried in order). */
    tc_resume_sites *sites;
} tc_async_env;

/* How the async part of a walk went. */
enum {
    /* No frame looked async (no task, or no return address into the runtime). */
    TC_ASYNC_NONE = 0,
    /* A chain was followed to its task's first context. */
    TC_ASYNC_FOLLOWED = 1,
    /* A chain was discarded: a context could not be read (unmapped,
     * unreadable, misaligned, or the page budget ran out). */
    TC_ASYNC_UNREADABLE = 2,
    /* A chain was discarded: it did not end at the task's first context
     * within TC_ASYNC_CONTEXTS (a loop, or a slot that held no context). */
    TC_ASYNC_NOT_A_TASK_CHAIN = 3,
};

typedef struct tc_stack_walk {
    /* Frames from the thread's stack (the first ones); the rest are async. */
    int sync_depth;
    /* TC_ASYNC_*: the last chain tried. */
    int async_outcome;
    /* process_vm_readv calls made. */
    int page_reads;
} tc_stack_walk;

/* Learns the runtime's code range and this process's id, so captures can
 * follow async contexts; until then (and in a forked child until it is
 * called again) they record sync frames only. Takes the dynamic loader's
 * lock (dl_iterate_phdr): call it off the hot path, when tracing starts.
 * Returns 0, or -1 when the runtime is not found (async frames stay off). */
int tc_stack_walk_prepare(void);
/* Async frames off (the fork handler: the child's pid differs). */
void tc_stack_walk_forget(void);

/* The calling thread's stack, innermost first: skips `skip` frames (this
 * function's caller counts as the first), stores at most `capacity`
 * addresses, reads the thread's stack only within [low, high). Sync frames
 * are return addresses; an async frame is its resume function's address
 * plus 1, so that every frame reads as a return address (a symbolizer
 * looks up address − 1, which then is the resume function's first byte).
 * Returns the count; `walk` (may be NULL) says where the async part begins. */
int tc_capture_stack(uintptr_t *frames, int capacity, int skip, uintptr_t low, uintptr_t high,
                     tc_stack_walk *walk);

/* The walk of tc_capture_stack from the frame record at `fp`, with the
 * async environment given: the tests hand it a fake stack and a fake
 * context chain. `env` NULL: sync frames only. */
int tc_walk_stack(uintptr_t fp, uintptr_t *frames, int capacity, int skip, uintptr_t low, uintptr_t high,
                  const tc_async_env *env, tc_stack_walk *walk);

#ifdef __cplusplus
}
#endif

#endif /* TRACE_STACK_H */
