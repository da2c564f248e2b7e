/* bench/peer_lace.h: what the Lace contenders share (WB_LACE_BUILD only).
 *
 * Lace (github.com/trolando/lace) is built from the tree given by
 * -Dlace_src (bench/meson.build); WB_LACE_HEADER names lace.h or lace14.h.
 * Lace has one set of workers per process: the contender's setup starts
 * them (untimed, like a weft pool or a TBB arena), each round enters them
 * from the outside with RUN (the caller sleeps on a semaphore until the task
 * returns, as weft's caller waits outside its pool), teardown stops them.
 * Idle Lace workers steal in a loop; they exist only between setup and
 * teardown, so they never run beside another contender.
 */
#ifndef WEFT_BENCH_PEER_LACE_H
#define WEFT_BENCH_PEER_LACE_H

#include WB_LACE_HEADER

/* The task deque size that Lace's own benchmarks pass (-q default). */
#define WB_LACE_DQSIZE 100000

static inline void wb_lace_start(int workers)
{
    lace_start((unsigned)workers, WB_LACE_DQSIZE);
}

static inline void wb_lace_stop(void)
{
    lace_stop();
}

#endif /* WEFT_BENCH_PEER_LACE_H */
