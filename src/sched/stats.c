/* sched/stats.c: weft_pool_stats' view of the scheduler's counters (stats.h).
 * Each counter has one writer (its worker, sched.h's weft__stat_inc) or is a
 * relaxed RMW counter; a reader sums relaxed loads, so totals are a snapshot
 * that may mix moments, never torn values. */
#include "sched/stats.h"

void weft__sched_stats(const weft__sched *s, weft_pool_counters *out, weft_pool_worker_counters *per,
                       size_t cap)
{
    weft_pool_counters sum = {.workers = s->nworkers};
    for (size_t i = 0; i < s->nworkers; i++) {
        const weft__wstats *c = &s->workers[i].stats;
        weft_pool_worker_counters ws = {
            .tasks_run = atomic_load_explicit(&c->run, memory_order_relaxed),
            .tasks_helped = atomic_load_explicit(&c->helped, memory_order_relaxed),
            .tasks_spawned = atomic_load_explicit(&c->spawned, memory_order_relaxed),
            .steals = atomic_load_explicit(&c->steals, memory_order_relaxed),
            .injector_pops = atomic_load_explicit(&c->injector_pops, memory_order_relaxed),
            .parks = atomic_load_explicit(&c->parks, memory_order_relaxed),
            .wakeups = atomic_load_explicit(&c->wakeups, memory_order_relaxed),
        };
        if (i < cap)
            per[i] = ws;
        sum.tasks_run += ws.tasks_run;
        sum.tasks_submitted += ws.tasks_spawned;
        sum.tasks_cancelled += atomic_load_explicit(&c->cancelled, memory_order_relaxed);
        sum.steals += ws.steals;
        sum.parks += ws.parks;
        sum.wakeups += ws.wakeups;
    }
    for (size_t i = 0; i < WEFT__STRIPES; i++)
        sum.tasks_submitted += atomic_load_explicit(&s->outside_spawned[i].n, memory_order_relaxed);
    sum.tasks_cancelled += atomic_load_explicit(&s->outside_cancelled, memory_order_relaxed);
    sum.spare_runs = atomic_load_explicit(&s->spare_th.runs, memory_order_relaxed);
    sum.tasks_run += sum.spare_runs;
    sum.tasks_cancelled += atomic_load_explicit(&s->spare_th.cancelled, memory_order_relaxed);
    if (out != NULL)
        *out = sum;
}
