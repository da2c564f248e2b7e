/* tests/pool/test_pool.c: weft_pool, weft_group, weft_parallel_for,
 * weft_pool_map and weft_pool_stats, each on both schedulers.
 *
 * Tasks never call cr_assert (only the test's own thread can fail a test):
 * they record what they saw in atomics that the test thread checks. Timing is
 * asserted only against generous bounds (the machine has 2 loaded cores).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/deque.h"
#include "weft.h"

#define POLL_LIMIT 30.0
#include "../spawn_fib.h"
#include "pool_test.h"

static const weft_sched_kind kinds[] = {WEFT_SCHED_STEALING, WEFT_SCHED_MUTEX};
#define FOR_EACH_SCHED(k) for (size_t k##_i = 0, k; k##_i < 2 && ((k = kinds[k##_i]), 1); k##_i++)

static weft_pool *make_pool(size_t kind, size_t workers)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = workers;
    o.scheduler = (weft_sched_kind)kind;
    weft_pool *p = NULL;
    int rc = weft_pool_create(&p, &o);
    cr_assert_eq(rc, 0, "weft_pool_create: %d", rc);
    return p;
}

/* ---- tasks used by several tests ------------------------------------------ */

static int square(void *arg, void **result)
{
    long x = (long)arg;
    *result = (void *)(x * x);
    return 0;
}

static int fail_with(void *arg, void **result)
{
    (void)result;
    return (int)(long)arg;
}

static _Atomic int counter;

static int count_task(void *arg, void **result)
{
    (void)arg;
    (void)result;
    atomic_fetch_add(&counter, 1);
    return 0;
}

static void bump(void *arg)
{
    atomic_fetch_add((_Atomic int *)arg, 1);
}

/* ---- create / options --------------------------------------------------------- */

Test(pool, create_defaults_uses_affinity)
{
    weft_pool *p = NULL;
    cr_assert_eq(weft_pool_create(&p, NULL), 0);
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
    cr_assert_eq(weft_pool_workers(p), (size_t)CPU_COUNT(&set));
    weft_pool_destroy(p);
}

Test(pool, create_rejects_bad_options)
{
    weft_pool *p = (weft_pool *)0x1;
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    cr_assert_eq(weft_pool_create(NULL, NULL), EINVAL);
    o.max_workers = WEFT_POOL_MAX_WORKERS + 1;
    cr_assert_eq(weft_pool_create(&p, &o), EINVAL);
    o.max_workers = 1;
    o.scheduler = (weft_sched_kind)7;
    cr_assert_eq(weft_pool_create(&p, &o), EINVAL);
    o.scheduler = WEFT_SCHED_STEALING;
    o.stack_size = 1;
    cr_assert_eq(weft_pool_create(&p, &o), EINVAL);
    cr_assert_eq(p, (weft_pool *)0x1, "*p written on failure");
    o.stack_size = 256 * 1024;
    cr_assert_eq(weft_pool_create(&p, &o), 0);
    weft_pool_destroy(p);
    weft_pool_destroy(NULL);
}

static int read_name(void *arg, void **result)
{
    (void)arg;
    char *name = malloc(16);
    if (name == NULL)
        return ENOMEM;
    int rc = pthread_getname_np(pthread_self(), name, 16);
    *result = name;
    return rc;
}

Test(pool, workers_are_named)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
        o.max_workers = 2;
        o.scheduler = k;
        o.thread_name_prefix = "tp";
        weft_pool *p;
        cr_assert_eq(weft_pool_create(&p, &o), 0);
        weft_future *f;
        cr_assert_eq(weft_pool_submit(p, read_name, NULL, &f), 0);
        void *name = NULL;
        cr_assert_eq(weft_future_result(f, WEFT_FOREVER, &name), 0);
        cr_assert(strcmp(name, "tp_0") == 0 || strcmp(name, "tp_1") == 0, "name %s", (char *)name);
        free(name);
        weft_future_release(f);
        weft_pool_destroy(p);
    }
}

/* ---- submit ----------------------------------------------------------------- */

Test(pool, submit_result_and_error_codes)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 2);
        weft_future *f = NULL, *g = NULL;
        void *r = NULL;
        cr_assert_eq(weft_pool_submit(p, square, (void *)7L, &f), 0);
        cr_assert_eq(weft_future_result(f, WEFT_FOREVER, &r), 0);
        cr_assert_eq((long)r, 49);
        cr_assert_eq(weft_pool_submit(p, fail_with, (void *)42L, &g), 0);
        cr_assert_eq(weft_future_result(g, WEFT_FOREVER, NULL), 42);
        cr_assert_eq(weft_future_exception(g, 0), 42);
        weft_future_release(f);
        weft_future_release(g);

        cr_assert_eq(weft_pool_submit(NULL, square, NULL, &f), EINVAL);
        cr_assert_eq(weft_pool_submit(p, NULL, NULL, &f), EINVAL);

        atomic_store(&counter, 0);
        for (int i = 0; i < 100; i++)
            cr_assert_eq(weft_pool_submit(p, count_task, NULL, NULL), 0);
        cr_assert(reached(&counter, 100));
        weft_pool_destroy(p);
    }
}

Test(pool, submit_after_shutdown)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 2);
        cr_assert_eq(weft_pool_shutdown(p, false, false), 0);
        weft_future *f = (weft_future *)0x1;
        cr_assert_eq(weft_pool_submit(p, square, NULL, &f), ESHUTDOWN);
        cr_assert_eq(f, (weft_future *)0x1);
        cr_assert_eq(weft_pool_submit(p, square, NULL, NULL), ESHUTDOWN);
        weft_group g;
        weft_group_init(&g, p);
        cr_assert_eq(weft_group_run(&g, bump, NULL), ESHUTDOWN);
        cr_assert_eq(weft_pool_map(p, square, NULL, 0, NULL, 1, WEFT_FOREVER), ESHUTDOWN);
        cr_assert_eq(weft_pool_shutdown(p, true, false), 0);
        cr_assert_eq(weft_pool_shutdown(p, true, true), 0, "shutdown is idempotent");
        cr_assert_eq(weft_pool_shutdown(NULL, true, false), EINVAL);
        weft_pool_destroy(p);
    }
}

static int sleep_200ms(void *arg, void **result)
{
    (void)arg;
    (void)result;
    nap_ms(200);
    return 0;
}

Test(pool, sleeping_tasks_overlap)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 5);
        weft_future *fs[5];
        double t0 = now_s();
        for (int i = 0; i < 5; i++)
            cr_assert_eq(weft_pool_submit(p, sleep_200ms, NULL, &fs[i]), 0);
        for (int i = 0; i < 5; i++) {
            cr_assert_eq(weft_future_result(fs[i], WEFT_FOREVER, NULL), 0);
            weft_future_release(fs[i]);
        }
        double elapsed = now_s() - t0;
        cr_assert_geq(elapsed, 0.2 - 1e-3);
        cr_assert_lt(elapsed, 0.8, "5 x 0.2 s on 5 workers took %.3f s", elapsed);
        weft_pool_destroy(p);
    }
}

/* ---- nested waits ------------------------------------------------------------ */

static weft_pool *nest_pool;

