/* queue/queue_ring.c: the ring container of the lockfree backend: the
 * bounded FIFO on the MPMC ring (ring.c), exact capacity.
 *
 * Design note. Shutdown sets the closed bit in the ring's head with one RMW
 * (weft__ring_close), so the successful puts are exactly the positions
 * claimed before it: a get returns ESHUTDOWN once tail reaches that frozen
 * head, and never strands an item whose put returned 0. A put that claimed
 * its position and has not stored its item yet makes the slot late: gets of
 * that slot see EAGAIN (or, once closed, WEFT__QUEUE_IN_FLIGHT) until it
 * lands (ring.c explains why successful operations still linearize).
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>

#include "queue/queue_impl.h"

static int ring_init(weft_queue *q, const weft_queue_options *o)
{
    return weft__ring_init(&q->ring, o->maxsize);
}

static void ring_deinit(weft_queue *q)
{
    void *v;
    while (weft__ring_pop(&q->ring, &v) == 0)
        if (q->drop != NULL)
            q->drop(v);
    weft__ring_deinit(&q->ring);
}

static int ring_try_put(weft_queue *q, void *item)
{
    return weft__ring_push(&q->ring, item);
}

static int ring_try_get(weft_queue *q, void **item)
{
    if (weft__ring_pop(&q->ring, item) == 0)
        return 0;
    uint64_t h = atomic_load_explicit(&q->ring.head, memory_order_relaxed);
    if (!(h & WEFT__RING_CLOSED))
        return EAGAIN;
    uint64_t t = atomic_load_explicit(&q->ring.tail, memory_order_relaxed);
    return t == (h & ~WEFT__RING_CLOSED) ? ESHUTDOWN : WEFT__QUEUE_IN_FLIGHT;
}

static uint64_t ring_puts(const weft_queue *q)
{
    return weft__ring_count(&q->ring, atomic_load_explicit(&((weft_queue *)q)->ring.head, memory_order_relaxed));
}

static size_t ring_size(const weft_queue *q)
{
    return weft_ring_size(&q->ring);
}

static void ring_close(weft_queue *q, bool immediate, void (*discard)(weft_queue *q, void *item))
{
    uint64_t frozen = weft__ring_close(&q->ring);
    void *v;
    while (immediate && atomic_load_explicit(&q->ring.tail, memory_order_relaxed) != frozen) {
        if (weft__ring_pop(&q->ring, &v) == 0)
            discard(q, v);
        else
            sched_yield(); /* a put in flight: it lands within a few instructions */
    }
}

const weft__queue_container weft__queue_ring = {
    .init = ring_init,
    .deinit = ring_deinit,
    .try_put = ring_try_put,
    .try_get = ring_try_get,
    .puts = ring_puts,
    .size = ring_size,
    .close = ring_close,
    .late_slots = true,
};
