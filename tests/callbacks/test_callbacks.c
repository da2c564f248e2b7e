/* tests/callbacks/test_callbacks.c: every callback weft runs is called
 * outside weft's internal locks (docs/RELIABILITY.md, "callbacks"), so it may
 * call back into weft, into the very object that called it. One test per
 * kind of callback: future done callbacks (run by completion, by
 * weft_future_cancel, by add_done_callback on a done future, by
 * shutdown(cancel_futures) on both schedulers), weft_local destructors, the
 * Barrier action, the Timer function, the excepthook, the pool initializer,
 * the Condition predicate, the pool's drop and on_task_error hooks. A
 * callback that deadlocked would hang the test until Criterion's timeout
 * kills it. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "weft.h"

/* Assertions from callbacks (which may run on other threads) abort, which
 * Criterion reports as a crash of the test. */
#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                         \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static weft_pool *mkpool(weft_sched_kind kind, size_t workers)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = workers;
    o.scheduler = kind;
    weft_pool *p;
    cr_assert_eq(weft_pool_create(&p, &o), 0);
    return p;
}

static int nap(void *arg, void **result)
{
    (void)result;
    sleep_ms((long)(size_t)arg);
    return 0;
}

/* A task that holds the pool's only worker until released: it sets started
 * once it runs, then waits for release. The tests below used to nap 100 ms
 * and assume their next submissions and the shutdown happened within it,
 * which a loaded machine broke (the worker finished and ran a "queued" task,
 * or had not yet started the busy one). */
static weft_event hold_started, hold_release;

static int hold(void *arg, void **result)
{
    (void)arg;
    (void)result;
    weft_event_set(&hold_started);
    CHECK(weft_event_wait(&hold_release, WEFT_FOREVER) == 0);
    return 0;
}

/* Submits hold to p and returns once the worker runs it. */
static weft_future *occupy(weft_pool *p)
{
    weft_event_init(&hold_started);
    weft_event_init(&hold_release);
    weft_future *busy;
    cr_assert_eq(weft_pool_submit(p, hold, NULL, &busy), 0);
    cr_assert_eq(weft_event_wait(&hold_started, WEFT_FOREVER), 0);
    return busy;
}

static int ret_arg(void *arg, void **result)
{
    *result = arg;
    return 0;
}

/* ---- future callbacks from shutdown(cancel_futures) (issue 10 item 3) ---- */

typedef struct reentry {
    weft_pool *pool;
    bool wait; /* call shutdown(wait = true) from the callback */
    atomic_int calls;
} reentry;

static void shutdown_again(weft_future *f, void *ctx)
{
    reentry *r = ctx;
    CHECK(weft_future_cancelled(f));
    /* Every queued task is cancelled before the first callback runs, so the
     * worker may go on: shutdown(wait) below waits for it. */
    weft_event_set(&hold_release);
    CHECK(weft_pool_shutdown(r->pool, false, true) == 0);
    CHECK(weft_pool_shutdown(r->pool, r->wait, false) == 0);
    CHECK(weft_pool_submit(r->pool, nap, NULL, NULL) == ESHUTDOWN);
    atomic_fetch_add(&r->calls, 1);
}

static void shutdown_from_cancel_callback(weft_sched_kind kind, bool wait)
{
    reentry r = {mkpool(kind, 1), wait, 0};
    weft_future *queued[3];
    /* The only worker is held, so the next submissions stay queued. */
    weft_future *busy = occupy(r.pool);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(weft_pool_submit(r.pool, nap, NULL, &queued[i]), 0);
        cr_assert_eq(weft_future_add_done_callback(queued[i], shutdown_again, &r), 0);
    }
    cr_assert_eq(weft_pool_shutdown(r.pool, false, true), 0);
    cr_assert_eq(atomic_load(&r.calls), 3);
    weft_event_set(&hold_release);
    cr_assert_eq(weft_future_result(busy, WEFT_FOREVER, NULL), 0);
    for (int i = 0; i < 3; i++) {
        cr_assert(weft_future_cancelled(queued[i]));
        weft_future_release(queued[i]);
    }
    weft_future_release(busy);
    weft_pool_destroy(r.pool);
}

