/* sync/parking.h: a counted parking lot, where the queue's blocked threads
 * sleep. Internal. Algorithm and correctness: parking.c.
 *
 * Same protocol as the eventcount (sync/eventcount.h):
 *
 *     for (;;) {
 *         if (attempt succeeds) break;          // fast path: no parking cost
 *         weft__lot_prepare(lot);
 *         if (attempt succeeds) { weft__lot_cancel(lot); break; }
 *         if (weft__lot_wait(lot, &deadline) == ETIMEDOUT) ...;
 *     }
 *
 * and whoever makes an attempt possible: change state; weft__lot_notify(lot, n).
 * The difference from the eventcount: notify(1) consumes the announcement
 * of the thread it wakes. A second notify before the woken thread has run
 * finds nobody left to wake and costs a fence and a load, where the
 * eventcount would bump its epoch and make a futex syscall again for the same
 * sleeper. A queue notifies on every put and get, so with a sleeper that is
 * slow to be scheduled that difference is a syscall per item.
 *
 * Concurrency: every call may run on any thread at any time; prepare must be
 * followed by exactly one cancel or wait by the same thread. Every call
 * returns in a bounded number of its own steps except wait's sleep (the
 * word's RMW loops are lock-free: a failed CAS means another call's
 * succeeded).
 */
#ifndef WEFT_SYNC_PARKING_H
#define WEFT_SYNC_PARKING_H

#include "diag/diag_impl.h"
#include "internal/atomics.h"

typedef struct weft__lot {
    /* Low 32 bits: waiters, threads announced and not yet signalled. High 32
     * bits: tokens, signals sent and not yet taken; that half is the futex
     * word. One word, so that a signal moves from one count to the other in
     * one RMW (parking.c). */
    _Atomic uint64_t state;
} weft__lot;

void weft__lot_init(weft__lot *lot);
void weft__lot_prepare(weft__lot *lot);
/* The attempt succeeded after prepare: withdraw (taking the signal if one
 * was already sent to us). */
void weft__lot_cancel(weft__lot *lot);
/* Sleep until signalled or the deadline (NULL = forever): 0 or ETIMEDOUT.
 * weft__lot_wait_on also records `wait` for weft_dump right before it
 * sleeps (diag/diag_impl.h; NULL: nothing), so every queue wait is labelled
 * here, in one place. */
int weft__lot_wait_on(weft__lot *lot, const weft__deadline *d, const weft__diag_wait *wait);
static inline int weft__lot_wait(weft__lot *lot, const weft__deadline *d)
{
    return weft__lot_wait_on(lot, d, NULL);
}
/* Signal up to n announced threads (UINT32_MAX: all of them). Call after the
 * change. Costs a fence and a load when nobody is announced. */
void weft__lot_notify(weft__lot *lot, uint32_t n);

/* Snapshots, for tests and assertions. */
uint32_t weft__lot_waiters(const weft__lot *lot);
uint32_t weft__lot_tokens(const weft__lot *lot);

#endif /* WEFT_SYNC_PARKING_H */
