/* tests/memory/rss.h: resident memory and "every worker asleep", for the
 * memory test (give_back.c) and tools/rss_submit.c. Header-only. */
#ifndef WEFT_TESTS_MEMORY_RSS_H
#define WEFT_TESTS_MEMORY_RSS_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

/* Resident set size in MiB (/proc/self/statm); exits 2 when unreadable. */
static inline double rss_mib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f == NULL || fscanf(f, "%ld %ld", &size, &resident) != 2) {
        perror("/proc/self/statm");
        exit(2);
    }
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static inline double rss_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void rss_nap(void)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

/* Until every worker of p sleeps (parks - wakeups): a worker that parks
 * after a large drain gives the memory back first (sched/giveback.c). At
 * most max_s seconds. */
static inline void rss_wait_all_asleep(weft_pool *p, double max_s)
{
    double t0 = rss_now();
    weft_pool_counters c;
    while (weft_pool_stats(p, &c, NULL, 0) == 0 && c.parks - c.wakeups < c.workers && rss_now() - t0 < max_s)
        rss_nap();
}

#endif /* WEFT_TESTS_MEMORY_RSS_H */
