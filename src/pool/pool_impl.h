/* pool/pool_impl.h: the pool object and the internal calls shared by the
 * pool's files (pool.c, group.c, map.c, parallel_for.c). Internal. */
#ifndef WEFT_POOL_POOL_IMPL_H
#define WEFT_POOL_POOL_IMPL_H

#include <pthread.h>

#include "sched/sched.h"
#include "sched/steal.h"
#include "sync/eventcount.h"
#include "thread/fork.h"
#include "weft/pool.h"
#include "weft/thread.h"

/* Allocated line-aligned (the scheduler's hot fields are line-aligned).
 * Lock order: admin, then join; neither is held while tasks run. */
struct weft_pool {
    weft__sched sched;
    weft_thread **threads; /* the workers, weft threads (pool.c) */
    void *args; /* each thread's start argument (pool.c) */
    size_t nthreads;
    char prefix[64];
    int (*initializer)(void *initarg);
    void *initarg;
    /* Start gate: START_WAIT until every thread exists, then START_GO (or
     * START_ABORT when creating a thread failed). A futex word. */
    _Atomic uint32_t start;
    /* Workers whose initializer has not returned yet. A futex word. */
    _Atomic uint32_t init_pending;
    /* Workers that reached their task loop (past the initializer). */
    _Atomic uint32_t nready;
    _Atomic bool shut; /* shutdown was called: refuse new submissions */
    pthread_mutex_t admin;
    bool cancel_done;
    pthread_mutex_t join;
    bool joined;
    /* weft__fork_gen() at creation: a pool that sees it changed was
     * inherited across fork() and its workers do not exist (thread/fork.c). */
    uint32_t fork_gen;
    /* The list of live pools that the exit sequence shuts down (pool.c),
     * under its lock. */
    struct weft_pool *live_prev, *live_next;
    bool live, exit_done, exit_busy;

    /* Task ownership (pool.c, design note). */
    void (*drop)(void *arg);
    void (*on_task_error)(void *ctx, void *arg, int code);
    void *on_task_error_ctx;

    /* Back-pressure (backpressure.c, design note). max_pending 0 = unbounded.
     * Bounded: `pending` counts outside submissions not started (one RMW
     * when submitted, one when started); submitters short of room wait on
     * `room`. Unbounded: no shared counter; pending() sums the submitters'
     * stripes minus the per-worker starts and the outside drops. */
    size_t max_pending;
    WEFT_CACHE_ALIGNED _Atomic size_t pending;
    weft__eventcount room;
    struct {
        WEFT_CACHE_ALIGNED _Atomic uint64_t n;
    } submitted[WEFT__STRIPES];
    struct weft__pool_started *started; /* per worker, line-aligned array */
    WEFT_CACHE_ALIGNED _Atomic uint64_t dropped_outside;
};

/* Whether p was inherited from a parent process (its workers are gone). */
static inline bool weft__pool_inherited(const weft_pool *p)
{
    return WEFT_UNLIKELY(p->fork_gen != weft__fork_gen());
}

/* Outside submissions a worker started (or dropped): written by that worker
 * only, read by weft_pool_pending. One line each. */
typedef struct weft__pool_started {
    WEFT_CACHE_ALIGNED _Atomic uint64_t n;
} weft__pool_started;

/* Whether the calling thread is one of p's workers. */
static inline bool weft__pool_is_own_worker(const weft_pool *p)
{
    return (weft__tls_self != NULL && weft__tls_self->s == &p->sched) || weft__tls_spare == &p->sched;
}

/* The checks every entry point makes before queueing work: EPIPE for a broken
 * pool; ESHUTDOWN for submissions after shutdown (when refuse_own, also from
 * the pool's own tasks: Python refuses submit() after shutdown everywhere). */
int weft__pool_admit(const weft_pool *p, bool refuse_own);

/* Back-pressure (backpressure.c). room_take: a slot for one outside
 * submission of a bounded pool: 0, EAGAIN (none and d expired), ETIMEDOUT,
 * ESHUTDOWN, EPIPE. room_give: the slot back (the task started or was
 * dropped, or its submission failed). room_wake_all: shutdown or break.
 * count_submit/count_start: the unbounded pools' counts (delta -1 undoes a
 * submit whose spawn failed). */
int weft__pool_room_take(weft_pool *p, const weft__deadline *d);
void weft__pool_room_give(weft_pool *p);
void weft__pool_room_wake_all(weft_pool *p);
void weft__pool_count_submit(weft_pool *p, int delta);
void weft__pool_count_start(weft_pool *p);

/* Group internals used by parallel_for: count t on g and spawn it on g's
 * pool (0, or the error; t is freed on error), and mark one task of g done. */
int weft__group_spawn(weft_group *g, weft__task *t);
void weft__group_done(weft_group *g);

#endif /* WEFT_POOL_POOL_IMPL_H */
