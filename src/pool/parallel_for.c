/* pool/parallel_for.c: weft_parallel_for, a joblib-style parallel loop by
 * recursive halving (TBB's parallel_for with a simple partitioner, Cilk's
 * cilk_for).
 *
 * Design note.
 * A piece [lo, hi) longer than the grain spawns its upper half as a task of
 * the loop's group and keeps halving its lower half; a piece of at most grain
 * indices runs the body. Spawned halves go on the spawning worker's deque,
 * so the oldest entry, which thieves take first, is always the biggest piece
 * left: a thief takes half of the remaining work in one steal and splits it
 * on its own deque. The caller runs the leftmost pieces itself and then
 * waits on the group, helping with the pieces still on its deque.
 *
 * Coverage: each split hands [mid, hi) to exactly one task and keeps
 * [lo, mid), and a piece is run by exactly one body call, so every index is
 * covered exactly once. A piece that cannot be spawned (no memory, or the
 * pool closed while an outside caller was splitting) is split and run in
 * place instead, so the loop still completes.
 */
#include "pool/pool_impl.h"

#include <errno.h>

struct weft__loop {
    void (*body)(void *ctx, size_t lo, size_t hi);
    void *ctx;
    size_t grain;
    weft_group group;
};

static void split_run(struct weft__loop *loop, size_t lo, size_t hi);

static bool range_exec(const weft__task *t, int how)
{
    struct weft__loop *loop = t->u.range.loop;
    if (WEFT_UNLIKELY(how == EPIPE)) {
        atomic_store_explicit(&loop->group.error, EPIPE, memory_order_relaxed);
        weft__group_done(&loop->group);
        return false;
    }
    split_run(loop, t->u.range.lo, t->u.range.hi);
    weft__group_done(&loop->group);
    return true;
}

static bool spawn_range(struct weft__loop *loop, size_t lo, size_t hi)
{
    weft__task *t = weft__task_alloc(&loop->group.pool->sched);
    if (t == NULL)
        return false;
    t->exec = range_exec;
    t->tag = 0;
    t->u.range.loop = loop;
    t->u.range.lo = lo;
    t->u.range.hi = hi;
    return weft__group_spawn(&loop->group, t) == 0;
}

static void split_run(struct weft__loop *loop, size_t lo, size_t hi)
{
    while (hi - lo > loop->grain) {
        size_t mid = lo + (hi - lo) / 2;
        if (!spawn_range(loop, mid, hi))
            split_run(loop, mid, hi);
        hi = mid;
    }
    uint64_t frames = weft__frames_mark();
    loop->body(loop->ctx, lo, hi);
    weft__frames_join_to(frames);
}

int weft_parallel_for(weft_pool *p, size_t begin, size_t end, size_t grain,
                      void (*body)(void *ctx, size_t lo, size_t hi), void *ctx)
{
    if (p == NULL || body == NULL || begin > end)
        return EINVAL;
    if (begin == end)
        return 0;
    int rc = weft__pool_admit(p, false);
    if (rc != 0)
        return rc;
    if (grain == 0) {
        grain = (end - begin) / (8 * p->sched.nworkers);
        if (grain == 0)
            grain = 1;
    }
    struct weft__loop loop = {.body = body, .ctx = ctx, .grain = grain};
    weft_group_init(&loop.group, p);
    split_run(&loop, begin, end);
    return weft_group_wait(&loop.group);
}
