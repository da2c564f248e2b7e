/* bench/peer_tbb.h: the oneTBB contenders (bench/peer_tbb.cc) as C calls.
 * Declared only when meson found oneTBB (WB_HAVE_TBB). */
#ifndef WEFT_BENCH_PEER_TBB_H
#define WEFT_BENCH_PEER_TBB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The widest fan-out skynet may use (its children's sums live on the stack). */
#define WB_SKYNET_MAX_DIV 16

/* tbb::mutex: spins, then waits on a futex. */
void *wb_tbb_mutex_create(void);
void wb_tbb_mutex_destroy(void *m);
void wb_tbb_mutex_lock(void *m);
void wb_tbb_mutex_unlock(void *m);

/* A task_arena of `threads` slots (NULL on failure). */
void *wb_tbb_create(int threads);
void wb_tbb_destroy(void *t);
/* Fire and forget from outside the arena (task_arena::enqueue). */
void wb_tbb_enqueue(void *t, void (*fn)(void *), void *arg);
/* The fork-join cases, one task_group per call, as bench/<case>.c does with weft_group. */
uint64_t wb_tbb_fib(void *t, int n);
uint64_t wb_tbb_skynet(void *t, uint64_t size, uint64_t div);
uint64_t wb_tbb_nqueens(void *t, int n);
uint64_t wb_tbb_tree(void *t, uint64_t nodes);
/* parallel_for over [begin, end): auto_partitioner with grain, or chunks of exactly `chunk`. */
void wb_tbb_parallel_for(void *t, size_t begin, size_t end, size_t grain,
                         void (*body)(void *ctx, size_t lo, size_t hi), void *ctx);
void wb_tbb_parallel_for_chunked(void *t, size_t begin, size_t end, size_t chunk,
                                 void (*body)(void *ctx, size_t lo, size_t hi), void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_BENCH_PEER_TBB_H */
