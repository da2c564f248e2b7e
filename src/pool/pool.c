/* pool/pool.c: weft_pool, Python's ThreadPoolExecutor on weft's scheduler.
 *
 * Design note.
 * Life of a pool: create allocates the scheduler and starts every worker
 * behind a start gate (so a failed pthread_create can abort the others before
 * they touch the scheduler); each worker names itself, enters the scheduler,
 * runs the initializer, waits at the init barrier for every other worker's
 * initializer (so that either all tasks run or, broken, none does), then runs
 * tasks until the scheduler is finished. shutdown closes the scheduler (see
 * sched.h for what "closed" and "finished" mean) and, with wait, joins the
 * workers; destroy is shutdown(wait) and frees.
 *
 * Submissions: a record tagged cancellable carries fn, arg and the future (or
 * none for fire and forget: no future is allocated at all). submit_exec runs
 * it, or drops it: ECANCELED (shutdown with cancel_futures) cancels the
 * future, EPIPE (broken pool) finishes it with EPIPE.
 *
 * Task ownership: the record carries its pool, so that exec can hand a
 * dropped task's argument to opts.drop and a failed fire-and-forget task's
 * code to opts.on_task_error. exec runs exactly once per queued record (the
 * scheduler's contract: task.h), and every exec either runs fn or drops,
 * never both: that is all "drop exactly once, never for a task that ran"
 * needs. A record whose spawn failed never reaches exec (the caller keeps
 * its argument). Three exec variants differ only in the back-pressure
 * accounting (backpressure.c): own tasks count nothing, outside tasks count
 * a start (unbounded) or give back their slot (bounded), at the top of exec.
 *
 * Racing shutdown: a submission from outside passes the `shut` check and
 * then either enters the injector before it closes (and runs: workers finish
 * only once the closed injector is drained) or finds it closed (ESHUTDOWN).
 * Nothing in between can lose it.
 */
#include "pool/pool_impl.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag/diag_impl.h"
#include "pool/future_impl.h"
#include "sched/giveback.h"
#include "sched/stats.h"
#include "thread/exit.h"
#include "thread/fork.h"
#include "weft/thread.h"

enum { START_WAIT = 0, START_GO = 1, START_ABORT = 2 };

/* How long shutdown(cancel_futures) lets idle workers claim queued tasks, at
 * most (pool.h, "Shutdown"): normally a wake-up's latency, microseconds. */
#define SETTLE_MAX_S 0.05

typedef struct worker_arg {
    weft_pool *pool;
    size_t index;
} worker_arg;

int weft__pool_admit(const weft_pool *p, bool refuse_own)
{
    if (WEFT_UNLIKELY(atomic_load_explicit(&p->sched.broken, memory_order_relaxed)))
        return EPIPE;
    if (WEFT_UNLIKELY(atomic_load_explicit(&p->shut, memory_order_relaxed)) &&
        (refuse_own || !weft__pool_is_own_worker(p)))
        return ESHUTDOWN;
    if (weft__pool_inherited(p))
        return ESHUTDOWN; /* nobody would run it */
    return 0;
}

/* ---- workers -------------------------------------------------------------- */

static void wait_word_zero(_Atomic uint32_t *word)
{
    uint32_t v;
    /* acquire: pairs with the release decrement of the last worker, so every
     * initializer's effects (and a break) are visible before tasks run. */
    while ((v = atomic_load_explicit(word, memory_order_acquire)) != 0)
        (void)weft__futex_wait(word, v, NULL);
}

static void init_barrier(weft_pool *p)
{
    /* acq_rel: release publishes this worker's initializer (and a possible
     * break) to the workers' acquire loads in wait_word_zero; acquire takes
     * the other workers' in turn when we are the last. */
    if (atomic_fetch_sub_explicit(&p->init_pending, 1, memory_order_acq_rel) == 1)
        weft__futex_wake(&p->init_pending, INT32_MAX);
    else
        wait_word_zero(&p->init_pending);
}

