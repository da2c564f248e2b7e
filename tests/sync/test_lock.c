/* tests/sync/test_lock.c: weft_lock against include/weft/sync.h. */
#include <string.h>

#include "sync_util.h"

TestSuite(lock, .timeout = 60);

Test(lock, static_initialiser_works_without_init)
{
    static weft_lock l = WEFT_LOCK_INIT;
    cr_assert_not(weft_lock_locked(&l));
    cr_assert_eq(weft_lock_acquire(&l, WEFT_FOREVER), 0);
    cr_assert(weft_lock_locked(&l));
    cr_assert_eq(weft_lock_release(&l), 0);
    cr_assert_not(weft_lock_locked(&l));
}

Test(lock, init_resets_garbage)
{
    weft_lock l;
    memset(&l, 0xa5, sizeof l);
    weft_lock_init(&l);
    cr_assert_not(weft_lock_locked(&l));
    cr_assert_eq(weft_lock_acquire(&l, 0), 0);
    cr_assert_eq(weft_lock_release(&l), 0);
}

Test(lock, zero_or_negative_timeout_never_blocks)
{
    weft_lock l = WEFT_LOCK_INIT;
    cr_assert_eq(weft_lock_acquire(&l, 0), 0, "a free lock is taken even with timeout 0");
    cr_assert_eq(weft_lock_acquire(&l, 0), EAGAIN);
    cr_assert_eq(weft_lock_acquire(&l, -1.0), EAGAIN);
    cr_assert_eq(weft_lock_acquire(&l, -INFINITY), EAGAIN);
    cr_assert(weft_lock_locked(&l), "a failed acquire must not release the lock");
    cr_assert_eq(weft_lock_release(&l), 0);
    cr_assert_eq(weft_lock_acquire(&l, -1.0), 0, "a free lock is taken even with a negative timeout");
    cr_assert_eq(weft_lock_release(&l), 0);
}

Test(lock, nan_timeout_is_einval_and_changes_nothing)
{
    weft_lock l = WEFT_LOCK_INIT;
    cr_assert_eq(weft_lock_acquire(&l, NAN), EINVAL);
    cr_assert_not(weft_lock_locked(&l), "EINVAL on a free lock must not take it");
    cr_assert_eq(weft_lock_acquire(&l, 0), 0);
    cr_assert_eq(weft_lock_acquire(&l, NAN), EINVAL);
    cr_assert(weft_lock_locked(&l));
    cr_assert_eq(weft_lock_release(&l), 0);
    cr_assert_not(weft_lock_locked(&l));
}

Test(lock, timeout_on_held_lock_is_etimedout)
{
    weft_lock l = WEFT_LOCK_INIT;
    cr_assert_eq(weft_lock_acquire(&l, WEFT_FOREVER), 0);
    /* weft_lock has no owner, so its holder can wait on it with a timeout. */
    double t0 = now_s();
    int rc = weft_lock_acquire(&l, 0.1);
    double elapsed = now_s() - t0;
    cr_assert_eq(rc, ETIMEDOUT, "got %d", rc);
    cr_assert_timed_out_after(elapsed, 0.1);
    cr_assert(weft_lock_locked(&l));
    cr_assert_eq(weft_lock_release(&l), 0);
    cr_assert_not(weft_lock_locked(&l), "a timed-out waiter must leave no trace that holds the lock");
    cr_assert_eq(weft_lock_acquire(&l, 0), 0);
    cr_assert_eq(weft_lock_release(&l), 0);
}

typedef struct timed_arg {
    weft_lock *lock;
    double timeout;
    int rc;
    double elapsed;
} timed_arg;

static void *timed_acquirer(void *p)
{
    timed_arg *a = p;
    double t0 = now_s();
    a->rc = weft_lock_acquire(a->lock, a->timeout);
    a->elapsed = now_s() - t0;
    return NULL;
}

