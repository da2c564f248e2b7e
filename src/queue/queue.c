/* queue/queue.c: weft_queue, Python's queue.Queue / LifoQueue / PriorityQueue.
 *
 * Design note. Three lock-free-backend implementations (queue_impl.h) share
 * one blocking scheme; the MUTEX backend is queue_mutex.c.
 *
 * Non-blocking attempts. Each implementation has try_put / try_get that never
 * wait: 0, EAGAIN (full / empty), ESHUTDOWN, ENOMEM (unbounded puts), and for
 * get EINPROGRESS: "closed, and a put that claimed its place before the
 * close has not landed yet" (the putter is between two instructions).
 *   RING    ring.c. Shutdown sets the closed bit in the ring's head with one
 *           RMW, so the successful puts are exactly the positions claimed
 *           before it: a get returns ESHUTDOWN once tail reaches that frozen
 *           head, and never strands an item whose put returned 0.
 *   LIST    Vyukov's MPSC list: put claims a ticket (CAS on list_puts, whose
 *           bit 63 is the closed flag, as for the ring), then exchanges
 *           list_tail and links the old tail to its node (release). Gets take
 *           cons_lock, follow head->next (acquire) and free the old stub.
 *           Between a put's exchange and its link the list looks empty to
 *           gets: the same late-slot window as the ring's.
 *   LOCKED  the store under a weft_lock; no window.
 *
 * Blocking (put on not_full, get on not_empty, join on all_done). Fast path:
 * one attempt, then on success weft__lot_notify(other side, 1), which is a
 * fence and a load when nobody sleeps: no RMW on waiter state, no syscall.
 * Slow path: a bounded spin of attempts, then the parking protocol
 * (prepare; attempt again; wait), which loses no wake-up because the waiter's
 * prepare (an RMW and a seq_cst fence) comes before its re-attempt and the
 * notifier's fence comes after the change that made the attempt possible
 * (sync/parking.c).
 * The lots are counted (notify(1) signals one announced thread and counts
 * it off), not the eventcount (sync/eventcount.h), whose notify keeps waking
 * (a syscall each time) until the woken thread has run: a queue notifies on
 * every operation, and on an over-subscribed machine that was a syscall per
 * item (sync/parking.h).
 * Passing the baton. A waiter woken by notify(1) may find the slot it was
 * woken for still late (a thread stalled in the ring's window); it parks
 * again, and the one wake-up is spent while items remain for other sleepers.
 * So a thread that succeeds in the slow path of a RING or LIST queue wakes
 * one more sleeper of its own side if the queue still is not empty (get) or
 * not full (put). The stalled thread notifies when it lands, its wake-up
 * reaches a sleeper, and the chain continues while items (or room) remain.
 * Shutdown wakes everyone. After it, a getter that meets EINPROGRESS yields
 * instead of parking, because once closed the last getter to drain the queue
 * notifies nobody; the put in flight lands within a few instructions of its
 * thread running again. That is the only wait that is not a futex sleep, and
 * it lasts only while some thread is preempted inside the window.
 *
 * Task accounting. unfinished tasks = successful puts - done. The RING and
 * LIST count puts in the counters the puts already touch (the ring's head,
 * list_puts); LOCKED counts under its lock; so put pays nothing extra.
 * task_done increments done by CAS only while done < puts (else EINVAL);
 * join waits on all_done until done == puts, reading done (acquire) before
 * puts: both only grow and done <= puts, so equality seen in that order held
 * at the moment puts was read. The task_done that makes done equal to the
 * puts it read notifies all_done; the one that completes the final count
 * always reads the final puts, so no joiner sleeps through zero.
 * shutdown(immediate) discards the items; each counts as a task_done while
 * done < puts, as Python's `if self.unfinished_tasks > 0` does.
 */
#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue_impl.h"

/* Attempts in the bounded spin before parking. About a futex round trip; a
 * longer spin only burns a core when the other side is descheduled. */
#define QUEUE_SPIN 128

/* Internal result of try_get: closed, but a put in flight will still land. */
#define QUEUE_IN_FLIGHT EINPROGRESS

static_assert(QUEUE_IN_FLIGHT != EAGAIN && QUEUE_IN_FLIGHT != ESHUTDOWN && QUEUE_IN_FLIGHT != 0,
              "the in-flight code is distinct from every public result");

