/* tests/sync/test_cond.c: weft_cond against include/weft/sync.h.
 *
 * Spurious wake-ups are allowed, so every waiter here loops on a predicate
 * (or uses wait_for) and the tests count what waiters consumed, never how
 * often they returned from wait.
 */
#include "sync_util.h"

TestSuite(cond, .timeout = 90);

static bool never(void *ctx)
{
    (void)ctx;
    return false;
}

static bool always(void *ctx)
{
    (void)ctx;
    return true;
}

Test(cond, init_rejects_null_lock)
{
    weft_cond c;
    cr_assert_eq(weft_cond_init(&c, NULL), EINVAL);
}

Test(cond, init_binds_the_lock)
{
    weft_lock l = WEFT_LOCK_INIT;
    weft_cond c;
    cr_assert_eq(weft_cond_init(&c, &l), 0);
    cr_assert_eq(weft_cond_notify(&c, 1), EPERM, "the lock bound by init is not held");
    cr_assert_eq(weft_lock_acquire(&l, 0), 0);
    cr_assert_eq(weft_cond_notify(&c, 1), 0);
    cr_assert_eq(weft_cond_wait_for(&c, always, NULL, 0), 0);
    cr_assert_eq(weft_lock_release(&l), 0);
}

Test(cond, without_the_lock_everything_is_eperm)
{
    weft_lock l = WEFT_LOCK_INIT;
    weft_cond c = WEFT_COND_INIT(&l);
    cr_assert_eq(weft_cond_wait(&c, WEFT_FOREVER), EPERM, "must not block when the lock is not held");
    cr_assert_eq(weft_cond_wait(&c, 0.1), EPERM);
    cr_assert_eq(weft_cond_wait_for(&c, never, NULL, WEFT_FOREVER), EPERM);
    cr_assert_eq(weft_cond_wait_for(&c, always, NULL, WEFT_FOREVER), EPERM,
                 "the predicate is evaluated only with the lock held");
    cr_assert_eq(weft_cond_notify(&c, 1), EPERM);
    cr_assert_eq(weft_cond_notify(&c, 0), EPERM);
    cr_assert_eq(weft_cond_notify_all(&c), EPERM);
    cr_assert_not(weft_lock_locked(&l), "EPERM must not take the lock");
    cr_assert_eq(weft_lock_acquire(&l, 0), 0);
    cr_assert_eq(weft_lock_release(&l), 0);
}

Test(cond, nan_timeout_is_einval_and_keeps_the_lock)
{
    weft_lock l = WEFT_LOCK_INIT;
    weft_cond c = WEFT_COND_INIT(&l);
    cr_assert_eq(weft_lock_acquire(&l, 0), 0);
    cr_assert_eq(weft_cond_wait(&c, NAN), EINVAL);
    cr_assert(weft_lock_locked(&l));
    cr_assert_eq(weft_cond_wait_for(&c, never, NULL, NAN), EINVAL);
    cr_assert(weft_lock_locked(&l));
    cr_assert_eq(weft_lock_release(&l), 0, "the lock was still held exactly once");
}

Test(cond, wait_for_zero_timeout_does_not_block)
{
    weft_lock l = WEFT_LOCK_INIT;
    weft_cond c = WEFT_COND_INIT(&l);
    cr_assert_eq(weft_lock_acquire(&l, 0), 0);
    cr_assert_eq(weft_cond_wait_for(&c, never, NULL, 0), ETIMEDOUT);
    cr_assert_eq(weft_cond_wait_for(&c, never, NULL, -3.0), ETIMEDOUT);
    cr_assert_eq(weft_cond_wait_for(&c, always, NULL, 0), 0, "a true predicate wins over the timeout");
    cr_assert_eq(weft_cond_wait_for(&c, always, NULL, WEFT_FOREVER), 0);
    cr_assert(weft_lock_locked(&l));
    cr_assert_eq(weft_cond_notify(&c, 0), 0);
    cr_assert_eq(weft_cond_notify(&c, 5), 0, "notify with nobody waiting");
    cr_assert_eq(weft_cond_notify_all(&c), 0);
    cr_assert_eq(weft_lock_release(&l), 0);
}