static int worker_main(void *arg)
{
    worker_arg *wa = arg;
    weft_pool *p = wa->pool;
    size_t index = wa->index;
    uint32_t go;
    /* acquire: pairs with the release store of the gate in create, so the
     * pool is fully built before we use it. */
    while ((go = atomic_load_explicit(&p->start, memory_order_acquire)) == START_WAIT)
        (void)weft__futex_wait(&p->start, START_WAIT, NULL);
    if (go == START_ABORT)
        return 0;
    weft__diag_thread_worker(p, index);
    weft__sched_worker_enter(&p->sched, index);
    if (p->initializer != NULL) {
        if (p->initializer(p->initarg) != 0) {
            weft__sched_break(&p->sched);
            weft__pool_room_wake_all(p);
        }
        init_barrier(p);
    }
    /* Relaxed: settle() only uses it to wait for the workers to be there. */
    atomic_fetch_add_explicit(&p->nready, 1, memory_order_relaxed);
    weft__sched_worker_run(&p->sched);
    weft__sched_worker_leave(&p->sched);
    return 0;
}

static size_t default_workers(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (size_t)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

static void release_gate(weft_pool *p, uint32_t how)
{
    /* release: publishes the whole pool to the workers' acquire loads of the
     * gate in worker_main. */
    atomic_store_explicit(&p->start, how, memory_order_release);
    weft__futex_wake(&p->start, INT32_MAX);
}

static void join_threads(weft_pool *p)
{
    for (size_t i = 0; i < p->nthreads; i++) {
        int rc = weft_thread_join(p->threads[i], WEFT_FOREVER);
        if (rc != 0)
            weft__die("weft_thread_join", rc);
    }
}

/* Workers are weft threads named "<prefix>_<i>" (Python's executor names
 * its threads thread_name_prefix + "_" + i), daemon so that the exit-time
 * join of non-daemon threads passes them: the pool's own exit shutdown
 * (below) joins them after the queued work ran. */
static int start_threads(weft_pool *p, worker_arg *args, size_t stack_size)
{
    size_t n = p->sched.nworkers;
    int rc = 0;
    for (; p->nthreads < n; p->nthreads++) {
        char name[96];
        snprintf(name, sizeof name, "%s_%zu", p->prefix, p->nthreads);
        weft_thread_attr attr = {name, true, stack_size};
        args[p->nthreads] = (worker_arg){p, p->nthreads};
        weft_thread **t = &p->threads[p->nthreads];
        rc = weft_thread_create(t, worker_main, &args[p->nthreads], &attr);
        if (rc != 0)
            break;
        if ((rc = weft_thread_start(*t)) != 0) {
            weft_thread_destroy(*t);
            break;
        }
    }
    if (rc == 0) {
        release_gate(p, START_GO);
        return 0;
    }
    release_gate(p, START_ABORT);
    join_threads(p);
    for (size_t i = 0; i < p->nthreads; i++)
        weft_thread_destroy(p->threads[i]);
    return rc == ENOMEM ? ENOMEM : rc == EINVAL ? EINVAL : EAGAIN;
}

/* ---- pools at exit ---------------------------------------------------------
 * Live pools that did not opt out, in a list that the exit sequence walks
 * (thread/exit.h). The exit walk shuts one pool at a time down with wait
 * outside the lock (its tasks may create or destroy other pools); `exit_busy`
 * keeps a concurrent destroy of that pool waiting until it is done. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    weft_pool *head;
    bool exiting; /* the exit sequence has begun: new pools start shut */
    bool hooked;
} live = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, false, false};

/* fork (thread/fork.c's handler, slot LIVE_POOLS; its note gives the lock
 * order): the list is held across fork, so the child finds it consistent. A
 * forked child has none of the parent's workers: it must not wait for them
 * at its own exit. The parent's pools are forgotten (not freed) there. */
static void live_fork_prepare(void)
{
    pthread_mutex_lock(&live.mu);
}

static void live_fork_parent(void)
{
    pthread_mutex_unlock(&live.mu);
}

