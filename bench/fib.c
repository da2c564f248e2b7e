/* bench/fib.c: fork-join overhead, fib(n) with one task per call, no cutoff,
 * so the time is almost all spawn, steal and join. Two shapes, the argument
 * `spawns`:
 *   2: every call with n >= 2 forks both fib(n-1) and fib(n-2) and joins
 *      them (weft_group, TBB task_group, OpenMP task + taskwait, Lace SPAWN
 *      twice and SYNC twice): calls(n) - 1 spawns;
 *   1: as Lace's own fib benchmark: fork fib(n-1), call fib(n-2) inline,
 *      join: fib(n+1) - 1 spawns (one per inner call).
 * calls(n) = 2 fib(n+1) - 1 in both; an item is one call. weft runs each
 * shape twice: on weft_group (`weft`, `weft_mutex`) and on the frame fast
 * path weft_spawn / weft_sync (`weft_frames`). The result is
 * checked against the iterative value after every round.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

typedef struct ctx {
    int n;
    int spawns; /* 1 or 2 forks per call */
    uint64_t expect;
    void *runtime; /* weft_pool or the TBB arena; unused by OpenMP and Lace */
    int threads;
} ctx;

static uint64_t fib_serial(int n)
{
    uint64_t a = 0, b = 1;
    for (int i = 0; i < n; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

static uint64_t check(const ctx *c, uint64_t got, const char *who)
{
    if (got != c->expect) {
        fprintf(stderr, "fib/%s: fib(%d) = %llu, expected %llu\n", who, c->n, (unsigned long long)got,
                (unsigned long long)c->expect);
        abort();
    }
    /* calls(n) = 2 fib(n+1) - 1 */
    return 2 * fib_serial(c->n + 1) - 1;
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    c->n = (int)p->size;
    c->spawns = p->arg == 1 ? 1 : 2;
    c->expect = fib_serial(c->n);
    c->threads = p->threads;
    return c;
}

static void ctx_free(ctx *c)
{
    free(c);
}

#include "forkjoin.h"

#if defined(WB_OMP_BUILD)
static uint64_t fib_omp2(int n)
{
    if (n < 2)
        return (uint64_t)n;
    uint64_t a = 0, b = 0;
#pragma omp task shared(a)
    a = fib_omp2(n - 1);
#pragma omp task shared(b)
    b = fib_omp2(n - 2);
#pragma omp taskwait
    return a + b;
}

static uint64_t fib_omp1(int n)
{
    if (n < 2)
        return (uint64_t)n;
    uint64_t a = 0;
#pragma omp task shared(a)
    a = fib_omp1(n - 1);
    uint64_t b = fib_omp1(n - 2);
#pragma omp taskwait
    return a + b;
}

static uint64_t run_omp(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    uint64_t got = 0;
#pragma omp parallel num_threads(c->threads)
#pragma omp single
    got = c->spawns == 1 ? fib_omp1(c->n) : fib_omp2(c->n);
    return check(c, got, WB_OMP_NAME);
}

#elif defined(WB_LACE_BUILD)
TASK_1(uint64_t, fib_lace2, int, n)
{
    if (n < 2)
        return (uint64_t)n;
    SPAWN(fib_lace2, n - 1);
    SPAWN(fib_lace2, n - 2);
    uint64_t b = SYNC(fib_lace2);
    uint64_t a = SYNC(fib_lace2);
    return a + b;
}

TASK_1(uint64_t, fib_lace1, int, n)
{
    if (n < 2)
        return (uint64_t)n;
    SPAWN(fib_lace1, n - 1);
    uint64_t b = CALL(fib_lace1, n - 2);
    uint64_t a = SYNC(fib_lace1);
    return a + b;
}

static uint64_t run_lace(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    uint64_t got = c->spawns == 1 ? RUN(fib_lace1, c->n) : RUN(fib_lace2, c->n);
    return check(c, got, "lace");
}

#else

typedef struct fib_arg {
    weft_pool *pool;
    int n;
    uint64_t result;
} fib_arg;

/* fib(n) with both calls forked (fib2) or with fib(n-1) forked and fib(n-2)
 * called (fib1), on weft_group (frames = false) or weft_spawn / weft_sync. */
WB_FJ_DECLARE(fib2);
WB_FJ_DECLARE(fib1);
WB_FJ_INLINE void fib_body(void *p, bool frames, int spawns)
{
    fib_arg *a = p;
    if (a->n < 2) {
        a->result = (uint64_t)a->n;
        return;
    }
    fib_arg x = {a->pool, a->n - 1, 0};
    fib_arg y = {a->pool, a->n - 2, 0};
    weft_group g;
    wb_fj_init(&g, a->pool, frames);
    if (spawns == 2) {
        wb_fj_spawn(&g, frames, WB_FJ_FN(fib2, frames), &x);
        wb_fj_spawn(&g, frames, WB_FJ_FN(fib2, frames), &y);
        wb_fj_join(&g, frames, 2);
    } else {
        wb_fj_spawn(&g, frames, WB_FJ_FN(fib1, frames), &x);
        WB_FJ_FN(fib1, frames)(&y);
        wb_fj_join(&g, frames, 1);
    }
    a->result = x.result + y.result;
}

WB_FJ_INLINE void fib2_body(void *p, bool frames)
{
    fib_body(p, frames, 2);
}
WB_FJ_DEFINE(fib2, fib2_body)

WB_FJ_INLINE void fib1_body(void *p, bool frames)
{
    fib_body(p, frames, 1);
}
WB_FJ_DEFINE(fib1, fib1_body)

static uint64_t run_weft_path(ctx *c, bool frames, const char *who)
{
    fib_arg root = {c->runtime, c->n, 0};
    void (*fn)(void *) = c->spawns == 1 ? WB_FJ_FN(fib1, frames) : WB_FJ_FN(fib2, frames);
    wb_weft_run(c->runtime, fn, &root);
    return check(c, root.result, who);
}
WB_FJ_WEFT_ROUNDS(run_weft_path)

#ifdef WB_HAVE_TBB
static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    return check(c, wb_tbb_fib(c->runtime, c->n, c->spawns), "tbb");
}
#endif
#endif

static const wb_case fib_case = {
    .name = "fib",
    .what = "fib(n), n = 25 (smoke 12), no cutoff: `spawns:2` forks both recursive calls and joins them, "
            "`spawns:1` forks fib(n-1) and calls fib(n-2) inline (Lace's fib).",
    .item = "task",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 25,
    .smoke_size = 12,
    .arg_name = "spawns",
    .args = {2, 1},
    .n_args = 2,
};

WB_FJ_CASE(fib_case, run_omp, run_lace, run_weft, run_weft_frames, run_tbb)