Test(cond, wait_for_timeout_is_etimedout)
{
    weft_lock l = WEFT_LOCK_INIT;
    weft_cond c = WEFT_COND_INIT(&l);
    cr_assert_eq(weft_lock_acquire(&l, 0), 0);
    double t0 = now_s();
    int rc = weft_cond_wait_for(&c, never, NULL, 0.1);
    double elapsed = now_s() - t0;
    cr_assert_eq(rc, ETIMEDOUT, "got %d", rc);
    cr_assert_timed_out_after(elapsed, 0.1);
    cr_assert(weft_lock_locked(&l), "the lock is re-acquired on ETIMEDOUT");
    cr_assert_eq(weft_lock_release(&l), 0);
}

Test(cond, wait_timeout_returns_with_the_lock)
{
    weft_lock l = WEFT_LOCK_INIT;
    weft_cond c = WEFT_COND_INIT(&l);
    cr_assert_eq(weft_lock_acquire(&l, 0), 0);
    double t0 = now_s();
    int rc = weft_cond_wait(&c, 0.1);
    double elapsed = now_s() - t0;
    cr_assert(rc == ETIMEDOUT || rc == 0, "got %d", rc);
    if (rc == ETIMEDOUT)
        cr_assert_timed_out_after(elapsed, 0.1);
    else
        cr_assert_lt(elapsed, TOO_LONG);
    cr_assert(weft_lock_locked(&l));
    cr_assert_eq(weft_lock_release(&l), 0);
}

/* ---- the predicate runs under the lock ---------------------------------- */

typedef struct checked {
    weft_lock *lock;
    int calls;
    int unlocked_calls;
    int true_after;
} checked;

static bool counting_pred(void *ctx)
{
    checked *k = ctx;
    if (!weft_lock_locked(k->lock))
        k->unlocked_calls++;
    return ++k->calls > k->true_after;
}

Test(cond, predicate_evaluated_with_lock_held)
{
    weft_lock l = WEFT_LOCK_INIT;
    weft_cond c = WEFT_COND_INIT(&l);
    checked k = {&l, 0, 0, 0};
    cr_assert_eq(weft_lock_acquire(&l, 0), 0);
    cr_assert_eq(weft_cond_wait_for(&c, counting_pred, &k, 0.1), 0);
    cr_assert_eq(k.calls, 1, "a predicate that holds at once is evaluated once");
    k = (checked){&l, 0, 0, 1000000};
    cr_assert_eq(weft_cond_wait_for(&c, counting_pred, &k, 0.1), ETIMEDOUT);
    cr_assert_geq(k.calls, 1);
    cr_assert_eq(k.unlocked_calls, 0);
    cr_assert_eq(weft_lock_release(&l), 0);
}

/* ---- notify(n) wakes at least n, notify_all wakes all -------------------- *
 * Waiters count themselves in `entered` and then wait, without releasing the
 * lock in between; so once the test thread holds the lock and reads
 * entered == K, all K are inside wait. Each wake-up must be paid for with a
 * ticket, so spurious returns cannot inflate `woken`. */

typedef struct room {
    weft_lock lock;
    weft_cond cond;
    int entered; /* guarded by lock, as are the fields below */
    int tickets;
    int woken;
    int bad; /* unexpected return codes or a missing lock after wait */
} room;

static bool has_ticket(void *ctx)
{
    return ((room *)ctx)->tickets > 0;
}