static void live_fork_child(void)
{
    for (weft_pool *p = live.head; p != NULL; p = p->live_next)
        p->live = false;
    live.head = NULL;
    /* The forking thread holds the mutex (prepare). The condition variable
     * may have had waiters (destroys waiting on exit_busy) that vanished. */
    pthread_cond_init(&live.cv, NULL);
    pthread_mutex_unlock(&live.mu);
}

static const weft__fork_hooks live_fork = {live_fork_prepare, live_fork_parent, live_fork_child};

__attribute__((constructor)) static void live_fork_register(void)
{
    weft__fork_register(WEFT__FORK_LIVE_POOLS, &live_fork);
}

static void pools_at_exit(void)
{
    pthread_mutex_lock(&live.mu);
    live.exiting = true;
    for (;;) {
        weft_pool *p = live.head;
        while (p != NULL && p->exit_done)
            p = p->live_next;
        if (p == NULL)
            break;
        p->exit_done = p->exit_busy = true;
        pthread_mutex_unlock(&live.mu);
        /* From one of p's own tasks (exit() in a task) it cannot wait for
         * itself: refuse new work at least. */
        if (weft_pool_shutdown(p, true, false) == EDEADLK)
            (void)weft_pool_shutdown(p, false, false);
        pthread_mutex_lock(&live.mu);
        p->exit_busy = false;
        pthread_cond_broadcast(&live.cv);
    }
    pthread_mutex_unlock(&live.mu);
}

/* false: the exit sequence has begun; p must start shut. */
static bool live_insert(weft_pool *p)
{
    /* The first pool in the process registers the exit sequence once more
     * (thread/exit.h); outside the lock, which stays a leaf (thread/fork.c). */
    weft__exit_rearm();
    pthread_mutex_lock(&live.mu);
    if (!live.hooked) {
        live.hooked = true;
        weft__exit_set_pools_hook(pools_at_exit);
    }
    bool ok = !live.exiting;
    if (ok) {
        p->live_prev = NULL;
        p->live_next = live.head;
        if (live.head != NULL)
            live.head->live_prev = p;
        live.head = p;
        p->live = true;
    }
    pthread_mutex_unlock(&live.mu);
    return ok;
}

static void live_remove(weft_pool *p)
{
    if (!p->live)
        return;
    pthread_mutex_lock(&live.mu);
    while (p->exit_busy)
        pthread_cond_wait(&live.cv, &live.mu);
    if (p->live_prev != NULL)
        p->live_prev->live_next = p->live_next;
    else
        live.head = p->live_next;
    if (p->live_next != NULL)
        p->live_next->live_prev = p->live_prev;
    p->live = false;
    pthread_mutex_unlock(&live.mu);
}

