/* tests/sync/test_cond_rlock.c: weft_rlock_locked and weft_cond over an
 * RLock (weft_cond_init_rlock), issue 11. Cases translated from CPython's
 * Lib/test/lock_tests.py (RLockTests, ConditionTests, which test_threading.py
 * runs with Condition()'s default RLock); the Python test's name is above
 * each. Skipped: ConditionAsRLockTests (a weft_cond is not itself a lock),
 * ConditionTests.test_acquire (acquiring through the Condition: weft has no
 * cond_acquire, the lock is acquired directly), test_wait_for_timeout in its
 * "spurious wake-ups counted" form (weft does not count them).
 */
#include <errno.h>

#include "sync_util.h"

TestSuite(cond_rlock, .timeout = 90);

/* lock_tests.RLockTests.test_locked */
Test(cond_rlock, rlock_locked)
{
    weft_rlock l = WEFT_RLOCK_INIT;
    cr_assert_not(weft_rlock_locked(&l));
    cr_assert_eq(weft_rlock_acquire(&l, WEFT_FOREVER), 0);
    cr_assert(weft_rlock_locked(&l));
    cr_assert_eq(weft_rlock_acquire(&l, WEFT_FOREVER), 0);
    cr_assert(weft_rlock_locked(&l));
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert(weft_rlock_locked(&l));
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert_not(weft_rlock_locked(&l));
}

struct two {
    weft_rlock l;
    bool before, after;
};

static void *acquire_and_keep(void *arg)
{
    struct two *t = arg;
    t->before = weft_rlock_locked(&t->l);
    weft_rlock_acquire(&t->l, WEFT_FOREVER);
    t->after = weft_rlock_locked(&t->l);
    return NULL;
}

/* lock_tests.RLockTests.test_locked_with_2threads (gh-134323): an RLock
 * acquired by another thread is locked as seen from this one. */
Test(cond_rlock, rlock_locked_with_2threads)
{
    static struct two t = {.l = WEFT_RLOCK_INIT};
    cr_assert_not(weft_rlock_locked(&t.l));
    join(spawn(acquire_and_keep, &t));
    cr_assert(weft_rlock_locked(&t.l));
    cr_assert_not(t.before);
    cr_assert(t.after);
    cr_assert_not(weft_rlock_is_owned(&t.l));
}

static bool always(void *ctx)
{
    (void)ctx;
    return true;
}

/* lock_tests.ConditionTests.test_unacquired_wait and test_unacquired_notify:
 * RuntimeError (EPERM) without the lock; over an RLock also when another
 * thread owns it. */
Test(cond_rlock, unacquired_wait_and_notify_are_eperm)
{
    static struct two t = {.l = WEFT_RLOCK_INIT};
    weft_cond c;
    cr_assert_eq(weft_cond_init_rlock(&c, &t.l), 0);
    cr_assert_eq(weft_cond_wait(&c, 0.01), EPERM);
    cr_assert_eq(weft_cond_wait_for(&c, always, NULL, 0.01), EPERM);
    cr_assert_eq(weft_cond_notify(&c, 1), EPERM);
    cr_assert_eq(weft_cond_notify_all(&c), EPERM);
    join(spawn(acquire_and_keep, &t)); /* now owned by a thread that ended */
    cr_assert_eq(weft_cond_wait(&c, 0.01), EPERM);
    cr_assert_eq(weft_cond_notify(&c, 0), EPERM);
    cr_assert_eq(weft_cond_notify_all(&c), EPERM);
}

/* lock_tests.ConditionTests.test_timeout: wait(timeout) returns after at
 * least the timeout, with the lock held again. */
Test(cond_rlock, timeout)
{
    weft_rlock l = WEFT_RLOCK_INIT;
    weft_cond c;
    weft_cond_init_rlock(&c, &l);
    weft_rlock_acquire(&l, WEFT_FOREVER);
    double t0 = now_s();
    int rc = weft_cond_wait(&c, 0.1);
    double took = now_s() - t0;
    cr_assert(rc == ETIMEDOUT || rc == 0, "rc %d", rc);
    if (rc == ETIMEDOUT) {
        cr_assert_geq(took, 0.1 - ROUNDING);
        cr_assert_lt(took, TOO_LONG);
    }
    cr_assert(weft_rlock_is_owned(&l));
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert_not(weft_rlock_locked(&l));
}

struct counter {
    weft_rlock l;
    weft_cond c;
    int state;      /* guarded by l */
    int target;
    atomic_int waiting;
    atomic_int done;
    int rc[8];
    unsigned levels; /* how deep each waiter holds the RLock while waiting */
};

static bool reached(void *ctx)
{
    struct counter *k = ctx;
    return k->state >= k->target;
}

static void *waitfor_main(void *arg)
{
    struct counter *k = arg;
    for (unsigned i = 0; i < k->levels; i++)
        weft_rlock_acquire(&k->l, WEFT_FOREVER);
    atomic_fetch_add(&k->waiting, 1);
    int rc = weft_cond_wait_for(&k->c, reached, k, 10.0);
    bool owned = weft_rlock_is_owned(&k->l);
    int n = atomic_fetch_add(&k->done, 1);
    k->rc[n] = owned ? rc : -1;
    for (unsigned i = 0; i < k->levels; i++)
        weft_rlock_release(&k->l);
    return NULL;
}

