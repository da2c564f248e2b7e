/* tests/sync/test_sem.c: weft_sem (Semaphore and BoundedSemaphore) against
 * include/weft/sync.h. */
#include <string.h>

#include "sync_util.h"

TestSuite(sem, .timeout = 60);

Test(sem, static_initialiser_works_without_init)
{
    static weft_sem s = WEFT_SEM_INIT(2);
    cr_assert_eq(weft_sem_value(&s), 2);
    cr_assert_eq(weft_sem_acquire(&s, WEFT_FOREVER), 0);
    cr_assert_eq(weft_sem_acquire(&s, WEFT_FOREVER), 0);
    cr_assert_eq(weft_sem_acquire(&s, 0), EAGAIN);
    cr_assert_eq(weft_sem_value(&s), 0);
    cr_assert_eq(weft_sem_release(&s, 3), 0, "an unbounded semaphore may exceed its initial value");
    cr_assert_eq(weft_sem_value(&s), 3);
}

Test(sem, bounded_static_initialiser_works_without_init)
{
    static weft_sem s = WEFT_BOUNDED_SEM_INIT(1);
    cr_assert_eq(weft_sem_value(&s), 1);
    cr_assert_eq(weft_sem_release(&s, 1), EOVERFLOW);
    cr_assert_eq(weft_sem_value(&s), 1, "EOVERFLOW must leave the value unchanged");
    cr_assert_eq(weft_sem_acquire(&s, 0), 0);
    cr_assert_eq(weft_sem_acquire(&s, 0), EAGAIN);
    cr_assert_eq(weft_sem_release(&s, 1), 0);
    cr_assert_eq(weft_sem_value(&s), 1);
}

Test(sem, init_accepts_the_documented_range)
{
    weft_sem s;
    memset(&s, 0xc3, sizeof s);
    cr_assert_eq(weft_sem_init(&s, 0), 0);
    cr_assert_eq(weft_sem_value(&s), 0);
    cr_assert_eq(weft_sem_acquire(&s, 0), EAGAIN);
    cr_assert_eq(weft_sem_init(&s, UINT32_MAX - 1), 0);
    cr_assert_eq(weft_sem_value(&s), (size_t)UINT32_MAX - 1);
    cr_assert_eq(weft_sem_acquire(&s, 0), 0);
    cr_assert_eq(weft_sem_value(&s), (size_t)UINT32_MAX - 2);
    cr_assert_eq(weft_sem_init_bounded(&s, 1), 0);
    cr_assert_eq(weft_sem_value(&s), 1);
    cr_assert_eq(weft_sem_init_bounded(&s, UINT32_MAX - 1), 0);
    cr_assert_eq(weft_sem_value(&s), (size_t)UINT32_MAX - 1);
}

Test(sem, init_rejects_bad_values)
{
    weft_sem s;
    cr_assert_eq(weft_sem_init(&s, UINT32_MAX), EINVAL);
    cr_assert_eq(weft_sem_init(&s, (size_t)UINT32_MAX + 1), EINVAL, "must not truncate to 0");
    cr_assert_eq(weft_sem_init(&s, SIZE_MAX), EINVAL);
    cr_assert_eq(weft_sem_init_bounded(&s, 0), EINVAL, "a bounded semaphore of 0 could never be released");
    cr_assert_eq(weft_sem_init_bounded(&s, UINT32_MAX), EINVAL);
    cr_assert_eq(weft_sem_init_bounded(&s, (size_t)UINT32_MAX + 2), EINVAL, "must not truncate to 1");
}

Test(sem, acquire_zero_or_negative_timeout_on_empty_is_eagain)
{
    weft_sem s = WEFT_SEM_INIT(1);
    cr_assert_eq(weft_sem_acquire(&s, 0), 0);
    cr_assert_eq(weft_sem_acquire(&s, 0), EAGAIN);
    cr_assert_eq(weft_sem_acquire(&s, -1.0), EAGAIN);
    cr_assert_eq(weft_sem_acquire(&s, -INFINITY), EAGAIN);
    cr_assert_eq(weft_sem_value(&s), 0);
}