int weft_pool_create(weft_pool **out, const weft_pool_options *opts)
{
    static const weft_pool_options defaults = WEFT_POOL_OPTIONS_INIT;
    if (out == NULL)
        return EINVAL;
    if (opts == NULL)
        opts = &defaults;
    if (opts->max_workers > WEFT_POOL_MAX_WORKERS ||
        (opts->scheduler != WEFT_SCHED_STEALING && opts->scheduler != WEFT_SCHED_MUTEX) ||
        (opts->stack_size != 0 && opts->stack_size < (size_t)PTHREAD_STACK_MIN))
        return EINVAL;
    size_t n = opts->max_workers != 0 ? opts->max_workers : default_workers();
    if (n > WEFT_POOL_MAX_WORKERS)
        n = WEFT_POOL_MAX_WORKERS;
    weft__fork_init();

    size_t size = (sizeof(weft_pool) + WEFT_CACHELINE - 1) / WEFT_CACHELINE * WEFT_CACHELINE;
    weft_pool *p = aligned_alloc(WEFT_CACHELINE, size);
    if (p == NULL)
        return ENOMEM;
    memset(p, 0, sizeof *p);
    p->threads = malloc(n * sizeof *p->threads);
    worker_arg *args = malloc(n * sizeof *args);
    p->started = aligned_alloc(WEFT_CACHELINE, n * sizeof *p->started);
    int rc = p->threads != NULL && args != NULL && p->started != NULL ? 0 : ENOMEM;
    if (rc == 0)
        rc = weft__sched_init(&p->sched, n,
                              opts->scheduler == WEFT_SCHED_MUTEX ? &weft__mutexq_ops : &weft__steal_ops);
    if (rc != 0) {
        free(p->started);
        free(args);
        free(p->threads);
        free(p);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        atomic_init(&p->started[i].n, 0);
    for (size_t i = 0; i < WEFT__STRIPES; i++)
        atomic_init(&p->submitted[i].n, 0);
    atomic_init(&p->dropped_outside, 0);
    atomic_init(&p->pending, 0);
    weft__ec_init(&p->room);
    p->max_pending = opts->max_pending;
    p->drop = opts->drop;
    p->on_task_error = opts->on_task_error;
    p->on_task_error_ctx = opts->on_task_error_ctx;
    static _Atomic unsigned pool_counter;
    if (opts->thread_name_prefix != NULL && opts->thread_name_prefix[0] != '\0')
        snprintf(p->prefix, sizeof p->prefix, "%s", opts->thread_name_prefix);
    else /* Python: "ThreadPoolExecutor-%d" % counter */
        snprintf(p->prefix, sizeof p->prefix, "weft-%u",
                 atomic_fetch_add_explicit(&pool_counter, 1, memory_order_relaxed));
    p->initializer = opts->initializer;
    p->initarg = opts->initarg;
    atomic_init(&p->start, START_WAIT);
    atomic_init(&p->init_pending, (uint32_t)n);
    atomic_init(&p->nready, 0);
    atomic_init(&p->shut, false);
    pthread_mutex_init(&p->admin, NULL);
    pthread_mutex_init(&p->join, NULL);
    p->nthreads = 0;
    p->fork_gen = weft__fork_gen();
    rc = start_threads(p, args, opts->stack_size);
    if (rc != 0) {
        pthread_mutex_destroy(&p->join);
        pthread_mutex_destroy(&p->admin);
        weft__sched_deinit(&p->sched);
        free(p->started);
        free(args);
        free(p->threads);
        free(p);
        return rc;
    }
    /* The workers read their worker_arg before anything else; it must live
     * until all have: keep it with the pool. */
    p->args = args;
    /* The spare thread (sched/spare.c): a pool that cannot start one runs
     * without it, with outside work waiting for a worker as before. */
    if (!opts->no_spare) {
        char name[96];
        snprintf(name, sizeof name, "%s_spare", p->prefix);
        (void)weft__sched_spare_start(&p->sched, name, opts->stack_size);
    }
    if (!opts->no_exit_wait && !live_insert(p))
        (void)weft_pool_shutdown(p, false, false);
    weft__diag_pool_register(p);
    *out = p;
    return 0;
}

size_t weft_pool_workers(const weft_pool *p)
{
    return p != NULL ? p->sched.nworkers : 0;
}

/* ---- submit --------------------------------------------------------------- */

static void drop_arg(const weft_pool *p, void *arg)
{
    if (p->drop != NULL)
        p->drop(arg);
}

static void report_error(const weft_pool *p, void *arg, int code)
{
    if (p->on_task_error != NULL) {
        p->on_task_error(p->on_task_error_ctx, arg, code);
        return;
    }
    char name[16] = "?", buf[128];
    (void)pthread_getname_np(pthread_self(), name, sizeof name);
    fprintf(stderr, "Exception in task on thread %s: %s\n", name, strerror_r(code, buf, sizeof buf));
}

/* Runs or drops a submission (design note: task ownership). */
static bool submit_run(const weft__task *t, int how)
{
    const weft_pool *p = t->u.submit.pool;
    weft_future *f = t->u.submit.future;
    void *arg = t->u.submit.arg;
    if (WEFT_UNLIKELY(how == ECANCELED)) {
        if (f != NULL) {
            (void)weft__future_cancel_if_pending(f);
            weft_future_release(f);
        }
        drop_arg(p, arg);
        return false;
    }
    if (WEFT_UNLIKELY(how == EPIPE)) {
        if (f != NULL) {
            if (weft__future_start(f))
                weft__future_finish(f, EPIPE, NULL);
            weft_future_release(f);
        }
        drop_arg(p, arg);
        return false;
    }
    if (f != NULL && !weft__future_start(f)) {
        weft_future_release(f);
        drop_arg(p, arg);
        return false;
    }
    void *result = NULL;
    uint64_t frames = weft__frames_mark();
    int code = t->u.submit.fn(arg, &result);
    weft__frames_join_to(frames); /* its weft_spawns before its future */
    if (f != NULL) {
        weft__future_finish(f, code, result);
        weft_future_release(f);
    } else if (WEFT_UNLIKELY(code != 0)) {
        report_error(p, arg, code);
    }
    return true;
}

/* A submission from one of the pool's own tasks: nothing to count. */
static bool submit_exec(const weft__task *t, int how)
{
    return submit_run(t, how);
}

/* From outside, unbounded pool: count the start for weft_pool_pending. */
static bool submit_exec_outside(const weft__task *t, int how)
{
    weft__pool_count_start(t->u.submit.pool);
    return submit_run(t, how);
}

/* From outside, bounded pool: started (or dropped) frees the slot. */
static bool submit_exec_bounded(const weft__task *t, int how)
{
    weft__pool_room_give(t->u.submit.pool);
    return submit_run(t, how);
}

static int submit(weft_pool *p, int (*fn)(void *arg, void **result), void *arg, weft_future **f,
                  const weft__deadline *d)
{
    int rc = weft__pool_admit(p, true);
    if (rc != 0)
        return rc;
    weft__task_exec exec = submit_exec;
    if (!weft__pool_is_own_worker(p)) {
        if (p->max_pending == 0) {
            exec = submit_exec_outside;
        } else {
            if ((rc = weft__pool_room_take(p, d)) != 0)
                return rc;
            exec = submit_exec_bounded;
        }
    }
    weft__task *t = weft__task_alloc(&p->sched);
    weft_future *fut = NULL;
    if (t == NULL || (f != NULL && (fut = weft__future_create()) == NULL)) {
        rc = ENOMEM;
        goto fail;
    }
    t->exec = exec;
    t->tag = WEFT__TASK_CANCELLABLE;
    t->u.submit.fn = fn;
    t->u.submit.arg = arg;
    t->u.submit.future = fut;
    t->u.submit.pool = p;
    /* Counted before the spawn so that the start (on a worker, maybe at
     * once) never precedes it. */
    if (exec == submit_exec_outside)
        weft__pool_count_submit(p, 1);
    rc = weft__sched_spawn(&p->sched, t);
    if (rc == 0) {
        if (f != NULL)
            *f = fut;
        return 0;
    }
    if (exec == submit_exec_outside)
        weft__pool_count_submit(p, -1);
    if (fut != NULL) {
        weft_future_release(fut); /* the pool's reference */
        weft_future_release(fut); /* the one *f would have had */
    }
fail:
    if (t != NULL)
        weft__task_free(&p->sched, t);
    if (exec == submit_exec_bounded)
        weft__pool_room_give(p);
    return rc;
}

int weft_pool_submit(weft_pool *p, int (*fn)(void *arg, void **result), void *arg, weft_future **f)
{
    static const weft__deadline forever = {.forever = true};
    if (p == NULL || fn == NULL)
        return EINVAL;
    return submit(p, fn, arg, f, &forever);
}

int weft_pool_submit_timed(weft_pool *p, int (*fn)(void *arg, void **result), void *arg, weft_future **f,
                           double timeout)
{
    weft__deadline d;
    if (p == NULL || fn == NULL || weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    return submit(p, fn, arg, f, &d);
}

int weft_pool_try_submit(weft_pool *p, int (*fn)(void *arg, void **result), void *arg, weft_future **f)
{
    static const weft__deadline now = {.expired = true};
    if (p == NULL || fn == NULL)
        return EINVAL;
    return submit(p, fn, arg, f, &now);
}

/* ---- shutdown / destroy --------------------------------------------------- */

/* Before a cancelling close: lets idle workers take queued tasks first (see
 * "Shutdown" in pool.h). Workers that have not reached their loop yet (a
 * pool created moments ago) would look busy to the scheduler's test, so
 * wait for them first; both waits share the bound. */
static void settle(weft_pool *p)
{
    double t0 = (double)weft__now_ns() * 1e-9;
    while (atomic_load_explicit(&p->nready, memory_order_relaxed) < p->nthreads &&
           (double)weft__now_ns() * 1e-9 - t0 < SETTLE_MAX_S)
        sched_yield();
    double left = SETTLE_MAX_S - ((double)weft__now_ns() * 1e-9 - t0);
    weft__sched_settle(&p->sched, left);
}

int weft_pool_shutdown(weft_pool *p, bool wait, bool cancel_futures)
{
    if (p == NULL)
        return EINVAL;
    if (wait && weft__pool_is_own_worker(p))
        return EDEADLK;
    if (weft__pool_inherited(p)) {
        /* Its workers are gone and a vanished thread may hold admin: there
         * is nothing to close, cancel or join (sched/inherited.c drops the
         * queued work at destroy). */
        atomic_store_explicit(&p->shut, true, memory_order_relaxed);
        return 0;
    }
    /* admin only elects who closes; the close itself runs outside it, since
     * with cancel_futures it runs the cancelled futures' callbacks, which may
     * call shutdown again (issue 10 item 3). */
    pthread_mutex_lock(&p->admin);
    bool first = !atomic_load_explicit(&p->shut, memory_order_relaxed);
    atomic_store_explicit(&p->shut, true, memory_order_relaxed);
    if (first)
        weft__pool_room_wake_all(p);
    bool cancel = cancel_futures && !p->cancel_done;
    p->cancel_done = p->cancel_done || cancel_futures;
    pthread_mutex_unlock(&p->admin);
    if (cancel)
        settle(p);
    if (first || cancel)
        weft__sched_close(&p->sched, cancel);
    if (wait) {
        pthread_mutex_lock(&p->join);
        if (!p->joined) {
            join_threads(p);
            weft__sched_spare_stop(&p->sched);
            p->joined = true;
        }
        pthread_mutex_unlock(&p->join);
    }
    return 0;
}

/* A pool's task records are small allocations made by submitters and freed
 * by workers, as many as its backlog ever held (an unbounded pool's backlog
 * is whatever the submitters outran the workers by). glibc keeps freed
 * memory resident when it is fragmented, as records interleaved with other
 * allocations are: 50M fire-and-forget submits left 142 MB resident after
 * destroy (issue 10 item 5). destroy is rare, so it hands the free pages
 * back; workers also do after a large drain (sched/giveback.c: the rule,
 * its cost, and why not under sanitizers). */
void weft_pool_destroy(weft_pool *p)
{
    if (p == NULL)
        return;
    /* From one of p's own tasks this is EDEADLK: leave the pool alone rather
     * than free it under its running workers. */
    if (weft_pool_shutdown(p, true, false) != 0)
        return;
    live_remove(p);
    for (size_t i = 0; i < p->nthreads; i++)
        weft_thread_destroy(p->threads[i]);
    weft__diag_pool_unregister(p);
    if (weft__pool_inherited(p)) {
        /* Not the mutexes: a vanished thread may hold them. */
        weft__sched_abandon(&p->sched);
        free(p->started);
        free(p->args);
        free(p->threads);
        free(p);
        weft__giveback_now();
        return;
    }
    weft__sched_deinit(&p->sched);
    pthread_mutex_destroy(&p->join);
    pthread_mutex_destroy(&p->admin);
    free(p->started);
    free(p->args);
    free(p->threads);
    free(p);
    weft__giveback_now();
}

int weft_pool_stats(const weft_pool *p, weft_pool_counters *out, weft_pool_worker_counters *per_worker, size_t cap)
{
    if (p == NULL || (per_worker == NULL && cap > 0))
        return EINVAL;
    weft__sched_stats(&p->sched, out, per_worker, cap);
    return 0;
}