static int nested(void *arg, void **result)
{
    long depth = (long)arg;
    if (depth == 0) {
        *result = (void *)1L;
        return 0;
    }
    weft_future *f;
    int rc = weft_pool_submit(nest_pool, nested, (void *)(depth - 1), &f);
    if (rc != 0)
        return rc;
    void *r = NULL;
    rc = weft_future_result(f, WEFT_FOREVER, &r);
    weft_future_release(f);
    *result = (void *)((long)r + 1);
    return rc;
}

Test(pool, nested_submit_result_one_worker)
{
    FOR_EACH_SCHED(k)
    {
        nest_pool = make_pool(k, 1);
        weft_future *f;
        cr_assert_eq(weft_pool_submit(nest_pool, nested, (void *)50L, &f), 0);
        void *r = NULL;
        cr_assert_eq(weft_future_result(f, 60.0, &r), 0, "nested waits deadlocked");
        cr_assert_eq((long)r, 51);
        weft_future_release(f);
        weft_pool_destroy(nest_pool);
    }
}

/* The helping hazard (rayon#592, oneTBB#324): T holds lock L and waits for
 * its child C; an unrelated task U that needs L is queued meanwhile. If the
 * wait helped by running U on T's thread, U would find L held by its own
 * thread. With one worker U must run only after T returns. */
static weft_lock hazard_lock = WEFT_LOCK_INIT;
static _Atomic int hazard_stage;  /* 1: T holds L; 2: U is queued */
static _Atomic int t_done, u_started_before_t_done, u_lock_rc;

static int child_task(void *arg, void **result)
{
    (void)arg;
    *result = (void *)5L;
    return 0;
}

static int unrelated_task(void *arg, void **result)
{
    (void)arg;
    (void)result;
    if (!atomic_load(&t_done))
        atomic_store(&u_started_before_t_done, 1);
    int rc = weft_lock_acquire(&hazard_lock, 2.0);
    atomic_store(&u_lock_rc, rc);
    if (rc == 0)
        weft_lock_release(&hazard_lock);
    return rc;
}

static void hazard_group_child(void *arg)
{
    *(long *)arg = 5;
}

static int holder_task(void *arg, void **result)
{
    long mode = (long)arg; /* 0: submit + result, 1: group, 2: weft_spawn + weft_sync */
    bool use_group = mode == 1;
    (void)result;
    if (weft_lock_acquire(&hazard_lock, 10.0) != 0)
        return EIO;
    atomic_store(&hazard_stage, 1);
    double end = now_s() + POLL_LIMIT;
    while (atomic_load(&hazard_stage) < 2 && now_s() < end)
        nap_ms(1);
    long got = 0;
    int rc;
    if (mode == 2) {
        weft_spawn(hazard_group_child, &got);
        weft_sync();
        rc = 0;
    } else if (use_group) {
        weft_group g;
        weft_group_init(&g, nest_pool);
        rc = weft_group_run(&g, hazard_group_child, &got);
        if (rc == 0)
            rc = weft_group_wait(&g);
    } else {
        weft_future *f;
        rc = weft_pool_submit(nest_pool, child_task, NULL, &f);
        if (rc == 0) {
            void *r = NULL;
            rc = weft_future_result(f, WEFT_FOREVER, &r);
            got = (long)r;
            weft_future_release(f);
        }
    }
    atomic_store(&t_done, 1);
    weft_lock_release(&hazard_lock);
    return rc == 0 && got == 5 ? 0 : EIO;
}

Test(pool, helping_never_runs_unrelated_tasks)
{
    FOR_EACH_SCHED(k)
    {
        for (long use_group = 0; use_group < 3; use_group++) {
            nest_pool = make_pool(k, 1);
            atomic_store(&hazard_stage, 0);
            atomic_store(&t_done, 0);
            atomic_store(&u_started_before_t_done, 0);
            atomic_store(&u_lock_rc, -1);
            weft_future *ft, *fu;
            cr_assert_eq(weft_pool_submit(nest_pool, holder_task, (void *)use_group, &ft), 0);
            cr_assert(reached(&hazard_stage, 1));
            cr_assert_eq(weft_pool_submit(nest_pool, unrelated_task, NULL, &fu), 0);
            atomic_store(&hazard_stage, 2);
            cr_assert_eq(weft_future_result(ft, 60.0, NULL), 0);
            cr_assert_eq(weft_future_result(fu, 60.0, NULL), 0);
            cr_assert_eq(atomic_load(&u_started_before_t_done), 0, "the wait ran an unrelated task");
            cr_assert_eq(atomic_load(&u_lock_rc), 0);
            weft_future_release(ft);
            weft_future_release(fu);
            weft_pool_destroy(nest_pool);
        }
    }
}

/* ---- groups ------------------------------------------------------------------- */

typedef struct fib_arg {
    weft_pool *pool;
    int n;
    long result;
} fib_arg;

static void fib(void *arg)
{
    fib_arg *a = arg;
    if (a->n < 2) {
        a->result = a->n;
        return;
    }
    fib_arg x = {a->pool, a->n - 1, 0}, y = {a->pool, a->n - 2, 0};
    weft_group g;
    weft_group_init(&g, a->pool);
    if (weft_group_run(&g, fib, &x) != 0)
        fib(&x);
    fib(&y);
    weft_group_wait(&g);
    a->result = x.result + y.result;
}

Test(pool, group_fib)
{
    FOR_EACH_SCHED(k)
    {
        for (size_t workers = 1; workers <= 4; workers *= 2) {
            weft_pool *p = make_pool(k, workers);
            fib_arg a = {p, 22, 0};
            weft_group g;
            weft_group_init(&g, p);
            cr_assert_eq(weft_group_run(&g, fib, &a), 0);
            cr_assert_eq(weft_group_wait(&g), 0);
            cr_assert_eq(a.result, 17711, "fib(22) = %ld on %zu workers", a.result, workers);
            /* from the caller's own thread, and the group is reusable */
            a.n = 15;
            fib(&a);
            cr_assert_eq(a.result, 610);
            weft_pool_destroy(p);
        }
    }
}

Test(pool, group_errors_and_reuse)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 2);
        weft_group g;
        weft_group_init(&g, p);
        cr_assert_eq(weft_group_run(NULL, bump, NULL), EINVAL);
        cr_assert_eq(weft_group_run(&g, NULL, NULL), EINVAL);
        cr_assert_eq(weft_group_wait(NULL), EINVAL);
        cr_assert_eq(weft_group_wait(&g), 0, "an empty group is done");
        _Atomic int hits = 0;
        for (int round = 1; round <= 3; round++) {
            for (int i = 0; i < 100; i++)
                cr_assert_eq(weft_group_run(&g, bump, &hits), 0);
            cr_assert_eq(weft_group_wait(&g), 0);
            cr_assert_eq(atomic_load(&hits), 100 * round);
        }
        weft_pool_destroy(p);
    }
}

/* ---- parallel_for ------------------------------------------------------------- */

typedef struct cover {
    _Atomic unsigned char *hits;
    size_t grain;
    _Atomic int oversized;
} cover;

