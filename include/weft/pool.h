/** @file
 * weft/pool.h: Python's concurrent.futures.ThreadPoolExecutor, fork-join task
 * groups (TBB's task_group) and a joblib-style parallel loop, on a
 * work-stealing scheduler.
 *
 * A pool owns max_workers threads. Each worker has a Chase-Lev deque: work a
 * task spawns (weft_group_run, weft_parallel_for pieces, weft_pool_submit
 * called from a task) goes on the spawning worker's own deque, is popped back
 * LIFO by its owner and stolen FIFO by idle workers. Work submitted from
 * outside the pool goes through a shared lock-free injector. Idle workers
 * spin briefly, then sleep; an idle pool uses no CPU.
 *
 * Which calls may run concurrently: every function here may be called from any
 * number of threads at once on the same pool, including from the pool's own
 * tasks, except weft_pool_destroy (no other call may run or follow it) and
 * weft_pool_shutdown(wait=true) from one of the pool's own tasks (EDEADLK). A
 * weft_group may be used by any number of threads at once (run, wait), except
 * weft_group_init.
 *
 * Waiting inside a task. weft_future_result (and every other blocking call of
 * future.h), weft_group_wait, weft_pool_map and weft_parallel_for, called from
 * a task, run other tasks while they wait instead of blocking the worker, so
 * nested waits never deadlock, even with max_workers = 1.
 *
 * The helping rule (why helping never runs unrelated work). Helping has a
 * known hazard (rayon#592, oneTBB#324): a waiting task that holds a lock picks
 * up an unrelated task that needs the same lock, on the same thread, and the
 * thread deadlocks with itself. weft therefore lets a waiting task T run only
 * tasks that T itself spawned, directly or through tasks it helped run: those
 * still on its worker's own deque above the mark taken when T started. It
 * never takes work from the injector or from other workers' deques while it
 * waits. Work T waits for that another worker took is awaited by sleeping
 * until its completion wakes T's worker (no polling, no added latency).
 * Consequences:
 *   - A task that spawns (group run, submit from inside the task, map, loop)
 *     and then waits for what it spawned never deadlocks, whatever the pool
 *     size: it can always run that work itself.
 *   - A task that waits for a future of a task submitted from OUTSIDE the pool
 *     (or from another task) relies on another thread to run it: another
 *     worker, or the spare thread (below). As in Python, the workers alone
 *     would never run it with max_workers = 1; the spare does, once every
 *     worker is lent (a pool created with no_spare keeps Python's hang).
 *   - The hazard remains only where it is the program's own deadlock: a task
 *     that holds a lock while it waits for work it spawned that takes the same
 *     lock (that deadlocks without helping too).
 *
 * Blocking inside a task. A task that blocks outside weft (a mutex, I/O, a
 * sleep, a weft sync object) keeps its worker busy, as in Python; tasks it
 * spawned before blocking are left to other workers, which are normally
 * woken for them, but a wake-up for a task's own spawns may be skipped in a
 * rare race (the price of a fence-free spawn path). Wait for spawned work
 * with weft_group_wait / weft_future_result, which run it themselves.
 *
 * Outside work during a long fork-join: the spare thread. A worker takes
 * work queued from outside the pool only between its loop-level tasks (the
 * helping rule forbids it inside a waiting task), so a fork-join whose
 * loop-level tasks are long (fib: the root and one stolen half per worker)
 * would hold outside work back until one of them ends. Each pool with the
 * stealing scheduler therefore has one spare thread, "<prefix>_spare",
 * parked unless needed. While EVERY worker is lent to a fork-join (it holds
 * frames or deque tasks it spawned and has not joined, is inside a join or
 * a waiting call, or runs a frame it stole) and no worker is idle, the
 * spare runs outside tasks, one at a time, from about a millisecond after
 * they were queued; it stops as soon as a worker is free. It never runs
 * besides workers that run ordinary tasks, so such tasks never run on more
 * than max_workers threads (a max_workers = 1 pool stays serial for them).
 * On the spare a task is as on a thread outside the pool, except that it
 * counts as the pool's own (no back-pressure wait; shutdown(wait) from it is
 * EDEADLK): weft_spawn, group runs and loop pieces it starts run at once,
 * in the calling thread, and weft_current_thread() is a dummy entry. The
 * spare is not a weft thread (weft_enumerate does not list it), takes no
 * process signal, and is joined by shutdown(wait). weft_pool_options'
 * no_spare turns it off; the mutex scheduler has none; a pool that cannot
 * start one (EAGAIN) runs without it. weft_pool_counters.spare_runs counts
 * what it ran.
 *
 * Shutdown. weft_pool_shutdown stops new submissions from outside the pool
 * (ESHUTDOWN); every task already queued still runs (wait = true returns once
 * all have run and the workers are joined), except what cancel_futures drops.
 * A submission racing with shutdown either runs or returns ESHUTDOWN; none is
 * lost. Tasks that are already running may still spawn group/loop work
 * (structured work that a running task waits for is never refused) but not
 * submit new futures (ESHUTDOWN, as Python raises RuntimeError).
 *
 * cancel_futures = true first lets idle workers take queued tasks (as if
 * their wake-ups were instant: shutdown waits, a few milliseconds at most,
 * until every worker is busy or nothing is queued), then drops every
 * submitted task that has not started:
 * its future (if any) is cancelled (weft_future_result returns ECANCELED) and
 * a fire-and-forget task (submitted with f = NULL) is dropped as well: both
 * are "work submitted but not begun" and the caller asked for it to be
 * discarded (Python cancels only futures because every submit has one).
 * Group and parallel_for work is never dropped: a running task waits for it.
 * Submissions queued from outside the pool are cancelled before shutdown
 * returns; those queued on a worker's deque (submitted from inside a task)
 * are cancelled by their worker moments later (before wait = true returns).
 *
 * Workers are weft threads (weft/thread.h): inside a task
 * weft_current_thread() is the worker's entry, named "<prefix>_<index>";
 * weft_enumerate lists the workers and weft_active_count counts them. They
 * are daemon threads (Python's are not, but Python joins them from its own
 * exit hook, as weft does below).
 *
 * Process exit (Python's interpreter exit). When the process exits, weft
 * marks the main thread finished, joins the non-daemon threads, then shuts
 * every live pool down with wait, in that order: queued tasks run before the
 * process ends, and submissions after that (from atexit handlers, say)
 * return ESHUTDOWN. A pool created with no_exit_wait is left alone. Details
 * of the ordering against other atexit handlers: src/thread/exit.h.
 *
 * A broken pool. If the initializer fails (nonzero) on any worker, no task
 * ever runs: every queued submission's future fails with EPIPE (fire-and-
 * forget tasks are dropped, group waits return EPIPE) and later calls return
 * EPIPE. Workers wait for every initializer to return before running tasks,
 * so either all tasks run or none does.
 */
