/* thread/timer.c: weft_timer, Python's threading.Timer.
 *
 * Design note. A timer is a weft thread that waits on the `wake` event with
 * the interval as its timeout (a futex sleep, no polling) and then runs the
 * function, unless cancelled. Whether the function runs is decided by one CAS
 * on `outcome`, PENDING -> FIRED by the timer thread after its wait, or
 * PENDING -> CANCELLED by weft_timer_cancel; exactly one can win, so a cancel
 * that wins guarantees the function never runs, and a cancel that loses knows
 * it already ran or is running. The event only shortens the wait: cancel sets
 * it after its CAS so the thread ends at once instead of at the interval.
 */
#include <stdlib.h>

#include "weft/sync.h"
#include "weft/thread.h"

enum timer_outcome { PENDING, CANCELLED, FIRED };

struct weft_timer {
    weft_thread *thread;
    weft_event wake;          /* set by cancel: ends the wait early */
    _Atomic uint32_t outcome; /* enum timer_outcome, decided by one CAS */
    double interval;
    void (*fn)(void *);
    void *arg;
};

static int timer_main(void *p)
{
    weft_timer *t = p;
    weft_event_wait(&t->wake, t->interval);
    uint32_t pending = PENDING;
    /* Relaxed: the CAS only elects who decides; fn and arg were published by
     * the thread's start, and cancel hands nothing over. */
    if (atomic_compare_exchange_strong_explicit(&t->outcome, &pending, FIRED, memory_order_relaxed,
                                                memory_order_relaxed))
        t->fn(t->arg);
    return 0;
}

int weft_timer_create(weft_timer **out, double interval, void (*fn)(void *), void *arg)
{
    if (out == NULL || fn == NULL || isnan(interval) || interval < 0)
        return EINVAL;
    weft_timer *t = malloc(sizeof *t);
    if (t == NULL)
        return ENOMEM;
    int err = weft_thread_create(&t->thread, timer_main, t, NULL);
    if (err != 0) {
        free(t);
        return err;
    }
    weft_event_init(&t->wake);
    atomic_init(&t->outcome, PENDING);
    t->interval = interval;
    t->fn = fn;
    t->arg = arg;
    *out = t;
    return 0;
}

int weft_timer_start(weft_timer *t)
{
    if (t == NULL)
        return EINVAL;
    return weft_thread_start(t->thread);
}

bool weft_timer_cancel(weft_timer *t)
{
    if (t == NULL)
        return false;
    uint32_t seen = PENDING;
    /* Relaxed: see timer_main. */
    bool won = atomic_compare_exchange_strong_explicit(&t->outcome, &seen, CANCELLED, memory_order_relaxed,
                                                       memory_order_relaxed);
    weft_event_set(&t->wake);
    return won || seen == CANCELLED;
}

int weft_timer_join(weft_timer *t, double timeout)
{
    if (t == NULL)
        return EINVAL;
    return weft_thread_join(t->thread, timeout);
}

weft_thread *weft_timer_thread(weft_timer *t)
{
    return t != NULL ? t->thread : NULL;
}

void weft_timer_destroy(weft_timer *t)
{
    if (t == NULL)
        return;
    weft_timer_cancel(t);
    /* EINVAL when never started: nothing to wait for. */
    weft_thread_join(t->thread, WEFT_FOREVER);
    weft_thread_destroy(t->thread);
    free(t);
}
