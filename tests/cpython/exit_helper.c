/* tests/cpython/exit_helper.c: programs that exit while weft threads or pools
 * are live, for the exit-sequence cases (test_fidelity.c and the
 * translations of test_threading / test_concurrent_futures); a Criterion test
 * process cannot exit itself. Usage: exit_helper MODE (see main). Each mode
 * prints to stdout what the test then compares. Thread handles are destroyed
 * (detached) and pools stay reachable from weft's list of live pools, so
 * LeakSanitizer has nothing to report at exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

#include "thread/exit.h" /* weft__exit_registrations (internal) */

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static int say(void *arg, void **result)
{
    (void)result;
    nap(0.1);
    fputs(arg, stdout);
    fflush(stdout);
    return 0;
}

static int say_after_1s(void *arg, void **result)
{
    (void)result;
    nap(1.0);
    fputs(arg, stdout);
    fflush(stdout);
    return 0;
}

static int say_late(void *arg, void **result)
{
    (void)result;
    nap(5);
    fputs(arg, stdout);
    fflush(stdout);
    return 0;
}

/* test_concurrent_futures test_interpreter_shutdown: the queued task runs
 * (or, with no_exit_wait, the process exits at once without it). */
static int mode_apple(bool no_exit_wait)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 5;
    o.no_exit_wait = no_exit_wait;
    weft_pool *p;
    if (weft_pool_create(&p, &o) != 0)
        return 3;
    if (weft_pool_submit(p, no_exit_wait ? say_late : say_after_1s, no_exit_wait ? "late\n" : "apple\n", NULL) != 0)
        return 4;
    return 0; /* the pool is never destroyed */
}

/* test_hang_gh83386 (wait = false) / test_cancel_futures_wait_false: after
 * shutdown(wait=False[, cancel_futures=True]) the exit still waits for the
 * running task. */
static int mode_shutdown_nowait(bool cancel)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 3;
    weft_pool *p;
    if (weft_pool_create(&p, &o) != 0)
        return 3;
    if (weft_pool_submit(p, cancel ? say : say_after_1s, "apple\n", NULL) != 0)
        return 4;
    return weft_pool_shutdown(p, false, cancel) == 0 ? 0 : 5;
}

static weft_pool *atexit_pool;

static void run_last(void)
{
    int rc = weft_pool_submit(atexit_pool, say, "ran\n", NULL);
    printf(rc == ESHUTDOWN ? "runtime-error\n" : "submitted %d\n", rc);
    fflush(stdout);
}

/* test_concurrent_futures test_submit_after_interpreter_shutdown: an atexit
 * handler registered before the pool runs after its exit shutdown. */
static int mode_atexit_submit(void)
{
    atexit(run_last);
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 5;
    return weft_pool_create(&atexit_pool, &o) == 0 ? 0 : 3;
}

/* Issue 11's caveat: a pool created while none was live registered the exit
 * sequence with atexit again, so creating and destroying the only pool in a
 * loop grew glibc's atexit list by one entry per cycle. Now at most two (load
 * and first pool), and the exit semantics are unchanged: run_last, registered
 * before any pool, still runs after the pools are shut down. */
static int mode_pool_cycles(void)
{
    atexit(run_last);
    for (int i = 0; i < 2000; i++) {
        weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
        o.max_workers = 1;
        o.scheduler = WEFT_SCHED_MUTEX;
        weft_pool *p;
        if (weft_pool_create(&p, &o) != 0)
            return 3;
        weft_pool_destroy(p);
    }
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 2;
    if (weft_pool_create(&atexit_pool, &o) != 0)
        return 3;
    printf("atexit entries %u\n", weft__exit_registrations());
    fflush(stdout);
    return 0;
}

static int join_main(void *arg)
{
    (void)arg;
    int rc = weft_thread_join(weft_main_thread(), WEFT_FOREVER);
    printf("joined %d alive %d\n", rc, weft_thread_is_alive(weft_main_thread()));
    fflush(stdout);
    return 0;
}