/* lock_tests.ConditionTests.test_waitfor: wait_for(predicate) returns once
 * the predicate holds, with the RLock held again at every level: the
 * waiter holds it 3 deep, so the notifier can only take it if wait released
 * every level. */
Test(cond_rlock, waitfor_releases_and_restores_every_level)
{
    static struct counter k = {.l = WEFT_RLOCK_INIT, .target = 4, .levels = 3};
    weft_cond_init_rlock(&k.c, &k.l);
    pthread_t t = spawn(waitfor_main, &k);
    double end = now_s() + POLL_LIMIT;
    while (atomic_load(&k.waiting) == 0 && now_s() < end)
        nap_ms(1);
    for (int i = 0; i < 4; i++) {
        nap_ms(5);
        cr_assert_eq(weft_rlock_acquire(&k.l, TOO_LONG), 0, "the waiter kept a level");
        k.state++;
        cr_assert_eq(weft_cond_notify(&k.c, 1), 0);
        cr_assert_eq(weft_rlock_release(&k.l), 0);
    }
    join(t);
    cr_assert_eq(atomic_load(&k.done), 1);
    cr_assert_eq(k.rc[0], 0, "wait_for: 0 and the RLock owned again (-1: not owned)");
    cr_assert_not(weft_rlock_locked(&k.l), "the waiter released exactly its 3 levels");
}

/* lock_tests.ConditionTests.test_waitfor_timeout: a predicate that never
 * holds: ETIMEDOUT after the timeout, lock held. */
Test(cond_rlock, waitfor_timeout)
{
    weft_rlock l = WEFT_RLOCK_INIT;
    weft_cond c;
    weft_cond_init_rlock(&c, &l);
    static struct counter k = {.target = 1};
    weft_rlock_acquire(&l, WEFT_FOREVER);
    weft_rlock_acquire(&l, WEFT_FOREVER);
    double t0 = now_s();
    cr_assert_eq(weft_cond_wait_for(&c, reached, &k, 0.1), ETIMEDOUT);
    double took = now_s() - t0;
    cr_assert_geq(took, 0.1 - ROUNDING);
    cr_assert_lt(took, TOO_LONG);
    cr_assert(weft_rlock_is_owned(&l));
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert(weft_rlock_locked(&l), "both levels were restored");
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert_not(weft_rlock_locked(&l));
}

/* lock_tests.ConditionTests.test_notify (_check_notify): five waiters;
 * notify(3) lets three through, notify_all the other two. The predicate is a
 * ticket count, so spurious wake-ups cannot let a waiter through early. */
struct tickets {
    weft_rlock l;
    weft_cond c;
    int tickets; /* guarded by l */
    atomic_int waiting;
    atomic_int through;
};

static bool has_ticket(void *ctx)
{
    return ((struct tickets *)ctx)->tickets > 0;
}

static void *ticket_main(void *arg)
{
    struct tickets *t = arg;
    weft_rlock_acquire(&t->l, WEFT_FOREVER);
    weft_rlock_acquire(&t->l, WEFT_FOREVER);
    atomic_fetch_add(&t->waiting, 1);
    if (weft_cond_wait_for(&t->c, has_ticket, t, 20.0) == 0) {
        t->tickets--;
        atomic_fetch_add(&t->through, 1);
    }
    weft_rlock_release(&t->l);
    weft_rlock_release(&t->l);
    return NULL;
}

static void wait_count(atomic_int *v, int want)
{
    double end = now_s() + POLL_LIMIT;
    while (atomic_load(v) < want && now_s() < end)
        nap_ms(1);
    cr_assert_geq(atomic_load(v), want);
}

Test(cond_rlock, notify)
{
    static struct tickets t = {.l = WEFT_RLOCK_INIT};
    weft_cond_init_rlock(&t.c, &t.l);
    pthread_t th[5];
    for (int i = 0; i < 5; i++)
        th[i] = spawn(ticket_main, &t);
    wait_count(&t.waiting, 5);
    weft_rlock_acquire(&t.l, WEFT_FOREVER);
    t.tickets = 3;
    cr_assert_eq(weft_cond_notify(&t.c, 3), 0);
    weft_rlock_release(&t.l);
    wait_count(&t.through, 3);
    nap_ms(20);
    cr_assert_eq(atomic_load(&t.through), 3);
    weft_rlock_acquire(&t.l, WEFT_FOREVER);
    t.tickets += 2;
    cr_assert_eq(weft_cond_notify_all(&t.c), 0);
    weft_rlock_release(&t.l);
    for (int i = 0; i < 5; i++)
        join(th[i]);
    cr_assert_eq(atomic_load(&t.through), 5);
    cr_assert_not(weft_rlock_locked(&t.l));
}

/* The static initialiser and weft_cond_init keep binding a plain Lock. */
Test(cond_rlock, init_rejects_null)
{
    weft_cond c;
    weft_rlock l = WEFT_RLOCK_INIT;
    cr_assert_eq(weft_cond_init_rlock(&c, NULL), EINVAL);
    cr_assert_eq(weft_cond_init_rlock(NULL, &l), EINVAL);
    cr_assert_eq(weft_cond_init_rlock(&c, &l), 0);
}
