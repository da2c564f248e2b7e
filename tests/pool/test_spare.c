/* tests/pool/test_spare.c: the stealing scheduler's spare thread
 * (src/sched/spare.c): outside work is not held back by a long fork-join
 * (issue 8), and the spare never runs beside workers busy with ordinary
 * tasks.
 *
 * The fork-join used here is the shape that starved outside work: every
 * worker inside one long loop-level task (the root, which spawns one half
 * and runs the other; a second worker steals the spawned half), each half
 * spawning and joining in a loop until the probe has started or CAP_S
 * passed. Without the spare (no_spare, and the code before it) the probe
 * starts only once the fork-join ends, after CAP_S.
 *
 * Tasks never call cr_assert: they record what they saw in atomics that the
 * test thread checks. Time bounds are generous (a loaded 2-core machine).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>

#include "weft.h"

#define POLL_LIMIT 60.0
#include "../spawn_fib.h"
#include "pool_test.h"

static weft_pool *make_pool(size_t workers, bool no_spare)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = workers;
    o.no_spare = no_spare;
    weft_pool *p = NULL;
    int rc = weft_pool_create(&p, &o);
    cr_assert_eq(rc, 0, "weft_pool_create: %d", rc);
    return p;
}

/* ---- the long fork-join ----------------------------------------------------- */

static double cap_s;
static _Atomic int halves_running;
static _Atomic int probe_started;
static _Atomic int halves_ended;
static _Atomic int probe_saw_ended = -1;
static _Atomic long long probe_start_ns;

static _Atomic long fib_errors;

static void half(void *arg)
{
    (void)arg;
    atomic_fetch_add(&halves_running, 1);
    double end = now_s() + cap_s;
    while (!atomic_load(&probe_started) && now_s() < end) {
        spawn_fib_arg a = {16, 0};
        spawn_fib(&a);
        if (a.result != 987)
            atomic_fetch_add(&fib_errors, 1);
    }
    atomic_fetch_add(&halves_ended, 1);
}

static int root(void *arg, void **result)
{
    (void)arg;
    (void)result;
    weft_spawn(half, NULL);
    half(NULL);
    weft_sync();
    return 0;
}

/* ---- the probe: an outside task ------------------------------------------- */

static weft_pool *probe_pool;
static _Atomic int probe_group_sum;
static _Atomic int probe_shutdown_rc = -1;

static void add_one(void *arg)
{
    atomic_fetch_add((_Atomic int *)arg, 1);
}

