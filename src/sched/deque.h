/* sched/deque.h: the Chase-Lev work-stealing deque under each pool worker.
 * Internal. The owner's push (without growth) and pop are inline here: they
 * are half of every fork-join spawn and join, and a call each was a large
 * part of the spawn cost. Growth, steal and reclamation live in deque.c.
 *
 * One owner thread pushes and pops at the bottom (LIFO, cache-warm work);
 * any number of thieves steal from the top (FIFO, the oldest work). The
 * buffer grows without bound: push never fails for lack of room, only for
 * lack of memory.
 *
 * Concurrency matrix ("ok": may run at the same time as the other call;
 * "no": must not):
 *
 *                 | push | pop | steal | size | init/deinit
 *   --------------+------+-----+-------+------+------------
 *   push (owner)  |  no  | no  |  ok   |  ok  |     no
 *   pop  (owner)  |  no  | no  |  ok   |  ok  |     no
 *   steal         |  ok  | ok  |  ok   |  ok  |     no
 *   size          |  ok  | ok  |  ok   |  ok  |     no
 *   init/deinit   |  no  | no  |  no   |  no  |     no
 *
 * push and pop belong to one owner thread at a time (they never run
 * concurrently with each other; ownership may pass between threads only
 * through a synchronization that orders the two owners, e.g. a mutex or a
 * thread join). steal and size may be called from any thread.
 *
 * QSBR contract (liburcu-qsbr). When push grows the buffer, the old buffer is
 * retired with urcu_qsbr_call_rcu because a thief may still be reading it.
 * Therefore every thread that calls push or steal:
 *   - is registered (urcu_qsbr_register_thread) and online while it calls them;
 *   - reports quiescent states (urcu_qsbr_quiescent_state) between tasks, never
 *     while it still uses a buffer pointer read inside a call (none escapes);
 *   - goes offline (urcu_qsbr_thread_offline) before it blocks and back online
 *     (urcu_qsbr_thread_online) after, so that it does not stall reclamation.
 * pop and size touch no retired buffer and need no registration, but the
 * owner pushes anyway. Retired buffers are freed by liburcu's call_rcu thread;
 * urcu_qsbr_barrier() waits for that (tests call it before exit so that
 * LeakSanitizer sees every buffer freed).
 *
 * Items are non-NULL pointers other than WEFT__DEQUE_RETRY (a precondition of
 * push, asserted, not checked at run time: the callers push task records).
 *
 * Design note.
 *
 * Algorithm and source. D. Chase and Y. Lev, "Dynamic Circular Work-Stealing
 * Deque" (SPAA 2005), in the C11 formulation and with the memory orders of
 * N. M. Lê, A. Pop, A. Cohen and F. Zappa Nardelli, "Correct and Efficient
 * Work-Stealing for Weak Memory Models" (PPoPP 2013), figure 1 (the version
 * they prove correct for C11). Departures: indices are signed 64-bit (the
 * paper's unsigned bottom - 1 wraps on an empty deque at index 0); push
 * publishes with a release store of bottom where the paper has a release
 * fence before a relaxed store (the same ordering here: the slot store, the
 * grown buffer and its copies all precede it in program order); "consume" on
 * the buffer pointer is written as acquire, which is what compilers emit;
 * push reads top only when a stale lower bound of it (top_seen) says the
 * buffer may be full, and the owner keeps private copies of the live
 * buffer's slots and mask, so that its fast paths load nothing that thieves
 * write except top in pop.
 *
 * State: top (oldest item), bottom (one past the newest), buf (a ring of
 * 2^k slots; item i lives in slot i & mask). The items are those at indices
 * [top, bottom). The owner pushes and pops at bottom; thieves take at top by
 * a CAS top -> top + 1.
 *
 * Invariants.
 *  I1. top never decreases (only CAS top -> top + 1 writes it).
 *  I2. bottom is written by the owner only; it decreases only inside pop
 *      (bottom - 1 before the fence), which restores it when it finds the
 *      deque empty or raced for the last item. Hence top <= bottom + 1, and
 *      top == bottom + 1 only transiently inside such a pop.
 *  I3. bottom - top <= capacity of the live buffer: push grows before it
 *      would overwrite a slot whose item a thief could still take.
 *  I4. 64-bit indices never wrap: at one push per nanosecond, 2^63 takes
 *      292 years.
 *  I5. A buffer is only ever written by the owner, and never again once it
 *      has been replaced; a replaced buffer holds, in [top, bottom) at the
 *      time of the swap, exactly what the new buffer holds.
 *  I6. top_seen <= top, and top_seen is 0 or a value of top that the owner
 *      read with acquire (by I1 every later value of top is >= it). Only
 *      weft__deque_reserve sets it: pop's read of top is relaxed and must
 *      not refresh it.
 *  I7. slots and mask are those of buf: init and grow set the three together,
 *      and only the owner reads the copies.
 *
 * Why each operation is correct.
 *  push: the owner alone writes slot bottom & mask, then publishes it with the
 *    release store of bottom; a thief that reads that bottom (acquire) sees
 *    the item. The slot cannot hold an item still takeable: push writes only
 *    when bottom - top_seen <= mask (else weft__deque_reserve re-reads top
 *    with acquire into top_seen, and grows if that is not enough), so the
 *    slot's previous occupant has index bottom - capacity < top_seen <= top
 *    (I6). The CAS that moved top past that index heads a release sequence
 *    (every later write of top is a CAS) that the acquire load of top_seen
 *    read from, so the CAS and the slot read before it happened before the
 *    overwrite: the thief that read the old value wins its CAS, any later
 *    reader fails its CAS (top moved on). By I6 a stale top_seen only makes
 *    push re-read top sooner than needed, never overwrite too early.
 *  pop: decrements bottom, full fence, then reads top. If top < new bottom,
 *    at least two items remain and no thief can claim the one at bottom: a
 *    thief takes index t only if it saw bottom > t, and the fences (below)
 *    forbid it to miss our decrement while we miss its view of top. If
 *    top == new bottom, exactly one item remains and the owner and the
 *    thieves race for it with a CAS on top from that value: exactly one CAS
 *    succeeds. If top > new bottom the deque was empty.
 *  steal (deque.c): reads top, full fence, reads bottom; if top < bottom it
 *    reads the item and claims it with CAS top -> top + 1. A failed CAS means
 *    someone else took that index (or the owner took the last item): RETRY.
 *    The value read may be stale only if top moved on, in which case the CAS
 *    fails.
 *  The fences. pop does [store bottom; fence; load top] and steal does [load
 *    top; fence; load bottom]. Let the fences be ordered in the single total
 *    order S. If pop's fence comes first, steal's load of bottom sees the
 *    decrement (or later). If steal's fence comes first, the CAS that wrote
 *    the top value steal read precedes steal's fence in S (steal read it with
 *    acquire, and the CAS is seq_cst), so pop's load of top sees that value
 *    or a later one. Either way the owner and a thief never both believe they
 *    alone own index bottom - 1: one of them sees the conflict and either
 *    backs off or races through the CAS.
 *  Growth and reclamation: deque.c.
 */
