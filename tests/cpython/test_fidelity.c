/* tests/cpython/test_fidelity.c: the behaviours of issue 11 where weft
 * differed from Python (each case says what failed before the fix), and the
 * bare future. The CPython translations (test_*.c here) cover the same
 * ground through CPython's own cases; these pin each fix down directly.
 */
#include "cpy.h"

/* ---- Thread(name="") ------------------------------------------------------
 * Before: the name stayed "". */
static int noop(void *arg)
{
    (void)arg;
    return 0;
}

Test(fidelity, empty_thread_name_is_numbered)
{
    weft_thread_attr a = WEFT_THREAD_ATTR_INIT;
    a.name = "";
    weft_thread *t;
    cr_assert_eq(weft_thread_create(&t, noop, NULL, &a), 0);
    const char *n = weft_thread_name(t);
    cr_assert(strncmp(n, "Thread-", 7) == 0 && n[7] >= '1' && n[7] <= '9', "name %s", n);
    weft_thread_destroy(t);
}

/* ---- the exit sequence ---------------------------------------------------- */

static void helper(const char *mode, char *out, size_t cap, int *status, double *elapsed)
{
    cpy_run_helper(EXIT_HELPER, mode, 20, out, cap, status, elapsed);
}

/* Before: the process hung at exit (the main thread's entry never finished). */
Test(fidelity, exit_with_a_thread_joining_the_main_thread)
{
    char out[256];
    int st;
    double el;
    helper("join_main", out, sizeof out, &st, &el);
    cr_assert(WIFEXITED(st), "killed: the exit hung (status %d)", st);
    cr_assert_eq(WEXITSTATUS(st), 0);
    cr_assert_str_eq(out, "joined 0 alive 0\n");
}

/* Before: the queued task was dropped at exit (no output). */
Test(fidelity, exit_runs_queued_pool_work)
{
    char out[256];
    int st;
    double el;
    helper("apple", out, sizeof out, &st, &el);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    cr_assert_str_eq(out, "apple\n");
}

/* Before: the submit from the atexit handler returned 0. */
Test(fidelity, submit_from_atexit_handler_is_refused)
{
    char out[256];
    int st;
    double el;
    helper("atexit_submit", out, sizeof out, &st, &el);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    cr_assert_str_eq(out, "runtime-error\n");
}

/* Before: "atexit entries 2002" (one per time the live pools went 0 -> 1). */
Test(fidelity, pool_cycles_register_the_exit_sequence_once)
{
    char out[256];
    int st;
    double el;
    helper("pool_cycles", out, sizeof out, &st, &el);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    cr_assert_str_eq(out, "atexit entries 2\nruntime-error\n");
}

Test(fidelity, exit_joins_threads_before_shutting_pools)
{
    char out[256];
    int st;
    double el;
    helper("thread_then_pool", out, sizeof out, &st, &el);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    cr_assert_str_eq(out, "from-thread\n");
}

Test(fidelity, no_exit_wait_pool_exits_at_once)
{
    char out[256];
    int st;
    double el;
    helper("no_exit_wait", out, sizeof out, &st, &el);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    cr_assert_str_eq(out, "");
    cr_assert_lt(el, 4.0, "exit waited for the pool's 5 s task");
}

/* ---- shutdown(cancel_futures) --------------------------------------------
 * CPython's test_cancel_futures: 50 submits of sleep(0.1) to 5 workers, then
 * shutdown(cancel_futures=True): more than 20 cancelled and at least one run.
 * Before: all 50 were cancelled in most runs (no worker had woken yet). */
static int sleep_task(void *arg, void **result)
{
    (void)result;
    cpy_sleep(*(double *)arg);
    return 0;
}

