/* queue/queue_mutex.c: the mutex + condition-variable backend
 * (WEFT_QUEUE_MUTEX), CPython's Lib/queue.py (3.13) transcribed to pthreads.
 *
 * Design note. One pthread_mutex_t guards the store, unfinished and shut;
 * three pthread_cond_t on it, as in Python: not_empty (getters wait),
 * not_full (putters wait), all_done (joiners wait). Every put signals
 * not_empty, every get signals not_full, the task_done that reaches zero
 * broadcasts all_done, shutdown broadcasts all three. Waits loop on their
 * predicate, so spurious wake-ups are harmless; timed waits use absolute
 * CLOCK_MONOTONIC deadlines (the condattr clock), so they are never extended.
 * It exists as the baseline that the lock-free backend is measured against,
 * and as a reference for the semantics: it is Python's code path for path.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "queue/queue_impl.h"
#include "sched/help.h"

static void mq_lock(weft_queue *q)
{
    int rc = pthread_mutex_lock(&q->mutex);
    if (rc != 0)
        weft__die("pthread_mutex_lock", rc);
}

static void mq_unlock(weft_queue *q)
{
    int rc = pthread_mutex_unlock(&q->mutex);
    if (rc != 0)
        weft__die("pthread_mutex_unlock", rc);
}

/* Waits on c until signalled or the deadline: 0 or ETIMEDOUT. Records
 * `wait` for weft_dump first (the one place this backend sleeps). */
static int mq_wait(weft_queue *q, pthread_cond_t *c, const weft__deadline *d, const weft__diag_wait *wait)
{
    weft__diag_wait_begin(wait);
    /* The before-block hook (sched/help.h), as weft__futex_wait runs it: on
     * a pool worker, make the tasks its task spawned visible to the other
     * workers (or wake one) and go offline in QSBR while it sleeps; without
     * it a task that spawns and then waits here for that child can hang the
     * pool (tests/pool/lost_wakeup, mode mqueue). */
    bool hooked = weft__sched_block_begin();
    int rc = d->forever ? pthread_cond_wait(c, &q->mutex) : pthread_cond_timedwait(c, &q->mutex, &d->at);
    if (hooked)
        weft__sched_block_end();
    if (rc != 0 && rc != ETIMEDOUT)
        weft__die("pthread_cond_wait", rc);
    return rc;
}

static void mq_signal(pthread_cond_t *c, bool all)
{
    int rc = all ? pthread_cond_broadcast(c) : pthread_cond_signal(c);
    if (rc != 0)
        weft__die("pthread_cond_signal", rc);
}

static int mq_cond_init(weft_queue *q)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc != 0)
        return rc;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc != 0)
        goto out_attr;
    rc = pthread_mutex_init(&q->mutex, NULL);
    if (rc != 0)
        goto out_attr;
    rc = pthread_cond_init(&q->cond_not_empty, &ca);
    if (rc != 0)
        goto out_mutex;
    rc = pthread_cond_init(&q->cond_not_full, &ca);
    if (rc != 0)
        goto out_not_empty;
    rc = pthread_cond_init(&q->cond_all_done, &ca);
    if (rc != 0)
        goto out_not_full;
    q->unfinished = 0;
    pthread_condattr_destroy(&ca);
    return 0;
out_not_full:
    pthread_cond_destroy(&q->cond_not_full);
out_not_empty:
    pthread_cond_destroy(&q->cond_not_empty);
out_mutex:
    pthread_mutex_destroy(&q->mutex);
out_attr:
    pthread_condattr_destroy(&ca);
    return rc;
}

static void mq_cond_deinit(weft_queue *q)
{
    pthread_cond_destroy(&q->cond_all_done);
    pthread_cond_destroy(&q->cond_not_full);
    pthread_cond_destroy(&q->cond_not_empty);
    pthread_mutex_destroy(&q->mutex);
}

static bool mq_is_full(const weft_queue *q)
{
    return q->maxsize > 0 && q->store.n >= q->maxsize;
}

