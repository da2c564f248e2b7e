/* bench/weft_pool.h: how the cases create a weft pool (the work-stealing
 * scheduler, or its mutex+condvar twin) and fork-join through weft_group.
 * One place, so every case measures the same configuration. */
#ifndef WEFT_BENCH_WEFT_POOL_H
#define WEFT_BENCH_WEFT_POOL_H

#include <stdlib.h>

#include "weft/future.h"
#include "weft/pool.h"

static inline int wb_weft_pool_create(weft_pool **p, int workers, bool mutex_twin)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = (size_t)workers;
    o.scheduler = mutex_twin ? WEFT_SCHED_MUTEX : WEFT_SCHED_STEALING;
    return weft_pool_create(p, &o);
}

/* A failure here (ENOMEM) would make the round's checksum wrong; abort so
 * that it cannot pass for a fast run. */
static inline void wb_group_init(weft_group *g, weft_pool *p)
{
    weft_group_init(g, p);
}

static inline void wb_group_run(weft_group *g, void (*fn)(void *), void *arg)
{
    if (weft_group_run(g, fn, arg) != 0)
        abort();
}

static inline void wb_group_wait(weft_group *g)
{
    if (weft_group_wait(g) != 0)
        abort();
}

#endif /* WEFT_BENCH_WEFT_POOL_H */
