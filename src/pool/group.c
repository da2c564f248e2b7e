/* pool/group.c: weft_group, fork-join task groups (TBB's task_group).
 *
 * Design note.
 * pending counts tasks run on the group and not finished; bit 31 (WAITERS)
 * says that a thread sleeps, or is about to, in futex_wait on the word.
 * run: CAS pending + 1 (relaxed: the spawn's release publication of the
 * record orders it before the task's decrement), then spawn. A task's end:
 * fetch_sub with release (its effects happen-before the waiter's acquire
 * load that sees the count reach zero); the one that takes the count to zero
 * with WAITERS set calls futex_wake. wait: poll and help (sched_wait); when
 * blocking, the waiters-bit protocol of sync/waitbit.h with WAITERS as its
 * bit: CAS it in while the count is non-zero and sleep on that exact value,
 * so a decrement in between changes the word and the kernel refuses to sleep
 * (no lost wake-up: the proof is waitbit.c's; every decrement changes the
 * word, and the one that reaches zero wakes when it replaced the bit). The
 * waiter that sees the count at zero clears a leftover bit
 * (weft__waitbit_clear_idle: nobody sleeps on a zero count).
 *
 * Lifetime: the group may live on the waiter's stack. The finishing task's
 * last access to it is the fetch_sub; the futex_wake that may follow uses
 * only the address (FUTEX_WAKE on memory that was freed or reused can at
 * worst wake a waiter spuriously, which every futex waiter tolerates; glibc's
 * semaphores rely on the same property).
 *
 * Spawn cost (the fork-join fast path, run from one of the pool's tasks):
 * one initial-exec TLS load, a free-list pop, an uncontended CAS on the
 * group's line, the deque push, two relaxed loads (no worker lookup through
 * calls, no admission call: only the broken flag applies to a pool's own
 * tasks). Join: an acquire load, the deque pop (owner's end), the record's
 * fields read into registers and the record freed, a direct call of fn, a
 * fetch_sub. No malloc, no system call, no seq_cst operation on a line that
 * other workers write. The counter is written by other threads only when a
 * thief finishes a stolen task; a task its owner pops back costs two RMWs on
 * a line that stays in the owner's cache (measured: making them plain
 * stores gains nothing within noise on the fib benchmark).
 */
#include "pool/pool_impl.h"

#include <errno.h>
#include <limits.h>

#include "sync/waitbit.h"

#define WAITERS    0x80000000u
#define COUNT_MASK 0x7fffffffu

static_assert((WAITERS & COUNT_MASK) == 0, "the waiter flag lies outside the count");

void weft_group_init(weft_group *g, weft_pool *p)
{
    if (g == NULL)
        return;
    g->pool = p;
    atomic_init(&g->pending, 0);
    atomic_init(&g->error, 0);
}

void weft__group_done(weft_group *g)
{
    /* release: the task's effects happen-before the waiter's acquire load in
     * group_idle that sees the count reach zero. */
    uint32_t old = atomic_fetch_sub_explicit(&g->pending, 1, memory_order_release);
    if ((old & COUNT_MASK) == 1)
        weft__waitbit_wake(&g->pending, old, WAITERS, INT32_MAX);
}

/* Counts t on g and queues it; w is the calling thread's worker when it is
 * one of g's pool, else NULL. On failure t is freed and the count undone. */
static inline __attribute__((always_inline)) int count_and_spawn(weft_group *g, weft__task *t,
                                                                 weft__worker *w)
{
    weft__sched *s = &g->pool->sched;
    uint32_t v = atomic_load_explicit(&g->pending, memory_order_relaxed);
    do {
        if (WEFT_UNLIKELY((v & COUNT_MASK) == COUNT_MASK)) {
            weft__task_free(s, t);
            return EOVERFLOW;
        }
    } while (!atomic_compare_exchange_weak_explicit(&g->pending, &v, v + 1, memory_order_relaxed,
                                                    memory_order_relaxed));
    int rc = w != NULL ? weft__worker_spawn(w, t) : weft__sched_spawn(s, t);
    if (WEFT_UNLIKELY(rc != 0)) {
        weft__task_free(s, t);
        weft__group_done(g);
    }
    return rc;
}

int weft__group_spawn(weft_group *g, weft__task *t)
{
    weft__worker *w = weft__tls_worker;
    return count_and_spawn(g, t, w != NULL && w->s == &g->pool->sched ? w : NULL);
}

static bool group_exec(const weft__task *t, int how)
{
    weft_group *g = t->u.group.group;
    if (WEFT_UNLIKELY(how == EPIPE)) {
        atomic_store_explicit(&g->error, EPIPE, memory_order_relaxed);
        weft__group_done(g);
        return false;
    }
    uint64_t frames = weft__frames_mark();
    t->u.group.fn(t->u.group.arg);
    weft__frames_join_to(frames);
    weft__group_done(g);
    return true;
}

