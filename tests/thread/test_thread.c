/* tests/thread/test_thread.c: include/weft/thread.h (Thread, the registry,
 * excepthook, local, Timer, the exit-time join).
 *
 * Threads under test never call cr_assert: they record what they saw and the
 * test thread asserts after joining them (a Criterion assertion can only end
 * the test from the test's own thread). Timing rules (2 loaded cores): a
 * timeout is checked against generous bounds only, and waiting for another
 * thread's progress polls for up to POLL_LIMIT seconds.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weft/sync.h"
#include "weft/thread.h"

#define TOO_LONG 2.0
#define POLL_LIMIT 30.0
#define ROUNDING 1e-6

TestSuite(thread, .timeout = 120);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls until *v >= target or POLL_LIMIT passes. */
static bool reached(_Atomic int *v, int target)
{
    double end = now_s() + POLL_LIMIT;
    /* acquire: pairs with the observed thread's release increment. */
    while (atomic_load_explicit(v, memory_order_acquire) < target) {
        if (now_s() > end)
            return false;
        nap_ms(1);
    }
    return true;
}

static bool in_enumerate(weft_thread *t)
{
    weft_thread *all[256];
    size_t n = weft_enumerate(all, 256);
    cr_assert_leq(n, 256, "more live threads than this test expects");
    for (size_t i = 0; i < n; i++)
        if (all[i] == t)
            return true;
    return false;
}

/* ---- targets ------------------------------------------------------------ */

static int return_arg(void *arg)
{
    return (int)(intptr_t)arg;
}

/* What a target saw about itself. */
struct seen {
    weft_event go;          /* the target waits for it before returning */
    _Atomic int entered;    /* set once running */
    int code;               /* returned */
    weft_thread *current;
    unsigned long ident;
    long tid;
    pthread_t pself;
    char os_name[32];
    int join_self;
    size_t stack;
};

static int observe(void *arg)
{
    struct seen *s = arg;
    s->current = weft_current_thread();
    s->ident = weft_get_ident();
    s->tid = (long)gettid();
    s->pself = pthread_self();
    pthread_getname_np(pthread_self(), s->os_name, sizeof s->os_name);
    s->join_self = weft_thread_join(s->current, 1.0);
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        pthread_attr_getstacksize(&a, &s->stack);
        pthread_attr_destroy(&a);
    }
    /* release: publishes the fields above to the test's reached(). */
    atomic_store_explicit(&s->entered, 1, memory_order_release);
    weft_event_wait(&s->go, WEFT_FOREVER);
    return s->code;
}

static weft_thread *make(int (*fn)(void *), void *arg, const weft_thread_attr *attr)
{
    weft_thread *t = NULL;
    int rc = weft_thread_create(&t, fn, arg, attr);
    cr_assert_eq(rc, 0, "weft_thread_create: %d", rc);
    cr_assert_not_null(t);
    return t;
}

static weft_thread *make_started(int (*fn)(void *), void *arg, const weft_thread_attr *attr)
{
    weft_thread *t = make(fn, arg, attr);
    int rc = weft_thread_start(t);
    cr_assert_eq(rc, 0, "weft_thread_start: %d", rc);
    return t;
}

/* ---- create / start / run / join ---------------------------------------- */

Test(thread, create_defaults)
{
    weft_thread *t = make(return_arg, NULL, NULL);
    unsigned n;
    char tail;
    cr_assert_eq(sscanf(weft_thread_name(t), "Thread-%u%c", &n, &tail), 1, "name %s", weft_thread_name(t));
    cr_assert_not(weft_thread_daemon(t));
    cr_assert_not(weft_thread_is_alive(t));
    cr_assert_eq(weft_thread_ident(t), 0);
    cr_assert_eq(weft_thread_native_id(t), 0);
    cr_assert_eq(weft_thread_exit_code(t), 0);
    weft_thread *u = make(return_arg, NULL, NULL);
    cr_assert_str_neq(weft_thread_name(t), weft_thread_name(u), "default names must differ");
    weft_thread_destroy(t);
    weft_thread_destroy(u);
}

Test(thread, zero_initialised_attr_means_defaults)
{
    weft_thread_attr zero;
    memset(&zero, 0, sizeof zero);
    weft_thread *t = make(return_arg, NULL, &zero);
    cr_assert_eq(strncmp(weft_thread_name(t), "Thread-", 7), 0);
    cr_assert_not(weft_thread_daemon(t));
    weft_thread_destroy(t);
}

Test(thread, create_rejects_bad_arguments)
{
    weft_thread *t = (weft_thread *)&t;
    cr_assert_eq(weft_thread_create(NULL, return_arg, NULL, NULL), EINVAL);
    cr_assert_eq(weft_thread_create(&t, NULL, NULL, NULL), EINVAL);
    cr_assert_eq(t, (weft_thread *)&t, "a failed create must not write *t");
    weft_thread_attr attr = {.stack_size = 1};
    cr_assert_eq(weft_thread_create(&t, return_arg, NULL, &attr), EINVAL);
}

