/* tests/sync/test_wrap.c: the counters that wrap (issue 10 item 6, sync
 * part): weft_cond.seq and the eventcount epoch (32 bits), the event
 * generation (30 bits). Each test sets the counter just below its wrap point
 * through the transparent struct (or the internal header) and checks that
 * waits and wake-ups work across the wrap. Why a wrap can never fool a
 * waiter in practice: docs/DESIGN.md, "Counters that wrap".
 */
#include <stdint.h>

#include "sync_util.h"

#include "sync/eventcount.h"

TestSuite(wrap, .timeout = 60);

struct cond_waiter {
    weft_lock lock;
    weft_cond cond;
    atomic_int inside;
    atomic_int woken;
    bool flag;
};

static void *cond_waiter_main(void *arg)
{
    struct cond_waiter *w = arg;
    weft_lock_acquire(&w->lock, WEFT_FOREVER);
    atomic_fetch_add(&w->inside, 1);
    while (!w->flag)
        weft_cond_wait(&w->cond, 10.0);
    weft_lock_release(&w->lock);
    atomic_fetch_add(&w->woken, 1);
    return NULL;
}

/* The notify that moves seq from UINT32_MAX to 0 wakes the sleepers. */
Test(wrap, cond_seq_wraps)
{
    static struct cond_waiter w;
    weft_lock_init(&w.lock);
    weft_cond_init(&w.cond, &w.lock);
    atomic_store(&w.cond.seq, UINT32_MAX - 1);
    pthread_t t[2] = {spawn(cond_waiter_main, &w), spawn(cond_waiter_main, &w)};
    double end = now_s() + POLL_LIMIT;
    for (;;) {
        weft_lock_acquire(&w.lock, WEFT_FOREVER);
        bool both = atomic_load(&w.inside) == 2 && atomic_load(&w.cond.waiters) == 2;
        weft_lock_release(&w.lock);
        if (both || now_s() > end)
            break;
        nap_ms(1);
    }
    /* seq goes UINT32_MAX - 1 -> UINT32_MAX -> 0: the first notify wakes a
     * waiter that finds the flag clear and sleeps again on UINT32_MAX; the
     * second, across the wrap, must wake both. */
    weft_lock_acquire(&w.lock, WEFT_FOREVER);
    cr_assert_eq(weft_cond_notify(&w.cond, 1), 0);
    weft_lock_release(&w.lock);
    weft_lock_acquire(&w.lock, WEFT_FOREVER);
    w.flag = true;
    cr_assert_eq(weft_cond_notify_all(&w.cond), 0);
    weft_lock_release(&w.lock);
    double t0 = now_s();
    join(t[0]);
    join(t[1]);
    cr_assert_lt(now_s() - t0, TOO_LONG, "waiters slept through the wrap");
    cr_assert_eq(atomic_load(&w.woken), 2);
    cr_assert_lt(atomic_load(&w.cond.seq), 2u, "seq wrapped to a small value");
}

static void *event_waiter_main(void *arg)
{
    weft_event *e = arg;
    return (void *)(intptr_t)weft_event_wait(e, 10.0);
}

/* Generation 2^30 - 1 (the word's top bits all ones): set() wraps it to 0
 * with the flag on, and a waiter asleep on the top generation is woken. */
Test(wrap, event_generation_wraps)
{
    weft_event e;
    weft_event_init(&e);
    atomic_store(&e.state, UINT32_MAX & ~3u); /* generation 2^30 - 1, clear, nobody asleep */
    pthread_t t = spawn(event_waiter_main, &e);
    double end = now_s() + POLL_LIMIT;
    while (!(atomic_load(&e.state) & 2u) && now_s() < end)
        nap_ms(1); /* the waiter announced itself (bit 1) */
    weft_event_set(&e);
    void *rc;
    double t0 = now_s();
    cr_assert_eq(pthread_join(t, &rc), 0);
    cr_assert_lt(now_s() - t0, TOO_LONG);
    cr_assert_eq((intptr_t)rc, 0);
    cr_assert_eq(atomic_load(&e.state), 1u, "generation 0, set, nobody asleep");
    cr_assert(weft_event_is_set(&e));
    /* And after the wrap the event works as ever: clear, wait times out. */
    weft_event_clear(&e);
    cr_assert_eq(weft_event_wait(&e, 0.05), ETIMEDOUT);
}

struct ec_waiter {
    weft__eventcount ec;
    atomic_bool cond;
    atomic_int rc;
    atomic_uint key;
};

static void *ec_waiter_main(void *arg)
{
    struct ec_waiter *w = arg;
    weft__deadline d;
    weft__deadline_init(&d, 10.0);
    for (;;) {
        if (atomic_load(&w->cond))
            break;
        uint32_t key = weft__ec_prepare(&w->ec);
        atomic_store(&w->key, key);
        if (atomic_load(&w->cond)) {
            weft__ec_cancel(&w->ec);
            break;
        }
        if (weft__ec_wait(&w->ec, key, &d) == ETIMEDOUT) {
            atomic_store(&w->rc, ETIMEDOUT);
            return NULL;
        }
    }
    atomic_store(&w->rc, 0);
    return NULL;
}

/* Epoch UINT32_MAX: the notify's add of 1 << 32 carries out of the 64-bit
 * word (epoch 0) and leaves the waiter count in the low half intact. */
Test(wrap, eventcount_epoch_wraps)
{
    static struct ec_waiter w;
    atomic_store(&w.ec.state, (uint64_t)UINT32_MAX << 32);
    atomic_store(&w.cond, false);
    atomic_store(&w.rc, -1);
    atomic_store(&w.key, 0);
    pthread_t t = spawn(ec_waiter_main, &w);
    double end = now_s() + POLL_LIMIT;
    while (!weft__ec_has_waiters(&w.ec) && now_s() < end)
        nap_ms(1);
    cr_assert(weft__ec_has_waiters(&w.ec));
    atomic_store(&w.cond, true);
    cr_assert(weft__ec_notify(&w.ec, 1), "the waiter was announced");
    double t0 = now_s();
    join(t);
    cr_assert_lt(now_s() - t0, TOO_LONG);
    cr_assert_eq(atomic_load(&w.rc), 0);
    cr_assert_eq(atomic_load(&w.key), UINT32_MAX);
    cr_assert_eq(atomic_load(&w.ec.state), 0u, "epoch 0 and no waiters after the wrap");
}