Test(callbacks, shutdown_from_cancel_callback_stealing, .timeout = 30)
{
    shutdown_from_cancel_callback(WEFT_SCHED_STEALING, false);
}

Test(callbacks, shutdown_from_cancel_callback_mutex, .timeout = 30)
{
    shutdown_from_cancel_callback(WEFT_SCHED_MUTEX, false);
}

Test(callbacks, shutdown_wait_from_cancel_callback_stealing, .timeout = 30)
{
    shutdown_from_cancel_callback(WEFT_SCHED_STEALING, true);
}

Test(callbacks, shutdown_wait_from_cancel_callback_mutex, .timeout = 30)
{
    shutdown_from_cancel_callback(WEFT_SCHED_MUTEX, true);
}

/* ---- future callbacks from completion, cancel and add ------------------- */

typedef struct fut_ctx {
    weft_pool *pool;
    atomic_int calls;
    weft_future *spawned;
} fut_ctx;

static void count_cb(weft_future *f, void *ctx)
{
    (void)f;
    atomic_fetch_add(&((fut_ctx *)ctx)->calls, 1);
}

static void reenter_future(weft_future *f, void *ctx)
{
    fut_ctx *c = ctx;
    void *res = (void *)1;
    CHECK(weft_future_done(f));
    /* The same future: its outcome, another callback (runs at once), a
     * cancel (too late), a reference. */
    int rc = weft_future_result(f, 0, &res);
    CHECK(rc == 0 || rc == ECANCELED);
    CHECK(weft_future_add_done_callback(f, count_cb, c) == 0);
    CHECK(!weft_future_cancel(f) || weft_future_cancelled(f));
    weft_future_release(weft_future_retain(f));
    /* The pool: more work, waited for from wherever the callback runs (a
     * worker helps, an outside thread blocks). */
    weft_future *g;
    CHECK(weft_pool_submit(c->pool, ret_arg, (void *)5, &g) == 0);
    CHECK(weft_future_result(g, WEFT_FOREVER, &res) == 0 && res == (void *)5);
    weft_future_release(g);
    atomic_fetch_add(&c->calls, 1);
}

Test(callbacks, future_callbacks_reenter, .timeout = 30)
{
    for (int k = 0; k < 2; k++) {
        fut_ctx c = {mkpool(k == 0 ? WEFT_SCHED_STEALING : WEFT_SCHED_MUTEX, 2), 0, NULL};
        /* Run by the completing worker. */
        weft_future *f;
        cr_assert_eq(weft_pool_submit(c.pool, nap, (void *)(size_t)30, &f), 0);
        cr_assert_eq(weft_future_add_done_callback(f, reenter_future, &c), 0);
        cr_assert_eq(weft_future_wait(f, WEFT_FOREVER), 0);
        /* The callbacks run after waiters are woken: wait for them. */
        for (int i = 0; i < 1000 && atomic_load(&c.calls) < 2; i++)
            sleep_ms(5);
        cr_assert_eq(atomic_load(&c.calls), 2);
        /* Run at once by add_done_callback on a done future. */
        cr_assert_eq(weft_future_add_done_callback(f, reenter_future, &c), 0);
        cr_assert_eq(atomic_load(&c.calls), 4);
        weft_future_release(f);
        /* Run by weft_future_cancel in this thread. */
        weft_future *queued;
        weft_pool *one = mkpool(WEFT_SCHED_STEALING, 1);
        weft_future *busy = occupy(one);
        cr_assert_eq(weft_pool_submit(one, nap, NULL, &queued), 0);
        cr_assert_eq(weft_future_add_done_callback(queued, reenter_future, &c), 0);
        cr_assert(weft_future_cancel(queued));
        cr_assert_eq(atomic_load(&c.calls), 6);
        weft_event_set(&hold_release);
        weft_future_release(queued);
        weft_future_release(busy);
        weft_pool_destroy(one);
        weft_pool_destroy(c.pool);
    }
}

/* ---- weft_local destructors ---------------------------------------------- */

static weft_local loc_a, loc_b;
static atomic_int dtor_calls;

static int child_ok(void *arg)
{
    (void)arg;
    return 0;
}