int weft_group_run(weft_group *g, void (*fn)(void *arg), void *arg)
{
    if (WEFT_UNLIKELY(g == NULL || g->pool == NULL || fn == NULL))
        return EINVAL;
    weft_pool *p = g->pool;
    weft__worker *w = weft__tls_worker;
    weft__task *t;
    if (WEFT_LIKELY(w != NULL && w->s == &p->sched)) {
        /* weft__pool_admit for one of p's own tasks: shutdown does not
         * refuse them group work, only a broken pool does. */
        if (WEFT_UNLIKELY(atomic_load_explicit(&p->sched.broken, memory_order_relaxed)))
            return EPIPE;
        t = weft__worker_task_alloc(w);
    } else {
        int rc = weft__pool_admit(p, false);
        if (rc != 0)
            return rc;
        w = NULL;
        t = weft__task_alloc(&p->sched);
    }
    if (WEFT_UNLIKELY(t == NULL))
        return ENOMEM;
    t->exec = group_exec;
    t->tag = 0;
    t->u.group.fn = fn;
    t->u.group.arg = arg;
    t->u.group.group = g;
    return count_and_spawn(g, t, w);
}

/* weft__sched_run_helped specialised to a group task (the join of a
 * fork-join program): the fields go to registers and the record back to the
 * free list before fn runs, so fn's own spawns reuse it, and fn is called
 * directly. */
static inline void run_group_helped(weft__worker *w, weft__task *t)
{
    void (*fn)(void *arg) = t->u.group.fn;
    void *arg = t->u.group.arg;
    weft_group *g = t->u.group.group;
    weft__worker_task_free(w, t);
    if (WEFT_UNLIKELY(atomic_load_explicit(&w->s->broken, memory_order_relaxed))) {
        atomic_store_explicit(&g->error, EPIPE, memory_order_relaxed);
        weft__group_done(g);
        weft__stat_inc(&w->stats.cancelled);
        return;
    }
    uint64_t saved_mark = w->mark;
    /* The helped task's weft_spawns are joined before its count drops (the
     * implicit sync); a mark, not a full frames_enter: cheaper on the
     * fork-join path, and only a task that syncs more than it spawned
     * (a misuse) could tell the difference. */
    uint64_t frames = weft__frames_mark();
    w->mark = w->depth;
    fn(arg);
    weft__frames_join_to(frames);
    w->mark = saved_mark;
    weft__group_done(g);
    weft__stat_inc(&w->stats.run);
    weft__stat_inc(&w->stats.helped);
    if (WEFT_UNLIKELY((++w->helped & 63) == 0))
        weft__sched_quiescent(w);
}

static bool group_idle(void *ctx)
{
    weft_group *g = ctx;
    /* acquire: pairs with the release decrements in weft__group_done, so
     * every task's effects are visible once the count reads zero. */
    return (atomic_load_explicit(&g->pending, memory_order_acquire) & COUNT_MASK) == 0;
}

/* One sleep of weft_group_wait (sched_wait helps between sleeps, so the
 * dump's record spans this sleep only: diag/diag_impl.h). */
static int group_block(void *ctx, const weft__deadline *d)
{
    weft_group *g = ctx;
    WEFT__DIAG_SCOPE(blk);
    uint32_t v = atomic_load_explicit(&g->pending, memory_order_relaxed);
    while ((v & COUNT_MASK) != 0) {
        int rc = weft__waitbit_sleep(&g->pending, &v, WAITERS, d,
                                     &(weft__diag_wait){&blk, "weft_group_wait", g, WEFT__OBJ_GROUP});
        if (rc != EAGAIN) /* EAGAIN: the count moved without a sleep, re-check */
            return rc;
    }
    return 0;
}

int weft_group_wait(weft_group *g)
{
    if (g == NULL)
        return EINVAL;
    /* Fast path for fork-join: run our own spawns until the group is idle;
     * the general wait (spinning, blocking) only when that is not enough. */
    weft__worker *w = weft__tls_worker;
    bool idle;
    weft__task *t;
    while (!(idle = group_idle(g)) && w != NULL && (t = weft__sched_help_pop(w)) != NULL) {
        if (t->exec == group_exec)
            run_group_helped(w, t);
        else
            weft__sched_run_helped(w, t);
    }
    if (!idle)
        (void)weft__sched_wait(group_idle, group_block, g, NULL);
    /* A count of zero left with WAITERS set would cost the next round's last
     * decrement a needless wake-up: drop the bit (a plain load first: the
     * fork-join fast path makes no RMW here). */
    weft__waitbit_clear_idle(&g->pending, 0, WAITERS);
    if (WEFT_LIKELY(atomic_load_explicit(&g->error, memory_order_relaxed) == 0))
        return 0;
    return atomic_exchange_explicit(&g->error, 0, memory_order_relaxed);
}
