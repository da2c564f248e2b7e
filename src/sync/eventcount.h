/* sync/eventcount.h: an eventcount, the parking primitive under weft's
 * lock-free structures (queue, pool idle workers). Internal.
 *
 * Use, by a thread that waits for a condition C made true by others:
 *
 *     for (;;) {
 *         if (C) break;                      // fast path, no eventcount cost
 *         uint32_t key = weft__ec_prepare(ec);
 *         if (C) { weft__ec_cancel(ec); break; }
 *         if (weft__ec_wait(ec, key, &deadline) == ETIMEDOUT) ...;
 *     }
 *
 * and by a thread that makes C true:  make C true; weft__ec_notify(ec, n);
 *
 * notify costs one fence and one load when nobody is between prepare and
 * wait/cancel: no RMW, no syscall. It never wakes anyone when nobody waits.
 *
 * Concurrency: every call may run on any thread at any time; prepare must be
 * followed by exactly one wait or cancel by the same thread.
 */
#ifndef WEFT_SYNC_EVENTCOUNT_H
#define WEFT_SYNC_EVENTCOUNT_H

#include "internal/atomics.h"

typedef struct weft__eventcount {
    /* Low 32 bits: threads between prepare and wait/cancel. High 32 bits: the
     * epoch, bumped by every notify that saw a waiter; it is the futex word. */
    _Atomic uint64_t state;
} weft__eventcount;

#define WEFT__EC_INIT                                                                                        \
    {                                                                                                        \
        0                                                                                                    \
    }

void weft__ec_init(weft__eventcount *ec);
/* Announce an intention to wait; returns the key (epoch) to pass to wait. */
uint32_t weft__ec_prepare(weft__eventcount *ec);
/* The condition turned true after all: withdraw the announcement. */
void weft__ec_cancel(weft__eventcount *ec);
/* Sleep until a notify after the matching prepare, or the deadline (NULL =
 * forever). Returns 0 (notified, or spuriously) or ETIMEDOUT. Either way the
 * announcement is withdrawn. */
int weft__ec_wait(weft__eventcount *ec, uint32_t key, const weft__deadline *d);
/* Wake up to n waiters (INT32_MAX: all) if any has announced itself. Call
 * after making the condition true. Returns whether anyone was waiting. */
bool weft__ec_notify(weft__eventcount *ec, int n);
/* Whether any thread is between prepare and wait/cancel (a snapshot). */
bool weft__ec_has_waiters(weft__eventcount *ec);

#endif /* WEFT_SYNC_EVENTCOUNT_H */
