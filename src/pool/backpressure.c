/* pool/backpressure.c: max_pending, the bound on tasks submitted from
 * outside a pool and not yet started, and weft_pool_pending.
 *
 * Design note.
 * Bounded pools (max_pending > 0). `pending` counts outside submissions that
 * hold a slot: a submitter takes a slot (a CAS from n < max to n + 1) before
 * it queues the record, and the record gives it back at the top of its exec,
 * i.e. when a worker starts it or anyone drops it (cancel, broken pool, the
 * shutdown drain). A submitter that finds no slot waits on the eventcount
 * `room` (sync/eventcount.h), with the condition "a slot is free, or the
 * pool is shut down or broken"; a giver notifies one waiter after its
 * decrement (a fence and a load when nobody waits: no RMW, no syscall), and
 * shutdown and break notify all. The eventcount's fences order the relaxed
 * accesses of `pending`, `shut` and `broken` on both sides (its proof is in
 * eventcount.c), so a waiter never sleeps through a freed slot or a shutdown.
 * Wake-ups are handed on: a waiter that leaves without a slot (timeout,
 * shutdown) while a slot is free notifies the next one, so a notify(1) that
 * woke a leaving thread is not lost to the others. The pool's own tasks
 * never take a slot and never wait (a task that blocked on room that only
 * its own pool's workers can make would deadlock with max_workers = 1).
 *
 * Unbounded pools. No shared counter on the submit path: a submitter
 * increments its stripe of `submitted` (striped by thread, as the
 * scheduler's own outside-spawn counter is), the worker that starts the task
 * increments its own `started` entry (single writer: a load and a store),
 * and a drop by a thread that is not a worker (the shutdown drain) adds to
 * `dropped_outside`. weft_pool_pending is the difference: each count is
 * exact, the sum a snapshot that may mix instants (clamped at 0).
 */
#include <stddef.h>

#include "pool/pool_impl.h"

int weft__pool_room_take(weft_pool *p, const weft__deadline *d)
{
    size_t max = p->max_pending;
    size_t n = atomic_load_explicit(&p->pending, memory_order_relaxed);
    for (;;) {
        while (n < max) {
            /* relaxed: the slot count orders nothing; the record itself is
             * published by the scheduler's queue. */
            if (atomic_compare_exchange_weak_explicit(&p->pending, &n, n + 1, memory_order_relaxed,
                                                      memory_order_relaxed))
                return 0;
        }
        if (d->expired)
            return EAGAIN;
        uint32_t key = weft__ec_prepare(&p->room);
        n = atomic_load_explicit(&p->pending, memory_order_relaxed);
        int rc = n < max ? 0 : weft__pool_admit(p, true);
        if (n < max || rc != 0) {
            weft__ec_cancel(&p->room);
        } else if (weft__ec_wait(&p->room, key, d) == ETIMEDOUT) {
            rc = ETIMEDOUT;
        } else {
            rc = weft__pool_admit(p, true);
        }
        n = atomic_load_explicit(&p->pending, memory_order_relaxed);
        if (rc != 0) {
            /* Hand a wake-up we may have taken to the next waiter. */
            if (n < max)
                weft__ec_notify(&p->room, 1);
            return rc;
        }
    }
}

void weft__pool_room_give(weft_pool *p)
{
    atomic_fetch_sub_explicit(&p->pending, 1, memory_order_relaxed);
    weft__ec_notify(&p->room, 1);
}

void weft__pool_room_wake_all(weft_pool *p)
{
    if (p->max_pending != 0)
        weft__ec_notify(&p->room, INT32_MAX);
}

void weft__pool_count_submit(weft_pool *p, int delta)
{
    size_t stripe = (weft__self_token() >> 6) % WEFT__STRIPES;
    atomic_fetch_add_explicit(&p->submitted[stripe].n, (uint64_t)(int64_t)delta, memory_order_relaxed);
}

void weft__pool_count_start(weft_pool *p)
{
    weft__worker *w = weft__tls_self;
    if (w != NULL && w->s == &p->sched) {
        weft__stat_inc(&p->started[w->index].n);
        return;
    }
    atomic_fetch_add_explicit(&p->dropped_outside, 1, memory_order_relaxed);
}

size_t weft_pool_pending(const weft_pool *p)
{
    if (p == NULL)
        return 0;
    if (p->max_pending != 0)
        return atomic_load_explicit(&p->pending, memory_order_relaxed);
    /* The starts first: a task is submitted before it starts, so reading
     * them first keeps the difference from going negative, mostly. */
    uint64_t in = 0, out = atomic_load_explicit(&p->dropped_outside, memory_order_relaxed);
    for (size_t i = 0; i < p->sched.nworkers; i++)
        out += atomic_load_explicit(&p->started[i].n, memory_order_relaxed);
    for (size_t i = 0; i < WEFT__STRIPES; i++)
        in += atomic_load_explicit(&p->submitted[i].n, memory_order_relaxed);
    return in > out ? (size_t)(in - out) : 0;
}
