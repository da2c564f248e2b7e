/* sched/sched.h: the scheduler under weft_pool, the neutral part. Internal.
 *
 * Two schedulers share one interface, chosen at init by the ops table passed
 * to weft__sched_init (sched.c explains the dispatch):
 *   stealing (sched/steal.h, worker.c, search.c, idle.c, frames.c): one
 *     Chase-Lev deque and one frame stack per worker, a lock-free injector
 *     for work from outside, random victim selection, an eventcount to park
 *     idle workers;
 *   mutex (sched/mutexq.h, mutexq.c): one FIFO behind a pthread mutex and
 *     condition variable, the baseline for benchmarks.
 * Both give the same semantics: spawn, helping waits, close/cancel/finish.
 * Neither includes the other's header or calls into the other's files; what
 * both use (the worker record, task records, the drop flags, the counters,
 * helping waits) is here, in records.h and in help.c.
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
 *   finished  closed, the outside queue drained, and every worker idle at
 *             once: no task exists and none can appear, so the workers leave.
 */
#ifndef WEFT_SCHED_SCHED_H
#define WEFT_SCHED_SCHED_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/atomics.h"
#include "sched/deque.h"
#include "sched/frames.h"
#include "sched/injector.h"
#include "sched/mutexq.h"
#include "sched/spare.h"
#include "sched/task.h"
#include "sync/eventcount.h"
#include "thread/fork.h"
#include "weft/queue.h"

typedef struct weft__sched weft__sched;
typedef struct weft__worker weft__worker;

/* Per-worker counters: written by the owning worker only (a relaxed load and
 * store, no read-modify-write), read by weft_pool_stats (stats.c) from any
 * thread. */
typedef struct weft__wstats {
    _Atomic uint64_t run, helped, spawned, steals, injector_pops, parks, wakeups, cancelled;
} weft__wstats;

/* A frame taken by a thief: what it runs, and where it reports DONE. */
typedef struct weft__stolen {
    void (*fn)(void *arg);
    void *arg;
    weft__frame *frame;
} weft__stolen;

/* One worker of either scheduler. The fields marked (stealing) are used by
 * the stealing scheduler only, (mutex) by the mutex scheduler only; the rest
 * by both. Cache-line placement: the deque opens the struct (its own lines,
 * see deque.h); the owner-only fields share the next line; the counters,
 * read by weft_pool_stats, get a line of their own. Allocated line-aligned. */
struct weft__worker {
    weft__deque dq;    /* (stealing) */
    weft__frames fr;   /* (stealing) weft_spawn's frame stack */
    weft__stolen took; /* (stealing) a frame the worker loop stole, to run next */
    WEFT_CACHE_ALIGNED weft__sched *s;
    /* (stealing) Owner-only. depth counts pushes minus successful pops on
     * dq: the logical position above the newest item. mark is depth when
     * the running task began; while it waits, it may pop only above it (the
     * helping rule, steal.h). */
    uint64_t depth, mark;
    /* (mutex) frame numbers for its helping rule (mutexq.c). */
    uint64_t seq, frame;
    uint64_t rng; /* (stealing) xorshift state, victim selection */
    weft__task *free_list; /* records.h */
    size_t nfree;
    unsigned tick;        /* (stealing) loop-level tasks run since the injector was last looked at */
    unsigned helped;      /* (stealing) tasks helped (a wrapping count: quiescent states, injector check) */
    unsigned helped_seen; /* (stealing) helped when the injector was last looked at */
    unsigned index;
    bool online; /* (stealing) registered with liburcu-qsbr and online */
    WEFT_CACHE_ALIGNED weft__wstats stats;
    /* (stealing) Joins, helping waits and stolen frames the worker is inside
     * (owner-written, relaxed; read by the spare thread, spare.c's rule). */
    _Atomic uint32_t lent;
    weft__rcu_reader rcu; /* (stealing) the worker's liburcu registration */
};

/* A scheduler's operations (sched.c's design note: what goes through the
 * table and what does not). Each scheduler defines one table in its own
 * file: weft__steal_ops (worker.c), weft__mutexq_ops (mutexq.c). */
