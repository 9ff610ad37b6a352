/*
 * Tells ThreadSanitizer about Synchronization.Mutex's contended path on
 * Linux; loaded with LD_PRELOAD into every process of a `scripts/sanitize
 * thread` run (docs/sanitizers.md).
 *
 * Why: Mutex.withLock is inlined into our code (@_transparent), so its
 * uncontended lock and unlock, one compare-exchange each, are compiled with
 * -sanitize=thread and TSan sees them acquire and release the lock word.
 * When the lock is contended, the work happens in libswiftSynchronization.so,
 * which is not instrumented: `_lockSlow` spins on an uninstrumented
 * compare-exchange and then lets the kernel hand the lock over
 * (FUTEX_LOCK_PI), `_unlockSlow` calls FUTEX_UNLOCK_PI. TSan sees neither, so
 * the next holder's accesses look unordered with the last holder's: a data
 * race report on state that the lock protects (scripts/sanitizers/
 * mutex-check.swift shows it with two threads and one counter).
 *
 * A suppression cannot name the cause: no Mutex frame is on either stack
 * (withLock is inlined), only the caller's closure, so it would have to
 * silence every caller, real races in them included. Instead these wrappers
 * interpose the three slow-path entry points (exported, ABI-stable symbols
 * our binaries reach through the PLT), call the real ones, and add the edge
 * TSan missed: acquire on the lock word after a lock, release before an
 * unlock. TSan then checks Mutex like any lock it knows; an access outside
 * the lock is still reported.
 *
 * In a process without TSan (swift-build, lz4, ...) __tsan_* are absent
 * (weak, null) and the wrappers only forward.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>

/* Exported by the TSan runtime linked into sanitized executables. */
extern void __tsan_acquire(void *address) __attribute__((weak));
extern void __tsan_release(void *address) __attribute__((weak));

/* The Swift calling convention: a borrowing method of the address-only
 * _MutexHandle receives `self` (the address of its UInt32 lock word) in the
 * swiftself register, which clang names swift_context. */
#define SWIFTCALL __attribute__((swiftcall))
#define SELF __attribute__((swift_context))

/* _MutexHandle._lockSlow(_: UInt32), _tryLockSlow() -> Bool, _unlockSlow() */
#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

typedef SWIFTCALL void (*LockSlow)(uint32_t thread_id, void *SELF handle);
typedef SWIFTCALL bool (*TryLockSlow)(void *SELF handle);
typedef SWIFTCALL void (*UnlockSlow)(void *SELF handle);

SWIFTCALL void lock_slow(uint32_t thread_id, void *SELF handle) __asm__(LOCK_SLOW);
SWIFTCALL bool try_lock_slow(void *SELF handle) __asm__(TRY_LOCK_SLOW);
SWIFTCALL void unlock_slow(void *SELF handle) __asm__(UNLOCK_SLOW);

/* Resolved once; a race between two first calls stores the same value. */
static void *real(void **slot, const char *name) {
    void *function = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (!function) {
        function = dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, function, __ATOMIC_RELAXED);
    }
    return function;
}

SWIFTCALL void lock_slow(uint32_t thread_id, void *SELF handle) {
    static void *slot;
    ((LockSlow)real(&slot, LOCK_SLOW))(thread_id, handle);
    if (__tsan_acquire) __tsan_acquire(handle);
}

SWIFTCALL bool try_lock_slow(void *SELF handle) {
    static void *slot;
    bool locked = ((TryLockSlow)real(&slot, TRY_LOCK_SLOW))(handle);
    if (locked && __tsan_acquire) __tsan_acquire(handle);
    return locked;
}

SWIFTCALL void unlock_slow(void *SELF handle) {
    static void *slot;
    if (__tsan_release) __tsan_release(handle);
    ((UnlockSlow)real(&slot, UNLOCK_SLOW))(handle);
}
