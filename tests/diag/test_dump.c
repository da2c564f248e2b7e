/* tests/diag/test_dump.c: weft_dump and weft_dump_on_signal on the other
 * tutorial hangs: a join that never returns because its thread waits on an
 * Event nobody sets, and a Condition wait nobody notifies. Each test looks at
 * the dump while the program hangs, then unhangs it.
 */
#include <signal.h>
#include <stdatomic.h>

#include "diag_util.h"

static char *dump_text(void)
{
    capture_begin();
    cr_assert_eq(weft_dump(stderr), 0);
    char *s = capture_text();
    capture_end();
    return s;
}

/* Poll dumps until one contains needle (threads take a moment to block). */
static char *dump_until(const char *needle)
{
    double until = now_s() + POLL_LIMIT;
    for (;;) {
        char *s = dump_text();
        if (strstr(s, needle) != NULL || now_s() > until)
            return s;
        free(s);
        nap_ms(20);
    }
}

static weft_event never_set;

static int wait_for_event(void *arg)
{
    (void)arg;
    return weft_event_wait(&never_set, WEFT_FOREVER);
}

static int join_it(void *arg)
{
    return weft_thread_join(arg, WEFT_FOREVER);
}

Test(dump, join_on_thread_waiting_for_event)
{
    cr_assert_eq(weft_diag_set_name(&never_set, "config-loaded"), 0);
    weft_thread *w = start_thread(wait_for_event, NULL, "loader", false);
    weft_thread *j = start_thread(join_it, w, "joiner", false);
    char *s = dump_until("blocked in weft_thread_join");
    char want[128];
    snprintf(want, sizeof want, "blocked in weft_event_wait on event %p \"config-loaded\" for ", (void *)&never_set);
    cr_assert(strstr(line_with(s, "  \"loader\" (ident"), want) != NULL, "%s", s);
    snprintf(want, sizeof want, "blocked in weft_thread_join on thread %p \"loader\" for ", (void *)w);
    cr_assert(strstr(line_with(s, "  \"joiner\" (ident"), want) != NULL, "%s", s);
    cr_assert(strstr(line_with(s, "  \"MainThread\" (ident"), ": running") != NULL, "%s", s);
    cr_assert(strncmp(s, "weft: dump of ", 14) == 0, "%s", s);
    /* The waited-on section lists the event with its waiter. */
    cr_assert(strstr(s, "waited on:\n") != NULL, "%s", s);
    snprintf(want, sizeof want, "event %p \"config-loaded\": waiters \"loader\"", (void *)&never_set);
    cr_assert(strstr(s, want) != NULL, "%s", s);
    free(s);

    weft_event_set(&never_set);
    cr_assert_eq(weft_thread_join(j, WEFT_FOREVER), 0);
    cr_assert_eq(weft_thread_join(w, WEFT_FOREVER), 0);
    weft_thread_destroy(j);
    weft_thread_destroy(w);
    s = dump_text();
    cr_assert(strstr(s, "\"loader\"") == NULL && strstr(s, "blocked") == NULL, "%s", s);
    free(s);
}

static weft_lock cv_lock = WEFT_LOCK_INIT;
static weft_cond cv;
static atomic_bool go;

static int wait_on_cond(void *arg)
{
    (void)arg;
    weft_lock_acquire(&cv_lock, WEFT_FOREVER);
    while (!atomic_load(&go))
        weft_cond_wait(&cv, WEFT_FOREVER);
    weft_lock_release(&cv_lock);
    return 0;
}

Test(dump, cond_wait_without_notify)
{
    cr_assert_eq(weft_cond_init(&cv, &cv_lock), 0);
    weft_thread *t = start_thread(wait_on_cond, NULL, "consumer", false);
    char *s = dump_until("blocked in weft_cond_wait");
    char want[128];
    snprintf(want, sizeof want, "blocked in weft_cond_wait on condition %p for ", (void *)&cv);
    cr_assert(strstr(line_with(s, "  \"consumer\" (ident"), want) != NULL, "%s", s);
    cr_assert(strstr(line_with(s, "  \"consumer\" (ident"), "weft thread") != NULL, "%s", s);
    free(s);
    weft_lock_acquire(&cv_lock, WEFT_FOREVER);
    atomic_store(&go, true);
    weft_cond_notify_all(&cv);
    weft_lock_release(&cv_lock);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    weft_thread_destroy(t);
}

static weft_lock held = WEFT_LOCK_INIT;

static int take_held(void *arg)
{
    (void)arg;
    weft_lock_acquire(&held, WEFT_FOREVER);
    weft_lock_release(&held);
    return 0;
}

