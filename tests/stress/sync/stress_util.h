/* tests/stress/sync/stress_util.h: the harness shared by the sync stress
 * programs.
 *
 * Each program is run as `prog threads seconds [--yield] [--seed N]`: the
 * seconds are the soak duration (meson runs 1 s; run hours by hand), and the
 * seed makes the random choices of every worker reproducible (by default it
 * comes from the clock; it is printed first, so a failing run can be
 * replayed with the same choices, up to the scheduler's). Worker threads loop
 * until the run time is over (stress_running() turns false), checking their
 * invariants as they go; a violation is reported with stress_fail(), which
 * prints it once and makes the program exit non-zero. The main thread then
 * joins the workers with a watchdog: a worker that does not return within
 * STRESS_GRACE seconds after the end of the run is stuck (a lost wake-up, a
 * deadlock), and the program reports a hang and exits non-zero without waiting
 * for it.
 * --yield makes stress_maybe_yield() call sched_yield() at random points, to
 * widen race windows on machines with few cores.
 * Plain pthreads on purpose: the weft thread module is tested on its own.
 */
#ifndef WEFT_TESTS_STRESS_SYNC_UTIL_H
#define WEFT_TESTS_STRESS_SYNC_UTIL_H

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft/sync.h"

/* Seconds a worker may take to notice the end of the run and return. Generous:
 * ThreadSanitizer slows everything down, and the 2 cores are shared. */
#define STRESS_GRACE 60.0
#define STRESS_MAX_THREADS 64

typedef struct stress_config {
    int threads;
    double seconds;
    bool yield;
    uint64_t seed;
} stress_config;

static stress_config stress_cfg;
static _Atomic bool stress_stop;
static _Atomic int stress_failures;

static inline double stress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void stress_nap_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
}

/* Parses `threads seconds [--yield] [--seed N]`, with `min_threads` the least
 * the program needs; prints a usage line and exits 2 on bad arguments. */
static inline void stress_parse(int argc, char **argv, int min_threads)
{
    char *end;
    if (argc < 3)
        goto usage;
    long n = strtol(argv[1], &end, 10);
    if (*end != '\0' || n < min_threads || n > STRESS_MAX_THREADS)
        goto usage;
    double s = strtod(argv[2], &end);
    if (*end != '\0' || !(s > 0) || s > 7 * 24 * 3600.0)
        goto usage;
    stress_cfg = (stress_config){(int)n, s, false, (uint64_t)time(NULL)};
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--yield") == 0) {
            stress_cfg.yield = true;
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            stress_cfg.seed = strtoull(argv[++i], &end, 10);
            if (*end != '\0')
                goto usage;
        } else {
            goto usage;
        }
    }
    printf("%s: seed %llu\n", argv[0], (unsigned long long)stress_cfg.seed);
    fflush(stdout);
    return;
usage:
    fprintf(stderr, "usage: %s threads seconds [--yield] [--seed N]  (threads: %d..%d)\n", argv[0],
            min_threads, STRESS_MAX_THREADS);
    exit(2);
}

