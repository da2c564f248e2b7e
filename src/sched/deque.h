/* sched/deque.h: the Chase-Lev work-stealing deque under each pool worker.
 * Internal. Algorithm, memory orders and the reclamation argument: deque.c.
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
 *   - goes offline (urcu_qsbr_thread_offline) before blocking and back online
 *     (urcu_qsbr_thread_online) after, so that it does not stall reclamation.
 * pop and size touch no retired buffer and need no registration, but the
 * owner pushes anyway. Retired buffers are freed by liburcu's call_rcu thread;
 * urcu_qsbr_barrier() waits for that (tests call it before exit so that
 * LeakSanitizer sees every buffer freed).
 *
 * Items are non-NULL pointers other than WEFT__DEQUE_RETRY.
 */
#ifndef WEFT_SCHED_DEQUE_H
#define WEFT_SCHED_DEQUE_H

#include <stddef.h>
#include <stdint.h>

#include "internal/atomics.h"

/* What steal returns when it lost a race for the top item (to another thief
 * or to the owner's pop): the deque may well be non-empty; try again or try
 * another victim. */
#define WEFT__DEQUE_RETRY ((void *)1)

struct weft__deque_buf; /* a power-of-two ring of slots; private to deque.c */

/* Cache-line placement: top is written (CAS) by thieves and by the owner's
 * pop of the last item; bottom and buf are written by the owner only. Each
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
    char pad_bottom_[2 * WEFT_CACHELINE - sizeof(_Atomic int64_t) - sizeof(struct weft__deque_buf *)];
} weft__deque;

/* capacity: the initial number of slots, a power of two >= 2. Returns 0,
 * EINVAL (capacity not a power of two, or < 2) or ENOMEM. */
int weft__deque_init(weft__deque *dq, size_t capacity);

/* No concurrent calls, and no thread may touch the deque afterwards. Frees
 * the live buffer; buffers retired earlier are freed by call_rcu. Items still
 * in the deque are dropped (they are the caller's). */
void weft__deque_deinit(weft__deque *dq);

/* OWNER only. Pushes item at the bottom, doubling the buffer when full.
 * Returns 0; ENOMEM if growing failed (the item was not pushed and the deque
 * is unchanged); EINVAL if item is NULL or WEFT__DEQUE_RETRY. */
int weft__deque_push(weft__deque *dq, void *item);

/* OWNER only. Pops the newest item (LIFO end), or returns NULL when empty. */
void *weft__deque_pop(weft__deque *dq);

/* Any registered thread. Steals the oldest item (FIFO end). Returns it, NULL
 * when the deque looked empty, or WEFT__DEQUE_RETRY when it lost a race. */
void *weft__deque_steal(weft__deque *dq);

/* Any thread. The number of items at some recent instant (may be stale by
 * the time it returns): for heuristics and statistics only. */
size_t weft__deque_size(const weft__deque *dq);

#endif /* WEFT_SCHED_DEQUE_H */
