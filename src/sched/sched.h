/* sched/sched.h: the scheduler under weft_pool. Internal.
 *
 * Two schedulers share one interface, chosen at init:
 *   stealing (sched/worker.c): one Chase-Lev deque per worker (sched/deque.h),
 *     a lock-free injector for work from outside (sched/injector.h), random
 *     victim selection, an eventcount to park idle workers;
 *   mutex (sched/mutexq.c): one FIFO behind a pthread mutex and condition
 *     variable, the baseline for benchmarks.
 * Both give the same semantics: spawn, helping waits, close/cancel/finish.
 *
 * Which calls may run concurrently: spawn, wait, the task allocator, close
 * and the flag setters may run on any thread at any time between init and
 * the last worker's leave; init and deinit run alone. The worker_* calls run
 * on the worker's own thread, in the order enter, run, leave.
 *
 * Lifecycle of the queues:
 *   open      spawns from anywhere are accepted;
 *   closed    spawns from outside the pool fail with ESHUTDOWN; spawns from
 *             its workers (running tasks) still go through. Workers keep
 *             running tasks until the pool is finished:
 *   finished  closed, the injector drained, and every worker idle at once:
 *             no task exists and none can appear, so the workers leave.
 */
#ifndef WEFT_SCHED_SCHED_H
#define WEFT_SCHED_SCHED_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/atomics.h"
#include "sched/deque.h"
#include "sched/injector.h"
#include "sched/task.h"
#include "sync/eventcount.h"
#include "weft/pool.h"
#include "weft/queue.h"

typedef struct weft__sched weft__sched;

/* Per-worker counters: written by the owning worker only (a relaxed load and
 * store, no read-modify-write), read by weft_pool_stats from any thread. */
typedef struct weft__wstats {
    _Atomic uint64_t run, helped, spawned, steals, injector_pops, parks, wakeups, cancelled;
} weft__wstats;

/* Free task records kept per worker before they go to the shared spare ring. */
#define WEFT__FREE_LIST_MAX 256

/* Cache-line placement: the deque opens the struct (its own lines, see
 * deque.h); the owner-only fields share the next line; the counters, read by
 * weft_pool_stats, get a line of their own. Allocated line-aligned. */
typedef struct weft__worker {
    weft__deque dq; /* stealing scheduler only */
    WEFT_CACHE_ALIGNED weft__sched *s;
    /* Owner-only. depth counts pushes minus successful pops on dq: the
     * logical position above the newest item. mark is depth when the running
     * task began; while it waits, it may pop only above it (helping rule). */
    uint64_t depth, mark;
    /* Mutex scheduler: frame numbers for its helping rule. */
    uint64_t seq, frame;
    uint64_t rng; /* xorshift state, victim selection */
    weft__task *free_list;
    size_t nfree;
    unsigned tick; /* tasks run since the injector was last looked at */
    unsigned index;
    bool online; /* registered with liburcu-qsbr and online (stealing) */
    WEFT_CACHE_ALIGNED weft__wstats stats;
} weft__worker;

/* The mutex scheduler's queue. Lock order: mu is a leaf; exec (which may run
 * future callbacks) is never called under it. */
typedef struct weft__fifo {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    weft__task *head, *tail; /* head oldest */
    size_t nidle;            /* workers waiting on cv */
    bool closed;
} weft__fifo;

#define WEFT__STRIPES 16

struct weft__sched {
    weft_sched_kind kind;
    size_t nworkers;
    weft__worker *workers; /* line-aligned array */

    /* Stealing scheduler. */
    weft__injector inj;
    /* Idle workers sleep here; notified by spawns when nobody searches, by
     * a searcher that found work and was the last one searching, by close. */
    WEFT_CACHE_ALIGNED weft__eventcount idle;
    _Atomic uint32_t nsearching; /* workers looking for work (stealing) */
    _Atomic uint32_t nidle;      /* workers in the parking path */

    /* Mutex scheduler. */
    WEFT_CACHE_ALIGNED weft__fifo fifo;

