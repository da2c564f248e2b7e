/* bench/matmul.c: compute-bound divide and conquer, the recursive matrix
 * multiplication of Lace's suite (after Cilk-5's): C = A B for n x n floats
 * (n = 1024, smoke 64; row-major, leading dimension n), split along the
 * largest of the three dimensions m, n, p: along m or p the halves are
 * independent (fork one, run the other, join); along the inner dimension
 * the two halves run one after the other (the second adds to C). Blocks
 * with m + n + p <= 64 are multiplied by the triple loop. The entries of A
 * and B are small integers, so every partial sum is exact in float and C
 * is checked exactly, on 64 sampled entries, after each round. An item is
 * one multiply-add (n^3 per round).
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "reference.h"

typedef float real;

typedef struct ctx {
    int n;
    real *a, *b, *c;
    void *runtime; /* weft_pool or the TBB arena; unused by OpenMP and Lace */
    int threads;
} ctx;

/* The block of Lace's rec_matmul: m x n times n x p, leading dimension ld. */
typedef struct mm_job {
    const real *a, *b;
    real *c;
    int m, n, p, ld, add;
} mm_job;

static void mm_base(const mm_job *j)
{
    for (int i = 0; i < j->m; i++)
        for (int k = 0; k < j->p; k++) {
            real s = j->add ? j->c[i * j->ld + k] : 0;
            for (int l = 0; l < j->n; l++)
                s += j->a[i * j->ld + l] * j->b[l * j->ld + k];
            j->c[i * j->ld + k] = s;
        }
}

enum mm_split { MM_BASE, MM_FORK, MM_SERIAL };

/* How to split job j: MM_BASE (multiply it now), or into *x and *y, which
 * are independent (MM_FORK) or must run x then y (MM_SERIAL). */
static enum mm_split mm_split(const mm_job *j, mm_job *x, mm_job *y)
{
    if (j->m + j->n + j->p <= 64)
        return MM_BASE;
    *x = *j;
    *y = *j;
    if (j->m >= j->n && j->n >= j->p) {
        int m1 = j->m >> 1;
        x->m = m1;
        y->m = j->m - m1;
        y->a = j->a + m1 * j->ld;
        y->c = j->c + m1 * j->ld;
        return MM_FORK;
    }
    if (j->n >= j->m && j->n >= j->p) {
        int n1 = j->n >> 1;
        x->n = n1;
        y->n = j->n - n1;
        y->a = j->a + n1;
        y->b = j->b + n1 * j->ld;
        y->add = 1;
        return MM_SERIAL;
    }
    int p1 = j->p >> 1;
    x->p = p1;
    y->p = j->p - p1;
    y->b = j->b + p1;
    y->c = j->c + p1;
    return MM_FORK;
}

static inline real mm_a(int i, int j)
{
    return (real)((i * 7 + j * 3) % 17 - 8);
}

static inline real mm_b(int i, int j)
{
    return (real)((i * 5 + j * 11) % 13 - 6);
}

static uint64_t check(const ctx *c, const char *who)
{
    return wb_matmul_check("matmul", who, c->n, c->a, c->b, c->c);
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    int n = c->n = (int)p->size;
    c->a = malloc((size_t)n * (size_t)n * sizeof(real));
    c->b = malloc((size_t)n * (size_t)n * sizeof(real));
    c->c = malloc((size_t)n * (size_t)n * sizeof(real));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            c->a[i * n + j] = mm_a(i, j);
            c->b[i * n + j] = mm_b(i, j);
            c->c[i * n + j] = -1;
        }
    c->threads = p->threads;
    return c;
}

static void ctx_free(ctx *c)
{
    free(c->a);
    free(c->b);
    free(c->c);
    free(c);
}

static mm_job root_job(const ctx *c)
{
    return (mm_job){c->a, c->b, c->c, c->n, c->n, c->n, c->n, 0};
}

#include "forkjoin.h"

#if defined(WB_OMP_BUILD)
static void mm_omp(mm_job j)
{
    mm_job x, y;
    switch (mm_split(&j, &x, &y)) {
    case MM_BASE:
        mm_base(&j);
        return;
    case MM_SERIAL:
        mm_omp(x);
        mm_omp(y);
        return;
    case MM_FORK:
#pragma omp task
        mm_omp(x);
        mm_omp(y);
#pragma omp taskwait
        return;
    }
}

