/* tests/embed/test_pool_embed.c: the pool's embedding options, on both
 * schedulers: max_pending (weft_pool_submit waits, submit_timed, try_submit,
 * pending), drop (cancelled futures, shutdown with cancel_futures, a broken
 * pool) and on_task_error (custom and default). Timing is asserted only
 * against generous bounds. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

static const weft_sched_kind kinds[] = {WEFT_SCHED_STEALING, WEFT_SCHED_MUTEX};
#define FOR_EACH_SCHED(k) for (size_t k##_i = 0, k; k##_i < 2 && ((k = kinds[k##_i]), 1); k##_i++)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int nop(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return 0;
}

static int wait_event(void *arg, void **result)
{
    (void)result;
    return weft_event_wait(arg, WEFT_FOREVER);
}

static int fail_with(void *arg, void **result)
{
    (void)result;
    return (int)(intptr_t)arg;
}

static weft_pool *make(size_t kind, size_t workers, size_t max_pending, void (*drop)(void *))
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = workers;
    o.scheduler = (weft_sched_kind)kind;
    o.max_pending = max_pending;
    o.drop = drop;
    weft_pool *p;
    cr_assert_eq(weft_pool_create(&p, &o), 0);
    return p;
}

/* Occupies the pool's only worker until ev is set; returns once it runs. */
static weft_future *occupy(weft_pool *p, weft_event *ev)
{
    weft_future *f;
    cr_assert_eq(weft_pool_submit(p, wait_event, ev, &f), 0);
    double end = now_s() + 30;
    while (!weft_future_running(f) && now_s() < end)
        usleep(1000);
    cr_assert(weft_future_running(f));
    return f;
}

Test(embed_pool, einval)
{
    weft_pool *p = make(WEFT_SCHED_STEALING, 1, 4, NULL);
    cr_assert_eq(weft_pool_submit_timed(NULL, nop, NULL, NULL, 1.0), EINVAL);
    cr_assert_eq(weft_pool_submit_timed(p, NULL, NULL, NULL, 1.0), EINVAL);
    cr_assert_eq(weft_pool_submit_timed(p, nop, NULL, NULL, (double)NAN), EINVAL);
    cr_assert_eq(weft_pool_try_submit(NULL, nop, NULL, NULL), EINVAL);
    cr_assert_eq(weft_pool_try_submit(p, NULL, NULL, NULL), EINVAL);
    cr_assert_eq(weft_pool_pending(NULL), 0);
    weft_pool_destroy(p);
}

typedef struct submitter {
    weft_pool *p;
    double timeout;
    int rc;
    _Atomic bool done;
} submitter;

static void *submit_thread(void *arg)
{
    submitter *s = arg;
    s->rc = weft_pool_submit_timed(s->p, nop, NULL, NULL, s->timeout);
    atomic_store(&s->done, true);
    return NULL;
}

static int submit_ten_from_inside(void *arg, void **result)
{
    (void)result;
    weft_pool *p = arg;
    for (int i = 0; i < 10; i++) {
        int rc = weft_pool_try_submit(p, nop, NULL, NULL);
        if (rc != 0)
            return rc;
    }
    return 0;
}

Test(embed_pool, max_pending_bounds_outside_submissions)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make(k, 1, 2, NULL);
        weft_event ev = WEFT_EVENT_INIT;
        weft_future *blocker = occupy(p, &ev);
        cr_assert_eq(weft_pool_pending(p), 0, "a started task holds no slot");
        weft_future *inside;
        cr_assert_eq(weft_pool_try_submit(p, submit_ten_from_inside, p, &inside), 0);
        cr_assert_eq(weft_pool_try_submit(p, nop, NULL, NULL), 0);
        cr_assert_eq(weft_pool_pending(p), 2);
        cr_assert_eq(weft_pool_try_submit(p, nop, NULL, NULL), EAGAIN);
        cr_assert_eq(weft_pool_submit_timed(p, nop, NULL, NULL, -1.0), EAGAIN);
        double t0 = now_s();
        cr_assert_eq(weft_pool_submit_timed(p, nop, NULL, NULL, 0.05), ETIMEDOUT);
        cr_assert_geq(now_s() - t0, 0.04);
        /* A blocked weft_pool_submit goes through once room appears. */
        submitter s = {p, WEFT_FOREVER, -1, false};
        pthread_t th;
        pthread_create(&th, NULL, submit_thread, &s);
        usleep(20000);
        cr_assert(!atomic_load(&s.done), "submit did not wait for room");
        weft_event_set(&ev);
        pthread_join(th, NULL);
        cr_assert_eq(s.rc, 0);
        /* The pool's own task submitted ten while the pool was full. */
        cr_assert_eq(weft_future_result(inside, 30, NULL), 0, "a pool's own task waited for room");
        weft_future_release(inside);
        weft_future_release(blocker);
        weft_pool_shutdown(p, true, false);
        cr_assert_eq(weft_pool_pending(p), 0);
        weft_pool_destroy(p);
    }
}

