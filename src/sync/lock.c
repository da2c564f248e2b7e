/* sync/lock.c: weft_lock, a three-state futex mutex.
 *
 * Design note. Drepper, "Futexes Are Tricky" (2011), mutex #3, with a bounded
 * adaptive spin. The word is 0 (free), 1 (held, nobody sleeping) or 2 (held,
 * somebody may be sleeping).
 *   acquire fast path (inline, sync.h): CAS 0 -> 1. One atomic RMW.
 *   acquire slow path: look at the word a few times with exponential backoff
 *     and CAS 0 -> 1 when it reads 0 (not when it reads 2: then others sleep);
 *     then exchange the word to 2 (announcing a sleeper) and sleep on the
 *     futex while it stays 2; every wake-up exchanges to 2 again, so a thread
 *     that obtains the lock this way leaves it in state 2 (conservatively
 *     assuming others still sleep).
 *   release (inline): exchange to 0; only if the old value was 2 call
 *     futex_wake(1). A lock that nobody ever slept on is released without a
 *     syscall, and nobody sleeps in the kernel while the word is 0, because a
 *     sleeper only sleeps while the word is 2 (the kernel re-checks it).
 * Invariants: the word is 1 or 2 exactly while one thread is between a
 * successful acquire and its release; a thread sleeps only on the value 2.
 * No lost wake-up: a sleeper set 2 before sleeping; the releaser's exchange
 * sees that 2 (or a later acquirer set 2 again and will wake on its own
 * release).
 * A timed-out waiter may leave the word at 2 with nobody asleep; the cost is
 * one futex_wake syscall that finds nobody, never a missed wake-up.
 * Fairness: barging (see sync.h).
 */
#include "weft/sync.h"

#include "diag/diag_impl.h"
#include "internal/atomics.h"

/* The spin: WEFT_LOCK_SPIN_ROUNDS looks at the word with exponential
 * backoff between them (1, 2, 4, ... pauses: about 255 pauses, roughly the
 * cost of a futex round trip, in 8 loads). Few loads matter: every load by a
 * spinner pulls the line away from the holder, and a spinner that polls
 * tightly turns a contended counter into a cache-line ping-pong (measured:
 * 2-3x lower throughput than no spin at all on a counter benchmark). Once
 * somebody sleeps (state 2) newcomers stop spinning and queue behind it. */
#ifndef WEFT_LOCK_SPIN_ROUNDS
#define WEFT_LOCK_SPIN_ROUNDS 8
#endif

void weft_lock_init(weft_lock *l)
{
    if (l == NULL)
        return;
    atomic_init(&l->state, 0);
}

int weft_lock_acquire_slow(weft_lock *l, double timeout)
{
    WEFT__DIAG_SCOPE(blk);
    weft__deadline d;
    if (weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    uint32_t c = 0;
    if (d.expired) {
        /* acquire: pairs with the release exchange in weft_lock_release. */
        if (atomic_compare_exchange_strong_explicit(&l->state, &c, 1, memory_order_acquire,
                                                    memory_order_relaxed))
            return 0;
        return EAGAIN;
    }
    for (int round = 0; round < WEFT_LOCK_SPIN_ROUNDS; round++) {
        c = atomic_load_explicit(&l->state, memory_order_relaxed);
        if (c == 2)
            break; /* others already sleep: queue behind them */
        /* acquire: pairs with the release exchange in weft_lock_release. */
        if (c == 0 && atomic_compare_exchange_weak_explicit(&l->state, &c, 1, memory_order_acquire,
                                                            memory_order_relaxed))
            return 0;
        for (int k = 0; k < (1 << round); k++)
            weft__cpu_relax();
    }
    /* acquire: pairs with the release exchange in weft_lock_release; if it
     * returns 0 we own the lock (in state 2). */
    c = atomic_exchange_explicit(&l->state, 2, memory_order_acquire);
    while (c != 0) {
        weft__diag_scope_begin(&blk, "weft_lock_acquire", l, WEFT__OBJ_LOCK);
        if (weft__futex_wait(&l->state, 2, &d) == ETIMEDOUT)
            return ETIMEDOUT;
        /* acquire: as above. */
        c = atomic_exchange_explicit(&l->state, 2, memory_order_acquire);
    }
    return 0;
}

int weft_lock_release_slow(weft_lock *l, uint32_t old_state)
{
    if (old_state == 0)
        return EPERM; /* it was free: the exchange stored 0 over 0, no change */
    weft__futex_wake(&l->state, 1);
    return 0;
}
