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
 * blocking, CAS WAITERS in while the count is non-zero and sleep on that
 * exact value, so a decrement in between changes the word and the kernel
 * refuses to sleep (no lost wake-up).
 *
 * Lifetime: the group may live on the waiter's stack. The finishing task's
 * last access to it is the fetch_sub; the futex_wake that may follow uses
 * only the address (FUTEX_WAKE on memory that was freed or reused can at
 * worst wake a waiter spuriously, which every futex waiter tolerates; glibc's
 * semaphores rely on the same property).
 *
 * Spawn cost (the fork-join fast path): a free-list pop, an uncontended CAS
 * on the group's line, the deque push, two relaxed loads; join: an acquire
 * load, the deque pop, the record copy and free, a fetch_sub. No malloc, no
 * system call, no seq_cst operation on a line that other workers write.
 */
#include "pool/pool_impl.h"

#include <errno.h>
#include <limits.h>

#define WAITERS 0x80000000u
#define COUNT_MASK 0x7fffffffu

static_assert((WAITERS & COUNT_MASK) == 0, "the waiter flag lies outside the count");

void weft_group_init(weft_group *g, weft_pool *p)
{
    g->pool = p;
    atomic_init(&g->pending, 0);
    atomic_init(&g->error, 0);
}

void weft__group_done(weft_group *g)
{
    /* release: the task's effects happen-before the waiter's acquire load in
     * group_idle that sees the count reach zero. */
    uint32_t old = atomic_fetch_sub_explicit(&g->pending, 1, memory_order_release);
    if ((old & COUNT_MASK) == 1 && (old & WAITERS))
        weft__futex_wake(&g->pending, INT32_MAX);
}

int weft__group_spawn(weft_group *g, weft__task *t)
{
    weft__sched *s = &g->pool->sched;
    uint32_t v = atomic_load_explicit(&g->pending, memory_order_relaxed);
    do {
        if ((v & COUNT_MASK) == COUNT_MASK) {
            weft__task_free(s, t);
            return EOVERFLOW;
        }
    } while (!atomic_compare_exchange_weak_explicit(&g->pending, &v, v + 1, memory_order_relaxed,
                                                    memory_order_relaxed));
    int rc = weft__sched_spawn(s, t);
    if (WEFT_UNLIKELY(rc != 0)) {
        weft__task_free(s, t);
        weft__group_done(g);
    }
    return rc;
}

static bool group_exec(const weft__task *t, int how)
{
    weft_group *g = t->u.group.group;
    if (WEFT_UNLIKELY(how == EPIPE)) {
        atomic_store_explicit(&g->error, EPIPE, memory_order_relaxed);
        weft__group_done(g);
        return false;
    }
    t->u.group.fn(t->u.group.arg);
    weft__group_done(g);
    return true;
}

int weft_group_run(weft_group *g, void (*fn)(void *arg), void *arg)
{
    if (g == NULL || g->pool == NULL || fn == NULL)
        return EINVAL;
    int rc = weft__pool_admit(g->pool, false);
    if (WEFT_UNLIKELY(rc != 0))
        return rc;
    weft__task *t = weft__task_alloc(&g->pool->sched);
    if (WEFT_UNLIKELY(t == NULL))
        return ENOMEM;
    t->exec = group_exec;
    t->tag = 0;
    t->u.group.fn = fn;
    t->u.group.arg = arg;
    t->u.group.group = g;
    return weft__group_spawn(g, t);
}

static bool group_idle(void *ctx)
{
    weft_group *g = ctx;
    /* acquire: pairs with the release decrements in weft__group_done, so
     * every task's effects are visible once the count reads zero. */
    return (atomic_load_explicit(&g->pending, memory_order_acquire) & COUNT_MASK) == 0;
}

static int group_block(void *ctx, const weft__deadline *d)
{
    weft_group *g = ctx;
    uint32_t v = atomic_load_explicit(&g->pending, memory_order_relaxed);
    while ((v & COUNT_MASK) != 0) {
        if (!(v & WAITERS) && !atomic_compare_exchange_weak_explicit(&g->pending, &v, v | WAITERS,
                                                                     memory_order_relaxed, memory_order_relaxed))
            continue;
        return weft__futex_wait(&g->pending, v | WAITERS, d);
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
    while (!(idle = group_idle(g)) && w != NULL && weft__sched_help_one(w))
        ;
    if (!idle)
        (void)weft__sched_wait(group_idle, group_block, g, NULL);
    /* Plain loads first: the fork-join fast path makes no RMW here. */
    uint32_t idle_flagged = WAITERS;
    if (WEFT_UNLIKELY(atomic_load_explicit(&g->pending, memory_order_relaxed) == WAITERS))
        (void)atomic_compare_exchange_strong_explicit(&g->pending, &idle_flagged, 0, memory_order_relaxed,
                                                      memory_order_relaxed);
    if (WEFT_LIKELY(atomic_load_explicit(&g->error, memory_order_relaxed) == 0))
        return 0;
    return atomic_exchange_explicit(&g->error, 0, memory_order_relaxed);
}
