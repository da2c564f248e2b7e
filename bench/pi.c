/* bench/pi.c: Monte Carlo pi, after Lace's pi benchmark: the range of n
 * samples (n = 2^22, smoke 4096) is split in halves down to single samples,
 * forking the first half and running the second inline (n - 1 spawns); a
 * leaf draws a point in the unit square with a per-thread LCG (Lace's:
 * seed * 1103515245 + 12345, modulo RAND_MAX) and counts it if it falls in
 * the quarter circle. So a task is fine-grained but not empty: a few
 * nanoseconds of arithmetic and a square root. Each thread seeds its
 * generator once, from a shared counter, so which thread draws which point
 * varies: the check is that the estimate lies within ten standard errors of
 * pi. An item is one sample.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

typedef struct ctx {
    long n;
    void *runtime; /* weft_pool or the TBB arena; unused by OpenMP and Lace */
    int threads;
} ctx;

static atomic_uint next_seed = 1;
static _Thread_local uint32_t seed;

static inline uint32_t lcg(uint32_t *s, uint32_t max)
{
    *s = *s * 1103515245u + 12345u;
    return *s % max;
}

/* One sample: 1 if the point falls inside the quarter circle. */
static inline uint64_t pi_leaf(void)
{
    if (seed == 0)
        seed = atomic_fetch_add_explicit(&next_seed, 1, memory_order_relaxed);
    double x = lcg(&seed, RAND_MAX) / (double)RAND_MAX;
    double y = lcg(&seed, RAND_MAX) / (double)RAND_MAX;
    return sqrt(x * x + y * y) < 1.0 ? 1 : 0;
}

static uint64_t check(const ctx *c, uint64_t hits, const char *who)
{
    double pi = 4.0 * (double)hits / (double)c->n;
    /* hits ~ Binomial(n, pi/4): the estimate's standard error is 4 sqrt(p(1-p)/n). */
    double p = M_PI / 4, se = 4 * sqrt(p * (1 - p) / (double)c->n);
    if (fabs(pi - M_PI) > 10 * se) {
        fprintf(stderr, "pi/%s: %.6f from %ld samples, more than 10 standard errors (%.6f) off\n", who, pi,
                c->n, se);
        abort();
    }
    return (uint64_t)c->n;
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    c->n = p->size;
    c->threads = p->threads;
    return c;
}

static void ctx_free(ctx *c)
{
    free(c);
}

#include "forkjoin.h"

#if defined(WB_OMP_BUILD)
static uint64_t pi_omp(long start, long cnt)
{
    if (cnt == 1)
        return pi_leaf();
    uint64_t a = 0;
#pragma omp task shared(a)
    a = pi_omp(start, cnt / 2);
    uint64_t b = pi_omp(start + cnt / 2, (cnt + 1) / 2);
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
    got = pi_omp(0, c->n);
    return check(c, got, WB_OMP_NAME);
}

#elif defined(WB_LACE_BUILD)
TASK_2(uint64_t, pi_lace, long, start, long, cnt)
{
    if (cnt == 1)
        return pi_leaf();
    SPAWN(pi_lace, start, cnt / 2);
    uint64_t b = CALL(pi_lace, start + cnt / 2, (cnt + 1) / 2);
    uint64_t a = SYNC(pi_lace);
    return a + b;
}

static uint64_t run_lace(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    return check(c, RUN(pi_lace, 0, c->n), "lace");
}

#else

typedef struct pi_arg {
    void *runtime; /* the weft pool; unused by TBB */
    long start, cnt;
    uint64_t result;
} pi_arg;

/* One range, on weft_group (frames = false) or weft_spawn / weft_sync. */
WB_FJ_DECLARE(pi);
WB_FJ_INLINE void pi_body(void *p, bool frames)
{
    pi_arg *a = p;
    if (a->cnt == 1) {
        a->result = pi_leaf();
        return;
    }
    pi_arg first = {a->runtime, a->start, a->cnt / 2, 0};
    pi_arg second = {a->runtime, a->start + a->cnt / 2, (a->cnt + 1) / 2, 0};
    weft_group g;
    wb_fj_init(&g, a->runtime, frames);
    wb_fj_spawn(&g, frames, WB_FJ_FN(pi, frames), &first);
    WB_FJ_FN(pi, frames)(&second);
    wb_fj_join(&g, frames, 1);
    a->result = first.result + second.result;
}
WB_FJ_DEFINE(pi, pi_body)

static uint64_t run_weft_path(ctx *c, bool frames, const char *who)
{
    pi_arg root = {c->runtime, 0, c->n, 0};
    wb_weft_run(c->runtime, WB_FJ_FN(pi, frames), &root);
    return check(c, root.result, who);
}

WB_FJ_WEFT_ROUNDS(run_weft_path)

#ifdef WB_HAVE_TBB
static void pi_tbb(void *p)
{
    pi_arg *a = p;
    if (a->cnt == 1) {
        a->result = pi_leaf();
        return;
    }
    pi_arg first = {NULL, a->start, a->cnt / 2, 0};
    pi_arg second = {NULL, a->start + a->cnt / 2, (a->cnt + 1) / 2, 0};
    wb_tbb_group g;
    wb_tbb_group_init(&g);
    wb_tbb_group_run(&g, pi_tbb, &first);
    pi_tbb(&second);
    wb_tbb_group_wait(&g);
    a->result = first.result + second.result;
}

static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    pi_arg root = {NULL, 0, c->n, 0};
    wb_tbb_execute(c->runtime, pi_tbb, &root);
    return check(c, root.result, "tbb");
}
#endif
#endif

static const wb_case pi_case = {
    .name = "pi",
    .what = "Lace's Monte Carlo pi: 2^22 samples (smoke 4096), the range halved down to one sample per task.",
    .item = "sample",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 1L << 22,
    .smoke_size = 4096,
};

WB_FJ_CASE(pi_case, run_omp, run_lace, run_weft, run_weft_frames, run_tbb)