static void *room_waiter(void *p)
{
    room *r = p;
    if (weft_lock_acquire(&r->lock, WEFT_FOREVER) != 0)
        return (void *)1;
    r->entered++;
    while (r->tickets == 0) {
        int rc = weft_cond_wait(&r->cond, WEFT_FOREVER);
        if (rc != 0 || !weft_lock_locked(&r->lock))
            r->bad++;
    }
    r->tickets--;
    r->woken++;
    return (void *)(intptr_t)weft_lock_release(&r->lock);
}

static void *room_waiter_for(void *p)
{
    room *r = p;
    if (weft_lock_acquire(&r->lock, WEFT_FOREVER) != 0)
        return (void *)1;
    r->entered++;
    int rc = weft_cond_wait_for(&r->cond, has_ticket, r, WEFT_FOREVER);
    if (rc != 0 || r->tickets <= 0)
        r->bad++;
    else
        r->tickets--;
    r->woken++;
    return (void *)(intptr_t)weft_lock_release(&r->lock);
}

static int room_read(room *r, const int *field)
{
    cr_assert_eq(weft_lock_acquire(&r->lock, WEFT_FOREVER), 0);
    int v = *field;
    cr_assert_eq(weft_lock_release(&r->lock), 0);
    return v;
}

static bool room_reached(room *r, const int *field, int target)
{
    double end = now_s() + POLL_LIMIT;
    while (room_read(r, field) < target) {
        if (now_s() > end)
            return false;
        nap_ms(1);
    }
    return true;
}

static void run_notify_n(void *(*waiter)(void *))
{
    enum { K = 6 };
    room r = {WEFT_LOCK_INIT, WEFT_COND_INIT(&r.lock), 0, 0, 0, 0};
    pthread_t t[K];
    for (int i = 0; i < K; i++)
        t[i] = spawn(waiter, &r);
    cr_assert(room_reached(&r, &r.entered, K), "waiters never entered");

    cr_assert_eq(weft_lock_acquire(&r.lock, WEFT_FOREVER), 0);
    r.tickets += 2;
    cr_assert_eq(weft_cond_notify(&r.cond, 2), 0);
    cr_assert_eq(weft_lock_release(&r.lock), 0);
    cr_assert(room_reached(&r, &r.woken, 2), "notify(2) woke fewer than 2 of %d waiters", K);

    cr_assert_eq(weft_lock_acquire(&r.lock, WEFT_FOREVER), 0);
    r.tickets += 1;
    cr_assert_eq(weft_cond_notify(&r.cond, 1), 0);
    cr_assert_eq(weft_lock_release(&r.lock), 0);
    cr_assert(room_reached(&r, &r.woken, 3), "notify(1) woke nobody");

    cr_assert_eq(weft_lock_acquire(&r.lock, WEFT_FOREVER), 0);
    r.tickets += K - 3;
    cr_assert_eq(weft_cond_notify_all(&r.cond), 0);
    cr_assert_eq(weft_lock_release(&r.lock), 0);
    for (int i = 0; i < K; i++) {
        void *ret;
        cr_assert_eq(pthread_join(t[i], &ret), 0);
        cr_assert_null(ret, "waiter %d failed to acquire or release", i);
    }
    cr_assert_eq(r.woken, K);
    cr_assert_eq(r.tickets, 0);
    cr_assert_eq(r.bad, 0, "%d waits returned an error or without the lock", r.bad);
}

Test(cond, notify_n_wakes_at_least_n_waiters)
{
    run_notify_n(room_waiter);
}

Test(cond, notify_n_wakes_at_least_n_wait_for_waiters)
{
    run_notify_n(room_waiter_for);
}