Test(lock, timeout_in_another_thread_is_etimedout)
{
    weft_lock l = WEFT_LOCK_INIT;
    cr_assert_eq(weft_lock_acquire(&l, WEFT_FOREVER), 0);
    timed_arg a = {&l, 0.1, -1, 0};
    join(spawn(timed_acquirer, &a));
    cr_assert_eq(a.rc, ETIMEDOUT, "got %d", a.rc);
    cr_assert_timed_out_after(a.elapsed, 0.1);
    cr_assert_eq(weft_lock_release(&l), 0);
}

Test(lock, huge_timeout_acts_as_forever)
{
    weft_lock l = WEFT_LOCK_INIT;
    cr_assert_eq(weft_lock_acquire(&l, 1e300), 0);
    cr_assert_eq(weft_lock_acquire(&l, 0), EAGAIN);
    cr_assert_eq(weft_lock_release(&l), 0);
    cr_assert_eq(weft_lock_acquire(&l, INFINITY), 0);
    cr_assert_eq(weft_lock_release(&l), 0);
}

Test(lock, release_of_unlocked_lock_is_eperm)
{
    weft_lock l = WEFT_LOCK_INIT;
    cr_assert_eq(weft_lock_release(&l), EPERM);
    cr_assert_not(weft_lock_locked(&l));
    cr_assert_eq(weft_lock_acquire(&l, 0), 0, "EPERM must leave the lock usable");
    cr_assert_eq(weft_lock_release(&l), 0);
    cr_assert_eq(weft_lock_release(&l), EPERM, "double release");
    cr_assert_eq(weft_lock_acquire(&l, 0), 0);
    cr_assert_eq(weft_lock_acquire(&l, 0), EAGAIN, "EPERM must not have unlocked it twice");
    cr_assert_eq(weft_lock_release(&l), 0);
}

/* ---- Python tutorial: 5 threads x 100000 locked increments --------------- */

enum { INC_THREADS = 5, INC_EACH = 100000 };

typedef struct counter {
    weft_lock lock;
    long value; /* guarded by lock, deliberately not atomic */
} counter;

static void *incrementer(void *p)
{
    counter *c = p;
    for (int i = 0; i < INC_EACH; i++) {
        if (weft_lock_acquire(&c->lock, WEFT_FOREVER) != 0)
            return (void *)1;
        c->value++;
        if (weft_lock_release(&c->lock) != 0)
            return (void *)1;
    }
    return NULL;
}

Test(lock, five_threads_increment_exactly)
{
    counter c = {WEFT_LOCK_INIT, 0};
    pthread_t t[INC_THREADS];
    for (int i = 0; i < INC_THREADS; i++)
        t[i] = spawn(incrementer, &c);
    for (int i = 0; i < INC_THREADS; i++) {
        void *ret;
        cr_assert_eq(pthread_join(t[i], &ret), 0);
        cr_assert_null(ret, "an acquire or release failed in thread %d", i);
    }
    cr_assert_eq(c.value, (long)INC_THREADS * INC_EACH);
    cr_assert_not(weft_lock_locked(&c.lock));
}

/* ---- blocked waiters are woken by a release ----------------------------- */

typedef struct sleeper_arg {
    weft_lock *lock;
    _Atomic int *started;
    long *inside; /* guarded by lock */
    int rc;
} sleeper_arg;

static void *sleeper(void *p)
{
    sleeper_arg *a = p;
    /* release: pairs with atomic_int_reached's acquire load in the test. */
    atomic_fetch_add_explicit(a->started, 1, memory_order_release);
    a->rc = weft_lock_acquire(a->lock, WEFT_FOREVER);
    if (a->rc == 0) {
        ++*a->inside;
        a->rc = weft_lock_release(a->lock);
    }
    return NULL;
}