static int probe(void *arg, void **result)
{
    (void)arg;
    (void)result;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    atomic_store(&probe_start_ns, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    atomic_store(&probe_saw_ended, atomic_load(&halves_ended));
    /* Fork-join and shutdown from the probe (it runs on the spare when the
     * workers are lent): group work runs, a joining shutdown is refused. */
    weft_group g;
    weft_group_init(&g, probe_pool);
    for (int i = 0; i < 5; i++)
        (void)weft_group_run(&g, add_one, &probe_group_sum);
    (void)weft_group_wait(&g);
    atomic_store(&probe_shutdown_rc, weft_pool_shutdown(probe_pool, true, false));
    atomic_store(&probe_started, 1);
    return 0;
}

static void reset(double cap)
{
    cap_s = cap;
    atomic_store(&halves_running, 0);
    atomic_store(&probe_started, 0);
    atomic_store(&halves_ended, 0);
    atomic_store(&probe_saw_ended, -1);
    atomic_store(&probe_start_ns, 0);
    atomic_store(&probe_group_sum, 0);
    atomic_store(&probe_shutdown_rc, -1);
    atomic_store(&fib_errors, 0);
}

/* Runs the fork-join on p, submits the probe once every worker is inside
 * it, waits for both; returns the probe's delay in seconds. */
static double run_probe(weft_pool *p, size_t workers)
{
    probe_pool = p;
    weft_future *fj, *pr;
    cr_assert_eq(weft_pool_submit(p, root, NULL, &fj), 0);
    cr_assert(reached(&halves_running, (int)(workers < 2 ? 1 : 2)), "the fork-join never got going");
    nap_ms(20); /* the halves settle into their loops */
    double t0 = now_s();
    cr_assert_eq(weft_pool_submit(p, probe, NULL, &pr), 0);
    cr_assert_eq(weft_future_result(pr, POLL_LIMIT, NULL), 0);
    cr_assert_eq(weft_future_result(fj, POLL_LIMIT, NULL), 0);
    weft_future_release(pr);
    weft_future_release(fj);
    cr_assert_eq(atomic_load(&fib_errors), 0);
    double started = (double)atomic_load(&probe_start_ns) * 1e-9;
    return started - t0;
}

Test(spare, outside_task_starts_during_a_long_fork_join)
{
    for (size_t workers = 1; workers <= 2; workers++) {
        reset(20.0);
        weft_pool *p = make_pool(workers, false);
        double delay = run_probe(p, workers);
        cr_assert_eq(weft_pool_shutdown(p, true, false), 0); /* every count is in */
        weft_pool_counters c;
        cr_assert_eq(weft_pool_stats(p, &c, NULL, 0), 0);
        weft_pool_destroy(p);
        cr_assert_eq(atomic_load(&probe_saw_ended), 0,
                     "%zu workers: the probe waited for the fork-join to end (%.3f s)", workers, delay);
        cr_assert(delay < 5.0, "%zu workers: the probe started after %.3f s", workers, delay);
        cr_assert_geq(c.spare_runs, 1, "%zu workers: the spare ran nothing", workers);
        /* The spare's inline group runs count as made and run (at one
         * worker: with two, stolen weft_spawn frames count as runs only). */
        if (workers == 1)
            cr_assert_eq(c.tasks_submitted, c.tasks_run + c.tasks_cancelled, "%llu made, %llu ran",
                         (unsigned long long)c.tasks_submitted, (unsigned long long)c.tasks_run);
        /* On the spare: the group ran (inline), shutdown(wait) refused. */
        cr_assert_eq(atomic_load(&probe_group_sum), 5);
        cr_assert_eq(atomic_load(&probe_shutdown_rc), EDEADLK);
    }
}

/* The same fork-join with no_spare: the probe waits for it (the behaviour
 * the spare removes, and proof that the test's fork-join starves it). */
Test(spare, without_the_spare_the_outside_task_waits)
{
    reset(1.0);
    weft_pool *p = make_pool(2, true);
    (void)run_probe(p, 2);
    weft_pool_counters c;
    cr_assert_eq(weft_pool_stats(p, &c, NULL, 0), 0);
    weft_pool_destroy(p);
    cr_assert_geq(atomic_load(&probe_saw_ended), 1, "the probe ran inside the fork-join without a spare");
    cr_assert_eq(c.spare_runs, 0);
    cr_assert_eq(atomic_load(&probe_group_sum), 5);
}

/* ---- ordinary tasks: the spare stays out ---------------------------------- */

static weft_event gate;
static _Atomic int blockers_running;
static _Atomic int gate_open;
static _Atomic int second_saw_gate = -1;

static int blocker(void *arg, void **result)
{
    (void)arg;
    (void)result;
    atomic_fetch_add(&blockers_running, 1);
    (void)weft_event_wait(&gate, POLL_LIMIT);
    return 0;
}

static int second(void *arg, void **result)
{
    (void)arg;
    (void)result;
    atomic_store(&second_saw_gate, atomic_load(&gate_open));
    return 0;
}

/* Workers blocked in ordinary tasks are not lent: a task queued behind them
 * waits for a worker (a max_workers = 1 pool stays serial). */
Test(spare, never_runs_beside_workers_busy_with_ordinary_tasks)
{
    for (size_t workers = 1; workers <= 2; workers++) {
        weft_event_init(&gate);
        atomic_store(&blockers_running, 0);
        atomic_store(&gate_open, 0);
        atomic_store(&second_saw_gate, -1);
        weft_pool *p = make_pool(workers, false);
        weft_future *b[2], *s;
        for (size_t i = 0; i < workers; i++)
            cr_assert_eq(weft_pool_submit(p, blocker, NULL, &b[i]), 0);
        cr_assert(reached(&blockers_running, (int)workers));
        cr_assert_eq(weft_pool_submit(p, second, NULL, &s), 0);
        nap_ms(200); /* two hundred spare periods */
        atomic_store(&gate_open, 1);
        weft_event_set(&gate);
        cr_assert_eq(weft_future_result(s, POLL_LIMIT, NULL), 0);
        for (size_t i = 0; i < workers; i++) {
            cr_assert_eq(weft_future_result(b[i], POLL_LIMIT, NULL), 0);
            weft_future_release(b[i]);
        }
        weft_future_release(s);
        weft_pool_counters c;
        cr_assert_eq(weft_pool_stats(p, &c, NULL, 0), 0);
        weft_pool_destroy(p);
        cr_assert_eq(atomic_load(&second_saw_gate), 1, "%zu workers: the queued task ran beside the blockers",
                     workers);
        cr_assert_eq(c.spare_runs, 0);
    }
}

/* ---- a task waiting for an outside future, one worker --------------------- */

static weft_future *_Atomic awaited;
static _Atomic int waiter_rc = -1;

static int produce(void *arg, void **result)
{
    (void)arg;
    *result = (void *)(uintptr_t)42;
    return 0;
}

static int waiter(void *arg, void **result)
{
    (void)arg;
    (void)result;
    weft_future *f;
    while ((f = atomic_load(&awaited)) == NULL)
        nap_ms(1);
    void *r = NULL;
    int rc = weft_future_result(f, 10.0, &r);
    if (rc == 0 && (uintptr_t)r != 42)
        rc = EIO;
    atomic_store(&waiter_rc, rc);
    return 0;
}

/* The waiting worker is lent to its wait: the spare runs the task it waits
 * for, which the lone worker may not (the helping rule). */
Test(spare, runs_what_a_lone_waiting_worker_waits_for)
{
    atomic_store(&awaited, NULL);
    atomic_store(&waiter_rc, -1);
    weft_pool *p = make_pool(1, false);
    weft_future *w, *f;
    cr_assert_eq(weft_pool_submit(p, waiter, NULL, &w), 0);
    nap_ms(20);
    cr_assert_eq(weft_pool_submit(p, produce, NULL, &f), 0);
    atomic_store(&awaited, f);
    cr_assert_eq(weft_future_result(w, POLL_LIMIT, NULL), 0);
    weft_future_release(w);
    weft_future_release(f);
    weft_pool_destroy(p);
    cr_assert_eq(atomic_load(&waiter_rc), 0, "the waiter's result: %d", atomic_load(&waiter_rc));
}