#ifndef WEFT_POOL_H
#define WEFT_POOL_H

#include "weft/atomic.h"
#include "weft/common.h"
#include "weft/future.h"

WEFT_BEGIN_DECLS

/** A thread pool (Python's ThreadPoolExecutor): opaque, made by
 * weft_pool_create, freed by weft_pool_destroy. */
typedef struct weft_pool weft_pool;

/** Which scheduler a pool runs (weft_pool_options.scheduler). */
typedef enum weft_sched_kind {
    /** Per-worker Chase-Lev deques, a lock-free injector, randomised stealing. */
    WEFT_SCHED_STEALING = 0,
    /** The baseline twin: one FIFO behind a pthread mutex and condition
     * variable, no deques, no stealing. Same API and semantics (helping
     * included); it exists for benchmarks. */
    WEFT_SCHED_MUTEX = 1,
} weft_sched_kind;

/** Options of weft_pool_create: start from WEFT_POOL_OPTIONS_INIT (or zero
 * them) and set what you need; NULL options are the defaults. */
typedef struct weft_pool_options {
    /** Worker threads; 0 = the CPUs this process may run on (sched_getaffinity).
     * At most WEFT_POOL_MAX_WORKERS. */
    size_t max_workers;
    /** Workers are weft threads named "<prefix>_<index>" (Python's
     * thread_name_prefix + "_" + i; the OS-level name keeps the first 15
     * bytes); NULL or "" = "weft-<N>", N counting pools from 0. */
    const char *thread_name_prefix;
    /** Run once by every worker before it runs any task; nonzero breaks the
     * pool (see "A broken pool" above). NULL = none. */
    int (*initializer)(void *initarg);
    void *initarg;             /**< passed to initializer */
    weft_sched_kind scheduler; /**< WEFT_SCHED_STEALING (the default) or WEFT_SCHED_MUTEX */
    /** Worker stack size in bytes; 0 = the system default. */
    size_t stack_size;
    /** Process exit: false (the default) = as Python, the exit sequence shuts
     * the pool down with wait (its queued tasks run, later submits return
     * ESHUTDOWN; see "Process exit" above). true = leave the pool alone at
     * exit: the process ends without waiting for its tasks (for servers that
     * must exit at once; tasks still queued never run). */
    bool no_exit_wait;
    /** Back-pressure: the most tasks submitted from outside the pool (not by
     * its own tasks) and not yet started; 0 = unbounded. An outside
     * weft_pool_submit then waits for room; see weft_pool_submit_timed. */
    size_t max_pending;
    /** Ownership of a task's argument: called exactly once, with the
     * argument, for every submitted task (weft_pool_submit and friends
     * returned 0) that will never run: its future was cancelled, shutdown
     * with cancel_futures dropped it, or the pool is broken. Never for a task
     * that ran, nor for a submission that failed (the caller still owns that
     * argument). Called on the thread that drops the task: a worker, or the
     * thread calling weft_pool_shutdown (cancel_futures) for tasks queued
     * from outside; a future cancelled by weft_future_cancel has its
     * argument dropped when a worker reaches the task. NULL = nothing. */
    void (*drop)(void *arg);
    /** A task submitted with f == NULL (fire and forget) returned code != 0:
     * on_task_error(on_task_error_ctx, arg, code) runs on the worker, after
     * the task. NULL = the default, which prints
     * "Exception in task on thread <worker>: <strerror(code)>" to stderr, as
     * the default excepthook does for threads (thread.h). */
    void (*on_task_error)(void *ctx, void *arg, int code);
    void *on_task_error_ctx; /**< on_task_error's first argument */
    /** true = no spare thread: while every worker is inside a fork-join,
     * outside work waits for one of them to return to its loop (see "Outside
     * work during a long fork-join" above). false (the default) = one. */
    bool no_spare;
} weft_pool_options;