Test(thread, attr_name_daemon_and_stack_size)
{
    struct seen s = {.code = 0};
    weft_event_init(&s.go);
    weft_event_set(&s.go);
    weft_thread_attr attr = {.name = "worker", .daemon = true, .stack_size = 1 << 20};
    weft_thread *t = make_started(observe, &s, &attr);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    cr_assert_str_eq(weft_thread_name(t), "worker");
    cr_assert(weft_thread_daemon(t));
    cr_assert_str_eq(s.os_name, "worker", "OS-level name set at start");
    cr_assert_geq(s.stack, (size_t)1 << 20, "stack size %zu", s.stack);
    weft_thread_destroy(t);
}

Test(thread, start_runs_the_target_once_and_join_gives_exit_code)
{
    weft_thread *t = make_started(return_arg, (void *)(intptr_t)0, NULL);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    cr_assert_eq(weft_thread_exit_code(t), 0);
    cr_assert_not(weft_thread_is_alive(t));
    weft_thread_destroy(t);
}

static _Atomic int hook_calls;
static weft_thread *_Atomic hook_thread;
static _Atomic int hook_code;

static void counting_hook(weft_thread *t, int code)
{
    atomic_store_explicit(&hook_thread, t, memory_order_relaxed);
    atomic_store_explicit(&hook_code, code, memory_order_relaxed);
    /* release: publishes thread and code to the test's acquire load. */
    atomic_fetch_add_explicit(&hook_calls, 1, memory_order_release);
}

Test(thread, nonzero_exit_code_calls_the_excepthook_with_that_code)
{
    weft_set_excepthook(counting_hook);
    weft_thread *t = make_started(return_arg, (void *)(intptr_t)42, NULL);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    cr_assert_eq(weft_thread_exit_code(t), 42);
    /* acquire: pairs with counting_hook; join also ordered it. */
    cr_assert_eq(atomic_load_explicit(&hook_calls, memory_order_acquire), 1, "hook runs before join returns");
    cr_assert_eq(atomic_load_explicit(&hook_thread, memory_order_relaxed), t);
    cr_assert_eq(atomic_load_explicit(&hook_code, memory_order_relaxed), 42);

    weft_thread *ok = make_started(return_arg, (void *)(intptr_t)0, NULL);
    cr_assert_eq(weft_thread_join(ok, WEFT_FOREVER), 0);
    cr_assert_eq(atomic_load_explicit(&hook_calls, memory_order_acquire), 1, "no hook for exit code 0");
    weft_set_excepthook(NULL);
    weft_thread_destroy(t);
    weft_thread_destroy(ok);
}

Test(thread, default_excepthook_prints_name_and_strerror)
{
    char path[] = "/tmp/weft_hookXXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    cr_assert_geq(saved, 0);
    cr_assert_geq(dup2(fd, STDERR_FILENO), 0);

    weft_set_excepthook(counting_hook);
    weft_set_excepthook(NULL); /* back to the default */
    weft_thread_attr attr = {.name = "hooked-thread"};
    weft_thread *t = make_started(return_arg, (void *)(intptr_t)EPIPE, &attr);
    int rc = weft_thread_join(t, WEFT_FOREVER);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);

    cr_assert_eq(rc, 0);
    cr_assert_eq(atomic_load_explicit(&hook_calls, memory_order_relaxed), 0, "the custom hook was replaced");
    char buf[512] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    cr_assert_gt(n, 0, "nothing printed");
    cr_assert_not_null(strstr(buf, "hooked-thread"), "output: %s", buf);
    cr_assert_not_null(strstr(buf, strerror(EPIPE)), "output: %s", buf);
    weft_thread_destroy(t);
}

Test(thread, second_start_is_ebusy)
{
    struct seen s = {.code = 7};
    weft_event_init(&s.go);
    weft_thread *t = make_started(observe, &s, NULL);
    cr_assert_eq(weft_thread_start(t), EBUSY, "while running");
    weft_event_set(&s.go);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    cr_assert_eq(weft_thread_start(t), EBUSY, "after it finished");
    cr_assert_eq(weft_thread_exit_code(t), 7);
    weft_thread_destroy(t);
}

Test(thread, run_calls_the_target_in_the_caller)
{
    struct seen s = {.code = 5};
    weft_event_init(&s.go);
    weft_event_set(&s.go);
    weft_thread *t = make(observe, &s, NULL);
    cr_assert_eq(weft_thread_run(t), 5);
    cr_assert(pthread_equal(s.pself, pthread_self()), "run must not start a thread");
    cr_assert_not(weft_thread_is_alive(t), "run changes no state");
    cr_assert_eq(weft_thread_join(t, 0), EINVAL, "run does not count as start");
    cr_assert_eq(weft_thread_start(t), 0, "still startable after run");
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    cr_assert_eq(weft_thread_exit_code(t), 5);
    weft_thread_destroy(t);
    cr_assert_eq(weft_thread_run(weft_main_thread()), EINVAL, "a dummy entry has no target");
}

