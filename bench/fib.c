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

#ifdef WB_OMP_BUILD
#include <omp.h>

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
    got = c->spawns == 1 ? fib_omp1(c->n) : fib_omp2(c->n);
    return check(c, got, WB_OMP_NAME);
}

static void teardown_omp(void *arg)
{
    free(arg);
}

static const wb_impl impls[] = {{WB_OMP_NAME, setup_omp, run_omp, teardown_omp}};

#elif defined(WB_LACE_BUILD)
#include "peer_lace.h"

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

static void *setup_lace(const wb_params *p, const char **why)
{
    (void)why;
    wb_lace_start(p->threads);
    return ctx_new(p);
}

static uint64_t run_lace(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    uint64_t got = c->spawns == 1 ? RUN(fib_lace1, c->n) : RUN(fib_lace2, c->n);
    return check(c, got, "lace");
}

static void teardown_lace(void *arg)
{
    wb_lace_stop();
    free(arg);
}

static const wb_impl impls[] = {{"lace", setup_lace, run_lace, teardown_lace}};

#else
#include "weft_pool.h"
#ifdef WB_HAVE_TBB
#include "peer_tbb.h"
#endif

typedef struct fib_arg {
    weft_pool *pool;
    int n;
    uint64_t result;
} fib_arg;

static void fib_task2(void *p)
{
    fib_arg *a = p;
    if (a->n < 2) {
        a->result = (uint64_t)a->n;
        return;
    }
    fib_arg x = {a->pool, a->n - 1, 0};
    fib_arg y = {a->pool, a->n - 2, 0};
    weft_group g;
    wb_group_init(&g, a->pool);
    wb_group_run(&g, fib_task2, &x);
    wb_group_run(&g, fib_task2, &y);
    wb_group_wait(&g);
    a->result = x.result + y.result;
}

static void fib_task1(void *p)
{
    fib_arg *a = p;
    if (a->n < 2) {
        a->result = (uint64_t)a->n;
        return;
    }
    fib_arg x = {a->pool, a->n - 1, 0};
    fib_arg y = {a->pool, a->n - 2, 0};
    weft_group g;
    wb_group_init(&g, a->pool);
    wb_group_run(&g, fib_task1, &x);
    fib_task1(&y);
    wb_group_wait(&g);
    a->result = x.result + y.result;
}

/* The same two shapes on weft_spawn / weft_sync, the frame fast path. */
static void fib_frame2(void *p)
{
    fib_arg *a = p;
    if (a->n < 2) {
        a->result = (uint64_t)a->n;
        return;
    }
    fib_arg x = {a->pool, a->n - 1, 0};
    fib_arg y = {a->pool, a->n - 2, 0};
    weft_spawn(fib_frame2, &x);
    weft_spawn(fib_frame2, &y);
    weft_sync();
    weft_sync();
    a->result = x.result + y.result;
}

static void fib_frame1(void *p)
{
    fib_arg *a = p;
    if (a->n < 2) {
        a->result = (uint64_t)a->n;
        return;
    }
    fib_arg x = {a->pool, a->n - 1, 0};
    fib_arg y = {a->pool, a->n - 2, 0};
    weft_spawn(fib_frame1, &x);
    fib_frame1(&y);
    weft_sync();
    a->result = x.result + y.result;
}

static uint64_t run_weft_frames(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    fib_arg root = {c->runtime, c->n, 0};
    wb_weft_run(c->runtime, c->spawns == 1 ? fib_frame1 : fib_frame2, &root);
    return check(c, root.result, "weft_frames");
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
    fib_arg root = {c->runtime, c->n, 0};
    wb_weft_run(c->runtime, c->spawns == 1 ? fib_task1 : fib_task2, &root);
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
    return check(c, wb_tbb_fib(c->runtime, c->n, c->spawns), "tbb");
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
    {"weft_frames", setup_weft, run_weft_frames, teardown_weft},
#ifdef WB_HAVE_TBB
    {"tbb", setup_tbb, run_tbb, teardown_tbb},
#endif
};
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

WB_REGISTER(fib_case, impls)
