/* queue/ring.h: the ring's layout and the internal calls the queue builds on.
 * Internal. The public face is weft_ring_* in weft/queue.h; the algorithm and
 * its correctness argument are in ring.c.
 *
 * Positions. A position is (lap << shift) | index, with index < cap and
 * 2^shift >= max(cap, 2): positions are not consecutive integers when cap is
 * not a power of two (the queue sizes its ring exactly maxsize), the step
 * after the last index jumps to index 0 of the next lap. Bit 63 of the
 * producers' counter is the "closed" flag (weft__ring_close); positions never
 * reach it (2^63 pushes).
 *
 * Which calls may run concurrently: as for weft_ring (weft/queue.h), plus
 * close and count, which may run concurrently with everything but init/deinit.
 */
#ifndef WEFT_QUEUE_RING_H
#define WEFT_QUEUE_RING_H

#include <stddef.h>
#include <stdint.h>

#include "internal/atomics.h"
#include "weft/queue.h"

#define WEFT__RING_MAX_CAPACITY ((size_t)1 << 31)
#define WEFT__RING_CLOSED ((uint64_t)1 << 63)

typedef struct weft__ring_slot {
    /* Whose turn: pos (a producer of position pos may fill it), pos + 1 (the
     * consumer of pos may empty it), and the consumer sets pos + lap size
     * (the producer of the next lap may fill it). */
    _Atomic uint64_t seq;
    void *item; /* written by the slot's producer, read by its consumer */
} weft__ring_slot;

/* Cache-line placement: the read-only geometry shares nothing with the two
 * counters; head (written by producers) and tail (written by consumers) each
 * own 2 * WEFT_CACHELINE (the adjacent-line prefetcher pulls pairs). */
struct weft_ring {
    WEFT_CACHE_ALIGNED weft__ring_slot *slots;
    uint64_t mask;  /* 2^shift - 1: the index bits of a position */
    uint64_t cap;   /* slots in use: indices 0 .. cap - 1 */
    unsigned shift; /* log2 of the lap size */
    char pad0[2 * WEFT_CACHELINE - sizeof(void *) - 2 * sizeof(uint64_t) - sizeof(unsigned)];
    _Atomic uint64_t head; /* next position to push, | WEFT__RING_CLOSED */
    char pad1[2 * WEFT_CACHELINE - sizeof(uint64_t)];
    _Atomic uint64_t tail; /* next position to pop */
    char pad2[2 * WEFT_CACHELINE - sizeof(uint64_t)];
};

/* A ring of exactly cap slots (1 .. 2^31). EINVAL, ENOMEM. */
int weft__ring_init(weft_ring *r, size_t cap);
void weft__ring_deinit(weft_ring *r);
/* 0; EAGAIN when full; ESHUTDOWN once closed (the item was not pushed). */
int weft__ring_push(weft_ring *r, void *item);
/* 0; EAGAIN when empty (also when closed and empty). */
int weft__ring_pop(weft_ring *r, void **item);
/* Makes every later push fail with ESHUTDOWN. Returns the head position at
 * closing: exactly the pushes that claimed a position before it succeed. */
uint64_t weft__ring_close(weft_ring *r);
/* The number of positions from the start up to pos. */
uint64_t weft__ring_count(const weft_ring *r, uint64_t pos);

#endif /* WEFT_QUEUE_RING_H */