    /* Shared by both. */
    WEFT_CACHE_ALIGNED _Atomic bool closed;
    _Atomic bool finished;
    _Atomic bool cancelling; /* drop cancellable tasks instead of running them */
    _Atomic bool broken;     /* drop every task with EPIPE */
    _Atomic uint64_t outside_cancelled;
    /* Spare task records, shared by every thread (outside submitters take
     * from it, workers with full free lists give to it). */
    weft_ring spare;
    /* Tasks spawned from threads that are not this pool's workers, striped by
     * thread so that submitters do not all increment one line. */
    struct {
        WEFT_CACHE_ALIGNED _Atomic uint64_t n;
    } outside_spawned[WEFT__STRIPES];
};

/* The worker the calling thread is, of any pool, or NULL. */
extern _Thread_local weft__worker *weft__tls_worker;

/* nworkers >= 1. 0, ENOMEM. */
int weft__sched_init(weft__sched *s, size_t nworkers, weft_sched_kind kind);
/* After every worker left. Frees records still queued without running them
 * (there are none after a finished shutdown). */
void weft__sched_deinit(weft__sched *s);

/* Worker threads: enter binds the calling thread to worker index (and
 * registers it with liburcu-qsbr for the stealing scheduler); run executes
 * tasks until the scheduler is finished; leave undoes enter. */
void weft__sched_worker_enter(weft__sched *s, size_t index);
void weft__sched_worker_run(weft__sched *s);
void weft__sched_worker_leave(weft__sched *s);

/* Task records. alloc returns NULL on ENOMEM. free takes any record. */
weft__task *weft__task_alloc(weft__sched *s);
void weft__task_free(weft__sched *s, weft__task *t);

/* Queue t: on the calling worker's own deque (stealing) or the FIFO (mutex)
 * when the caller is a worker of s, else through the injector. 0; ESHUTDOWN
 * (from outside, once closed); ENOMEM (a deque could not grow). On failure t
 * still belongs to the caller. */
int weft__sched_spawn(weft__sched *s, weft__task *t);

/* Stop spawns from outside. With cancel, set cancelling first and drop every
 * cancellable task still in the injector/FIFO (exec(ECANCELED) in the calling
 * thread) before returning; workers drop those left on deques. Wakes every
 * idle worker. Idempotent. */
void weft__sched_close(weft__sched *s, bool cancel);
/* Mark the pool broken: from now on every dequeued task is dropped with EPIPE. */
void weft__sched_break(weft__sched *s);

/* Wait until done(ctx). On a pool worker (of any pool) the caller runs tasks
 * that the running task spawned (the helping rule, pool.h) while it waits;
 * when there is none it calls block(ctx, d), offline for liburcu, which
 * should sleep until done(ctx) may have turned true or the deadline passes;
 * block NULL naps with a capped exponential backoff (for predicates nobody
 * signals). Outside a worker block is required. d NULL = forever.
 * 0 once done(ctx) was seen true; ETIMEDOUT once d passed first. */
int weft__sched_wait(bool (*done)(void *ctx), int (*block)(void *ctx, const weft__deadline *d), void *ctx,
                     const weft__deadline *d);

/* The helping step of weft__sched_wait, for waits with a fast path of their
 * own: runs one task the running task may help with (the helping rule);
 * false when there is none. Calling thread = w's thread. */
bool weft__sched_help_one(weft__worker *w);

/* Statistics: per worker i, and the totals over the pool. */
void weft__sched_stats(const weft__sched *s, weft_pool_counters *out, weft_pool_worker_counters *per, size_t cap);

/* Single-writer counter increment (no read-modify-write: only the owning
 * thread writes). */
static inline void weft__stat_inc(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

/* Shared helpers of the two schedulers (sched/worker.c). */
void weft__sched_run_task(weft__worker *w, weft__task *t, bool helped);
void weft__sched_count_outside_spawn(weft__sched *s);
/* Drops a list (through next) of dequeued cancellable tasks with ECANCELED,
 * in the calling thread (the shutdown drain). */
void weft__sched_drop(weft__sched *s, weft__task *list);

/* The mutex scheduler (sched/mutexq.c). */
int weft__fifo_init(weft__fifo *q);
void weft__fifo_deinit(weft__sched *s);
int weft__fifo_spawn(weft__sched *s, weft__task *t, weft__worker *w);
weft__task *weft__fifo_next(weft__worker *w);
weft__task *weft__fifo_help_pop(weft__worker *w);
void weft__fifo_close(weft__sched *s, bool cancel);

#endif /* WEFT_SCHED_SCHED_H */