#ifndef WEFT_SCHED_DEQUE_H
#define WEFT_SCHED_DEQUE_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/atomics.h"
#include "weft/common.h"

/* What steal returns when it lost a race for the top item (to another thief
 * or to the owner's pop): the deque may well be non-empty; try again or try
 * another victim. */
#define WEFT__DEQUE_RETRY ((void *)1)

struct weft__deque_buf; /* a power-of-two ring of slots; private to deque.c */

/* Cache-line placement: top is written (CAS) by thieves and by the owner's
 * pop of the last item; everything else is written by the owner only. Each
 * group starts its own line, and each group is padded to two lines (the
 * adjacent-line prefetcher, see internal/atomics.h), so thieves hammering top
 * never invalidate the line the owner's push/pop fast path lives on.
 *
 * The struct is therefore WEFT_CACHELINE-aligned: when it is embedded in a
 * heap object, allocate that object with aligned_alloc/posix_memalign (malloc
 * only guarantees alignof(max_align_t)). */
typedef struct weft__deque {
    /* Index of the oldest item: only ever increases, by CAS. */
    WEFT_CACHE_ALIGNED _Atomic int64_t top;
    char pad_top_[2 * WEFT_CACHELINE - sizeof(_Atomic int64_t)];
    /* One past the newest item: written by the owner only. */
    WEFT_CACHE_ALIGNED _Atomic int64_t bottom;
    /* The live buffer: replaced by the owner only, when push grows it. */
    _Atomic(struct weft__deque_buf *) buf;
    /* Owner-only (thieves never touch them): buf's slots and capacity - 1
     * (I7), and a lower bound on top (I6). */
    _Atomic(void *) *slots;
    int64_t mask;
    int64_t top_seen;
    char pad_bottom_[2 * WEFT_CACHELINE - 3 * sizeof(int64_t) - 2 * sizeof(void *)];
} weft__deque;

