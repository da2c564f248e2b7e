/* queue/queue_impl.h: the layout of weft_queue and the two ops tables that
 * split it into backends and containers. Internal.
 *
 * Backends (weft__queue_backend; weft_queue_options.backend picks one):
 *   lockfree   queue_lockfree.c: parking lots and lock-free task counting
 *              over one of the containers below;
 *   mutex      queue_mutex.c: Python's queue.Queue algorithm with pthreads,
 *              over a store, for comparison.
 * queue.c, the neutral file, checks arguments, picks the backend at create
 * and calls through q->backend; neither backend calls into the other's file.
 * Containers of the lockfree backend (weft__queue_container; picked by kind
 * and maxsize):
 *   ring       queue_ring.c: lock-free bounded FIFO on the ring (ring.c);
 *   list       queue_list.c: unbounded FIFO, an MPSC linked list with
 *              wait-free puts (Vyukov's intrusive MPSC queue; liburcu's
 *              wfcqueue is the same algorithm) and gets serialised by cons_lock;
 *   locked     queue_locked.c: LIFO / PRIORITY, a store (store.c) under a
 *              weft_lock.
 * The lockfree backend parks blocked threads in the parking lots
 * (sync/parking.c) not_empty / not_full / all_done and counts tasks with
 * `done` against the container's count of successful puts (task_done never
 * touches the put path).
 *
 * Lock order: cons_lock and lock are leaves (nothing is acquired while one is
 * held, and nobody sleeps while holding one).
 */
#ifndef WEFT_QUEUE_IMPL_H
#define WEFT_QUEUE_IMPL_H

#include <errno.h>
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

/* A backend: the whole public behaviour after argument checks (queue.c has
 * checked q != NULL and that timeouts are not NaN). */
typedef struct weft__queue_backend {
    /* Set up the backend's part of a zeroed q: 0, or an errno (nothing to undo). */
    int (*init)(weft_queue *q, const weft_queue_options *o);
    /* Pass what is left to q->drop and free what init allocated. */
    void (*deinit)(weft_queue *q);
    int (*put)(weft_queue *q, void *item, double timeout);
    int (*get)(weft_queue *q, void **item, double timeout);
    size_t (*qsize)(const weft_queue *q);
    size_t (*unfinished_tasks)(const weft_queue *q);
    int (*task_done)(weft_queue *q);
    int (*join)(weft_queue *q, double timeout);
    void (*shutdown)(weft_queue *q, bool immediate);
} weft__queue_backend;

extern const weft__queue_backend weft__queue_lockfree; /* queue_lockfree.c */
extern const weft__queue_backend weft__queue_mutex;    /* queue_mutex.c */

/* Internal result of try_get: closed, but a put in flight will still land. */
#define WEFT__QUEUE_IN_FLIGHT EINPROGRESS

/* A container of the lockfree backend: non-blocking attempts and counts. */
typedef struct weft__queue_container {
    int (*init)(weft_queue *q, const weft_queue_options *o);
    /* Drop (q->drop) what is left and free what init allocated. */
    void (*deinit)(weft_queue *q);
    /* 0, EAGAIN (full), ESHUTDOWN, ENOMEM. Never waits. */
    int (*try_put)(weft_queue *q, void *item);
    /* 0, EAGAIN (empty), ESHUTDOWN (closed and drained), or
     * WEFT__QUEUE_IN_FLIGHT (closed, a put that claimed its place before
     * the close has not landed yet). Never waits. */
    int (*try_get)(weft_queue *q, void **item);
    /* Successful puts so far (a put that claimed its place counts). */
    uint64_t (*puts)(const weft_queue *q);
    size_t (*size)(const weft_queue *q);
    /* Shutdown's container part: refuse later puts; if immediate, pass every
     * item whose put succeeded to discard(q, item). */
    void (*close)(weft_queue *q, bool immediate, void (*discard)(weft_queue *q, void *item));
    /* Gets (and puts, when bounded) can meet a late slot: a put or get that
     * claimed its place and has not finished (the ring's and the list's
     * window), so a woken thread may park again: pass the baton. */
    bool late_slots;
} weft__queue_container;

extern const weft__queue_container weft__queue_ring;   /* queue_ring.c */
extern const weft__queue_container weft__queue_list;   /* queue_list.c */
extern const weft__queue_container weft__queue_locked; /* queue_locked.c */

/* Cache-line placement: the read-only configuration first; each parking lot
 * on its own line (written only by parking threads and by notifiers that saw
 * one); done on its own line (task_done); then per implementation the fields
 * written by producers and by consumers on separate lines. */
struct weft_queue {
    WEFT_CACHE_ALIGNED const weft__queue_backend *backend;
    const weft__queue_container *cont; /* lockfree backend only */
    weft_queue_kind kind;
    size_t maxsize;
    void (*drop)(void *item);
    _Atomic bool shut; /* set once by shutdown; read by is_shutdown */

    WEFT_CACHE_ALIGNED weft__lot not_empty; /* getters park here */
    WEFT_CACHE_ALIGNED weft__lot not_full;  /* putters park here */
    WEFT_CACHE_ALIGNED weft__lot all_done;  /* joiners park here */
    WEFT_CACHE_ALIGNED _Atomic uint64_t done;      /* task_done calls (and drops) */

    /* ring */
    weft_ring ring;

    /* list: puts = successful put tickets | WEFT__RING_CLOSED */
    WEFT_CACHE_ALIGNED _Atomic uint64_t list_puts;
    WEFT_CACHE_ALIGNED _Atomic(weft__qnode *) list_tail; /* producers exchange */
    WEFT_CACHE_ALIGNED weft_lock cons_lock;
    weft__qnode *list_head;          /* the stub; guarded by cons_lock */
    _Atomic uint64_t list_gets;      /* written under cons_lock */

    /* locked and the mutex backend: the store and its mirrors */
    WEFT_CACHE_ALIGNED weft_lock lock; /* locked */
    weft__store store;
    _Atomic size_t count;      /* store.n, readable without the lock */
    _Atomic uint64_t puts;     /* locked: successful puts */

    /* mutex backend: Python's fields */
    pthread_mutex_t mutex;
    pthread_cond_t cond_not_empty, cond_not_full, cond_all_done;
    size_t unfinished;
};

#endif /* WEFT_QUEUE_IMPL_H */
