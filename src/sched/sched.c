/* sched/sched.c: the neutral part of the scheduler: the ops table's
 * dispatch, and what both schedulers share.
 *
 * Design note. Two implementations of one concept, the stealing scheduler
 * (steal.h and its files) and its mutex twin (mutexq.c), sit behind one small
 * table of operations (sched.h, weft__sched_ops), chosen once at init. The
 * rule for what goes through the table:
 *   - pool-level entry points go through it: init, deinit, abandon, the
 *     worker thread's enter/run/leave, spawns from threads that are not a
 *     stealing worker of the pool, close, settle, and the helping step of a
 *     general wait (help.c). Each is called once per pool, per worker, per
 *     outside submission or per blocking wait, where an indirect call is
 *     noise;
 *   - the stealing scheduler's fork-join hot paths never do: a spawn from a
 *     task, the join's pop and run, the helping pop of a group wait
 *     (steal.h's inline functions, called directly by group.c and by
 *     weft__sched_spawn below). They need no test of which scheduler runs
 *     because they are reached only through weft__tls_worker, which only
 *     the stealing scheduler's workers set: on a mutex worker it is NULL,
 *     and the same calls take the general path (weft__tls_self, the table),
 *     as a thread outside the pool would, except that admission and the
 *     spawn still see it as a worker of its pool (weft__tls_self).
 * So no hot path branches on the scheduler's kind, neither scheduler calls
 * into the other's files (mutexq.c includes neither steal.h nor any of the
 * stealing files' declarations), and the mutex twin, a baseline, pays the
 * indirect calls: one table load and call per spawn and per helping step.
 *
 * Neutral state (sched.h): the workers array with each worker's free list
 * (records.c) and counters, the spare ring, the flags closed, finished,
 * cancelling and broken, and the outside-spawn counters. Init builds that
 * first and then calls the table's init; deinit runs in the reverse order.
 */
#include "sched/sched.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "sched/records.h"
#include "sched/steal.h"
#include "thread/fork.h"

_Thread_local weft__worker *weft__tls_self __attribute__((tls_model("initial-exec")));

enum { SPARE_RING = 1024 };

int weft__sched_init(weft__sched *s, size_t nworkers, const weft__sched_ops *ops)
{
    s->ops = ops;
    s->nworkers = nworkers;
    s->workers = aligned_alloc(WEFT_CACHELINE, nworkers * sizeof(weft__worker));
    if (s->workers == NULL)
        return ENOMEM;
    memset(s->workers, 0, nworkers * sizeof(weft__worker));
    for (size_t i = 0; i < nworkers; i++) {
        weft__worker *w = &s->workers[i];
        w->s = s;
        w->index = (unsigned)i;
        w->rng = 0x9e3779b97f4a7c15ull * (i + 1);
    }
    int rc = weft__ring_init(&s->spare, SPARE_RING);
    if (rc == 0 && (rc = ops->init(s)) != 0)
        weft__ring_deinit(&s->spare);
    if (rc != 0) {
        free(s->workers);
        return rc;
    }
    atomic_init(&s->closed, false);
    atomic_init(&s->finished, false);
    atomic_init(&s->cancelling, false);
    atomic_init(&s->broken, false);
    atomic_init(&s->outside_cancelled, 0);
    for (size_t i = 0; i < WEFT__STRIPES; i++)
        atomic_init(&s->outside_spawned[i].n, 0);
    return 0;
}

void weft__sched_deinit(weft__sched *s)
{
    s->ops->deinit(s);
    for (size_t i = 0; i < s->nworkers; i++)
        weft__task_free_list_drain(&s->workers[i]);
    void *item;
    while (weft__ring_pop(&s->spare, &item) == 0)
        free(item);
    weft__ring_deinit(&s->spare);
    free(s->workers);
}

void weft__sched_worker_enter(weft__sched *s, size_t index)
{
    weft__tls_self = &s->workers[index];
    s->ops->enter(&s->workers[index]);
}

void weft__sched_worker_run(weft__sched *s)
{
    s->ops->run(weft__tls_self);
}

void weft__sched_worker_leave(weft__sched *s)
{
    s->ops->leave(weft__tls_self);
    weft__tls_self = NULL;
}

int weft__sched_spawn(weft__sched *s, weft__task *t)
{
    /* The stealing scheduler's own workers: its fast path, directly (the
     * design note); everyone else through the table. */
    weft__worker *w = weft__tls_worker;
    if (WEFT_LIKELY(w != NULL && w->s == s))
        return weft__worker_spawn(w, t);
    return s->ops->spawn(s, t);
}

void weft__sched_count_outside_spawn(weft__sched *s)
{
    size_t stripe = (weft__self_token() >> 6) % WEFT__STRIPES;
    atomic_fetch_add_explicit(&s->outside_spawned[stripe].n, 1, memory_order_relaxed);
}

void weft__sched_drop(weft__sched *s, weft__task *list)
{
    while (list != NULL) {
        weft__task *t = list;
        list = t->next;
        weft__task copy = *t;
        weft__task_free(s, t);
        (void)copy.exec(&copy, ECANCELED);
        atomic_fetch_add_explicit(&s->outside_cancelled, 1, memory_order_relaxed);
    }
}

void weft__sched_close(weft__sched *s, bool cancel)
{
    if (cancel)
        atomic_store_explicit(&s->cancelling, true, memory_order_relaxed);
    s->ops->close(s, cancel);
}

/* No ordering needed: a stale read only ends the wait a little early or
 * late, and the deadline bounds it; the close that follows is what orders
 * the drop. */
void weft__sched_settle(weft__sched *s, double max_s)
{
    weft__deadline d;
    (void)weft__deadline_init(&d, max_s);
    while (!s->ops->settled(s) && !weft__deadline_passed(&d))
        sched_yield();
}

int weft__sched_spare_start(weft__sched *s, const char *name, size_t stack_size)
{
    return s->ops->spare_start != NULL ? s->ops->spare_start(s, name, stack_size) : EOPNOTSUPP;
}

void weft__sched_spare_stop(weft__sched *s)
{
    if (s->ops->spare_stop != NULL)
        s->ops->spare_stop(s);
}

void weft__sched_break(weft__sched *s)
{
    atomic_store_explicit(&s->broken, true, memory_order_relaxed);
}
