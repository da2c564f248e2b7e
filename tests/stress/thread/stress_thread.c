/* tests/stress/thread/stress_thread.c: the thread module under contention.
 *
 * Usage: stress_thread threads seconds [--yield]
 *
 * Each worker (a raw pthread, so it also exercises dummy entries) loops over:
 *   - make a child weft thread (random name, daemon flag, stack size), start
 *     it, check a second start is EBUSY, join it with a random timeout; on
 *     ETIMEDOUT rename it while it runs, then either join it for good or
 *     destroy it while it runs (detach);
 *   - enumerate / active_count / current_thread and check the caller lists
 *     itself;
 *   - make a timer with a short random interval, cancel it at a random moment
 *     (or not), join it, and check cancel's answer against whether it fired.
 * Children set a weft_local value at random (its destructor must run exactly
 * once per value) and return a random exit code, nonzero ones going to a
 * counting excepthook.
 * Invariants checked: every started child ran its target exactly once; every
 * joined child has the right exit code and is no longer alive; every nonzero
 * code reached the excepthook exactly once with the thread's exit code; each
 * local value was destroyed exactly once; a cancelled timer that cancel
 * reported as stopped never fired, any other fired exactly once; once all
 * threads are gone the registry is back to its initial count. Leaks are left
 * to ASan (every handle, name, value and dummy entry must be freed).
 */
#include <sched.h>

#include "../sync/stress_util.h"
#include "weft/thread.h"

#define ENUM_CAP 256

struct child {
    _Atomic int refs; /* the worker's and the child's: the last one frees */
    _Atomic int runs;
    int code;
    uint64_t seed;
};

static _Atomic long started_children;
static _Atomic long finished_children;
static _Atomic long expected_hooks;
static _Atomic long hook_calls;
static _Atomic long local_values;
static _Atomic long local_dtors;
static weft_local child_local;

static void child_unref(struct child *c)
{
    /* acq_rel: the last owner frees only after the other's last use. */
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        free(c);
}

static void free_value(void *v)
{
    free(v);
    atomic_fetch_add_explicit(&local_dtors, 1, memory_order_relaxed);
}

static void counting_hook(weft_thread *t, int code)
{
    if (code < 1 || code > 100 || weft_thread_exit_code(t) != code)
        stress_fail("excepthook got code %d, thread's exit code %d", code, weft_thread_exit_code(t));
    if (weft_current_thread() != t)
        stress_fail("excepthook ran outside its thread");
    atomic_fetch_add_explicit(&hook_calls, 1, memory_order_relaxed);
}

static int child_main(void *arg)
{
    struct child *c = arg;
    stress_rng r = {c->seed};
    if (atomic_fetch_add_explicit(&c->runs, 1, memory_order_relaxed) != 0)
        stress_fail("a child target ran twice");
    stress_maybe_yield(&r);
    if (stress_one_in(&r, 2)) {
        int *v = malloc(sizeof *v);
        if (v == NULL || weft_local_set(&child_local, v) != 0) {
            free(v);
        } else {
            atomic_fetch_add_explicit(&local_values, 1, memory_order_relaxed);
        }
    }
    if (stress_one_in(&r, 8))
        stress_nap_us(stress_rand(&r) % 2000);
    stress_maybe_yield(&r);
    int code = c->code;
    /* release: pairs with the final acquire load in main. */
    atomic_fetch_add_explicit(&finished_children, 1, memory_order_release);
    child_unref(c);
    return code;
}

