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

/* At least sizeof(tbb::task_group) (144 bytes with oneTBB 2021). */
#define WB_TBB_GROUP_BYTES 256

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
/* spawns: 2 forks both calls, 1 forks fib(n-1) and calls fib(n-2) (bench/fib.c). */
uint64_t wb_tbb_fib(void *t, int n, int spawns);
uint64_t wb_tbb_skynet(void *t, uint64_t size, uint64_t div);
uint64_t wb_tbb_nqueens(void *t, int n);
uint64_t wb_tbb_tree(void *t, uint64_t nodes);
/* parallel_for over [begin, end): auto_partitioner with grain, or chunks of exactly `chunk`. */
void wb_tbb_parallel_for(void *t, size_t begin, size_t end, size_t grain,
                         void (*body)(void *ctx, size_t lo, size_t hi), void *ctx);
void wb_tbb_parallel_for_chunked(void *t, size_t begin, size_t end, size_t chunk,
                                 void (*body)(void *ctx, size_t lo, size_t hi), void *ctx);

/* A tbb::task_group in storage that C code owns (on its stack, like a
 * weft_group), driven with a function and an argument as weft_group_run is:
 * the cases in Lace's style use it (bench/knapsack.c and the others), so
 * that their TBB contender is the same C code as their weft one. Checked
 * against sizeof(tbb::task_group) in bench/peer_tbb.cc. */
typedef union wb_tbb_group {
    unsigned char opaque[WB_TBB_GROUP_BYTES];
    max_align_t align;
} wb_tbb_group;
void wb_tbb_group_init(wb_tbb_group *g);
void wb_tbb_group_run(wb_tbb_group *g, void (*fn)(void *), void *arg);
/* Waits for the group's tasks and destroys it. */
void wb_tbb_group_wait(wb_tbb_group *g);
/* Runs fn(arg) inside the arena (task_arena::execute): the caller takes a slot. */
void wb_tbb_execute(void *t, void (*fn)(void *), void *arg);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_BENCH_PEER_TBB_H */