/** The default pool options, as a static initialiser. */
#define WEFT_POOL_OPTIONS_INIT                                                                               \
    {                                                                                                        \
        0, NULL, NULL, NULL, WEFT_SCHED_STEALING, 0, false, 0, NULL, NULL, NULL, false                       \
    }

/** The most workers a pool may have. */
#define WEFT_POOL_MAX_WORKERS 4096

/** ThreadPoolExecutor(...). Starts the workers. opts NULL = defaults.
 * 0; EINVAL (p NULL, max_workers over the limit, unknown scheduler, a nonzero
 * stack_size below PTHREAD_STACK_MIN); ENOMEM; EAGAIN (threads could not be
 * created). *p is written only on success. */
WEFT_API int weft_pool_create(weft_pool **p, const weft_pool_options *opts);

/** submit(fn, arg). fn(arg, &result) returns 0 or a positive error code; the
 * future (if f is not NULL) receives both. f NULL = fire and forget: no
 * future is made at all. From outside the pool the task is queued FIFO;
 * from one of its tasks it goes on the calling worker's deque.
 * With max_pending set, a submission from outside the pool waits for room
 * (weft_pool_submit_timed with WEFT_FOREVER); one from the pool's own tasks
 * never waits.
 * 0 (and *f set); EINVAL (p or fn NULL); ESHUTDOWN (after shutdown); EPIPE
 * (broken pool); ENOMEM. *f is written only on success. */
WEFT_API int weft_pool_submit(weft_pool *p, int (*fn)(void *arg, void **result), void *arg, weft_future **f);

/**
 * submit(fn, arg) with a bound on the wait for room (max_pending). From
 * outside the pool, when max_pending tasks wait already: timeout <= 0
 * returns EAGAIN at once, otherwise it waits until a task starts (room), the
 * pool shuts down (ESHUTDOWN) or breaks (EPIPE), or the timeout passes
 * (ETIMEDOUT). From the pool's own tasks, and on unbounded pools, it never
 * waits (= weft_pool_submit). Also EINVAL (p or fn NULL, timeout NaN),
 * ENOMEM. *f is written only on success; on failure the task was not
 * submitted (drop is not called: the caller keeps arg).
 */
WEFT_API int weft_pool_submit_timed(weft_pool *p, int (*fn)(void *arg, void **result), void *arg, weft_future **f,
                                    double timeout);

/**
 * = weft_pool_submit_timed(p, fn, arg, f, 0): EAGAIN instead of waiting
 * for room.
 */
WEFT_API int weft_pool_try_submit(weft_pool *p, int (*fn)(void *arg, void **result), void *arg, weft_future **f);

/**
 * Tasks submitted from outside the pool and not started yet (queued, or
 * cancelled but not yet reached by a worker): the number max_pending bounds.
 * A snapshot; 0 for NULL.
 */