Test(cond, notify_more_than_waiting_wakes_all)
{
    enum { K = 3 };
    room r = {WEFT_LOCK_INIT, WEFT_COND_INIT(&r.lock), 0, 0, 0, 0};
    pthread_t t[K];
    for (int i = 0; i < K; i++)
        t[i] = spawn(room_waiter, &r);
    cr_assert(room_reached(&r, &r.entered, K));
    cr_assert_eq(weft_lock_acquire(&r.lock, WEFT_FOREVER), 0);
    r.tickets = K;
    cr_assert_eq(weft_cond_notify(&r.cond, SIZE_MAX), 0);
    cr_assert_eq(weft_lock_release(&r.lock), 0);
    cr_assert(room_reached(&r, &r.woken, K), "notify(SIZE_MAX) did not wake all %d", K);
    for (int i = 0; i < K; i++)
        join(t[i]);
    cr_assert_eq(r.bad, 0);
}

static weft_lock static_lock = WEFT_LOCK_INIT;
static weft_cond static_cond = WEFT_COND_INIT(&static_lock);
static int static_flag; /* guarded by static_lock */

static bool static_flag_set(void *ctx)
{
    (void)ctx;
    return static_flag != 0;
}

static void *static_waiter(void *p)
{
    int *rc = p;
    if ((*rc = weft_lock_acquire(&static_lock, WEFT_FOREVER)) != 0)
        return NULL;
    *rc = weft_cond_wait_for(&static_cond, static_flag_set, NULL, WEFT_FOREVER);
    int rel = weft_lock_release(&static_lock);
    if (*rc == 0)
        *rc = rel;
    return NULL;
}

Test(cond, static_initialiser_works_without_init)
{
    int rc = -1;
    pthread_t t = spawn(static_waiter, &rc);
    nap_ms(20); /* usually lets the waiter sleep first; the flag makes either order correct */
    cr_assert_eq(weft_lock_acquire(&static_lock, WEFT_FOREVER), 0);
    static_flag = 1;
    cr_assert_eq(weft_cond_notify_all(&static_cond), 0);
    cr_assert_eq(weft_lock_release(&static_lock), 0);
    join(t);
    cr_assert_eq(rc, 0, "got %d", rc);
}

/* ---- a timed-out wait re-acquires a lock that someone else holds --------- */

typedef struct contended {
    weft_lock lock;
    weft_cond cond;
    int entered; /* guarded by lock, as are the fields below */
    int inside;  /* 1 while the test thread is in its critical section */
    int rc;
    int saw_inside;
    bool held_after;
} contended;

static void *timing_out_waiter(void *p)
{
    contended *s = p;
    if (weft_lock_acquire(&s->lock, WEFT_FOREVER) != 0)
        return (void *)1;
    s->entered = 1;
    s->rc = weft_cond_wait_for(&s->cond, never, NULL, 0.1);
    s->saw_inside = s->inside;
    s->held_after = weft_lock_locked(&s->lock);
    return (void *)(intptr_t)weft_lock_release(&s->lock);
}

static bool contended_entered(void *p)
{
    contended *s = p;
    if (weft_lock_acquire(&s->lock, WEFT_FOREVER) != 0)
        return false;
    if (s->entered)
        return true; /* keep the lock: the waiter is inside wait */
    cr_assert_eq(weft_lock_release(&s->lock), 0);
    return false;
}

Test(cond, timed_out_wait_reacquires_before_returning)
{
    contended s = {WEFT_LOCK_INIT, WEFT_COND_INIT(&s.lock), 0, 0, -1, -1, false};
    pthread_t t = spawn(timing_out_waiter, &s);
    cr_assert(poll_until(contended_entered, &s));
    /* We hold the lock while the waiter's 0.1 s run out (likely, not needed). */
    s.inside = 1;
    nap_ms(300);
    s.inside = 0;
    cr_assert_eq(weft_lock_release(&s.lock), 0);
    void *ret;
    cr_assert_eq(pthread_join(t, &ret), 0);
    cr_assert_null(ret);
    cr_assert_eq(s.rc, ETIMEDOUT, "got %d", s.rc);
    cr_assert_eq(s.saw_inside, 0, "wait returned while another thread held the lock");
    cr_assert(s.held_after);
}

/* ---- Python tutorial: producer/consumer with wait_for -------------------- */

