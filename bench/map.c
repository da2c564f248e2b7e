/* bench/map.c: Executor.map with a chunksize. n = 50000 items (smoke 500),
 * each a call fn(arg) -> result of 8 units of arithmetic, results kept in
 * input order. weft_pool_map against its mutex twin; the peers run the same
 * function over the same array in chunks of the same size (OpenMP
 * schedule(dynamic, chunksize), TBB parallel_for with a simple_partitioner).
 * An item is one call; every result is checked after each round.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

typedef struct ctx {
    size_t n, chunk;
    void **args;
    void **results;
    void *runtime;
    int threads;
} ctx;

/* The work is an opaque call (bench/common.c); the result is the argument
 * itself, so that the check after the round is exact. */
static int fn(void *arg, void **result)
{
    uint64_t w = wb_spin_work(8);
    *result = (void *)((uintptr_t)arg + (w & 0));
    return 0;
}

static void chunk_body(void *arg, size_t lo, size_t hi)
{
    ctx *c = arg;
    for (size_t i = lo; i < hi; i++)
        fn(c->args[i], &c->results[i]);
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    c->n = (size_t)p->size;
    c->chunk = (size_t)p->arg;
    c->threads = p->threads;
    c->args = calloc(c->n, sizeof(void *));
    c->results = calloc(c->n, sizeof(void *));
    for (size_t i = 0; i < c->n; i++)
        c->args[i] = (void *)(uintptr_t)(i + 1);
    return c;
}

static uint64_t check(ctx *c, const char *who)
{
    for (size_t i = 0; i < c->n; i++) {
        if ((uintptr_t)c->results[i] != (i + 1)) {
            fprintf(stderr, "map/%s: result %zu is wrong\n", who, i);
            abort();
        }
        c->results[i] = NULL;
    }
    return c->n;
}

static void ctx_free(ctx *c)
{
    free(c->args);
    free(c->results);
    free(c);
}

#include "contenders.h"

#if defined(WB_OMP_BUILD)
static uint64_t run_omp(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    size_t chunks = (c->n + c->chunk - 1) / c->chunk;
#pragma omp parallel for num_threads(c->threads) schedule(dynamic, 1)
    for (size_t k = 0; k < chunks; k++)
        chunk_body(c, k * c->chunk, (k + 1) * c->chunk < c->n ? (k + 1) * c->chunk : c->n);
    return check(c, WB_OMP_NAME);
}

#else
static uint64_t run_weft(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    if (weft_pool_map(c->runtime, fn, (void *const *)c->args, c->n, c->results, c->chunk, WEFT_FOREVER) != 0)
        abort();
    return check(c, "weft");
}

#ifdef WB_HAVE_TBB
static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    wb_tbb_parallel_for_chunked(c->runtime, 0, c->n, c->chunk, chunk_body, c);
    return check(c, "tbb");
}
#endif
#endif

static const wb_case map_case = {
    .name = "map",
    .what = "Executor.map over 50000 items (smoke 500) of a small function, results in input order, with "
            "chunksize 1 or 64.",
    .item = "call",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 50000,
    .smoke_size = 500,
    .arg_name = "chunksize",
    .args = {1, 64},
    .n_args = 2,
};

WB_CASE(map_case, run_omp, run_weft, run_tbb)