static int mq_put(weft_queue *q, void *item, double timeout)
{
    WEFT__DIAG_SCOPE(blk); /* the dump's record spans every sleep of this call */
    weft__deadline d;
    if (weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    int rc = 0;
    mq_lock(q);
    if (atomic_load_explicit(&q->shut, memory_order_relaxed)) {
        rc = ESHUTDOWN;
        goto out;
    }
    if (mq_is_full(q) && d.expired) {
        rc = EAGAIN;
        goto out;
    }
    while (mq_is_full(q)) {
        if (mq_wait(q, &q->cond_not_full, &d, &(weft__diag_wait){&blk, "weft_queue_put", q, WEFT__OBJ_QUEUE}) == ETIMEDOUT && mq_is_full(q)) {
            rc = ETIMEDOUT;
            goto out;
        }
        if (atomic_load_explicit(&q->shut, memory_order_relaxed)) {
            rc = ESHUTDOWN;
            goto out;
        }
    }
    rc = weft__store_push(&q->store, item);
    if (rc != 0)
        goto out;
    atomic_store_explicit(&q->count, q->store.n, memory_order_relaxed);
    q->unfinished++;
    mq_signal(&q->cond_not_empty, false);
out:
    mq_unlock(q);
    return rc;
}

static int mq_get(weft_queue *q, void **item, double timeout)
{
    WEFT__DIAG_SCOPE(blk); /* the dump's record spans every sleep of this call */
    weft__deadline d;
    if (weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    int rc = 0;
    mq_lock(q);
    bool shut = atomic_load_explicit(&q->shut, memory_order_relaxed);
    if (shut && q->store.n == 0) {
        rc = ESHUTDOWN;
        goto out;
    }
    if (q->store.n == 0 && d.expired) {
        rc = EAGAIN;
        goto out;
    }
    while (q->store.n == 0) {
        if (mq_wait(q, &q->cond_not_empty, &d, &(weft__diag_wait){&blk, "weft_queue_get", q, WEFT__OBJ_QUEUE}) == ETIMEDOUT && q->store.n == 0) {
            rc = ETIMEDOUT;
            goto out;
        }
        if (atomic_load_explicit(&q->shut, memory_order_relaxed) && q->store.n == 0) {
            rc = ESHUTDOWN;
            goto out;
        }
    }
    void *v = weft__store_pop(&q->store);
    atomic_store_explicit(&q->count, q->store.n, memory_order_relaxed);
    if (item != NULL)
        *item = v;
    mq_signal(&q->cond_not_full, false);
out:
    mq_unlock(q);
    return rc;
}

static size_t mq_unfinished_tasks(const weft_queue *q)
{
    mq_lock((weft_queue *)q);
    size_t n = q->unfinished;
    mq_unlock((weft_queue *)q);
    return n;
}

static int mq_task_done(weft_queue *q)
{
    int rc = 0;
    mq_lock(q);
    if (q->unfinished == 0) {
        rc = EINVAL;
    } else if (--q->unfinished == 0) {
        mq_signal(&q->cond_all_done, true);
    }
    mq_unlock(q);
    return rc;
}

static int mq_join(weft_queue *q, double timeout)
{
    WEFT__DIAG_SCOPE(blk); /* the dump's record spans every sleep of this call */
    weft__deadline d;
    if (weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    int rc = 0;
    mq_lock(q);
    while (q->unfinished > 0) {
        if (d.expired || (mq_wait(q, &q->cond_all_done, &d, &(weft__diag_wait){&blk, "weft_queue_join", q, WEFT__OBJ_QUEUE}) == ETIMEDOUT && q->unfinished > 0)) {
            rc = ETIMEDOUT;
            break;
        }
    }
    mq_unlock(q);
    return rc;
}

static void mq_shutdown(weft_queue *q, bool immediate)
{
    mq_lock(q);
    atomic_store_explicit(&q->shut, true, memory_order_relaxed);
    if (immediate) {
        while (q->store.n > 0) {
            void *v = weft__store_pop(&q->store);
            if (q->drop != NULL)
                q->drop(v);
            if (q->unfinished > 0)
                q->unfinished--;
        }
        atomic_store_explicit(&q->count, 0, memory_order_relaxed);
        mq_signal(&q->cond_all_done, true);
    }
    mq_signal(&q->cond_not_empty, true);
    mq_signal(&q->cond_not_full, true);
    mq_unlock(q);
}

static int mq_init(weft_queue *q, const weft_queue_options *o)
{
    weft__store_init(&q->store, o->kind, o->cmp);
    atomic_init(&q->count, 0);
    return mq_cond_init(q);
}

static void mq_deinit(weft_queue *q)
{
    while (q->store.n > 0) {
        void *v = weft__store_pop(&q->store);
        if (q->drop != NULL)
            q->drop(v);
    }
    weft__store_deinit(&q->store);
    mq_cond_deinit(q);
}

static size_t mq_qsize(const weft_queue *q)
{
    return atomic_load_explicit(&((weft_queue *)q)->count, memory_order_relaxed);
}

const weft__queue_backend weft__queue_mutex = {
    .init = mq_init,
    .deinit = mq_deinit,
    .put = mq_put,
    .get = mq_get,
    .qsize = mq_qsize,
    .unfinished_tasks = mq_unfinished_tasks,
    .task_done = mq_task_done,
    .join = mq_join,
    .shutdown = mq_shutdown,
};
