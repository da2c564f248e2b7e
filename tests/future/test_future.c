/* tests/future/test_future.c: weft_future, as_completed and wait, driven by
 * hand through the internal half (future_impl.h) from plain pthreads, so no
 * pool is needed. Timing checks use generous bounds only. */
#include <criterion/criterion.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal/atomics.h"
#include "pool/future_impl.h"
#include "weft/future.h"

/* ---- helpers ------------------------------------------------------------ */

/* Criterion's assertions may only fail on the test's own thread; helper
 * threads and callbacks (which run on whichever thread completes a future)
 * crash the test process instead, which Criterion reports as a failure. */
#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                         \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

static weft_future *mk(void)
{
    weft_future *f = weft__future_create();
    cr_assert_not_null(f);
    return f;
}

/* Drop both references a fresh future starts with (pool + submitter). */
static void drop(weft_future *f)
{
    weft_future_release(f);
    weft_future_release(f);
}

static void run_to(weft_future *f, int code, void *result)
{
    CHECK(weft__future_start(f));
    weft__future_finish(f, code, result);
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static double now_s(void)
{
    return (double)weft__now_ns() * 1e-9;
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, fn, arg), 0);
    return t;
}

static void join(pthread_t t)
{
    cr_assert_eq(pthread_join(t, NULL), 0);
}

static int tag[8]; /* distinct result pointers */

/* A thread that sleeps, then finishes or cancels a list of futures in order. */
typedef struct script {
    weft_future **fs;
    size_t n;
    double delay;     /* before each step */
    bool cancel;      /* cancel instead of finishing */
    int code;         /* code to finish with */
    pthread_t thread; /* the script thread, recorded by itself */
} script;

static void *run_script(void *arg)
{
    script *s = arg;
    s->thread = pthread_self();
    for (size_t i = 0; i < s->n; i++) {
        sleep_s(s->delay);
        if (s->cancel)
            CHECK(weft_future_cancel(s->fs[i]));
        else
            run_to(s->fs[i], s->code, &tag[i % 8]);
    }
    return NULL;
}

/* ---- states and outcomes ------------------------------------------------- */

Test(future, fresh_future_is_pending)
{
    weft_future *f = mk();
    cr_expect_not(weft_future_done(f));
    cr_expect_not(weft_future_running(f));
    cr_expect_not(weft_future_cancelled(f));
    void *r = &tag[0];
    cr_expect_eq(weft_future_result(f, 0, &r), ETIMEDOUT);
    cr_expect_eq(r, &tag[0], "result must not be written on a timeout");
    cr_expect_eq(weft_future_exception(f, 0), ETIMEDOUT);
    cr_expect_eq(weft_future_wait(f, -1), ETIMEDOUT);
    drop(f);
}

Test(future, start_then_finish_success)
{
    weft_future *f = mk();
    cr_assert(weft__future_start(f));
    cr_expect(weft_future_running(f));
    cr_expect_not(weft_future_done(f));
    cr_expect_not(weft_future_cancel(f), "a running future cannot be cancelled");
    cr_expect(weft_future_running(f));
    weft__future_finish(f, 0, &tag[3]);
    cr_expect(weft_future_done(f));
    cr_expect_not(weft_future_running(f));
    cr_expect_not(weft_future_cancelled(f));
    void *r = NULL;
    cr_expect_eq(weft_future_result(f, 0, &r), 0, "a known outcome is returned even with timeout 0");
    cr_expect_eq(r, &tag[3]);
    cr_expect_eq(weft_future_result(f, WEFT_FOREVER, NULL), 0);
    cr_expect_eq(weft_future_exception(f, 0), 0);
    cr_expect_eq(weft_future_wait(f, 0), 0);
    cr_expect_not(weft_future_cancel(f), "a finished future cannot be cancelled");
    cr_expect_not(weft_future_cancelled(f));
    drop(f);
}

Test(future, finish_with_error_code)
{
    weft_future *f = mk();
    run_to(f, EIO, &tag[1]);
    void *r = &tag[0];
    cr_expect_eq(weft_future_result(f, 1, &r), EIO);
    cr_expect_eq(r, &tag[0], "result is not written when the task failed");
    cr_expect_eq(weft_future_exception(f, 1), EIO);
    cr_expect(weft_future_done(f));
    cr_expect_not(weft_future_cancelled(f));
    drop(f);
}