Test(thread, join_error_codes)
{
    weft_thread *t = make(return_arg, NULL, NULL);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), EINVAL, "never started");
    cr_assert_eq(weft_thread_join(t, 0), EINVAL, "never started");
    cr_assert_eq(weft_thread_join(NULL, 0), EINVAL);
    cr_assert_eq(weft_thread_start(t), 0);
    cr_assert_eq(weft_thread_join(t, NAN), EINVAL);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    cr_assert_eq(weft_thread_join(t, 0), 0, "joining a finished thread again succeeds at once");
    weft_thread_destroy(t);
}

Test(thread, join_self_is_edeadlk)
{
    struct seen s = {.code = 0};
    weft_event_init(&s.go);
    weft_event_set(&s.go);
    weft_thread *t = make_started(observe, &s, NULL);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    cr_assert_eq(s.join_self, EDEADLK);
    cr_assert_eq(weft_thread_join(weft_current_thread(), 0), EDEADLK, "the main thread joining itself");
    weft_thread_destroy(t);
}

Test(thread, join_timeout_is_etimedout_within_bounds)
{
    struct seen s = {.code = 3};
    weft_event_init(&s.go);
    weft_thread *t = make_started(observe, &s, NULL);
    cr_assert_eq(weft_thread_join(t, 0), ETIMEDOUT, "timeout 0 never blocks");
    cr_assert_eq(weft_thread_join(t, -1), ETIMEDOUT);
    double t0 = now_s();
    int rc = weft_thread_join(t, 0.1);
    double elapsed = now_s() - t0;
    cr_assert_eq(rc, ETIMEDOUT);
    cr_assert_geq(elapsed, 0.1 - ROUNDING, "returned after %.6f s", elapsed);
    cr_assert_lt(elapsed, TOO_LONG, "a 0.1 s timeout took %.3f s", elapsed);
    cr_assert(weft_thread_is_alive(t));
    weft_event_set(&s.go);
    cr_assert_eq(weft_thread_join(t, POLL_LIMIT), 0);
    cr_assert_eq(weft_thread_exit_code(t), 3);
    weft_thread_destroy(t);
}

struct joiner {
    weft_thread *target;
    _Atomic int result;
};

static int join_it(void *arg)
{
    struct joiner *j = arg;
    atomic_store_explicit(&j->result, weft_thread_join(j->target, WEFT_FOREVER) + 1000, memory_order_relaxed);
    return 0;
}

Test(thread, several_threads_may_join_one)
{
    struct seen s = {.code = 0};
    weft_event_init(&s.go);
    weft_thread *t = make_started(observe, &s, NULL);
    struct joiner j[3];
    weft_thread *jt[3];
    for (int i = 0; i < 3; i++) {
        j[i].target = t;
        atomic_init(&j[i].result, -1);
        jt[i] = make_started(join_it, &j[i], NULL);
    }
    weft_event_set(&s.go);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(weft_thread_join(jt[i], POLL_LIMIT), 0);
        cr_assert_eq(atomic_load_explicit(&j[i].result, memory_order_relaxed), 1000);
        weft_thread_destroy(jt[i]);
    }
    weft_thread_destroy(t);
}

Test(thread, is_alive_follows_the_target)
{
    struct seen s = {.code = 0};
    weft_event_init(&s.go);
    weft_thread *t = make(observe, &s, NULL);
    cr_assert_not(weft_thread_is_alive(t));
    cr_assert_eq(weft_thread_start(t), 0);
    cr_assert(weft_thread_is_alive(t));
    weft_event_set(&s.go);
    cr_assert_eq(weft_thread_join(t, POLL_LIMIT), 0);
    cr_assert_not(weft_thread_is_alive(t));
    weft_thread_destroy(t);
}

/* ---- identity ----------------------------------------------------------- */

Test(thread, ident_native_id_and_current_thread)
{
    struct seen s = {.code = 0};
    weft_event_init(&s.go);
    weft_thread *t = make_started(observe, &s, NULL);
    /* start returned, so ident and native_id are set. */
    cr_assert_neq(weft_thread_ident(t), 0);
    cr_assert_neq(weft_thread_native_id(t), 0);
    cr_assert(reached(&s.entered, 1));
    cr_assert_eq(s.current, t, "weft_current_thread in a weft thread is that thread");
    cr_assert_eq(weft_thread_ident(t), s.ident);
    cr_assert_eq(weft_thread_ident(t), (unsigned long)s.pself);
    cr_assert_eq(weft_thread_native_id(t), s.tid);
    cr_assert_neq(s.tid, (long)gettid());
    weft_event_set(&s.go);
    cr_assert_eq(weft_thread_join(t, POLL_LIMIT), 0);
    cr_assert_eq(weft_thread_ident(t), s.ident, "ident is kept after the end");
    weft_thread_destroy(t);
    cr_assert_eq(weft_get_ident(), (unsigned long)pthread_self());
    cr_assert_neq(weft_get_ident(), 0);
}

/* ---- names -------------------------------------------------------------- */

