/* bench/forkjoin.h: what the fork-join cases of bench/ share (fib, knapsack,
 * pi, uts, cilksort, matmul, queens, strassen, skynet, nqueens, tiny_tree),
 * so that a case file holds only its problem and its algorithm per
 * contender.
 *
 * A case file defines its ctx, ctx_new and ctx_free as bench/contenders.h
 * asks (that header, included here, gives every build's setup and
 * teardown), then includes this header, writes its round function per
 * contender and ends with
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
 * weft_spawn / weft_sync), and WB_FJ_WEFT_ROUNDS(path) the two rounds.
 * `frames` is a constant in each, so sharing the code adds no branch and no
 * indirect call to either path (GCC may inline the recursive call
 * differently from a hand-written copy: docs/BENCHMARKS.md has the
 * instruction counts before and after).
 */
#ifndef WEFT_BENCH_FORKJOIN_H
#define WEFT_BENCH_FORKJOIN_H

#include <stdbool.h>

#include "contenders.h"

#if defined(WB_OMP_BUILD)
#define WB_FJ_CASE(case_, run_omp_, run_lace_, run_weft_, run_frames_, run_tbb_)                             \
    WB_CASE(case_, run_omp_, run_weft_, run_tbb_)

#elif defined(WB_LACE_BUILD)
#define WB_FJ_CASE(case_, run_omp_, run_lace_, run_weft_, run_frames_, run_tbb_)                             \
    static const wb_impl impls[] = {{"lace", setup_lace, run_lace_, teardown_lace}};                         \
    WB_REGISTER(case_, impls)

#else
#define WB_FJ_CASE(case_, run_omp_, run_lace_, run_weft_, run_frames_, run_tbb_)                             \
    static const wb_impl impls[] = {{"weft", setup_weft, run_weft_, teardown_weft},                          \
                                    {"weft_mutex", setup_weft_mutex, run_weft_, teardown_weft},              \
                                    {"weft_frames", setup_weft, run_frames_, teardown_weft},                 \
                                    WB_TBB_IMPL(run_tbb_)};                                                  \
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
#define WB_FJ_INLINE           static inline __attribute__((always_inline))

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