Test(future, cancel_pending)
{
    weft_future *f = mk();
    cr_expect(weft_future_cancel(f));
    cr_expect(weft_future_cancelled(f));
    cr_expect(weft_future_done(f));
    cr_expect_not(weft_future_running(f));
    cr_expect(weft_future_cancel(f), "cancelling twice still says it will never run");
    cr_expect(weft__future_cancel_if_pending(f));
    void *r = &tag[0];
    cr_expect_eq(weft_future_result(f, WEFT_FOREVER, &r), ECANCELED);
    cr_expect_eq(r, &tag[0]);
    cr_expect_eq(weft_future_exception(f, 0), ECANCELED);
    cr_expect_eq(weft_future_wait(f, 0), 0);
    cr_expect_not(weft__future_start(f), "the pool must not run a cancelled task");
    drop(f);
}

Test(future, exception_ambiguity_is_resolved_by_wait)
{
    weft_future *f = mk();
    run_to(f, ETIMEDOUT, NULL);
    cr_expect_eq(weft_future_wait(f, 0), 0, "wait reports only on waiting");
    cr_expect_not(weft_future_cancelled(f));
    cr_expect_eq(weft_future_exception(f, 0), ETIMEDOUT, "the task's own ETIMEDOUT");
    drop(f);
}

Test(future, bad_arguments)
{
    weft_future *f = mk();
    void *r = NULL;
    cr_expect_eq(weft_future_result(NULL, 0, &r), EINVAL);
    cr_expect_eq(weft_future_result(f, NAN, &r), EINVAL);
    cr_expect_eq(weft_future_exception(NULL, 0), EINVAL);
    cr_expect_eq(weft_future_exception(f, NAN), EINVAL);
    cr_expect_eq(weft_future_wait(NULL, 0), EINVAL);
    cr_expect_eq(weft_future_wait(f, NAN), EINVAL);
    cr_expect_eq(weft_future_add_done_callback(NULL, NULL, NULL), EINVAL);
    cr_expect_eq(weft_future_add_done_callback(f, NULL, NULL), EINVAL);
    cr_expect_not(weft_future_cancel(NULL));
    cr_expect_not(weft_future_cancelled(NULL));
    cr_expect_not(weft_future_running(NULL));
    cr_expect_not(weft_future_done(NULL));
    cr_expect_null(weft_future_retain(NULL));
    weft_future_release(NULL);
    cr_expect_not(weft_future_done(f), "bad calls leave the future untouched");
    run_to(f, 0, NULL);
    cr_expect_eq(weft_future_result(f, NAN, &r), EINVAL, "NaN is EINVAL even when done");
    drop(f);
}

Test(future, retain_and_release)
{
    weft_future *f = mk();
    cr_expect_eq(weft_future_retain(f), f);
    cr_expect_eq(weft_future_retain(f), f);
    weft_future_release(f);
    weft_future_release(f);
    run_to(f, 0, &tag[2]);
    weft_future_release(f);
    void *r = NULL;
    cr_expect_eq(weft_future_result(f, 0, &r), 0, "one reference left: still valid");
    cr_expect_eq(r, &tag[2]);
    weft_future_release(f); /* the last one frees it (ASan: no leak, no double free) */
}

/* ---- blocking ------------------------------------------------------------ */

Test(future, result_times_out_within_bounds)
{
    weft_future *f = mk();
    double t0 = now_s();
    cr_expect_eq(weft_future_result(f, 0.1, NULL), ETIMEDOUT);
    double dt = now_s() - t0;
    cr_expect_geq(dt, 0.1);
    cr_expect_lt(dt, 2.0);
    t0 = now_s();
    cr_expect_eq(weft_future_exception(f, 0.05), ETIMEDOUT);
    dt = now_s() - t0;
    cr_expect_geq(dt, 0.05);
    cr_expect_lt(dt, 2.0);
    cr_expect_not(weft_future_done(f));
    drop(f);
}

