/* bench/contenders.h: how the cases that run on a pool, an arena or a team
 * (the fork-join cases, map, parallel_for) set their contenders up, so that
 * a case file holds only its problem and its round per contender.
 *
 * A case file includes bench.h, then defines
 *
 *     typedef struct ctx { ...; void *runtime; int threads; } ctx;
 *     static ctx *ctx_new(const wb_params *p); // untimed: inputs, expected result
 *     static void ctx_free(ctx *c);
 *
 * then includes this header (or bench/forkjoin.h, which includes it). It
 * brings in the runtime of the executable the file is compiled for
 * (bench/meson.build: the OpenMP executables define WB_OMP_BUILD, the Lace
 * ones WB_LACE_BUILD, bench_weft neither) and defines that build's setup
 * and teardown, which make and destroy the pool, arena or Lace workers
 * outside the timed rounds and keep them in ctx->runtime (docs/BENCHMARKS.md,
 * "How it measures"): setup_omp / teardown_omp, setup_lace / teardown_lace,
 * or setup_weft / setup_weft_mutex / teardown_weft and, when meson found
 * oneTBB, setup_tbb / teardown_tbb. A case without a Lace build ends with
 *
 *     WB_CASE(the_case, run_omp, run_weft, run_tbb)
 *
 * which registers this build's contenders: WB_OMP_NAME, or "weft",
 * "weft_mutex" (the same round on the mutex twin) and "tbb". The other
 * build's round functions are dropped unexpanded, so they need not exist
 * there.
 */
#ifndef WEFT_BENCH_CONTENDERS_H
#define WEFT_BENCH_CONTENDERS_H

#include <stdbool.h>
#include <stdlib.h>

#include "bench.h"

#if defined(WB_OMP_BUILD)
#include <omp.h>

static void *setup_omp(const wb_params *p, const char **why)
{
    (void)why;
    return ctx_new(p);
}

static void teardown_omp(void *arg)
{
    ctx_free(arg);
}

#elif defined(WB_LACE_BUILD)
#include "peer_lace.h"

static void *setup_lace(const wb_params *p, const char **why)
{
    (void)why;
    wb_lace_start(p->threads);
    return ctx_new(p);
}

static void teardown_lace(void *arg)
{
    wb_lace_stop();
    ctx_free(arg);
}

#else
#include "weft_pool.h"
#ifdef WB_HAVE_TBB
#include "peer_tbb.h"
#endif

static void *setup_weft_sched(const wb_params *p, bool mutex_twin, const char **why)
{
    ctx *c = ctx_new(p);
    weft_pool *pool;
    if (wb_weft_pool_create(&pool, p->threads, mutex_twin) != 0) {
        *why = "weft_pool_create failed";
        ctx_free(c);
        return NULL;
    }
    c->runtime = pool;
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

static void teardown_weft(void *arg)
{
    ctx *c = arg;
    weft_pool_destroy(c->runtime);
    ctx_free(c);
}

#ifdef WB_HAVE_TBB
static void *setup_tbb(const wb_params *p, const char **why)
{
    ctx *c = ctx_new(p);
    c->runtime = wb_tbb_create(p->threads);
    if (c->runtime == NULL) {
        *why = "task_arena failed";
        ctx_free(c);
        return NULL;
    }
    return c;
}

static void teardown_tbb(void *arg)
{
    ctx *c = arg;
    wb_tbb_destroy(c->runtime);
    ctx_free(c);
}

#define WB_TBB_IMPL(run_tbb_) {"tbb", setup_tbb, run_tbb_, teardown_tbb},
#else
#define WB_TBB_IMPL(run_tbb_)
#endif
#endif

#if defined(WB_OMP_BUILD)
#define WB_CASE(case_, run_omp_, run_weft_, run_tbb_)                                                        \
    static const wb_impl impls[] = {{WB_OMP_NAME, setup_omp, run_omp_, teardown_omp}};                       \
    WB_REGISTER(case_, impls)
#elif !defined(WB_LACE_BUILD)
#define WB_CASE(case_, run_omp_, run_weft_, run_tbb_)                                                        \
    static const wb_impl impls[] = {{"weft", setup_weft, run_weft_, teardown_weft},                          \
                                    {"weft_mutex", setup_weft_mutex, run_weft_, teardown_weft},              \
                                    WB_TBB_IMPL(run_tbb_)};                                                  \
    WB_REGISTER(case_, impls)
#endif

#endif /* WEFT_BENCH_CONTENDERS_H */