WEFT_API size_t weft_pool_pending(const weft_pool *p);

/** map(fn, args, timeout, chunksize): runs fn(args[i], &results[i]) for every
 * i < n, chunksize items per task (0 means 1), and waits for all of them.
 * results may be NULL; results[i] is written only when item i returned 0.
 * Returns 0 when every item returned 0, otherwise the code of the first
 * failing item in input order. With WEFT_FOREVER the calling thread runs
 * chunks too. With a finite timeout (as Python) map returns at the deadline:
 * a caller outside the pool runs no item itself, only waits; items not yet
 * started are cancelled (never run); items still running go on in the
 * background (fn must not rely on the caller's stack frame) and their
 * results are dropped (results[] is not written after map returned); it
 * returns the first failing code among the items before the first
 * unfinished one, or ETIMEDOUT. Called from one of the pool's tasks, map
 * runs items itself and may return late by the item it was running.
 * Also EINVAL (p or fn NULL, args NULL with n > 0, NaN timeout),
 * ESHUTDOWN, EPIPE, ENOMEM (nothing run). */
WEFT_API int weft_pool_map(weft_pool *p, int (*fn)(void *arg, void **result), void *const *args, size_t n,
                           void **results, size_t chunksize, double timeout);

/** shutdown(wait, cancel_futures): see "Shutdown" above. May be called more
 * than once (a later call may add cancel_futures or wait). 0; EINVAL (p
 * NULL); EDEADLK (wait = true from one of this pool's own tasks; nothing is
 * changed). */
WEFT_API int weft_pool_shutdown(weft_pool *p, bool wait, bool cancel_futures);

/** shutdown(wait = true) then free everything. Must not be called
 * concurrently with any other call on p, nor be followed by one. Called from
 * one of the pool's own tasks it does nothing (it cannot wait for itself).
 * NULL is a no-op.
 * fork(): a pool inherited from the parent process is dead in the child (its
 * workers do not exist there): submissions return ESHUTDOWN, shutdown
 * returns 0 at once, and destroy cancels the futures of tasks still queued
 * and frees the pool without joining anything. A task a parent's worker was
 * running never finishes in the child. New pools work in the child. */
WEFT_API void weft_pool_destroy(weft_pool *p);

/** The number of workers. */
WEFT_API size_t weft_pool_workers(const weft_pool *p);

/* ---- statistics -------------------------------------------------------- */
/** Counters are monotonic and read without stopping the pool: each is exact,
 * but a snapshot taken while tasks run may mix instants. Once the pool is
 * quiescent (e.g. after shutdown(wait)), tasks_submitted == tasks_run +
 * tasks_cancelled. Internal tasks (the pieces of weft_parallel_for and the
 * runners of weft_pool_map) count as tasks. */
typedef struct weft_pool_worker_counters {
    uint64_t tasks_run;     /**< tasks this worker ran (helping included) */
    uint64_t tasks_helped;  /**< of those, run while waiting inside a task */
    uint64_t tasks_spawned; /**< tasks pushed on this worker's own deque */
    uint64_t steals;        /**< tasks taken from another worker's deque */
    uint64_t injector_pops; /**< tasks taken from the shared injector */
    uint64_t parks;         /**< times it went to sleep for lack of work */
    uint64_t wakeups;       /**< times it woke from such a sleep */
} weft_pool_worker_counters;

/** A pool's totals (weft_pool_stats). */
typedef struct weft_pool_counters {
    size_t workers;           /**< the number of workers */
    uint64_t tasks_submitted; /**< every task made (submits, group runs, ...) */
    uint64_t tasks_run;       /**< sum over the workers */
    uint64_t tasks_cancelled; /**< dropped before running (cancel, broken pool) */
    uint64_t steals;          /**< sum over the workers */
    uint64_t parks;           /**< sum over the workers */
    uint64_t wakeups;         /**< sum over the workers */
    uint64_t spare_runs;      /**< tasks the spare thread ran (counted in tasks_run too) */
} weft_pool_counters;

/** Fills *out (may be NULL) and per_worker[0 .. min(cap, workers) - 1] (may be
 * NULL when cap is 0). 0, or EINVAL (p NULL; per_worker NULL with cap > 0). */
WEFT_API int weft_pool_stats(const weft_pool *p, weft_pool_counters *out, weft_pool_worker_counters *per_worker,
                             size_t cap);

