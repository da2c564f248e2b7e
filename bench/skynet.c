/* bench/skynet.c: the skynet benchmark (github.com/atemerev/skynet): a 10-ary
 * tree of tasks, 1M leaves (1.11M tasks in all); each leaf returns its number
 * and each inner task forks its 10 children, joins them and sums. An item is
 * one task. The sum (size(size-1)/2) is checked after every round.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#define DIV 10

typedef struct ctx {
    uint64_t size;
    void *runtime;
    int threads;
} ctx;

static uint64_t check(const ctx *c, uint64_t got, const char *who)
{
    uint64_t want = c->size * (c->size - 1) / 2;
    if (got != want) {
        fprintf(stderr, "skynet/%s: sum %llu, expected %llu\n", who, (unsigned long long)got,
                (unsigned long long)want);
        abort();
    }
    uint64_t tasks = 0;
    for (uint64_t level = c->size; level >= 1; level /= DIV)
        tasks += c->size / level;
    return tasks;
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    /* a power of DIV, so that every inner task has exactly DIV children */
    c->size = 1;
    while (c->size * DIV <= (uint64_t)p->size)
        c->size *= DIV;
    c->threads = p->threads;
    return c;
}

static void ctx_free(ctx *c)
{
    free(c);
}

#include "forkjoin.h"

#if defined(WB_OMP_BUILD)
static uint64_t skynet_omp(uint64_t num, uint64_t size)
{
    if (size == 1)
        return num;
    uint64_t part[DIV];
    for (uint64_t i = 0; i < DIV; i++) {
#pragma omp task shared(part)
        part[i] = skynet_omp(num + i * (size / DIV), size / DIV);
    }
#pragma omp taskwait
    uint64_t sum = 0;
    for (int i = 0; i < DIV; i++)
        sum += part[i];
    return sum;
}

static uint64_t run_omp(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    uint64_t got = 0;
#pragma omp parallel num_threads(c->threads)
#pragma omp single
    got = skynet_omp(0, c->size);
    return check(c, got, WB_OMP_NAME);
}

#else

typedef struct sky_arg {
    weft_pool *pool;
    uint64_t num, size, result;
} sky_arg;

/* One node: fork its DIV children, join, sum; on weft_group (frames = false)
 * or weft_spawn / weft_sync. */
WB_FJ_DECLARE(sky);
WB_FJ_INLINE void sky_body(void *p, bool frames)
{
    sky_arg *a = p;
    if (a->size == 1) {
        a->result = a->num;
        return;
    }
    sky_arg kids[DIV];
    weft_group g;
    wb_fj_init(&g, a->pool, frames);
    for (uint64_t i = 0; i < DIV; i++) {
        kids[i] = (sky_arg){a->pool, a->num + i * (a->size / DIV), a->size / DIV, 0};
        wb_fj_spawn(&g, frames, WB_FJ_FN(sky, frames), &kids[i]);
    }
    wb_fj_join(&g, frames, DIV);
    uint64_t sum = 0;
    for (int i = 0; i < DIV; i++)
        sum += kids[i].result;
    a->result = sum;
}
WB_FJ_DEFINE(sky, sky_body)

/* weft_group's root runs on the caller, which forks its DIV children from
 * outside the pool (kept so that this case's history stays comparable);
 * weft_spawn works only inside a pool, so weft_frames' root is a pool task. */
static uint64_t run_weft_path(ctx *c, bool frames, const char *who)
{
    sky_arg root = {c->runtime, 0, c->size, 0};
    if (frames)
        wb_weft_run(c->runtime, sky_frame, &root);
    else
        sky_weft(&root);
    return check(c, root.result, who);
}
WB_FJ_WEFT_ROUNDS(run_weft_path)

#ifdef WB_HAVE_TBB
_Static_assert(DIV <= WB_SKYNET_MAX_DIV, "the TBB twin keeps DIV sums on its stack");

static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    return check(c, wb_tbb_skynet(c->runtime, c->size, DIV), "tbb");
}
#endif
#endif

static const wb_case skynet_case = {
    .name = "skynet",
    .what =
        "skynet: a 10-ary tree of 1M leaf tasks (1.11M tasks), each inner task forks 10 and sums; smoke 1000 "
        "leaves.",
    .item = "task",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 1000000,
    .smoke_size = 1000,
};

WB_FJ_CASE(skynet_case, run_omp, run_lace, run_weft, run_weft_frames, run_tbb)
