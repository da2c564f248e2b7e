/* tests/sync/test_rlock.c: weft_rlock against include/weft/sync.h. */
#include <string.h>

#include "sync_util.h"

TestSuite(rlock, .timeout = 60);

Test(rlock, static_initialiser_works_without_init)
{
    static weft_rlock l = WEFT_RLOCK_INIT;
    cr_assert_not(weft_rlock_is_owned(&l));
    cr_assert_eq(weft_rlock_acquire(&l, WEFT_FOREVER), 0);
    cr_assert(weft_rlock_is_owned(&l));
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert_not(weft_rlock_is_owned(&l));
}

Test(rlock, init_resets_garbage)
{
    weft_rlock l;
    memset(&l, 0x5a, sizeof l);
    weft_rlock_init(&l);
    cr_assert_not(weft_rlock_is_owned(&l));
    cr_assert_eq(weft_rlock_release(&l), EPERM);
    cr_assert_eq(weft_rlock_acquire(&l, 0), 0);
    cr_assert_eq(weft_rlock_release(&l), 0);
}

/* ---- Python tutorial: a recursive function re-enters the RLock ----------- */

static int recurse(weft_rlock *l, int depth, int *deepest)
{
    int rc = weft_rlock_acquire(l, WEFT_FOREVER);
    if (rc != 0)
        return rc;
    if (!weft_rlock_is_owned(l))
        return -1;
    if (depth > *deepest)
        *deepest = depth;
    if (depth < 10 && (rc = recurse(l, depth + 1, deepest)) != 0)
        return rc;
    return weft_rlock_release(l);
}

Test(rlock, recursive_function_reenters)
{
    weft_rlock l = WEFT_RLOCK_INIT;
    int deepest = 0;
    cr_assert_eq(recurse(&l, 1, &deepest), 0);
    cr_assert_eq(deepest, 10);
    cr_assert_not(weft_rlock_is_owned(&l), "ten acquires were matched by ten releases");
    cr_assert_eq(weft_rlock_release(&l), EPERM, "an eleventh release");
}

Test(rlock, owner_reenters_with_timeout_zero)
{
    weft_rlock l = WEFT_RLOCK_INIT;
    cr_assert_eq(weft_rlock_acquire(&l, 0), 0);
    cr_assert_eq(weft_rlock_acquire(&l, 0), 0, "the owner never blocks on its own RLock");
    cr_assert_eq(weft_rlock_acquire(&l, -1.0), 0);
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert(weft_rlock_is_owned(&l), "still held once");
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert_not(weft_rlock_is_owned(&l));
}

Test(rlock, release_of_unlocked_rlock_is_eperm)
{
    weft_rlock l = WEFT_RLOCK_INIT;
    cr_assert_eq(weft_rlock_release(&l), EPERM);
    cr_assert_eq(weft_rlock_acquire(&l, 0), 0, "EPERM must leave the RLock usable");
    cr_assert_eq(weft_rlock_release(&l), 0);
}

Test(rlock, nan_timeout_is_einval_and_changes_nothing)
{
    weft_rlock l = WEFT_RLOCK_INIT;
    cr_assert_eq(weft_rlock_acquire(&l, NAN), EINVAL);
    cr_assert_not(weft_rlock_is_owned(&l));
    cr_assert_eq(weft_rlock_release(&l), EPERM, "EINVAL must not have taken the RLock");
    cr_assert_eq(weft_rlock_acquire(&l, 0), 0);
    cr_assert_eq(weft_rlock_acquire(&l, NAN), EINVAL, "NaN is EINVAL for the owner too");
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert_not(weft_rlock_is_owned(&l), "EINVAL must not have added a level");
}

/* ---- another thread tries, or releases, while the test thread owns it ---- */

typedef struct other_arg {
    weft_rlock *lock;
    double timeout;
    int acquire_rc;
    int release_rc;
    bool owned;
    double elapsed;
} other_arg;

static void *other_acquire(void *p)
{
    other_arg *a = p;
    a->owned = weft_rlock_is_owned(a->lock);
    double t0 = now_s();
    a->acquire_rc = weft_rlock_acquire(a->lock, a->timeout);
    a->elapsed = now_s() - t0;
    if (a->acquire_rc == 0)
        a->release_rc = weft_rlock_release(a->lock);
    return NULL;
}

static void *other_release(void *p)
{
    other_arg *a = p;
    a->owned = weft_rlock_is_owned(a->lock);
    a->release_rc = weft_rlock_release(a->lock);
    return NULL;
}

Test(rlock, held_by_another_thread_eagain_and_etimedout)
{
    weft_rlock l = WEFT_RLOCK_INIT;
    cr_assert_eq(weft_rlock_acquire(&l, WEFT_FOREVER), 0);

    other_arg a = {&l, 0, -1, -1, true, 0};
    join(spawn(other_acquire, &a));
    cr_assert_not(a.owned, "is_owned is true only in the owner");
    cr_assert_eq(a.acquire_rc, EAGAIN, "got %d", a.acquire_rc);

    a = (other_arg){&l, -2.5, -1, -1, true, 0};
    join(spawn(other_acquire, &a));
    cr_assert_eq(a.acquire_rc, EAGAIN, "got %d", a.acquire_rc);

    a = (other_arg){&l, 0.1, -1, -1, true, 0};
    join(spawn(other_acquire, &a));
    cr_assert_eq(a.acquire_rc, ETIMEDOUT, "got %d", a.acquire_rc);
    cr_assert_timed_out_after(a.elapsed, 0.1);

    a = (other_arg){&l, NAN, -1, -1, true, 0};
    join(spawn(other_acquire, &a));
    cr_assert_eq(a.acquire_rc, EINVAL, "got %d", a.acquire_rc);

    cr_assert(weft_rlock_is_owned(&l), "failed acquires elsewhere leave the owner in place");
    cr_assert_eq(weft_rlock_release(&l), 0);
}

