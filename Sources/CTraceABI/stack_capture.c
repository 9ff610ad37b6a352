/* stack_capture.c — the calling thread's call stack, sync and async frames;
 * see trace_stack.h for the walk and why each read is safe. */
#define _GNU_SOURCE
#include "trace_stack.h"
#include "trace_shims.h"

#include <errno.h>
#include <link.h>
#include <sys/uio.h>
#include <unistd.h>

/* Read in blocks of a page: a 4096-byte block aligned to 4096 lies inside
 * one page whatever the page size, so a block is wholly readable or not. */
#define BLOCK 4096u
#define WORD sizeof(uintptr_t)

_Static_assert(TC_STACK_CAPACITY <= 128, "a stack record holds at most 128 frames (docs/format.md)");

/* Published by tc_stack_walk_prepare: the range first (relaxed), then the
 * pid (release); a capture reads the pid (acquire), then the range. pid 0:
 * async frames off. */
static uintptr_t runtime_low, runtime_high;
static int self_pid;
/* The executor's call sites that resumed the async functions of this
 * process's captures so far. */
static tc_resume_sites learned_sites;

static int find_runtime(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    uintptr_t address = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type != PT_LOAD || !(segment->p_flags & PF_X)) continue;
        uintptr_t low = (uintptr_t)info->dlpi_addr + segment->p_vaddr;
        uintptr_t high = low + segment->p_memsz;
        if (address >= low && address < high) {
            __atomic_store_n(&runtime_low, low, __ATOMIC_RELAXED);
            __atomic_store_n(&runtime_high, high, __ATOMIC_RELAXED);
            return 1;
        }
    }
    return 0;
}

int tc_stack_walk_prepare(void) {
    /* The runtime's code is the executable segment holding one of its
     * functions: libswift_Concurrency.so's, or the executable's when the
     * Swift runtime is linked statically. */
    if (dl_iterate_phdr(find_runtime, (void *)(uintptr_t)&swift_task_getCurrent) == 0) return -1;
    __atomic_store_n(&self_pid, (int)getpid(), __ATOMIC_RELEASE);
    return 0;
}

void tc_stack_walk_forget(void) { __atomic_store_n(&self_pid, 0, __ATOMIC_RELAXED); }

/* The one copy of heap memory a chain's walk holds: the block holding the
 * last address asked for, and the block below it when that one is readable
 * too. A context's parent was allocated before it (the task allocator is a
 * stack): mostly just below it, in the same slab or the one allocated
 * before, so the block below saves a read for little (~0.1 µs of copying
 * against ~0.7 µs for a syscall here). */
typedef struct block_reader {
    int pid;
    /* The blocks holding the running task's first TC_ASYNC_TASK_BYTES: a
     * live object's, so mapped; read in place, without a syscall (the
     * task's first context is mostly there). */
    uintptr_t task_low;
    uintptr_t task_high;
    /* The capture's budget of reads, shared by every chain it tries. */
    int *reads_left;
    int *reads;
    /* The copy covers [low, high); words[0] is the word at high - 2 * BLOCK. */
    uintptr_t low;
    uintptr_t high;
    uintptr_t words[2 * BLOCK / WORD];
} block_reader;

/* The word at `address` of this process, read by the kernel into the
 * reader's copy: 0 when the address is misaligned, in the first page,
 * unmapped or unreadable, or when the read budget is spent. Apart from the
 * running task's own blocks, the walker never dereferences a heap address
 * itself. */
static int read_word_via_kernel(block_reader *reader, uintptr_t address, uintptr_t *value) {
    if (address < BLOCK || (address & (WORD - 1)) != 0) return 0;
    if (address >= reader->task_low && address < reader->task_high) {
        *value = __atomic_load_n((const uintptr_t *)address, __ATOMIC_RELAXED);
        return 1;
    }
    if (address < reader->low || address >= reader->high) {
        uintptr_t block = address & ~(uintptr_t)(BLOCK - 1);
        reader->low = reader->high = 0;
        if (*reader->reads_left == 0) return 0;
        --*reader->reads_left;
        ++*reader->reads;
        /* The needed block first: the kernel stops at the first element it
         * cannot read, so an unreadable block below only shortens the copy. */
        struct iovec local[2] = { { reader->words + BLOCK / WORD, BLOCK }, { reader->words, BLOCK } };
        struct iovec remote[2] = { { (void *)block, BLOCK }, { (void *)(block - BLOCK), BLOCK } };
        /* Same thread group: no ptrace access check applies, whatever
         * Yama's ptrace_scope; systemd's @system-service filter allows it. */
        ssize_t n = process_vm_readv(reader->pid, local, 2, remote, 2, 0);
        if (n < (ssize_t)BLOCK) {
            /* A seccomp filter that refuses the call: stop asking. */
            if (n < 0 && (errno == EPERM || errno == ENOSYS)) tc_stack_walk_forget();
            return 0;
        }
        reader->high = block + BLOCK;
        reader->low = n == (ssize_t)(2 * BLOCK) ? block - BLOCK : block;
    }
    *value = reader->words[(address - (reader->high - 2 * BLOCK)) / WORD];
    return 1;
}

