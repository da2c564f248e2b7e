/* tests/cpython/test_threading.c: CPython's Lib/test/test_threading.py
 * translated to weft's thread.h (ThreadTests, ThreadJoinOnShutdown,
 * ThreadingExceptionTests, ExceptHookTests, TimerTests, the cases that map).
 * The lock classes that test_threading derives from lock_tests.py are in
 * test_lock_tests.c. Python's RuntimeError for misuse becomes EBUSY (start
 * twice, daemon of a started thread), EDEADLK (join self), EINVAL (join a
 * thread never started), EPERM (release an unheld lock). Programs that must
 * exit are tests/cpython/exit_helper.c. Skipped cases: SKIPPED.md.
 */
#include <pthread.h>

#include "cpy.h"

/* ---- ThreadTests ------------------------------------------------------------ */

static int noop(void *arg)
{
    (void)arg;
    return 0;
}

/* test_name (Thread(name="") and Thread() are numbered "Thread-N") */
Test(threading, name)
{
    weft_thread_attr a = WEFT_THREAD_ATTR_INIT;
    weft_thread *t;
    a.name = "myname1";
    cr_assert_eq(weft_thread_create(&t, noop, NULL, &a), 0);
    cr_assert_str_eq(weft_thread_name(t), "myname1");
    weft_thread_destroy(t);
    const char *names[2] = {"", NULL};
    for (int i = 0; i < 2; i++) {
        a.name = names[i];
        cr_assert_eq(weft_thread_create(&t, noop, NULL, &a), 0);
        const char *n = weft_thread_name(t);
        cr_assert(strncmp(n, "Thread-", 7) == 0 && strlen(n) > 7, "%s", n);
        weft_thread_destroy(t);
    }
}

struct various {
    weft_sem sema;
    weft_rlock mutex;
    int nrunning; /* under mutex */
    _Atomic int bad;
    _Atomic unsigned seed;
};

static int various_run(void *arg)
{
    struct various *v = arg;
    unsigned s = atomic_fetch_add(&v->seed, 7919u);
    double delay = (double)(s % 1000) / 1000.0 / 10000.0; /* random() / 10000 */
    weft_sem_acquire(&v->sema, WEFT_FOREVER);
    weft_rlock_acquire(&v->mutex, WEFT_FOREVER);
    v->nrunning++;
    if (v->nrunning > 3)
        atomic_fetch_add(&v->bad, 1);
    weft_rlock_release(&v->mutex);
    cpy_sleep(delay);
    weft_rlock_acquire(&v->mutex, WEFT_FOREVER);
    v->nrunning--;
    if (v->nrunning < 0)
        atomic_fetch_add(&v->bad, 1);
    weft_rlock_release(&v->mutex);
    return weft_sem_release(&v->sema, 1);
}

static void various_ops(size_t stack_size)
{
    enum { NUMTASKS = 10 };
    static struct various v;
    weft_sem_init_bounded(&v.sema, 3);
    weft_rlock_init(&v.mutex);
    v.nrunning = 0;
    atomic_store(&v.bad, 0);
    weft_thread *t[NUMTASKS];
    for (int i = 0; i < NUMTASKS; i++) {
        char name[32];
        snprintf(name, sizeof name, "<thread %d>", i);
        weft_thread_attr a = {name, false, stack_size};
        cr_assert_eq(weft_thread_create(&t[i], various_run, &v, &a), 0);
        cr_assert_eq(weft_thread_ident(t[i]), 0, "no ident before start");
        cr_assert_eq(weft_thread_start(t[i]), 0);
    }
    for (int i = 0; i < NUMTASKS; i++) {
        cr_assert_eq(weft_thread_join(t[i], NUMTASKS), 0);
        cr_assert(!weft_thread_is_alive(t[i]));
        cr_assert_neq(weft_thread_ident(t[i]), 0);
        cr_assert_eq(weft_thread_exit_code(t[i]), 0);
        weft_thread_destroy(t[i]);
    }
    cr_assert_eq(v.nrunning, 0);
    cr_assert_eq(atomic_load(&v.bad), 0);
}

/* test_various_ops */
Test(threading, various_ops)
{
    various_ops(0);
}

/* test_various_ops_small_stack (256 kB) */
Test(threading, various_ops_small_stack)
{
    various_ops(262144);
}

/* test_various_ops_large_stack (1 MB) */
Test(threading, various_ops_large_stack)
{
    various_ops(0x100000);
}

struct foreign {
    weft_lock *mutex;
    weft_thread *entry;
    unsigned long ident;
};

static void *foreign_f(void *arg)
{
    struct foreign *f = arg;
    f->entry = weft_current_thread();
    f->ident = weft_thread_ident(f->entry);
    weft_lock_release(f->mutex);
    return NULL;
}

/* test_ident_of_no_threading_threads and test_foreign_thread: a thread weft
 * did not start gets a dummy entry with an ident, listed while it lives. */
