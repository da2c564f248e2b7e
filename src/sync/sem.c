/* sync/sem.c: weft_sem, Semaphore and BoundedSemaphore.
 *
 * Design note. `value` (the futex word) counts available permits; `waiters`
 * counts threads that may sleep on it.
 *   acquire: CAS value v -> v-1 while v > 0 (no syscall, no shared write
 *            besides value). Otherwise waiters++ (seq_cst), re-check value
 *            (seq_cst), and sleep while value == 0; waiters-- after.
 *   release: CAS/fetch_add value += n (seq_cst); if waiters != 0 (seq_cst
 *            load), futex_wake(min(n, waiters)).
 * Why no wake-up is lost: a sleeper does [waiters++ ; load value == 0 ;
 * sleep while value == 0], a releaser does [value += n ; load waiters]. Both
 * are seq_cst, so they cannot both read the old value of the other's
 * variable: either the sleeper sees the permit and does not sleep (the kernel
 * re-checks value == 0 too), or the releaser sees the sleeper and wakes it.
 * A woken thread competes for the permit with newcomers (barging, sync.h); if
 * it loses it sleeps again, and the winner took a permit, so no permit is
 * wasted and no sleeper waits while a permit is free and it was woken for it.
 * Bounded: release refuses (EOVERFLOW) before changing anything when the
 * value would exceed the initial value, as Python's ValueError.
 */
#include <limits.h>

#include "weft/sync.h"

#include "diag/diag_impl.h"
#include "internal/atomics.h"

#define SEM_MAX (UINT32_MAX - 1)

int weft_sem_init(weft_sem *s, size_t n)
{
    if (s == NULL || n > SEM_MAX)
        return EINVAL;
    atomic_init(&s->value, (uint32_t)n);
    atomic_init(&s->waiters, 0);
    s->bound = 0;
    return 0;
}

int weft_sem_init_bounded(weft_sem *s, size_t n)
{
    if (s == NULL || n == 0 || n > SEM_MAX)
        return EINVAL;
    atomic_init(&s->value, (uint32_t)n);
    atomic_init(&s->waiters, 0);
    s->bound = (uint32_t)n;
    return 0;
}

static bool sem_try(weft_sem *s)
{
    uint32_t v = atomic_load_explicit(&s->value, memory_order_relaxed);
    while (v > 0) {
        /* acquire: pairs with the seq_cst release CAS in weft_sem_release, so
         * what the releaser did before releasing is visible to us. */
        if (atomic_compare_exchange_weak_explicit(&s->value, &v, v - 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return true;
    }
    return false;
}

int weft_sem_acquire(weft_sem *s, double timeout)
{
    WEFT__DIAG_SCOPE(blk);
    weft__deadline d;
    if (s == NULL || weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    if (sem_try(s))
        return 0;
    if (d.expired)
        return EAGAIN;
    for (;;) {
        /* seq_cst: sleeper half of the store-buffering pair; pairs with the
         * seq_cst value update + waiters load in weft_sem_release. */
        atomic_fetch_add_explicit(&s->waiters, 1, memory_order_seq_cst);
        /* seq_cst: re-check after announcing ourselves (see above). */
        uint32_t v = atomic_load_explicit(&s->value, memory_order_seq_cst);
        int rc = 0;
        if (v == 0) {
            weft__diag_scope_begin(&blk, "weft_sem_acquire", s, WEFT__OBJ_SEM);
            rc = weft__futex_wait(&s->value, 0, &d);
        }
        atomic_fetch_sub_explicit(&s->waiters, 1, memory_order_relaxed);
        if (sem_try(s))
            return 0;
        if (rc == ETIMEDOUT || weft__deadline_passed(&d))
            return ETIMEDOUT;
    }
}

int weft_sem_release(weft_sem *s, size_t n)
{
    if (s == NULL || n == 0)
        return EINVAL;
    uint32_t limit = s->bound != 0 ? s->bound : SEM_MAX;
    if (n > limit)
        return EOVERFLOW;
    uint32_t v = atomic_load_explicit(&s->value, memory_order_relaxed);
    do {
        if (v > limit - (uint32_t)n)
            return EOVERFLOW;
        /* seq_cst: releaser half of the store-buffering pair with the
         * waiters++ / value re-check in weft_sem_acquire; its release side also
         * pairs with the acquire CAS in sem_try. */
    } while (!atomic_compare_exchange_weak_explicit(&s->value, &v, v + (uint32_t)n, memory_order_seq_cst,
                                                    memory_order_relaxed));
    /* seq_cst: see the CAS above. */
    uint32_t w = atomic_load_explicit(&s->waiters, memory_order_seq_cst);
    if (w != 0)
        weft__futex_wake(&s->value, n < w ? (int)n : (int)(w > INT32_MAX ? INT32_MAX : w));
    return 0;
}

size_t weft_sem_value(const weft_sem *s)
{
    if (s == NULL)
        return 0;
    return atomic_load_explicit(&((weft_sem *)s)->value, memory_order_relaxed);
}