static void spawn_and_join(stress_worker *w)
{
    stress_rng *r = &w->rng;
    struct child *c = malloc(sizeof *c);
    if (c == NULL)
        return;
    atomic_init(&c->refs, 2);
    atomic_init(&c->runs, 0);
    c->code = stress_one_in(r, 4) ? 1 + (int)(stress_rand(r) % 100) : 0;
    c->seed = ((uint64_t)stress_rand(r) << 32 | stress_rand(r)) | 1;

    char name[32];
    snprintf(name, sizeof name, "child-%d-%ld", w->id, w->ops);
    weft_thread_attr attr = WEFT_THREAD_ATTR_INIT;
    attr.name = stress_one_in(r, 2) ? name : NULL;
    attr.daemon = stress_one_in(r, 2);
    attr.stack_size = stress_one_in(r, 4) ? 256 * 1024 : 0;
    weft_thread *t;
    int rc = weft_thread_create(&t, child_main, c, &attr);
    if (rc != 0) {
        stress_fail("weft_thread_create: %d", rc);
        free(c);
        return;
    }
    if (stress_one_in(r, 4) && weft_thread_set_daemon(t, !attr.daemon) != 0)
        stress_fail("set_daemon before start failed");
    stress_maybe_yield(r);
    rc = weft_thread_start(t);
    if (rc != 0) {
        stress_fail("weft_thread_start: %d", rc);
        weft_thread_destroy(t);
        free(c);
        return;
    }
    atomic_fetch_add_explicit(&started_children, 1, memory_order_relaxed);
    if (c->code != 0)
        atomic_fetch_add_explicit(&expected_hooks, 1, memory_order_relaxed);
    if (weft_thread_start(t) != EBUSY)
        stress_fail("second start was not EBUSY");
    if (weft_thread_set_daemon(t, true) != EBUSY)
        stress_fail("set_daemon after start was not EBUSY");
    if (weft_thread_native_id(t) == 0 || weft_thread_ident(t) == 0)
        stress_fail("no ident/native_id after start");
    stress_maybe_yield(r);

    rc = weft_thread_join(t, stress_timeout(r));
    if (rc == ETIMEDOUT) {
        snprintf(name, sizeof name, "renamed-%d", w->id);
        if (weft_thread_set_name(t, name) != 0)
            stress_fail("set_name of a running thread failed");
        stress_maybe_yield(r);
        if (stress_one_in(r, 2)) {
            weft_thread_destroy(t); /* detach: it frees itself */
            child_unref(c);
            return;
        }
        rc = weft_thread_join(t, WEFT_FOREVER);
    }
    if (rc != 0) {
        stress_fail("join returned %d", rc);
    } else {
        if (weft_thread_is_alive(t))
            stress_fail("alive after join");
        if (weft_thread_exit_code(t) != c->code)
            stress_fail("exit code %d, expected %d", weft_thread_exit_code(t), c->code);
        if (atomic_load_explicit(&c->runs, memory_order_relaxed) != 1)
            stress_fail("joined child ran %d times", atomic_load_explicit(&c->runs, memory_order_relaxed));
    }
    weft_thread_destroy(t);
    child_unref(c);
}

static void check_registry(stress_worker *w)
{
    weft_thread *me = weft_current_thread();
    if (me == NULL) {
        stress_fail("current_thread returned NULL");
        return;
    }
    if (weft_current_thread() != me)
        stress_fail("current_thread changed");
    if (!weft_thread_is_alive(me) || !weft_thread_daemon(me))
        stress_fail("a dummy entry must be alive and a daemon");
    if (weft_thread_join(me, 0) != EINVAL)
        stress_fail("joining a dummy entry was not EINVAL");
    if (weft_thread_ident(me) != weft_get_ident())
        stress_fail("dummy ident is not get_ident");
    weft_thread *all[ENUM_CAP];
    stress_maybe_yield(&w->rng);
    size_t n = weft_enumerate(all, ENUM_CAP);
    if (n < 2)
        stress_fail("enumerate: %zu threads, at least main and the caller live", n);
    if (n <= ENUM_CAP) {
        bool found = false;
        for (size_t i = 0; i < n; i++) {
            if (all[i] == NULL)
                stress_fail("enumerate stored NULL");
            found |= all[i] == me;
        }
        if (!found)
            stress_fail("the calling thread is missing from enumerate");
    }
    if (weft_active_count() < 2)
        stress_fail("active_count below 2");
}

struct timer_ctx {
    _Atomic int fired;
};

static void timer_fn(void *arg)
{
    struct timer_ctx *tc = arg;
    atomic_fetch_add_explicit(&tc->fired, 1, memory_order_relaxed);
}