typedef struct weft__sched_ops {
    const char *name;
    /* After the neutral part of init: the scheduler's queues and per-worker
     * state. 0 or a positive errno (then nothing of it is left allocated). */
    int (*init)(weft__sched *s);
    /* Frees the queues and every record still queued, without running it. */
    void (*deinit)(weft__sched *s);
    /* deinit for a scheduler inherited across fork() (inherited.c): every
     * queued record goes to weft__task_abandon; locks may be held forever. */
    void (*abandon)(weft__sched *s);
    /* On the worker's thread, after the neutral part set weft__tls_self. */
    void (*enter)(weft__worker *w);
    void (*run)(weft__worker *w);
    void (*leave)(weft__worker *w);
    /* weft__sched_spawn from any thread but a stealing worker of s. */
    int (*spawn)(weft__sched *s, weft__task *t);
    /* weft__sched_close after the cancelling flag is set. */
    void (*close)(weft__sched *s, bool cancel);
    /* weft__sched_settle's test; wakes every idle worker when false. */
    bool (*settled)(weft__sched *s);
    /* One helping step of weft__sched_wait on w (help.c): runs one task the
     * running task may help with, by the scheduler's helping rule; false
     * when there is none. */
    bool (*help_one)(weft__worker *w);
    /* The spare thread (spare.c), or NULL for a scheduler without one:
     * start after the workers started (0 or an errno: then none), stop
     * after they left. */
    int (*spare_start)(weft__sched *s, const char *name, size_t stack_size);
    void (*spare_stop)(weft__sched *s);
} weft__sched_ops;

#define WEFT__STRIPES 16

struct weft__sched {
    const weft__sched_ops *ops;
    size_t nworkers;
    weft__worker *workers; /* line-aligned array */

    /* Stealing scheduler. */
    weft__injector inj;
    /* Idle workers sleep here (idle.c's design note says who notifies). */
    WEFT_CACHE_ALIGNED weft__eventcount idle;
    _Atomic uint32_t nsearching; /* workers looking for work (search.c) */
    _Atomic uint32_t nidle;      /* workers in the parking path (idle.c) */
    weft__spare spare_th;        /* the spare thread (spare.c) */

    /* Mutex scheduler. */
    WEFT_CACHE_ALIGNED weft__fifo fifo;

    /* Shared by both. */
    WEFT_CACHE_ALIGNED _Atomic bool closed;
    _Atomic bool finished;
    _Atomic bool cancelling; /* drop cancellable tasks instead of running them */
    _Atomic bool broken;     /* drop every task with EPIPE */
    _Atomic uint64_t outside_cancelled;
    /* Spare task records, shared by every thread (outside submitters take
     * from it, workers with full free lists give to it; records.c). */
    weft_ring spare;
    /* Tasks spawned from threads that are not this pool's workers, striped by
     * thread so that submitters do not all increment one line. */
    struct {
        WEFT_CACHE_ALIGNED _Atomic uint64_t n;
    } outside_spawned[WEFT__STRIPES];
};

/* The worker the calling thread is, of any pool and either scheduler, or
 * NULL (sched.c). For the neutral paths: task records, "is the caller one
 * of p's workers", helping waits. The stealing hot paths read
 * weft__tls_worker (steal.h) instead. Initial-exec TLS: see steal.h. */
extern _Thread_local weft__worker *weft__tls_self __attribute__((tls_model("initial-exec")));

/* nworkers >= 1; ops: weft__steal_ops or weft__mutexq_ops. 0, ENOMEM. */
int weft__sched_init(weft__sched *s, size_t nworkers, const weft__sched_ops *ops);
/* After every worker left. Frees records still queued without running them
 * (there are none after a finished shutdown). */
void weft__sched_deinit(weft__sched *s);
/* deinit for a scheduler inherited across fork(), whose workers do not exist
 * in the calling process (sched/inherited.c): cancels the futures of queued
 * submissions, frees what no vanished thread can hold. Runs alone. */