static uint64_t run_omp(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
#pragma omp parallel num_threads(c->threads)
#pragma omp single
    mm_omp(root_job(c));
    return check(c, WB_OMP_NAME);
}

#elif defined(WB_LACE_BUILD)
/* Lace's rec_matmul, with the split above: eight task arguments, hence lace14. */
VOID_TASK_8(mm_lace, const real *, a, const real *, b, real *, c, int, m, int, n, int, p, int, ld, int, add)
{
    mm_job j = {a, b, c, m, n, p, ld, add}, x, y;
    switch (mm_split(&j, &x, &y)) {
    case MM_BASE:
        mm_base(&j);
        return;
    case MM_SERIAL:
        CALL(mm_lace, x.a, x.b, x.c, x.m, x.n, x.p, x.ld, x.add);
        CALL(mm_lace, y.a, y.b, y.c, y.m, y.n, y.p, y.ld, y.add);
        return;
    case MM_FORK:
        SPAWN(mm_lace, x.a, x.b, x.c, x.m, x.n, x.p, x.ld, x.add);
        CALL(mm_lace, y.a, y.b, y.c, y.m, y.n, y.p, y.ld, y.add);
        SYNC(mm_lace);
        return;
    }
}

static uint64_t run_lace(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    mm_job j = root_job(c);
    RUN(mm_lace, j.a, j.b, j.c, j.m, j.n, j.p, j.ld, j.add);
    return check(c, "lace");
}

#else

typedef struct mm_arg {
    void *runtime; /* the weft pool; unused by TBB */
    mm_job job;
} mm_arg;

/* One block, on weft_group (frames = false) or weft_spawn / weft_sync. */
WB_FJ_DECLARE(mm);
WB_FJ_INLINE void mm_body(void *p, bool frames)
{
    mm_arg *a = p;
    mm_arg x = {.runtime = a->runtime}, y = {.runtime = a->runtime};
    switch (mm_split(&a->job, &x.job, &y.job)) {
    case MM_BASE:
        mm_base(&a->job);
        return;
    case MM_SERIAL:
        WB_FJ_FN(mm, frames)(&x);
        WB_FJ_FN(mm, frames)(&y);
        return;
    case MM_FORK: {
        weft_group g;
        wb_fj_init(&g, a->runtime, frames);
        wb_fj_spawn(&g, frames, WB_FJ_FN(mm, frames), &x);
        WB_FJ_FN(mm, frames)(&y);
        wb_fj_join(&g, frames, 1);
        return;
    }
    }
}
WB_FJ_DEFINE(mm, mm_body)

static uint64_t run_weft_path(ctx *c, bool frames, const char *who)
{
    mm_arg root = {c->runtime, root_job(c)};
    wb_weft_run(c->runtime, WB_FJ_FN(mm, frames), &root);
    return check(c, who);
}
WB_FJ_WEFT_ROUNDS(run_weft_path)

#ifdef WB_HAVE_TBB
static void mm_tbb(void *p)
{
    mm_arg *a = p;
    mm_arg x = {.runtime = NULL}, y = {.runtime = NULL};
    switch (mm_split(&a->job, &x.job, &y.job)) {
    case MM_BASE:
        mm_base(&a->job);
        return;
    case MM_SERIAL:
        mm_tbb(&x);
        mm_tbb(&y);
        return;
    case MM_FORK: {
        wb_tbb_group g;
        wb_tbb_group_init(&g);
        wb_tbb_group_run(&g, mm_tbb, &x);
        mm_tbb(&y);
        wb_tbb_group_wait(&g);
        return;
    }
    }
}

static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    mm_arg root = {NULL, root_job(c)};
    wb_tbb_execute(c->runtime, mm_tbb, &root);
    return check(c, "tbb");
}
#endif
#endif

static const wb_case matmul_case = {
    .name = "matmul",
    .what = "Lace's recursive matmul, n = 1024 floats (smoke 64): split the largest dimension, fork the "
            "independent halves, triple loop below m + n + p = 64.",
    .item = "multiply-add",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 1024,
    .smoke_size = 64,
};

WB_FJ_CASE(matmul_case, run_omp, run_lace, run_weft, run_weft_frames, run_tbb)