static void mark_range(void *ctx, size_t lo, size_t hi)
{
    cover *c = ctx;
    if (c->grain != 0 && hi - lo > c->grain)
        atomic_store(&c->oversized, 1);
    for (size_t i = lo; i < hi; i++)
        atomic_fetch_add(&c->hits[i], 1);
}

static void check_cover(weft_pool *p, size_t begin, size_t end, size_t grain)
{
    cover c = {calloc(end + 1, 1), grain, 0};
    cr_assert_not_null(c.hits);
    cr_assert_eq(weft_parallel_for(p, begin, end, grain, mark_range, &c), 0);
    for (size_t i = 0; i <= end; i++)
        cr_assert_eq(c.hits[i], i >= begin && i < end ? 1 : 0, "index %zu hit %d times (grain %zu)", i,
                     c.hits[i], grain);
    cr_assert_eq(atomic_load(&c.oversized), 0, "a piece was larger than the grain %zu", grain);
    free((void *)c.hits);
}

static int loop_in_task(void *arg, void **result)
{
    (void)result;
    cover c = {calloc(5000, 1), 3, 0};
    if (c.hits == NULL)
        return ENOMEM;
    int rc = weft_parallel_for(arg, 0, 5000, 3, mark_range, &c);
    for (size_t i = 0; rc == 0 && i < 5000; i++)
        if (c.hits[i] != 1)
            rc = EIO;
    free((void *)c.hits);
    return rc;
}

Test(pool, parallel_for_covers_every_index_once)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 3);
        size_t grains[] = {0, 1, 7, 1000, 200000};
        for (size_t i = 0; i < sizeof grains / sizeof grains[0]; i++)
            check_cover(p, 0, 100000, grains[i]);
        check_cover(p, 17, 1017, 10);
        cr_assert_eq(weft_parallel_for(p, 5, 5, 1, mark_range, NULL), 0);
        cr_assert_eq(weft_parallel_for(p, 6, 5, 1, mark_range, NULL), EINVAL);
        cr_assert_eq(weft_parallel_for(p, 0, 5, 1, NULL, NULL), EINVAL);
        cr_assert_eq(weft_parallel_for(NULL, 0, 5, 1, mark_range, NULL), EINVAL);
        weft_future *f;
        cr_assert_eq(weft_pool_submit(p, loop_in_task, p, &f), 0);
        cr_assert_eq(weft_future_result(f, 60.0, NULL), 0);
        weft_future_release(f);
        weft_pool_destroy(p);
    }
}

Test(pool, parallel_for_in_task_one_worker)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 1);
        weft_future *f;
        cr_assert_eq(weft_pool_submit(p, loop_in_task, p, &f), 0);
        cr_assert_eq(weft_future_result(f, 60.0, NULL), 0);
        weft_future_release(f);
        weft_pool_destroy(p);
    }
}

/* ---- map ---------------------------------------------------------------------- */

static int square_or_fail(void *arg, void **result)
{
    long x = (long)arg;
    if (x == 20 || x == 300)
        return 100 + (int)x;
    *result = (void *)(x * x);
    return 0;
}

Test(pool, map_keeps_input_order)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 3);
        enum { N = 1000 };
        void **args = malloc(N * sizeof *args), **res = malloc(N * sizeof *res);
        for (long i = 0; i < N; i++)
            args[i] = (void *)i;
        size_t chunks[] = {0, 1, 7, 999, 1000, 5000};
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            memset(res, 0xff, N * sizeof *res);
            cr_assert_eq(weft_pool_map(p, square, args, N, res, chunks[c], WEFT_FOREVER), 0);
            for (long i = 0; i < N; i++)
                cr_assert_eq((long)res[i], i * i, "chunksize %zu item %ld", chunks[c], i);
        }
        cr_assert_eq(weft_pool_map(p, square_or_fail, args, N, res, 13, WEFT_FOREVER), 120,
                     "the first failing item in input order");
        cr_assert_eq((long)res[999], 999L * 999L, "items after a failure still run");
        cr_assert_eq(weft_pool_map(p, square, args, N, NULL, 4, WEFT_FOREVER), 0);
        cr_assert_eq(weft_pool_map(p, square, args, 0, res, 1, WEFT_FOREVER), 0);
        cr_assert_eq(weft_pool_map(p, square, NULL, 3, res, 1, WEFT_FOREVER), EINVAL);
        cr_assert_eq(weft_pool_map(p, NULL, args, 3, res, 1, WEFT_FOREVER), EINVAL);
        cr_assert_eq(weft_pool_map(NULL, square, args, 3, res, 1, WEFT_FOREVER), EINVAL);
        cr_assert_eq(weft_pool_map(p, square, args, 3, res, 1, NAN), EINVAL);
        free(args);
        free(res);
        weft_pool_destroy(p);
    }
}

/* Fails every 97th item from 5 on, with a code naming the item; item 5, the
 * first failure in input order, fails late, after later failures were seen. */
static int fail_spread(void *arg, void **result)
{
    long x = (long)arg;
    if (x % 97 != 5) {
        *result = (void *)(x + 1);
        return 0;
    }
    if (x == 5)
        nap_ms(20);
    return 1000 + (int)x;
}

Test(pool, map_first_error_in_input_order_across_claimers)
{
    FOR_EACH_SCHED(k)
    {
        size_t sizes[] = {1, 2, 4};
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            weft_pool *p = make_pool(k, sizes[s]);
            enum { N = 2000 };
            void **args = malloc(N * sizeof *args), **res = malloc(N * sizeof *res);
            for (long i = 0; i < N; i++)
                args[i] = (void *)i;
            size_t chunks[] = {1, 3, N + 10};
            for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
                memset(res, 0, N * sizeof *res);
                cr_assert_eq(weft_pool_map(p, fail_spread, args, N, res, chunks[c], WEFT_FOREVER), 1005,
                             "workers %zu chunksize %zu", sizes[s], chunks[c]);
                for (long i = 0; i < N; i++)
                    cr_assert_eq((long)res[i], i % 97 == 5 ? 0 : i + 1, "item %ld", i);
            }
            cr_assert_eq(weft_pool_map(p, fail_spread, args + 6, 1, res, 5, WEFT_FOREVER), 0, "n < chunksize");
            cr_assert_eq(weft_pool_map(p, fail_spread, args + 102, 1, res, 5, WEFT_FOREVER), 1102);
            cr_assert_eq(weft_pool_map(p, fail_spread, args, 0, NULL, 1, 0.0), 0, "n == 0");
            free(args);
            free(res);
            weft_pool_destroy(p);
        }
    }
}

static _Atomic int map_ran;

static int slow_item(void *arg, void **result)
{
    (void)arg;
    (void)result;
    atomic_fetch_add(&map_ran, 1);
    nap_ms(50);
    return 0;
}

Test(pool, map_timeout_cancels_the_rest)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 1);
        enum { N = 40 };
        void *args[N] = {0};
        atomic_store(&map_ran, 0);
        double t0 = now_s();
        int rc = weft_pool_map(p, slow_item, args, N, NULL, 1, 0.1);
        double elapsed = now_s() - t0;
        cr_assert_eq(rc, ETIMEDOUT);
        cr_assert_geq(elapsed, 0.1 - 1e-3);
        cr_assert_lt(elapsed, 2.0);
        int ran = atomic_load(&map_ran);
        nap_ms(300);
        cr_assert_eq(atomic_load(&map_ran), ran, "items started after map returned");
        cr_assert_lt(ran, N);
        weft_pool_destroy(p);
    }
}

