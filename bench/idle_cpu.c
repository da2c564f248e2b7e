/* bench/idle_cpu.c: what an idle pool costs. Each round wakes every worker
 * with a burst of 1000 tiny tasks, waits for them, then sleeps 100 ms (smoke
 * 10 ms) and measures the CPU time the whole process burnt meanwhile
 * (CLOCK_PROCESS_CPUTIME_ID): spinning before parking shows up here. The
 * counter cpu_pct is that CPU time as a percentage of the sleep (100 = one
 * core busy all along); lower is better. An item is one round.
 * OpenMP runs with its defaults (OMP_WAIT_POLICY unset): libgomp spins a
 * while before sleeping, LLVM's libomp for KMP_BLOCKTIME (200 ms).
 */
#include <stdlib.h>

#include "bench.h"

#define BURST 1000

typedef struct ctx {
    uint64_t idle_ns;
    int threads;
    wb_latch *latch;
    void *runtime;
    int kind;
#ifdef WB_HAVE_GLIB
    void *gpool;
#endif
} ctx;

static void measure_idle(ctx *c, wb_round *r)
{
    uint64_t cpu0 = wb_cpu_ns(), t0 = wb_now_ns();
    wb_sleep_ns(c->idle_ns);
    uint64_t cpu1 = wb_cpu_ns(), t1 = wb_now_ns();
    wb_counter(r, "cpu_pct", 100.0 * (double)(cpu1 - cpu0) / (double)(t1 - t0));
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    c->idle_ns = (uint64_t)p->size * 1000000u;
    c->threads = p->threads;
    c->latch = wb_latch_create();
    return c;
}

static void ctx_free(ctx *c)
{
    wb_latch_destroy(c->latch);
    free(c);
}

#ifdef WB_OMP_BUILD
#include <omp.h>

static void *setup_omp(const wb_params *p, const char **why)
{
    (void)why;
    return ctx_new(p);
}

static uint64_t run_omp(void *arg, wb_round *r)
{
    ctx *c = arg;
    uint64_t s = 0;
#pragma omp parallel for num_threads(c->threads) schedule(dynamic, 1) reduction(+ : s)
    for (int i = 0; i < BURST; i++)
        s += wb_spin_work(1) & 1;
    wb_consume(s);
    measure_idle(c, r);
    return 1;
}

static void teardown_omp(void *arg)
{
    ctx_free(arg);
}

static const wb_impl impls[] = {{WB_OMP_NAME, setup_omp, run_omp, teardown_omp}};

#else
#include "weft_pool.h"
#ifdef WB_HAVE_TBB
#include "peer_tbb.h"
#endif
#ifdef WB_HAVE_GLIB
#include <glib.h>
#endif

enum kind { K_WEFT, K_WEFT_MUTEX, K_GLIB, K_TBB };

static int weft_task(void *arg, void **result)
{
    (void)result;
    wb_latch_count_down(arg);
    return 0;
}

static void count_down(void *arg)
{
    wb_latch_count_down(arg);
}

#ifdef WB_HAVE_GLIB
static void glib_task(gpointer data, gpointer user)
{
    (void)user;
    wb_latch_count_down(data);
}
#endif

static void *setup(const wb_params *p, enum kind kind, const char **why)
{
    ctx *c = ctx_new(p);
    c->kind = kind;
    bool ok = false;
    switch (kind) {
    case K_WEFT:
    case K_WEFT_MUTEX:
        ok = wb_weft_pool_create((weft_pool **)&c->runtime, p->threads, kind == K_WEFT_MUTEX) == 0;
        break;
    case K_GLIB:
#ifdef WB_HAVE_GLIB
        c->gpool = g_thread_pool_new(glib_task, NULL, p->threads, TRUE, NULL);
        ok = c->gpool != NULL;
#endif
        break;
    case K_TBB:
#ifdef WB_HAVE_TBB
        c->runtime = wb_tbb_create(p->threads);
        ok = c->runtime != NULL;
#endif
        break;
    }
    if (!ok) {
        *why = "cannot create the pool";
        ctx_free(c);
        return NULL;
    }
    return c;
}

static uint64_t run(void *arg, wb_round *r)
{
    ctx *c = arg;
    wb_latch_reset(c->latch, BURST);
    for (int i = 0; i < BURST; i++) {
        switch (c->kind) {
        case K_WEFT:
        case K_WEFT_MUTEX:
            if (weft_pool_submit(c->runtime, weft_task, c->latch, NULL) != 0)
                abort();
            break;
        case K_GLIB:
#ifdef WB_HAVE_GLIB
            g_thread_pool_push(c->gpool, c->latch, NULL);
#endif
            break;
        case K_TBB:
#ifdef WB_HAVE_TBB
            wb_tbb_enqueue(c->runtime, count_down, c->latch);
#endif
            break;
        }
    }
    wb_latch_wait(c->latch);
    measure_idle(c, r);
    return 1;
}

static void teardown(void *arg)
{
    ctx *c = arg;
    switch (c->kind) {
    case K_WEFT:
    case K_WEFT_MUTEX:
        weft_pool_destroy(c->runtime);
        break;
    case K_GLIB:
#ifdef WB_HAVE_GLIB
        g_thread_pool_free(c->gpool, FALSE, TRUE);
#endif
        break;
    case K_TBB:
#ifdef WB_HAVE_TBB
        wb_tbb_destroy(c->runtime);
#endif
        break;
    }
    ctx_free(c);
}

static void *setup_weft(const wb_params *p, const char **why)
{
    return setup(p, K_WEFT, why);
}

static void *setup_weft_mutex(const wb_params *p, const char **why)
{
    return setup(p, K_WEFT_MUTEX, why);
}

#ifdef WB_HAVE_GLIB
static void *setup_glib(const wb_params *p, const char **why)
{
    return setup(p, K_GLIB, why);
}
#endif

#ifdef WB_HAVE_TBB
static void *setup_tbb(const wb_params *p, const char **why)
{
    return setup(p, K_TBB, why);
}
#endif

static const wb_impl impls[] = {
    {"weft", setup_weft, run, teardown},
    {"weft_mutex", setup_weft_mutex, run, teardown},
#ifdef WB_HAVE_GLIB
    {"glib_threadpool", setup_glib, run, teardown},
#endif
#ifdef WB_HAVE_TBB
    {"tbb", setup_tbb, run, teardown},
#endif
};
#endif

static const wb_case idle_cpu = {
    .name = "idle_cpu",
    .what =
        "CPU time (percent of one core) that an N-worker pool burns during 100 ms of idleness (smoke 10 ms) "
        "right after a burst of 1000 tiny tasks.",
    .item = "round",
    .baseline = "weft_mutex",
    .metric = "cpu_pct",
    .lower_is_better = true,
    .threads_mode = WB_SWEEP,
    .size = 100,
    .smoke_size = 10,
};

WB_REGISTER(idle_cpu, impls)