Test(fidelity, cancel_futures_after_submits_leaves_started_ones)
{
    static double tenth = 0.1;
    FOR_EACH_SCHED(k)
    {
        for (int round = 0; round < 3; round++) {
            weft_pool *p = cpy_pool(k, 5);
            weft_future *fs[50];
            for (int i = 0; i < 50; i++)
                cr_assert_eq(weft_pool_submit(p, sleep_task, &tenth, &fs[i]), 0);
            cr_assert_eq(weft_pool_shutdown(p, true, true), 0);
            int cancelled = 0, others = 0;
            for (int i = 0; i < 50; i++) {
                if (weft_future_cancelled(fs[i])) {
                    cancelled++;
                } else {
                    others++;
                    cr_assert(weft_future_done(fs[i]));
                    cr_assert_eq(weft_future_exception(fs[i], 0), 0);
                }
                weft_future_release(fs[i]);
            }
            cr_assert_gt(cancelled, 20, "%s: %d cancelled", cpy_sched_names[k_i], cancelled);
            cr_assert_gt(others, 0, "%s: none started before the cancel", cpy_sched_names[k_i]);
            weft_pool_destroy(p);
        }
    }
}

/* ---- map timeout ----------------------------------------------------------
 * CPython's test_map_timeout, shorter: items 0, 0 and a long one with a 0.5 s
 * timeout must time out at ~0.5 s. Before: it returned 0 when the long item
 * ended (the caller ran it itself). The long item does not sleep (a caller
 * woken late on a loaded machine would find it done): it blocks until the
 * test releases it after map returned, or 60 s; a map that waited for it
 * returns only then. */
static weft_event map_release = WEFT_EVENT_INIT;

static int held_until_released(void *arg, void **result)
{
    (void)result;
    if (arg != NULL)
        (void)weft_event_wait(arg, 60);
    return 0;
}

Test(fidelity, map_timeout_returns_at_the_deadline, .timeout = 300)
{
    void *args[] = {NULL, NULL, &map_release};
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = cpy_pool(k, 2);
        weft_event_clear(&map_release);
        double t0 = cpy_now();
        int rc = weft_pool_map(p, held_until_released, args, 3, NULL, 1, 0.5);
        double el = cpy_now() - t0;
        weft_event_set(&map_release);
        cr_assert_eq(rc, ETIMEDOUT, "%s: got %d", cpy_sched_names[k_i], rc);
        cr_assert_geq(el, 0.5 - 1e-3);
        cr_assert_lt(el, 45, "%s: map waited for the running item (%.2f s)", cpy_sched_names[k_i], el);
        weft_pool_destroy(p);
    }
}

static _Atomic int wrote;

/* Item 3 is held (as above) until map has returned: it is unfinished at the
 * deadline whatever the load. */
static int slow_square(void *arg, void **result)
{
    long i = (long)arg;
    if (i == 3)
        (void)weft_event_wait(&map_release, 60);
    *result = (void *)(i * i);
    atomic_fetch_add(&wrote, 1);
    return i == 5 ? 55 : 0;
}

/* Items before the unfinished one keep their results; a failure after it is
 * not reported (Python's iterator raises TimeoutError at the unfinished
 * item); results[] is not written after map returned. */
Test(fidelity, map_timeout_keeps_the_prefix)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = cpy_pool(k, 2);
        void *args[8], *res[8];
        for (long i = 0; i < 8; i++) {
            args[i] = (void *)i;
            res[i] = (void *)-1L;
        }
        atomic_store(&wrote, 0);
        weft_event_clear(&map_release);
        /* 2 s: items 0-2 are instant, but a loaded machine may starve the
         * workers for a while; the held item 3 cannot finish in any case. */
        int rc = weft_pool_map(p, slow_square, args, 8, res, 1, 2.0);
        void *snapshot[8];
        memcpy(snapshot, res, sizeof res);
        weft_event_set(&map_release);
        cr_assert_eq(rc, ETIMEDOUT, "%s: got %d", cpy_sched_names[k_i], rc);
        for (long i = 0; i < 3; i++)
            cr_assert_eq((long)snapshot[i], i * i);
        cr_assert_eq((long)snapshot[3], -1L, "the unfinished item's result was not written");
        weft_pool_shutdown(p, true, false);
        cr_assert(memcmp(snapshot, res, sizeof res) == 0, "results written after map returned");
        weft_pool_destroy(p);
    }
}

/* ---- pool workers are weft threads ----------------------------------------
 * Before: weft_current_thread() in a task was a "Dummy-N" entry. */
static int who_am_i(void *arg, void **result)
{
    (void)arg;
    *result = weft_current_thread();
    return 0;
}