void weft__sched_abandon(weft__sched *s);
/* For the ops' abandon: drops one record found queued (a submission is
 * cancelled as by shutdown(cancel_futures), anything else freed). */
void weft__task_abandon(weft__task *t);

/* Worker threads: enter binds the calling thread to worker index (and
 * registers it with liburcu-qsbr for the stealing scheduler); run executes
 * tasks until the scheduler is finished; leave undoes enter. */
void weft__sched_worker_enter(weft__sched *s, size_t index);
void weft__sched_worker_run(weft__sched *s);
void weft__sched_worker_leave(weft__sched *s);

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
/* Before a cancelling close: lets idle workers take queued work from outside
 * first, as if their wake-ups were instant. Wakes every idle worker and
 * waits, at most max_s seconds, until nothing from outside is queued or no
 * worker is idle or searching. */
void weft__sched_settle(weft__sched *s, double max_s);
/* Mark the pool broken: from now on every dequeued task is dropped with EPIPE. */
void weft__sched_break(weft__sched *s);

/* Wait until done(ctx) (help.c). On a pool worker (of any pool) the caller
 * runs tasks that the running task spawned (the helping rule, pool.h) while
 * it waits; when there is none it calls block(ctx, d), offline for liburcu,
 * which should sleep until done(ctx) may have turned true or the deadline
 * passes; block NULL parks on the helpers' eventcount, which the thread
 * that makes done(ctx) true must notify (weft__sched_wake_helpers, help.h).
 * d NULL = forever. 0 once done(ctx) was seen true; ETIMEDOUT once d passed
 * first. */
int weft__sched_wait(bool (*done)(void *ctx), int (*block)(void *ctx, const weft__deadline *d), void *ctx,
                     const weft__deadline *d);

/* The spare thread (spare.c) through the table: start (0, or an errno and
 * the pool runs without one; EOPNOTSUPP for a scheduler that has none) and
 * stop (after every worker left; nothing when none runs). */
int weft__sched_spare_start(weft__sched *s, const char *name, size_t stack_size);
void weft__sched_spare_stop(weft__sched *s);

/* w enters (+1) or leaves (-1) a join, a helping wait or a stolen frame:
 * the spare thread's "lent" test (spare.c). Owner only. */
static inline void weft__worker_lend(weft__worker *w, int d)
{
    atomic_store_explicit(&w->lent, atomic_load_explicit(&w->lent, memory_order_relaxed) + (uint32_t)d,
                          memory_order_relaxed);
}

/* Single-writer counter increment (no read-modify-write: only the owning
 * thread writes). */
static inline void weft__stat_inc(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

/* How a dequeued task is to run (task.h): the pool's drop flags, one
 * protocol for both schedulers. Relaxed loads: a task dequeued just before
 * the flag was set may still run; close and break order nothing else. */
static inline int weft__sched_task_how(const weft__sched *s, const weft__task *t)
{
    if (WEFT_UNLIKELY(atomic_load_explicit(&s->broken, memory_order_relaxed)))
        return EPIPE;
    if (WEFT_UNLIKELY((t->tag & WEFT__TASK_CANCELLABLE) &&
                      atomic_load_explicit(&s->cancelling, memory_order_relaxed)))
        return ECANCELED;
    return WEFT__TASK_RUN;
}

/* The counters after a task ran on w (ran: exec's result). */
static inline void weft__sched_count_run(weft__worker *w, bool ran, bool helped)
{
    if (WEFT_LIKELY(ran)) {
        weft__stat_inc(&w->stats.run);
        if (helped)
            weft__stat_inc(&w->stats.helped);
    } else {
        weft__stat_inc(&w->stats.cancelled);
    }
}

/* Shared helpers of the two schedulers (sched.c). */
void weft__sched_count_outside_spawn(weft__sched *s);
/* Drops a list (through next) of dequeued cancellable tasks with ECANCELED,
 * in the calling thread (the shutdown drain). */
void weft__sched_drop(weft__sched *s, weft__task *list);

#endif /* WEFT_SCHED_SCHED_H */