Test(rlock, release_by_non_owner_is_eperm)
{
    weft_rlock l = WEFT_RLOCK_INIT;
    cr_assert_eq(weft_rlock_acquire(&l, WEFT_FOREVER), 0);
    cr_assert_eq(weft_rlock_acquire(&l, WEFT_FOREVER), 0);
    other_arg a = {&l, 0, -1, -1, true, 0};
    join(spawn(other_release, &a));
    cr_assert_eq(a.release_rc, EPERM, "got %d", a.release_rc);
    cr_assert(weft_rlock_is_owned(&l), "EPERM must not change the owner");
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert(weft_rlock_is_owned(&l), "EPERM must not change the count");
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert_not(weft_rlock_is_owned(&l));

    a = (other_arg){&l, 0, -1, -1, true, 0};
    join(spawn(other_release, &a));
    cr_assert_eq(a.release_rc, EPERM, "another thread's release of a free RLock");
}

Test(rlock, free_after_owner_releases_fully)
{
    weft_rlock l = WEFT_RLOCK_INIT;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(weft_rlock_acquire(&l, WEFT_FOREVER), 0);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(weft_rlock_release(&l), 0);
    other_arg a = {&l, 0, -1, -1, true, 0};
    join(spawn(other_acquire, &a));
    cr_assert_eq(a.acquire_rc, EAGAIN, "one level is still held");
    cr_assert_eq(weft_rlock_release(&l), 0);
    a = (other_arg){&l, 0, -1, -1, true, 0};
    join(spawn(other_acquire, &a));
    cr_assert_eq(a.acquire_rc, 0, "got %d", a.acquire_rc);
    cr_assert_eq(a.release_rc, 0, "got %d", a.release_rc);
}

/* 2^32-1 nested acquires take far too long to make one by one; the count is a
 * public field that only the owner writes, so the owner sets it near the top. */
Test(rlock, nesting_past_the_count_is_eoverflow)
{
    weft_rlock l = WEFT_RLOCK_INIT;
    cr_assert_eq(weft_rlock_acquire(&l, WEFT_FOREVER), 0);
    uint32_t one_level = l.count;
    l.count = UINT32_MAX;
    cr_assert_eq(weft_rlock_acquire(&l, WEFT_FOREVER), EOVERFLOW);
    cr_assert_eq(l.count, UINT32_MAX, "EOVERFLOW must leave the count unchanged");
    cr_assert(weft_rlock_is_owned(&l));
    l.count = one_level;
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert_not(weft_rlock_is_owned(&l));
}

/* ---- a waiter blocked on the RLock gets it when the owner lets go -------- */

Test(rlock, blocked_waiter_gets_it_after_last_release)
{
    weft_rlock l = WEFT_RLOCK_INIT;
    cr_assert_eq(weft_rlock_acquire(&l, WEFT_FOREVER), 0);
    cr_assert_eq(weft_rlock_acquire(&l, WEFT_FOREVER), 0);
    other_arg a = {&l, WEFT_FOREVER, -1, -1, true, 0};
    pthread_t t = spawn(other_acquire, &a);
    nap_ms(20); /* usually lets it block first; correctness does not depend on it */
    cr_assert_eq(weft_rlock_release(&l), 0);
    cr_assert_eq(weft_rlock_release(&l), 0);
    join(t);
    cr_assert_eq(a.acquire_rc, 0, "got %d", a.acquire_rc);
    cr_assert_eq(a.release_rc, 0, "got %d", a.release_rc);
    cr_assert_not(weft_rlock_is_owned(&l));
}

/* ---- mutual exclusion with nesting -------------------------------------- */

enum { NEST_THREADS = 4, NEST_EACH = 20000 };

typedef struct nest_shared {
    weft_rlock lock;
    long value; /* guarded by lock */
} nest_shared;

static void *nester(void *p)
{
    nest_shared *s = p;
    for (int i = 0; i < NEST_EACH; i++) {
        int depth = 1 + i % 3;
        for (int d = 0; d < depth; d++)
            if (weft_rlock_acquire(&s->lock, WEFT_FOREVER) != 0)
                return (void *)1;
        long v = s->value;
        s->value = v + 1;
        for (int d = 0; d < depth; d++)
            if (weft_rlock_release(&s->lock) != 0)
                return (void *)1;
        if (weft_rlock_is_owned(&s->lock))
            return (void *)1;
    }
    return NULL;
}

Test(rlock, threads_increment_exactly_with_nesting)
{
    nest_shared s = {WEFT_RLOCK_INIT, 0};
    pthread_t t[NEST_THREADS];
    for (int i = 0; i < NEST_THREADS; i++)
        t[i] = spawn(nester, &s);
    for (int i = 0; i < NEST_THREADS; i++) {
        void *ret;
        cr_assert_eq(pthread_join(t[i], &ret), 0);
        cr_assert_null(ret, "an acquire, release or is_owned check failed in thread %d", i);
    }
    cr_assert_eq(s.value, (long)NEST_THREADS * NEST_EACH);
}
