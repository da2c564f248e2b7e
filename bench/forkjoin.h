/* bench/forkjoin.h: what the fork-join cases of bench/ share (fib, knapsack,
 * pi, uts, cilksort, matmul, queens, strassen, skynet, nqueens, tiny_tree),
 * so that a case file holds only its problem and its algorithm per
 * contender.
 *
 * A case file includes bench.h, then defines
 *
 *     typedef struct ctx { ...; void *runtime; int threads; } ctx;
 *     static ctx *ctx_new(const wb_params *p); // untimed: inputs, expected result
 *     static void ctx_free(ctx *c);
 *
 * then includes this header. It brings in the runtime of the executable the
 * file is compiled for (bench/meson.build: the OpenMP executables define
 * WB_OMP_BUILD, the Lace ones WB_LACE_BUILD, bench_weft neither) and defines
 * that build's setup and teardown, which make and destroy the pool, arena or
 * Lace workers outside the timed rounds (ctx->runtime; docs/BENCHMARKS.md,
 * "How it measures"). The case then writes its round function per contender
 * and ends with
 *
 *     WB_FJ_CASE(the_case, run_omp, run_lace, run_weft, run_weft_frames, run_tbb)
 *
 * which registers this build's contenders: WB_OMP_NAME; or "lace"; or
 * "weft" (weft_group), "weft_mutex" (the same round on the mutex twin),
 * "weft_frames" (weft_spawn / weft_sync) and, when meson found oneTBB,
 * "tbb". The names of the other builds' round functions are dropped
 * unexpanded, so they need not exist there (nor run_lace in a case that has
 * no Lace contender).
 *
 * weft's two fork-join paths share one algorithm per case: it is written as
 * an always-inline function body(arg, frames) that forks and joins through
 * wb_fj_init / wb_fj_spawn / wb_fj_join and names its own task as
 * WB_FJ_FN(name, frames); WB_FJ_DEFINE(name, body) makes the two task
 * functions name_weft (frames = false: weft_group) and name_frame (true:
 * weft_spawn / weft_sync), and WB_FJ_WEFT_ROUNDS(path) the two rounds. `frames` is a constant in each, so each compiles
 * to the code a hand-written version would have: no branch, no indirect
 * call is added to either path.
 */
#ifndef WEFT_BENCH_FORKJOIN_H
#define WEFT_BENCH_FORKJOIN_H

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

#define WB_FJ_CASE(case_, run_omp_, run_lace_, run_weft_, run_frames_, run_tbb_)                              \
    static const wb_impl impls[] = {{WB_OMP_NAME, setup_omp, run_omp_, teardown_omp}};                       \
    WB_REGISTER(case_, impls)

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

#define WB_FJ_CASE(case_, run_omp_, run_lace_, run_weft_, run_frames_, run_tbb_)                              \
    static const wb_impl impls[] = {{"lace", setup_lace, run_lace_, teardown_lace}};                         \
    WB_REGISTER(case_, impls)

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

#define WB_FJ_TBB_IMPL(run_tbb_) {"tbb", setup_tbb, run_tbb_, teardown_tbb},
#else
#define WB_FJ_TBB_IMPL(run_tbb_)
#endif

#define WB_FJ_CASE(case_, run_omp_, run_lace_, run_weft_, run_frames_, run_tbb_)                              \
    static const wb_impl impls[] = {                                                                         \
        {"weft", setup_weft, run_weft_, teardown_weft},                                                      \
        {"weft_mutex", setup_weft_mutex, run_weft_, teardown_weft},                                          \
        {"weft_frames", setup_weft, run_frames_, teardown_weft},                                             \
        WB_FJ_TBB_IMPL(run_tbb_)};                                                                           \
    WB_REGISTER(case_, impls)

/* Defines the round functions run_weft and run_weft_frames from
 * uint64_t path(ctx *c, bool frames, const char *who), the case's weft round
 * on the path `frames` (who names the contender in its check's message). */
#define WB_FJ_WEFT_ROUNDS(path)                                                                              \
    static uint64_t run_weft(void *arg, wb_round *r)                                                         \
    {                                                                                                        \
        (void)r;                                                                                             \
        return path(arg, false, "weft");                                                                     \
    }                                                                                                        \
    static uint64_t run_weft_frames(void *arg, wb_round *r)                                                  \
    {                                                                                                        \
        (void)r;                                                                                             \
        return path(arg, true, "weft_frames");                                                               \
    }

/* ---- weft's two fork-join paths behind one set of calls ----
 * `frames` is a compile-time constant at every call (see above): false forks
 * on the weft_group *g (g is initialised here), true on weft_spawn (g is not
 * touched). */
#define WB_FJ_INLINE static inline __attribute__((always_inline))

WB_FJ_INLINE void wb_fj_init(weft_group *g, void *pool, bool frames)
{
    if (!frames)
        wb_group_init(g, pool);
}

WB_FJ_INLINE void wb_fj_spawn(weft_group *g, bool frames, void (*fn)(void *), void *arg)
{
    if (frames)
        weft_spawn(fn, arg);
    else
        wb_group_run(g, fn, arg);
}

/* Joins every task spawned since wb_fj_init: `forks` of them. */
WB_FJ_INLINE void wb_fj_join(weft_group *g, bool frames, int forks)
{
    if (frames) {
        for (int i = 0; i < forks; i++)
            weft_sync();
    } else {
        wb_group_wait(g);
    }
}

/* The task function of algorithm `name` on the path `frames`. */
#define WB_FJ_FN(name, frames) ((frames) ? name##_frame : name##_weft)

/* Declares the two task functions of `name` (before its body, which calls them). */
#define WB_FJ_DECLARE(name)                                                                                  \
    static void name##_weft(void *arg);                                                                      \
    static void name##_frame(void *arg)

/* Defines them from body(arg, frames). */
#define WB_FJ_DEFINE(name, body)                                                                             \
    static void name##_weft(void *arg)                                                                       \
    {                                                                                                        \
        body(arg, false);                                                                                    \
    }                                                                                                        \
    static void name##_frame(void *arg)                                                                      \
    {                                                                                                        \
        body(arg, true);                                                                                     \
    }

#endif

#endif /* WEFT_BENCH_FORKJOIN_H */