Test(embed_pool, shutdown_wakes_waiting_submitters)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make(k, 1, 1, NULL);
        weft_event ev = WEFT_EVENT_INIT;
        weft_future *blocker = occupy(p, &ev);
        cr_assert_eq(weft_pool_try_submit(p, nop, NULL, NULL), 0);
        submitter s[3];
        pthread_t th[3];
        for (int i = 0; i < 3; i++) {
            s[i] = (submitter){p, i == 0 ? WEFT_FOREVER : 60.0, -1, false};
            pthread_create(&th[i], NULL, submit_thread, &s[i]);
        }
        usleep(20000);
        weft_pool_shutdown(p, false, false);
        for (int i = 0; i < 3; i++) {
            pthread_join(th[i], NULL);
            cr_assert_eq(s[i].rc, ESHUTDOWN);
        }
        weft_event_set(&ev);
        weft_future_release(blocker);
        weft_pool_destroy(p);
    }
}

Test(embed_pool, pending_on_unbounded_pool)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make(k, 1, 0, NULL);
        weft_event ev = WEFT_EVENT_INIT;
        weft_future *blocker = occupy(p, &ev);
        for (int i = 0; i < 5; i++)
            cr_assert_eq(weft_pool_try_submit(p, nop, NULL, NULL), 0, "unbounded pools never refuse");
        cr_assert_eq(weft_pool_pending(p), 5);
        weft_event_set(&ev);
        weft_pool_shutdown(p, true, false);
        cr_assert_eq(weft_pool_pending(p), 0);
        weft_future_release(blocker);
        weft_pool_destroy(p);
    }
}

/* ---- drop ------------------------------------------------------------------ */

#define NTASK 50
static _Atomic int dropped[NTASK];
static _Atomic int ran[NTASK];

static void count_drop(void *arg)
{
    atomic_fetch_add(&dropped[(intptr_t)arg], 1);
}

static int count_run(void *arg, void **result)
{
    (void)result;
    atomic_fetch_add(&ran[(intptr_t)arg], 1);
    return 0;
}

static void reset_counts(void)
{
    for (int i = 0; i < NTASK; i++) {
        atomic_store(&dropped[i], 0);
        atomic_store(&ran[i], 0);
    }
}

static void check_exactly_once(int want_dropped_at_least)
{
    int nd = 0;
    for (int i = 0; i < NTASK; i++) {
        int d = atomic_load(&dropped[i]), r = atomic_load(&ran[i]);
        cr_assert_eq(d + r, 1, "task %d: ran %d, dropped %d", i, r, d);
        nd += d;
    }
    cr_assert_geq(nd, want_dropped_at_least);
}

Test(embed_pool, drop_on_shutdown_cancel_and_cancelled_futures)
{
    FOR_EACH_SCHED(k)
    {
        reset_counts();
        weft_pool *p = make(k, 1, 0, count_drop);
        weft_event ev = WEFT_EVENT_INIT;
        weft_future *blocker = occupy(p, &ev);
        weft_future *fs[NTASK];
        for (intptr_t i = 0; i < NTASK; i++)
            cr_assert_eq(weft_pool_submit(p, count_run, (void *)i, i % 2 ? &fs[i] : NULL), 0);
        cr_assert(weft_future_cancel(fs[1]));
        weft_pool_shutdown(p, false, true);
        weft_event_set(&ev);
        weft_pool_shutdown(p, true, false);
        check_exactly_once(NTASK);
        for (int i = 1; i < NTASK; i += 2) {
            cr_assert(weft_future_cancelled(fs[i]));
            weft_future_release(fs[i]);
        }
        weft_future_release(blocker);
        weft_pool_destroy(p);
    }
}

