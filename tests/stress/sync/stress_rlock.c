/* stress_rlock: threads take one weft_rlock with random timeouts and nest it
 * 1..4 deep, checking that exactly one thread owns it (a plain owner id that
 * ThreadSanitizer also watches), that nested acquires never fail or block
 * whatever their timeout, that is_owned tracks ownership through the nesting,
 * and that a release by a non-owner is EPERM and disturbs nothing. */
#include "stress_util.h"

typedef struct shared {
    weft_rlock lock;
    volatile int owner; /* worker id of the owner, -1 when free; guarded by lock */
    long counter;       /* guarded by lock */
} shared;

static void *worker(void *p)
{
    stress_worker *w = p;
    shared *s = w->ctx;
    while (stress_running()) {
        if (stress_one_in(&w->rng, 8)) {
            int rc = weft_rlock_release(&s->lock);
            if (rc != EPERM)
                stress_fail("release by a non-owner returned %d", rc);
            if (weft_rlock_is_owned(&s->lock))
                stress_fail("is_owned is true in a thread that does not own the lock");
        }
        double timeout = stress_timeout(&w->rng);
        int rc = weft_rlock_acquire(&s->lock, timeout);
        if (rc != 0) {
            if (!(rc == EAGAIN && timeout <= 0) && !(rc == ETIMEDOUT && timeout > 0 && !isinf(timeout)))
                stress_fail("weft_rlock_acquire(%g) returned %d", timeout, rc);
            stress_maybe_yield(&w->rng);
            continue;
        }
        if (s->owner != -1)
            stress_fail("thread %d acquired the lock owned by %d", w->id, s->owner);
        s->owner = w->id;
        int depth = 1 + (int)(stress_rand(&w->rng) % 4);
        for (int d = 1; d < depth; d++) {
            double t = stress_timeout(&w->rng);
            if ((rc = weft_rlock_acquire(&s->lock, t)) != 0)
                stress_fail("nested acquire(%g) at depth %d returned %d", t, d + 1, rc);
        }
        s->counter++;
        stress_maybe_yield(&w->rng);
        for (int d = depth; d > 0; d--) {
            if (s->owner != w->id)
                stress_fail("thread %d lost ownership to %d at depth %d", w->id, s->owner, d);
            if (!weft_rlock_is_owned(&s->lock))
                stress_fail("is_owned is false at depth %d", d);
            if (d == 1)
                s->owner = -1;
            if ((rc = weft_rlock_release(&s->lock)) != 0)
                stress_fail("release at depth %d returned %d", d, rc);
            if (d > 1)
                stress_maybe_yield(&w->rng);
        }
        if (weft_rlock_is_owned(&s->lock))
            stress_fail("is_owned is true after the last release");
        w->ops++;
        stress_maybe_yield(&w->rng);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static shared s = {WEFT_RLOCK_INIT, -1, 0};
    static stress_worker w[STRESS_MAX_THREADS];
    stress_parse(argc, argv, 2);
    bool joined = stress_run(w, worker, &s);
    if (joined) {
        long ops = 0;
        for (int i = 0; i < stress_cfg.threads; i++)
            ops += w[i].ops;
        if (s.counter != ops)
            stress_fail("counter %ld != %ld successful acquires", s.counter, ops);
        if (s.owner != -1 || weft_lock_locked(&s.lock.lock))
            stress_fail("the lock is still held after every thread released it");
        if (weft_rlock_acquire(&s.lock, 0) != 0 || weft_rlock_release(&s.lock) != 0)
            stress_fail("the lock is not usable after the run");
    }
    return stress_finish("stress_rlock", joined, w);
}
