/* sched/injector.c: a lock-free MPMC ring with an unbounded overflow list.
 *
 * Design note.
 * Outside submissions go to a bounded lock-free ring (queue/ring.h: Vyukov's
 * per-slot sequence numbers). When the ring is full the task goes to a
 * mutex-protected FIFO list linked through task->next, so a push never fails
 * for lack of room and the lock is taken only under overload.
 *
 * Order: while the overflow list is non-empty (overflow_len > 0, read
 * relaxed) new pushes go to it too, so nothing overtakes the overflowed
 * tasks; pops take the ring first (older) and fall back to the list once the
 * ring is empty. The relaxed read can race with the first overflow append,
 * which lets one push slip into the ring ahead of it: order among concurrent
 * submissions is not defined anyway, and no task can starve because the ring
 * drains while the list is in use.
 *
 * Close and "drained". weft__ring_close returns the head position at the
 * instant of closing: exactly the pushes that claimed a smaller position
 * succeed, but some may not have published their item yet. A ring pop that
 * finds such a half-written slot reports "empty", so emptiness is not the
 * exit test: drained waits until the consumers' tail reaches close_pos (a
 * slot is consumed only after it was published). The list is closed under
 * its lock, so a list push either appended before (and is counted in
 * overflow_len) or fails. close_pos and both closings happen before the
 * release store of `closed`, which drained reads with acquire.
 */
#include "sched/injector.h"

#include <errno.h>

int weft__injector_init(weft__injector *q)
{
    int rc = weft__ring_init(&q->ring, WEFT__INJECTOR_RING);
    if (rc != 0)
        return rc;
    q->close_pos = 0;
    weft_lock_init(&q->lock);
    atomic_init(&q->overflow_len, 0);
    q->head = q->tail = NULL;
    q->overflow_closed = false;
    atomic_init(&q->closed, false);
    return 0;
}

void weft__injector_deinit(weft__injector *q)
{
    weft__ring_deinit(&q->ring);
}

static void list_append(weft__injector *q, weft__task *t)
{
    t->next = NULL;
    if (q->tail != NULL)
        q->tail->next = t;
    else
        q->head = t;
    q->tail = t;
    atomic_store_explicit(&q->overflow_len, atomic_load_explicit(&q->overflow_len, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static int overflow_push(weft__injector *q, weft__task *t)
{
    (void)weft_lock_acquire(&q->lock, WEFT_FOREVER);
    if (q->overflow_closed) {
        (void)weft_lock_release(&q->lock);
        return ESHUTDOWN;
    }
    list_append(q, t);
    (void)weft_lock_release(&q->lock);
    return 0;
}

int weft__injector_push(weft__injector *q, weft__task *t)
{
    if (WEFT_LIKELY(atomic_load_explicit(&q->overflow_len, memory_order_relaxed) == 0)) {
        int rc = weft__ring_push(&q->ring, t);
        if (WEFT_LIKELY(rc != EAGAIN))
            return rc;
    }
    return overflow_push(q, t);
}

void weft__injector_push_forced(weft__injector *q, weft__task *t)
{
    (void)weft_lock_acquire(&q->lock, WEFT_FOREVER);
    list_append(q, t);
    (void)weft_lock_release(&q->lock);
}

weft__task *weft__injector_pop(weft__injector *q)
{
    void *item;
    if (weft__ring_pop(&q->ring, &item) == 0)
        return item;
    if (WEFT_LIKELY(atomic_load_explicit(&q->overflow_len, memory_order_relaxed) == 0))
        return NULL;
    (void)weft_lock_acquire(&q->lock, WEFT_FOREVER);
    weft__task *t = q->head;
    if (t != NULL) {
        q->head = t->next;
        if (q->head == NULL)
            q->tail = NULL;
        atomic_store_explicit(&q->overflow_len, atomic_load_explicit(&q->overflow_len, memory_order_relaxed) - 1,
                              memory_order_relaxed);
    }
    (void)weft_lock_release(&q->lock);
    return t;
}

void weft__injector_close(weft__injector *q)
{
    if (atomic_load_explicit(&q->closed, memory_order_relaxed))
        return;
    uint64_t pos = weft__ring_close(&q->ring);
    (void)weft_lock_acquire(&q->lock, WEFT_FOREVER);
    q->overflow_closed = true;
    (void)weft_lock_release(&q->lock);
    q->close_pos = pos;
    /* release: publishes close_pos (and the closed halves) to the acquire
     * load in weft__injector_drained on the workers. */
    atomic_store_explicit(&q->closed, true, memory_order_release);
}

bool weft__injector_maybe_nonempty(weft__injector *q)
{
    uint64_t head = atomic_load_explicit(&q->ring.head, memory_order_relaxed) & ~WEFT__RING_CLOSED;
    uint64_t tail = atomic_load_explicit(&q->ring.tail, memory_order_relaxed);
    return head != tail || atomic_load_explicit(&q->overflow_len, memory_order_relaxed) != 0;
}

bool weft__injector_drained(weft__injector *q)
{
    /* acquire: pairs with the release store in weft__injector_close, making
     * close_pos readable. */
    if (!atomic_load_explicit(&q->closed, memory_order_acquire))
        return false;
    if (atomic_load_explicit(&q->overflow_len, memory_order_relaxed) != 0)
        return false;
    uint64_t tail = atomic_load_explicit(&q->ring.tail, memory_order_relaxed);
    return weft__ring_count(&q->ring, tail) >= weft__ring_count(&q->ring, q->close_pos);
}