Test(fidelity, workers_are_weft_threads)
{
    FOR_EACH_SCHED(k)
    {
        size_t before = weft_active_count();
        weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
        o.max_workers = 3;
        o.scheduler = k;
        o.thread_name_prefix = "fid";
        weft_pool *p;
        cr_assert_eq(weft_pool_create(&p, &o), 0);
        cr_assert_eq(weft_active_count(), before + 3);
        weft_future *f;
        cr_assert_eq(weft_pool_submit(p, who_am_i, NULL, &f), 0);
        void *r;
        cr_assert_eq(weft_future_result(f, SHORT_TIMEOUT, &r), 0);
        weft_future_release(f);
        weft_thread *w = r;
        const char *n = weft_thread_name(w);
        cr_assert(strcmp(n, "fid_0") == 0 || strcmp(n, "fid_1") == 0 || strcmp(n, "fid_2") == 0, "name %s", n);
        cr_assert(weft_thread_is_alive(w));
        cr_assert(weft_thread_daemon(w));
        weft_thread *all[64];
        size_t nall = weft_enumerate(all, 64);
        int listed = 0;
        for (size_t i = 0; i < nall && i < 64; i++)
            listed += strncmp(weft_thread_name(all[i]), "fid_", 4) == 0;
        cr_assert_eq(listed, 3);
        weft_pool_destroy(p);
        cr_assert_eq(weft_active_count(), before);
    }
}

Test(fidelity, default_worker_names_are_unique_per_pool)
{
    weft_pool *a = cpy_pool(WEFT_SCHED_STEALING, 1), *b = cpy_pool(WEFT_SCHED_STEALING, 1);
    weft_future *fa, *fb;
    void *ra, *rb;
    cr_assert_eq(weft_pool_submit(a, who_am_i, NULL, &fa), 0);
    cr_assert_eq(weft_pool_submit(b, who_am_i, NULL, &fb), 0);
    cr_assert_eq(weft_future_result(fa, SHORT_TIMEOUT, &ra), 0);
    cr_assert_eq(weft_future_result(fb, SHORT_TIMEOUT, &rb), 0);
    const char *na = weft_thread_name(ra), *nb = weft_thread_name(rb);
    cr_assert(strncmp(na, "weft-", 5) == 0 && strcmp(na + strlen(na) - 2, "_0") == 0, "%s", na);
    cr_assert_str_neq(na, nb);
    weft_future_release(fa);
    weft_future_release(fb);
    weft_pool_destroy(a);
    weft_pool_destroy(b);
}

/* ---- the bare future ------------------------------------------------------ */

static _Atomic int callbacks;

static void count_cb(weft_future *f, void *ctx)
{
    (void)f;
    (void)ctx;
    atomic_fetch_add(&callbacks, 1);
}

Test(fidelity, bare_future_result)
{
    weft_future *f;
    cr_assert_eq(weft_future_create(&f), 0);
    cr_assert(!weft_future_done(f) && !weft_future_running(f));
    cr_assert_eq(weft_future_result(f, 0, NULL), ETIMEDOUT);
    atomic_store(&callbacks, 0);
    cr_assert_eq(weft_future_add_done_callback(f, count_cb, NULL), 0);
    cr_assert(weft_future_set_running_or_notify_cancel(f));
    cr_assert(weft_future_running(f));
    cr_assert(!weft_future_cancel(f), "a running future cannot be cancelled");
    cr_assert(!weft_future_set_running_or_notify_cancel(f), "already running");
    cr_assert_eq(weft_future_set_result(f, (void *)42L), 0);
    cr_assert_eq(atomic_load(&callbacks), 1);
    void *r;
    cr_assert_eq(weft_future_result(f, 0, &r), 0);
    cr_assert_eq((long)r, 42);
    cr_assert_eq(weft_future_set_result(f, NULL), EBUSY, "InvalidStateError");
    cr_assert_eq(weft_future_set_exception(f, EIO), EBUSY);
    weft_future_release(f);
}