Test(future, result_waits_for_finish)
{
    weft_future *f = mk();
    script s = {&f, 1, 0.05, false, 0, 0};
    pthread_t t = spawn(run_script, &s);
    void *r = NULL;
    cr_expect_eq(weft_future_result(f, WEFT_FOREVER, &r), 0);
    cr_expect_eq(r, &tag[0]);
    join(t);
    drop(f);
}

Test(future, result_with_timeout_waits_for_finish)
{
    weft_future *f = mk();
    script s = {&f, 1, 0.05, false, EPIPE, 0};
    pthread_t t = spawn(run_script, &s);
    cr_expect_eq(weft_future_result(f, 30, NULL), EPIPE);
    join(t);
    drop(f);
}

typedef struct waiter_arg {
    weft_future *f;
    double timeout;
    int rc;
    void *r;
} waiter_arg;

static void *waiter(void *arg)
{
    waiter_arg *w = arg;
    w->rc = weft_future_result(w->f, w->timeout, &w->r);
    return NULL;
}

Test(future, many_waiters_all_wake)
{
    weft_future *f = mk();
    waiter_arg w[6];
    pthread_t t[6];
    for (int i = 0; i < 6; i++) {
        w[i] = (waiter_arg){f, i % 2 ? WEFT_FOREVER : 60.0, -1, NULL};
        t[i] = spawn(waiter, &w[i]);
    }
    sleep_s(0.05);
    run_to(f, 0, &tag[5]);
    for (int i = 0; i < 6; i++) {
        join(t[i]);
        cr_expect_eq(w[i].rc, 0);
        cr_expect_eq(w[i].r, &tag[5]);
    }
    drop(f);
}

Test(future, cancel_wakes_waiters)
{
    weft_future *f = mk();
    waiter_arg w[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        w[i] = (waiter_arg){f, WEFT_FOREVER, -1, NULL};
        t[i] = spawn(waiter, &w[i]);
    }
    script s = {&f, 1, 0.05, true, 0, 0};
    pthread_t c = spawn(run_script, &s);
    for (int i = 0; i < 3; i++) {
        join(t[i]);
        cr_expect_eq(w[i].rc, ECANCELED);
    }
    join(c);
    drop(f);
}

/* ---- done callbacks ------------------------------------------------------ */

typedef struct cb_log {
    _Atomic int n;
    int order[16];
    pthread_t thread[16];
    bool saw_done[16];
} cb_log;

typedef struct cb_arg {
    cb_log *log;
    int id;
} cb_arg;

static void record(weft_future *f, void *ctx)
{
    cb_arg *a = ctx;
    int k = atomic_fetch_add_explicit(&a->log->n, 1, memory_order_relaxed);
    CHECK(k < 16);
    a->log->order[k] = a->id;
    a->log->thread[k] = pthread_self();
    a->log->saw_done[k] = weft_future_done(f);
}

Test(future, callbacks_run_once_in_order_in_finishing_thread)
{
    weft_future *f = mk();
    cb_log log = {0};
    cb_arg a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (cb_arg){&log, i};
        cr_assert_eq(weft_future_add_done_callback(f, record, &a[i]), 0);
    }
    cr_expect_eq(atomic_load(&log.n), 0, "callbacks wait for completion");
    script s = {&f, 1, 0.01, false, 0, 0};
    pthread_t t = spawn(run_script, &s);
    join(t);
    cr_assert_eq(atomic_load(&log.n), 4);
    for (int i = 0; i < 4; i++) {
        cr_expect_eq(log.order[i], i, "registration order");
        cr_expect(pthread_equal(log.thread[i], s.thread), "run by the finishing thread");
        cr_expect(log.saw_done[i]);
    }
    cb_arg late = {&log, 9};
    cr_assert_eq(weft_future_add_done_callback(f, record, &late), 0);
    cr_assert_eq(atomic_load(&log.n), 5, "already done: runs at once");
    cr_expect_eq(log.order[4], 9);
    cr_expect(pthread_equal(log.thread[4], pthread_self()), "in the caller");
    drop(f);
    cr_expect_eq(atomic_load(&log.n), 5, "no callback runs twice");
}

