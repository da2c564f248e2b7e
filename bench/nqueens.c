/* bench/nqueens.c: an irregular task tree: counting the solutions of
 * n-queens (n = 12: 14200 solutions) by forking one task per safe square of
 * each row, so the tree's fan-out and depth vary from node to node. An item
 * is one task (one partial placement); the count is checked after each round.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#define MAX_N 16

typedef struct ctx {
    int n;
    uint64_t expect, tasks;
    void *runtime;
    int threads;
} ctx;

/* Serial count of solutions and of nodes (tasks) of the tree. */
static uint64_t nq_serial(int n, int row, uint32_t cols, uint32_t d1, uint32_t d2, uint64_t *nodes)
{
    ++*nodes;
    if (row == n)
        return 1;
    uint64_t found = 0;
    uint32_t free_ = ~(cols | d1 | d2) & ((1u << n) - 1);
    while (free_ != 0) {
        uint32_t bit = free_ & (~free_ + 1);
        free_ &= free_ - 1;
        found += nq_serial(n, row + 1, cols | bit, (d1 | bit) << 1, (d2 | bit) >> 1, nodes);
    }
    return found;
}

static uint64_t check(const ctx *c, uint64_t got, const char *who)
{
    if (got != c->expect) {
        fprintf(stderr, "nqueens/%s: %llu solutions, expected %llu\n", who, (unsigned long long)got,
                (unsigned long long)c->expect);
        abort();
    }
    return c->tasks;
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    c->n = p->size > MAX_N ? MAX_N : (int)p->size;
    c->expect = nq_serial(c->n, 0, 0, 0, 0, &c->tasks);
    c->threads = p->threads;
    return c;
}

#ifdef WB_OMP_BUILD
#include <omp.h>

static uint64_t nq_omp(int n, int row, uint32_t cols, uint32_t d1, uint32_t d2)
{
    if (row == n)
        return 1;
    uint64_t found[MAX_N] = {0};
    uint32_t free_ = ~(cols | d1 | d2) & ((1u << n) - 1);
    while (free_ != 0) {
        uint32_t bit = free_ & (~free_ + 1);
        free_ &= free_ - 1;
        int k = __builtin_ctz(bit);
#pragma omp task shared(found)
        found[k] = nq_omp(n, row + 1, cols | bit, (d1 | bit) << 1, (d2 | bit) >> 1);
    }
#pragma omp taskwait
    uint64_t sum = 0;
    for (int k = 0; k < n; k++)
        sum += found[k];
    return sum;
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
    got = nq_omp(c->n, 0, 0, 0, 0);
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

typedef struct nq_arg {
    weft_pool *pool;
    int n, row;
    uint32_t cols, d1, d2;
    uint64_t result;
} nq_arg;

static void nq_task(void *p)
{
    nq_arg *a = p;
    if (a->row == a->n) {
        a->result = 1;
        return;
    }
    nq_arg kids[MAX_N];
    int nk = 0;
    uint32_t free_ = ~(a->cols | a->d1 | a->d2) & ((1u << a->n) - 1);
    weft_group g;
    wb_group_init(&g, a->pool);
    while (free_ != 0) {
        uint32_t bit = free_ & (~free_ + 1);
        free_ &= free_ - 1;
        kids[nk] =
            (nq_arg){a->pool, a->n, a->row + 1, a->cols | bit, (a->d1 | bit) << 1, (a->d2 | bit) >> 1, 0};
        wb_group_run(&g, nq_task, &kids[nk]);
        nk++;
    }
    wb_group_wait(&g);
    uint64_t sum = 0;
    for (int k = 0; k < nk; k++)
        sum += kids[k].result;
    a->result = sum;
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
    nq_arg root = {c->runtime, c->n, 0, 0, 0, 0, 0};
    nq_task(&root);
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
    return check(c, wb_tbb_nqueens(c->runtime, c->n), "tbb");
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

static const wb_case nqueens_case = {
    .name = "nqueens",
    .what =
        "n-queens (n = 12, smoke 6) counted with one task per safe square of each row: an irregular tree.",
    .item = "task",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 12,
    .smoke_size = 6,
};

WB_REGISTER(nqueens_case, impls)
