/* sync/futex.c: the futex layer under every weft primitive.
 *
 * Design note. Linux futexes give "sleep while *word == v" and "wake n". All of
 * weft's blocking goes through the three calls here so that the rules are kept
 * in one place:
 *   - waits use FUTEX_WAIT_BITSET with FUTEX_BITSET_MATCH_ANY, which takes an
 *     ABSOLUTE timeout; with FUTEX_CLOCK_REALTIME left out the clock is
 *     CLOCK_MONOTONIC. A retry after EINTR or a spurious return therefore
 *     waits for the same deadline: it is never extended, never shortened;
 *   - EAGAIN (the word had already changed) and EINTR both return 0: callers
 *     always loop re-checking their own condition, so a spurious 0 is harmless;
 *   - any other error is a bug in weft (EFAULT: bad address; EINVAL: bad op)
 *     and aborts through weft__die, naming the call.
 * Before it sleeps, weft__futex_wait calls the scheduler's before-block hook
 * (sched/help.h): a pool worker that blocks in any weft primitive first makes
 * the tasks on its deque visible to the other workers and goes offline in
 * QSBR. This is the one place every blocking path shares.
 * No lost wake-up: a waker always changes the word before calling wake, and
 * the kernel compares the word with `expected` under the hash-bucket lock, so
 * a waiter either sees the new value (and returns at once) or is queued before
 * the wake looks for sleepers.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal/atomics.h"
#include "sched/help.h"

void weft__die(const char *call, int err)
{
    fprintf(stderr, "weft: fatal: %s: %s\n", call, strerror(err));
    abort();
}

uint64_t weft__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int weft__deadline_init(weft__deadline *d, double timeout)
{
    d->forever = false;
    d->expired = false;
    d->at.tv_sec = 0;
    d->at.tv_nsec = 0;
    if (isnan(timeout))
        return EINVAL;
    /* Beyond ~30 years a deadline would overflow time_t arithmetic on some
     * platforms and is indistinguishable from forever in practice. */
    if (timeout > 1e9) {
        d->forever = true;
        return 0;
    }
    if (timeout <= 0) {
        d->expired = true;
        return 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &d->at);
    double whole = floor(timeout);
    long ns = (long)((timeout - whole) * 1e9);
    d->at.tv_sec += (time_t)whole;
    d->at.tv_nsec += ns;
    if (d->at.tv_nsec >= 1000000000L) {
        d->at.tv_sec += 1;
        d->at.tv_nsec -= 1000000000L;
    }
    return 0;
}

bool weft__deadline_passed(const weft__deadline *d)
{
    if (d->forever)
        return false;
    if (d->expired)
        return true;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > d->at.tv_sec || (now.tv_sec == d->at.tv_sec && now.tv_nsec >= d->at.tv_nsec);
}

double weft__deadline_remaining(const weft__deadline *d)
{
    if (d->forever)
        return INFINITY;
    if (d->expired)
        return 0.0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(d->at.tv_sec - now.tv_sec) + (double)(d->at.tv_nsec - now.tv_nsec) * 1e-9;
}

static long sys_futex(_Atomic uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts,
                      _Atomic uint32_t *uaddr2, uint32_t val3)
{
    return syscall(SYS_futex, (uint32_t *)uaddr, op, val, ts, (uint32_t *)uaddr2, val3);
}

int weft__futex_wait(_Atomic uint32_t *word, uint32_t expected, const weft__deadline *d)
{
    const struct timespec *ts = NULL;
    if (d != NULL && !d->forever) {
        if (d->expired)
            return ETIMEDOUT;
        ts = &d->at;
    }
    /* A pool worker about to sleep: the before-block hook (sched/help.h). */
    bool hooked = weft__sched_block_begin();
    long r =
        sys_futex(word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, ts, NULL, FUTEX_BITSET_MATCH_ANY);
    int err = errno;
    if (hooked)
        weft__sched_block_end();
    if (r == 0)
        return 0;
    switch (err) {
    case EAGAIN:
    case EINTR:
        return 0;
    case ETIMEDOUT:
        return ETIMEDOUT;
    default:
        weft__die("futex(FUTEX_WAIT_BITSET)", err);
    }
}

int weft__futex_wake(_Atomic uint32_t *word, int n)
{
    long r = sys_futex(word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, (uint32_t)n, NULL, NULL, 0);
    if (r < 0)
        weft__die("futex(FUTEX_WAKE)", errno);
    return (int)r;
}

int weft__futex_cmp_requeue(_Atomic uint32_t *from, int nwake, int nmove, _Atomic uint32_t *to,
                            uint32_t expected)
{
    /* The timeout argument slot carries nmove for FUTEX_CMP_REQUEUE. */
    long r = syscall(SYS_futex, (uint32_t *)from, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, nwake,
                     (void *)(uintptr_t)nmove, (uint32_t *)to, expected);
    if (r < 0) {
        if (errno == EAGAIN)
            return -1;
        weft__die("futex(FUTEX_CMP_REQUEUE)", errno);
    }
    return (int)r;
}
