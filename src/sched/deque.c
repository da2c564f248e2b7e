/* sched/deque.c: the Chase-Lev work-stealing deque.
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
 * the buffer pointer is written as acquire, which is what compilers emit.
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
 *
 * Why each operation is correct.
 *  push: the owner alone writes slot bottom & mask, then publishes it with the
 *    release store of bottom; a thief that reads that bottom (acquire) sees
 *    the item. The slot cannot hold an item still takeable: by I3 the slot's
 *    previous occupant has index bottom - capacity < top, and push read top
 *    with acquire, so the CAS that moved top past that index (and the slot
 *    read before it) happened before the overwrite: the thief that read the
 *    old value wins its CAS, any later reader fails its CAS (top moved on).
 *  pop: decrements bottom, full fence, then reads top. If top < new bottom,
 *    at least two items remain and no thief can claim the one at bottom: a
 *    thief takes index t only if it saw bottom > t, and the fences (below)
 *    forbid it to miss our decrement while we miss its view of top. If
 *    top == new bottom, exactly one item remains and the owner and the
 *    thieves race for it with a CAS on top from that value: exactly one CAS
 *    succeeds. If top > new bottom the deque was empty.
 *  steal: reads top, full fence, reads bottom; if top < bottom it reads the
 *    item and claims it with CAS top -> top + 1. A failed CAS means someone
 *    else took that index (or the owner took the last item): RETRY. The value
 *    read may be stale only if top moved on, in which case the CAS fails.
 *  The fences. pop does [store bottom; fence; load top] and steal does [load
 *    top; fence; load bottom]. Let the fences be ordered in the single total
 *    order S. If pop's fence comes first, steal's load of bottom sees the
 *    decrement (or later). If steal's fence comes first, the CAS that wrote
 *    the top value steal read precedes steal's fence in S (steal read it with
 *    acquire, and the CAS is seq_cst), so pop's load of top sees that value
 *    or a later one. Either way the owner and a thief never both believe they
 *    alone own index bottom - 1: one of them sees the conflict and either
 *    backs off or races through the CAS.
 *
 * Growing and reclamation. When push finds the buffer full it allocates one
 * twice as large, copies [top, bottom) into it, publishes it with a release
 * store (a thief that reads the new pointer with acquire sees the copies)
 * and retires the old one with urcu_qsbr_call_rcu. A thief may have loaded
 * the old pointer just before the swap and still be reading a slot of it;
 * by I5 what it reads there is what the new buffer holds, so it is still a
 * correct item to claim with the CAS. The old buffer is freed only after a
 * QSBR grace period: every registered thread has passed through a quiescent
 * state or been offline after the call_rcu. The contract (deque.h) puts
 * every thief online for the whole of steal and forbids a quiescent state
 * inside it, so any steal that could have loaded the old pointer has returned
 * before the grace period ends, and no buffer pointer escapes a call.
 *
 * ThreadSanitizer. liburcu is not instrumented: TSan cannot see that the
 * grace period orders a thief's reads of a retired buffer before the free()
 * in liburcu's call_rcu thread, and would report that free as racing with
 * them. We state the ordering QSBR provides with TSan annotations on the
 * buffer's address: each reader of a buffer does __tsan_release after its
 * last read of it, and the reclaim callback does __tsan_acquire before
 * free(). These annotations add no ordering of their own to the deque's
 * atomics (all of which TSan checks as usual); they only describe the
 * happens-before edge that the grace period guarantees.
 */
#include "sched/deque.h"

#include <assert.h>
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>

#include <urcu/urcu-qsbr.h>

#if defined(__SANITIZE_THREAD__)
#define DEQUE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DEQUE_TSAN 1
#endif
#endif

#ifdef DEQUE_TSAN
#include <sanitizer/tsan_interface.h>
#define tsan_release(addr) __tsan_release(addr)
#define tsan_acquire(addr) __tsan_acquire(addr)
#else
#define tsan_release(addr) ((void)(addr))
#define tsan_acquire(addr) ((void)(addr))
#endif

struct weft__deque_buf {
    struct rcu_head rcu; /* retirement through call_rcu */
    size_t mask;         /* capacity - 1; capacity is a power of two */
    _Atomic(void *) slots[];
};

static_assert(sizeof(int64_t) == 8, "indices are 64-bit so that they never wrap (I4)");
static_assert(alignof(weft__deque) >= WEFT_CACHELINE, "top and bottom sit on their own cache lines");
static_assert(offsetof(weft__deque, bottom) - offsetof(weft__deque, top) >= 2 * WEFT_CACHELINE,
              "top and bottom are two cache lines apart (adjacent-line prefetch)");
static_assert(sizeof(weft__deque) % WEFT_CACHELINE == 0, "nothing else shares the owner's line");

/* A zeroed buffer of capacity slots (a power of two), or NULL. */
static struct weft__deque_buf *buf_alloc(size_t capacity)
{
    struct weft__deque_buf *a;
    if (capacity > (SIZE_MAX - sizeof(*a)) / sizeof(a->slots[0]))
        return NULL;
    a = calloc(1, sizeof(*a) + capacity * sizeof(a->slots[0]));
    if (a == NULL)
        return NULL;
    a->mask = capacity - 1;
    return a;
}

/* call_rcu callback, on liburcu's call_rcu thread after a grace period. */
static void buf_reclaim(struct rcu_head *head)
{
    struct weft__deque_buf *a = caa_container_of(head, struct weft__deque_buf, rcu);
    tsan_acquire(a);
    free(a);
}

static inline _Atomic(void *) *slot(struct weft__deque_buf *a, int64_t i)
{
    return &a->slots[(size_t)i & a->mask];
}