Test(future, callbacks_run_on_cancel_in_cancelling_thread)
{
    weft_future *f = mk();
    cb_log log = {0};
    cb_arg a[2] = {{&log, 0}, {&log, 1}};
    cr_assert_eq(weft_future_add_done_callback(f, record, &a[0]), 0);
    cr_assert_eq(weft_future_add_done_callback(f, record, &a[1]), 0);
    cr_assert(weft_future_cancel(f));
    cr_assert_eq(atomic_load(&log.n), 2, "cancel runs the callbacks before returning");
    cr_expect_eq(log.order[0], 0);
    cr_expect_eq(log.order[1], 1);
    cr_expect(pthread_equal(log.thread[0], pthread_self()));
    cr_expect(log.saw_done[0]);
    cr_assert(weft_future_cancel(f));
    cr_expect_eq(atomic_load(&log.n), 2, "a second cancel runs nothing");
    drop(f);
}

static void release_cb(weft_future *f, void *ctx)
{
    _Atomic int *n = ctx;
    atomic_fetch_add(n, 1);
    weft_future_release(f);
}

Test(future, callback_may_release_its_reference)
{
    weft_future *f = mk();
    _Atomic int n = 0;
    cr_assert_eq(weft_future_add_done_callback(weft_future_retain(f), release_cb, &n), 0);
    weft_future_release(f); /* the submitter lets go: the callback owns one */
    cr_assert(weft__future_start(f));
    weft__future_finish(f, 0, NULL);
    cr_expect_eq(atomic_load(&n), 1);
    weft_future_release(f); /* the pool's reference, the last */
}

static void readd_cb(weft_future *f, void *ctx)
{
    cb_arg *a = ctx;
    CHECK(weft_future_add_done_callback(f, record, a) == 0);
}

Test(future, callback_may_add_a_callback)
{
    weft_future *f = mk();
    cb_log log = {0};
    cb_arg inner = {&log, 7};
    cr_assert_eq(weft_future_add_done_callback(f, readd_cb, &inner), 0);
    run_to(f, 0, NULL);
    cr_expect_eq(atomic_load(&log.n), 1, "the nested callback ran at once");
    cr_expect_eq(log.order[0], 7);
    drop(f);
}

static void read_result_cb(weft_future *f, void *ctx)
{
    void **out = ctx;
    CHECK(weft_future_result(f, 0, out) == 0);
}

Test(future, callback_sees_the_result)
{
    weft_future *f = mk();
    void *r = NULL;
    cr_assert_eq(weft_future_add_done_callback(f, read_result_cb, &r), 0);
    run_to(f, 0, &tag[4]);
    cr_expect_eq(r, &tag[4]);
    drop(f);
}

Test(future, unfinished_future_drops_callbacks_on_free)
{
    weft_future *f = mk();
    cb_log log = {0};
    cb_arg a = {&log, 0};
    cr_assert_eq(weft_future_add_done_callback(f, record, &a), 0);
    drop(f); /* never completed: the node is freed (ASan: no leak), not run */
    cr_expect_eq(atomic_load(&log.n), 0);
}

/* ---- as_completed -------------------------------------------------------- */

static void mk_n(weft_future **fs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fs[i] = mk();
}

static void drop_n(weft_future **fs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        drop(fs[i]);
}

Test(as_completed, yields_in_completion_order)
{
    weft_future *fs[4];
    mk_n(fs, 4);
    weft_as_completed *it;
    cr_assert_eq(weft_as_completed_begin(&it, fs, 4, WEFT_FOREVER), 0);
    int order[4] = {2, 0, 3, 1};
    for (int i = 0; i < 4; i++)
        run_to(fs[order[i]], 0, NULL);
    weft_future *f;
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(weft_as_completed_next(it, &f), 0);
        cr_expect_eq(f, fs[order[i]]);
        cr_expect(weft_future_done(f));
    }
    cr_expect_eq(weft_as_completed_next(it, &f), ENOENT);
    cr_expect_eq(weft_as_completed_next(it, &f), ENOENT);
    weft_as_completed_end(it);
    drop_n(fs, 4);
}