/* capacity: the initial number of slots, a power of two >= 2. Returns 0,
 * EINVAL (capacity not a power of two, or < 2) or ENOMEM. */
int weft__deque_init(weft__deque *dq, size_t capacity);

/* No concurrent calls, and no thread may touch the deque afterwards. Frees
 * the live buffer; buffers retired earlier are freed by call_rcu. Items still
 * in the deque are dropped (they are the caller's). */
void weft__deque_deinit(weft__deque *dq);

/* Push's slow half (deque.c), when bottom - top_seen > mask: re-reads top
 * and grows the buffer if it is really full. 0 once slot b is free to write;
 * ENOMEM (nothing changed) if growing failed. */
int weft__deque_reserve(weft__deque *dq, int64_t b);

/* OWNER only. Pushes item at the bottom, doubling the buffer when full.
 * Precondition: item is neither NULL nor WEFT__DEQUE_RETRY (asserted).
 * Returns 0, or ENOMEM if growing failed (the item was not pushed and the
 * deque is unchanged). */
static inline int weft__deque_push(weft__deque *dq, void *item)
{
    assert(item != NULL && item != WEFT__DEQUE_RETRY);
    int64_t b = atomic_load_explicit(&dq->bottom, memory_order_relaxed);
    if (WEFT_UNLIKELY(b - dq->top_seen > dq->mask) && weft__deque_reserve(dq, b) != 0)
        return ENOMEM;
    atomic_store_explicit(&dq->slots[b & dq->mask], item, memory_order_relaxed);
    /* release: the slot store (and any growth) before the new bottom; pairs
     * with the acquire load of bottom in steal. */
    atomic_store_explicit(&dq->bottom, b + 1, memory_order_release);
    return 0;
}

/* OWNER only. Pops the newest item (LIFO end), or returns NULL when empty. */
static inline void *weft__deque_pop(weft__deque *dq)
{
    int64_t b = atomic_load_explicit(&dq->bottom, memory_order_relaxed) - 1;
    atomic_store_explicit(&dq->bottom, b, memory_order_relaxed);
    /* seq_cst fence: the bottom store above before the top load below;
     * pairs with the fence in steal (store-buffering: a thief that misses
     * this decrement is seen by the top load below). */
    weft__fence_seq_cst();
    int64_t t = atomic_load_explicit(&dq->top, memory_order_relaxed);
    if (t > b) {
        atomic_store_explicit(&dq->bottom, b + 1, memory_order_relaxed);
        return NULL;
    }
    void *item = atomic_load_explicit(&dq->slots[b & dq->mask], memory_order_relaxed);
    if (WEFT_LIKELY(t < b))
        return item;
    /* seq_cst CAS: the last item goes to whichever CAS from t comes first,
     * ours or a thief's CAS in steal. */
    if (!atomic_compare_exchange_strong_explicit(&dq->top, &t, t + 1, memory_order_seq_cst,
                                                 memory_order_relaxed))
        item = NULL;
    atomic_store_explicit(&dq->bottom, b + 1, memory_order_relaxed);
    return item;
}

/* Any registered thread. Steals the oldest item (FIFO end). Returns it, NULL
 * when the deque looked empty, or WEFT__DEQUE_RETRY when it lost a race. */
void *weft__deque_steal(weft__deque *dq);

/* Retired buffers freed so far, by every deque of the process (after their
 * grace period): for tests that check reclamation makes progress. */
extern _Atomic uint64_t weft__deque_buffers_reclaimed;

/* Any thread. The number of items at some recent instant (may be stale by
 * the time it returns): for heuristics and statistics only. */
size_t weft__deque_size(const weft__deque *dq);

#endif /* WEFT_SCHED_DEQUE_H */
