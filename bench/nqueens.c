/* bench/nqueens.c: an irregular task tree: counting the solutions of
 * n-queens (n = 12: 14200 solutions) by forking one task per safe square of
 * each row, so the tree's fan-out and depth vary from node to node. An item
 * is one task (one partial placement); the count is checked after each round.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "reference.h"

#define MAX_N 16

typedef struct ctx {
    int n;
    uint64_t expect, tasks;
    void *runtime;
    int threads;
} ctx;

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
    c->expect = wb_queens_count(c->n, 0, 0, 0, 0, &c->tasks);
    c->threads = p->threads;
    return c;
}

static void ctx_free(ctx *c)
{
    free(c);
}

#include "forkjoin.h"

#if defined(WB_OMP_BUILD)
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

#else

typedef struct nq_arg {
    weft_pool *pool;
    int n, row;
    uint32_t cols, d1, d2;
    uint64_t result;
} nq_arg;

/* One row: fork a task per safe square, join, sum; on weft_group (frames =
 * false) or weft_spawn / weft_sync. */
WB_FJ_DECLARE(nq);
WB_FJ_INLINE void nq_body(void *p, bool frames)
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
    wb_fj_init(&g, a->pool, frames);
    while (free_ != 0) {
        uint32_t bit = free_ & (~free_ + 1);
        free_ &= free_ - 1;
        kids[nk] =
            (nq_arg){a->pool, a->n, a->row + 1, a->cols | bit, (a->d1 | bit) << 1, (a->d2 | bit) >> 1, 0};
        wb_fj_spawn(&g, frames, WB_FJ_FN(nq, frames), &kids[nk]);
        nk++;
    }
    wb_fj_join(&g, frames, nk);
    uint64_t sum = 0;
    for (int k = 0; k < nk; k++)
        sum += kids[k].result;
    a->result = sum;
}
WB_FJ_DEFINE(nq, nq_body)

/* As in bench/skynet.c: weft_group's root on the caller, weft_frames' in the pool. */
static uint64_t run_weft_path(ctx *c, bool frames, const char *who)
{
    nq_arg root = {c->runtime, c->n, 0, 0, 0, 0, 0};
    if (frames)
        wb_weft_run(c->runtime, nq_frame, &root);
    else
        nq_weft(&root);
    return check(c, root.result, who);
}
WB_FJ_WEFT_ROUNDS(run_weft_path)

#ifdef WB_HAVE_TBB
static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    return check(c, wb_tbb_nqueens(c->runtime, c->n), "tbb");
}
#endif
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

WB_FJ_CASE(nqueens_case, run_omp, run_lace, run_weft, run_weft_frames, run_tbb)
