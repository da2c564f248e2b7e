/* tests/pool/pool_test.h: clock and polling helpers of the pool suites
 * (test_pool.c, test_spare.c). Define POLL_LIMIT (seconds) before including. */
#ifndef WEFT_TESTS_POOL_TEST_H
#define WEFT_TESTS_POOL_TEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

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

/* Polls until *v >= target; false after POLL_LIMIT seconds. */
static inline bool reached(_Atomic int *v, int target)
{
    double end = now_s() + POLL_LIMIT;
    while (atomic_load(v) < target) {
        if (now_s() > end)
            return false;
        nap_ms(1);
    }
    return true;
}

#endif /* WEFT_TESTS_POOL_TEST_H */
