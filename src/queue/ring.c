/* queue/ring.c: bounded MPMC ring of pointers with per-slot sequence numbers.
 *
 * Design note. Dmitry Vyukov's "Bounded MPMC queue" (1024cores.net, 2010),
 * generalised to any capacity by leaving gaps in the position numbering
 * (ring.h: a position is lap << shift | index).
 *
 * State: head (next position to push), tail (next position to pop), and per
 * slot a sequence number seq that names the one operation allowed next:
 *   seq == p       the producer of position p may fill the slot;
 *   seq == p + 1   the consumer of position p may empty it;
 * and after emptying, the consumer sets seq = p + L (L = 2^shift, the lap
 * size), which is the "fill" value for the same index one lap later.
 * L >= 2, so the "empty me" value p + 1 is never a valid "fill" value.
 *
 * push: read head = p; look at slot(p).seq:
 *   == p        the slot is free: CAS head p -> next(p) claims it; write the
 *               item; store seq = p + 1 (release) publishes it;
 *   <  p        the slot still holds (or is being emptied of) the item of
 *               position p - L: the ring is full at p: EAGAIN;
 *   >  p        another producer claimed p already: re-read head.
 * pop is the mirror image with tail, expecting seq == p + 1 and storing
 * p + L; seq < p + 1 means the item of p is not there yet: EAGAIN.
 *
 * Invariants: head and tail only grow; tail <= head; a position is claimed by
 * exactly one producer (the CAS on head) and one consumer (the CAS on tail);
 * slot(p) changes only in the order fill(p), empty(p), fill(p + L), ...,
 * because each step is enabled only by the seq value the previous step
 * stored. Positions are 64-bit and never wrap (bit 63 is reserved for the
 * queue's "closed" flag, 2^63 operations away), so there is no ABA on seq.
 *
 * Linearizability. A successful push linearizes at its CAS on head, a
 * successful pop at its CAS on tail. Pops claim positions in increasing
 * order and the pop of p returns the item of the push of p, whose CAS came
 * earlier (the pop only starts once seq == p + 1, stored after it): the
 * successful operations form a FIFO history consistent with real time. A
 * failed operation is linearizable when it reflects the counters: EAGAIN from
 * push because nobody has claimed the pop of the slot's previous position
 * (then cap positions are pushed and not popped: full), EAGAIN from pop
 * because nobody has claimed the push of p (empty). It is spurious when it
 * meets a thread stalled between its CAS and its seq store (see below): that
 * EAGAIN is not linearizable.
 *
 * Progress under preemption. The ring is not lock-free in the strict sense:
 * a producer preempted after its CAS and before its seq store leaves slot(p)
 * half-claimed; every pop of p returns EAGAIN until it resumes, even if items
 * of later positions are ready, because FIFO order forbids skipping p. A
 * consumer preempted likewise blocks pushes at p + L. Operations never wait
 * for it (they return EAGAIN); the queue built on the ring parks its threads
 * on an eventcount and the stalled thread notifies when it resumes.
 *
 * Memory order. head/tail CASes are relaxed: they only hand out positions;
 * the data travels through seq. seq stores are release and seq loads acquire:
 * a consumer's acquire of seq == p + 1 pairs with the producer's release, so
 * the item write happens-before the item read; a producer's acquire of
 * seq == p pairs with the consumer's release of p (one lap earlier), so the
 * old item was read before it is overwritten.
 */
#include "queue/ring.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static_assert(offsetof(struct weft_ring, head) == 2 * WEFT_CACHELINE, "head on its own line pair");
static_assert(offsetof(struct weft_ring, tail) == 4 * WEFT_CACHELINE, "tail on its own line pair");
static_assert(sizeof(struct weft_ring) == 6 * WEFT_CACHELINE, "ring padded to whole line pairs");
static_assert(sizeof(weft__ring_slot) == 16, "slot is 16 bytes (documented in weft/queue.h)");
static_assert(sizeof(void *) <= sizeof(uint64_t), "positions are at least pointer-sized");

/* The position after pos: the next index, or index 0 of the next lap. */
static inline uint64_t ring_next(const weft_ring *r, uint64_t pos)
{
    if ((pos & r->mask) + 1 < r->cap)
        return pos + 1;
    return (pos | r->mask) + 1;
}