Test(as_completed, done_ones_first_in_input_order)
{
    weft_future *fs[4];
    mk_n(fs, 4);
    run_to(fs[3], 0, NULL);
    cr_assert(weft_future_cancel(fs[1]));
    weft_as_completed *it;
    cr_assert_eq(weft_as_completed_begin(&it, fs, 4, WEFT_FOREVER), 0);
    run_to(fs[2], 0, NULL);
    run_to(fs[0], 0, NULL);
    weft_future *expect[4] = {fs[1], fs[3], fs[2], fs[0]};
    weft_future *f;
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(weft_as_completed_next(it, &f), 0);
        cr_expect_eq(f, expect[i], "position %d", i);
    }
    cr_expect_eq(weft_as_completed_next(it, &f), ENOENT);
    weft_as_completed_end(it);
    drop_n(fs, 4);
}

Test(as_completed, blocks_until_a_thread_finishes_them)
{
    weft_future *fs[5];
    mk_n(fs, 5);
    weft_future *order[5] = {fs[4], fs[1], fs[0], fs[3], fs[2]};
    weft_as_completed *it;
    cr_assert_eq(weft_as_completed_begin(&it, fs, 5, WEFT_FOREVER), 0);
    script s = {order, 5, 0.01, false, 0, 0};
    pthread_t t = spawn(run_script, &s);
    weft_future *f;
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(weft_as_completed_next(it, &f), 0);
        cr_expect_eq(f, order[i], "one thread finishes them in sequence: that is the completion order");
    }
    cr_expect_eq(weft_as_completed_next(it, &f), ENOENT);
    join(t);
    weft_as_completed_end(it);
    drop_n(fs, 5);
}

Test(as_completed, duplicates_are_yielded_once)
{
    weft_future *a = mk(), *b = mk(), *c = mk();
    run_to(b, 0, NULL);
    weft_future *fs[7] = {a, b, a, a, b, c, a};
    weft_as_completed *it;
    cr_assert_eq(weft_as_completed_begin(&it, fs, 7, 5.0), 0);
    run_to(a, 0, NULL);
    cr_assert(weft_future_cancel(c));
    weft_future *f;
    cr_assert_eq(weft_as_completed_next(it, &f), 0);
    cr_expect_eq(f, b);
    cr_assert_eq(weft_as_completed_next(it, &f), 0);
    cr_expect_eq(f, a);
    cr_assert_eq(weft_as_completed_next(it, &f), 0);
    cr_expect_eq(f, c);
    cr_expect_eq(weft_as_completed_next(it, &f), ENOENT);
    weft_as_completed_end(it);
    drop(a);
    drop(b);
    drop(c);
}

Test(as_completed, deadline_covers_the_whole_iteration)
{
    weft_future *fs[3];
    mk_n(fs, 3);
    run_to(fs[0], 0, NULL);
    weft_as_completed *it;
    double t0 = now_s();
    cr_assert_eq(weft_as_completed_begin(&it, fs, 3, 0.1), 0);
    weft_future *f;
    cr_assert_eq(weft_as_completed_next(it, &f), 0);
    cr_expect_eq(f, fs[0]);
    cr_expect_eq(weft_as_completed_next(it, &f), ETIMEDOUT);
    double dt = now_s() - t0;
    cr_expect_geq(dt, 0.1);
    cr_expect_lt(dt, 2.0);
    t0 = now_s();
    cr_expect_eq(weft_as_completed_next(it, &f), ETIMEDOUT, "past the deadline: no new wait");
    cr_expect_lt(now_s() - t0, 1.0);
    run_to(fs[2], 0, NULL);
    cr_assert_eq(weft_as_completed_next(it, &f), 0, "a done future is still yielded");
    cr_expect_eq(f, fs[2]);
    cr_expect_eq(weft_as_completed_next(it, &f), ETIMEDOUT);
    weft_as_completed_end(it);
    drop_n(fs, 3);
}

Test(as_completed, zero_timeout_never_blocks)
{
    weft_future *fs[2];
    mk_n(fs, 2);
    run_to(fs[1], 0, NULL);
    weft_as_completed *it;
    cr_assert_eq(weft_as_completed_begin(&it, fs, 2, 0), 0);
    weft_future *f;
    cr_assert_eq(weft_as_completed_next(it, &f), 0);
    cr_expect_eq(f, fs[1]);
    cr_expect_eq(weft_as_completed_next(it, &f), ETIMEDOUT);
    weft_as_completed_end(it);
    drop_n(fs, 2);
}

