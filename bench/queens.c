/* bench/queens.c: n-queens as Cilk-5's and Lace's suites write it (n = 12,
 * smoke 6; Lace's suite runs 14): a partial placement is an array of column
 * indices; for each column of the next row the task copies the array,
 * appends the column, checks every pair of queens again (Cilk's ok()), and
 * forks a task for each placement that passes, then joins them all. So,
 * unlike bench/nqueens.c (bit masks, a few instructions per node), a task
 * does O(n^2) work. An item is one task (one valid partial placement); the
 * number of solutions is checked after each round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "reference.h"

#define MAX_N 16

typedef struct ctx {
    int n;
    uint64_t expect, tasks;
    void *runtime; /* weft_pool or the TBB arena; unused by OpenMP and Lace */
    int threads;
} ctx;

/* Cilk's ok(): no two of the n queens a[0..n) share a column or a diagonal. */
static int q_ok(int n, const char *a)
{
    for (int i = 0; i < n; i++) {
        char p = a[i];
        for (int j = i + 1; j < n; j++) {
            char q = a[j];
            if (q == p || q == p - (j - i) || q == p + (j - i))
                return 0;
        }
    }
    return 1;
}

static uint64_t check(const ctx *c, uint64_t got, const char *who)
{
    if (got != c->expect) {
        fprintf(stderr, "queens/%s: %llu solutions, expected %llu\n", who, (unsigned long long)got,
                (unsigned long long)c->expect);
        abort();
    }
    return c->tasks;
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    c->n = p->size > MAX_N ? MAX_N : (int)p->size;
    /* Solutions and tasks, counted with bit masks (the same tree, faster). */
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
static uint64_t q_omp(int n, int j, const char *a)
{
    if (n == j)
        return 1;
    char b[MAX_N][MAX_N];
    uint64_t found[MAX_N] = {0};
    for (int i = 0; i < n; i++) {
        memcpy(b[i], a, (size_t)j);
        b[i][j] = (char)i;
        if (q_ok(j + 1, b[i])) {
#pragma omp task shared(b, found)
            found[i] = q_omp(n, j + 1, b[i]);
        }
    }
#pragma omp taskwait
    uint64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += found[i];
    return sum;
}

static uint64_t run_omp(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    uint64_t got = 0;
    char a[MAX_N] = {0};
#pragma omp parallel num_threads(c->threads)
#pragma omp single
    got = q_omp(c->n, 0, a);
    return check(c, got, WB_OMP_NAME);
}

#elif defined(WB_LACE_BUILD)
#include <alloca.h>

TASK_3(uint64_t, q_lace, int, n, int, j, const char *, a)
{
    if (n == j)
        return 1;
    int k = 0;
    for (int i = 0; i < n; i++) {
        /* In this task's frame, which outlives the SYNCs below. */
        char *b = alloca((size_t)j + 1);
        memcpy(b, a, (size_t)j);
        b[j] = (char)i;
        if (q_ok(j + 1, b)) {
            k++;
            SPAWN(q_lace, n, j + 1, b);
        }
    }
    uint64_t sum = 0;
    for (int i = 0; i < k; i++)
        sum += SYNC(q_lace);
    return sum;
}

static uint64_t run_lace(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    char a[MAX_N] = {0};
    return check(c, RUN(q_lace, c->n, 0, a), "lace");
}

#else

typedef struct q_arg {
    void *runtime; /* the weft pool; unused by TBB */
    int n, j;
    char a[MAX_N];
    uint64_t result;
} q_arg;

/* One placement: fork a task per column that passes q_ok, join them all; on
 * weft_group (frames = false) or weft_spawn / weft_sync. */
WB_FJ_DECLARE(q);
WB_FJ_INLINE void q_body(void *p, bool frames)
{
    q_arg *s = p;
    s->result = 0;
    if (s->n == s->j) {
        s->result = 1;
        return;
    }
    q_arg kids[MAX_N];
    int k = 0;
    weft_group g;
    wb_fj_init(&g, s->runtime, frames);
    for (int i = 0; i < s->n; i++) {
        q_arg *b = &kids[k];
        memcpy(b->a, s->a, (size_t)s->j);
        b->a[s->j] = (char)i;
        if (q_ok(s->j + 1, b->a)) {
            b->runtime = s->runtime;
            b->n = s->n;
            b->j = s->j + 1;
            wb_fj_spawn(&g, frames, WB_FJ_FN(q, frames), b);
            k++;
        }
    }
    wb_fj_join(&g, frames, k);
    for (int i = 0; i < k; i++)
        s->result += kids[i].result;
}
WB_FJ_DEFINE(q, q_body)

static uint64_t run_weft_path(ctx *c, bool frames, const char *who)
{
    q_arg root = {.runtime = c->runtime, .n = c->n, .j = 0};
    wb_weft_run(c->runtime, WB_FJ_FN(q, frames), &root);
    return check(c, root.result, who);
}
WB_FJ_WEFT_ROUNDS(run_weft_path)

#ifdef WB_HAVE_TBB
static void q_tbb(void *p)
{
    q_arg *s = p;
    s->result = 0;
    if (s->n == s->j) {
        s->result = 1;
        return;
    }
    q_arg kids[MAX_N];
    int k = 0;
    wb_tbb_group g;
    wb_tbb_group_init(&g);
    for (int i = 0; i < s->n; i++) {
        q_arg *b = &kids[k];
        memcpy(b->a, s->a, (size_t)s->j);
        b->a[s->j] = (char)i;
        if (q_ok(s->j + 1, b->a)) {
            b->runtime = NULL;
            b->n = s->n;
            b->j = s->j + 1;
            wb_tbb_group_run(&g, q_tbb, b);
            k++;
        }
    }
    wb_tbb_group_wait(&g);
    for (int i = 0; i < k; i++)
        s->result += kids[i].result;
}

static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    q_arg root = {.n = c->n, .j = 0};
    wb_tbb_execute(c->runtime, q_tbb, &root);
    return check(c, root.result, "tbb");
}
#endif
#endif

static const wb_case queens_case = {
    .name = "queens",
    .what = "Cilk's and Lace's queens, n = 12 (smoke 6): arrays copied per candidate, every pair checked "
            "again, one task per valid placement.",
    .item = "task",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 12,
    .smoke_size = 6,
};

WB_FJ_CASE(queens_case, run_omp, run_lace, run_weft, run_weft_frames, run_tbb)