static int fail_first_then_slow(void *arg, void **result)
{
    (void)result;
    if (arg == NULL)
        return 77;
    nap_ms(50);
    return 0;
}

Test(pool, map_timeout_reports_a_failure_before_the_unfinished_items)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 1);
        enum { N = 40 };
        void *args[N];
        for (size_t i = 0; i < N; i++)
            args[i] = i == 0 ? NULL : (void *)args;
        double t0 = now_s();
        cr_assert_eq(weft_pool_map(p, fail_first_then_slow, args, N, NULL, 1, 0.1), 77);
        cr_assert_lt(now_s() - t0, 2.0);
        weft_pool_destroy(p);
    }
}

static int map_in_task(void *arg, void **result)
{
    (void)result;
    void *args[64], *res[64];
    for (long i = 0; i < 64; i++)
        args[i] = (void *)i;
    int rc = weft_pool_map(arg, square, args, 64, res, 3, WEFT_FOREVER);
    for (long i = 0; rc == 0 && i < 64; i++)
        if ((long)res[i] != i * i)
            rc = EIO;
    return rc;
}

Test(pool, map_in_task_one_worker)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 1);
        weft_future *f;
        cr_assert_eq(weft_pool_submit(p, map_in_task, p, &f), 0);
        cr_assert_eq(weft_future_result(f, 60.0, NULL), 0);
        weft_future_release(f);
        weft_pool_destroy(p);
    }
}

/* ---- as_completed ------------------------------------------------------------- */

static int maybe_fail(void *arg, void **result)
{
    long i = (long)arg;
    nap_ms(5 * (i % 3));
    *result = arg;
    return i == 3 ? 77 : 0;
}

Test(pool, as_completed_with_a_failing_task)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 2);
        weft_future *fs[6];
        for (long i = 0; i < 6; i++)
            cr_assert_eq(weft_pool_submit(p, maybe_fail, (void *)i, &fs[i]), 0);
        weft_as_completed *it;
        cr_assert_eq(weft_as_completed_begin(&it, fs, 6, 30.0), 0);
        weft_future *f;
        int yielded = 0, failures = 0, rc;
        while ((rc = weft_as_completed_next(it, &f)) == 0) {
            yielded++;
            cr_assert(weft_future_done(f));
            int code = weft_future_exception(f, 0);
            if (code != 0) {
                cr_assert_eq(code, 77);
                cr_assert_eq(f, fs[3]);
                failures++;
            }
        }
        cr_assert_eq(rc, ENOENT);
        cr_assert_eq(yielded, 6);
        cr_assert_eq(failures, 1);
        weft_as_completed_end(it);
        for (int i = 0; i < 6; i++)
            weft_future_release(fs[i]);
        weft_pool_destroy(p);
    }
}

/* ---- waits inside a task that must sleep ---------------------------------------
 * A task waits for a future whose task another worker runs (submitted from
 * outside, so the helping rule gives the waiter nothing to run): the wait must
 * park and be woken by the completion. Each way of waiting is checked: a timed
 * wait that expires first, then result, as_completed and weft_wait. A lost
 * wake-up shows as ETIMEDOUT after the 30 s limit. */

static _Atomic int slow_started;

static int slow_value(void *arg, void **result)
{
    atomic_store(&slow_started, 1);
    nap_ms(30);
    *result = arg;
    return 0;
}

typedef struct far_wait {
    weft_future *f;
    int how; /* 0 result, 1 as_completed, 2 weft_wait */
} far_wait;

static int wait_far(void *arg, void **result)
{
    far_wait *w = arg;
    /* Usually expires first; on a loaded machine the slow task may be done. */
    if (w->how == 0) {
        int early = weft_future_result(w->f, 0.001, NULL);
        if (early != ETIMEDOUT && !(early == 0 && weft_future_done(w->f)))
            return EPROTO;
    }
    int rc;
    void *r = NULL;
    if (w->how == 0) {
        rc = weft_future_result(w->f, POLL_LIMIT, &r);
    } else if (w->how == 1) {
        weft_as_completed *it;
        weft_future *got = NULL;
        if ((rc = weft_as_completed_begin(&it, &w->f, 1, POLL_LIMIT)) != 0)
            return rc;
        rc = weft_as_completed_next(it, &got);
        weft_as_completed_end(it);
        if (rc == 0 && got != w->f)
            return EPROTO;
        if (rc == 0)
            rc = weft_future_result(w->f, 0, &r);
    } else {
        size_t ndone = 0;
        rc = weft_wait(&w->f, 1, POLL_LIMIT, WEFT_ALL_COMPLETED, &ndone);
        if (rc == 0 && ndone != 1)
            return EPROTO;
        if (rc == 0)
            rc = weft_future_result(w->f, 0, &r);
    }
    *result = r;
    return rc;
}

Test(pool, waits_in_a_task_for_another_workers_task_are_woken)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 2);
        for (int how = 0; how < 3; how++) {
            for (long i = 0; i < 4; i++) {
                weft_future *slow, *waiter;
                atomic_store(&slow_started, 0);
                cr_assert_eq(weft_pool_submit(p, slow_value, (void *)(i + 10), &slow), 0);
                double end = now_s() + POLL_LIMIT;
                while (!atomic_load(&slow_started) && now_s() < end)
                    nap_ms(1);
                cr_assert(atomic_load(&slow_started), "the slow task never started");
                far_wait w = {slow, how};
                cr_assert_eq(weft_pool_submit(p, wait_far, &w, &waiter), 0);
                void *r = NULL;
                int rc = weft_future_result(waiter, 2 * POLL_LIMIT, &r);
                cr_assert_eq(rc, 0, "wait %d inside a task returned %d", how, rc);
                cr_assert_eq((long)r, i + 10);
                weft_future_release(waiter);
                weft_future_release(slow);
            }
        }
        weft_pool_destroy(p);
    }
}

/* ---- initializer ---------------------------------------------------------------- */

static _Atomic int inits;

static int init_ok(void *arg)
{
    (void)arg;
    atomic_fetch_add(&inits, 1);
    return 0;
}

static int read_inits(void *arg, void **result)
{
    (void)arg;
    *result = (void *)(long)atomic_load(&inits);
    return 0;
}

static int init_fail_once(void *arg)
{
    /* the second worker to start fails */
    return atomic_fetch_add(&inits, 1) == 1 ? (int)(long)arg : 0;
}

Test(pool, initializer_runs_on_every_worker_first)
{
    FOR_EACH_SCHED(k)
    {
        atomic_store(&inits, 0);
        weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
        o.max_workers = 3;
        o.scheduler = k;
        o.initializer = init_ok;
        weft_pool *p;
        cr_assert_eq(weft_pool_create(&p, &o), 0);
        weft_future *f;
        cr_assert_eq(weft_pool_submit(p, read_inits, NULL, &f), 0);
        void *r = NULL;
        cr_assert_eq(weft_future_result(f, WEFT_FOREVER, &r), 0);
        cr_assert_eq((long)r, 3, "a task ran before every initializer returned");
        weft_future_release(f);
        weft_pool_destroy(p);
    }
}

