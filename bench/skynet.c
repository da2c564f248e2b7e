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

#ifdef WB_OMP_BUILD
#include <omp.h>

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
    got = skynet_omp(0, c->size);
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

typedef struct sky_arg {
    weft_pool *pool;
    uint64_t num, size, result;
} sky_arg;

static void sky_task(void *p)
{
    sky_arg *a = p;
    if (a->size == 1) {
        a->result = a->num;
        return;
    }
    sky_arg kids[DIV];
    weft_group g;
    wb_group_init(&g, a->pool);
    for (uint64_t i = 0; i < DIV; i++) {
        kids[i] = (sky_arg){a->pool, a->num + i * (a->size / DIV), a->size / DIV, 0};
        wb_group_run(&g, sky_task, &kids[i]);
    }
    wb_group_wait(&g);
    uint64_t sum = 0;
    for (int i = 0; i < DIV; i++)
        sum += kids[i].result;
    a->result = sum;
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
    sky_arg root = {c->runtime, 0, c->size, 0};
    sky_task(&root);
    return check(c, root.result, "weft");
}

static void teardown_weft(void *arg)
{
    ctx *c = arg;
    weft_pool_destroy(c->runtime);
    free(c);
}

#ifdef WB_HAVE_TBB
_Static_assert(DIV <= WB_SKYNET_MAX_DIV, "the TBB twin keeps DIV sums on its stack");

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
    return check(c, wb_tbb_skynet(c->runtime, c->size, DIV), "tbb");
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

WB_REGISTER(skynet_case, impls)