static void run_timer(stress_worker *w)
{
    static const double intervals[] = {0.0, 1e-5, 1e-4, 1e-3, 5e-3};
    stress_rng *r = &w->rng;
    struct timer_ctx tc;
    atomic_init(&tc.fired, 0);
    weft_timer *tm;
    int rc = weft_timer_create(&tm, intervals[stress_rand(r) % 5], timer_fn, &tc);
    if (rc != 0) {
        stress_fail("weft_timer_create: %d", rc);
        return;
    }
    if (stress_one_in(r, 2))
        weft_thread_set_daemon(weft_timer_thread(tm), true);
    rc = weft_timer_start(tm);
    if (rc != 0) {
        stress_fail("weft_timer_start: %d", rc);
        weft_timer_destroy(tm);
        return;
    }
    stress_maybe_yield(r);
    int mode = (int)(stress_rand(r) % 3);
    if (mode == 0) {
        bool stopped = weft_timer_cancel(tm);
        if (weft_timer_join(tm, WEFT_FOREVER) != 0)
            stress_fail("timer join failed");
        int fired = atomic_load_explicit(&tc.fired, memory_order_relaxed);
        if (fired != (stopped ? 0 : 1))
            stress_fail("cancel said %s but the timer fired %d times", stopped ? "stopped" : "too late", fired);
    } else if (mode == 1) {
        if (weft_timer_join(tm, WEFT_FOREVER) != 0)
            stress_fail("timer join failed");
        if (atomic_load_explicit(&tc.fired, memory_order_relaxed) != 1)
            stress_fail("an uncancelled timer did not fire exactly once");
    }
    weft_timer_destroy(tm);
    if (atomic_load_explicit(&tc.fired, memory_order_relaxed) > 1)
        stress_fail("a timer fired twice");
}

static void *worker(void *arg)
{
    stress_worker *w = arg;
    while (stress_running()) {
        switch (stress_rand(&w->rng) % 4) {
        case 0:
        case 1:
            spawn_and_join(w);
            break;
        case 2:
            check_registry(w);
            break;
        default:
            run_timer(w);
            break;
        }
        w->ops++;
        stress_maybe_yield(&w->rng);
    }
    return NULL;
}

/* Waits up to STRESS_GRACE for done() (detached children may still be
 * finishing). */
static bool settle(bool (*done)(void))
{
    double end = stress_now() + STRESS_GRACE;
    while (!done()) {
        if (stress_now() > end)
            return false;
        stress_nap_us(1000);
    }
    return true;
}

static bool children_finished(void)
{
    /* acquire: pairs with each child's release increment. */
    return atomic_load_explicit(&finished_children, memory_order_acquire) ==
           atomic_load_explicit(&started_children, memory_order_relaxed);
}

static size_t initial_count;

static bool registry_settled(void)
{
    return weft_active_count() == initial_count &&
           atomic_load_explicit(&hook_calls, memory_order_relaxed) ==
               atomic_load_explicit(&expected_hooks, memory_order_relaxed) &&
           atomic_load_explicit(&local_dtors, memory_order_relaxed) ==
               atomic_load_explicit(&local_values, memory_order_relaxed);
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 1);
    weft_set_excepthook(counting_hook);
    if (weft_local_init(&child_local, free_value) != 0) {
        fprintf(stderr, "stress: weft_local_init failed\n");
        return 2;
    }
    initial_count = weft_active_count();
    stress_worker w[STRESS_MAX_THREADS];
    bool joined = stress_run(w, worker, NULL);
    if (joined) {
        if (!settle(children_finished))
            stress_fail("started %ld children, only %ld ran", atomic_load_explicit(&started_children, memory_order_relaxed),
                        atomic_load_explicit(&finished_children, memory_order_relaxed));
        else if (!settle(registry_settled))
            stress_fail("after the run: %zu live threads (expected %zu), %ld/%ld hooks, %ld/%ld local dtors",
                        weft_active_count(), initial_count, atomic_load_explicit(&hook_calls, memory_order_relaxed),
                        atomic_load_explicit(&expected_hooks, memory_order_relaxed), atomic_load_explicit(&local_dtors, memory_order_relaxed), atomic_load_explicit(&local_values, memory_order_relaxed));
        printf("stress_thread: %ld children started, %ld excepthook calls, %ld local values\n",
               atomic_load_explicit(&started_children, memory_order_relaxed), atomic_load_explicit(&hook_calls, memory_order_relaxed), atomic_load_explicit(&local_values, memory_order_relaxed));
    }
    int rc = stress_finish("stress_thread", joined, w);
    if (joined && rc == 0)
        weft_local_deinit(&child_local);
    return rc;
}