static void dtor_b(void *v)
{
    (void)v;
    atomic_fetch_add(&dtor_calls, 1);
}

static void dtor_a(void *v)
{
    CHECK(v == (void *)1);
    /* Locals: read, set another one (destroyed in a later pass), make and
     * drop a third. */
    CHECK(weft_local_get(&loc_a) == NULL);
    CHECK(weft_local_set(&loc_b, (void *)2) == 0);
    weft_local tmp;
    CHECK(weft_local_init(&tmp, NULL) == 0);
    weft_local_deinit(&tmp);
    /* The registry: this thread is still listed and alive. */
    weft_thread *me = weft_current_thread();
    CHECK(weft_thread_is_alive(me));
    CHECK(weft_active_count() >= 2);
    CHECK(weft_thread_set_name(me, "renamed-in-dtor") == 0);
    /* A thread started and joined from the destructor. */
    weft_thread *t;
    CHECK(weft_thread_create(&t, child_ok, NULL, NULL) == 0);
    CHECK(weft_thread_start(t) == 0);
    CHECK(weft_thread_join(t, WEFT_FOREVER) == 0);
    weft_thread_destroy(t);
    atomic_fetch_add(&dtor_calls, 1);
}

static int set_locals(void *arg)
{
    (void)arg;
    CHECK(weft_local_set(&loc_a, (void *)1) == 0);
    return 0;
}

Test(callbacks, local_destructor_reenters, .timeout = 30)
{
    cr_assert_eq(weft_local_init(&loc_a, dtor_a), 0);
    cr_assert_eq(weft_local_init(&loc_b, dtor_b), 0);
    weft_thread *t;
    cr_assert_eq(weft_thread_create(&t, set_locals, NULL, NULL), 0);
    cr_assert_eq(weft_thread_start(t), 0);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    cr_assert_eq(atomic_load(&dtor_calls), 2);
    cr_assert_str_eq(weft_thread_name(t), "renamed-in-dtor");
    weft_thread_destroy(t);
    weft_local_deinit(&loc_a);
    weft_local_deinit(&loc_b);
}

/* ---- the Barrier action -------------------------------------------------- */

static weft_barrier bar;
static weft_pool *bar_pool;
static atomic_int actions;

static void bar_action(void *ctx)
{
    (void)ctx;
    CHECK(weft_barrier_parties(&bar) == 3);
    CHECK(!weft_barrier_broken(&bar));
    (void)weft_barrier_n_waiting(&bar);
    weft_future *f;
    void *res = NULL;
    CHECK(weft_pool_submit(bar_pool, ret_arg, (void *)9, &f) == 0);
    CHECK(weft_future_result(f, WEFT_FOREVER, &res) == 0 && res == (void *)9);
    weft_future_release(f);
    atomic_fetch_add(&actions, 1);
}

static int bar_party(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++)
        CHECK(weft_barrier_wait(&bar, WEFT_FOREVER, NULL) == 0);
    return 0;
}

Test(callbacks, barrier_action_reenters, .timeout = 30)
{
    bar_pool = mkpool(WEFT_SCHED_STEALING, 2);
    cr_assert_eq(weft_barrier_init(&bar, 3, bar_action, NULL, WEFT_FOREVER), 0);
    weft_thread *t[2];
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(weft_thread_create(&t[i], bar_party, NULL, NULL), 0);
        cr_assert_eq(weft_thread_start(t[i]), 0);
    }
    bar_party(NULL);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(weft_thread_join(t[i], WEFT_FOREVER), 0);
        weft_thread_destroy(t[i]);
    }
    cr_assert_eq(atomic_load(&actions), 20);
    weft_pool_destroy(bar_pool);
}

static void abort_action(void *ctx)
{
    weft_barrier_abort(ctx);
}

Test(callbacks, barrier_action_aborts_its_barrier, .timeout = 30)
{
    weft_barrier b;
    cr_assert_eq(weft_barrier_init(&b, 1, abort_action, &b, WEFT_FOREVER), 0);
    int rc = weft_barrier_wait(&b, WEFT_FOREVER, NULL);
    cr_assert(rc == 0 || rc == EPIPE, "rc %d", rc);
    cr_assert(weft_barrier_broken(&b));
    weft_barrier_reset(&b);
    cr_assert(!weft_barrier_broken(&b));
}