Test(pool, failing_initializer_breaks_the_pool)
{
    FOR_EACH_SCHED(k)
    {
        atomic_store(&inits, 0);
        atomic_store(&counter, 0);
        weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
        o.max_workers = 3;
        o.scheduler = k;
        o.initializer = init_fail_once;
        o.initarg = (void *)5L;
        weft_pool *p;
        cr_assert_eq(weft_pool_create(&p, &o), 0);
        weft_future *f;
        int rc = weft_pool_submit(p, square, (void *)3L, &f);
        if (rc == 0) {
            cr_assert_eq(weft_future_result(f, WEFT_FOREVER, NULL), EPIPE);
            weft_future_release(f);
        } else {
            cr_assert_eq(rc, EPIPE);
        }
        (void)weft_pool_submit(p, count_task, NULL, NULL);
        /* the future failed, so the pool is known broken: everything refuses */
        cr_assert_eq(weft_pool_submit(p, square, NULL, &f), EPIPE);
        weft_group g;
        weft_group_init(&g, p);
        cr_assert_eq(weft_group_run(&g, bump, NULL), EPIPE);
        cr_assert_eq(weft_parallel_for(p, 0, 10, 1, mark_range, NULL), EPIPE);
        cr_assert_eq(weft_pool_map(p, square, (void *const *)&p, 1, NULL, 1, WEFT_FOREVER), EPIPE);
        weft_pool_destroy(p);
        cr_assert_eq(atomic_load(&counter), 0, "a task ran in a broken pool");
    }
}

/* ---- shutdown --------------------------------------------------------------------- */

static _Atomic int gate_open, blocker_running;

static int blocker(void *arg, void **result)
{
    (void)arg;
    (void)result;
    atomic_store(&blocker_running, 1);
    double end = now_s() + POLL_LIMIT;
    while (!atomic_load(&gate_open) && now_s() < end)
        nap_ms(1);
    return 0;
}

Test(pool, shutdown_cancel_futures)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 1);
        atomic_store(&gate_open, 0);
        atomic_store(&blocker_running, 0);
        atomic_store(&counter, 0);
        weft_future *fb, *fs[10];
        cr_assert_eq(weft_pool_submit(p, blocker, NULL, &fb), 0);
        cr_assert(reached(&blocker_running, 1));
        for (int i = 0; i < 10; i++)
            cr_assert_eq(weft_pool_submit(p, count_task, NULL, &fs[i]), 0);
        for (int i = 0; i < 5; i++)
            cr_assert_eq(weft_pool_submit(p, count_task, NULL, NULL), 0);
        cr_assert_eq(weft_pool_shutdown(p, false, true), 0);
        for (int i = 0; i < 10; i++)
            cr_assert(weft_future_cancelled(fs[i]), "future %d not cancelled by shutdown", i);
        cr_assert(weft_future_running(fb));
        atomic_store(&gate_open, 1);
        cr_assert_eq(weft_pool_shutdown(p, true, false), 0);
        cr_assert_eq(weft_future_result(fb, 0, NULL), 0);
        for (int i = 0; i < 10; i++) {
            cr_assert_eq(weft_future_result(fs[i], 0, NULL), ECANCELED);
            weft_future_release(fs[i]);
        }
        weft_future_release(fb);
        cr_assert_eq(atomic_load(&counter), 0, "a dropped task ran");
        weft_pool_counters c;
        cr_assert_eq(weft_pool_stats(p, &c, NULL, 0), 0);
        cr_assert_eq(c.tasks_cancelled, 15);
        cr_assert_eq(c.tasks_run, 1);
        weft_pool_destroy(p);
    }
}

Test(pool, shutdown_wait_runs_every_queued_task)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 1);
        atomic_store(&gate_open, 0);
        atomic_store(&blocker_running, 0);
        atomic_store(&counter, 0);
        cr_assert_eq(weft_pool_submit(p, blocker, NULL, NULL), 0);
        cr_assert(reached(&blocker_running, 1));
        for (int i = 0; i < 10000; i++)
            cr_assert_eq(weft_pool_submit(p, count_task, NULL, NULL), 0);
        atomic_store(&gate_open, 1);
        cr_assert_eq(weft_pool_shutdown(p, true, false), 0);
        cr_assert_eq(atomic_load(&counter), 10000);
        weft_pool_destroy(p);
    }
}

static int shutdown_from_task(void *arg, void **result)
{
    (void)result;
    int rc = weft_pool_shutdown(arg, true, false);
    if (rc != EDEADLK)
        return EIO;
    return weft_pool_shutdown(arg, false, false);
}

static int submit_in_task_after_shutdown(void *arg, void **result)
{
    (void)result;
    weft_group g;
    weft_group_init(&g, arg);
    _Atomic int hits = 0;
    if (weft_pool_submit(arg, square, NULL, NULL) != ESHUTDOWN)
        return EIO;
    int rc = weft_group_run(&g, bump, &hits);
    if (rc == 0)
        rc = weft_group_wait(&g);
    return rc == 0 && atomic_load(&hits) == 1 ? 0 : EIO;
}

Test(pool, shutdown_from_inside_a_task)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 2);
        weft_future *f;
        atomic_store(&gate_open, 0);
        atomic_store(&blocker_running, 0);
        cr_assert_eq(weft_pool_submit(p, blocker, NULL, NULL), 0);
        cr_assert_eq(weft_pool_submit(p, shutdown_from_task, p, &f), 0);
        cr_assert_eq(weft_future_result(f, 60.0, NULL), 0, "EDEADLK, then shutdown(wait=false)");
        cr_assert_eq(weft_pool_submit(p, square, NULL, NULL), ESHUTDOWN);
        weft_future_release(f);
        atomic_store(&gate_open, 1);
        weft_pool_destroy(p);
    }
}

static _Atomic int structured_rc = -1;

static int structured_after_shutdown(void *arg, void **result)
{
    (void)result;
    double end = now_s() + POLL_LIMIT;
    while (!atomic_load(&gate_open) && now_s() < end)
        nap_ms(1);
    atomic_store(&structured_rc, submit_in_task_after_shutdown(arg, NULL));
    return 0;
}

Test(pool, running_tasks_may_still_fork_join_after_shutdown)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 2);
        atomic_store(&gate_open, 0);
        atomic_store(&structured_rc, -1);
        cr_assert_eq(weft_pool_submit(p, structured_after_shutdown, p, NULL), 0);
        cr_assert_eq(weft_pool_shutdown(p, false, false), 0);
        atomic_store(&gate_open, 1);
        cr_assert_eq(weft_pool_shutdown(p, true, false), 0);
        cr_assert_eq(atomic_load(&structured_rc), 0);
        weft_pool_destroy(p);
    }
}

typedef struct racer {
    weft_pool *pool;
    int accepted, refused, other;
} racer;

