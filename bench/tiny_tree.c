/* bench/tiny_tree.c: a small fork-join: a balanced binary tree of 1000
 * nodes, each node one task that forks its two subtrees and joins them. The
 * whole round is a few hundred microseconds of scheduling, so it measures the
 * fixed costs (waking workers, first steals, joins) rather than throughput.
 * An item is one node; the node count is checked after each round.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

typedef struct ctx {
    uint64_t nodes;
    void *runtime;
    int threads;
} ctx;

static uint64_t check(const ctx *c, uint64_t got, const char *who)
{
    if (got != c->nodes) {
        fprintf(stderr, "tiny_tree/%s: %llu nodes, expected %llu\n", who, (unsigned long long)got,
                (unsigned long long)c->nodes);
        abort();
    }
    return c->nodes;
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    c->nodes = (uint64_t)p->size;
    c->threads = p->threads;
    return c;
}

static void ctx_free(ctx *c)
{
    free(c);
}

#include "forkjoin.h"

#if defined(WB_OMP_BUILD)
static uint64_t tree_omp(uint64_t count)
{
    if (count == 0)
        return 0;
    uint64_t left = (count - 1) / 2, right = count - 1 - left;
    uint64_t a = 0, b = 0;
#pragma omp task shared(a)
    a = tree_omp(left);
#pragma omp task shared(b)
    b = tree_omp(right);
#pragma omp taskwait
    return a + b + 1;
}

static uint64_t run_omp(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    uint64_t got = 0;
#pragma omp parallel num_threads(c->threads)
#pragma omp single
    got = tree_omp(c->nodes);
    return check(c, got, WB_OMP_NAME);
}

#else

typedef struct tree_arg {
    weft_pool *pool;
    uint64_t count, result;
} tree_arg;

/* One node: fork both subtrees, join; on weft_group (frames = false) or
 * weft_spawn / weft_sync. */
WB_FJ_DECLARE(tree);
WB_FJ_INLINE void tree_body(void *p, bool frames)
{
    tree_arg *a = p;
    if (a->count == 0) {
        a->result = 0;
        return;
    }
    uint64_t left = (a->count - 1) / 2;
    tree_arg x = {a->pool, left, 0};
    tree_arg y = {a->pool, a->count - 1 - left, 0};
    weft_group g;
    wb_fj_init(&g, a->pool, frames);
    wb_fj_spawn(&g, frames, WB_FJ_FN(tree, frames), &x);
    wb_fj_spawn(&g, frames, WB_FJ_FN(tree, frames), &y);
    wb_fj_join(&g, frames, 2);
    a->result = x.result + y.result + 1;
}
WB_FJ_DEFINE(tree, tree_body)

/* As in bench/skynet.c: weft_group's root on the caller, weft_frames' in the pool. */
static uint64_t run_weft_path(ctx *c, bool frames, const char *who)
{
    tree_arg root = {c->runtime, c->nodes, 0};
    if (frames)
        wb_weft_run(c->runtime, tree_frame, &root);
    else
        tree_weft(&root);
    return check(c, root.result, who);
}
WB_FJ_WEFT_ROUNDS(run_weft_path)

#ifdef WB_HAVE_TBB
static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    return check(c, wb_tbb_tree(c->runtime, c->nodes), "tbb");
}
#endif
#endif

static const wb_case tiny_tree_case = {
    .name = "tiny_tree",
    .what = "A balanced binary tree of 1000 nodes (smoke 100), one fork-join per node: fixed costs of a "
            "small job.",
    .item = "node",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 1000,
    .smoke_size = 100,
};

WB_FJ_CASE(tiny_tree_case, run_omp, run_lace, run_weft, run_weft_frames, run_tbb)
