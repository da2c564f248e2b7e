/* sync/cond.c: weft_cond, a condition variable bound to a weft_lock.
 *
 * Design note. A sequence-number futex (the scheme of Linux's early
 * futex-based condvars, minus their requeue).
 *   wait:   with the lock held: waiters++, s = seq; release the lock;
 *           futex_wait(seq, s, deadline); re-acquire the lock; waiters--.
 *   notify: with the lock held: if waiters == 0 return (no syscall);
 *           seq++; futex_wake(seq, n).
 * Why no wake-up is lost: the waiter reads seq while holding the lock and a
 * notifier changes seq while holding it, so a notify that comes after the
 * waiter's read (in lock order) changes seq; the waiter's futex_wait then
 * either returns at once (seq already differs) or was queued before the wake.
 * Why notify(n) never wakes a later waiter: the notifier calls futex_wake
 * before it releases the lock, and a later waiter cannot be queued on the
 * futex before it acquires the lock.
 * Waiters that read seq but had not slept yet when a notify came also return
 * (spurious wake-ups beyond n are allowed, as in Python); at least
 * min(n, sleepers) sleepers are woken.
 * The waiter count is changed only under the lock; it is atomic because the
 * fast "nobody waits" check in notify reads it, also under the lock.
 * Woken threads re-acquire the lock and so barge with newcomers (sync.h).
 * seq wraps after 2^32 notifies; fooling a waiter would take exactly that
 * many between its lock release and its futex_wait, and would cost one late
 * wake-up (docs/DESIGN.md, "Counters that wrap"; tests/sync/test_wrap.c).
 */
#include <limits.h>

#include "weft/sync.h"

#include "internal/atomics.h"

int weft_cond_init(weft_cond *c, weft_lock *lock)
{
    if (lock == NULL)
        return EINVAL;
    c->lock = lock;
    atomic_init(&c->seq, 0);
    atomic_init(&c->waiters, 0);
    return 0;
}

static int cond_wait_deadline(weft_cond *c, const weft__deadline *d)
{
    atomic_fetch_add_explicit(&c->waiters, 1, memory_order_relaxed);
    uint32_t s = atomic_load_explicit(&c->seq, memory_order_relaxed);
    weft_lock_release(c->lock);
    int rc = weft__futex_wait(&c->seq, s, d);
    /* A wake-up (or a change of seq) may race with the deadline: report a
     * notification when seq moved, whatever the futex said. */
    if (rc == ETIMEDOUT && atomic_load_explicit(&c->seq, memory_order_relaxed) != s)
        rc = 0;
    weft_lock_acquire(c->lock, WEFT_FOREVER);
    atomic_fetch_sub_explicit(&c->waiters, 1, memory_order_relaxed);
    return rc;
}

int weft_cond_wait(weft_cond *c, double timeout)
{
    weft__deadline d;
    if (weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    if (!weft_lock_locked(c->lock))
        return EPERM;
    return cond_wait_deadline(c, &d);
}

int weft_cond_wait_for(weft_cond *c, bool (*pred)(void *), void *ctx, double timeout)
{
    weft__deadline d;
    if (pred == NULL || weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    if (!weft_lock_locked(c->lock))
        return EPERM;
    while (!pred(ctx)) {
        if (cond_wait_deadline(c, &d) == ETIMEDOUT || weft__deadline_passed(&d))
            return pred(ctx) ? 0 : ETIMEDOUT;
    }
    return 0;
}

static int cond_notify(weft_cond *c, int n)
{
    if (!weft_lock_locked(c->lock))
        return EPERM;
    if (atomic_load_explicit(&c->waiters, memory_order_relaxed) == 0)
        return 0;
    atomic_fetch_add_explicit(&c->seq, 1, memory_order_relaxed);
    weft__futex_wake(&c->seq, n);
    return 0;
}

int weft_cond_notify(weft_cond *c, size_t n)
{
    if (n == 0)
        return weft_lock_locked(c->lock) ? 0 : EPERM;
    return cond_notify(c, n > INT32_MAX ? INT32_MAX : (int)n);
}

int weft_cond_notify_all(weft_cond *c)
{
    return cond_notify(c, INT32_MAX);
}