/* ---- the Timer function -------------------------------------------------- */

static weft_timer *tm, *tm2;
static weft_event tm_done;

static void second_fired(void *arg)
{
    (void)arg;
    weft_event_set(&tm_done);
}

static void timer_fn(void *arg)
{
    (void)arg;
    /* Its own timer: too late to cancel; its thread is the current one and
     * cannot join itself. */
    CHECK(!weft_timer_cancel(tm));
    CHECK(weft_timer_thread(tm) == weft_current_thread());
    CHECK(weft_timer_join(tm, 0) == EDEADLK);
    /* Another timer, started from this one. */
    CHECK(weft_timer_create(&tm2, 0.01, second_fired, NULL) == 0);
    CHECK(weft_timer_start(tm2) == 0);
}

Test(callbacks, timer_function_reenters, .timeout = 30)
{
    weft_event_init(&tm_done);
    cr_assert_eq(weft_timer_create(&tm, 0.01, timer_fn, NULL), 0);
    cr_assert_eq(weft_timer_start(tm), 0);
    cr_assert_eq(weft_timer_join(tm, WEFT_FOREVER), 0);
    cr_assert_eq(weft_event_wait(&tm_done, 10), 0);
    weft_timer_destroy(tm2);
    weft_timer_destroy(tm);
}

/* ---- the excepthook ------------------------------------------------------ */

static atomic_int hook_calls;

static void hook(weft_thread *t, int code)
{
    CHECK(code == EIO);
    CHECK(t == weft_current_thread());
    CHECK(weft_thread_join(t, 0) == EDEADLK);
    weft_thread *all[16];
    CHECK(weft_enumerate(all, 16) >= 2);
    CHECK(weft_thread_set_name(t, "hooked") == 0);
    /* Replace the hook from inside it, and start a thread. */
    weft_set_excepthook(hook);
    weft_thread *c;
    CHECK(weft_thread_create(&c, child_ok, NULL, NULL) == 0);
    CHECK(weft_thread_start(c) == 0);
    CHECK(weft_thread_join(c, WEFT_FOREVER) == 0);
    weft_thread_destroy(c);
    atomic_fetch_add(&hook_calls, 1);
}

static int fails(void *arg)
{
    (void)arg;
    return EIO;
}

Test(callbacks, excepthook_reenters, .timeout = 30)
{
    weft_set_excepthook(hook);
    weft_thread *t;
    cr_assert_eq(weft_thread_create(&t, fails, NULL, NULL), 0);
    cr_assert_eq(weft_thread_start(t), 0);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    weft_set_excepthook(NULL);
    cr_assert_eq(atomic_load(&hook_calls), 1);
    cr_assert_str_eq(weft_thread_name(t), "hooked");
    cr_assert_eq(weft_thread_exit_code(t), EIO);
    weft_thread_destroy(t);
}

/* ---- the pool initializer ------------------------------------------------ */

static int init_makes_a_pool(void *arg)
{
    atomic_int *n = arg;
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 1;
    weft_pool *inner;
    CHECK(weft_pool_create(&inner, &o) == 0);
    weft_future *f;
    void *res = NULL;
    CHECK(weft_pool_submit(inner, ret_arg, (void *)3, &f) == 0);
    CHECK(weft_future_result(f, WEFT_FOREVER, &res) == 0 && res == (void *)3);
    weft_future_release(f);
    weft_pool_destroy(inner);
    atomic_fetch_add(n, 1);
    return 0;
}

Test(callbacks, initializer_reenters, .timeout = 30)
{
    atomic_int n = 0;
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 2;
    o.initializer = init_makes_a_pool;
    o.initarg = &n;
    weft_pool *p;
    cr_assert_eq(weft_pool_create(&p, &o), 0);
    weft_future *f;
    cr_assert_eq(weft_pool_submit(p, nap, NULL, &f), 0);
    cr_assert_eq(weft_future_result(f, WEFT_FOREVER, NULL), 0);
    weft_future_release(f);
    weft_pool_destroy(p);
    cr_assert_eq(atomic_load(&n), 2);
}