/* Follows the chain from `context`: stores at most `room` resume points
 * (each + 1) in `out` and returns how many, or -1 (and the reason in
 * `walk`) when the chain is not a task's. Apart from the walk so that only
 * a capture that tries a chain has the block copy on its stack. */
__attribute__((noinline))
static int follow_contexts(uintptr_t context, uintptr_t *out, int room, const tc_async_env *env,
                           int *reads_left, tc_stack_walk *walk) {
    block_reader reader;
    reader.pid = env->pid;
    reader.task_low = env->task & ~(uintptr_t)(BLOCK - 1);
    reader.task_high = ((env->task + TC_ASYNC_TASK_BYTES - 1) & ~(uintptr_t)(BLOCK - 1)) + BLOCK;
    reader.reads_left = reads_left;
    reader.reads = &walk->page_reads;
    reader.low = 0;
    reader.high = 0;
    int count = 0;
    for (int step = 0; step < TC_ASYNC_CONTEXTS; step++) {
        uintptr_t parent, resume;
        if (!read_word_via_kernel(&reader, context, &parent) ||
            !read_word_via_kernel(&reader, context + WORD, &resume)) {
            walk->async_outcome = TC_ASYNC_UNREADABLE;
            return -1;
        }
        if (parent == 0) {
            /* The task's first context: in the task's own allocation, right
             * after the task object, resuming into the runtime's task
             * completion (not recorded: every task ends there). */
            int root = context > env->task && context - env->task < TC_ASYNC_ROOT_WINDOW &&
                       resume >= env->runtime_low && resume < env->runtime_high;
            walk->async_outcome = root ? TC_ASYNC_FOLLOWED : TC_ASYNC_NOT_A_TASK_CHAIN;
            return root ? count : -1;
        }
        if (resume == 0) break;
        if (count < room) out[count++] = resume + 1;
        context = parent;
    }
    walk->async_outcome = TC_ASYNC_NOT_A_TASK_CHAIN;
    return -1;
}

static int is_learned_site(const tc_resume_sites *sites, uintptr_t return_address) {
    for (int i = 0; i < TC_ASYNC_SITES; i++) {
        uintptr_t site = __atomic_load_n(&sites->site[i], __ATOMIC_RELAXED);
        if (site == return_address) return 1;
        if (site == 0) return 0;
    }
    return 0;
}

static void learn_site(tc_resume_sites *sites, uintptr_t return_address) {
    for (int i = 0; i < TC_ASYNC_SITES; i++) {
        uintptr_t expected = 0;
        if (__atomic_compare_exchange_n(&sites->site[i], &expected, return_address, 0, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED) ||
            expected == return_address) {
            return;
        }
    }
}

static int returns_into_runtime(const uintptr_t *record, const tc_async_env *env) {
    return record[1] >= env->runtime_low && record[1] < env->runtime_high;
}

/* Whether the frame `record` may be a resumed async function's: the
 * runtime's code called it, and the word below its record could be a
 * context (task allocations are 16-byte aligned, and on the heap, not on
 * this stack). Not when its caller's frame holds the same word and
 * qualifies too: of such a pair the outer one is the async function's own,
 * and the inner one a sync function it called that saved the context
 * register just below its record (possible when the runtime is linked into
 * the executable: the runtime's code is all of the executable's then). */