Test(sem, acquire_timeout_is_etimedout)
{
    weft_sem s = WEFT_SEM_INIT(0);
    double t0 = now_s();
    int rc = weft_sem_acquire(&s, 0.1);
    double elapsed = now_s() - t0;
    cr_assert_eq(rc, ETIMEDOUT, "got %d", rc);
    cr_assert_timed_out_after(elapsed, 0.1);
    cr_assert_eq(weft_sem_value(&s), 0);
    cr_assert_eq(weft_sem_release(&s, 1), 0);
    cr_assert_eq(weft_sem_acquire(&s, 0), 0, "a timed-out waiter must not keep a later permit");
}

Test(sem, nan_timeout_is_einval_and_takes_nothing)
{
    weft_sem s = WEFT_SEM_INIT(2);
    cr_assert_eq(weft_sem_acquire(&s, NAN), EINVAL);
    cr_assert_eq(weft_sem_value(&s), 2);
    weft_sem empty = WEFT_SEM_INIT(0);
    cr_assert_eq(weft_sem_acquire(&empty, NAN), EINVAL);
    cr_assert_eq(weft_sem_value(&empty), 0);
}

Test(sem, release_zero_is_einval)
{
    weft_sem s = WEFT_SEM_INIT(1);
    cr_assert_eq(weft_sem_release(&s, 0), EINVAL);
    cr_assert_eq(weft_sem_value(&s), 1);
    weft_sem b = WEFT_BOUNDED_SEM_INIT(1);
    cr_assert_eq(weft_sem_acquire(&b, 0), 0);
    cr_assert_eq(weft_sem_release(&b, 0), EINVAL);
    cr_assert_eq(weft_sem_value(&b), 0);
}

Test(sem, unbounded_release_past_the_maximum_is_eoverflow)
{
    weft_sem s;
    cr_assert_eq(weft_sem_init(&s, UINT32_MAX - 1), 0);
    cr_assert_eq(weft_sem_release(&s, 1), EOVERFLOW);
    cr_assert_eq(weft_sem_value(&s), (size_t)UINT32_MAX - 1);

    weft_sem z = WEFT_SEM_INIT(0);
    cr_assert_eq(weft_sem_release(&z, (size_t)UINT32_MAX + 1), EOVERFLOW, "must not truncate to 0");
    cr_assert_eq(weft_sem_value(&z), 0);
    cr_assert_eq(weft_sem_release(&z, SIZE_MAX), EOVERFLOW);
    cr_assert_eq(weft_sem_value(&z), 0);
    cr_assert_eq(weft_sem_release(&z, UINT32_MAX - 1), 0);
    cr_assert_eq(weft_sem_value(&z), (size_t)UINT32_MAX - 1);
}

