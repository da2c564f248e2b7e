/* queue/queue_locked.c: the locked container of the lockfree backend: LIFO
 * and PRIORITY (and nothing else), a store (store.c) under a weft_lock.
 *
 * Design note. Every attempt takes the lock, so there is no late-slot window:
 * an item is in the store exactly when its put has returned 0. count and puts
 * mirror store.n and the successful puts so that sizes and task accounting
 * read them without the lock. The lock is a leaf: it is never held while
 * another lock is taken or while sleeping (the blocking is the backend's,
 * outside it).
 */
#include <errno.h>
#include <stdint.h>

#include "queue/queue_impl.h"

static int locked_init(weft_queue *q, const weft_queue_options *o)
{
    weft_lock_init(&q->lock);
    weft__store_init(&q->store, o->kind, o->cmp);
    return 0;
}

static void locked_deinit(weft_queue *q)
{
    while (q->store.n > 0) {
        void *v = weft__store_pop(&q->store);
        if (q->drop != NULL)
            q->drop(v);
    }
    weft__store_deinit(&q->store);
}

static int locked_try_put(weft_queue *q, void *item)
{
    int rc;
    weft_lock_acquire(&q->lock, WEFT_FOREVER);
    if (atomic_load_explicit(&q->shut, memory_order_relaxed)) {
        rc = ESHUTDOWN;
    } else if (q->maxsize > 0 && q->store.n >= q->maxsize) {
        rc = EAGAIN;
    } else {
        rc = weft__store_push(&q->store, item);
        if (rc == 0) {
            atomic_store_explicit(&q->count, q->store.n, memory_order_relaxed);
            atomic_store_explicit(&q->puts, atomic_load_explicit(&q->puts, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
        }
    }
    weft_lock_release(&q->lock);
    return rc;
}

static int locked_try_get(weft_queue *q, void **item)
{
    int rc = 0;
    weft_lock_acquire(&q->lock, WEFT_FOREVER);
    if (q->store.n > 0) {
        void *v = weft__store_pop(&q->store);
        atomic_store_explicit(&q->count, q->store.n, memory_order_relaxed);
        if (item != NULL)
            *item = v;
    } else {
        rc = atomic_load_explicit(&q->shut, memory_order_relaxed) ? ESHUTDOWN : EAGAIN;
    }
    weft_lock_release(&q->lock);
    return rc;
}

static uint64_t locked_puts(const weft_queue *q)
{
    return atomic_load_explicit(&((weft_queue *)q)->puts, memory_order_relaxed);
}

static size_t locked_size(const weft_queue *q)
{
    return atomic_load_explicit(&((weft_queue *)q)->count, memory_order_relaxed);
}

static void locked_close(weft_queue *q, bool immediate, void (*discard)(weft_queue *q, void *item))
{
    weft_lock_acquire(&q->lock, WEFT_FOREVER);
    atomic_store_explicit(&q->shut, true, memory_order_relaxed);
    while (immediate && q->store.n > 0)
        discard(q, weft__store_pop(&q->store));
    atomic_store_explicit(&q->count, q->store.n, memory_order_relaxed);
    weft_lock_release(&q->lock);
}

const weft__queue_container weft__queue_locked = {
    .init = locked_init,
    .deinit = locked_deinit,
    .try_put = locked_try_put,
    .try_get = locked_try_get,
    .puts = locked_puts,
    .size = locked_size,
    .close = locked_close,
    .late_slots = false,
};
