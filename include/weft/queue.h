/** @file
 * weft/queue.h: Python's queue module (Queue, LifoQueue, PriorityQueue) and
 * the lock-free MPMC ring under the bounded FIFO queue.
 *
 * Items are pointers (void *), NULL included; the queue never dereferences
 * them. Errors follow weft/common.h: 0 or a positive errno value.
 */
#ifndef WEFT_QUEUE_H
#define WEFT_QUEUE_H

#include "weft/common.h"

WEFT_BEGIN_DECLS

/* ---- weft_ring: bounded lock-free MPMC ring of pointers ------------------ */
/** Vyukov's bounded MPMC queue: an array of slots, each with a sequence number
 * that says whose turn the slot is (the producer's or the consumer's of which
 * lap); producers and consumers claim positions with one CAS each on their own
 * counter (head and tail live on separate, padded cache lines). Never blocks:
 * try_push/try_pop return EAGAIN instead of waiting. FIFO: items come out in
 * the order in which their pushes claimed positions. Design note: src/queue/ring.c.
 *
 * Which calls may run concurrently on the same ring:
 *
 *                  | try_push | try_pop | size | capacity | create/destroy
 *   try_push       |   yes    |   yes   | yes  |   yes    |      no
 *   try_pop        |   yes    |   yes   | yes  |   yes    |      no
 *   size, capacity |   yes    |   yes   | yes  |   yes    |      no
 *
 * Any number of producers and consumers (MPMC). destroy requires that no
 * other call is running or will run.
 *
 * Progress: not lock-free in the strict sense. A thread stalled (preempted)
 * between claiming a slot and publishing it makes that one slot late: a
 * stalled producer makes try_pop return EAGAIN at that slot (even when later
 * slots hold items) until it resumes; a stalled consumer makes try_push return
 * EAGAIN when producers come round to that slot again. No call spins or
 * blocks on the stalled thread, and other slots are unaffected until the
 * counters reach the late slot. So an EAGAIN may be spurious while another
 * thread is stalled mid-operation; successful calls are always linearizable
 * (see ring.c).
 */
typedef struct weft_ring weft_ring;

/** capacity is rounded up to a power of two. EINVAL for 0 or above 2^31 (or
 * r NULL); ENOMEM. The ring allocates 16 bytes per slot up front. */
WEFT_API int weft_ring_create(weft_ring **r, size_t capacity);
/** Frees the ring. Items still in it are not touched. NULL is a no-op. */
WEFT_API void weft_ring_destroy(weft_ring *r);
/** 0, or EAGAIN when full. Never blocks. */
WEFT_API int weft_ring_try_push(weft_ring *r, void *item);
/** 0 with the oldest item in *item (item may be NULL: the item is discarded),
 * or EAGAIN when empty. Never blocks. */
WEFT_API int weft_ring_try_pop(weft_ring *r, void **item);
/** The capacity after rounding. */
WEFT_API size_t weft_ring_capacity(const weft_ring *r);
/** How many items are in the ring: a snapshot, between 0 and the capacity. */
WEFT_API size_t weft_ring_size(const weft_ring *r);

/* ---- weft_queue: Python's queue.Queue / LifoQueue / PriorityQueue --------- */
/** Which calls may run concurrently on the same queue: every function below may
 * be called by any number of threads at once, except create and destroy;
 * destroy requires that no other call is running or will run (call shutdown
 * and join your threads first).
 *
 * Implementations, chosen by the options (all have the same semantics):
 *   FIFO, maxsize > 0, LOCKFREE   the ring above sized exactly maxsize; put and
 *                                 get are one CAS each plus a fence and a load
 *                                 to see whether anyone sleeps on the other
 *                                 side (no syscall when nobody sleeps).
 *   FIFO, maxsize = 0, LOCKFREE   a linked list: wait-free put (one CAS, one
 *                                 exchange, one malloc); gets serialise on a
 *                                 weft_lock.
 *   LIFO, PRIORITY, LOCKFREE      an array stack / binary heap under a weft_lock.
 *   any kind, MUTEX               Python's algorithm line for line: the store
 *                                 under a pthread_mutex_t with three
 *                                 pthread_cond_t (not_empty, not_full,
 *                                 all_tasks_done). For comparison (benchmarks).
 * Blocked threads of the LOCKFREE backend sleep on futexes after a short
 * bounded spin; a put or get wakes at most one sleeper, and only when one
 * has announced itself. Items are not handed to waiters in arrival order:
 * a running thread may take an item before a woken one (as with Python's
 * Condition-based Queue).
 * drop (options) must not call back into the queue.
 */
typedef struct weft_queue weft_queue;

/** Which of Python's queues (weft_queue_options.kind). */
typedef enum weft_queue_kind {
    WEFT_QUEUE_FIFO = 0, /**< queue.Queue */
    WEFT_QUEUE_LIFO,     /**< queue.LifoQueue */
    WEFT_QUEUE_PRIORITY, /**< queue.PriorityQueue: needs cmp */
} weft_queue_kind;