Test(as_completed, bad_arguments_and_empty)
{
    weft_future *fs[2];
    mk_n(fs, 2);
    weft_as_completed *it = NULL;
    cr_expect_eq(weft_as_completed_begin(NULL, fs, 2, 1), EINVAL);
    cr_expect_eq(weft_as_completed_begin(&it, NULL, 2, 1), EINVAL);
    cr_expect_eq(weft_as_completed_begin(&it, fs, 2, NAN), EINVAL);
    weft_future *with_null[3] = {fs[0], NULL, fs[1]};
    cr_expect_eq(weft_as_completed_begin(&it, with_null, 3, 1), EINVAL);
    cr_expect_null(it, "failures leave *it untouched");
    cr_assert_eq(weft_as_completed_begin(&it, NULL, 0, WEFT_FOREVER), 0);
    weft_future *f;
    cr_expect_eq(weft_as_completed_next(it, &f), ENOENT, "nothing to yield: no wait");
    cr_expect_eq(weft_as_completed_next(it, NULL), EINVAL);
    cr_expect_eq(weft_as_completed_next(NULL, &f), EINVAL);
    weft_as_completed_end(it);
    weft_as_completed_end(NULL);
    drop_n(fs, 2);
}

Test(as_completed, end_before_completion_unhooks)
{
    weft_future *fs[3];
    mk_n(fs, 3);
    cb_log log = {0};
    cb_arg a = {&log, 1};
    cr_assert_eq(weft_future_add_done_callback(fs[1], record, &a), 0);
    weft_as_completed *it;
    cr_assert_eq(weft_as_completed_begin(&it, fs, 3, WEFT_FOREVER), 0);
    weft_as_completed_end(it);
    /* The iterator is gone: completing must not touch it (ASan would see a
     * use after free) and must still run the user's callback. */
    run_to(fs[0], 0, NULL);
    cr_assert(weft_future_cancel(fs[1]));
    run_to(fs[2], 0, NULL);
    cr_expect_eq(atomic_load(&log.n), 1);
    drop_n(fs, 3);
}

Test(as_completed, iterator_keeps_futures_alive)
{
    weft_future *fs[2];
    mk_n(fs, 2);
    weft_as_completed *it;
    cr_assert_eq(weft_as_completed_begin(&it, fs, 2, WEFT_FOREVER), 0);
    weft_future_release(fs[0]); /* the submitter lets go of both */
    weft_future_release(fs[1]);
    run_to(fs[1], 0, &tag[1]);
    weft_future_release(fs[1]); /* the pool too: only the iterator holds it */
    weft_future *f;
    cr_assert_eq(weft_as_completed_next(it, &f), 0);
    cr_expect_eq(f, fs[1]);
    void *r = NULL;
    cr_expect_eq(weft_future_result(f, 0, &r), 0);
    cr_expect_eq(r, &tag[1]);
    run_to(fs[0], 0, NULL);
    weft_future_release(fs[0]);
    cr_assert_eq(weft_as_completed_next(it, &f), 0);
    cr_expect_eq(f, fs[0]);
    weft_as_completed_end(it); /* frees both futures (ASan: no leak) */
}

/* end() racing with a thread that completes the futures. */
typedef struct racer {
    weft_future **fs;
    size_t n;
} racer;

static void *finish_all(void *arg)
{
    racer *r = arg;
    for (size_t i = 0; i < r->n; i++) {
        if (i % 3 == 0)
            CHECK(weft_future_cancel(r->fs[i]));
        else
            run_to(r->fs[i], 0, NULL);
    }
    return NULL;
}

Test(as_completed, end_races_with_completion)
{
    enum { N = 64, ROUNDS = 50 };
    for (int round = 0; round < ROUNDS; round++) {
        weft_future *fs[N];
        mk_n(fs, N);
        racer r = {fs, N};
        pthread_t t = spawn(finish_all, &r);
        weft_as_completed *it;
        cr_assert_eq(weft_as_completed_begin(&it, fs, N, WEFT_FOREVER), 0);
        weft_future *f;
        for (int i = 0; i < round % 4; i++)
            cr_assert_eq(weft_as_completed_next(it, &f), 0);
        weft_as_completed_end(it);
        join(t);
        drop_n(fs, N);
    }
}

