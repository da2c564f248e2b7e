/* tests/sync/test_parking.c: the queue's parking lot (sync/parking.c), on
 * its internal API.
 *
 * The file compiles sync/parking.c itself with the WEFT__LOT_RACE_WINDOW seam
 * defined, so that a second thread can be run inside a withdrawal's window
 * deterministically (issue 10, item 1: getters G1, G2, putter P). The lot's
 * symbols then come from this object, and the archive's copy is never pulled
 * in (nothing else here refers to it).
 */
#include <errno.h>
#include <stdint.h>

#include "sync_util.h"

struct race;
static void race_window(void *lot);
#define WEFT__LOT_RACE_WINDOW(lot) race_window(lot)
#include "sync/parking.c"

/* The second getter of the scenario, run inside G1's withdrawal. */
struct race {
    weft__lot lot;
    atomic_bool armed;     /* the window runs the scenario once */
    atomic_bool go;        /* G1 is inside its window: G2, start */
    atomic_int g2_stage;   /* 1: took the token; 2: parked again; 3: woken */
    atomic_int g2_rc;      /* what G2's second wait returned */
    atomic_bool g1_done;   /* G1's withdrawal returned */
    atomic_int g1_rc;      /* G1's wait result (timed variant) */
};

static struct race R;

static bool stage_until(atomic_int *v, int want, double limit)
{
    double end = now_s() + limit;
    while (atomic_load(v) < want) {
        if (now_s() > end)
            return false;
        sched_yield();
    }
    return true;
}

static void race_window(void *lot)
{
    (void)lot;
    if (!atomic_exchange(&R.armed, false))
        return;
    atomic_store(&R.go, true);
    /* G2 has taken the token and announced itself again; give it a moment
     * to fall asleep (the outcome does not depend on whether it has). */
    if (stage_until(&R.g2_stage, 2, POLL_LIMIT))
        nap_ms(20);
}

static void *g2_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&R.go))
        sched_yield();
    /* G2's get: announce, re-check (the queue is empty again: G1 took the
     * item), wait: the token P sent for G1 is there, so it returns at once. */
    weft__lot_prepare(&R.lot);
    weft__deadline d;
    weft__deadline_init(&d, 5.0);
    int rc = weft__lot_wait(&R.lot, &d);
    atomic_store(&R.g2_rc, rc);
    atomic_store(&R.g2_stage, 1);
    /* Its re-attempt fails: announce again and sleep. */
    weft__lot_prepare(&R.lot);
    atomic_store(&R.g2_stage, 2);
    weft__deadline_init(&d, 10.0);
    atomic_store(&R.g2_rc, weft__lot_wait(&R.lot, &d));
    atomic_store(&R.g2_stage, 3);
    return NULL;
}

/* G1's get with the scenario's order: announce; P puts and notifies; G1's
 * re-check takes the item and it withdraws (cancel). */
static void *g1_cancel_main(void *arg)
{
    (void)arg;
    weft__lot_prepare(&R.lot);
    weft__lot_notify(&R.lot, 1); /* P: the put's notify counts G1 off */
    atomic_store(&R.armed, true);
    weft__lot_cancel(&R.lot);
    atomic_store(&R.g1_done, true);
    return NULL;
}

static bool wait_flag(atomic_bool *f, double limit)
{
    double end = now_s() + limit;
    while (!atomic_load(f)) {
        if (now_s() > end)
            return false;
        nap_ms(1);
    }
    return true;
}

static void race_setup(void)
{
    weft__lot_init(&R.lot);
    atomic_store(&R.armed, false);
    atomic_store(&R.go, false);
    atomic_store(&R.g2_stage, 0);
    atomic_store(&R.g2_rc, -1);
    atomic_store(&R.g1_done, false);
    atomic_store(&R.g1_rc, -1);
}

/* Issue 10 item 1: G1's withdrawal, having read waiters == 0, found its
 * token taken by G2 and spun on tokens forever while its unit sat in
 * waiters. It must leave through whichever counter holds its unit. */
Test(parking, cancel_leaves_through_either_counter)
{
    race_setup();
    pthread_t g2 = spawn(g2_main, NULL);
    pthread_t g1 = spawn(g1_cancel_main, NULL);
    cr_assert(wait_flag(&R.g1_done, TOO_LONG), "G1's cancel spins: its unit is in waiters, not tokens");
    join(g1);
    cr_assert_eq(atomic_load(&R.g2_stage), 2, "G2 stays parked");
    cr_assert_eq(atomic_load(&R.g2_rc), 0, "G2's first wait took P's token");
    /* The accounting is intact: one more notify wakes G2 promptly. */
    weft__lot_notify(&R.lot, 1);
    cr_assert(stage_until(&R.g2_stage, 3, TOO_LONG), "G2 was not woken by the next notify");
    join(g2);
    cr_assert_eq(atomic_load(&R.g2_rc), 0);
}

/* Nobody announced: notify costs nothing and leaves nothing behind, so a
 * later waiter with a zero timeout times out at once. */
Test(parking, notify_without_waiters_posts_nothing)
{
    weft__lot lot;
    weft__lot_init(&lot);
    weft__lot_notify(&lot, UINT32_MAX);
    weft__lot_prepare(&lot);
    weft__deadline d;
    weft__deadline_init(&d, 0);
    cr_assert_eq(weft__lot_wait(&lot, &d), ETIMEDOUT);
}

/* A thread counted off by a notify and then timed out reports a wake-up (it
 * took its own token), never ETIMEDOUT, so the caller re-attempts. */
Test(parking, timed_out_after_notify_takes_the_token)
{
    weft__lot lot;
    weft__lot_init(&lot);
    weft__lot_prepare(&lot);
    weft__lot_notify(&lot, 1);
    weft__deadline d;
    weft__deadline_init(&d, 0);
    cr_assert_eq(weft__lot_wait(&lot, &d), 0);
    /* Nothing is left: the next announced waiter times out. */
    weft__lot_prepare(&lot);
    cr_assert_eq(weft__lot_wait(&lot, &d), ETIMEDOUT);
}

struct sleeper {
    weft__lot *lot;
    double timeout;
    atomic_int rc;
    double took;
};

static void *sleeper_main(void *arg)
{
    struct sleeper *s = arg;
    weft__deadline d;
    weft__deadline_init(&d, s->timeout);
    double t0 = now_s();
    weft__lot_prepare(s->lot);
    atomic_store(&s->rc, weft__lot_wait(s->lot, &d));
    s->took = now_s() - t0;
    return NULL;
}

/* notify(n) signals at most n of the announced threads; notify(all) the rest. */
Test(parking, notify_n_wakes_n)
{
    weft__lot lot;
    weft__lot_init(&lot);
    struct sleeper s[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        s[i] = (struct sleeper){.lot = &lot, .timeout = 0.3};
        atomic_init(&s[i].rc, -1);
        t[i] = spawn(sleeper_main, &s[i]);
    }
    double end = now_s() + POLL_LIMIT;
    while (weft__lot_waiters(&lot) < 3 && now_s() < end)
        nap_ms(1);
    weft__lot_notify(&lot, 1);
    int woken = 0, timed_out = 0;
    for (int i = 0; i < 3; i++) {
        join(t[i]);
        int rc = atomic_load(&s[i].rc);
        cr_assert(rc == 0 || rc == ETIMEDOUT, "rc %d", rc);
        woken += rc == 0;
        timed_out += rc == ETIMEDOUT;
        cr_assert_lt(s[i].took, TOO_LONG);
    }
    cr_assert_eq(woken, 1);
    cr_assert_eq(timed_out, 2);
}