/* ---- the Condition predicate --------------------------------------------- */

static weft_lock cv_lock = WEFT_LOCK_INIT;
static weft_cond cv;
static int cv_calls;

static bool pred_notifies(void *ctx)
{
    (void)ctx;
    CHECK(weft_lock_locked(&cv_lock));
    CHECK(weft_cond_notify_all(&cv) == 0);
    CHECK(weft_cond_notify(&cv, 1) == 0);
    return ++cv_calls >= 2;
}

Test(callbacks, cond_predicate_reenters, .timeout = 30)
{
    cr_assert_eq(weft_cond_init(&cv, &cv_lock), 0);
    cr_assert_eq(weft_lock_acquire(&cv_lock, WEFT_FOREVER), 0);
    /* false, a wait that times out, then true at the deadline check. */
    cr_assert_eq(weft_cond_wait_for(&cv, pred_notifies, NULL, 0.05), 0);
    cr_assert_eq(cv_calls, 2);
    cr_assert_eq(weft_lock_release(&cv_lock), 0);
}

/* ---- the pool's drop and on_task_error hooks ----------------------------- */

static weft_pool *hook_pool;
static atomic_int drops, task_errors;

static void drop_reenters(void *arg)
{
    (void)arg;
    weft_event_set(&hold_release); /* every queued task is dropped by now */
    CHECK(weft_pool_shutdown(hook_pool, false, true) == 0);
    CHECK(weft_pool_submit(hook_pool, nap, NULL, NULL) == ESHUTDOWN);
    weft_pool_counters c;
    CHECK(weft_pool_stats(hook_pool, &c, NULL, 0) == 0);
    atomic_fetch_add(&drops, 1);
}

Test(callbacks, drop_hook_reenters, .timeout = 30)
{
    for (int k = 0; k < 2; k++) {
        weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
        o.max_workers = 1;
        o.scheduler = k == 0 ? WEFT_SCHED_STEALING : WEFT_SCHED_MUTEX;
        o.drop = drop_reenters;
        cr_assert_eq(weft_pool_create(&hook_pool, &o), 0);
        atomic_store(&drops, 0);
        weft_future *busy = occupy(hook_pool);
        for (int i = 0; i < 3; i++)
            cr_assert_eq(weft_pool_submit(hook_pool, nap, NULL, NULL), 0);
        cr_assert_eq(weft_pool_shutdown(hook_pool, true, true), 0);
        cr_assert_eq(atomic_load(&drops), 3);
        weft_future_release(busy);
        weft_pool_destroy(hook_pool);
    }
}

static int fails_task(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return EIO;
}

static void error_reenters(void *ctx, void *arg, int code)
{
    CHECK(ctx == &hook_pool && code == EIO);
    (void)arg;
    /* More work from the hook, on the worker, waited for by helping. */
    weft_future *f;
    void *res = NULL;
    CHECK(weft_pool_submit(hook_pool, ret_arg, (void *)4, &f) == 0);
    CHECK(weft_future_result(f, WEFT_FOREVER, &res) == 0 && res == (void *)4);
    weft_future_release(f);
    atomic_fetch_add(&task_errors, 1);
}

Test(callbacks, on_task_error_hook_reenters, .timeout = 30)
{
    for (int k = 0; k < 2; k++) {
        weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
        o.max_workers = 2;
        o.scheduler = k == 0 ? WEFT_SCHED_STEALING : WEFT_SCHED_MUTEX;
        o.on_task_error = error_reenters;
        o.on_task_error_ctx = &hook_pool;
        cr_assert_eq(weft_pool_create(&hook_pool, &o), 0);
        atomic_store(&task_errors, 0);
        for (int i = 0; i < 4; i++)
            cr_assert_eq(weft_pool_submit(hook_pool, fails_task, NULL, NULL), 0);
        /* Before destroy: after shutdown even the pool's own workers may
         * not submit (Python refuses submit after shutdown everywhere). */
        for (int i = 0; i < 2000 && atomic_load(&task_errors) < 4; i++)
            sleep_ms(5);
        cr_assert_eq(atomic_load(&task_errors), 4);
        weft_pool_destroy(hook_pool);
    }
}
