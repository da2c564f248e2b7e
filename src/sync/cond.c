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
 * Over an RLock (weft_cond_init_rlock) the waiter must own it; it releases
 * every level at once (owner cleared, then the inner lock released, as
 * Python's _release_save) and restores the count after re-acquiring the
 * inner lock (_acquire_restore). seq is still read and bumped only under the
 * inner lock, so the argument above is unchanged.
 * seq wraps after 2^32 notifies; fooling a waiter would take exactly that
 * many between its lock release and its futex_wait, and would cost one late
 * wake-up (docs/DESIGN.md, "Counters that wrap"; tests/sync/test_wrap.c).
 */
#include <limits.h>

#include "weft/sync.h"

#include "diag/diag_impl.h"
#include "internal/atomics.h"
#include "sync/rlock_impl.h"

int weft_cond_init(weft_cond *c, weft_lock *lock)
{
    if (c == NULL || lock == NULL)
        return EINVAL;
    c->lock = lock;
    c->rlock = NULL;
    atomic_init(&c->seq, 0);
    atomic_init(&c->waiters, 0);
    return 0;
}

int weft_cond_init_rlock(weft_cond *c, weft_rlock *l)
{
    if (c == NULL || l == NULL)
        return EINVAL;
    c->lock = &l->lock;
    c->rlock = l;
    atomic_init(&c->seq, 0);
    atomic_init(&c->waiters, 0);
    return 0;
}

/* Whether the caller may wait or notify: it owns the RLock, or somebody holds
 * the Lock (a Lock has no owner to check). */
static bool held(const weft_cond *c)
{
    return c->rlock != NULL ? weft_rlock_is_owned(c->rlock) : weft_lock_locked(c->lock);
}

/* Release the lock for the sleep: a Lock once; an RLock at every level, the
 * count returned for relock (weft__rlock_release_all, rlock.c). */
static uint32_t unlock(weft_cond *c)
{
    if (c->rlock != NULL)
        return weft__rlock_release_all(c->rlock);
    weft_lock_release(c->lock);
    return 1;
}

static void relock(weft_cond *c, uint32_t levels)
{
    if (c->rlock != NULL)
        weft__rlock_acquire_levels(c->rlock, levels);
    else
        weft_lock_acquire(c->lock, WEFT_FOREVER);
}

/* site: the caller's call site, for lockdep (the wait re-acquires the lock). */
static int cond_wait_deadline(weft_cond *c, const weft__deadline *d, uintptr_t site)
{
    bool lockdep = weft__lockdep_on();
    atomic_fetch_add_explicit(&c->waiters, 1, memory_order_relaxed);
    uint32_t s = atomic_load_explicit(&c->seq, memory_order_relaxed);
    if (lockdep)
        weft__lockdep_released(c->lock);
    uint32_t levels = unlock(c);
    weft__diag_block_begin("weft_cond_wait", c, WEFT__OBJ_COND);
    int rc = weft__futex_wait(&c->seq, s, d);
    weft__diag_block_end();
    /* A wake-up (or a change of seq) may race with the deadline: report a
     * notification when seq moved, whatever the futex said. */
    if (rc == ETIMEDOUT && atomic_load_explicit(&c->seq, memory_order_relaxed) != s)
        rc = 0;
    weft__obj_kind kind = c->rlock != NULL ? WEFT__OBJ_RLOCK : WEFT__OBJ_LOCK;
    if (lockdep)
        weft__lockdep_will_acquire(c->lock, kind, site, false);
    relock(c, levels);
    if (lockdep)
        weft__lockdep_acquired(c->lock, kind, site);
    atomic_fetch_sub_explicit(&c->waiters, 1, memory_order_relaxed);
    return rc;
}

int weft_cond_wait(weft_cond *c, double timeout)
{
    weft__deadline d;
    if (c == NULL || weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    if (!held(c))
        return EPERM;
    return cond_wait_deadline(c, &d, (uintptr_t)__builtin_return_address(0));
}

int weft_cond_wait_for(weft_cond *c, bool (*pred)(void *), void *ctx, double timeout)
{
    weft__deadline d;
    if (c == NULL || pred == NULL || weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    if (!held(c))
        return EPERM;
    uintptr_t site = (uintptr_t)__builtin_return_address(0);
    while (!pred(ctx)) {
        if (cond_wait_deadline(c, &d, site) == ETIMEDOUT || weft__deadline_passed(&d))
            return pred(ctx) ? 0 : ETIMEDOUT;
    }
    return 0;
}

static int cond_notify(weft_cond *c, int n)
{
    if (!held(c))
        return EPERM;
    if (atomic_load_explicit(&c->waiters, memory_order_relaxed) == 0)
        return 0;
    atomic_fetch_add_explicit(&c->seq, 1, memory_order_relaxed);
    weft__futex_wake(&c->seq, n);
    return 0;
}

int weft_cond_notify(weft_cond *c, size_t n)
{
    if (c == NULL)
        return EINVAL;
    if (n == 0)
        return held(c) ? 0 : EPERM;
    return cond_notify(c, n > INT32_MAX ? INT32_MAX : (int)n);
}

int weft_cond_notify_all(weft_cond *c)
{
    if (c == NULL)
        return EINVAL;
    return cond_notify(c, INT32_MAX);
}
