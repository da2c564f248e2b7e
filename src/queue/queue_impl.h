/* queue/queue_impl.h: the layout of weft_queue and the pieces shared by its
 * implementations. Internal.
 *
 * Implementations (weft/queue.h lists which options select which):
 *   QUEUE_RING    lock-free bounded FIFO: the ring (ring.c), exact capacity;
 *   QUEUE_LIST    unbounded FIFO: an MPSC linked list with wait-free puts
 *                 (Vyukov's intrusive MPSC queue; liburcu's wfcqueue is the
 *                 same algorithm) and gets serialised by cons_lock;
 *   QUEUE_LOCKED  LIFO / PRIORITY: a store (store.c) under a weft_lock;
 *   QUEUE_MUTEX   any kind: Python's queue.Queue algorithm with pthreads
 *                 (queue_mutex.c), for comparison.
 * The first three park blocked threads in the parking lots (sync/parking.c)
 * not_empty / not_full / all_done and count tasks with `done` against the number of
 * successful puts (task_done never touches the put path).
 *
 * Lock order: cons_lock and lock are leaves (nothing is acquired while one is
 * held, and nobody sleeps while holding one).
 */
#ifndef WEFT_QUEUE_IMPL_H
#define WEFT_QUEUE_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/atomics.h"
#include "queue/ring.h"
#include "sync/parking.h"
#include "weft/queue.h"
#include "weft/sync.h"

/* ---- store: the sequential container of the locked implementations ------ */
typedef struct weft__store {
    void **v;
    size_t n;    /* items held */
    size_t cap;  /* slots allocated */
    size_t head; /* FIFO only: index of the oldest item */
    weft_queue_kind kind;
    int (*cmp)(const void *, const void *);
} weft__store;

void weft__store_init(weft__store *s, weft_queue_kind kind, int (*cmp)(const void *, const void *));
void weft__store_deinit(weft__store *s);
/* 0 or ENOMEM (then the store is unchanged). */
int weft__store_push(weft__store *s, void *item);
/* The next item in FIFO / LIFO / priority order. The store must not be empty. */
void *weft__store_pop(weft__store *s);

/* ---- the unbounded list --------------------------------------------------- */
typedef struct weft__qnode {
    _Atomic(struct weft__qnode *) next;
    void *item;
} weft__qnode;

typedef enum weft__queue_impl {
    WEFT__QUEUE_RING,
    WEFT__QUEUE_LIST,
    WEFT__QUEUE_LOCKED,
    WEFT__QUEUE_MUTEX,
} weft__queue_impl;

/* Cache-line placement: the read-only configuration first; each parking lot
 * on its own line (written only by parking threads and by notifiers that saw
 * one); done on its own line (task_done); then per implementation the fields
 * written by producers and by consumers on separate lines. */
struct weft_queue {
    WEFT_CACHE_ALIGNED weft__queue_impl impl;
    weft_queue_kind kind;
    size_t maxsize;
    void (*drop)(void *item);
    _Atomic bool shut; /* set once by shutdown; read by is_shutdown */

    WEFT_CACHE_ALIGNED weft__lot not_empty; /* getters park here */
    WEFT_CACHE_ALIGNED weft__lot not_full;  /* putters park here */
    WEFT_CACHE_ALIGNED weft__lot all_done;  /* joiners park here */
    WEFT_CACHE_ALIGNED _Atomic uint64_t done;      /* task_done calls (and drops) */

    /* QUEUE_RING */
    weft_ring ring;

    /* QUEUE_LIST: puts = successful put tickets | WEFT__RING_CLOSED */
    WEFT_CACHE_ALIGNED _Atomic uint64_t list_puts;
    WEFT_CACHE_ALIGNED _Atomic(weft__qnode *) list_tail; /* producers exchange */
    WEFT_CACHE_ALIGNED weft_lock cons_lock;
    weft__qnode *list_head;          /* the stub; guarded by cons_lock */
    _Atomic uint64_t list_gets;      /* written under cons_lock */

    /* QUEUE_LOCKED and QUEUE_MUTEX: the store and its mirrors */
    WEFT_CACHE_ALIGNED weft_lock lock; /* QUEUE_LOCKED */
    weft__store store;
    _Atomic size_t count;      /* store.n, readable without the lock */
    _Atomic uint64_t puts;     /* QUEUE_LOCKED: successful puts */

    /* QUEUE_MUTEX: Python's fields */
    pthread_mutex_t mutex;
    pthread_cond_t cond_not_empty, cond_not_full, cond_all_done;
    size_t unfinished;
};

/* queue_mutex.c: the QUEUE_MUTEX backend, Python's algorithm. */
int weft__mq_init(weft_queue *q);
void weft__mq_deinit(weft_queue *q);
int weft__mq_put(weft_queue *q, void *item, double timeout);
int weft__mq_get(weft_queue *q, void **item, double timeout);
int weft__mq_task_done(weft_queue *q);
size_t weft__mq_unfinished_tasks(const weft_queue *q);
int weft__mq_join(weft_queue *q, double timeout);
void weft__mq_shutdown(weft_queue *q, bool immediate);

#endif /* WEFT_QUEUE_IMPL_H */