static void os_name_of(weft_thread *t, char *buf, size_t len)
{
    int rc = pthread_getname_np((pthread_t)weft_thread_ident(t), buf, len);
    cr_assert_eq(rc, 0, "pthread_getname_np: %d", rc);
}

Test(thread, set_name_renames_at_weft_and_os_level)
{
    struct seen s = {.code = 0};
    weft_event_init(&s.go);
    weft_thread *t = make(observe, &s, NULL);
    cr_assert_eq(weft_thread_set_name(t, "before-start"), 0);
    cr_assert_str_eq(weft_thread_name(t), "before-start");
    cr_assert_eq(weft_thread_start(t), 0);
    cr_assert(reached(&s.entered, 1));
    cr_assert_str_eq(s.os_name, "before-start");

    const char *old = weft_thread_name(t);
    cr_assert_eq(weft_thread_set_name(t, "renamed"), 0);
    cr_assert_str_eq(weft_thread_name(t), "renamed");
    cr_assert_str_eq(old, "before-start", "an old name stays readable until destroy");
    char buf[32];
    os_name_of(t, buf, sizeof buf);
    cr_assert_str_eq(buf, "renamed", "rename of a running thread from another thread");

    cr_assert_eq(weft_thread_set_name(t, "a-name-longer-than-fifteen"), 0);
    cr_assert_str_eq(weft_thread_name(t), "a-name-longer-than-fifteen", "weft keeps the full name");
    os_name_of(t, buf, sizeof buf);
    cr_assert_str_eq(buf, "a-name-longer-t", "the OS name is truncated to 15 bytes");

    cr_assert_eq(weft_thread_set_name(t, NULL), EINVAL);
    cr_assert_str_eq(weft_thread_name(t), "a-name-longer-than-fifteen", "EINVAL changes nothing");
    weft_event_set(&s.go);
    cr_assert_eq(weft_thread_join(t, POLL_LIMIT), 0);
    cr_assert_eq(weft_thread_set_name(t, "after-end"), 0, "a finished thread can still be renamed");
    cr_assert_str_eq(weft_thread_name(t), "after-end");
    weft_thread_destroy(t);
}

struct self_rename {
    char os_name[32];
};

static int rename_self(void *arg)
{
    struct self_rename *r = arg;
    weft_thread_set_name(weft_current_thread(), "self-named");
    pthread_getname_np(pthread_self(), r->os_name, sizeof r->os_name);
    return 0;
}

Test(thread, set_name_from_the_thread_itself)
{
    struct self_rename r = {{0}};
    weft_thread *t = make_started(rename_self, &r, NULL);
    cr_assert_eq(weft_thread_join(t, POLL_LIMIT), 0);
    cr_assert_str_eq(weft_thread_name(t), "self-named");
    cr_assert_str_eq(r.os_name, "self-named");
    weft_thread_destroy(t);
}

/* ---- daemon ------------------------------------------------------------- */

Test(thread, set_daemon_only_before_start)
{
    struct seen s = {.code = 0};
    weft_event_init(&s.go);
    weft_thread *t = make(observe, &s, NULL);
    cr_assert_eq(weft_thread_set_daemon(t, true), 0);
    cr_assert(weft_thread_daemon(t));
    cr_assert_eq(weft_thread_set_daemon(t, false), 0);
    cr_assert_not(weft_thread_daemon(t));
    cr_assert_eq(weft_thread_set_daemon(t, true), 0);
    cr_assert_eq(weft_thread_start(t), 0);
    cr_assert_eq(weft_thread_set_daemon(t, false), EBUSY);
    cr_assert(weft_thread_daemon(t), "EBUSY changes nothing");
    weft_event_set(&s.go);
    cr_assert_eq(weft_thread_join(t, POLL_LIMIT), 0);
    cr_assert_eq(weft_thread_set_daemon(t, false), EBUSY, "still EBUSY after the end");
    weft_thread_destroy(t);
    cr_assert_eq(weft_thread_set_daemon(weft_main_thread(), true), EBUSY);
    cr_assert_not(weft_thread_daemon(weft_main_thread()));
}

/* ---- destroy ------------------------------------------------------------ */

struct detached {
    weft_event go;
    _Atomic int done;
};

static int run_detached(void *arg)
{
    struct detached *d = arg;
    weft_event_wait(&d->go, WEFT_FOREVER);
    /* release: pairs with the test's reached(). */
    atomic_store_explicit(&d->done, 1, memory_order_release);
    return 0;
}

Test(thread, destroy_of_a_running_thread_detaches_it)
{
    static struct detached d;
    weft_event_init(&d.go);
    atomic_init(&d.done, 0);
    size_t before = weft_active_count();
    weft_thread *t = make_started(run_detached, &d, NULL);
    weft_thread_destroy(t);
    cr_assert_eq(weft_active_count(), before + 1, "a destroyed running thread keeps running");
    weft_event_set(&d.go);
    cr_assert(reached(&d.done, 1), "the detached thread ran to its end");
    double end = now_s() + POLL_LIMIT;
    while (weft_active_count() != before && now_s() < end)
        nap_ms(1);
    cr_assert_eq(weft_active_count(), before, "and left the registry (ASan checks it was freed)");
}