static int is_candidate(const uintptr_t *record, uintptr_t low, uintptr_t high, const tc_async_env *env) {
    uintptr_t context = record[-1];
    if (!returns_into_runtime(record, env) || context == 0 || (context & 15) != 0 ||
        (context >= low && context < high)) {
        return 0;
    }
    uintptr_t caller = record[0];
    if (caller <= (uintptr_t)record || caller < low + WORD || caller > high - 2 * WORD ||
        (caller & (WORD - 1)) != 0) {
        return 1;
    }
    const uintptr_t *outer = (const uintptr_t *)caller;
    return !(outer[-1] == context && returns_into_runtime(outer, env));
}

/* A candidate the first pass left for the second. */
typedef struct candidate {
    uintptr_t return_address;
    uintptr_t context;
    /* Where its frames begin in the capture. */
    int index;
} candidate;

#define CANDIDATES 8

int tc_walk_stack(uintptr_t fp, uintptr_t *frames, int capacity, int skip, uintptr_t low, uintptr_t high,
                  const tc_async_env *env, tc_stack_walk *walk) {
    tc_stack_walk ignored;
    if (walk == NULL) walk = &ignored;
    *walk = (tc_stack_walk){ 0 };
    int async = env != NULL && env->task != 0 && env->pid != 0 && env->runtime_low < env->runtime_high;
    tc_resume_sites *sites = async ? env->sites : NULL;
    int learned = sites != NULL && __atomic_load_n(&sites->site[0], __ATOMIC_RELAXED) != 0;
    candidate pending[CANDIDATES];
    int pending_count = 0;
    int reads_left = TC_ASYNC_PAGE_READS;
    int saved_errno = errno;
    int count = 0;
    while (count < capacity) {
        /* Every read stays inside this thread's stack (the record and the
         * word below it); the chain must move towards the stack's base, so
         * a corrupt chain cannot loop. */
        if (fp < low + WORD || fp > high - 2 * WORD || (fp & (WORD - 1)) != 0) break;
        const uintptr_t *record = (const uintptr_t *)fp;
        uintptr_t next = record[0];
        uintptr_t return_address = record[1];
        uintptr_t context = record[-1];
        if (return_address == 0) break;
        if (async && is_candidate(record, low, high, env)) {
            /* The runtime called this frame's function: if it is a resumed
             * async function, its context is just below the frame record,
             * and its callers are the chain's. The return address into the
             * executor is not recorded, nor are the executor's frames. Once
             * some executor call sites are known, only frames returning to
             * one are tried now; the others wait for the second pass. */
            if (!learned || is_learned_site(sites, return_address)) {
                int found = follow_contexts(context, frames + count, capacity - count, env, &reads_left, walk);
                if (found >= 0) {
                    if (sites != NULL) learn_site(sites, return_address);
                    walk->sync_depth = count;
                    errno = saved_errno;
                    return count + found;
                }
            } else if (pending_count < CANDIDATES) {
                pending[pending_count++] = (candidate){ return_address, context, count };
            }
        }
        if (skip > 0) {
            skip--;
        } else {
            frames[count++] = return_address;
        }
        if (next <= fp) break;
        fp = next;
    }
    /* No known call site on this stack (a new one, such as an actor's): the
     * other candidates, innermost first. */
    for (int k = 0; k < pending_count; k++) {
        int index = pending[k].index;
        int found = follow_contexts(pending[k].context, frames + index, capacity - index, env, &reads_left, walk);
        if (found >= 0) {
            learn_site(sites, pending[k].return_address);
            walk->sync_depth = index;
            errno = saved_errno;
            return index + found;
        }
    }
    walk->sync_depth = count;
    errno = saved_errno;
    return count;
}

/* Not a tail call: the walk starts at this function's frame record, which
 * must still be there. */
__attribute__((disable_tail_calls))
int tc_capture_stack(uintptr_t *frames, int capacity, int skip, uintptr_t low, uintptr_t high,
                     tc_stack_walk *walk) {
    tc_async_env env = { 0 };
    env.pid = __atomic_load_n(&self_pid, __ATOMIC_ACQUIRE);
    env.sites = &learned_sites;
    if (env.pid != 0) {
        env.runtime_low = __atomic_load_n(&runtime_low, __ATOMIC_RELAXED);
        env.runtime_high = __atomic_load_n(&runtime_high, __ATOMIC_RELAXED);
        env.task = (uintptr_t)swift_task_getCurrent();
    }
    return tc_walk_stack((uintptr_t)__builtin_frame_address(0), frames, capacity, skip, low, high, &env, walk);
}
