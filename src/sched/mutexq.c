/* sched/mutexq.c: the mutex scheduler (WEFT_SCHED_MUTEX), weft's baseline:
 * one FIFO of tasks behind a pthread mutex and condition variable, the
 * classic thread-pool design (e.g. libuv's threadpool.c). No deques, no
 * stealing; every spawn, from inside or outside, goes to the one queue.
 *
 * Design note.
 * Invariants (all under mu): the list holds every queued task, oldest at
 * head; nidle counts workers blocked on cv; a worker waits on cv only after
 * seeing the list empty under mu, and every append signals cv when nidle is
 * non-zero, so no wake-up is lost (the condition and the count are read and
 * written under the same mutex).
 *
 * Helping rule, as for the stealing scheduler (pool.h): a waiting task may
 * run only tasks it spawned, directly or through tasks it helped run. Each
 * worker numbers the frames (task executions) it starts (w->seq, increasing);
 * a spawn tags the record with (worker, number of the running frame). While
 * frame F waits on worker w, every frame w starts is nested inside F, so its
 * number is larger: the tasks F may run are exactly those tagged (w, n) with
 * n >= F. A helper scans the list from the newest end for such a tag.
 *
 * Finishing: once closed, the last worker to find the list empty while all
 * others wait on cv (nidle == nworkers - 1) marks the scheduler finished and
 * broadcasts; workers blocked in helping waits are not counted, so a task
 * that still runs keeps the workers alive for the work it may spawn.
 *
 * A burst of outside submissions to an idle pool: each append signals one
 * waiter while any waits, so k submissions wake at most min(k, nidle)
 * workers, one per task (tests/pool: burst_to_idle_pool_...).
 *
 * It is reached only through its ops table (weft__mutexq_ops, sched.c's
 * design note): its workers are weft__tls_self, never weft__tls_worker, so
 * the stealing scheduler's inline fast paths never see them; it has no frame
 * stack (weft_spawn on its workers calls the function at once).
 */
#include "sched/sched.h"

#include <errno.h>
#include <stdlib.h>

#include "sched/giveback.h"
#include "sched/records.h"

static int fifo_init(weft__sched *s)
{
    weft__fifo *q = &s->fifo;
    int rc = pthread_mutex_init(&q->mu, NULL);
    if (rc != 0)
        return rc;
    if ((rc = pthread_cond_init(&q->cv, NULL)) != 0) {
        pthread_mutex_destroy(&q->mu);
        return rc;
    }
    q->head = q->tail = NULL;
    q->nidle = 0;
    q->closed = false;
    return 0;
}

static void fifo_deinit(weft__sched *s)
{
    weft__fifo *q = &s->fifo;
    while (q->head != NULL) {
        weft__task *t = q->head;
        q->head = t->next;
        free(t);
    }
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
}

static void lock(weft__fifo *q)
{
    int rc = pthread_mutex_lock(&q->mu);
    if (rc != 0)
        weft__die("pthread_mutex_lock", rc);
}

static void unlock(weft__fifo *q)
{
    int rc = pthread_mutex_unlock(&q->mu);
    if (rc != 0)
        weft__die("pthread_mutex_unlock", rc);
}

static void append(weft__fifo *q, weft__task *t)
{
    t->next = NULL;
    t->prev = q->tail;
    if (q->tail != NULL)
        q->tail->next = t;
    else
        q->head = t;
    q->tail = t;
}

static void unlink_task(weft__fifo *q, weft__task *t)
{
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        q->head = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    else
        q->tail = t->prev;
}

/* From any thread: a worker of s tags the record for the helping rule and
 * may spawn after close; any other thread is outside. */
static int fifo_spawn(weft__sched *s, weft__task *t)
{
    weft__fifo *q = &s->fifo;
    weft__worker *w = weft__tls_self;
    if (w != NULL && w->s != s)
        w = NULL;
    t->tag &= WEFT__TASK_CANCELLABLE;
    if (w != NULL)
        t->tag |= (uint64_t)(w->index + 1) << WEFT__TASK_WORKER_SHIFT | (w->frame & WEFT__TASK_SEQ_MASK);
    lock(q);
    if (w == NULL && q->closed) {
        unlock(q);
        return ESHUTDOWN;
    }
    append(q, t);
    if (q->nidle != 0)
        pthread_cond_signal(&q->cv);
    unlock(q);
    if (w != NULL)
        weft__stat_inc(&w->stats.spawned);
    else
        weft__sched_count_outside_spawn(s);
    return 0;
}

