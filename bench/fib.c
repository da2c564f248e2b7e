/* bench/fib.c: fork-join overhead, fib(n) with one task per call.
 * Every call with n >= 2 forks both fib(n-1) and fib(n-2) as tasks and joins
 * them (weft_group, TBB task_group, OpenMP task + taskwait); no cutoff, so the
 * time is almost all spawn, steal and join. An item is one call (task). The
 * result is checked against the iterative value after every round.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

typedef struct ctx {
    int n;
    uint64_t expect;
    void *runtime; /* weft_pool or the TBB arena; unused by OpenMP */
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
    c->expect = fib_serial(c->n);
    c->threads = p->threads;
    return c;
}

#ifdef WB_OMP_BUILD
#include <omp.h>

static uint64_t fib_omp(int n)
{
    if (n < 2)
        return (uint64_t)n;
    uint64_t a = 0, b = 0;
#pragma omp task shared(a)
    a = fib_omp(n - 1);
#pragma omp task shared(b)
    b = fib_omp(n - 2);
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
    got = fib_omp(c->n);
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

typedef struct fib_arg {
    weft_pool *pool;
    int n;
    uint64_t result;
} fib_arg;

static void fib_task(void *p)
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
    wb_group_run(&g, fib_task, &x);
    wb_group_run(&g, fib_task, &y);
    wb_group_wait(&g);
    a->result = x.result + y.result;
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
    fib_task(&root);
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
    return check(c, wb_tbb_fib(c->runtime, c->n), "tbb");
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

static const wb_case fib_case = {
    .name = "fib",
    .what = "fib(n) with both recursive calls forked as tasks and joined (no cutoff); n = 25, smoke 12.",
    .item = "task",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 25,
    .smoke_size = 12,
};

WB_REGISTER(fib_case, impls)