Test(threading, foreign_thread)
{
    cr_assert_neq(weft_thread_ident(weft_current_thread()), 0);
    weft_lock mutex = WEFT_LOCK_INIT;
    weft_lock_acquire(&mutex, WEFT_FOREVER);
    struct foreign f = {&mutex, NULL, 0};
    pthread_t pt;
    cr_assert_eq(pthread_create(&pt, NULL, foreign_f, &f), 0);
    weft_lock_acquire(&mutex, WEFT_FOREVER);
    cr_assert_neq(f.ident, 0);
    cr_assert_eq(f.ident, (unsigned long)pt);
    pthread_join(pt, NULL);
}

/* test_limbo_cleanup: a start that fails (here: a stack the system cannot
 * map) leaves no trace in enumerate(), and the thread stays startable */
Test(threading, limbo_cleanup)
{
    size_t before = weft_enumerate(NULL, 0);
    weft_thread_attr a = WEFT_THREAD_ATTR_INIT;
    a.stack_size = (size_t)1 << 46;
    weft_thread *t;
    cr_assert_eq(weft_thread_create(&t, noop, NULL, &a), 0);
    int rc = weft_thread_start(t);
    cr_assert_neq(rc, 0, "a 64 TiB stack was granted");
    cr_assert(rc == EAGAIN || rc == EINVAL || rc == ENOMEM, "rc %d", rc);
    cr_assert_eq(weft_enumerate(NULL, 0), before, "Failed to cleanup on failure of start()");
    cr_assert(!weft_thread_is_alive(t));
    cr_assert_eq(weft_thread_join(t, 0), EINVAL, "still never started");
    weft_thread_destroy(t);
}

/* test_enumerate_after_join */
Test(threading, enumerate_after_join)
{
    for (int i = 1; i < 100; i++) {
        weft_thread *t = cpy_start(noop, NULL);
        cr_assert_eq(weft_thread_join(t, SHORT_TIMEOUT), 0);
        weft_thread *all[64];
        size_t n = weft_enumerate(all, 64);
        for (size_t j = 0; j < n && j < 64; j++)
            cr_assert_neq(all[j], t, "a joined thread is still listed after %d trials", i);
        weft_thread_destroy(t);
    }
}

/* test_daemon_param */
Test(threading, daemon_param)
{
    weft_thread_attr a = WEFT_THREAD_ATTR_INIT;
    weft_thread *t;
    a.daemon = false;
    cr_assert_eq(weft_thread_create(&t, noop, NULL, &a), 0);
    cr_assert(!weft_thread_daemon(t));
    weft_thread_destroy(t);
    a.daemon = true;
    cr_assert_eq(weft_thread_create(&t, noop, NULL, &a), 0);
    cr_assert(weft_thread_daemon(t));
    weft_thread_destroy(t);
}

static int main_thread_in_thread(void *arg)
{
    weft_thread **seen = arg;
    seen[0] = weft_main_thread();
    seen[1] = weft_current_thread();
    return 0;
}

/* test_main_thread */
Test(threading, main_thread)
{
    weft_thread *main = weft_main_thread();
    cr_assert_str_eq(weft_thread_name(main), "MainThread");
    cr_assert_eq(weft_thread_ident(main), weft_get_ident(), "the test runs on the main thread");
    cr_assert_eq(weft_thread_ident(main), weft_thread_ident(weft_current_thread()));
    weft_thread *seen[2];
    cpy_join(cpy_start(main_thread_in_thread, seen));
    cr_assert_eq(seen[0], main);
    cr_assert_neq(seen[1], main);
}

/* test_native_id */
Test(threading, native_id)
{
    cr_assert_eq(weft_thread_native_id(weft_current_thread()), (long)gettid());
}

struct bs_ctx {
    weft_sem bs;
};

static int bs_f(void *arg)
{
    struct bs_ctx *c = arg;
    int rc = weft_sem_acquire(&c->bs, WEFT_FOREVER);
    return rc != 0 ? rc : weft_sem_release(&c->bs, 1);
}

/* test_BoundedSemaphore_limit */
Test(threading, BoundedSemaphore_limit)
{
    for (size_t limit = 1; limit < 10; limit++) {
        struct bs_ctx c;
        weft_sem_init_bounded(&c.bs, limit);
        weft_thread *t[10];
        for (size_t i = 0; i < limit; i++)
            t[i] = cpy_start(bs_f, &c);
        for (size_t i = 0; i < limit; i++) {
            cr_assert_eq(weft_thread_join(t[i], SHORT_TIMEOUT), 0);
            cr_assert_eq(weft_thread_exit_code(t[i]), 0);
            weft_thread_destroy(t[i]);
        }
        cr_assert_eq(weft_sem_release(&c.bs, 1), EOVERFLOW, "ValueError");
    }
}

