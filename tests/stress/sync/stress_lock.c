/* stress_lock: threads hammer one weft_lock with random timeouts (0,
 * negative, tiny, short, forever), checking mutual exclusion with a plain
 * "inside" flag and a plain counter (ThreadSanitizer also sees any overlap as
 * a data race), that every failure code matches its timeout, and that the
 * counter equals the number of successful acquires at the end. */
#include "stress_util.h"

typedef struct shared {
    weft_lock lock;
    volatile int inside; /* guarded by lock; volatile so each check re-reads it */
    long counter;        /* guarded by lock */
} shared;

static void check_failure(int rc, double timeout)
{
    if (rc == EAGAIN && timeout <= 0)
        return;
    if (rc == ETIMEDOUT && timeout > 0 && !isinf(timeout))
        return;
    stress_fail("weft_lock_acquire(%g) returned %d", timeout, rc);
}

static void *worker(void *p)
{
    stress_worker *w = p;
    shared *s = w->ctx;
    while (stress_running()) {
        if (stress_one_in(&w->rng, 64) && weft_lock_acquire(&s->lock, NAN) != EINVAL)
            stress_fail("weft_lock_acquire(NaN) did not return EINVAL");
        double timeout = stress_timeout(&w->rng);
        int rc = weft_lock_acquire(&s->lock, timeout);
        if (rc != 0) {
            check_failure(rc, timeout);
            stress_maybe_yield(&w->rng);
            continue;
        }
        if (s->inside != 0)
            stress_fail("two threads inside the lock");
        s->inside = 1;
        s->counter++;
        stress_maybe_yield(&w->rng);
        if (s->inside != 1)
            stress_fail("another thread entered while this one held the lock");
        s->inside = 0;
        if (!weft_lock_locked(&s->lock))
            stress_fail("weft_lock_locked is false while held");
        w->ops++;
        if ((rc = weft_lock_release(&s->lock)) != 0)
            stress_fail("weft_lock_release returned %d", rc);
        stress_maybe_yield(&w->rng);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static shared s = {WEFT_LOCK_INIT, 0, 0};
    static stress_worker w[STRESS_MAX_THREADS];
    stress_parse(argc, argv, 2);
    bool joined = stress_run(w, worker, &s);
    if (joined) {
        long ops = 0;
        for (int i = 0; i < stress_cfg.threads; i++)
            ops += w[i].ops;
        if (s.counter != ops)
            stress_fail("counter %ld != %ld successful acquires", s.counter, ops);
        if (weft_lock_locked(&s.lock))
            stress_fail("the lock is still held after every thread released it");
        if (weft_lock_release(&s.lock) != EPERM)
            stress_fail("releasing the free lock did not return EPERM");
    }
    return stress_finish("stress_lock", joined, w);
}
