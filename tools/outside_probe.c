/* tools/outside_probe.c: how long an outside task waits while a fork-join
 * holds every worker (issue 8: "an outside task submitted during fib(36) on
 * 2 workers starts within 10 ms"; docs/BENCHMARKS.md).
 *
 * Usage: outside_probe [n] [workers] [reps]   (defaults 36 2 5)
 *
 * Each repetition runs fib(n) with weft_spawn / weft_sync as one submitted
 * task on a pool of `workers`, submits a probe task from outside 50 ms after
 * the fork-join started, and records the probe's delay (submit to start) and
 * the fork-join's time. The two contenders alternate within each repetition
 * (A B, then B A, ...): the default pool (with its spare thread) and one
 * created with no_spare (the old behaviour). Prints one line per run and
 * the medians; ratios only are meaningful on a shared machine. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../tests/spawn_fib.h"
#include "weft.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static _Atomic int fj_started;

static int fib_task(void *arg, void **result)
{
    (void)result;
    atomic_store(&fj_started, 1);
    spawn_fib(arg);
    return 0;
}

static _Atomic(double) probe_at;

static int probe(void *arg, void **result)
{
    (void)arg;
    (void)result;
    atomic_store(&probe_at, now_s());
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One run; writes the probe's delay and the fork-join's time in seconds. */
static int run(int n, size_t workers, bool no_spare, double *delay, double *fj_time, unsigned long long *spare)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = workers;
    o.no_spare = no_spare;
    weft_pool *p;
    if (weft_pool_create(&p, &o) != 0)
        return 1;
    atomic_store(&fj_started, 0);
    atomic_store(&probe_at, 0.0);
    spawn_fib_arg a = {n, 0};
    weft_future *fj, *pr;
    double t0 = now_s();
    if (weft_pool_submit(p, fib_task, &a, &fj) != 0)
        return 1;
    while (!atomic_load(&fj_started))
        ;
    struct timespec nap = {0, 50 * 1000000L};
    nanosleep(&nap, NULL);
    double submitted = now_s();
    if (weft_pool_submit(p, probe, NULL, &pr) != 0)
        return 1;
    if (weft_future_result(fj, WEFT_FOREVER, NULL) != 0 || weft_future_result(pr, WEFT_FOREVER, NULL) != 0)
        return 1;
    double t1 = now_s();
    *delay = atomic_load(&probe_at) - submitted;
    *fj_time = t1 - t0;
    weft_pool_counters c;
    weft_pool_stats(p, &c, NULL, 0);
    *spare = (unsigned long long)c.spare_runs;
    weft_future_release(fj);
    weft_future_release(pr);
    weft_pool_destroy(p);
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 36;
    size_t workers = argc > 2 ? (size_t)atoi(argv[2]) : 2;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    if (n < 20 || n > 45 || workers < 1 || reps < 1 || reps > 100) {
        fprintf(stderr, "usage: outside_probe [n 20-45] [workers] [reps 1-100]\n");
        return 2;
    }
    double delay[2][100], fj[2][100];
    for (int r = 0; r < reps; r++) {
        for (int k = 0; k < 2; k++) {
            int which = (r + k) % 2; /* 0 = spare, 1 = no_spare; the order alternates */
            unsigned long long spare = 0;
            if (run(n, workers, which == 1, &delay[which][r], &fj[which][r], &spare) != 0) {
                fprintf(stderr, "outside_probe: a run failed\n");
                return 1;
            }
            printf("rep %d %-9s probe delay %9.3f ms  fib(%d) %7.3f s  spare runs %llu\n", r,
                   which == 0 ? "spare" : "no_spare", delay[which][r] * 1e3, n, fj[which][r], spare);
            fflush(stdout);
        }
    }
    double ratio[100];
    for (int r = 0; r < reps; r++)
        ratio[r] = fj[0][r] / fj[1][r];
    double d0 = median(delay[0], reps), d1 = median(delay[1], reps);
    printf("median probe delay: spare %.3f ms, no_spare %.3f ms; fib(%d) time spare / no_spare, median of the "
           "%d repetitions' ratios: %.3f\n",
           d0 * 1e3, d1 * 1e3, n, reps, median(ratio, reps));
    return 0;
}