Test(embed_pool, drop_cancelled_future_when_reached_never_for_ran)
{
    FOR_EACH_SCHED(k)
    {
        reset_counts();
        weft_pool *p = make(k, 1, 0, count_drop);
        weft_event ev = WEFT_EVENT_INIT;
        weft_future *blocker = occupy(p, &ev);
        weft_future *fs[NTASK];
        for (intptr_t i = 0; i < NTASK; i++)
            cr_assert_eq(weft_pool_submit(p, count_run, (void *)i, &fs[i]), 0);
        for (int i = 0; i < NTASK; i += 3)
            cr_assert(weft_future_cancel(fs[i]));
        weft_event_set(&ev);
        weft_pool_shutdown(p, true, false);
        check_exactly_once(NTASK / 3);
        for (int i = 0; i < NTASK; i++) {
            cr_assert_eq(atomic_load(&dropped[i]), i % 3 == 0);
            weft_future_release(fs[i]);
        }
        weft_future_release(blocker);
        weft_pool_destroy(p);
    }
}

static weft_event init_gate = WEFT_EVENT_INIT;

static int failing_init(void *arg)
{
    (void)arg;
    weft_event_wait(&init_gate, WEFT_FOREVER);
    return EIO;
}

Test(embed_pool, drop_on_broken_pool)
{
    FOR_EACH_SCHED(k)
    {
        reset_counts();
        weft_event_clear(&init_gate);
        weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
        o.max_workers = 2;
        o.scheduler = (weft_sched_kind)k;
        o.initializer = failing_init;
        o.drop = count_drop;
        o.max_pending = NTASK;
        weft_pool *p;
        cr_assert_eq(weft_pool_create(&p, &o), 0);
        weft_future *fs[NTASK];
        for (intptr_t i = 0; i < NTASK; i++)
            cr_assert_eq(weft_pool_try_submit(p, count_run, (void *)i, i % 2 ? &fs[i] : NULL), 0);
        cr_assert_eq(weft_pool_try_submit(p, nop, NULL, NULL), EAGAIN);
        weft_event_set(&init_gate);
        for (int i = 1; i < NTASK; i += 2) {
            cr_assert_eq(weft_future_result(fs[i], 30, NULL), EPIPE);
            weft_future_release(fs[i]);
        }
        weft_pool_shutdown(p, true, false);
        check_exactly_once(NTASK);
        cr_assert_eq(weft_pool_pending(p), 0);
        cr_assert_eq(weft_pool_try_submit(p, nop, NULL, NULL), EPIPE);
        weft_pool_destroy(p);
    }
}

/* ---- on_task_error ---------------------------------------------------------- */

static _Atomic int errors_seen, error_code;
static void *error_arg, *error_ctx;

static void on_error(void *ctx, void *arg, int code)
{
    error_ctx = ctx;
    error_arg = arg;
    atomic_store(&error_code, code);
    atomic_fetch_add(&errors_seen, 1);
}

Test(embed_pool, on_task_error_for_fire_and_forget_only)
{
    FOR_EACH_SCHED(k)
    {
        atomic_store(&errors_seen, 0);
        weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
        o.max_workers = 2;
        o.scheduler = (weft_sched_kind)k;
        o.on_task_error = on_error;
        o.on_task_error_ctx = &o;
        weft_pool *p;
        cr_assert_eq(weft_pool_create(&p, &o), 0);
        weft_future *f;
        cr_assert_eq(weft_pool_submit(p, fail_with, (void *)(intptr_t)EDOM, &f), 0);
        cr_assert_eq(weft_future_result(f, 30, NULL), EDOM);
        weft_future_release(f);
        cr_assert_eq(weft_pool_submit(p, fail_with, (void *)(intptr_t)0, NULL), 0);
        cr_assert_eq(weft_pool_submit(p, fail_with, (void *)(intptr_t)ERANGE, NULL), 0);
        weft_pool_shutdown(p, true, false);
        cr_assert_eq(atomic_load(&errors_seen), 1, "only the failing fire-and-forget task");
        cr_assert_eq(atomic_load(&error_code), ERANGE);
        cr_assert_eq(error_arg, (void *)(intptr_t)ERANGE);
        cr_assert_eq(error_ctx, &o);
        weft_pool_destroy(p);
    }
}

Test(embed_pool, on_task_error_default_prints, .init = cr_redirect_stderr)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 1;
    weft_pool *p;
    cr_assert_eq(weft_pool_create(&p, &o), 0);
    cr_assert_eq(weft_pool_submit(p, fail_with, (void *)(intptr_t)EDOM, NULL), 0);
    weft_pool_destroy(p);
    fflush(stderr);
    char line[256] = "";
    FILE *err = cr_get_redirected_stderr();
    cr_assert_not_null(fgets(line, sizeof line, err));
    cr_assert(strncmp(line, "Exception in task on thread ", 28) == 0, "got: %s", line);
    cr_assert_not_null(strstr(line, strerror(EDOM)), "got: %s", line);
}