int weft__ring_init(weft_ring *r, size_t cap)
{
    if (cap == 0 || cap > WEFT__RING_MAX_CAPACITY)
        return EINVAL;
    unsigned shift = 1;
    while (((uint64_t)1 << shift) < cap)
        shift++;
    size_t bytes = cap * sizeof(weft__ring_slot);
    bytes = (bytes + WEFT_CACHELINE - 1) / WEFT_CACHELINE * WEFT_CACHELINE;
    weft__ring_slot *slots = aligned_alloc(WEFT_CACHELINE, bytes);
    if (slots == NULL)
        return ENOMEM;
    memset(r, 0, sizeof(*r));
    r->slots = slots;
    r->shift = shift;
    r->mask = ((uint64_t)1 << shift) - 1;
    r->cap = cap;
    for (size_t i = 0; i < cap; i++) {
        atomic_init(&slots[i].seq, (uint64_t)i);
        slots[i].item = NULL;
    }
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void weft__ring_deinit(weft_ring *r)
{
    free(r->slots);
    r->slots = NULL;
}

int weft__ring_push(weft_ring *r, void *item)
{
    uint64_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);
    weft__ring_slot *s;
    for (;;) {
        if (WEFT_UNLIKELY(pos & WEFT__RING_CLOSED))
            return ESHUTDOWN;
        s = &r->slots[pos & r->mask];
        /* acquire: pairs with the release store of seq by the consumer that
         * emptied this slot a lap ago, so its read of the old item is done. */
        uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - pos);
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&r->head, &pos, ring_next(r, pos),
                                                      memory_order_relaxed, memory_order_relaxed))
                break;
        } else if (dif < 0) {
            return EAGAIN;
        } else {
            pos = atomic_load_explicit(&r->head, memory_order_relaxed);
        }
    }
    s->item = item;
    /* release: publishes the item to the acquire load of seq by the consumer
     * of this position (weft__ring_pop). */
    atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
    return 0;
}

int weft__ring_pop(weft_ring *r, void **item)
{
    uint64_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
    weft__ring_slot *s;
    for (;;) {
        s = &r->slots[pos & r->mask];
        /* acquire: pairs with the release store of seq = pos + 1 by the
         * producer of this position, making its item write visible. */
        uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - (pos + 1));
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&r->tail, &pos, ring_next(r, pos),
                                                      memory_order_relaxed, memory_order_relaxed))
                break;
        } else if (dif < 0) {
            return EAGAIN;
        } else {
            pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
        }
    }
    void *v = s->item;
    /* release: our read of the item happens-before the next lap's producer
     * overwrites it (its acquire load of seq in weft__ring_push). */
    atomic_store_explicit(&s->seq, pos + r->mask + 1, memory_order_release);
    if (item != NULL)
        *item = v;
    return 0;
}

uint64_t weft__ring_close(weft_ring *r)
{
    /* seq_cst: the closing flag is ordered before the caller's wake-ups of
     * parked threads (and their seq_cst fences in weft__ec_notify). */
    uint64_t old = atomic_fetch_or_explicit(&r->head, WEFT__RING_CLOSED, memory_order_seq_cst);
    return old & ~WEFT__RING_CLOSED;
}

uint64_t weft__ring_count(const weft_ring *r, uint64_t pos)
{
    pos &= ~WEFT__RING_CLOSED;
    return (pos >> r->shift) * r->cap + (pos & r->mask);
}

/* ---- public face ---------------------------------------------------------- */

int weft_ring_create(weft_ring **out, size_t capacity)
{
    if (out == NULL || capacity == 0 || capacity > WEFT__RING_MAX_CAPACITY)
        return EINVAL;
    size_t cap = 1;
    while (cap < capacity)
        cap <<= 1;
    weft_ring *r = aligned_alloc(WEFT_CACHELINE, sizeof(*r));
    if (r == NULL)
        return ENOMEM;
    int rc = weft__ring_init(r, cap);
    if (rc != 0) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void weft_ring_destroy(weft_ring *r)
{
    if (r == NULL)
        return;
    weft__ring_deinit(r);
    free(r);
}

int weft_ring_try_push(weft_ring *r, void *item)
{
    if (r == NULL)
        return EINVAL;
    return weft__ring_push(r, item);
}

int weft_ring_try_pop(weft_ring *r, void **item)
{
    if (r == NULL)
        return EINVAL;
    return weft__ring_pop(r, item);
}

size_t weft_ring_capacity(const weft_ring *r)
{
    return r != NULL ? (size_t)r->cap : 0;
}

size_t weft_ring_size(const weft_ring *r)
{
    if (r == NULL)
        return 0;
    /* Two unordered relaxed reads of counters that only grow: the difference
     * may be momentarily below 0 or above cap, so clamp it. */
    uint64_t t = weft__ring_count(r, atomic_load_explicit(&((weft_ring *)r)->tail, memory_order_relaxed));
    uint64_t h = weft__ring_count(r, atomic_load_explicit(&((weft_ring *)r)->head, memory_order_relaxed));
    if (h <= t)
        return 0;
    return h - t > r->cap ? (size_t)r->cap : (size_t)(h - t);
}
