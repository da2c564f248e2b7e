/* sched/deque.c: the Chase-Lev work-stealing deque: growth, steal,
 * reclamation. The owner's push and pop are inline in deque.h.
 *
 * Design note. The algorithm, its source, the invariants I1-I7 and why push,
 * pop, steal and their fences are correct: deque.h. What follows covers the
 * code in this file.
 *
 * Growing and reclamation. When push finds the buffer full (after re-reading
 * top, see weft__deque_reserve) it allocates one twice as large, copies
 * [top, bottom) into it, sets the owner's copies of its slots and mask (I7),
 * publishes it with a release store (a thief that reads the new pointer with
 * acquire sees the copies) and retires the old one with urcu_qsbr_call_rcu. A
 * thief may have loaded the old pointer just before the swap and still be
 * reading a slot of it; by I5 what it reads there is what the new buffer
 * holds, so it is still a correct item to claim with the CAS. The old buffer
 * is freed only after a QSBR grace period: every registered thread has
 * passed through a quiescent state or been offline after the call_rcu. The
 * contract (deque.h) puts every thief online for the whole of steal and
 * forbids a quiescent state inside it, so any steal that could have loaded
 * the old pointer has returned before the grace period ends, and no buffer
 * pointer escapes a call. The owner's copies never point into a retired
 * buffer: grow replaces them before it retires the old one.
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

#include "thread/fork.h"

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
static_assert(sizeof(weft__deque) == 4 * WEFT_CACHELINE, "two lines for top, two for the owner's fields");

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

_Atomic uint64_t weft__deque_buffers_reclaimed;

/* call_rcu callback, on liburcu's call_rcu thread after a grace period. */
static void buf_reclaim(struct rcu_head *head)
{
    struct weft__deque_buf *a = caa_container_of(head, struct weft__deque_buf, rcu);
    tsan_acquire(a);
    free(a);
    atomic_fetch_add_explicit(&weft__deque_buffers_reclaimed, 1, memory_order_relaxed);
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
    dq->slots = a->slots;
    dq->mask = (int64_t)a->mask;
    dq->top_seen = 0;
    return 0;
}

void weft__deque_deinit(weft__deque *dq)
{
    free(atomic_load_explicit(&dq->buf, memory_order_relaxed));
}

/* Owner only: replace the full live buffer, holding [t, b), by one twice
 * its size. 0, or ENOMEM (nothing changed). */
static int grow(weft__deque *dq, int64_t t, int64_t b)
{
    struct weft__deque_buf *old = atomic_load_explicit(&dq->buf, memory_order_relaxed);
    size_t capacity = old->mask + 1;
    if (capacity > (size_t)INT64_MAX / 2) /* the owner's copy of the mask is an int64_t */
        return ENOMEM;
    struct weft__deque_buf *a = buf_alloc(2 * capacity);
    if (a == NULL)
        return ENOMEM;
    for (int64_t i = t; i < b; i++)
        atomic_store_explicit(slot(a, i), atomic_load_explicit(slot(old, i), memory_order_relaxed),
                              memory_order_relaxed);
    dq->slots = a->slots;
    dq->mask = (int64_t)a->mask;
    /* release: the copies and a->mask before the pointer; pairs with the
     * acquire load of buf in steal (and push's later release of bottom). */
    atomic_store_explicit(&dq->buf, a, memory_order_release);
    tsan_release(old);
    weft__rcu_call(&old->rcu, buf_reclaim); /* not while forking: thread/fork.h */
    return 0;
}

int weft__deque_reserve(weft__deque *dq, int64_t b)
{
    /* acquire: pairs with the seq_cst CAS on top in steal/pop (the head of
     * the release sequence of every later CAS), so a thief's read of slot i
     * happens before push overwrites that slot for item i + capacity (push
     * in deque.h's design note). */
    int64_t t = atomic_load_explicit(&dq->top, memory_order_acquire);
    dq->top_seen = t;
    if (b - t > dq->mask)
        return grow(dq, t, b);
    return 0;
}

void *weft__deque_steal(weft__deque *dq)
{
    /* acquire: pairs with the seq_cst CAS (steal or pop) that wrote t, which
     * thereby precedes our fence in S (the fence argument in deque.h's
     * design note). */
    int64_t t = atomic_load_explicit(&dq->top, memory_order_acquire);
    /* seq_cst fence: the top load above before the bottom load below; pairs
     * with the fence in pop. */
    weft__fence_seq_cst();
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
     * our slot read before push's reuse of the slot (the acquire of top in
     * weft__deque_reserve). */
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