/* Reports a violated invariant; the first one is printed, all are counted. */
__attribute__((format(printf, 1, 2))) static inline void stress_fail(const char *fmt, ...)
{
    if (atomic_fetch_add_explicit(&stress_failures, 1, memory_order_relaxed) == 0) {
        va_list ap;
        va_start(ap, fmt);
        fputs("stress: invariant violated: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    atomic_store_explicit(&stress_stop, true, memory_order_relaxed);
}

static inline bool stress_failed(void)
{
    return atomic_load_explicit(&stress_failures, memory_order_relaxed) != 0;
}

static inline bool stress_running(void)
{
    return !atomic_load_explicit(&stress_stop, memory_order_relaxed);
}

/* xorshift64*: a per-thread generator, cheap and good enough to pick paths. */
typedef struct stress_rng {
    uint64_t s;
} stress_rng;

static inline stress_rng stress_rng_seed(int id)
{
    uint64_t s = (stress_cfg.seed + 1) * 0x9e3779b97f4a7c15u + (uint64_t)(id + 1) * 0xbf58476d1ce4e5b9u;
    return (stress_rng){s != 0 ? s : 1};
}

static inline uint32_t stress_rand(stress_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (uint32_t)((r->s * 0x2545f4914f6cdd1du) >> 32);
}

/* True with probability 1/n. */
static inline bool stress_one_in(stress_rng *r, uint32_t n)
{
    return stress_rand(r) % n == 0;
}

static inline void stress_maybe_yield(stress_rng *r)
{
    if (stress_cfg.yield && stress_one_in(r, 4))
        sched_yield();
}

/* A timeout drawn from the cases that exercise different paths: never block
 * (0 and negative), expire during the spin or just after sleeping (tiny), may
 * or may not expire (short), and forever. Never NaN. */
static inline double stress_timeout(stress_rng *r)
{
    switch (stress_rand(r) % 8) {
    case 0:
        return 0.0;
    case 1:
        return -1.0;
    case 2:
        return 1e-7;
    case 3:
        return 1e-5;
    case 4:
        return 1e-3;
    default:
        return WEFT_FOREVER;
    }
}

typedef struct stress_worker {
    pthread_t thread;
    int id;
    stress_rng rng;
    void *ctx;
    long ops; /* successful operations, for the summary line */
} stress_worker;

/* Starts `stress_cfg.threads` workers running fn, lets them run for the
 * configured time (or until a failure), stops them and joins them under the
 * watchdog. Returns false when one hung (the program must then exit without
 * touching what the stuck thread may still use). */
static inline bool stress_run(stress_worker *w, void *(*fn)(void *), void *ctx)
{
    for (int i = 0; i < stress_cfg.threads; i++) {
        w[i].id = i;
        w[i].rng = stress_rng_seed(i);
        w[i].ctx = ctx;
        w[i].ops = 0;
        int rc = pthread_create(&w[i].thread, NULL, fn, &w[i]);
        if (rc != 0) {
            fprintf(stderr, "stress: pthread_create: %s\n", strerror(rc));
            exit(2);
        }
    }
    double end = stress_now() + stress_cfg.seconds;
    while (stress_running() && stress_now() < end)
        stress_nap_us(10000);
    atomic_store_explicit(&stress_stop, true, memory_order_relaxed);

    struct timespec limit;
    clock_gettime(CLOCK_REALTIME, &limit);
    limit.tv_sec += (time_t)STRESS_GRACE;
    for (int i = 0; i < stress_cfg.threads; i++) {
        int rc = pthread_timedjoin_np(w[i].thread, NULL, &limit);
        if (rc == ETIMEDOUT) {
            fprintf(stderr, "stress: hang: worker %d did not finish within %.0f s of the end of the run\n", i,
                    STRESS_GRACE);
            return false;
        }
        if (rc != 0) {
            fprintf(stderr, "stress: pthread_join: %s\n", strerror(rc));
            exit(2);
        }
    }
    return true;
}

/* Exit status for main: 0 when every invariant held and nothing hung. */
static inline int stress_finish(const char *name, bool joined, const stress_worker *w)
{
    long ops = 0;
    for (int i = 0; joined && i < stress_cfg.threads; i++)
        ops += w[i].ops;
    int failures = atomic_load_explicit(&stress_failures, memory_order_relaxed);
    printf("%s: %d threads, %.1f s%s, seed %llu: %ld operations, %d violations%s\n", name,
           stress_cfg.threads, stress_cfg.seconds, stress_cfg.yield ? ", yielding" : "",
           (unsigned long long)stress_cfg.seed, ops, failures, joined ? "" : ", HUNG");
    fflush(stdout);
    if (!joined)
        _Exit(1);
    return failures == 0 ? 0 : 1;
}

#endif /* WEFT_TESTS_STRESS_SYNC_UTIL_H */
