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

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/atomics.h"
#include "sched/deque.h"
#include "sched/frames.h"
#include "sched/injector.h"
#include "sched/task.h"
#include "sync/eventcount.h"
#include "thread/fork.h"
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
/* A frame taken by a thief: what it runs, and where it reports DONE. */
typedef struct weft__stolen {
    void (*fn)(void *arg);
    void *arg;
    weft__frame *frame;
} weft__stolen;

typedef struct weft__worker {
    weft__deque dq;    /* stealing scheduler only */
    weft__frames fr;   /* weft_spawn's frame stack (stealing scheduler only) */
    weft__stolen took; /* a frame the worker loop stole, to run next */
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
    unsigned tick;        /* loop-level tasks run since the injector was last looked at */
    unsigned helped;      /* tasks helped (a wrapping count: quiescent states, injector check) */
    unsigned helped_seen; /* helped when the injector was last looked at */
    unsigned index;
    bool online; /* registered with liburcu-qsbr and online (stealing) */
    WEFT_CACHE_ALIGNED weft__wstats stats;
    weft__rcu_reader rcu; /* the worker's liburcu registration (stealing) */
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

/* The worker the calling thread is, of any pool, or NULL. Read on every
 * spawn and join, so it uses the initial-exec TLS model: two loads (the GOT
 * slot, then %fs-relative) instead of a __tls_get_addr call per access in the
 * PIC objects the library is built from. The cost is 8 bytes of the static
 * TLS surplus that glibc reserves for dlopen'ed libraries (jemalloc does the
 * same; dlopen of libweft.so was checked). */
extern _Thread_local weft__worker *weft__tls_worker __attribute__((tls_model("initial-exec")));

/* nworkers >= 1. 0, ENOMEM. */
int weft__sched_init(weft__sched *s, size_t nworkers, weft_sched_kind kind);
/* After every worker left. Frees records still queued without running them
 * (there are none after a finished shutdown). */
void weft__sched_deinit(weft__sched *s);
/* deinit for a scheduler inherited across fork(), whose workers do not exist
 * in the calling process (sched/inherited.c): cancels the futures of queued
 * submissions, frees what no vanished thread can hold. Runs alone. */
void weft__sched_abandon(weft__sched *s);

/* Worker threads: enter binds the calling thread to worker index (and
 * registers it with liburcu-qsbr for the stealing scheduler); run executes
 * tasks until the scheduler is finished; leave undoes enter. */
void weft__sched_worker_enter(weft__sched *s, size_t index);
void weft__sched_worker_run(weft__sched *s);
void weft__sched_worker_leave(weft__sched *s);

/* Task records. alloc returns NULL on ENOMEM. free takes any record. */
weft__task *weft__task_alloc(weft__sched *s);
void weft__task_free(weft__sched *s, weft__task *t);
/* The shared halves, once a worker's free list is empty (alloc) or full (free). */
weft__task *weft__task_alloc_shared(weft__sched *s);
void weft__task_free_shared(weft__sched *s, weft__task *t);

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

/* Wait until done(ctx). On a pool worker (of any pool) the caller runs tasks
 * that the running task spawned (the helping rule, pool.h) while it waits;
 * when there is none it calls block(ctx, d), offline for liburcu, which
 * should sleep until done(ctx) may have turned true or the deadline passes;
 * block NULL parks on the helpers' eventcount, which the thread that makes
 * done(ctx) true must notify (weft__sched_wake_helpers, help.h). d NULL =
 * forever.
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
/* weft__sched_settle's test for the FIFO; broadcasts to idle workers when
 * false. */
bool weft__fifo_settled(weft__sched *s);

/* The frame stack (sched/frames.c). steal: takes the oldest shared frame of
 * victim at index >= min_tail into *out; with stop (leapfrogging), only
 * while *stop still reads stop_val. share_all: shares every private frame (before
 * the owner sleeps); returns whether any frame is shared. visible: shared
 * frames exist (a snapshot). request: ask the owner to share. run_stolen:
 * runs a stolen frame on w and hands it back. */
bool weft__frames_steal(weft__worker *thief, weft__worker *victim, uint32_t min_tail, _Atomic uint32_t *stop,
                        uint32_t stop_val, weft__stolen *out);
bool weft__frames_share_all(weft__worker *w);
bool weft__frames_visible(const weft__frames *f);
void weft__frames_request(weft__frames *f);
void weft__frames_run_stolen(weft__worker *w, const weft__stolen *st);
/* The fenced wake-up: call after making work visible (sched/worker.c). */
void weft__sched_wake_fenced(weft__sched *s);

/* Out-of-line halves of the inline paths below (sched/worker.c). */
void weft__sched_wake_after_spawn(weft__sched *s);
void weft__sched_quiescent(weft__worker *w);

/* ---- the fork-join fast path ----------------------------------------------
 * Inline, for the pool's files: a spawn from a task and the join that pops it
 * back are the hot path of every recursive program (one task per call), so
 * they look up nothing (the caller passes its worker) and call out only to
 * the deque and the task. Calling thread = w's thread throughout. */

static inline weft__task *weft__worker_task_alloc(weft__worker *w)
{
    weft__task *t = w->free_list;
    if (WEFT_LIKELY(t != NULL)) {
        w->free_list = t->next;
        w->nfree--;
        return t;
    }
    return weft__task_alloc_shared(w->s);
}

static inline void weft__worker_task_free(weft__worker *w, weft__task *t)
{
    if (WEFT_LIKELY(w->nfree < WEFT__FREE_LIST_MAX)) {
        t->next = w->free_list;
        w->free_list = t;
        w->nfree++;
        return;
    }
    weft__task_free_shared(w->s, t);
}

#ifdef WEFT_TEST_SPAWN_REORDER
/* A pause of 0 to ~100 us, pseudo-random per spawn. */
static inline void weft__test_spawn_pause(weft__worker *w)
{
    w->rng = w->rng * 6364136223846793005ull + 1442695040888963407ull;
    for (unsigned k = (unsigned)(w->rng >> 52) * 8; k > 0; k--)
        weft__cpu_relax();
}
#endif

/* weft__sched_spawn for a caller that is worker w of the scheduler. */
static inline int weft__worker_spawn(weft__worker *w, weft__task *t)
{
    weft__sched *s = w->s;
    if (WEFT_UNLIKELY(s->kind == WEFT_SCHED_MUTEX))
        return weft__fifo_spawn(s, t, w);
#ifdef WEFT_TEST_SPAWN_REORDER
    /* Test builds only (tests/pool/lost_wakeup.c): the unfenced loads below
     * may be satisfied before the push is visible (store->load reordering,
     * allowed by C11 and done by every store buffer); this performs them
     * first, with a pause between, to widen that window to microseconds. */
    bool quiet = s->nworkers > 1 && atomic_load_explicit(&s->nsearching, memory_order_relaxed) == 0;
    weft__test_spawn_pause(w);
    if (WEFT_UNLIKELY(weft__deque_push(&w->dq, t) != 0))
        return ENOMEM;
    w->depth++;
    if (quiet)
        weft__sched_wake_after_spawn(s);
    return 0;
#endif
    if (WEFT_UNLIKELY(weft__deque_push(&w->dq, t) != 0))
        return ENOMEM;
    w->depth++;
    weft__stat_inc(&w->stats.spawned);
    /* The unfenced wake-up of worker.c's design note; a lone worker has
     * nobody to wake. */
    if (s->nworkers > 1 && atomic_load_explicit(&s->nsearching, memory_order_relaxed) == 0)
        weft__sched_wake_after_spawn(s);
    return 0;
}

/* Runs a dequeued task on w: applies the pool's drop flags, keeps the
 * helping mark and frame of the task around the call, and frees the record
 * afterwards. (Not a copy and an early free: the record was usually written
 * moments ago with 8-byte stores, and copying it with wide loads stalls on
 * store forwarding; the fork-join join path, group.c, reads its fields into
 * registers and frees first, so a task that spawns reuses its record.) */
static inline void weft__sched_run_task(weft__worker *w, weft__task *t, bool helped)
{
    weft__sched *s = w->s;
    int how = WEFT__TASK_RUN;
    if (WEFT_UNLIKELY(atomic_load_explicit(&s->broken, memory_order_relaxed)))
        how = EPIPE;
    else if (WEFT_UNLIKELY((t->tag & WEFT__TASK_CANCELLABLE) &&
                           atomic_load_explicit(&s->cancelling, memory_order_relaxed)))
        how = ECANCELED;
    uint64_t saved_mark = w->mark, saved_frame = w->frame;
    uint64_t saved_frames = weft__frames_enter(&w->fr);
    w->mark = w->depth;
    w->frame = ++w->seq;
    bool ran = t->exec(t, how);
    weft__worker_task_free(w, t);
    weft__frames_leave(&w->fr, saved_frames); /* the implicit sync */
    w->mark = saved_mark;
    w->frame = saved_frame;
    if (WEFT_LIKELY(ran)) {
        weft__stat_inc(&w->stats.run);
        if (helped)
            weft__stat_inc(&w->stats.helped);
    } else {
        weft__stat_inc(&w->stats.cancelled);
    }
}

/* A task the running task of w may help with (the helping rule: stealing,
 * above its mark on w's own deque; mutex, tagged with its frame), or NULL. */
static inline weft__task *weft__sched_help_pop(weft__worker *w)
{
    if (WEFT_UNLIKELY(w->s->kind == WEFT_SCHED_MUTEX))
        return weft__fifo_help_pop(w);
    if (w->depth <= w->mark)
        return NULL;
    weft__task *t = weft__deque_pop(&w->dq);
    if (WEFT_LIKELY(t != NULL))
        w->depth--;
    return t;
}

/* Runs t, popped by weft__sched_help_pop, as a helped task. A quiescent
 * state every 64 helped tasks, not after each: nested helping holds no
 * buffer pointer either way, and grace periods only need to end eventually
 * (they free retired deque buffers), not after every task. */
static inline void weft__sched_run_helped(weft__worker *w, weft__task *t)
{
    weft__sched_run_task(w, t, true);
    if (WEFT_UNLIKELY((++w->helped & 63) == 0))
        weft__sched_quiescent(w);
}

#endif /* WEFT_SCHED_SCHED_H */