int weft__deque_init(weft__deque *dq, size_t capacity)
{
    if (capacity < 2 || (capacity & (capacity - 1)) != 0)
        return EINVAL;
    struct weft__deque_buf *a = buf_alloc(capacity);
    if (a == NULL)
        return ENOMEM;
    atomic_init(&dq->top, 0);
    atomic_init(&dq->bottom, 0);
    atomic_init(&dq->buf, a);
    return 0;
}

void weft__deque_deinit(weft__deque *dq)
{
    free(atomic_load_explicit(&dq->buf, memory_order_relaxed));
}

/* Owner only: replace the full buffer old, holding [t, b), by one twice its
 * size. Returns the new buffer, or NULL (nothing changed) when out of memory. */
static struct weft__deque_buf *grow(weft__deque *dq, struct weft__deque_buf *old, int64_t t, int64_t b)
{
    size_t capacity = old->mask + 1;
    if (capacity > SIZE_MAX / 2)
        return NULL;
    struct weft__deque_buf *a = buf_alloc(2 * capacity);
    if (a == NULL)
        return NULL;
    for (int64_t i = t; i < b; i++)
        atomic_store_explicit(slot(a, i), atomic_load_explicit(slot(old, i), memory_order_relaxed),
                              memory_order_relaxed);
    /* release: the copies and a->mask before the pointer; pairs with the
     * acquire load of buf in steal (and push's later release of bottom). */
    atomic_store_explicit(&dq->buf, a, memory_order_release);
    tsan_release(old);
    urcu_qsbr_call_rcu(&old->rcu, buf_reclaim);
    return a;
}

int weft__deque_push(weft__deque *dq, void *item)
{
    if (item == NULL || item == WEFT__DEQUE_RETRY)
        return EINVAL;
    int64_t b = atomic_load_explicit(&dq->bottom, memory_order_relaxed);
    /* acquire: pairs with the seq_cst CAS on top in steal/pop, so a thief's
     * read of slot i happens before we overwrite that slot for item
     * i + capacity (see push in the design note). */
    int64_t t = atomic_load_explicit(&dq->top, memory_order_acquire);
    struct weft__deque_buf *a = atomic_load_explicit(&dq->buf, memory_order_relaxed);
    if (b - t > (int64_t)a->mask) {
        a = grow(dq, a, t, b);
        if (a == NULL)
            return ENOMEM;
    }
    atomic_store_explicit(slot(a, b), item, memory_order_relaxed);
    /* release: the slot store (and any growth) before the new bottom; pairs
     * with the acquire load of bottom in steal. */
    atomic_store_explicit(&dq->bottom, b + 1, memory_order_release);
    return 0;
}

void *weft__deque_pop(weft__deque *dq)
{
    int64_t b = atomic_load_explicit(&dq->bottom, memory_order_relaxed) - 1;
    struct weft__deque_buf *a = atomic_load_explicit(&dq->buf, memory_order_relaxed);
    atomic_store_explicit(&dq->bottom, b, memory_order_relaxed);
    /* seq_cst fence: the bottom store above before the top load below;
     * pairs with the fence in steal (store-buffering: a thief that misses
     * this decrement is seen by the top load below). */
    atomic_thread_fence(memory_order_seq_cst);
    int64_t t = atomic_load_explicit(&dq->top, memory_order_relaxed);
    if (t > b) {
        atomic_store_explicit(&dq->bottom, b + 1, memory_order_relaxed);
        return NULL;
    }
    void *item = atomic_load_explicit(slot(a, b), memory_order_relaxed);
    if (t < b)
        return item;
    /* seq_cst CAS: the last item goes to whichever CAS from t comes first,
     * ours or a thief's CAS in steal. */
    if (!atomic_compare_exchange_strong_explicit(&dq->top, &t, t + 1, memory_order_seq_cst,
                                                 memory_order_relaxed))
        item = NULL;
    atomic_store_explicit(&dq->bottom, b + 1, memory_order_relaxed);
    return item;
}

void *weft__deque_steal(weft__deque *dq)
{
    /* acquire: pairs with the seq_cst CAS (steal or pop) that wrote t, which
     * thereby precedes our fence in S (the fence argument in the design
     * note). */
    int64_t t = atomic_load_explicit(&dq->top, memory_order_acquire);
    /* seq_cst fence: the top load above before the bottom load below; pairs
     * with the fence in pop. */
    atomic_thread_fence(memory_order_seq_cst);
    /* acquire: pairs with the release store of bottom in push, making the
     * item's slot (and a grown buffer) visible. */
    int64_t b = atomic_load_explicit(&dq->bottom, memory_order_acquire);
    if (t >= b)
        return NULL;
    /* acquire: pairs with the release store of buf in grow, making the copied
     * slots and the buffer's mask visible. */
    struct weft__deque_buf *a = atomic_load_explicit(&dq->buf, memory_order_acquire);
    void *item = atomic_load_explicit(slot(a, t), memory_order_relaxed);
    tsan_release(a);
    /* seq_cst CAS: claims index t against other thieves and the owner's pop
     * of the last item (pairs with the CAS in pop); as a release it orders
     * our slot read before push's reuse of the slot (push's acquire of top). */
    if (!atomic_compare_exchange_strong_explicit(&dq->top, &t, t + 1, memory_order_seq_cst,
                                                 memory_order_relaxed))
        return WEFT__DEQUE_RETRY;
    return item;
}

size_t weft__deque_size(const weft__deque *dq)
{
    int64_t b = atomic_load_explicit(&dq->bottom, memory_order_relaxed);
    int64_t t = atomic_load_explicit(&dq->top, memory_order_relaxed);
    return b > t ? (size_t)(b - t) : 0;
}