Test(thread, destroy_of_unstarted_or_null)
{
    weft_thread *t = make(return_arg, NULL, NULL);
    weft_thread_destroy(t);
    weft_thread_destroy(NULL);
    weft_thread_destroy(weft_main_thread());
    cr_assert_str_eq(weft_thread_name(weft_main_thread()), "MainThread", "destroy ignores dummy entries");
}

/* ---- registry ----------------------------------------------------------- */

Test(thread, main_thread_entry)
{
    weft_thread *m = weft_main_thread();
    cr_assert_not_null(m);
    cr_assert_str_eq(weft_thread_name(m), "MainThread");
    cr_assert(weft_thread_is_alive(m));
    cr_assert_not(weft_thread_daemon(m));
    cr_assert(in_enumerate(m));
    if (gettid() == getpid()) {
        cr_assert_eq(weft_current_thread(), m);
        cr_assert_eq(weft_thread_native_id(m), (long)gettid());
        cr_assert_eq(weft_thread_ident(m), weft_get_ident());
    }
}

Test(thread, active_count_and_enumerate_track_live_threads)
{
    enum { K = 4 };
    size_t base = weft_active_count();
    cr_assert_geq(base, 1, "the main thread is always counted");
    cr_assert_eq(weft_enumerate(NULL, 0), base);
    struct seen s[K];
    weft_thread *t[K];
    for (int i = 0; i < K; i++) {
        memset(&s[i], 0, sizeof s[i]);
        weft_event_init(&s[i].go);
        t[i] = make(observe, &s[i], NULL);
        cr_assert_not(in_enumerate(t[i]), "not listed before start");
    }
    for (int i = 0; i < K; i++)
        cr_assert_eq(weft_thread_start(t[i]), 0);
    cr_assert_eq(weft_active_count(), base + K);
    for (int i = 0; i < K; i++)
        cr_assert(in_enumerate(t[i]));
    weft_thread *few[2] = {NULL, NULL};
    cr_assert_eq(weft_enumerate(few, 2), base + K, "returns the total even when cap is smaller");
    cr_assert_not_null(few[0]);
    cr_assert_not_null(few[1]);
    for (int i = 0; i < K; i++) {
        weft_event_set(&s[i].go);
        cr_assert_eq(weft_thread_join(t[i], POLL_LIMIT), 0);
        cr_assert_not(in_enumerate(t[i]), "unlisted once joined");
        cr_assert_eq(weft_active_count(), base + K - 1 - (size_t)i);
        weft_thread_destroy(t[i]);
    }
    cr_assert_eq(weft_active_count(), base);
}

struct foreign {
    weft_event go;
    _Atomic int ready;
    weft_thread *entry;
    char name[32];
    bool daemon, alive;
    unsigned long ident;
    pthread_t pself;
    int set_daemon;
};

static void *foreign_thread(void *arg)
{
    struct foreign *f = arg;
    f->entry = weft_current_thread();
    if (f->entry != NULL) {
        snprintf(f->name, sizeof f->name, "%s", weft_thread_name(f->entry));
        f->daemon = weft_thread_daemon(f->entry);
        f->alive = weft_thread_is_alive(f->entry);
        f->ident = weft_thread_ident(f->entry);
        f->set_daemon = weft_thread_set_daemon(f->entry, false);
    }
    f->pself = pthread_self();
    if (weft_current_thread() != f->entry)
        f->entry = NULL;
    /* release: publishes the fields above to the test's reached(). */
    atomic_store_explicit(&f->ready, 1, memory_order_release);
    weft_event_wait(&f->go, WEFT_FOREVER);
    return NULL;
}