Test(dump, lock_waiters)
{
    weft_lock_acquire(&held, WEFT_FOREVER);
    weft_thread *t1 = start_thread(take_held, NULL, "w1", false);
    weft_thread *t2 = start_thread(take_held, NULL, "w2", false);
    char want[64];
    snprintf(want, sizeof want, "lock %p: waiters", (void *)&held);
    char *s = dump_until("\"w2\" (");
    double until = now_s() + POLL_LIMIT;
    while (count_of(s, "blocked in weft_lock_acquire") < 2 && now_s() < until) {
        free(s);
        nap_ms(20);
        s = dump_text();
    }
    cr_assert_eq(count_of(s, "blocked in weft_lock_acquire"), 2, "%s", s);
    const char *w = line_with(s, want);
    cr_assert(strstr(w, "\"w1\"") != NULL && strstr(w, "\"w2\"") != NULL, "%s", s);
    free(s);
    weft_lock_release(&held);
    cr_assert_eq(weft_thread_join(t1, WEFT_FOREVER), 0);
    cr_assert_eq(weft_thread_join(t2, WEFT_FOREVER), 0);
    weft_thread_destroy(t1);
    weft_thread_destroy(t2);
}

static int idle_task(void *arg, void **result)
{
    (void)result;
    return weft_event_wait(arg, WEFT_FOREVER);
}

Test(dump, pools_and_workers)
{
    weft_pool *p;
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 2;
    o.thread_name_prefix = "crunch";
    cr_assert_eq(weft_pool_create(&p, &o), 0);
    weft_event ev = WEFT_EVENT_INIT;
    weft_future *f[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(weft_pool_submit(p, idle_task, &ev, &f[i]), 0);
    char *s = dump_until("pool ");
    double until = now_s() + POLL_LIMIT;
    while (count_of(s, "blocked in weft_event_wait") < 2 && now_s() < until) {
        free(s);
        nap_ms(20);
        s = dump_text();
    }
    char want[96];
    snprintf(want, sizeof want, "pool %p prefix \"crunch\": 2 workers", (void *)p);
    cr_assert(strstr(s, want) != NULL, "%s", s);
    snprintf(want, sizeof want, "worker 0 of pool %p", (void *)p);
    cr_assert(strstr(s, want) != NULL, "%s", s);
    cr_assert_eq(count_of(s, "blocked in weft_event_wait"), 2, "%s", s);
    cr_assert(strstr(s, "deque depths [") != NULL, "%s", s);
    free(s);
    weft_event_set(&ev);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(weft_future_result(f[i], WEFT_FOREVER, NULL), 0);
        weft_future_release(f[i]);
    }
    weft_pool_destroy(p);
    s = dump_text();
    cr_assert(strstr(s, "crunch") == NULL, "%s", s);
    free(s);
}

Test(dump, on_signal)
{
    cr_assert_eq(weft_dump_on_signal(SIGKILL), EINVAL);
    cr_assert_eq(weft_dump_on_signal(0), EINVAL);
    cr_assert_eq(weft_dump_on_signal(SIGUSR1), 0);
    weft_thread *w = start_thread(wait_for_event, NULL, "sleeper", false);
    cr_assert_eq(weft_diag_set_name(&never_set, "never"), 0);
    char *s = dump_until("blocked in weft_event_wait");
    free(s);
    capture_begin();
    raise(SIGUSR1);
    s = capture_text();
    capture_end();
    cr_assert(strncmp(s, "weft: dump of ", 14) == 0, "%s", s);
    cr_assert(strstr(line_with(s, "  \"sleeper\" (ident"), "blocked in weft_event_wait on event") != NULL, "%s", s);
    cr_assert(strstr(s, "\"never\"") != NULL, "%s", s);
    free(s);
    weft_event_set(&never_set);
    cr_assert_eq(weft_thread_join(w, WEFT_FOREVER), 0);
    weft_thread_destroy(w);
}

Test(dump, errors)
{
    cr_assert_eq(weft_dump(NULL), EINVAL);
    cr_assert_eq(weft_diag_set_name(NULL, "x"), EINVAL);
    int x;
    cr_assert_eq(weft_diag_set_name(&x, "x"), 0);
    cr_assert_eq(weft_diag_set_name(&x, NULL), 0);
    cr_assert_eq(weft_diag_set_name(&x, "y"), 0);
    weft_lock l = WEFT_LOCK_INIT;
    cr_assert_eq(weft_lock_set_name(&l, "l"), 0);
    cr_assert_eq(weft_lock_set_name(NULL, "l"), EINVAL);
}