static void *submit_racer(void *arg)
{
    racer *r = arg;
    for (int i = 0; i < 20000; i++) {
        int rc = weft_pool_submit(r->pool, count_task, NULL, NULL);
        if (rc == 0)
            r->accepted++;
        else if (rc == ESHUTDOWN)
            r->refused++;
        else
            r->other++;
        if (rc == ESHUTDOWN && r->refused > 100)
            break;
    }
    return NULL;
}

Test(pool, submissions_racing_shutdown_run_or_are_refused)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 2);
        atomic_store(&counter, 0);
        racer rs[3] = {{p, 0, 0, 0}, {p, 0, 0, 0}, {p, 0, 0, 0}};
        pthread_t th[3];
        for (int i = 0; i < 3; i++)
            cr_assert_eq(pthread_create(&th[i], NULL, submit_racer, &rs[i]), 0);
        nap_ms(2);
        cr_assert_eq(weft_pool_shutdown(p, true, false), 0);
        int accepted = 0;
        for (int i = 0; i < 3; i++) {
            cr_assert_eq(pthread_join(th[i], NULL), 0);
            cr_assert_eq(rs[i].other, 0);
            accepted += rs[i].accepted;
        }
        cr_assert_eq(atomic_load(&counter), accepted, "accepted %d, ran %d", accepted, atomic_load(&counter));
        weft_pool_destroy(p);
    }
}

/* ---- cancel a queued future --------------------------------------------------------- */

Test(pool, user_cancel_of_a_queued_future)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 1);
        atomic_store(&gate_open, 0);
        atomic_store(&blocker_running, 0);
        atomic_store(&counter, 0);
        cr_assert_eq(weft_pool_submit(p, blocker, NULL, NULL), 0);
        cr_assert(reached(&blocker_running, 1));
        weft_future *f;
        cr_assert_eq(weft_pool_submit(p, count_task, NULL, &f), 0);
        cr_assert(weft_future_cancel(f));
        atomic_store(&gate_open, 1);
        cr_assert_eq(weft_pool_shutdown(p, true, false), 0);
        cr_assert_eq(weft_future_result(f, 0, NULL), ECANCELED);
        cr_assert_eq(atomic_load(&counter), 0);
        weft_future_release(f);
        weft_pool_destroy(p);
    }
}

/* ---- statistics ------------------------------------------------------------------------ */

Test(pool, stats_are_consistent)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 3);
        atomic_store(&counter, 0);
        for (int i = 0; i < 500; i++)
            cr_assert_eq(weft_pool_submit(p, count_task, NULL, NULL), 0);
        fib_arg a = {p, 12, 0};
        weft_group g;
        weft_group_init(&g, p);
        cr_assert_eq(weft_group_run(&g, fib, &a), 0);
        cr_assert_eq(weft_group_wait(&g), 0);
        cr_assert_eq(weft_pool_shutdown(p, true, false), 0);
        weft_pool_counters c;
        weft_pool_worker_counters per[3];
        cr_assert_eq(weft_pool_stats(p, &c, per, 3), 0);
        /* fib(12) spawns one task per call with n >= 2: fib(13) - 1 = 232 */
        cr_assert_eq(c.tasks_submitted, 500 + 1 + 232, "submitted %lu", (unsigned long)c.tasks_submitted);
        cr_assert_eq(c.tasks_run, c.tasks_submitted, "run %lu", (unsigned long)c.tasks_run);
        cr_assert_eq(c.tasks_cancelled, 0);
        cr_assert_eq(c.workers, 3);
        uint64_t run = 0, steals = 0, parks = 0, wakeups = 0;
        for (int i = 0; i < 3; i++) {
            run += per[i].tasks_run;
            steals += per[i].steals;
            parks += per[i].parks;
            wakeups += per[i].wakeups;
            cr_assert_leq(per[i].tasks_helped, per[i].tasks_run);
            cr_assert_leq(per[i].wakeups, per[i].parks);
        }
        cr_assert_eq(run, c.tasks_run);
        cr_assert_eq(steals, c.steals);
        cr_assert_eq(parks, c.parks);
        cr_assert_eq(wakeups, c.wakeups);
        if (k == WEFT_SCHED_MUTEX)
            cr_assert_eq(c.steals, 0, "the mutex scheduler never steals");
        cr_assert_eq(weft_pool_stats(p, NULL, NULL, 0), 0);
        cr_assert_eq(weft_pool_stats(p, NULL, NULL, 1), EINVAL);
        cr_assert_eq(weft_pool_stats(NULL, &c, NULL, 0), EINVAL);
        weft_pool_destroy(p);
    }
}

/* ---- idle --------------------------------------------------------------------------------- */

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

Test(pool, idle_pool_burns_no_cpu)
{
    FOR_EACH_SCHED(k)
    {
        weft_pool *p = make_pool(k, 8);
        atomic_store(&counter, 0);
        for (int i = 0; i < 100; i++)
            cr_assert_eq(weft_pool_submit(p, count_task, NULL, NULL), 0);
        cr_assert(reached(&counter, 100));
        nap_ms(100);
        weft_pool_counters before, after;
        cr_assert_eq(weft_pool_stats(p, &before, NULL, 0), 0);
        double c0 = cpu_s();
        nap_ms(500);
        double used = cpu_s() - c0;
        cr_assert_eq(weft_pool_stats(p, &after, NULL, 0), 0);
        cr_assert_lt(used, 0.05, "an idle 8-worker pool used %.3f s of CPU in 0.5 s", used);
        cr_assert_eq(after.wakeups, before.wakeups, "idle workers woke up");
        weft_pool_destroy(p);
    }
}

/* ---- a task blocked in a weft primitive does not stall reclamation --------
 * Task A blocks on an event. Task B, on the other worker, spawns ever larger
 * batches, so its deque grows again and again and retires each old buffer
 * through call_rcu. A grace period needs every registered thread quiescent
 * or offline: if A's worker stayed online while it blocks, no retired buffer
 * would ever be freed. */
static weft_event reclaim_gate;
static _Atomic int reclaim_blocked;

static int block_on_gate(void *arg, void **result)
{
    (void)arg;
    (void)result;
    atomic_store(&reclaim_blocked, 1);
    return weft_event_wait(&reclaim_gate, WEFT_FOREVER);
}

static void nothing(void *arg)
{
    (void)arg;
}

static int grow_deque(void *arg, void **result)
{
    (void)result;
    weft_pool *p = arg;
    for (size_t n = 512; n <= ((size_t)1 << 16); n *= 2) {
        weft_group g;
        weft_group_init(&g, p);
        for (size_t i = 0; i < n; i++)
            if (weft_group_run(&g, nothing, NULL) != 0)
                return EIO;
        if (weft_group_wait(&g) != 0)
            return EIO;
    }
    return 0;
}

