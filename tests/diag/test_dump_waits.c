/* tests/diag/test_dump_waits.c: weft_dump on the waits that go through the
 * shared sleeping helpers (issue 12's gaps): a queue get or put (both
 * backends) and join, a future's result and wait (from a plain thread and
 * from a pool worker, which helps while it waits), a group wait. Each test
 * hangs a thread on one of them, checks that the dump names the call, the
 * object and its kind, then unhangs it and checks that the state is gone.
 * The hung threads are daemons and the pools no_exit_wait, so that a failed
 * assertion ends the test instead of hanging its exit on them.
 */
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

/* Poll dumps until one has `count` occurrences of needle (threads take a
 * moment to block), or POLL_LIMIT passes; the last dump. */
static char *dump_until_n(const char *needle, int count)
{
    double until = now_s() + POLL_LIMIT;
    for (;;) {
        char *s = dump_text();
        if (count_of(s, needle) >= count || now_s() > until)
            return s;
        free(s);
        nap_ms(20);
    }
}

static char *dump_until(const char *needle)
{
    return dump_until_n(needle, 1);
}

/* The line of thread `name` in dump s contains want. */
static void assert_thread_line(const char *s, const char *name, const char *want)
{
    char key[64];
    snprintf(key, sizeof key, "  \"%s\" (ident", name);
    const char *line = line_with(s, key);
    cr_assert(strstr(line, want) != NULL, "thread %s: wanted \"%s\" in\n%s", name, want, s);
}

/* ---- queues --------------------------------------------------------------- */

static int get_one(void *arg)
{
    void *item = NULL;
    return weft_queue_get(arg, &item, WEFT_FOREVER);
}

static int put_one(void *arg)
{
    return weft_queue_put(arg, (void *)2, WEFT_FOREVER);
}

static int join_queue(void *arg)
{
    return weft_queue_join(arg, WEFT_FOREVER);
}

static void queue_waits(weft_queue_backend backend)
{
    weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
    o.backend = backend;
    weft_queue *empty, *full;
    cr_assert_eq(weft_queue_create(&empty, &o), 0);
    o.maxsize = 1;
    cr_assert_eq(weft_queue_create(&full, &o), 0);
    cr_assert_eq(weft_diag_set_name(empty, "inbox"), 0);
    cr_assert_eq(weft_diag_set_name(full, "outbox"), 0);
    cr_assert_eq(weft_queue_put(full, (void *)1, 0), 0);

    weft_thread *g = start_thread(get_one, empty, "getter", true);
    weft_thread *p = start_thread(put_one, full, "putter", true);
    weft_thread *j = start_thread(join_queue, full, "qjoiner", true);
    char *s = dump_until("blocked in weft_queue_join");
    free(s);
    s = dump_until("blocked in weft_queue_put");
    free(s);
    s = dump_until("blocked in weft_queue_get");
    char want[128];
    snprintf(want, sizeof want, "blocked in weft_queue_get on queue %p \"inbox\" for ", (void *)empty);
    assert_thread_line(s, "getter", want);
    snprintf(want, sizeof want, "blocked in weft_queue_put on queue %p \"outbox\" for ", (void *)full);
    assert_thread_line(s, "putter", want);
    snprintf(want, sizeof want, "blocked in weft_queue_join on queue %p \"outbox\" for ", (void *)full);
    assert_thread_line(s, "qjoiner", want);
    /* The waited-on section lists each queue with its waiters. */
    snprintf(want, sizeof want, "queue %p \"inbox\": waiters \"getter\"", (void *)empty);
    cr_assert(strstr(s, want) != NULL, "%s", s);
    snprintf(want, sizeof want, "queue %p \"outbox\": waiters", (void *)full);
    const char *w = line_with(s, want);
    cr_assert(strstr(w, "\"putter\"") != NULL && strstr(w, "\"qjoiner\"") != NULL, "%s", s);
    free(s);

    cr_assert_eq(weft_queue_put(empty, (void *)3, 0), 0);
    cr_assert_eq(weft_thread_join(g, WEFT_FOREVER), 0);
    void *item;
    cr_assert_eq(weft_queue_get(full, &item, 0), 0);
    cr_assert_eq(weft_queue_task_done(full), 0);
    cr_assert_eq(weft_thread_join(p, WEFT_FOREVER), 0);
    cr_assert_eq(weft_queue_get(full, &item, 0), 0);
    cr_assert_eq(weft_queue_task_done(full), 0);
    cr_assert_eq(weft_thread_join(j, WEFT_FOREVER), 0);
    weft_thread_destroy(g);
    weft_thread_destroy(p);
    weft_thread_destroy(j);
    s = dump_text();
    cr_assert(strstr(s, "blocked") == NULL, "%s", s);
    free(s);
    weft_queue_destroy(empty);
    weft_queue_destroy(full);
}

Test(dump_waits, queue_get_put_join_lockfree)
{
    queue_waits(WEFT_QUEUE_LOCKFREE);
}

Test(dump_waits, queue_get_put_join_mutex)
{
    queue_waits(WEFT_QUEUE_MUTEX);
}

/* ---- futures -------------------------------------------------------------- */

static int result_of(void *arg)
{
    void *r = NULL;
    int rc = weft_future_result(arg, WEFT_FOREVER, &r);
    return rc == 0 && r == (void *)7 ? 0 : 1;
}