/* ---- fork-join -------------------------------------------------------- */
/** A task group (TBB task_group): run spawns fn(arg) on the pool; wait returns
 * once every task run on the group so far has finished, running them (and
 * their descendants) itself when called from a task. Stack-allocatable; the
 * fields are private. A group is reusable after wait. It must not go out of
 * scope before wait returned. Nothing to destroy.
 *
 *     weft_group g;
 *     weft_group_init(&g, pool);
 *     weft_group_run(&g, left, &l);   // 0, or an error (fn not spawned)
 *     right(&r);
 *     weft_group_wait(&g);
 */
typedef struct weft_group {
    weft_pool *pool; /**< the pool given to weft_group_init */
    /** Tasks run but not finished, plus WEFT__GROUP_WAITERS (bit 31) while a
     * thread sleeps on this word (a futex). */
    WEFT_ATOMIC(uint32_t) pending;
    /** EPIPE once a task was dropped because the pool broke. */
    WEFT_ATOMIC(int) error;
} weft_group;

/** Binds g to p; g has no pending task. */
WEFT_API void weft_group_init(weft_group *g, weft_pool *p);

/** Spawns fn(arg). 0; EINVAL (g, its pool or fn NULL); ESHUTDOWN (from outside
 * the pool after shutdown); EPIPE (broken pool); EOVERFLOW (2^31 - 1 tasks
 * pending on g); ENOMEM. fn has not been spawned when this fails. */
WEFT_API int weft_group_run(weft_group *g, void (*fn)(void *arg), void *arg);

/** Waits for every task run on g (helping when called from a task). 0, EPIPE
 * (a task was dropped because the pool broke; the error is cleared), or
 * EINVAL (g NULL). */
WEFT_API int weft_group_wait(weft_group *g);

/* ---- the fork-join fast path: weft_spawn / weft_sync -------------------
 * Cilk- and Lace-style strict fork-join for recursive programs, cheaper than
 * a group: a spawn writes a frame on the calling worker's own stack (a few
 * stores, no allocation, no atomic read-modify-write) and the sync of a
 * frame nobody stole is a pop and a direct call. Idle workers steal the
 * oldest frames; a sync whose frame was stolen works on what the thief
 * spawned meanwhile (leapfrogging) until it is done.
 *
 *     static void fib(void *arg) {
 *         fib_arg *a = arg;
 *         if (a->n < 2) { a->r = a->n; return; }
 *         fib_arg x = {a->n - 1, 0}, y = {a->n - 2, 0};
 *         weft_spawn(fib, &x);   // may run on another worker
 *         fib(&y);
 *         weft_sync();           // x is done after this
 *         a->r = x.r + y.r;
 *     }
 *
 * Rules: each weft_sync joins the most recent weft_spawn of the same task
 * that is not joined yet (LIFO); a task, or a function run by weft_spawn,
 * should join its spawns before it returns (when it does not, whoever ran it
 * joins them right after it returns: an implicit sync). arg must stay valid
 * until the matching weft_sync returned. Called from a task of a stealing
 * pool, spawn works on that pool; anywhere else (outside any pool, or in a
 * WEFT_SCHED_MUTEX pool) weft_spawn calls fn(arg) at once and weft_sync does
 * nothing. Frames are not counted in weft_pool_stats except when stolen
 * (steals, tasks_run). */

/** Spawns fn(arg) as a child of the running task (see above). Never fails:
 * when the worker's frame stack (1024 frames) is full, fn runs at once. */
WEFT_API void weft_spawn(void (*fn)(void *arg), void *arg);

/** Joins the running task's most recent unjoined weft_spawn: runs it here if
 * nobody stole it, else works (on the thief's spawns) until it is done.
 * Does nothing when the task has nothing left to join. */
WEFT_API void weft_sync(void);

/** joblib's Parallel(n_jobs)(...) over [begin, end): calls body(ctx, lo, hi)
 * on disjoint sub-ranges that together cover every index exactly once,
 * splitting recursively in halves down to at most grain indices (0 = about
 * 8 pieces per worker); halves are spawned, so idle workers steal the big
 * ones. The caller runs pieces too, and returns when all are done.
 * A piece that cannot be spawned for lack of memory is run by the caller.
 * 0; EINVAL (p or body NULL, begin > end); ESHUTDOWN (from outside after
 * shutdown; nothing run); EPIPE (broken pool: some pieces were not run). */
WEFT_API int weft_parallel_for(weft_pool *p, size_t begin, size_t end, size_t grain,
                               void (*body)(void *ctx, size_t lo, size_t hi), void *ctx);

WEFT_END_DECLS

#endif /* WEFT_POOL_H */