/** Which implementation (weft_queue_options.backend). */
typedef enum weft_queue_backend {
    WEFT_QUEUE_LOCKFREE = 0, /**< the default, see above */
    WEFT_QUEUE_MUTEX,        /**< pthread mutex + condition variables */
} weft_queue_backend;

/** Options of weft_queue_create: start from WEFT_QUEUE_OPTIONS_INIT (or zero
 * them); NULL options are an unbounded LOCKFREE FIFO. */
typedef struct weft_queue_options {
    weft_queue_kind kind; /**< FIFO (the default), LIFO or PRIORITY */
    /** The most items the queue holds; 0 = unbounded. The LOCKFREE bounded FIFO
     * allocates 16 bytes per item of maxsize up front; at most 2^31 there. */
    size_t maxsize;
    /** PRIORITY only: smallest first. Called with two items (the pointers that
     * were put, not pointers to them as qsort does); negative when a comes
     * out before b. Items that compare equal come out in no particular order. */
    int (*cmp)(const void *a, const void *b);
    weft_queue_backend backend; /**< LOCKFREE (the default) or MUTEX */
    /** Optional: called on each item that the queue discards without handing
     * it to a getter (shutdown(immediate) and destroy), e.g. to free it. */
    void (*drop)(void *item);
} weft_queue_options;

/** The default queue options, as a static initialiser. */
#define WEFT_QUEUE_OPTIONS_INIT {WEFT_QUEUE_FIFO, 0, NULL, WEFT_QUEUE_LOCKFREE, NULL}

/** o NULL: an unbounded FIFO with the LOCKFREE backend. EINVAL: q NULL, an
 * unknown kind or backend, PRIORITY without cmp, maxsize above 2^31 for the
 * LOCKFREE bounded FIFO. ENOMEM. */
WEFT_API int weft_queue_create(weft_queue **q, const weft_queue_options *o);
/** Frees the queue, passing the items still in it to options.drop (if set).
 * NULL is a no-op. */
WEFT_API void weft_queue_destroy(weft_queue *q);

/** put(item, timeout): waits while the queue is full.
 * 0; EAGAIN when full and timeout <= 0 (queue.Full); ETIMEDOUT; ESHUTDOWN after
 * shutdown (also when it happens while waiting); EINVAL for a NaN timeout;
 * ENOMEM (unbounded kinds only: the item was not put). */
WEFT_API int weft_queue_put(weft_queue *q, void *item, double timeout);
/** get(timeout): waits while the queue is empty. item may be NULL.
 * 0; EAGAIN when empty and timeout <= 0 (queue.Empty); ETIMEDOUT; ESHUTDOWN
 * once the queue is shut down and empty; EINVAL for a NaN timeout. */
WEFT_API int weft_queue_get(weft_queue *q, void **item, double timeout);

/** Queue.qsize(): the number of items (a snapshot, as in Python: another
 * thread may change it at once). */
WEFT_API size_t weft_queue_qsize(const weft_queue *q);
/** Queue.empty() (a snapshot). */
WEFT_API bool weft_queue_empty(const weft_queue *q);
/** Queue.full() (a snapshot); false for an unbounded queue. */
WEFT_API bool weft_queue_full(const weft_queue *q);
/** Whether weft_queue_shutdown was called. */
WEFT_API bool weft_queue_is_shutdown(const weft_queue *q);

/** Each successful put adds an unfinished task; task_done removes one.
 * EINVAL when there is none (called more times than items were put). */
WEFT_API int weft_queue_task_done(weft_queue *q);
/** Python's Queue.unfinished_tasks: items put and not yet marked done by
 *  weft_queue_task_done (or discarded by an immediate shutdown): a snapshot.
 *  @param q the queue (NULL: 0)
 *  @return the number of unfinished tasks */
WEFT_API size_t weft_queue_unfinished_tasks(const weft_queue *q);
/** Waits until every item put has been marked done (no unfinished task).
 * 0; ETIMEDOUT (also for timeout <= 0 while tasks are unfinished, as
 * Event.wait does); EINVAL for NaN. */
WEFT_API int weft_queue_join(weft_queue *q, double timeout);

/** Python 3.13's Queue.shutdown(immediate). Afterwards put fails with
 * ESHUTDOWN and get returns what remains, then ESHUTDOWN. immediate: the
 * remaining items are discarded now (passed to options.drop), each counting
 * as one task_done while unfinished tasks remain (so join returns once the
 * items already taken are marked done), and getters get ESHUTDOWN at once.
 * Every blocked putter and getter wakes up. May be called more than once. */
WEFT_API void weft_queue_shutdown(weft_queue *q, bool immediate);

WEFT_END_DECLS

#endif /* WEFT_QUEUE_H */