static void helper_expect(const char *mode, const char *want)
{
    char out[256];
    int st;
    double el;
    cpy_run_helper(EXIT_HELPER, mode, 20, out, sizeof out, &st, &el);
    cr_assert(WIFEXITED(st), "%s: killed (the exit hung?)", mode);
    cr_assert_eq(WEXITSTATUS(st), 0);
    cr_assert_str_eq(out, want);
}

/* test_join_nondaemon_on_shutdown: a non-daemon thread still runs after main
 * returns, and wakes up before the process ends */
Test(threading, join_nondaemon_on_shutdown)
{
    helper_expect("nondaemon_on_shutdown", "Woke up\n");
}

/* ---- ThreadJoinOnShutdown ---------------------------------------------------- */

/* test_1_join_on_shutdown: a thread joins the main thread, which ends */
Test(threading, join_on_shutdown_1)
{
    helper_expect("join_on_shutdown", "end of main\nend of thread\n");
}

/* ---- ThreadingExceptionTests --------------------------------------------------- */

/* test_start_thread_again */
Test(threading, start_thread_again)
{
    weft_thread *t = cpy_start(noop, NULL);
    cr_assert_eq(weft_thread_start(t), EBUSY);
    cpy_join(t);
}

static int join_self(void *arg)
{
    (void)arg;
    return weft_thread_join(weft_current_thread(), WEFT_FOREVER) == EDEADLK ? 0 : EIO;
}

/* test_joining_current_thread */
Test(threading, joining_current_thread)
{
    cr_assert_eq(weft_thread_join(weft_current_thread(), WEFT_FOREVER), EDEADLK);
    weft_thread *t = cpy_start(join_self, NULL);
    cr_assert_eq(weft_thread_join(t, SHORT_TIMEOUT), 0);
    cr_assert_eq(weft_thread_exit_code(t), 0);
    weft_thread_destroy(t);
}

/* test_joining_inactive_thread */
Test(threading, joining_inactive_thread)
{
    weft_thread *t;
    cr_assert_eq(weft_thread_create(&t, noop, NULL, NULL), 0);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), EINVAL);
    weft_thread_destroy(t);
}

static int wait_event(void *arg)
{
    return weft_event_wait(arg, WEFT_FOREVER);
}

/* test_daemonize_active_thread */
Test(threading, daemonize_active_thread)
{
    weft_event e = WEFT_EVENT_INIT;
    weft_thread *t = cpy_start(wait_event, &e);
    cr_assert_eq(weft_thread_set_daemon(t, true), EBUSY);
    weft_event_set(&e);
    cpy_join(t);
}

/* test_releasing_unacquired_lock */
Test(threading, releasing_unacquired_lock)
{
    weft_lock l = WEFT_LOCK_INIT;
    cr_assert_eq(weft_lock_release(&l), EPERM);
}

/* ---- ExceptHookTests ------------------------------------------------------------ */

static _Atomic(weft_thread *) hooked_thread;
static _Atomic int hooked_code;

static void custom_hook(weft_thread *t, int code)
{
    atomic_store(&hooked_thread, t);
    atomic_store(&hooked_code, code);
}

static int raise_eio(void *arg)
{
    (void)arg;
    return EIO;
}

/* test_custom_excepthook */
Test(threading, custom_excepthook)
{
    weft_set_excepthook(custom_hook);
    weft_thread *t = cpy_start(raise_eio, NULL);
    cr_assert_eq(weft_thread_join(t, SHORT_TIMEOUT), 0);
    cr_assert_eq(atomic_load(&hooked_thread), t);
    cr_assert_eq(atomic_load(&hooked_code), EIO);
    weft_set_excepthook(NULL);
    weft_thread_destroy(t);
}

/* test_excepthook: the default hook names the thread (run in a helper, whose
 * stderr the test reads) */
Test(threading, excepthook)
{
    char out[256];
    int st;
    double el;
    cpy_run_helper(EXIT_HELPER, "excepthook", 20, out, sizeof out, &st, &el);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    cr_assert(strstr(out, "Exception in thread excepthook_thread: ") == out, "%s", out);
    cr_assert_neq(strstr(out, strerror(EIO)), NULL, "%s", out);
}

/* ---- TimerTests ----------------------------------------------------------------- */

static _Atomic int timer_calls;

static void timer_spy(void *arg)
{
    atomic_fetch_add(&timer_calls, 1);
    weft_event_set(arg);
}

/* test_init_immutable_default_args (two timers, each calls back once) */
Test(threading, timer_init_immutable_default_args)
{
    weft_event ev = WEFT_EVENT_INIT;
    atomic_store(&timer_calls, 0);
    for (int i = 0; i < 2; i++) {
        weft_timer *t;
        cr_assert_eq(weft_timer_create(&t, 0.01, timer_spy, &ev), 0);
        cr_assert_eq(weft_timer_start(t), 0);
        cr_assert_eq(weft_event_wait(&ev, SHORT_TIMEOUT), 0);
        weft_event_clear(&ev);
        weft_timer_destroy(t);
    }
    cr_assert_eq(atomic_load(&timer_calls), 2);
}