Test(sem, bounded_release_too_often_is_eoverflow)
{
    weft_sem s;
    cr_assert_eq(weft_sem_init_bounded(&s, 3), 0);
    cr_assert_eq(weft_sem_release(&s, 1), EOVERFLOW);
    cr_assert_eq(weft_sem_value(&s), 3);
    cr_assert_eq(weft_sem_acquire(&s, 0), 0);
    cr_assert_eq(weft_sem_release(&s, 2), EOVERFLOW, "2 + 2 exceeds 3: nothing may be added");
    cr_assert_eq(weft_sem_value(&s), 2);
    cr_assert_eq(weft_sem_release(&s, 1), 0);
    cr_assert_eq(weft_sem_value(&s), 3);
    cr_assert_eq(weft_sem_release(&s, 1), EOVERFLOW);
    cr_assert_eq(weft_sem_value(&s), 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(weft_sem_acquire(&s, 0), 0);
    cr_assert_eq(weft_sem_release(&s, 3), 0);
    cr_assert_eq(weft_sem_value(&s), 3);
}

/* ---- release wakes sleepers --------------------------------------------- */

typedef struct waiter_arg {
    weft_sem *sem;
    _Atomic int *started;
    _Atomic int *done;
    int rc;
} waiter_arg;

static void *sem_waiter(void *p)
{
    waiter_arg *a = p;
    /* release: pairs with atomic_int_reached's acquire load in the test. */
    atomic_fetch_add_explicit(a->started, 1, memory_order_release);
    a->rc = weft_sem_acquire(a->sem, WEFT_FOREVER);
    /* release: pairs with atomic_int_reached's acquire load in the test. */
    atomic_fetch_add_explicit(a->done, 1, memory_order_release);
    return NULL;
}

Test(sem, release_n_wakes_n_sleepers)
{
    enum { N = 5 };
    weft_sem s = WEFT_SEM_INIT(0);
    _Atomic int started = 0, done = 0;
    waiter_arg a[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        a[i] = (waiter_arg){&s, &started, &done, -1};
        t[i] = spawn(sem_waiter, &a[i]);
    }
    cr_assert(atomic_int_reached(&started, N));
    cr_assert_eq(weft_sem_release(&s, 2), 0);
    cr_assert(atomic_int_reached(&done, 2), "release(2) must let two sleepers through");
    cr_assert_eq(weft_sem_release(&s, 3), 0);
    for (int i = 0; i < N; i++) {
        join(t[i]);
        cr_assert_eq(a[i].rc, 0, "waiter %d: %d", i, a[i].rc);
    }
    cr_assert_eq(atomic_load_explicit(&done, memory_order_relaxed), N);
    cr_assert_eq(weft_sem_value(&s), 0, "five permits, five acquires");
}

/* ---- Python tutorial: Semaphore(2) never lets a third thread in ---------- */

enum { GATE_THREADS = 6, GATE_EACH = 3000 };

typedef struct gate {
    weft_sem sem;
    _Atomic int inside;
    _Atomic int max_inside;
} gate;

static void *gate_user(void *p)
{
    gate *g = p;
    for (int i = 0; i < GATE_EACH; i++) {
        if (weft_sem_acquire(&g->sem, WEFT_FOREVER) != 0)
            return (void *)1;
        int now = atomic_fetch_add_explicit(&g->inside, 1, memory_order_relaxed) + 1;
        int seen = atomic_load_explicit(&g->max_inside, memory_order_relaxed);
        while (now > seen &&
               !atomic_compare_exchange_weak_explicit(&g->max_inside, &seen, now, memory_order_relaxed,
                                                      memory_order_relaxed))
            ;
        if (i % 64 == 0)
            sched_yield();
        atomic_fetch_sub_explicit(&g->inside, 1, memory_order_relaxed);
        if (weft_sem_release(&g->sem, 1) != 0)
            return (void *)1;
    }
    return NULL;
}

Test(sem, semaphore_of_two_never_admits_a_third)
{
    gate g = {WEFT_SEM_INIT(2), 0, 0};
    pthread_t t[GATE_THREADS];
    for (int i = 0; i < GATE_THREADS; i++)
        t[i] = spawn(gate_user, &g);
    for (int i = 0; i < GATE_THREADS; i++) {
        void *ret;
        cr_assert_eq(pthread_join(t[i], &ret), 0);
        cr_assert_null(ret, "an acquire or release failed in thread %d", i);
    }
    int max = atomic_load_explicit(&g.max_inside, memory_order_relaxed);
    cr_assert_leq(max, 2, "%d threads were inside at once", max);
    cr_assert_geq(max, 1);
    cr_assert_eq(weft_sem_value(&g.sem), 2);
}

Test(sem, bounded_semaphore_of_two_under_contention)
{
    gate g;
    cr_assert_eq(weft_sem_init_bounded(&g.sem, 2), 0);
    atomic_init(&g.inside, 0);
    atomic_init(&g.max_inside, 0);
    pthread_t t[GATE_THREADS];
    for (int i = 0; i < GATE_THREADS; i++)
        t[i] = spawn(gate_user, &g);
    for (int i = 0; i < GATE_THREADS; i++) {
        void *ret;
        cr_assert_eq(pthread_join(t[i], &ret), 0);
        cr_assert_null(ret, "an acquire or release failed in thread %d", i);
    }
    cr_assert_leq(atomic_load_explicit(&g.max_inside, memory_order_relaxed), 2);
    cr_assert_eq(weft_sem_value(&g.sem), 2);
    cr_assert_eq(weft_sem_release(&g.sem, 1), EOVERFLOW);
}