Test(as_completed, every_future_once_with_concurrent_finishers)
{
    enum { N = 200, T = 4 };
    weft_future *fs[N];
    mk_n(fs, N);
    weft_as_completed *it;
    cr_assert_eq(weft_as_completed_begin(&it, fs, N, 60), 0);
    racer r[T];
    pthread_t t[T];
    for (int i = 0; i < T; i++) {
        r[i] = (racer){fs + i * (N / T), N / T};
        t[i] = spawn(finish_all, &r[i]);
    }
    bool seen[N] = {0};
    weft_future *f;
    for (int k = 0; k < N; k++) {
        cr_assert_eq(weft_as_completed_next(it, &f), 0);
        int idx = -1;
        for (int i = 0; i < N; i++)
            if (fs[i] == f)
                idx = i;
        cr_assert_geq(idx, 0, "yielded a future from fs");
        cr_assert_not(seen[idx], "future %d yielded twice", idx);
        seen[idx] = true;
        cr_expect(weft_future_done(f));
    }
    cr_expect_eq(weft_as_completed_next(it, &f), ENOENT);
    for (int i = 0; i < T; i++)
        join(t[i]);
    weft_as_completed_end(it);
    drop_n(fs, N);
}

/* ---- wait ---------------------------------------------------------------- */

Test(wait, first_completed)
{
    weft_future *fs[3];
    mk_n(fs, 3);
    size_t nd = 99;
    double t0 = now_s();
    cr_expect_eq(weft_wait(fs, 3, 0.05, WEFT_FIRST_COMPLETED, &nd), ETIMEDOUT);
    cr_expect_geq(now_s() - t0, 0.05);
    cr_expect_eq(nd, 0);
    script s = {&fs[1], 1, 0.02, false, 0, 0};
    pthread_t t = spawn(run_script, &s);
    cr_expect_eq(weft_wait(fs, 3, WEFT_FOREVER, WEFT_FIRST_COMPLETED, &nd), 0);
    cr_expect_eq(nd, 1);
    cr_expect(weft_future_done(fs[1]));
    join(t);
    cr_assert(weft_future_cancel(fs[2]));
    cr_expect_eq(weft_wait(fs, 3, 0, WEFT_FIRST_COMPLETED, &nd), 0, "already done: no wait");
    cr_expect_eq(nd, 2);
    drop_n(fs, 3);
}

Test(wait, all_completed)
{
    weft_future *fs[4];
    mk_n(fs, 4);
    for (int i = 0; i < 3; i++)
        run_to(fs[i], EIO, NULL);
    size_t nd = 99;
    double t0 = now_s();
    cr_expect_eq(weft_wait(fs, 4, 0.2, WEFT_ALL_COMPLETED, &nd), ETIMEDOUT, "fs[3] is still pending");
    double dt = now_s() - t0;
    cr_expect_geq(dt, 0.2);
    cr_expect_lt(dt, 3.0);
    cr_expect_eq(nd, 3);
    script s2 = {&fs[3], 1, 0.02, true, 0, 0};
    pthread_t t = spawn(run_script, &s2);
    cr_expect_eq(weft_wait(fs, 4, WEFT_FOREVER, WEFT_ALL_COMPLETED, &nd), 0);
    cr_expect_eq(nd, 4);
    for (int i = 0; i < 4; i++)
        cr_expect(weft_future_done(fs[i]));
    join(t);
    drop_n(fs, 4);
}

Test(wait, first_exception)
{
    weft_future *fs[4];
    mk_n(fs, 4);
    run_to(fs[0], 0, NULL);
    cr_assert(weft_future_cancel(fs[1]));
    size_t nd = 99;
    cr_expect_eq(weft_wait(fs, 4, 0.05, WEFT_FIRST_EXCEPTION, &nd), ETIMEDOUT,
                 "success and cancellation are not exceptions");
    cr_expect_eq(nd, 2);
    script s = {&fs[3], 1, 0.02, false, EPIPE, 0};
    pthread_t t = spawn(run_script, &s);
    cr_expect_eq(weft_wait(fs, 4, WEFT_FOREVER, WEFT_FIRST_EXCEPTION, &nd), 0);
    cr_expect_eq(nd, 3);
    cr_expect_not(weft_future_done(fs[2]), "returned at the exception, not at all done");
    join(t);
    drop_n(fs, 4);
}

