/* queue/queue_lockfree.c: the lockfree backend of weft_queue (the default,
 * WEFT_QUEUE_LOCKFREE): parking lots and lock-free task counting over one of
 * three containers (queue_impl.h: ring, list, locked), which give it
 * non-blocking attempts.
 *
 * Design note. Blocking (put on not_full, get on not_empty, join on all_done). Fast path:
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
 * So a thread that succeeds in the slow path over a container with late slots (ring, list) wakes
 * one more sleeper of its own side if the queue still is not empty (get) or
 * not full (put). The stalled thread notifies when it lands, its wake-up
 * reaches a sleeper, and the chain continues while items (or room) remain.
 * Shutdown wakes everyone. After it, a getter that meets WEFT__QUEUE_IN_FLIGHT yields
 * instead of parking, because once closed the last getter to drain the queue
 * notifies nobody; the put in flight lands within a few instructions of its
 * thread running again. That is the only wait that is not a futex sleep, and
 * it lasts only while some thread is preempted inside the window.
 *
 * Task accounting. unfinished tasks = successful puts - done. The ring and
 * the list count puts in the counters the puts already touch (the ring's
 * head, list_puts); the locked container counts under its lock; so put pays nothing extra.
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

#include "queue/queue_impl.h"

/* Attempts in the bounded spin before parking. About a futex round trip; a
 * longer spin only burns a core when the other side is descheduled. */
#define QUEUE_SPIN 128

static_assert(WEFT__QUEUE_IN_FLIGHT != EAGAIN && WEFT__QUEUE_IN_FLIGHT != ESHUTDOWN &&
                  WEFT__QUEUE_IN_FLIGHT != 0,
              "the in-flight code is distinct from every public result");

/* ---- blocking ------------------------------------------------------------------ */

typedef int (*attempt_fn)(weft_queue *q, void *arg);

static int attempt_put(weft_queue *q, void *item)
{
    return q->cont->try_put(q, item);
}

static int attempt_get(weft_queue *q, void *out)
{
    return q->cont->try_get(q, (void **)out);
}

static bool retry(int rc)
{
    return rc == EAGAIN || rc == WEFT__QUEUE_IN_FLIGHT;
}

/* The slow path of put and get, after a first failed attempt: spin, then
 * park in lot. Returns the first non-retry result of attempt, EAGAIN when the
 * timeout was <= 0, or ETIMEDOUT. */
static int wait_for(weft_queue *q, double timeout, attempt_fn attempt, void *arg, weft__lot *lot,
                    const char *fn)
{
    WEFT__DIAG_SCOPE(blk); /* the dump's record (fn on q) spans every sleep of this wait */
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
        if (rc == WEFT__QUEUE_IN_FLIGHT) {
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
            if (rc == WEFT__QUEUE_IN_FLIGHT)
                continue;
            return rc;
        }
        int w = weft__lot_wait_on(lot, &d, &(weft__diag_wait){&blk, fn, q, WEFT__OBJ_QUEUE});
        rc = attempt(q, arg);
        if (!retry(rc))
            return rc;
        if (w == ETIMEDOUT)
            return ETIMEDOUT;
    }
}

static int lf_put(weft_queue *q, void *item, double timeout)
{
    int rc = q->cont->try_put(q, item);
    if (WEFT_UNLIKELY(rc == EAGAIN)) {
        rc = wait_for(q, timeout, attempt_put, item, &q->not_full, "weft_queue_put");
        if (rc == 0 && q->cont->late_slots && q->maxsize > 0 && q->cont->size(q) < q->maxsize)
            weft__lot_notify(&q->not_full, 1);
    }
    if (WEFT_LIKELY(rc == 0))
        weft__lot_notify(&q->not_empty, 1);
    return rc;
}

static int lf_get(weft_queue *q, void **item, double timeout)
{
    int rc = q->cont->try_get(q, item);
    if (WEFT_UNLIKELY(retry(rc))) {
        rc = wait_for(q, timeout, attempt_get, (void *)item, &q->not_empty, "weft_queue_get");
        if (rc == 0 && q->cont->late_slots && q->cont->size(q) > 0)
            weft__lot_notify(&q->not_empty, 1);
    }
    if (WEFT_LIKELY(rc == 0) && q->maxsize > 0)
        weft__lot_notify(&q->not_full, 1);
    return rc;
}

static size_t lf_qsize(const weft_queue *q)
{
    return q->cont->size(q);
}

/* ---- tasks -------------------------------------------------------------------------- */

/* done + 1 if done < puts. Returns whether it counted. */
static bool count_done(weft_queue *q, bool *reached_zero)
{
    uint64_t d = atomic_load_explicit(&q->done, memory_order_relaxed);
    for (;;) {
        uint64_t p = q->cont->puts(q);
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
    return d == q->cont->puts(q);
}

static size_t lf_unfinished_tasks(const weft_queue *q)
{
    /* done first: both only grow and done <= puts, so a later puts read is at
     * least as large and the difference is never negative. */
    uint64_t d = atomic_load_explicit(&((weft_queue *)q)->done, memory_order_relaxed);
    uint64_t p = q->cont->puts(q);
    return p > d ? (size_t)(p - d) : 0;
}

static int lf_task_done(weft_queue *q)
{
    bool zero = false;
    if (!count_done(q, &zero))
        return EINVAL;
    if (zero)
        weft__lot_notify(&q->all_done, UINT32_MAX);
    return 0;
}

static int lf_join(weft_queue *q, double timeout)
{
    WEFT__DIAG_SCOPE(blk);
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
        if (weft__lot_wait_on(&q->all_done, &d, &(weft__diag_wait){&blk, "weft_queue_join", q, WEFT__OBJ_QUEUE}) ==
            ETIMEDOUT)
            return tasks_finished(q) ? 0 : ETIMEDOUT;
    }
}

static void discard(weft_queue *q, void *item)
{
    bool zero;
    if (q->drop != NULL)
        q->drop(item);
    count_done(q, &zero);
}

static void lf_shutdown(weft_queue *q, bool immediate)
{
    atomic_store_explicit(&q->shut, true, memory_order_relaxed);
    q->cont->close(q, immediate, discard);
    if (immediate)
        weft__lot_notify(&q->all_done, UINT32_MAX);
    weft__lot_notify(&q->not_empty, UINT32_MAX);
    weft__lot_notify(&q->not_full, UINT32_MAX);
}

/* ---- lifetime ------------------------------------------------------------------- */

static int lf_init(weft_queue *q, const weft_queue_options *o)
{
    if (o->kind != WEFT_QUEUE_FIFO)
        q->cont = &weft__queue_locked;
    else if (o->maxsize > 0)
        q->cont = &weft__queue_ring;
    else
        q->cont = &weft__queue_list;
    if (q->cont == &weft__queue_ring && o->maxsize > WEFT__RING_MAX_CAPACITY)
        return EINVAL;
    weft__lot_init(&q->not_empty);
    weft__lot_init(&q->not_full);
    weft__lot_init(&q->all_done);
    atomic_init(&q->done, 0);
    atomic_init(&q->count, 0);
    atomic_init(&q->puts, 0);
    return q->cont->init(q, o);
}

static void lf_deinit(weft_queue *q)
{
    q->cont->deinit(q);
}

const weft__queue_backend weft__queue_lockfree = {
    .init = lf_init,
    .deinit = lf_deinit,
    .put = lf_put,
    .get = lf_get,
    .qsize = lf_qsize,
    .unfinished_tasks = lf_unfinished_tasks,
    .task_done = lf_task_done,
    .join = lf_join,
    .shutdown = lf_shutdown,
};
