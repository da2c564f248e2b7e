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
 */
#include "sched/sched.h"

#include <errno.h>
#include <stdlib.h>

int weft__fifo_init(weft__fifo *q)
{
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

void weft__fifo_deinit(weft__sched *s)
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

int weft__fifo_spawn(weft__sched *s, weft__task *t, weft__worker *w)
{
    weft__fifo *q = &s->fifo;
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

weft__task *weft__fifo_next(weft__worker *w)
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

weft__task *weft__fifo_help_pop(weft__worker *w)
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

void weft__fifo_close(weft__sched *s, bool cancel)
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

bool weft__fifo_settled(weft__sched *s)
{
    weft__fifo *q = &s->fifo;
    lock(q);
    bool settled = q->head == NULL || q->nidle == 0;
    if (!settled)
        pthread_cond_broadcast(&q->cv);
    unlock(q);
    return settled;
}
