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

#ifdef WB_OMP_BUILD
#include <omp.h>

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

static void *setup_omp(const wb_params *p, const char **why)
{
    (void)why;
    return ctx_new(p);
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

static void teardown_omp(void *arg)
{
    free(arg);
}

static const wb_impl impls[] = {{WB_OMP_NAME, setup_omp, run_omp, teardown_omp}};

#else
#include "weft_pool.h"
#ifdef WB_HAVE_TBB
#include "peer_tbb.h"
#endif

typedef struct tree_arg {
    weft_pool *pool;
    uint64_t count, result;
} tree_arg;

static void tree_task(void *p)
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
    wb_group_init(&g, a->pool);
    wb_group_run(&g, tree_task, &x);
    wb_group_run(&g, tree_task, &y);
    wb_group_wait(&g);
    a->result = x.result + y.result + 1;
}

static void *setup_weft_sched(const wb_params *p, bool mutex_twin, const char **why)
{
    ctx *c = ctx_new(p);
    if (wb_weft_pool_create((weft_pool **)&c->runtime, p->threads, mutex_twin) != 0) {
        *why = "weft_pool_create failed";
        free(c);
        return NULL;
    }
    return c;
}

static void *setup_weft(const wb_params *p, const char **why)
{
    return setup_weft_sched(p, false, why);
}

static void *setup_weft_mutex(const wb_params *p, const char **why)
{
    return setup_weft_sched(p, true, why);
}

static uint64_t run_weft(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    tree_arg root = {c->runtime, c->nodes, 0};
    tree_task(&root);
    return check(c, root.result, "weft");
}

static void teardown_weft(void *arg)
{
    ctx *c = arg;
    weft_pool_destroy(c->runtime);
    free(c);
}

#ifdef WB_HAVE_TBB
static void *setup_tbb(const wb_params *p, const char **why)
{
    ctx *c = ctx_new(p);
    c->runtime = wb_tbb_create(p->threads);
    if (c->runtime == NULL) {
        *why = "task_arena failed";
        free(c);
        return NULL;
    }
    return c;
}

static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    return check(c, wb_tbb_tree(c->runtime, c->nodes), "tbb");
}

static void teardown_tbb(void *arg)
{
    ctx *c = arg;
    wb_tbb_destroy(c->runtime);
    free(c);
}
#endif

static const wb_impl impls[] = {
    {"weft", setup_weft, run_weft, teardown_weft},
    {"weft_mutex", setup_weft_mutex, run_weft, teardown_weft},
#ifdef WB_HAVE_TBB
    {"tbb", setup_tbb, run_tbb, teardown_tbb},
#endif
};
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

WB_REGISTER(tiny_tree_case, impls)
