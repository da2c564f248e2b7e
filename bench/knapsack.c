/* bench/knapsack.c: a fine-grained branch-and-bound tree, after the knapsack
 * of Lace's suite (itself Cilk-5's example): items sorted by value/weight;
 * each node forks "without the next item", runs "with it" inline, joins and
 * keeps the better; a node whose capacity went negative, or that has no
 * items or no capacity left, is a leaf. As in Lace's version the bound is
 * not used to prune, so the tree, and the work, are the same in every run.
 * Lace reads its items from a file; here n items (n = 22, smoke 12) come from
 * a fixed LCG, weights and values in 1..100, capacity half their total
 * weight (6065595 nodes at n = 22). An item is one node (task); the best
 * value is checked after each round.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#define MAX_ITEMS 64

typedef struct kn_item {
    int value, weight;
} kn_item;

typedef struct ctx {
    kn_item items[MAX_ITEMS];
    int n, capacity;
    int expect;
    uint64_t nodes;
    void *runtime; /* weft_pool or the TBB arena; unused by OpenMP and Lace */
    int threads;
} ctx;

static int kn_serial(const kn_item *e, int c, int n, int v, uint64_t *nodes)
{
    ++*nodes;
    if (c < 0)
        return INT_MIN;
    if (n == 0 || c == 0)
        return v;
    int without = kn_serial(e + 1, c, n - 1, v, nodes);
    int with = kn_serial(e + 1, c - e->weight, n - 1, v + e->value, nodes);
    return with > without ? with : without;
}

static int by_density(const void *a, const void *b)
{
    const kn_item *x = a, *y = b;
    double d = (double)x->value / x->weight - (double)y->value / y->weight;
    return d > 0 ? -1 : d < 0 ? 1 : 0;
}

static uint64_t check(const ctx *c, int got, const char *who)
{
    if (got != c->expect) {
        fprintf(stderr, "knapsack/%s: best value %d, expected %d\n", who, got, c->expect);
        abort();
    }
    return c->nodes;
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    c->n = p->size > MAX_ITEMS ? MAX_ITEMS : (int)p->size;
    uint32_t s = 12345;
    long total = 0;
    for (int i = 0; i < c->n; i++) {
        s = s * 1103515245u + 12345u;
        c->items[i].weight = 1 + (int)((s >> 16) % 100);
        s = s * 1103515245u + 12345u;
        c->items[i].value = 1 + (int)((s >> 16) % 100);
        total += c->items[i].weight;
    }
    qsort(c->items, (size_t)c->n, sizeof(kn_item), by_density);
    c->capacity = (int)(total / 2);
    c->expect = kn_serial(c->items, c->capacity, c->n, 0, &c->nodes);
    c->threads = p->threads;
    return c;
}

static void ctx_free(ctx *c)
{
    free(c);
}

#include "forkjoin.h"

#if defined(WB_OMP_BUILD)
static int kn_omp(const kn_item *e, int c, int n, int v)
{
    if (c < 0)
        return INT_MIN;
    if (n == 0 || c == 0)
        return v;
    int without = 0;
#pragma omp task shared(without)
    without = kn_omp(e + 1, c, n - 1, v);
    int with = kn_omp(e + 1, c - e->weight, n - 1, v + e->value);
#pragma omp taskwait
    return with > without ? with : without;
}

static uint64_t run_omp(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    int got = 0;
#pragma omp parallel num_threads(c->threads)
#pragma omp single
    got = kn_omp(c->items, c->capacity, c->n, 0);
    return check(c, got, WB_OMP_NAME);
}

#elif defined(WB_LACE_BUILD)
TASK_4(int, kn_lace, const kn_item *, e, int, c, int, n, int, v)
{
    if (c < 0)
        return INT_MIN;
    if (n == 0 || c == 0)
        return v;
    SPAWN(kn_lace, e + 1, c, n - 1, v);
    int with = CALL(kn_lace, e + 1, c - e->weight, n - 1, v + e->value);
    int without = SYNC(kn_lace);
    return with > without ? with : without;
}

static uint64_t run_lace(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    return check(c, RUN(kn_lace, c->items, c->capacity, c->n, 0), "lace");
}

#else
typedef struct kn_arg {
    void *runtime; /* the weft pool; unused by TBB */
    const kn_item *e;
    int c, n, v;
    int result;
} kn_arg;

/* One node, on weft_group (frames = false) or weft_spawn / weft_sync. */
WB_FJ_DECLARE(kn);
WB_FJ_INLINE void kn_body(void *p, bool frames)
{
    kn_arg *a = p;
    if (a->c < 0) {
        a->result = INT_MIN;
        return;
    }
    if (a->n == 0 || a->c == 0) {
        a->result = a->v;
        return;
    }
    kn_arg without = {a->runtime, a->e + 1, a->c, a->n - 1, a->v, 0};
    kn_arg with = {a->runtime, a->e + 1, a->c - a->e->weight, a->n - 1, a->v + a->e->value, 0};
    weft_group g;
    wb_fj_init(&g, a->runtime, frames);
    wb_fj_spawn(&g, frames, WB_FJ_FN(kn, frames), &without);
    WB_FJ_FN(kn, frames)(&with);
    wb_fj_join(&g, frames, 1);
    a->result = with.result > without.result ? with.result : without.result;
}
WB_FJ_DEFINE(kn, kn_body)

static uint64_t run_weft_path(ctx *c, bool frames, const char *who)
{
    kn_arg root = {c->runtime, c->items, c->capacity, c->n, 0, 0};
    wb_weft_run(c->runtime, WB_FJ_FN(kn, frames), &root);
    return check(c, root.result, who);
}

WB_FJ_WEFT_ROUNDS(run_weft_path)

#ifdef WB_HAVE_TBB
static void kn_tbb(void *p)
{
    kn_arg *a = p;
    if (a->c < 0) {
        a->result = INT_MIN;
        return;
    }
    if (a->n == 0 || a->c == 0) {
        a->result = a->v;
        return;
    }
    kn_arg without = {NULL, a->e + 1, a->c, a->n - 1, a->v, 0};
    kn_arg with = {NULL, a->e + 1, a->c - a->e->weight, a->n - 1, a->v + a->e->value, 0};
    wb_tbb_group g;
    wb_tbb_group_init(&g);
    wb_tbb_group_run(&g, kn_tbb, &without);
    kn_tbb(&with);
    wb_tbb_group_wait(&g);
    a->result = with.result > without.result ? with.result : without.result;
}

static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    kn_arg root = {NULL, c->items, c->capacity, c->n, 0, 0};
    wb_tbb_execute(c->runtime, kn_tbb, &root);
    return check(c, root.result, "tbb");
}
#endif
#endif

static const wb_case knapsack_case = {
    .name = "knapsack",
    .what = "Lace's knapsack: a binary branch-and-bound tree over n = 22 items (smoke 12), 6.07M nodes, "
            "fork one branch and run the other inline.",
    .item = "task",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 22,
    .smoke_size = 12,
};

WB_FJ_CASE(knapsack_case, run_omp, run_lace, run_weft, run_weft_frames, run_tbb)
