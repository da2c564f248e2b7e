/* sync/waitbit.h: one blocking protocol, written once: "set a waiters bit,
 * CAS, sleep on that exact value". Internal. Proof: waitbit.c.
 *
 * A futex word holds the caller's state plus one bit meaning "somebody
 * sleeps, or is about to, on this word". A waiter that loaded `seen` and
 * decided to wait:
 *
 *     uint32_t s = atomic_load(word);
 *     while (!done(s)) {
 *         int rc = weft__waitbit_sleep(word, &s, BIT, &deadline, &wait);
 *         if (rc == EAGAIN) continue;       // the word moved: re-check s
 *         if (rc == ETIMEDOUT) ...;         // s is fresh: a last check
 *     }
 *
 * A waker changes the word with one RMW that returns the old value, and
 * then calls weft__waitbit_wake(word, old, BIT, n): a syscall only when the
 * bit was set. A waker whose RMW cannot clear the bit (a counter's
 * fetch_sub) leaves it to a waiter that saw the wait end:
 * weft__waitbit_clear_idle. Users: sync/event.c (weft_event_wait),
 * pool/future.c (block_final), pool/group.c (group_block, and clear_idle in
 * weft_group_wait).
 */
#ifndef WEFT_SYNC_WAITBIT_H
#define WEFT_SYNC_WAITBIT_H

#include "diag/diag_impl.h"
#include "internal/atomics.h"
#include "weft/common.h"

/* Sleep on *word while it equals *seen with `bit` set, until woken, the
 * word changes or the deadline passes. Sets the bit first (CAS) if *seen
 * lacks it. Returns EAGAIN without sleeping when that CAS found the word
 * changed, 0 after a sleep (woken, the word moved, or spurious), ETIMEDOUT
 * once the deadline passed. In every case *seen is reloaded (acquire).
 * Right before it sleeps it records `wait` for weft_dump (diag/diag_impl.h;
 * NULL: nothing), so every waiters-bit wait is labelled in one place. */
int weft__waitbit_sleep(_Atomic uint32_t *word, uint32_t *seen, uint32_t bit, const weft__deadline *d,
                        const weft__diag_wait *wait);

/* After the RMW that changed *word and returned old: wake up to n sleepers
 * (INT32_MAX: all) if old had the bit. */
static inline void weft__waitbit_wake(_Atomic uint32_t *word, uint32_t old, uint32_t bit, int n)
{
    if (old & bit)
        weft__futex_wake(word, n);
}

/* If *word is exactly idle | bit, where idle is a value no waiter sleeps on
 * (what it waits for has happened, e.g. a group's count of zero), drop the
 * bit: the next waker then makes no syscall. A relaxed load first, so that
 * the common case (bit clear) makes no RMW. Harmless when it fails (the word
 * moved: a waiter set the bit on a new value, which stays). */
static inline void weft__waitbit_clear_idle(_Atomic uint32_t *word, uint32_t idle, uint32_t bit)
{
    uint32_t flagged = idle | bit;
    /* relaxed, both: publishes nothing; a sleeper's safety rests on the
     * kernel's compare, and nobody sleeps on idle | bit (waitbit.c). */
    if (WEFT_UNLIKELY(atomic_load_explicit(word, memory_order_relaxed) == flagged))
        (void)atomic_compare_exchange_strong_explicit(word, &flagged, idle, memory_order_relaxed,
                                                      memory_order_relaxed);
}

#endif /* WEFT_SYNC_WAITBIT_H */