enum { PC_CAP = 4, PC_PRODUCERS = 3, PC_CONSUMERS = 3, PC_ITEMS = 5000 };

typedef struct shop {
    weft_lock lock;
    weft_cond not_empty; /* consumers wait here */
    weft_cond not_full;  /* producers wait here */
    long buf[PC_CAP];    /* guarded by lock, as are the fields below */
    int head;
    int count;
    int producing;
    long consumed_sum;
    long consumed_items;
    int bad;
} shop;

static bool shop_has_room(void *p)
{
    shop *s = p;
    return s->count < PC_CAP;
}

static bool shop_has_item_or_closed(void *p)
{
    shop *s = p;
    return s->count > 0 || s->producing == 0;
}

static void *producer(void *p)
{
    shop *s = p;
    for (long i = 1; i <= PC_ITEMS; i++) {
        if (weft_lock_acquire(&s->lock, WEFT_FOREVER) != 0)
            return (void *)1;
        if (weft_cond_wait_for(&s->not_full, shop_has_room, s, WEFT_FOREVER) != 0 || s->count >= PC_CAP)
            s->bad++;
        s->buf[(s->head + s->count) % PC_CAP] = i;
        s->count++;
        if (weft_cond_notify(&s->not_empty, 1) != 0)
            s->bad++;
        if (weft_lock_release(&s->lock) != 0)
            return (void *)1;
    }
    if (weft_lock_acquire(&s->lock, WEFT_FOREVER) != 0)
        return (void *)1;
    if (--s->producing == 0 && weft_cond_notify_all(&s->not_empty) != 0)
        s->bad++;
    return (void *)(intptr_t)weft_lock_release(&s->lock);
}

static void *consumer(void *p)
{
    shop *s = p;
    for (;;) {
        if (weft_lock_acquire(&s->lock, WEFT_FOREVER) != 0)
            return (void *)1;
        if (weft_cond_wait_for(&s->not_empty, shop_has_item_or_closed, s, WEFT_FOREVER) != 0)
            s->bad++;
        if (s->count == 0) {
            if (s->producing != 0)
                s->bad++;
            return (void *)(intptr_t)weft_lock_release(&s->lock);
        }
        s->consumed_sum += s->buf[s->head];
        s->head = (s->head + 1) % PC_CAP;
        s->count--;
        s->consumed_items++;
        if (weft_cond_notify(&s->not_full, 1) != 0)
            s->bad++;
        if (weft_lock_release(&s->lock) != 0)
            return (void *)1;
    }
}

Test(cond, producer_consumer_with_wait_for)
{
    shop s = {.lock = WEFT_LOCK_INIT, .producing = PC_PRODUCERS};
    cr_assert_eq(weft_cond_init(&s.not_empty, &s.lock), 0);
    cr_assert_eq(weft_cond_init(&s.not_full, &s.lock), 0);
    pthread_t t[PC_PRODUCERS + PC_CONSUMERS];
    for (int i = 0; i < PC_CONSUMERS; i++)
        t[i] = spawn(consumer, &s);
    for (int i = 0; i < PC_PRODUCERS; i++)
        t[PC_CONSUMERS + i] = spawn(producer, &s);
    for (int i = 0; i < PC_PRODUCERS + PC_CONSUMERS; i++) {
        void *ret;
        cr_assert_eq(pthread_join(t[i], &ret), 0);
        cr_assert_null(ret, "thread %d failed to acquire or release", i);
    }
    cr_assert_eq(s.bad, 0, "%d condition calls misbehaved", s.bad);
    cr_assert_eq(s.consumed_items, (long)PC_PRODUCERS * PC_ITEMS);
    cr_assert_eq(s.consumed_sum, (long)PC_PRODUCERS * PC_ITEMS * (PC_ITEMS + 1) / 2);
    cr_assert_eq(s.count, 0);
}