Test(pool, blocked_task_does_not_stall_reclamation)
{
    weft_event_init(&reclaim_gate);
    weft_pool *p = make_pool(WEFT_SCHED_STEALING, 2);
    weft_future *a, *b;
    cr_assert_eq(weft_pool_submit(p, block_on_gate, NULL, &a), 0);
    cr_assert(reached(&reclaim_blocked, 1));
    nap_ms(20); /* A is asleep in weft_event_wait by now */
    uint64_t before = atomic_load(&weft__deque_buffers_reclaimed);
    cr_assert_eq(weft_pool_submit(p, grow_deque, p, &b), 0);
    cr_assert_eq(weft_future_result(b, POLL_LIMIT, NULL), 0);
    /* 256 -> 65536 slots: 8 buffers retired; wait for some to be freed */
    double end = now_s() + POLL_LIMIT;
    while (atomic_load(&weft__deque_buffers_reclaimed) < before + 4 && now_s() < end)
        nap_ms(5);
    uint64_t freed = atomic_load(&weft__deque_buffers_reclaimed) - before;
    weft_event_set(&reclaim_gate);
    cr_assert_eq(weft_future_result(a, POLL_LIMIT, NULL), 0);
    weft_future_release(a);
    weft_future_release(b);
    weft_pool_destroy(p);
    cr_assert_geq(freed, 4, "retired deque buffers freed while a task blocks: %llu",
                  (unsigned long long)freed);
}

/* ---- outside work is not starved by fork-joins run by helping --------------
 * One worker. A task spawns FAIR_PIECES pieces onto its own deque (a group
 * that the test thread waits on) and returns; the worker then runs them at
 * loop level, and each piece runs a whole fork-join (fib) by helping. A
 * probe submitted from outside while they run must start within a few
 * pieces: the injector check counts helped tasks. (When only
 * loop-level tasks counted, the probe waited for 61 pieces.) Counted in
 * pieces, not seconds, so the load of the machine does not matter. */
#define FAIR_PIECES 100
static weft_pool *fair_pool;
static weft_group fair_group;
static _Atomic int fair_pieces_started, fair_probe_saw = -1;

static void fair_piece(void *arg)
{
    (void)arg;
    atomic_fetch_add(&fair_pieces_started, 1);
    fib_arg a = {fair_pool, 20, 0};
    fib(&a);
}

static int fair_spawner(void *arg, void **result)
{
    (void)arg;
    (void)result;
    for (int i = 0; i < FAIR_PIECES; i++)
        if (weft_group_run(&fair_group, fair_piece, NULL) != 0)
            return EIO;
    return 0;
}

static int fair_probe(void *arg, void **result)
{
    (void)arg;
    (void)result;
    atomic_store(&fair_probe_saw, atomic_load(&fair_pieces_started));
    return 0;
}

Test(pool, outside_task_not_starved_by_helped_fork_joins)
{
    fair_pool = make_pool(WEFT_SCHED_STEALING, 1);
    weft_group_init(&fair_group, fair_pool);
    weft_future *s, *probe;
    cr_assert_eq(weft_pool_submit(fair_pool, fair_spawner, NULL, &s), 0);
    cr_assert_eq(weft_future_result(s, POLL_LIMIT, NULL), 0);
    cr_assert(reached(&fair_pieces_started, 1));
    int at_submit = atomic_load(&fair_pieces_started);
    cr_assert_eq(weft_pool_submit(fair_pool, fair_probe, NULL, &probe), 0);
    cr_assert_eq(weft_future_result(probe, POLL_LIMIT, NULL), 0);
    cr_assert_eq(weft_group_wait(&fair_group), 0);
    int saw = atomic_load(&fair_probe_saw);
    weft_future_release(s);
    weft_future_release(probe);
    weft_pool_destroy(fair_pool);
    cr_assert(at_submit < FAIR_PIECES / 2, "the pieces ran too fast to test (%d before the probe)", at_submit);
    cr_assert(saw - at_submit <= 3, "the probe, submitted after %d pieces had started, started after %d", at_submit,
              saw);
}

/* ---- weft_spawn / weft_sync --------------------------------------------------- */

static int sfib_task(void *arg, void **result)
{
    (void)result;
    spawn_fib(arg);
    return 0;
}

/* A fork-join that starts while every other worker sleeps must get them up:
 * the two halves of the root meet (each waits, polling, for the other to
 * have started), which they can only do on two threads. weft_spawn is plain
 * stores, so nothing but the worker loop's ask-to-share when sleepers exist
 * (worker.c) wakes a sleeper for the spawned half. Before it, the woken
 * worker took the root from the injector without searching, nobody woke
 * the other one, and the halves never met (test_spare under ASan, 1 run in
 * 4). */
static _Atomic int meet_arrived;
static _Atomic int meet_ok;

static void meet_half(void *arg)
{
    (void)arg;
    atomic_fetch_add(&meet_arrived, 1);
    double end = now_s() + 10.0;
    while (atomic_load(&meet_arrived) < 2 && now_s() < end)
        ;
    if (atomic_load(&meet_arrived) >= 2)
        atomic_fetch_add(&meet_ok, 1);
}

static int meet_root(void *arg, void **result)
{
    (void)arg;
    (void)result;
    weft_spawn(meet_half, NULL);
    meet_half(NULL);
    weft_sync();
    return 0;
}

Test(pool, spawn_wakes_a_sleeping_worker_for_the_spawned_half)
{
    for (int round = 0; round < 3; round++) {
        weft_pool *p = make_pool(WEFT_SCHED_STEALING, 2);
        /* Both workers asleep first. */
        weft_pool_counters c;
        double end = now_s() + POLL_LIMIT;
        while (weft_pool_stats(p, &c, NULL, 0) == 0 && c.parks - c.wakeups < 2 && now_s() < end)
            nap_ms(1);
        cr_assert_eq(c.parks - c.wakeups, 2, "the workers did not go to sleep");
        atomic_store(&meet_arrived, 0);
        atomic_store(&meet_ok, 0);
        weft_future *f;
        cr_assert_eq(weft_pool_submit(p, meet_root, NULL, &f), 0);
        cr_assert_eq(weft_future_result(f, POLL_LIMIT, NULL), 0);
        weft_future_release(f);
        weft_pool_destroy(p);
        cr_assert_eq(atomic_load(&meet_ok), 2, "round %d: the spawned half ran after its sibling gave up", round);
    }
}

Test(pool, spawn_sync_fib)
{
    FOR_EACH_SCHED(k)
    {
        for (size_t workers = 1; workers <= 4; workers *= 2) {
            weft_pool *p = make_pool(k, workers);
            for (int rep = 0; rep < 3; rep++) {
                spawn_fib_arg a = {24, 0};
                weft_future *f;
                cr_assert_eq(weft_pool_submit(p, sfib_task, &a, &f), 0);
                cr_assert_eq(weft_future_result(f, POLL_LIMIT, NULL), 0);
                weft_future_release(f);
                cr_assert_eq(a.result, 46368, "sfib(24) = %ld on %zu workers", a.result, workers);
            }
            weft_pool_destroy(p);
        }
    }
    /* outside any pool: spawn runs at once, sync does nothing */
    spawn_fib_arg a = {15, 0};
    spawn_fib(&a);
    cr_assert_eq(a.result, 610);
    weft_sync();
}

/* A task that spawns more frames than the stack holds (the rest run at
 * once), joins only some of them, and leaves the others to the implicit
 * sync; the spawns of a group task are joined before its group counts it. */
static _Atomic int leaf_runs;

static void count_leaf(void *arg)
{
    (void)arg;
    atomic_fetch_add(&leaf_runs, 1);
}

