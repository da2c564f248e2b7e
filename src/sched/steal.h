/* sched/steal.h: the work-stealing scheduler's interface. Internal.
 *
 * Its files, one concept each:
 *   worker.c   the worker loop, the order in which a worker takes work and
 *              the fairness bound for outside work; init, close, settle;
 *              the ops table (weft__steal_ops);
 *   search.c   searching and stealing: the steal sweep, who may search;
 *   idle.c     parking and waking: the eventcount protocol and its proof,
 *              the before-block hook, finishing, the burst bound;
 *   frames.c   weft_spawn's split frame stack and leapfrogging;
 *   spare.c    the spare thread: outside work while every worker is lent;
 *   deque.c    the Chase-Lev deque; injector.c the outside queue.
 * The inline functions below are the pool's fork-join hot paths (group.c,
 * pool.c): they are called directly, never through the ops table, and
 * branch on nothing but their own state (sched.c's design note).
 *
 * The helping rule, as the stealing scheduler keeps it. A waiting task runs
 * only tasks above its mark on its own deque (pool.h explains the rule).
 * depth counts the owner's pushes minus its successful pops, so it is the
 * logical index just above the newest item: thieves only ever remove the
 * oldest items, hence while depth > mark the item a pop returns, if any, was
 * pushed after the mark. Waiting tasks block once nothing is left above the
 * mark: nothing new can appear there, since only the owner pushes, so the
 * only event worth waking for is the awaited thing's completion, which
 * another worker brings about.
 */
#ifndef WEFT_SCHED_STEAL_H
#define WEFT_SCHED_STEAL_H

#include "sched/records.h"
#include "sched/sched.h"

/* The calling thread's worker when it is a worker of a stealing pool, else
 * NULL (also on the mutex scheduler's workers: they are weft__tls_self
 * only). Read on every spawn and join, so it uses the initial-exec TLS
 * model: two loads (the GOT slot, then %fs-relative) instead of a
 * __tls_get_addr call per access in the PIC objects the library is built
 * from. The cost is 8 bytes of the static TLS surplus that glibc reserves
 * for dlopen'ed libraries (jemalloc does the same; dlopen of libweft.so was
 * checked). */
extern _Thread_local weft__worker *weft__tls_worker __attribute__((tls_model("initial-exec")));

/* The stealing scheduler's operations (worker.c). */
extern const weft__sched_ops weft__steal_ops;

/* ---- between the stealing scheduler's files ------------------------------ */

/* What find_work returns when it stole a frame (into w->took) rather than a
 * task record. */
#define WEFT__FRAME_TAKEN ((weft__task *)2)

/* search.c: the next task for w's loop once its own deque is empty: the
 * injector, a steal, else it parks (idle.c); NULL once the scheduler is
 * finished. injector_take: pops the injector, counted. */
weft__task *weft__steal_find_work(weft__worker *w);
weft__task *weft__steal_injector_take(weft__worker *w);

/* search.c: nsearching holds two counts: searchers sweeping now in its low
 * bits (WEFT__SEARCH_ACTIVE), searchers napping between sweeps above, one
 * WEFT__SEARCH_NAPPER each (search.c's design note). The spawn's quick
 * check below reads the whole word (no wake-up while anyone searches, napping
 * or not); the fenced wake-up reads only the sweeping part (idle.c). */
#define WEFT__SEARCH_ACTIVE 0xffffu
#define WEFT__SEARCH_NAPPER 0x10000u

/* idle.c: park: w found nothing (PARK_RETRY: look again; PARK_EXIT: the
 * scheduler is finished). wake_fenced: the fenced wake-up, to call after
 * making work visible. wake_after_spawn: the unfenced one's out-of-line
 * half (the spawn fast path below). */
enum { WEFT__PARK_RETRY, WEFT__PARK_EXIT };
int weft__steal_park(weft__worker *w);
void weft__sched_wake_fenced(weft__sched *s);
void weft__sched_wake_after_spawn(weft__sched *s);

/* worker.c: a quiescent state for liburcu-qsbr, when w is online. */
void weft__sched_quiescent(weft__worker *w);

/* The frame stack (frames.c). steal: takes the oldest shared frame of
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

/* ---- the fork-join fast path ----------------------------------------------
 * Inline, for the pool's files: a spawn from a task and the join that pops it
 * back are the hot path of every recursive program (one task per call), so
 * they look up nothing (the caller passes its worker) and call out only to
 * the deque and the task. Calling thread = w's thread, a stealing worker,
 * throughout. */

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
    /* The unfenced wake-up of idle.c's design note; a lone worker has
     * nobody to wake. */
    if (s->nworkers > 1 && atomic_load_explicit(&s->nsearching, memory_order_relaxed) == 0)
        weft__sched_wake_after_spawn(s);
    return 0;
}

/* Runs a dequeued task on w: applies the pool's drop flags, keeps the
 * helping mark and the frame stack's view of the task around the call, and
 * frees the record afterwards. (Not a copy and an early free: the record
 * was usually written moments ago with 8-byte stores, and copying it with
 * wide loads stalls on store forwarding; the fork-join join path, group.c,
 * reads its fields into registers and frees first, so a task that spawns
 * reuses its record.) */
static inline void weft__sched_run_task(weft__worker *w, weft__task *t, bool helped)
{
    int how = weft__sched_task_how(w->s, t);
    uint64_t saved_mark = w->mark;
    uint64_t saved_frames = weft__frames_enter(&w->fr);
    w->mark = w->depth;
    bool ran = t->exec(t, how);
    weft__worker_task_free(w, t);
    weft__frames_leave(&w->fr, saved_frames); /* the implicit sync */
    w->mark = saved_mark;
    weft__sched_count_run(w, ran, helped);
}

/* A task the running task of w may help with (the helping rule above:
 * above its mark on w's own deque), or NULL. */
static inline weft__task *weft__sched_help_pop(weft__worker *w)
{
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

#endif /* WEFT_SCHED_STEAL_H */