Test(fidelity, bare_future_exception_and_cancel)
{
    weft_future *f, *g;
    cr_assert_eq(weft_future_create(&f), 0);
    cr_assert_eq(weft_future_set_exception(f, 0), EINVAL);
    cr_assert_eq(weft_future_set_exception(f, EIO), 0, "from PENDING, as Python allows");
    cr_assert_eq(weft_future_result(f, 0, NULL), EIO);
    cr_assert_eq(weft_future_exception(f, 0), EIO);
    cr_assert_eq(weft_future_set_result(f, NULL), EBUSY);
    weft_future_release(f);

    cr_assert_eq(weft_future_create(&g), 0);
    atomic_store(&callbacks, 0);
    cr_assert_eq(weft_future_add_done_callback(g, count_cb, NULL), 0);
    cr_assert(weft_future_cancel(g));
    cr_assert_eq(atomic_load(&callbacks), 1);
    cr_assert(!weft_future_set_running_or_notify_cancel(g));
    cr_assert_eq(weft_future_set_result(g, NULL), EBUSY);
    cr_assert_eq(weft_future_set_exception(g, EIO), EBUSY);
    cr_assert_eq(weft_future_result(g, 0, NULL), ECANCELED);
    weft_future_release(g);

    cr_assert_eq(weft_future_create(NULL), EINVAL);
    cr_assert_eq(weft_future_set_result(NULL, NULL), EINVAL);
    cr_assert(!weft_future_set_running_or_notify_cancel(NULL));
}

struct setter {
    weft_future *f;
    _Atomic int *wins;
    long v;
};

static int race_set(void *arg)
{
    struct setter *s = arg;
    int rc = s->v & 1 ? weft_future_set_exception(s->f, (int)s->v) : weft_future_set_result(s->f, (void *)s->v);
    if (rc == 0)
        atomic_fetch_add(s->wins, 1);
    return rc == 0 || rc == EBUSY ? 0 : rc;
}

/* Concurrent setters: exactly one wins, waiters see its outcome. */
Test(fidelity, bare_future_setters_race)
{
    for (int round = 0; round < 50; round++) {
        weft_future *f;
        cr_assert_eq(weft_future_create(&f), 0);
        _Atomic int wins = 0;
        struct setter s[4];
        weft_thread *t[4];
        for (int i = 0; i < 4; i++) {
            s[i] = (struct setter){f, &wins, i + 2};
            t[i] = cpy_start(race_set, &s[i]);
        }
        cr_assert_eq(weft_future_wait(f, SHORT_TIMEOUT), 0);
        for (int i = 0; i < 4; i++) {
            cr_assert_eq(weft_thread_join(t[i], SHORT_TIMEOUT), 0);
            cr_assert_eq(weft_thread_exit_code(t[i]), 0);
            weft_thread_destroy(t[i]);
        }
        cr_assert_eq(atomic_load(&wins), 1);
        weft_future_release(f);
    }
}

/* A bare future works with weft_wait and as_completed. */
Test(fidelity, bare_future_with_wait_and_as_completed)
{
    weft_future *fs[2];
    cr_assert_eq(weft_future_create(&fs[0]), 0);
    cr_assert_eq(weft_future_create(&fs[1]), 0);
    size_t nd;
    cr_assert_eq(weft_wait(fs, 2, 0, WEFT_FIRST_COMPLETED, &nd), ETIMEDOUT);
    cr_assert_eq(weft_future_set_result(fs[1], NULL), 0);
    cr_assert_eq(weft_wait(fs, 2, 0, WEFT_FIRST_COMPLETED, &nd), 0);
    cr_assert_eq(nd, 1);
    weft_as_completed *it;
    cr_assert_eq(weft_as_completed_begin(&it, fs, 2, SHORT_TIMEOUT), 0);
    weft_future *got;
    cr_assert_eq(weft_as_completed_next(it, &got), 0);
    cr_assert_eq(got, fs[1]);
    cr_assert_eq(weft_future_set_exception(fs[0], EIO), 0);
    cr_assert_eq(weft_as_completed_next(it, &got), 0);
    cr_assert_eq(got, fs[0]);
    cr_assert_eq(weft_as_completed_next(it, &got), ENOENT);
    weft_as_completed_end(it);
    weft_future_release(fs[0]);
    weft_future_release(fs[1]);
}