static weft__task *fifo_next(weft__worker *w)
{
    weft__sched *s = w->s;
    weft__fifo *q = &s->fifo;
    lock(q);
    for (;;) {
        weft__task *t = q->head;
        if (t != NULL) {
            unlink_task(q, t);
            unlock(q);
            return t;
        }
        if (atomic_load_explicit(&s->finished, memory_order_relaxed)) {
            unlock(q);
            return NULL;
        }
        if (q->closed && q->nidle + 1 == s->nworkers) {
            atomic_store_explicit(&s->finished, true, memory_order_relaxed);
            pthread_cond_broadcast(&q->cv);
            unlock(q);
            return NULL;
        }
        if (weft__giveback_claim(q->nidle + 1 == s->nworkers)) {
            /* As idle.c: a drain's memory goes back before we wait
             * (sched/giveback.c), outside the lock. */
            unlock(q);
            weft__giveback_run(s);
            lock(q);
            continue;
        }
        q->nidle++;
        weft__stat_inc(&w->stats.parks);
        int rc = pthread_cond_wait(&q->cv, &q->mu);
        if (rc != 0)
            weft__die("pthread_cond_wait", rc);
        weft__stat_inc(&w->stats.wakeups);
        q->nidle--;
    }
}

/* n >= f for 47-bit frame numbers that wrap (serial-number arithmetic, as
 * RFC 1982): n - f modulo 2^47 is below 2^46. Exact whenever the two are
 * fewer than 2^46 frames of one worker apart. Here f is a frame that still
 * waits and n the frame that spawned a still-queued task of that worker, so
 * it would take a frame waiting, or a task staying queued, across 2^46
 * (7e13) task starts of one worker, about 20 hours at one task per
 * nanosecond and years at the FIFO's real cost, to misjudge one; before this
 * the plain comparison failed at the first wrap of the 47-bit counter. */
static bool seq_at_or_after(uint64_t n, uint64_t f)
{
    return ((n - f) & WEFT__TASK_SEQ_MASK) < ((uint64_t)1 << (WEFT__TASK_SEQ_BITS - 1));
}

static weft__task *fifo_help_pop(weft__worker *w)
{
    weft__fifo *q = &w->s->fifo;
    uint64_t me = (uint64_t)(w->index + 1);
    lock(q);
    weft__task *t = q->tail;
    for (; t != NULL; t = t->prev) {
        uint64_t tag = t->tag;
        if ((tag >> WEFT__TASK_WORKER_SHIFT & WEFT__TASK_WORKER_MASK) == me &&
            seq_at_or_after(tag & WEFT__TASK_SEQ_MASK, w->frame & WEFT__TASK_SEQ_MASK)) {
            unlink_task(q, t);
            break;
        }
    }
    unlock(q);
    return t;
}

static void fifo_close(weft__sched *s, bool cancel)
{
    weft__fifo *q = &s->fifo;
    weft__task *drop = NULL;
    lock(q);
    q->closed = true;
    if (cancel) {
        weft__task *t = q->head;
        while (t != NULL) {
            weft__task *next = t->next;
            if (t->tag & WEFT__TASK_CANCELLABLE) {
                unlink_task(q, t);
                t->next = drop;
                drop = t;
            }
            t = next;
        }
    }
    pthread_cond_broadcast(&q->cv);
    unlock(q);
    weft__sched_drop(s, drop);
}

static bool fifo_settled(weft__sched *s)
{
    weft__fifo *q = &s->fifo;
    lock(q);
    bool settled = q->head == NULL || q->nidle == 0;
    if (!settled)
        pthread_cond_broadcast(&q->cv);
    unlock(q);
    return settled;
}

/* Runs a dequeued task on w as frame number ++seq (the helping rule above),
 * with the pool's drop flags applied; frees the record afterwards. */
static void fifo_run(weft__worker *w, weft__task *t, bool helped)
{
    int how = weft__sched_task_how(w->s, t);
    uint64_t saved_frame = w->frame;
    w->frame = ++w->seq;
    bool ran = t->exec(t, how);
    weft__worker_task_free(w, t);
    w->frame = saved_frame;
    weft__sched_count_run(w, ran, helped);
}

static bool fifo_help_one(weft__worker *w)
{
    weft__task *t = fifo_help_pop(w);
    if (t == NULL)
        return false;
    fifo_run(w, t, true);
    return true;
}

static void fifo_worker_run(weft__worker *w)
{
    weft__task *t;
    while ((t = fifo_next(w)) != NULL)
        fifo_run(w, t, false);
}

static void fifo_enter(weft__worker *w)
{
    (void)w;
}

static void fifo_leave(weft__worker *w)
{
    (void)w;
}

/* After fork (inherited.c): the list only when its lock is free. */
static void fifo_abandon(weft__sched *s)
{
    if (pthread_mutex_trylock(&s->fifo.mu) != 0)
        return;
    weft__task *t = s->fifo.head;
    while (t != NULL) {
        weft__task *next = t->next;
        weft__task_abandon(t);
        t = next;
    }
    s->fifo.head = s->fifo.tail = NULL;
    pthread_mutex_unlock(&s->fifo.mu);
}

const weft__sched_ops weft__mutexq_ops = {
    .name = "mutex",
    .init = fifo_init,
    .deinit = fifo_deinit,
    .abandon = fifo_abandon,
    .enter = fifo_enter,
    .run = fifo_worker_run,
    .leave = fifo_leave,
    .spawn = fifo_spawn,
    .close = fifo_close,
    .settled = fifo_settled,
    .help_one = fifo_help_one,
};
