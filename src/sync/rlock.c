/* sync/rlock.c: weft_rlock, a re-entrant lock.
 *
 * Design note. A weft_lock plus an owner token and a nesting count, as
 * Python's RLock. Only the owner reads or writes `count`, and only the owner
 * stores its own token into `owner` (after acquiring the inner lock) or clears
 * it (before releasing the inner lock), so:
 *   - a thread that reads its own token in `owner` is the owner: no other
 *     thread can store this thread's token;
 *   - a thread that reads another token or 0 is not the owner, whatever the
 *     race, because only it could have stored its own token.
 * Hence `owner` needs only relaxed accesses: the inner lock orders everything
 * else. Fairness is the inner lock's (barging).
 */
#include "weft/sync.h"

#include "diag/diag_impl.h"
#include "internal/atomics.h"
#include "sync/rlock_impl.h"

void weft_rlock_init(weft_rlock *l)
{
    if (l == NULL)
        return;
    weft_lock_init(&l->lock);
    atomic_init(&l->owner, 0);
    l->count = 0;
}

bool weft_rlock_is_owned(const weft_rlock *l)
{
    return l != NULL && atomic_load_explicit(&((weft_rlock *)l)->owner, memory_order_relaxed) == weft__self_token();
}

int weft_rlock_acquire(weft_rlock *l, double timeout)
{
    WEFT__DIAG_SCOPE(blk);
    if (l == NULL || isnan(timeout))
        return EINVAL;
    uintptr_t self = weft__self_token();
    if (atomic_load_explicit(&l->owner, memory_order_relaxed) == self) {
        if (l->count == UINT32_MAX)
            return EOVERFLOW;
        l->count++;
        return 0;
    }
    uintptr_t site = (uintptr_t)__builtin_return_address(0);
    bool lockdep = weft__lockdep_on();
    if (lockdep)
        weft__lockdep_will_acquire(l, WEFT__OBJ_RLOCK, site, !(timeout > 0));
    /* Try first, so that only a wait that may sleep is recorded for the dump. */
    int rc = weft_lock_acquire(&l->lock, 0);
    if (rc == EAGAIN && timeout > 0) {
        weft__diag_scope_begin(&blk, "weft_rlock_acquire", l, WEFT__OBJ_RLOCK);
        rc = weft_lock_acquire(&l->lock, timeout);
    }
    if (rc != 0)
        return rc;
    atomic_store_explicit(&l->owner, self, memory_order_relaxed);
    l->count = 1;
    if (lockdep)
        weft__lockdep_acquired(l, WEFT__OBJ_RLOCK, site);
    return 0;
}

int weft_rlock_release(weft_rlock *l)
{
    if (l == NULL)
        return EINVAL;
    if (atomic_load_explicit(&l->owner, memory_order_relaxed) != weft__self_token())
        return EPERM;
    if (--l->count == 0) {
        if (weft__lockdep_on())
            weft__lockdep_released(l);
        atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
        weft_lock_release(&l->lock);
    }
    return 0;
}

bool weft_rlock_locked(const weft_rlock *l)
{
    return l != NULL && weft_lock_locked(&l->lock);
}

uint32_t weft__rlock_release_all(weft_rlock *l)
{
    uint32_t levels = l->count;
    l->count = 0;
    atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
    weft_lock_release(&l->lock);
    return levels;
}

void weft__rlock_acquire_levels(weft_rlock *l, uint32_t levels)
{
    weft_lock_acquire(&l->lock, WEFT_FOREVER);
    atomic_store_explicit(&l->owner, weft__self_token(), memory_order_relaxed);
    l->count = levels;
}
