/* queue/queue_list.c: the list container of the lockfree backend: the
 * unbounded FIFO.
 *
 * Design note. Vyukov's intrusive MPSC list (liburcu's wfcqueue is the same
 * algorithm): put claims a ticket (CAS on list_puts, whose bit 63 is the
 * closed flag, as for the ring), then exchanges list_tail and links the old
 * tail to its node (release). Gets take cons_lock, follow head->next
 * (acquire) and free the old stub. Between a put's exchange and its link the
 * list looks empty to gets: the same late-slot window as the ring's, and
 * the closed flag in the ticket counter lets a get tell "drained"
 * (ESHUTDOWN) from "a put in flight" (WEFT__QUEUE_IN_FLIGHT).
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "queue/queue_impl.h"

static int list_init(weft_queue *q, const weft_queue_options *o)
{
    (void)o;
    weft__qnode *stub = malloc(sizeof(*stub));
    if (stub == NULL)
        return ENOMEM;
    atomic_init(&stub->next, NULL);
    stub->item = NULL;
    q->list_head = stub;
    atomic_init(&q->list_tail, stub);
    atomic_init(&q->list_puts, 0);
    atomic_init(&q->list_gets, 0);
    weft_lock_init(&q->cons_lock);
    return 0;
}

static int list_try_put(weft_queue *q, void *item)
{
    uint64_t t = atomic_load_explicit(&q->list_puts, memory_order_relaxed);
    if (t & WEFT__RING_CLOSED)
        return ESHUTDOWN;
    weft__qnode *n = malloc(sizeof(*n));
    if (n == NULL)
        return ENOMEM;
    do {
        if (t & WEFT__RING_CLOSED) {
            free(n);
            return ESHUTDOWN;
        }
    } while (!atomic_compare_exchange_weak_explicit(&q->list_puts, &t, t + 1, memory_order_relaxed,
                                                    memory_order_relaxed));
    n->item = item;
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    /* acq_rel: release publishes n->next = NULL to the next producer, which
     * links to n after its own exchange (acquire) returns n. */
    weft__qnode *prev = atomic_exchange_explicit(&q->list_tail, n, memory_order_acq_rel);
    /* release: publishes n->item to the getter's acquire load of prev->next
     * in list_try_get. */
    atomic_store_explicit(&prev->next, n, memory_order_release);
    return 0;
}

static int list_try_get(weft_queue *q, void **item)
{
    weft_lock_acquire(&q->cons_lock, WEFT_FOREVER);
    weft__qnode *stub = q->list_head;
    /* acquire: pairs with the release link in list_try_put, so the node's
     * item is visible. */
    weft__qnode *next = atomic_load_explicit(&stub->next, memory_order_acquire);
    uint64_t gets = atomic_load_explicit(&q->list_gets, memory_order_relaxed);
    if (next != NULL) {
        void *v = next->item;
        q->list_head = next;
        atomic_store_explicit(&q->list_gets, gets + 1, memory_order_relaxed);
        weft_lock_release(&q->cons_lock);
        free(stub);
        if (item != NULL)
            *item = v;
        return 0;
    }
    weft_lock_release(&q->cons_lock);
    uint64_t p = atomic_load_explicit(&q->list_puts, memory_order_relaxed);
    if (!(p & WEFT__RING_CLOSED))
        return EAGAIN;
    return gets == (p & ~WEFT__RING_CLOSED) ? ESHUTDOWN : WEFT__QUEUE_IN_FLIGHT;
}

static void list_deinit(weft_queue *q)
{
    void *v;
    while (list_try_get(q, &v) == 0)
        if (q->drop != NULL)
            q->drop(v);
    free(q->list_head);
}

static uint64_t list_puts(const weft_queue *q)
{
    return atomic_load_explicit(&((weft_queue *)q)->list_puts, memory_order_relaxed) & ~WEFT__RING_CLOSED;
}

static size_t list_size(const weft_queue *q)
{
    /* gets first: both only grow, a later puts read is at least as new; an
     * in-flight put counts as an item, as it will land. */
    uint64_t g = atomic_load_explicit(&((weft_queue *)q)->list_gets, memory_order_relaxed);
    uint64_t p = list_puts(q);
    return p > g ? (size_t)(p - g) : 0;
}

static void list_close(weft_queue *q, bool immediate, void (*discard)(weft_queue *q, void *item))
{
    /* seq_cst: the closed flag is ordered before the wake-ups that follow
     * (their fences in weft__lot_notify) and is seen by a parked thread's
     * re-attempt. */
    uint64_t frozen =
        atomic_fetch_or_explicit(&q->list_puts, WEFT__RING_CLOSED, memory_order_seq_cst) & ~WEFT__RING_CLOSED;
    void *v;
    while (immediate && atomic_load_explicit(&q->list_gets, memory_order_relaxed) != frozen) {
        if (list_try_get(q, &v) == 0)
            discard(q, v);
        else
            sched_yield(); /* a put in flight: it lands within a few instructions */
    }
}

const weft__queue_container weft__queue_list = {
    .init = list_init,
    .deinit = list_deinit,
    .try_put = list_try_put,
    .try_get = list_try_get,
    .puts = list_puts,
    .size = list_size,
    .close = list_close,
    .late_slots = true,
};