/* test_threading test_join_from_main... (a non-daemon thread joining the main
 * thread): the process exits, the joiner returns first. */
static int mode_join_main(void)
{
    weft_thread *t;
    if (weft_thread_create(&t, join_main, NULL, NULL) != 0 || weft_thread_start(t) != 0)
        return 3;
    weft_thread_destroy(t);
    return 0;
}

static int submit_later(void *arg)
{
    nap(0.2);
    int rc = weft_pool_submit(arg, say, "from-thread\n", NULL);
    if (rc != 0)
        printf("submit %d\n", rc);
    return 0;
}

/* Order: non-daemon threads are joined before the pools shut down, so a
 * thread may still submit at exit and the work runs. */
static int mode_thread_then_pool(void)
{
    weft_pool *p;
    if (weft_pool_create(&p, NULL) != 0)
        return 3;
    weft_thread *t;
    if (weft_thread_create(&t, submit_later, p, NULL) != 0 || weft_thread_start(t) != 0)
        return 3;
    weft_thread_destroy(t);
    return 0;
}

static int joiningfunc(void *arg)
{
    if (weft_thread_join(arg, WEFT_FOREVER) != 0)
        return EIO;
    printf("end of thread\n");
    fflush(stdout);
    return 0;
}

/* test_threading ThreadJoinOnShutdown.test_1_join_on_shutdown */
static int mode_join_on_shutdown(void)
{
    weft_thread *t;
    if (weft_thread_create(&t, joiningfunc, weft_current_thread(), NULL) != 0 || weft_thread_start(t) != 0)
        return 3;
    weft_thread_destroy(t); /* detached: the exit-time join must still cover it */
    nap(0.1);
    printf("end of main\n");
    fflush(stdout);
    return 0;
}

static int child(void *arg)
{
    (void)arg;
    nap(1);
    printf("Woke up\n");
    fflush(stdout);
    return 0;
}

/* test_threading test_join_nondaemon_on_shutdown (exit() = SystemExit) */
static int mode_nondaemon_on_shutdown(void)
{
    weft_thread *t;
    if (weft_thread_create(&t, child, NULL, NULL) != 0 || weft_thread_start(t) != 0)
        return 3;
    weft_thread_destroy(t);
    exit(0);
}

static int raise_eio(void *arg)
{
    (void)arg;
    return EIO;
}

/* test_threading ExceptHookTests.test_excepthook: the default hook */
static int mode_excepthook(void)
{
    weft_thread_attr a = WEFT_THREAD_ATTR_INIT;
    a.name = "excepthook_thread";
    weft_thread *t;
    if (weft_thread_create(&t, raise_eio, NULL, &a) != 0 || weft_thread_start(t) != 0)
        return 3;
    weft_thread_join(t, WEFT_FOREVER);
    weft_thread_destroy(t);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *m = argv[1];
    if (strcmp(m, "apple") == 0)
        return mode_apple(false);
    if (strcmp(m, "no_exit_wait") == 0)
        return mode_apple(true);
    if (strcmp(m, "atexit_submit") == 0)
        return mode_atexit_submit();
    if (strcmp(m, "join_main") == 0)
        return mode_join_main();
    if (strcmp(m, "join_on_shutdown") == 0)
        return mode_join_on_shutdown();
    if (strcmp(m, "nondaemon_on_shutdown") == 0)
        return mode_nondaemon_on_shutdown();
    if (strcmp(m, "excepthook") == 0)
        return mode_excepthook();
    if (strcmp(m, "shutdown_nowait") == 0)
        return mode_shutdown_nowait(false);
    if (strcmp(m, "cancel_nowait") == 0)
        return mode_shutdown_nowait(true);
    if (strcmp(m, "thread_then_pool") == 0)
        return mode_thread_then_pool();
    if (strcmp(m, "pool_cycles") == 0)
        return mode_pool_cycles();
    return 2;
}