Test(thread, foreign_pthread_gets_a_dummy_entry_until_it_exits)
{
    size_t base = weft_active_count();
    struct foreign f;
    memset(&f, 0, sizeof f);
    weft_event_init(&f.go);
    pthread_t pt;
    cr_assert_eq(pthread_create(&pt, NULL, foreign_thread, &f), 0);
    cr_assert(reached(&f.ready, 1));
    cr_assert_not_null(f.entry, "current_thread made an entry, the same on every call");
    unsigned n;
    char tail;
    cr_assert_eq(sscanf(f.name, "Dummy-%u%c", &n, &tail), 1, "dummy name %s", f.name);
    cr_assert(f.daemon, "dummy threads are daemons, as in Python");
    cr_assert(f.alive);
    cr_assert_eq(f.ident, (unsigned long)f.pself);
    cr_assert_eq(f.set_daemon, EBUSY);
    cr_assert_eq(weft_active_count(), base + 1);
    cr_assert(in_enumerate(f.entry));
    cr_assert_eq(weft_thread_join(f.entry, 0), EINVAL, "a dummy cannot be joined");
    cr_assert_eq(weft_thread_start(f.entry), EBUSY);

    cr_assert_eq(weft_thread_set_name(f.entry, "foreign-named"), 0);
    char buf[32];
    cr_assert_eq(pthread_getname_np(pt, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "foreign-named", "renaming a live dummy renames the OS thread");

    weft_event_set(&f.go);
    cr_assert_eq(pthread_join(pt, NULL), 0);
    cr_assert_eq(weft_active_count(), base, "the dummy entry left with its thread");
}

/* ---- local -------------------------------------------------------------- */

static _Atomic int dtor_calls;
static _Atomic intptr_t dtor_sum;

static void count_dtor(void *v)
{
    atomic_fetch_add_explicit(&dtor_sum, (intptr_t)v, memory_order_relaxed);
    /* release: pairs with reached() in the test. */
    atomic_fetch_add_explicit(&dtor_calls, 1, memory_order_release);
}

struct local_use {
    weft_local *l;
    intptr_t value;
    intptr_t seen_before, seen_after;
    int set_rc;
};

static int use_local(void *arg)
{
    struct local_use *u = arg;
    u->seen_before = (intptr_t)weft_local_get(u->l);
    u->set_rc = weft_local_set(u->l, (void *)u->value);
    u->seen_after = (intptr_t)weft_local_get(u->l);
    return 0;
}

static void *use_local_raw(void *arg)
{
    use_local(arg);
    return NULL;
}

Test(thread, local_values_are_per_thread_and_destroyed_at_exit)
{
    weft_local l;
    cr_assert_eq(weft_local_init(&l, count_dtor), 0);
    cr_assert_null(weft_local_get(&l), "unset is NULL");
    cr_assert_eq(weft_local_set(&l, (void *)(intptr_t)1), 0);

    struct local_use u = {.l = &l, .value = 10};
    weft_thread *t = make_started(use_local, &u, NULL);
    cr_assert_eq(weft_thread_join(t, POLL_LIMIT), 0);
    cr_assert_eq(u.set_rc, 0);
    cr_assert_eq(u.seen_before, 0, "another thread's value is not visible");
    cr_assert_eq(u.seen_after, 10);
    cr_assert_eq(atomic_load_explicit(&dtor_calls, memory_order_acquire), 1,
                 "the destructor ran before join returned");
    cr_assert_eq(atomic_load_explicit(&dtor_sum, memory_order_relaxed), 10);
    cr_assert_eq((intptr_t)weft_local_get(&l), 1, "ours is untouched");
    weft_thread_destroy(t);

    struct local_use r = {.l = &l, .value = 100};
    pthread_t pt;
    cr_assert_eq(pthread_create(&pt, NULL, use_local_raw, &r), 0);
    cr_assert_eq(pthread_join(pt, NULL), 0);
    cr_assert_eq(r.seen_after, 100);
    cr_assert_eq(atomic_load_explicit(&dtor_calls, memory_order_acquire), 2, "also for a foreign pthread");
    cr_assert_eq(atomic_load_explicit(&dtor_sum, memory_order_relaxed), 110);

    struct local_use z = {.l = &l, .value = 0};
    t = make_started(use_local, &z, NULL);
    cr_assert_eq(weft_thread_join(t, POLL_LIMIT), 0);
    cr_assert_eq(atomic_load_explicit(&dtor_calls, memory_order_acquire), 2, "no destructor for NULL");
    weft_thread_destroy(t);

    cr_assert_eq(weft_local_set(&l, NULL), 0);
    cr_assert_null(weft_local_get(&l));
    weft_local_deinit(&l);
    cr_assert_eq(weft_local_set(NULL, NULL), EINVAL);
    cr_assert_eq(weft_local_init(NULL, NULL), EINVAL);
}

static weft_local relocal;
static _Atomic int relocal_calls;

/* Sets its value again once: the exit pass must destroy it again. */
static void resetting_dtor(void *v)
{
    if (atomic_fetch_add_explicit(&relocal_calls, 1, memory_order_relaxed) == 0)
        weft_local_set(&relocal, v);
}

static int set_relocal(void *arg)
{
    return weft_local_set(&relocal, arg);
}

Test(thread, local_destructor_that_sets_again_runs_again)
{
    cr_assert_eq(weft_local_init(&relocal, resetting_dtor), 0);
    weft_thread *t = make_started(set_relocal, (void *)(intptr_t)1, NULL);
    cr_assert_eq(weft_thread_join(t, POLL_LIMIT), 0);
    cr_assert_eq(weft_thread_exit_code(t), 0);
    cr_assert_eq(atomic_load_explicit(&relocal_calls, memory_order_relaxed), 2);
    weft_thread_destroy(t);
    weft_local_deinit(&relocal);
}

Test(thread, many_locals_with_and_without_destructors)
{
    enum { N = 8 };
    weft_local ls[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(weft_local_init(&ls[i], i % 2 ? count_dtor : NULL), 0);
    weft_local_deinit(&ls[2]); /* a hole in the list */
    struct local_use u[N];
    for (int i = 0; i < N; i++)
        u[i] = (struct local_use){.l = &ls[i], .value = 1 + i};
    for (int i = 0; i < N; i++) {
        if (i == 2)
            continue;
        weft_thread *t = make_started(use_local, &u[i], NULL);
        cr_assert_eq(weft_thread_join(t, POLL_LIMIT), 0);
        weft_thread_destroy(t);
    }
    /* Odd indices have count_dtor: values 2, 4, 6, 8. */
    cr_assert_eq(atomic_load_explicit(&dtor_calls, memory_order_acquire), 4);
    cr_assert_eq(atomic_load_explicit(&dtor_sum, memory_order_relaxed), 2 + 4 + 6 + 8);
    for (int i = 0; i < N; i++)
        if (i != 2)
            weft_local_deinit(&ls[i]);
}

/* ---- timer -------------------------------------------------------------- */

static _Atomic int fired;

static void fire(void *arg)
{
    (void)arg;
    /* release: pairs with reached() in the test. */
    atomic_fetch_add_explicit(&fired, 1, memory_order_release);
}

Test(thread, timer_fires_once_after_its_interval)
{
    weft_timer *tm;
    cr_assert_eq(weft_timer_create(&tm, 0.1, fire, NULL), 0);
    double t0 = now_s();
    cr_assert_eq(weft_timer_start(tm), 0);
    cr_assert_eq(weft_timer_start(tm), EBUSY);
    cr_assert_eq(weft_timer_join(tm, POLL_LIMIT), 0);
    double elapsed = now_s() - t0;
    cr_assert_eq(atomic_load_explicit(&fired, memory_order_acquire), 1);
    cr_assert_geq(elapsed, 0.1 - ROUNDING, "fired after %.6f s", elapsed);
    cr_assert_not(weft_timer_cancel(tm), "cancel after it fired: too late");
    weft_timer_destroy(tm);
    cr_assert_eq(atomic_load_explicit(&fired, memory_order_acquire), 1, "fires once");
}

Test(thread, timer_cancel_before_interval_prevents_it)
{
    weft_timer *tm;
    cr_assert_eq(weft_timer_create(&tm, 60.0, fire, NULL), 0);
    cr_assert_eq(weft_timer_start(tm), 0);
    cr_assert(weft_thread_is_alive(weft_timer_thread(tm)));
    cr_assert(weft_timer_cancel(tm));
    cr_assert(weft_timer_cancel(tm), "cancelling twice still reports it will never run");
    double t0 = now_s();
    cr_assert_eq(weft_timer_join(tm, POLL_LIMIT), 0, "cancel wakes the timer thread");
    cr_assert_lt(now_s() - t0, POLL_LIMIT);
    cr_assert_eq(atomic_load_explicit(&fired, memory_order_acquire), 0);
    weft_timer_destroy(tm);
    cr_assert_eq(atomic_load_explicit(&fired, memory_order_acquire), 0);
}

Test(thread, timer_cancel_before_start_and_destroy_of_pending)
{
    weft_timer *tm;
    cr_assert_eq(weft_timer_create(&tm, 0.0, fire, NULL), 0);
    cr_assert_eq(weft_timer_join(tm, 0), EINVAL, "not started");
    cr_assert(weft_timer_cancel(tm));
    cr_assert_eq(weft_timer_start(tm), 0);
    cr_assert_eq(weft_timer_join(tm, POLL_LIMIT), 0);
    cr_assert_eq(atomic_load_explicit(&fired, memory_order_acquire), 0, "cancelled before start: never runs");
    weft_timer_destroy(tm);

    cr_assert_eq(weft_timer_create(&tm, 60.0, fire, NULL), 0);
    cr_assert_eq(weft_timer_start(tm), 0);
    weft_timer_destroy(tm); /* cancels and joins: must not wait 60 s */
    cr_assert_eq(atomic_load_explicit(&fired, memory_order_acquire), 0);

    cr_assert_eq(weft_timer_create(&tm, 1.0, fire, NULL), 0);
    weft_timer_destroy(tm); /* never started */
    cr_assert_eq(atomic_load_explicit(&fired, memory_order_acquire), 0);
}

Test(thread, timer_rejects_bad_arguments)
{
    weft_timer *tm = (weft_timer *)&tm;
    cr_assert_eq(weft_timer_create(&tm, NAN, fire, NULL), EINVAL);
    cr_assert_eq(weft_timer_create(&tm, -0.5, fire, NULL), EINVAL);
    cr_assert_eq(weft_timer_create(&tm, 1.0, NULL, NULL), EINVAL);
    cr_assert_eq(weft_timer_create(NULL, 1.0, fire, NULL), EINVAL);
    cr_assert_eq(tm, (weft_timer *)&tm, "a failed create must not write *t");
}

Test(thread, timer_thread_can_be_named_and_made_daemon)
{
    weft_timer *tm;
    cr_assert_eq(weft_timer_create(&tm, 0.0, fire, NULL), 0);
    weft_thread *th = weft_timer_thread(tm);
    cr_assert_not(weft_thread_daemon(th), "non-daemon by default, as in Python");
    cr_assert_eq(weft_thread_set_daemon(th, true), 0);
    cr_assert_eq(weft_thread_set_name(th, "my-timer"), 0);
    cr_assert_eq(weft_timer_start(tm), 0);
    cr_assert_eq(weft_timer_join(tm, POLL_LIMIT), 0);
    cr_assert_eq(atomic_load_explicit(&fired, memory_order_acquire), 1);
    cr_assert_str_eq(weft_thread_name(th), "my-timer");
    weft_timer_destroy(tm);
}

Test(thread, null_handles_are_rejected)
{
    cr_assert_eq(weft_thread_start(NULL), EINVAL);
    cr_assert_eq(weft_thread_run(NULL), EINVAL);
    cr_assert_eq(weft_thread_set_name(NULL, "x"), EINVAL);
    cr_assert_eq(weft_thread_set_daemon(NULL, true), EINVAL);
    cr_assert_not(weft_thread_is_alive(NULL));
    cr_assert_null(weft_thread_name(NULL));
    cr_assert_eq(weft_thread_ident(NULL), 0);
    cr_assert_eq(weft_enumerate(NULL, 5), weft_active_count(), "NULL out: the total only");
    cr_assert_eq(weft_timer_start(NULL), EINVAL);
    cr_assert_eq(weft_timer_join(NULL, 0), EINVAL);
    cr_assert_not(weft_timer_cancel(NULL));
    cr_assert_null(weft_timer_thread(NULL));
    cr_assert_null(weft_local_get(NULL));
}

/* ---- the tutorial example ----------------------------------------------- */

struct counter {
    weft_lock lock;
    long value;
};

static int add_100000(void *arg)
{
    struct counter *c = arg;
    for (int i = 0; i < 100000; i++) {
        weft_lock_acquire(&c->lock, WEFT_FOREVER);
        c->value++;
        weft_lock_release(&c->lock);
    }
    return 0;
}

Test(thread, five_threads_increment_under_a_lock)
{
    struct counter c = {WEFT_LOCK_INIT, 0};
    weft_thread *t[5];
    for (int i = 0; i < 5; i++)
        t[i] = make_started(add_100000, &c, NULL);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(weft_thread_join(t[i], WEFT_FOREVER), 0);
        weft_thread_destroy(t[i]);
    }
    cr_assert_eq(c.value, 500000);
}

/* ---- fork and exit ------------------------------------------------------ */

Test(thread, fork_child_sees_other_threads_finished)
{
    struct seen s = {.code = 9};
    weft_event_init(&s.go);
    weft_thread *t = make_started(observe, &s, NULL);
    size_t before = weft_active_count();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* Exit codes tell the parent which check failed; _exit skips the
         * Criterion and weft exit paths of the copied process. */
        if (weft_thread_is_alive(t))
            _exit(10);
        if (weft_thread_join(t, 5.0) != 0)
            _exit(11);
        if (weft_active_count() != before - 1)
            _exit(12);
        if (weft_thread_native_id(weft_current_thread()) != (long)gettid())
            _exit(13);
        weft_thread *u;
        if (weft_thread_create(&u, return_arg, (void *)(intptr_t)4, NULL) != 0 || weft_thread_start(u) != 0 ||
            weft_thread_join(u, POLL_LIMIT) != 0 || weft_thread_exit_code(u) != 4)
            _exit(14);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    cr_assert_eq(WEXITSTATUS(status), 0, "child check %d failed", WEXITSTATUS(status));
    cr_assert(weft_thread_is_alive(t), "the parent's thread is unaffected");
    weft_event_set(&s.go);
    cr_assert_eq(weft_thread_join(t, POLL_LIMIT), 0);
    cr_assert_eq(weft_thread_exit_code(t), 9);
    weft_thread_destroy(t);
}

/* Runs atexit_helper MODE with stdout on a pipe; returns what it wrote and its
 * exit status. */
static size_t run_helper(const char *mode, char *out, size_t cap, int *status)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(ATEXIT_HELPER, ATEXIT_HELPER, mode, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t n;
    while (got < cap && (n = read(fds[0], out + got, cap - got)) > 0)
        got += (size_t)n;
    close(fds[0]);
    cr_assert_eq(waitpid(pid, status, 0), pid);
    return got;
}

Test(thread, exit_joins_non_daemon_threads)
{
    char buf[8];
    int status;
    size_t n = run_helper("nondaemon", buf, sizeof buf, &status);
    cr_assert(WIFEXITED(status));
    cr_assert_eq(WEXITSTATUS(status), 0);
    cr_assert_eq(n, 1, "the non-daemon thread's write happened before the process ended");
    cr_assert_eq(buf[0], 'x');
}

Test(thread, exit_does_not_wait_for_daemon_threads)
{
    char buf[8];
    int status;
    double t0 = now_s();
    size_t n = run_helper("daemon", buf, sizeof buf, &status);
    cr_assert(WIFEXITED(status));
    cr_assert_eq(WEXITSTATUS(status), 0);
    cr_assert_eq(n, 0, "the daemon thread was not waited for");
    cr_assert_lt(now_s() - t0, 25.0, "exit did not wait for the daemon's 30 s sleep");
}
