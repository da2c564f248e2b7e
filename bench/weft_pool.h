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

/* Runs fn(arg) as a task of the pool and waits for it, as Lace's RUN does
 * (and TBB's task_arena::execute, but there the caller takes a slot): the
 * caller only waits, so with T workers exactly T threads run the case's
 * tasks, and every spawn inside is a spawn from a worker. Calling the root
 * task on the caller instead would run its inline half on an extra thread,
 * through the outside-submission path. */
static inline void wb_weft_run(weft_pool *p, void (*fn)(void *), void *arg)
{
    weft_group g;
    wb_group_init(&g, p);
    wb_group_run(&g, fn, arg);
    wb_group_wait(&g);
}

#endif /* WEFT_BENCH_WEFT_POOL_H */
