/* sched/stats.h: the scheduler's counters as weft_pool_stats reports them.
 * Internal. Apart from sched.h so that the scheduler itself does not depend
 * on the public pool header: only this adapter does. */
#ifndef WEFT_SCHED_STATS_H
#define WEFT_SCHED_STATS_H

#include <stddef.h>

#include "sched/sched.h"
#include "weft/pool.h"

/* The totals over the pool, and per worker i < cap. Any thread; relaxed
 * snapshots of single-writer counters. */
void weft__sched_stats(const weft__sched *s, weft_pool_counters *out, weft_pool_worker_counters *per, size_t cap);

#endif /* WEFT_SCHED_STATS_H */