static int spawn_many(void *arg, void **result)
{
    (void)result;
    int n = (int)(long)arg;
    for (int i = 0; i < n; i++)
        weft_spawn(count_leaf, NULL);
    for (int i = 0; i < n / 2; i++)
        weft_sync();
    return 0; /* the other half: implicit sync */
}

static void spawn_and_leave(void *arg)
{
    (void)arg;
    weft_spawn(count_leaf, NULL);
    weft_spawn(count_leaf, NULL);
}

Test(pool, spawn_overflow_and_implicit_sync)
{
    FOR_EACH_SCHED(k)
    {
        for (size_t workers = 1; workers <= 2; workers++) {
            weft_pool *p = make_pool(k, workers);
            atomic_store(&leaf_runs, 0);
            weft_future *f;
            cr_assert_eq(weft_pool_submit(p, spawn_many, (void *)3000L, &f), 0);
            cr_assert_eq(weft_future_result(f, POLL_LIMIT, NULL), 0);
            weft_future_release(f);
            cr_assert_eq(atomic_load(&leaf_runs), 3000);
            atomic_store(&leaf_runs, 0);
            weft_group g;
            weft_group_init(&g, p);
            for (int i = 0; i < 100; i++)
                cr_assert_eq(weft_group_run(&g, spawn_and_leave, NULL), 0);
            cr_assert_eq(weft_group_wait(&g), 0);
            cr_assert_eq(atomic_load(&leaf_runs), 200);
            weft_pool_destroy(p);
        }
    }
}

/* A task spawns a frame and then blocks in weft_event_wait until that frame
 * has run: the before-block hook shares the frame, another worker steals
 * it. (With one worker this would deadlock, as any wait on work that only
 * the waiter could run does.) */
typedef struct spawn_block_arg {
    weft_event ev;
    _Atomic int ran;
} spawn_block_arg;

static void set_ev(void *arg)
{
    spawn_block_arg *a = arg;
    atomic_store(&a->ran, 1);
    weft_event_set(&a->ev);
}

static int spawn_then_block(void *arg, void **result)
{
    (void)result;
    spawn_block_arg *a = arg;
    weft_spawn(set_ev, a);
    int rc = weft_event_wait(&a->ev, POLL_LIMIT);
    weft_sync();
    return rc;
}

Test(pool, spawned_frame_runs_while_spawner_blocks)
{
    weft_pool *p = make_pool(WEFT_SCHED_STEALING, 2);
    for (int i = 0; i < 200; i++) {
        spawn_block_arg a;
        weft_event_init(&a.ev);
        atomic_init(&a.ran, 0);
        weft_future *f;
        cr_assert_eq(weft_pool_submit(p, spawn_then_block, &a, &f), 0);
        cr_assert_eq(weft_future_result(f, 2 * POLL_LIMIT, NULL), 0, "iteration %d", i);
        weft_future_release(f);
        cr_assert_eq(atomic_load(&a.ran), 1);
    }
    weft_pool_counters c;
    cr_assert_eq(weft_pool_stats(p, &c, NULL, 0), 0);
    cr_assert_geq(c.steals, 200, "every frame was stolen: %llu steals", (unsigned long long)c.steals);
    weft_pool_destroy(p);
}

/* ---- a burst of outside submissions to an idle pool (issue 8 item 6) -------
 * "Every needed worker comes up": N tasks that each wait on a barrier of N
 * can only all pass it if N workers run at once; the barrier's generous
 * timeout turns a worker left asleep into a failure (ETIMEDOUT), not a hang.
 * "Without a thundering herd": weft_pool_stats counts every return of a
 * worker from its idle sleep (wakeups). By the wake-up rule (the bound in
 * sched/idle.c's design note) a burst of k submissions wakes at
 * most 2k workers, and exactly k when the tasks keep running (as these do,
 * until the barrier opens): each woken worker then finds a task at its
 * first look, so no search, and no chained wake-up, starts. Asserted: at
 * most N + 2 for the burst of N (2 spare for spurious wake-ups), at most 2
 * for a single submission, not all N. Counted between two moments at which
 * every worker sleeps (parks - wakeups == N), so no wake-up of the burst is
 * missed and none from before is counted. Measured: exactly N and 1, 30 of
 * 30 runs, both schedulers. */
static _Atomic int burst_ok, burst_done;

static int burst_task(void *arg, void **result)
{
    (void)result;
    if (weft_barrier_wait(arg, 10.0, NULL) == 0)
        atomic_fetch_add(&burst_ok, 1);
    atomic_fetch_add(&burst_done, 1);
    return 0;
}

static int burst_single(void *arg, void **result)
{
    (void)arg;
    (void)result;
    atomic_fetch_add(&burst_ok, 1);
    atomic_fetch_add(&burst_done, 1);
    return 0;
}

/* Waits until every worker of p sleeps; returns the wake-ups so far. */
static uint64_t all_asleep(weft_pool *p, size_t workers)
{
    double end = now_s() + POLL_LIMIT;
    for (;;) {
        weft_pool_counters c;
        cr_assert_eq(weft_pool_stats(p, &c, NULL, 0), 0);
        if (c.parks - c.wakeups == workers)
            return c.wakeups;
        cr_assert(now_s() < end, "the pool never went idle (%llu parks, %llu wakeups)",
                  (unsigned long long)c.parks, (unsigned long long)c.wakeups);
        nap_ms(1);
    }
}

Test(pool, burst_to_idle_pool_wakes_every_needed_worker_without_a_herd)
{
    static const size_t sizes[] = {4, 8};
    FOR_EACH_SCHED(k)
    {
        for (size_t si = 0; si < 2; si++) {
            size_t n = sizes[si];
            weft_pool *p = make_pool(k, n);
            for (int round = 0; round < 5; round++) {
                /* N barrier tasks at once. */
                weft_barrier b;
                cr_assert_eq(weft_barrier_init(&b, n, NULL, NULL, WEFT_FOREVER), 0);
                atomic_store(&burst_ok, 0);
                atomic_store(&burst_done, 0);
                uint64_t w0 = all_asleep(p, n);
                for (size_t i = 0; i < n; i++)
                    cr_assert_eq(weft_pool_submit(p, burst_task, &b, NULL), 0);
                cr_assert(reached(&burst_done, (int)n));
                cr_assert_eq(atomic_load(&burst_ok), (int)n,
                             "sched %zu, %zu workers, round %d: only %d of %zu tasks passed the barrier "
                             "(workers left asleep)",
                             k, n, round, atomic_load(&burst_ok), n);
                uint64_t woke = all_asleep(p, n) - w0;
                cr_assert_leq(woke, n + 2, "sched %zu: a burst of %zu woke workers %llu times", k, n,
                              (unsigned long long)woke);

                /* One task: one worker, not the herd. */
                atomic_store(&burst_ok, 0);
                atomic_store(&burst_done, 0);
                w0 = all_asleep(p, n);
                cr_assert_eq(weft_pool_submit(p, burst_single, NULL, NULL), 0);
                cr_assert(reached(&burst_done, 1));
                woke = all_asleep(p, n) - w0;
                cr_assert_leq(woke, 2, "sched %zu: one submission to %zu idle workers woke %llu", k, n,
                              (unsigned long long)woke);
            }
            weft_pool_destroy(p);
        }
    }
}