static int wait_on(void *arg)
{
    return weft_future_wait(arg, WEFT_FOREVER);
}

Test(dump_waits, future_result_from_a_thread)
{
    weft_future *f;
    cr_assert_eq(weft_future_create(&f), 0);
    cr_assert_eq(weft_diag_set_name(f, "answer"), 0);
    weft_thread *r = start_thread(result_of, f, "asker", true);
    weft_thread *w = start_thread(wait_on, f, "waiter", true);
    char *s = dump_until("blocked in weft_future_wait");
    free(s);
    s = dump_until("blocked in weft_future_result");
    char want[128];
    snprintf(want, sizeof want, "blocked in weft_future_result on future %p \"answer\" for ", (void *)f);
    assert_thread_line(s, "asker", want);
    snprintf(want, sizeof want, "blocked in weft_future_wait on future %p \"answer\" for ", (void *)f);
    assert_thread_line(s, "waiter", want);
    snprintf(want, sizeof want, "future %p \"answer\": waiters", (void *)f);
    const char *l = line_with(s, want);
    cr_assert(strstr(l, "\"asker\"") != NULL && strstr(l, "\"waiter\"") != NULL, "%s", s);
    free(s);

    cr_assert_eq(weft_future_set_result(f, (void *)7), 0);
    cr_assert_eq(weft_thread_join(r, WEFT_FOREVER), 0);
    cr_assert_eq(weft_thread_join(w, WEFT_FOREVER), 0);
    weft_thread_destroy(r);
    weft_thread_destroy(w);
    s = dump_text();
    cr_assert(strstr(s, "blocked") == NULL, "%s", s);
    free(s);
    weft_diag_set_name(f, NULL);
    weft_future_release(f);
}

static int task_result_of(void *arg, void **result)
{
    (void)result;
    return result_of(arg);
}

Test(dump_waits, future_result_from_a_worker)
{
    weft_pool *p;
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 1;
    o.no_exit_wait = true;
    o.thread_name_prefix = "helper";
    cr_assert_eq(weft_pool_create(&p, &o), 0);
    weft_future *f, *t;
    cr_assert_eq(weft_future_create(&f), 0);
    cr_assert_eq(weft_pool_submit(p, task_result_of, f, &t), 0);
    char *s = dump_until("blocked in weft_future_result");
    char want[128];
    snprintf(want, sizeof want, "worker 0 of pool %p: blocked in weft_future_result on future %p for ", (void *)p,
             (void *)f);
    assert_thread_line(s, "helper_0", want);
    free(s);
    cr_assert_eq(weft_future_set_result(f, (void *)7), 0);
    cr_assert_eq(weft_future_result(t, WEFT_FOREVER, NULL), 0);
    weft_future_release(t);
    weft_future_release(f);
    weft_pool_destroy(p);
}

/* ---- groups --------------------------------------------------------------- */

static weft_pool *gpool;
static weft_event gate;
static weft_group *gwaited;

static void wait_gate(void *arg)
{
    (void)arg;
    weft_event_wait(&gate, WEFT_FOREVER);
}

static int run_and_wait(void *arg)
{
    weft_group *g = arg;
    weft_group_init(g, gpool);
    if (weft_group_run(g, wait_gate, NULL) != 0)
        return 1;
    return weft_group_wait(g);
}

Test(dump_waits, group_wait_from_a_thread)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 1;
    o.no_exit_wait = true;
    o.thread_name_prefix = "grp";
    cr_assert_eq(weft_pool_create(&gpool, &o), 0);
    weft_event_init(&gate);
    weft_group g;
    weft_thread *t = start_thread(run_and_wait, &g, "forker", true);
    char *s = dump_until("blocked in weft_group_wait");
    free(s);
    s = dump_until("blocked in weft_event_wait");
    char want[128];
    snprintf(want, sizeof want, "blocked in weft_group_wait on group %p for ", (void *)&g);
    assert_thread_line(s, "forker", want);
    snprintf(want, sizeof want, "blocked in weft_event_wait on event %p for ", (void *)&gate);
    assert_thread_line(s, "grp_0", want);
    free(s);
    weft_event_set(&gate);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    weft_thread_destroy(t);
    weft_pool_destroy(gpool);
}

/* A task that waits on its group helps: it runs the child it spawned itself,
 * and while that child blocks the dump shows the child's wait, not the
 * group's (the group wait is recorded per sleep, never around helping). */
static int task_run_and_wait(void *arg, void **result)
{
    (void)result;
    return run_and_wait(arg);
}

Test(dump_waits, group_wait_in_a_worker_shows_the_helped_wait)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 1;
    o.no_exit_wait = true;
    o.thread_name_prefix = "nest";
    cr_assert_eq(weft_pool_create(&gpool, &o), 0);
    weft_event_init(&gate);
    static weft_group g;
    gwaited = &g;
    weft_future *t;
    cr_assert_eq(weft_pool_submit(gpool, task_run_and_wait, &g, &t), 0);
    char *s = dump_until("blocked in weft_event_wait");
    char want[128];
    snprintf(want, sizeof want, "blocked in weft_event_wait on event %p for ", (void *)&gate);
    assert_thread_line(s, "nest_0", want);
    free(s);
    weft_event_set(&gate);
    cr_assert_eq(weft_future_result(t, WEFT_FOREVER, NULL), 0);
    weft_future_release(t);
    weft_pool_destroy(gpool);
}
