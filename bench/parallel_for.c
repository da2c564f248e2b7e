/* bench/parallel_for.c: a parallel loop over n = 200000 iterations (smoke
 * 2000) whose bodies cost the same in total either way:
 *   skewed:0  uniform: every iteration 16 units of arithmetic;
 *   skewed:1  skewed: iteration i costs 32 i / n units (0 .. 31), so a static
 *             split in equal ranges gives the last thread most of the work.
 * weft_parallel_for and TBB's parallel_for get a grain of 1024 iterations;
 * OpenMP gets schedule(dynamic, 1024), the same chunks handed out on demand.
 * An item is one iteration; the checksum is compared after every round.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#define GRAIN 1024

typedef struct ctx {
    size_t n;
    bool skewed;
    uint64_t expect;
    _Atomic uint64_t sum;
    void *runtime;
    int threads;
} ctx;

static uint64_t units(const ctx *c, size_t i)
{
    return c->skewed ? (uint64_t)(32 * i / c->n) : 16;
}

static void body(void *arg, size_t lo, size_t hi)
{
    ctx *c = arg;
    uint64_t s = 0;
    for (size_t i = lo; i < hi; i++)
        s += wb_spin_work(units(c, i)) & 0xff;
    atomic_fetch_add_explicit(&c->sum, s, memory_order_relaxed);
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    c->n = (size_t)p->size;
    c->skewed = p->arg != 0;
    c->threads = p->threads;
    body(c, 0, c->n);
    c->expect = atomic_load_explicit(&c->sum, memory_order_relaxed);
    atomic_store_explicit(&c->sum, 0, memory_order_relaxed);
    return c;
}

static uint64_t check(ctx *c, const char *who)
{
    uint64_t got = atomic_exchange_explicit(&c->sum, 0, memory_order_relaxed);
    if (got != c->expect) {
        fprintf(stderr, "parallel_for/%s: checksum %llu, expected %llu\n", who, (unsigned long long)got,
                (unsigned long long)c->expect);
        abort();
    }
    return c->n;
}

static void ctx_free(ctx *c)
{
    free(c);
}

#include "contenders.h"

#if defined(WB_OMP_BUILD)
static uint64_t run_omp(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    size_t chunks = (c->n + GRAIN - 1) / GRAIN;
#pragma omp parallel for num_threads(c->threads) schedule(dynamic, 1)
    for (size_t k = 0; k < chunks; k++)
        body(c, k * GRAIN, (k + 1) * GRAIN < c->n ? (k + 1) * GRAIN : c->n);
    return check(c, WB_OMP_NAME);
}

#else
static uint64_t run_weft(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    if (weft_parallel_for(c->runtime, 0, c->n, GRAIN, body, c) != 0)
        abort();
    return check(c, "weft");
}

#ifdef WB_HAVE_TBB
static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    wb_tbb_parallel_for(c->runtime, 0, c->n, GRAIN, body, c);
    return check(c, "tbb");
}
#endif
#endif

static const wb_case parallel_for_case = {
    .name = "parallel_for",
    .what = "A parallel loop of 200000 iterations (smoke 2000), grain 1024: uniform work (skewed:0) or work "
            "growing linearly with the index (skewed:1).",
    .item = "iteration",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 200000,
    .smoke_size = 2000,
    .arg_name = "skewed",
    .args = {0, 1},
    .n_args = 2,
};

WB_CASE(parallel_for_case, run_omp, run_weft, run_tbb)