Test(wait, first_exception_falls_back_to_all)
{
    weft_future *fs[3];
    mk_n(fs, 3);
    script s = {fs, 3, 0.01, false, 0, 0};
    pthread_t t = spawn(run_script, &s);
    size_t nd = 0;
    cr_expect_eq(weft_wait(fs, 3, WEFT_FOREVER, WEFT_FIRST_EXCEPTION, &nd), 0);
    cr_expect_eq(nd, 3);
    join(t);
    drop_n(fs, 3);
}

Test(wait, first_exception_already_failed)
{
    weft_future *fs[2];
    mk_n(fs, 2);
    run_to(fs[1], ENOSPC, NULL);
    cr_expect_eq(weft_wait(fs, 2, 0, WEFT_FIRST_EXCEPTION, NULL), 0);
    drop_n(fs, 2);
}

Test(wait, duplicates_count_once_and_bad_arguments)
{
    weft_future *a = mk(), *b = mk();
    run_to(a, 0, NULL);
    weft_future *fs[4] = {a, a, b, a};
    size_t nd = 99;
    cr_expect_eq(weft_wait(fs, 4, 0, WEFT_ALL_COMPLETED, &nd), ETIMEDOUT);
    cr_expect_eq(nd, 1);
    weft_future *dup[3] = {a, a, a};
    cr_expect_eq(weft_wait(dup, 3, 0, WEFT_ALL_COMPLETED, &nd), 0);
    cr_expect_eq(nd, 1);
    nd = 99;
    cr_expect_eq(weft_wait(NULL, 0, WEFT_FOREVER, WEFT_FIRST_COMPLETED, &nd), 0, "nothing to wait for");
    cr_expect_eq(nd, 0);
    cr_expect_eq(weft_wait(fs, 4, NAN, WEFT_ALL_COMPLETED, &nd), EINVAL);
    cr_expect_eq(weft_wait(NULL, 4, 1, WEFT_ALL_COMPLETED, &nd), EINVAL);
    cr_expect_eq(weft_wait(fs, 4, 1, (weft_return_when)42, &nd), EINVAL);
    weft_future *with_null[2] = {a, NULL};
    cr_expect_eq(weft_wait(with_null, 2, 1, WEFT_ALL_COMPLETED, &nd), EINVAL);
    drop(a);
    drop(b);
}

/* Issue 10 item 6: the reference count must not wrap. With the former 32-bit
 * count, 2^32 retains brought it back to where it started and the release
 * that followed freed a future that 2^32 owners still held (ASan reports the
 * use after free below; without ASan refs reads 1). */
static atomic_int refs_cb_calls;

static void refs_cb(weft_future *f, void *ctx)
{
    (void)f;
    (void)ctx;
    atomic_fetch_add(&refs_cb_calls, 1);
}

Test(future, refcount_does_not_wrap)
{
    weft_future *f;
    cr_assert_eq(weft_future_create(&f), 0);
    cr_assert_eq(weft__future_refs(f), 1);
    weft__future_add_refs(f, (int64_t)1 << 32); /* = 2^32 weft_future_retain calls */
    cr_assert_eq(weft_future_retain(f), f);
    cr_assert_eq(weft__future_refs(f), ((uint64_t)1 << 32) + 2);
    weft_future_release(f);
    weft_future_release(f);
    /* Still alive, still usable by its remaining owners. */
    cr_assert_eq(weft__future_refs(f), (uint64_t)1 << 32);
    cr_assert_eq(weft_future_add_done_callback(f, refs_cb, NULL), 0);
    cr_assert(weft_future_set_running_or_notify_cancel(f));
    cr_assert_eq(weft_future_set_result(f, (void *)1), 0);
    cr_assert_eq(atomic_load(&refs_cb_calls), 1);
    weft__future_add_refs(f, -(((int64_t)1 << 32) - 1));
    cr_assert_eq(weft__future_refs(f), 1);
    weft_future_release(f);
}