Test(lock, release_wakes_blocked_waiters)
{
    enum { N = 4 };
    weft_lock l = WEFT_LOCK_INIT;
    _Atomic int started = 0;
    long inside = 0;
    sleeper_arg a[N];
    pthread_t t[N];
    cr_assert_eq(weft_lock_acquire(&l, WEFT_FOREVER), 0);
    for (int i = 0; i < N; i++) {
        a[i] = (sleeper_arg){&l, &started, &inside, -1};
        t[i] = spawn(sleeper, &a[i]);
    }
    cr_assert(atomic_int_reached(&started, N));
    /* Give them a chance to reach the futex; correctness does not depend on it. */
    nap_ms(20);
    cr_assert_eq(inside, 0, "a waiter got in while the lock was held");
    cr_assert_eq(weft_lock_release(&l), 0);
    for (int i = 0; i < N; i++) {
        join(t[i]);
        cr_assert_eq(a[i].rc, 0, "waiter %d: %d", i, a[i].rc);
    }
    cr_assert_eq(inside, N);
    cr_assert_not(weft_lock_locked(&l));
}

/* ---- Lock handed between threads (Python allows release by another) ----- */

typedef struct handoff_arg {
    weft_lock *lock;
    int rc;
} handoff_arg;

static void *releaser(void *p)
{
    handoff_arg *a = p;
    a->rc = weft_lock_release(a->lock);
    return NULL;
}

static void *acquirer(void *p)
{
    handoff_arg *a = p;
    a->rc = weft_lock_acquire(a->lock, WEFT_FOREVER);
    return NULL;
}

Test(lock, release_by_another_thread)
{
    weft_lock l = WEFT_LOCK_INIT;
    handoff_arg a = {&l, -1};
    join(spawn(acquirer, &a));
    cr_assert_eq(a.rc, 0);
    cr_assert(weft_lock_locked(&l), "the lock stays held after its acquirer exits");
    cr_assert_eq(weft_lock_acquire(&l, 0), EAGAIN);
    cr_assert_eq(weft_lock_release(&l), 0, "any thread may release a weft_lock");
    cr_assert_eq(weft_lock_acquire(&l, WEFT_FOREVER), 0);
    a.rc = -1;
    join(spawn(releaser, &a));
    cr_assert_eq(a.rc, 0);
    cr_assert_not(weft_lock_locked(&l));
    a.rc = -1;
    join(spawn(releaser, &a));
    cr_assert_eq(a.rc, EPERM, "another thread's release of a free lock");
}

/* A relay: every turn[i] starts held by the test thread; thread i acquires
 * turn[i] (blocking until thread i-1 releases it on its behalf), writes, and
 * releases turn[i+1], a lock it never acquired. order and next are passed
 * along the chain, each release/acquire ordering one writer before the next. */
typedef struct relay {
    weft_lock *turn;
    int n;
    int *order;
    int next;
} relay;

typedef struct relay_arg {
    relay *r;
    int id;
    int rc;
} relay_arg;

static void *relay_runner(void *p)
{
    relay_arg *a = p;
    relay *r = a->r;
    if ((a->rc = weft_lock_acquire(&r->turn[a->id], WEFT_FOREVER)) != 0)
        return NULL;
    r->order[r->next++] = a->id;
    if (a->id + 1 < r->n)
        a->rc = weft_lock_release(&r->turn[a->id + 1]);
    return NULL;
}

Test(lock, relay_of_locks_released_by_other_threads)
{
    enum { N = 6 };
    weft_lock turn[N];
    int order[N];
    relay r = {turn, N, order, 0};
    relay_arg a[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        weft_lock_init(&turn[i]);
        cr_assert_eq(weft_lock_acquire(&turn[i], 0), 0);
    }
    for (int i = N - 1; i >= 0; i--) {
        a[i] = (relay_arg){&r, i, -1};
        t[i] = spawn(relay_runner, &a[i]);
    }
    cr_assert_eq(weft_lock_release(&turn[0]), 0);
    for (int i = 0; i < N; i++) {
        join(t[i]);
        cr_assert_eq(a[i].rc, 0, "thread %d: %d", i, a[i].rc);
    }
    cr_assert_eq(r.next, N);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(order[i], i, "the relay ran out of order at %d", i);
        cr_assert(weft_lock_locked(&turn[i]), "turn %d was acquired by thread %d and stays held", i, i);
        cr_assert_eq(weft_lock_release(&turn[i]), 0);
    }
}
