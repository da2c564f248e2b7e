/* tools/rss_submit.c: resident memory across many fire-and-forget submits
 * from outside a pool (issue 10 item 5; docs/RELIABILITY.md, "memory").
 *
 * Usage: rss_submit [millions] [workers] [max_pending] [--trim]
 *   millions     tasks to submit, in millions (default 100)
 *   workers      pool workers (default 0: the CPUs)
 *   max_pending  the pool's back-pressure bound (default 0: unbounded)
 *   --trim       call malloc_trim(0) after destroy and report again
 *
 * One thread submits `millions` million empty tasks with f == NULL. RSS
 * (from /proc/self/statm) is printed at the start, after the pool's
 * creation, after the first million, after every tenth of the run and at
 * the end (each checkpoint first waits until every task submitted so far
 * has run and every worker sleeps, so it shows what stays, not the backlog
 * in flight), then after
 * weft_pool_destroy. Lines are "rss <label> <MiB>" for tools to parse. */
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tests/memory/rss.h"
#include "weft.h"

static atomic_size_t ran;

static int task(void *arg, void **result)
{
    (void)arg;
    (void)result;
    atomic_fetch_add_explicit(&ran, 1, memory_order_relaxed);
    return 0;
}

/* Until n tasks ran and then every worker sleeps (parks - wakeups: a worker
 * that parks after a large drain first gives the memory back,
 * sched/giveback.c), at most 5 s for the latter. */
static void wait_ran(weft_pool *p, size_t n)
{
    while (atomic_load_explicit(&ran, memory_order_relaxed) < n)
        rss_nap();
    rss_wait_all_asleep(p, 5);
}

int main(int argc, char **argv)
{
    size_t millions = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
    size_t workers = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
    size_t max_pending = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
    int trim = argc > 4 && strcmp(argv[4], "--trim") == 0;
    size_t total = millions * 1000000;

    printf("rss start %.1f\n", rss_mib());
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = workers;
    o.max_pending = max_pending;
    weft_pool *p;
    if (weft_pool_create(&p, &o) != 0)
        return 2;
    printf("rss created %.1f\n", rss_mib());
    double t0 = rss_now(), peak = 0, first = 0;
    size_t step = total / 10 > 0 ? total / 10 : 1;
    for (size_t i = 1; i <= total; i++) {
        if (weft_pool_submit(p, task, NULL, NULL) != 0) {
            fprintf(stderr, "submit failed at %zu\n", i);
            return 1;
        }
        if (i == 1000000 || i % step == 0) {
            double in_flight = rss_mib();
            wait_ran(p, i);
            double r = rss_mib();
            if (i == 1000000)
                first = r;
            if (in_flight > peak)
                peak = in_flight;
            printf("rss after_%.1fM %.1f (before draining %.1f; %.1f s)\n", (double)i / 1e6, r, in_flight,
                   rss_now() - t0);
            fflush(stdout);
        }
    }
    wait_ran(p, total);
    double last = rss_mib();
    weft_pool_destroy(p);
    double destroyed = rss_mib();
    printf("rss destroyed %.1f\n", destroyed);
    if (trim) {
        malloc_trim(0);
        printf("rss trimmed %.1f\n", rss_mib());
    }
    printf("summary: %zuM tasks in %.1f s; RSS after 1M %.1f MiB, after all %.1f MiB (%+.1f%%), peak in "
           "flight %.1f MiB, after destroy %.1f MiB\n",
           millions, rss_now() - t0, first, last, first > 0 ? 100.0 * (last - first) / first : 0.0, peak,
           destroyed);
    return 0;
}
