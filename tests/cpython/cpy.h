/* tests/cpython/cpy.h: helpers shared by the suites translated from CPython's
 * Lib/test (one file per CPython file) and by test_fidelity.c.
 *
 * Conventions of the translations: the Python test's name is in a comment
 * above each Test; timing bounds are CPython's own (generous); pool and
 * queue cases run on both schedulers / both queue backends. Tasks never call
 * cr_assert (only the test's thread may fail a test): they record what they
 * saw in atomics that the test thread checks.
 */
#ifndef TESTS_CPYTHON_CPY_H
#define TESTS_CPYTHON_CPY_H

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

/* CPython's support.SHORT_TIMEOUT (30 s): the bound for "eventually". */
#define SHORT_TIMEOUT 30.0

static inline double cpy_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void cpy_sleep(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Polls until *v >= target or SHORT_TIMEOUT passes; false then. */
static inline bool cpy_wait_atleast(_Atomic int *v, int target)
{
    double end = cpy_now() + SHORT_TIMEOUT;
    while (atomic_load(v) < target) {
        if (cpy_now() > end)
            return false;
        cpy_sleep(0.001);
    }
    return true;
}

static const weft_sched_kind cpy_scheds[] = {WEFT_SCHED_STEALING, WEFT_SCHED_MUTEX};
static const char *const cpy_sched_names[] = {"stealing", "mutex"};
#define FOR_EACH_SCHED(k)                                                                                    \
    for (size_t k##_i = 0; k##_i < 2; k##_i++)                                                               \
        for (weft_sched_kind k = cpy_scheds[k##_i]; k == cpy_scheds[k##_i]; k = (weft_sched_kind)-1)

static inline weft_pool *cpy_pool(weft_sched_kind k, size_t workers)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = workers;
    o.scheduler = k;
    weft_pool *p = NULL;
    int rc = weft_pool_create(&p, &o);
    cr_assert_eq(rc, 0, "weft_pool_create: %d", rc);
    return p;
}

static inline weft_thread *cpy_start(int (*fn)(void *), void *arg)
{
    weft_thread *t = NULL;
    cr_assert_eq(weft_thread_create(&t, fn, arg, NULL), 0);
    cr_assert_eq(weft_thread_start(t), 0);
    return t;
}

static inline void cpy_join(weft_thread *t)
{
    cr_assert_eq(weft_thread_join(t, SHORT_TIMEOUT), 0);
    weft_thread_destroy(t);
}

/* Runs HELPER (a path) with argv[1] = mode, stdout and stderr on a pipe,
 * killed after limit seconds. Returns what it wrote (NUL-terminated, at most
 * cap - 1 bytes) and sets *status (waitpid's) and *elapsed. */
static inline size_t cpy_run_helper(const char *helper, const char *mode, double limit, char *out, size_t cap,
                                    int *status, double *elapsed)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    double t0 = cpy_now();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        alarm((unsigned)ceil(limit));
        execl(helper, helper, mode, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t n;
    while (got + 1 < cap && (n = read(fds[0], out + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(fds[0]);
    cr_assert_eq(waitpid(pid, status, 0), pid);
    *elapsed = cpy_now() - t0;
    return got;
}

#endif /* TESTS_CPYTHON_CPY_H */