/* ---- RING ------------------------------------------------------------------ */

static int ring_try_get(weft_queue *q, void **item)
{
    if (weft__ring_pop(&q->ring, item) == 0)
        return 0;
    uint64_t h = atomic_load_explicit(&q->ring.head, memory_order_relaxed);
    if (!(h & WEFT__RING_CLOSED))
        return EAGAIN;
    uint64_t t = atomic_load_explicit(&q->ring.tail, memory_order_relaxed);
    return t == (h & ~WEFT__RING_CLOSED) ? ESHUTDOWN : QUEUE_IN_FLIGHT;
}

/* ---- LIST ------------------------------------------------------------------ */

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
    return gets == (p & ~WEFT__RING_CLOSED) ? ESHUTDOWN : QUEUE_IN_FLIGHT;
}

/* ---- LOCKED ---------------------------------------------------------------- */

static int locked_try_put(weft_queue *q, void *item)
{
    int rc;
    weft_lock_acquire(&q->lock, WEFT_FOREVER);
    if (atomic_load_explicit(&q->shut, memory_order_relaxed)) {
        rc = ESHUTDOWN;
    } else if (q->maxsize > 0 && q->store.n >= q->maxsize) {
        rc = EAGAIN;
    } else {
        rc = weft__store_push(&q->store, item);
        if (rc == 0) {
            atomic_store_explicit(&q->count, q->store.n, memory_order_relaxed);
            atomic_store_explicit(&q->puts, atomic_load_explicit(&q->puts, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
        }
    }
    weft_lock_release(&q->lock);
    return rc;
}

static int locked_try_get(weft_queue *q, void **item)
{
    int rc = 0;
    weft_lock_acquire(&q->lock, WEFT_FOREVER);
    if (q->store.n > 0) {
        void *v = weft__store_pop(&q->store);
        atomic_store_explicit(&q->count, q->store.n, memory_order_relaxed);
        if (item != NULL)
            *item = v;
    } else {
        rc = atomic_load_explicit(&q->shut, memory_order_relaxed) ? ESHUTDOWN : EAGAIN;
    }
    weft_lock_release(&q->lock);
    return rc;
}

/* ---- dispatch ---------------------------------------------------------------- */

static int try_put(weft_queue *q, void *item)
{
    switch (q->impl) {
    case WEFT__QUEUE_RING:
        return weft__ring_push(&q->ring, item);
    case WEFT__QUEUE_LIST:
        return list_try_put(q, item);
    default:
        return locked_try_put(q, item);
    }
}

static int try_get(weft_queue *q, void **item)
{
    switch (q->impl) {
    case WEFT__QUEUE_RING:
        return ring_try_get(q, item);
    case WEFT__QUEUE_LIST:
        return list_try_get(q, item);
    default:
        return locked_try_get(q, item);
    }
}

/* Successful puts so far (including a RING or LIST put that has claimed its
 * place and not yet landed). */
static uint64_t puts_count(const weft_queue *q)
{
    switch (q->impl) {
    case WEFT__QUEUE_RING:
        return weft__ring_count(&q->ring, atomic_load_explicit(&((weft_queue *)q)->ring.head,
                                                               memory_order_relaxed));
    case WEFT__QUEUE_LIST:
        return atomic_load_explicit(&((weft_queue *)q)->list_puts, memory_order_relaxed) &
               ~WEFT__RING_CLOSED;
    default:
        return atomic_load_explicit(&((weft_queue *)q)->puts, memory_order_relaxed);
    }
}

/* ---- blocking ------------------------------------------------------------------ */

typedef int (*attempt_fn)(weft_queue *q, void *arg);

static int attempt_put(weft_queue *q, void *item)
{
    return try_put(q, item);
}

static int attempt_get(weft_queue *q, void *out)
{
    return try_get(q, (void **)out);
}

static bool retry(int rc)
{
    return rc == EAGAIN || rc == QUEUE_IN_FLIGHT;
}

/* The slow path of put and get, after a first failed attempt: spin, then
 * park in lot. Returns the first non-retry result of attempt, EAGAIN when the
 * timeout was <= 0, or ETIMEDOUT. */
static int wait_for(weft_queue *q, double timeout, attempt_fn attempt, void *arg, weft__lot *lot)
{
    weft__deadline d;
    weft__deadline_init(&d, timeout);
    if (d.expired)
        return EAGAIN;
    int rc = EAGAIN;
    for (int i = 0; i < QUEUE_SPIN; i++) {
        weft__cpu_relax();
        rc = attempt(q, arg);
        if (!retry(rc))
            return rc;
    }
    for (;;) {
        if (rc == QUEUE_IN_FLIGHT) {
            if (weft__deadline_passed(&d))
                return ETIMEDOUT;
            sched_yield();
            rc = attempt(q, arg);
            if (!retry(rc))
                return rc;
            continue;
        }
        weft__lot_prepare(lot);
        rc = attempt(q, arg);
        if (rc != EAGAIN) {
            weft__lot_cancel(lot);
            if (rc == QUEUE_IN_FLIGHT)
                continue;
            return rc;
        }
        int w = weft__lot_wait(lot, &d);
        rc = attempt(q, arg);
        if (!retry(rc))
            return rc;
        if (w == ETIMEDOUT)
            return ETIMEDOUT;
    }
}

int weft_queue_put(weft_queue *q, void *item, double timeout)
{
    if (q == NULL || timeout != timeout)
        return EINVAL;
    if (q->impl == WEFT__QUEUE_MUTEX)
        return weft__mq_put(q, item, timeout);
    int rc = try_put(q, item);
    if (WEFT_UNLIKELY(rc == EAGAIN)) {
        rc = wait_for(q, timeout, attempt_put, item, &q->not_full);
        if (rc == 0 && q->impl == WEFT__QUEUE_RING && !weft_queue_full(q))
            weft__lot_notify(&q->not_full, 1);
    }
    if (WEFT_LIKELY(rc == 0))
        weft__lot_notify(&q->not_empty, 1);
    return rc;
}

int weft_queue_get(weft_queue *q, void **item, double timeout)
{
    if (q == NULL || timeout != timeout)
        return EINVAL;
    if (q->impl == WEFT__QUEUE_MUTEX)
        return weft__mq_get(q, item, timeout);
    int rc = try_get(q, item);
    if (WEFT_UNLIKELY(retry(rc))) {
        rc = wait_for(q, timeout, attempt_get, (void *)item, &q->not_empty);
        if (rc == 0 && q->impl != WEFT__QUEUE_LOCKED && !weft_queue_empty(q))
            weft__lot_notify(&q->not_empty, 1);
    }
    if (WEFT_LIKELY(rc == 0) && q->maxsize > 0)
        weft__lot_notify(&q->not_full, 1);
    return rc;
}

/* ---- sizes ------------------------------------------------------------------------ */

size_t weft_queue_qsize(const weft_queue *q)
{
    if (q == NULL)
        return 0;
    switch (q->impl) {
    case WEFT__QUEUE_RING:
        return weft_ring_size(&q->ring);
    case WEFT__QUEUE_LIST: {
        /* gets first: both only grow, a later puts read is at least as new;
         * an in-flight put counts as an item, as it will land. */
        uint64_t g = atomic_load_explicit(&((weft_queue *)q)->list_gets, memory_order_relaxed);
        uint64_t p = puts_count(q);
        return p > g ? (size_t)(p - g) : 0;
    }
    default:
        return atomic_load_explicit(&((weft_queue *)q)->count, memory_order_relaxed);
    }
}

bool weft_queue_empty(const weft_queue *q)
{
    return q != NULL && weft_queue_qsize(q) == 0;
}

bool weft_queue_full(const weft_queue *q)
{
    return q != NULL && q->maxsize > 0 && weft_queue_qsize(q) >= q->maxsize;
}

bool weft_queue_is_shutdown(const weft_queue *q)
{
    return q != NULL && atomic_load_explicit(&((weft_queue *)q)->shut, memory_order_relaxed);
}

/* ---- tasks -------------------------------------------------------------------------- */

/* done + 1 if done < puts. Returns whether it counted. */
static bool count_done(weft_queue *q, bool *reached_zero)
{
    uint64_t d = atomic_load_explicit(&q->done, memory_order_relaxed);
    for (;;) {
        uint64_t p = puts_count(q);
        if (d >= p)
            return false;
        /* release: the caller's work on its item happens-before a joiner that
         * reads the new count (acquire load in tasks_finished). */
        if (atomic_compare_exchange_weak_explicit(&q->done, &d, d + 1, memory_order_release,
                                                  memory_order_relaxed)) {
            *reached_zero = d + 1 == p;
            return true;
        }
    }
}

static bool tasks_finished(const weft_queue *q)
{
    /* acquire: pairs with the release CAS in count_done, so every counted
     * task's work is visible to the joiner; and orders the puts read after. */
    uint64_t d = atomic_load_explicit(&((weft_queue *)q)->done, memory_order_acquire);
    return d == puts_count(q);
}

size_t weft_queue_unfinished_tasks(const weft_queue *q)
{
    if (q == NULL)
        return 0;
    if (q->impl == WEFT__QUEUE_MUTEX)
        return weft__mq_unfinished_tasks(q);
    /* done first: both only grow and done <= puts, so a later puts read is at
     * least as large and the difference is never negative. */
    uint64_t d = atomic_load_explicit(&((weft_queue *)q)->done, memory_order_relaxed);
    uint64_t p = puts_count(q);
    return p > d ? (size_t)(p - d) : 0;
}

int weft_queue_task_done(weft_queue *q)
{
    if (q == NULL)
        return EINVAL;
    if (q->impl == WEFT__QUEUE_MUTEX)
        return weft__mq_task_done(q);
    bool zero = false;
    if (!count_done(q, &zero))
        return EINVAL;
    if (zero)
        weft__lot_notify(&q->all_done, UINT32_MAX);
    return 0;
}

int weft_queue_join(weft_queue *q, double timeout)
{
    if (q == NULL || timeout != timeout)
        return EINVAL;
    if (q->impl == WEFT__QUEUE_MUTEX)
        return weft__mq_join(q, timeout);
    if (tasks_finished(q))
        return 0;
    weft__deadline d;
    weft__deadline_init(&d, timeout);
    if (d.expired)
        return ETIMEDOUT;
    for (;;) {
        weft__lot_prepare(&q->all_done);
        if (tasks_finished(q)) {
            weft__lot_cancel(&q->all_done);
            return 0;
        }
        if (weft__lot_wait(&q->all_done, &d) == ETIMEDOUT)
            return tasks_finished(q) ? 0 : ETIMEDOUT;
    }
}

/* ---- shutdown --------------------------------------------------------------------- */

static void discard(weft_queue *q, void *item)
{
    bool zero;
    if (q->drop != NULL)
        q->drop(item);
    count_done(q, &zero);
}

void weft_queue_shutdown(weft_queue *q, bool immediate)
{
    if (q == NULL)
        return;
    if (q->impl == WEFT__QUEUE_MUTEX) {
        weft__mq_shutdown(q, immediate);
        return;
    }
    void *v;
    switch (q->impl) {
    case WEFT__QUEUE_RING: {
        atomic_store_explicit(&q->shut, true, memory_order_relaxed);
        uint64_t frozen = weft__ring_close(&q->ring);
        while (immediate && atomic_load_explicit(&q->ring.tail, memory_order_relaxed) != frozen) {
            if (weft__ring_pop(&q->ring, &v) == 0)
                discard(q, v);
            else
                sched_yield();
        }
        break;
    }
    case WEFT__QUEUE_LIST: {
        atomic_store_explicit(&q->shut, true, memory_order_relaxed);
        /* seq_cst: the closed flag is ordered before the wake-ups below (their
         * fences in weft__lot_notify) and is seen by a parked thread's re-attempt. */
        uint64_t frozen = atomic_fetch_or_explicit(&q->list_puts, WEFT__RING_CLOSED, memory_order_seq_cst) &
                          ~WEFT__RING_CLOSED;
        while (immediate && atomic_load_explicit(&q->list_gets, memory_order_relaxed) != frozen) {
            if (list_try_get(q, &v) == 0)
                discard(q, v);
            else
                sched_yield();
        }
        break;
    }
    default:
        weft_lock_acquire(&q->lock, WEFT_FOREVER);
        atomic_store_explicit(&q->shut, true, memory_order_relaxed);
        while (immediate && q->store.n > 0)
            discard(q, weft__store_pop(&q->store));
        atomic_store_explicit(&q->count, q->store.n, memory_order_relaxed);
        weft_lock_release(&q->lock);
        break;
    }
    if (immediate)
        weft__lot_notify(&q->all_done, UINT32_MAX);
    weft__lot_notify(&q->not_empty, UINT32_MAX);
    weft__lot_notify(&q->not_full, UINT32_MAX);
}

/* ---- lifetime ------------------------------------------------------------------- */

int weft_queue_create(weft_queue **out, const weft_queue_options *o)
{
    static const weft_queue_options defaults = WEFT_QUEUE_OPTIONS_INIT;
    if (o == NULL)
        o = &defaults;
    if (out == NULL)
        return EINVAL;
    switch (o->kind) {
    case WEFT_QUEUE_FIFO:
    case WEFT_QUEUE_LIFO:
        break;
    case WEFT_QUEUE_PRIORITY:
        if (o->cmp == NULL)
            return EINVAL;
        break;
    default:
        return EINVAL;
    }
    if (o->backend != WEFT_QUEUE_LOCKFREE && o->backend != WEFT_QUEUE_MUTEX)
        return EINVAL;
    weft__queue_impl impl;
    if (o->backend == WEFT_QUEUE_MUTEX)
        impl = WEFT__QUEUE_MUTEX;
    else if (o->kind != WEFT_QUEUE_FIFO)
        impl = WEFT__QUEUE_LOCKED;
    else if (o->maxsize > 0)
        impl = WEFT__QUEUE_RING;
    else
        impl = WEFT__QUEUE_LIST;
    if (impl == WEFT__QUEUE_RING && o->maxsize > WEFT__RING_MAX_CAPACITY)
        return EINVAL;

    weft_queue *q = aligned_alloc(WEFT_CACHELINE, sizeof(*q));
    if (q == NULL)
        return ENOMEM;
    memset(q, 0, sizeof(*q));
    q->impl = impl;
    q->kind = o->kind;
    q->maxsize = o->maxsize;
    q->drop = o->drop;
    atomic_init(&q->shut, false);
    weft__lot_init(&q->not_empty);
    weft__lot_init(&q->not_full);
    weft__lot_init(&q->all_done);
    atomic_init(&q->done, 0);
    atomic_init(&q->count, 0);
    atomic_init(&q->puts, 0);
    int rc = 0;
    switch (impl) {
    case WEFT__QUEUE_RING:
        rc = weft__ring_init(&q->ring, o->maxsize);
        break;
    case WEFT__QUEUE_LIST: {
        weft__qnode *stub = malloc(sizeof(*stub));
        if (stub == NULL) {
            rc = ENOMEM;
            break;
        }
        atomic_init(&stub->next, NULL);
        stub->item = NULL;
        q->list_head = stub;
        atomic_init(&q->list_tail, stub);
        atomic_init(&q->list_puts, 0);
        atomic_init(&q->list_gets, 0);
        weft_lock_init(&q->cons_lock);
        break;
    }
    case WEFT__QUEUE_LOCKED:
        weft_lock_init(&q->lock);
        weft__store_init(&q->store, o->kind, o->cmp);
        break;
    case WEFT__QUEUE_MUTEX:
        weft__store_init(&q->store, o->kind, o->cmp);
        rc = weft__mq_init(q);
        break;
    }
    if (rc != 0) {
        free(q);
        return rc;
    }
    *out = q;
    return 0;
}

void weft_queue_destroy(weft_queue *q)
{
    if (q == NULL)
        return;
    void *v;
    switch (q->impl) {
    case WEFT__QUEUE_RING:
        while (weft__ring_pop(&q->ring, &v) == 0)
            if (q->drop != NULL)
                q->drop(v);
        weft__ring_deinit(&q->ring);
        break;
    case WEFT__QUEUE_LIST:
        while (list_try_get(q, &v) == 0)
            if (q->drop != NULL)
                q->drop(v);
        free(q->list_head);
        break;
    case WEFT__QUEUE_LOCKED:
    case WEFT__QUEUE_MUTEX:
        while (q->store.n > 0) {
            v = weft__store_pop(&q->store);
            if (q->drop != NULL)
                q->drop(v);
        }
        weft__store_deinit(&q->store);
        if (q->impl == WEFT__QUEUE_MUTEX)
            weft__mq_deinit(q);
        break;
    }
    free(q);
}
