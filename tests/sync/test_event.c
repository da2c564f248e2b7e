/* tests/sync/test_event.c: weft_event against include/weft/sync.h. */
#include <string.h>

#include "sync_util.h"

TestSuite(event, .timeout = 60);

Test(event, static_initialiser_works_without_init)
{
    static weft_event e = WEFT_EVENT_INIT;
    cr_assert_not(weft_event_is_set(&e));
    cr_assert_eq(weft_event_wait(&e, 0), ETIMEDOUT);
    weft_event_set(&e);
    cr_assert(weft_event_is_set(&e));
    cr_assert_eq(weft_event_wait(&e, 0), 0);
    cr_assert_eq(weft_event_wait(&e, WEFT_FOREVER), 0, "a set event returns at once");
    weft_event_clear(&e);
    cr_assert_not(weft_event_is_set(&e));
}

Test(event, init_resets_garbage)
{
    weft_event e;
    memset(&e, 0x77, sizeof e);
    weft_event_init(&e);
    cr_assert_not(weft_event_is_set(&e));
    cr_assert_eq(weft_event_wait(&e, -1.0), ETIMEDOUT);
}

Test(event, set_and_clear_are_idempotent)
{
    weft_event e = WEFT_EVENT_INIT;
    weft_event_clear(&e);
    cr_assert_not(weft_event_is_set(&e));
    weft_event_set(&e);
    weft_event_set(&e);
    cr_assert(weft_event_is_set(&e));
    cr_assert_eq(weft_event_wait(&e, 0), 0);
    weft_event_clear(&e);
    weft_event_clear(&e);
    cr_assert_not(weft_event_is_set(&e));
    cr_assert_eq(weft_event_wait(&e, 0), ETIMEDOUT);
}

Test(event, wait_timeout_is_etimedout)
{
    weft_event e = WEFT_EVENT_INIT;
    double t0 = now_s();
    int rc = weft_event_wait(&e, 0.1);
    double elapsed = now_s() - t0;
    cr_assert_eq(rc, ETIMEDOUT, "got %d", rc);
    cr_assert_timed_out_after(elapsed, 0.1);
    cr_assert_not(weft_event_is_set(&e));
    weft_event_set(&e);
    cr_assert_eq(weft_event_wait(&e, 0.1), 0, "a timed-out wait must not break later ones");
}

Test(event, nan_timeout_is_einval)
{
    weft_event e = WEFT_EVENT_INIT;
    cr_assert_eq(weft_event_wait(&e, NAN), EINVAL);
    cr_assert_not(weft_event_is_set(&e));
}

/* ---- Python tutorial: an Event wakes its waiters ------------------------ */

typedef struct waiter_arg {
    weft_event *event;
    double timeout;
    _Atomic int *started;
    int rc;
    bool was_set;
} waiter_arg;

static void *event_waiter(void *p)
{
    waiter_arg *a = p;
    /* release: pairs with atomic_int_reached's acquire load in the test. */
    atomic_fetch_add_explicit(a->started, 1, memory_order_release);
    a->rc = weft_event_wait(a->event, a->timeout);
    a->was_set = weft_event_is_set(a->event);
    return NULL;
}

Test(event, set_wakes_a_waiter)
{
    weft_event e = WEFT_EVENT_INIT;
    _Atomic int started = 0;
    waiter_arg a = {&e, WEFT_FOREVER, &started, -1, false};
    pthread_t t = spawn(event_waiter, &a);
    cr_assert(atomic_int_reached(&started, 1));
    nap_ms(20); /* usually lets it sleep first; a set event releases it either way */
    weft_event_set(&e);
    join(t);
    cr_assert_eq(a.rc, 0, "got %d", a.rc);
    cr_assert(a.was_set);
}

Test(event, set_wakes_every_waiter)
{
    enum { N = 8 };
    weft_event e = WEFT_EVENT_INIT;
    _Atomic int started = 0;
    waiter_arg a[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        /* Half wait forever, half with a timeout far beyond any test run. */
        a[i] = (waiter_arg){&e, i % 2 ? WEFT_FOREVER : 1000.0, &started, -1, false};
        t[i] = spawn(event_waiter, &a[i]);
    }
    cr_assert(atomic_int_reached(&started, N));
    nap_ms(20);
    weft_event_set(&e);
    for (int i = 0; i < N; i++) {
        join(t[i]);
        cr_assert_eq(a[i].rc, 0, "waiter %d: %d", i, a[i].rc);
    }
}

Test(event, waiters_after_clear_block_again)
{
    weft_event e = WEFT_EVENT_INIT;
    _Atomic int started = 0;
    weft_event_set(&e);
    weft_event_clear(&e);
    waiter_arg a = {&e, 0.1, &started, -1, true};
    join(spawn(event_waiter, &a));
    cr_assert_eq(a.rc, ETIMEDOUT, "got %d", a.rc);
    cr_assert_not(a.was_set);

    a = (waiter_arg){&e, WEFT_FOREVER, &started, -1, false};
    pthread_t t = spawn(event_waiter, &a);
    cr_assert(atomic_int_reached(&started, 2));
    weft_event_set(&e);
    join(t);
    cr_assert_eq(a.rc, 0);
}

/* Python's Event.wait returns True to a waiter that set() woke, even if
 * clear() followed before it ran: set() wakes every thread already waiting.
 * The waiter is known to be waiting once the futex word leaves its initial
 * value 0 (sync.h: a waiter marks the word before it sleeps, and nothing else
 * touches this event before the set); the test polls for that, so it does not
 * depend on how fast the waiter is scheduled. Whether a wrong
 * implementation gets caught depends on whether the woken waiter happens to
 * look before clear(), so the scenario is repeated. */
Test(event, set_then_clear_still_wakes_a_thread_already_waiting)
{
    for (int round = 0; round < 5; round++) {
        weft_event e = WEFT_EVENT_INIT;
        _Atomic int started = 0;
        waiter_arg a = {&e, 5.0, &started, -1, false};
        pthread_t t = spawn(event_waiter, &a);
        double end = now_s() + POLL_LIMIT;
        while (atomic_load_explicit(&e.state, memory_order_relaxed) == 0) {
            cr_assert_lt(now_s(), end, "the waiter never started waiting");
            nap_ms(1);
        }
        nap_ms(20); /* likely asleep in the kernel by now; waiting is enough */
        weft_event_set(&e);
        weft_event_clear(&e);
        join(t);
        cr_assert_eq(a.rc, 0, "round %d: set() then clear() did not wake the waiter: got %d after its 5 s timeout",
                     round, a.rc);
    }
}
