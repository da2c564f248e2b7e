/* tests/sync/sync_util.h: helpers shared by the sync Criterion suites.
 *
 * Threads are raw pthreads (the weft thread module is tested on its own).
 * Helper threads never call cr_assert: they record what they saw in their
 * argument struct and the test thread asserts after joining them, because a
 * Criterion assertion can only abort the test from the test's own thread.
 *
 * Timing rules (the machine has 2 loaded cores): a timed-out call is checked
 * only against generous bounds (at least its timeout, less than TOO_LONG), and
 * a test waits for another thread's progress by polling a condition for up to
 * POLL_LIMIT seconds, never by sleeping a fixed time and hoping.
 */
#ifndef WEFT_TESTS_SYNC_UTIL_H
#define WEFT_TESTS_SYNC_UTIL_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "weft/sync.h"

/* Upper bound for a 0.1 s timeout to come back: anything slower is a bug,
 * not scheduling noise. */
#define TOO_LONG 2.0
/* How long a test waits for another thread to reach a state before failing. */
#define POLL_LIMIT 30.0
/* Deadlines are converted from double seconds to nanoseconds; allow that
 * rounding and nothing more. */
#define ROUNDING 1e-6

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    int rc = pthread_create(&t, NULL, fn, arg);
    cr_assert_eq(rc, 0, "pthread_create: %d", rc);
    return t;
}

static inline void join(pthread_t t)
{
    int rc = pthread_join(t, NULL);
    cr_assert_eq(rc, 0, "pthread_join: %d", rc);
}

/* Polls pred(ctx) until it holds or POLL_LIMIT passes; returns whether it held. */
static inline bool poll_until(bool (*pred)(void *), void *ctx)
{
    double end = now_s() + POLL_LIMIT;
    while (!pred(ctx)) {
        if (now_s() > end)
            return false;
        nap_ms(1);
    }
    return true;
}

static inline bool atomic_int_reached(_Atomic int *v, int target)
{
    double end = now_s() + POLL_LIMIT;
    /* acquire: pairs with the helper thread's release increment of *v, so what
     * it wrote before counting itself is visible to the test thread. */
    while (atomic_load_explicit(v, memory_order_acquire) < target) {
        if (now_s() > end)
            return false;
        nap_ms(1);
    }
    return true;
}

/* Asserts that a call given `timeout` seconds that timed out took at least
 * that long and returned within TOO_LONG. */
#define cr_assert_timed_out_after(elapsed, timeout)                                                          \
    do {                                                                                                     \
        cr_assert_geq((elapsed), (timeout)-ROUNDING, "returned after %.6f s, before its %.3f s timeout",    \
                      (elapsed), (double)(timeout));                                                         \
        cr_assert_lt((elapsed), TOO_LONG, "a %.3f s timeout took %.3f s", (double)(timeout), (elapsed));    \
    } while (0)

#endif /* WEFT_TESTS_SYNC_UTIL_H */
