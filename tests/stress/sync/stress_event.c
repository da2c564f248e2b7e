/* stress_event: one setter and many waiters run rounds on one weft_event.
 *
 * Round protocol: the event is clear while the waiters of a round arrive; the
 * setter sets it; every waiter must return from wait (random timeouts, forever
 * in about half the calls; a timed-out wait is simply retried), sees the event
 * set, and acknowledges; once all have, the setter clears it and opens the
 * next round, and only then do waiters wait again. A waiter that set() failed
 * to wake sleeps forever: the setter never gets every acknowledgement and the
 * watchdog reports a hang.
 * Waiters also check that wait(0) and is_set agree with the round: the event
 * cannot be clear between a waiter's successful wait and its acknowledgement.
 * Publication: the setter writes a plain payload (the round number) before
 * set(), and each waiter reads it as soon as wait returns 0, before any other
 * synchronising call: a wait that returns without acquiring the set() (e.g.
 * from a relaxed reload of the word) is a data race that ThreadSanitizer
 * reports, and a stale payload fails the check.
 */
#include "stress_util.h"

typedef struct shared {
    weft_event event;
    _Atomic int acks;
    _Atomic long round;
    _Atomic bool last_round;
    int waiters;
    long payload; /* plain: published by set(), read after wait() */
} shared;

static void setter(stress_worker *w, shared *s)
{
    for (;;) {
        stress_maybe_yield(&w->rng);
        if (weft_event_is_set(&s->event))
            stress_fail("the event is set before the setter set it");
        s->payload = w->ops + 1;
        weft_event_set(&s->event);
        if (stress_one_in(&w->rng, 4))
            weft_event_set(&s->event); /* setting twice is harmless */
        /* acquire: pairs with each waiter's release increment of acks, made
         * after it saw the event set. */
        while (atomic_load_explicit(&s->acks, memory_order_acquire) < s->waiters)
            sched_yield();
        weft_event_clear(&s->event);
        atomic_store_explicit(&s->acks, 0, memory_order_relaxed);
        w->ops++;
        bool last = !stress_running();
        atomic_store_explicit(&s->last_round, last, memory_order_relaxed);
        /* release: orders the clear, the acks reset and last_round before the
         * new round number, read with acquire by the waiters. */
        atomic_fetch_add_explicit(&s->round, 1, memory_order_release);
        if (last)
            return;
    }
}

static void waiter(stress_worker *w, shared *s)
{
    long round = 0;
    for (;;) {
        double t = stress_timeout(&w->rng);
        int rc = weft_event_wait(&s->event, t);
        if (rc == ETIMEDOUT) {
            if (isinf(t))
                stress_fail("wait(forever) returned ETIMEDOUT");
            stress_maybe_yield(&w->rng);
            continue;
        }
        if (rc != 0) {
            stress_fail("wait(%g) returned %d", t, rc);
            return;
        }
        if (s->payload != round + 1)
            stress_fail("wait returned 0 in round %ld but the payload reads %ld", round + 1, s->payload);
        if (!weft_event_is_set(&s->event) || weft_event_wait(&s->event, 0) != 0)
            stress_fail("the event is clear before every waiter acknowledged the round");
        w->ops++;
        /* release: pairs with the setter's acquire load of acks. */
        atomic_fetch_add_explicit(&s->acks, 1, memory_order_release);
        /* acquire: pairs with the setter's release increment of round, so the
         * clear is visible before this thread waits again. */
        while (atomic_load_explicit(&s->round, memory_order_acquire) == round)
            sched_yield();
        round++;
        if (atomic_load_explicit(&s->last_round, memory_order_relaxed))
            return;
    }
}

static void *worker(void *p)
{
    stress_worker *w = p;
    shared *s = w->ctx;
    if (w->id == 0)
        setter(w, s);
    else
        waiter(w, s);
    return NULL;
}

int main(int argc, char **argv)
{
    static shared s = {WEFT_EVENT_INIT, 0, 0, false, 0, 0};
    static stress_worker w[STRESS_MAX_THREADS];
    stress_parse(argc, argv, 2);
    s.waiters = stress_cfg.threads - 1;
    bool joined = stress_run(w, worker, &s);
    if (joined) {
        for (int i = 1; i < stress_cfg.threads; i++)
            if (w[i].ops != w[0].ops)
                stress_fail("waiter %d saw %ld rounds, the setter ran %ld", i, w[i].ops, w[0].ops);
        if (weft_event_is_set(&s.event))
            stress_fail("the event is set after the last clear");
    }
    return stress_finish("stress_event", joined, w);
}
