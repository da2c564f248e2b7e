/* tests/cpython/test_queue.c: CPython's Lib/test/test_queue.py translated to
 * weft_queue. Python runs each mixin on the pure-Python and the C queue;
 * here each case runs on both backends (WEFT_QUEUE_LOCKFREE, WEFT_QUEUE_MUTEX)
 * and, for the BaseQueueTestMixin cases, on Queue, LifoQueue and
 * PriorityQueue. SimpleQueue is an unbounded FIFO. Items are small integers
 * cast to void *. Skipped cases: SKIPPED.md.
 */
#include <stdint.h>

#include "cpy.h"

enum { QUEUE_SIZE = 5 };

#define ITEM(i) ((void *)(intptr_t)(i))
#define VAL(p) ((long)(intptr_t)(p))

static int cmp_int(const void *a, const void *b)
{
    intptr_t x = (intptr_t)a, y = (intptr_t)b;
    return x < y ? -1 : x > y;
}

static const weft_queue_backend backends[] = {WEFT_QUEUE_LOCKFREE, WEFT_QUEUE_MUTEX};
static const weft_queue_kind kinds[] = {WEFT_QUEUE_FIFO, WEFT_QUEUE_LIFO, WEFT_QUEUE_PRIORITY};

static weft_queue *make_queue(weft_queue_kind kind, size_t maxsize, weft_queue_backend be)
{
    weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
    o.kind = kind;
    o.maxsize = maxsize;
    o.backend = be;
    o.cmp = kind == WEFT_QUEUE_PRIORITY ? cmp_int : NULL;
    weft_queue *q = NULL;
    cr_assert_eq(weft_queue_create(&q, &o), 0);
    return q;
}

#define FOR_EACH_BACKEND(b) for (size_t b##_i = 0, b; b##_i < 2 && ((b = backends[b##_i]), 1); b##_i++)
#define FOR_EACH_KIND(k) for (size_t k##_i = 0, k; k##_i < 3 && ((k = kinds[k##_i]), 1); k##_i++)

static long get_now(weft_queue *q)
{
    void *v = NULL;
    cr_assert_eq(weft_queue_get(q, &v, WEFT_FOREVER), 0);
    return VAL(v);
}

/* ---- _TriggerThread / do_blocking_test ---------------------------------- */

struct trigger {
    weft_queue *q;
    bool do_get; /* else put `item` */
    long item;
    weft_event started;
};

static int trigger_run(void *arg)
{
    struct trigger *t = arg;
    cpy_sleep(0.1);
    weft_event_set(&t->started);
    if (t->do_get)
        return weft_queue_get(t->q, NULL, WEFT_FOREVER);
    return weft_queue_put(t->q, ITEM(t->item), WEFT_FOREVER);
}

/* Runs the blocking call (a put of block_item when block_put, else a get)
 * against a trigger thread; checks it blocked until the trigger ran. */
static long do_blocking_test(weft_queue *q, bool block_put, long block_item, double timeout, long trigger_item)
{
    struct trigger t = {q, block_put, trigger_item, WEFT_EVENT_INIT};
    weft_thread *th = cpy_start(trigger_run, &t);
    void *got = NULL;
    int rc = block_put ? weft_queue_put(q, ITEM(block_item), timeout) : weft_queue_get(q, &got, timeout);
    cr_assert_eq(rc, 0);
    cr_assert(weft_event_is_set(&t.started), "blocking function appeared not to block");
    cr_assert_eq(weft_thread_join(th, SHORT_TIMEOUT), 0);
    cr_assert_eq(weft_thread_exit_code(th), 0);
    weft_thread_destroy(th);
    return VAL(got);
}

/* ---- BaseQueueTestMixin ---------------------------------------------------- */

static void basic_queue_test(weft_queue *q, weft_queue_kind kind)
{
    cr_assert_eq(weft_queue_qsize(q), 0);
    cr_assert(weft_queue_empty(q));
    cr_assert(!weft_queue_full(q));
    weft_queue_put(q, ITEM(111), WEFT_FOREVER);
    weft_queue_put(q, ITEM(333), WEFT_FOREVER);
    weft_queue_put(q, ITEM(222), WEFT_FOREVER);
    static const long order[3][3] = {{111, 333, 222}, {222, 333, 111}, {111, 222, 333}};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(get_now(q), order[kind][i], "Didn't seem to queue the correct data!");
    for (int i = 0; i < QUEUE_SIZE - 1; i++) {
        weft_queue_put(q, ITEM(i), WEFT_FOREVER);
        cr_assert_neq(weft_queue_qsize(q), 0);
    }
    cr_assert(!weft_queue_full(q));
    long last = 2 * QUEUE_SIZE, full = 3 * 2 * QUEUE_SIZE;
    weft_queue_put(q, ITEM(last), WEFT_FOREVER);
    cr_assert(weft_queue_full(q));
    cr_assert(!weft_queue_empty(q));
    cr_assert_eq(weft_queue_put(q, ITEM(full), 0), EAGAIN, "queue.Full");
    cr_assert_eq(weft_queue_put(q, ITEM(full), 0.01), ETIMEDOUT, "queue.Full after the timeout");
    do_blocking_test(q, true, full, WEFT_FOREVER, 0);
    do_blocking_test(q, true, full, 10, 0);
    for (int i = 0; i < QUEUE_SIZE; i++)
        get_now(q);
    cr_assert_eq(weft_queue_qsize(q), 0);
    cr_assert_eq(weft_queue_get(q, NULL, 0), EAGAIN, "queue.Empty");
    cr_assert_eq(weft_queue_get(q, NULL, 0.01), ETIMEDOUT);
    cr_assert_eq(do_blocking_test(q, false, 0, WEFT_FOREVER, 7), 7);
    cr_assert_eq(do_blocking_test(q, false, 0, 10, 8), 8);
}

/* test_basic */
Test(queue, basic)
{
    FOR_EACH_BACKEND(be)
    FOR_EACH_KIND(k)
    {
        weft_queue *q = make_queue(k, QUEUE_SIZE, be);
        basic_queue_test(q, k);
        basic_queue_test(q, k);
        weft_queue_destroy(q);
    }
}

/* test_queue_task_done (ValueError = EINVAL) */
Test(queue, queue_task_done)
{
    FOR_EACH_BACKEND(be)
    FOR_EACH_KIND(k)
    {
        weft_queue *q = make_queue(k, 0, be);
        cr_assert_eq(weft_queue_task_done(q), EINVAL, "Did not detect task count going negative");
        /* Queue.unfinished_tasks follows put and task_done */
        cr_assert_eq(weft_queue_unfinished_tasks(q), 0);
        weft_queue_put(q, ITEM(1), WEFT_FOREVER);
        cr_assert_eq(weft_queue_unfinished_tasks(q), 1);
        cr_assert_eq(weft_queue_get(q, NULL, 0), 0);
        cr_assert_eq(weft_queue_unfinished_tasks(q), 1, "a get alone does not finish the task");
        cr_assert_eq(weft_queue_task_done(q), 0);
        cr_assert_eq(weft_queue_unfinished_tasks(q), 0);
        weft_queue_destroy(q);
    }
}

struct join_ctx {
    weft_queue *q;
    weft_lock cumlock;
    long cum;
};

static int join_worker(void *arg)
{
    struct join_ctx *c = arg;
    for (;;) {
        void *v;
        if (weft_queue_get(c->q, &v, WEFT_FOREVER) != 0)
            return EIO;
        long x = VAL(v);
        if (x < 0) {
            weft_queue_task_done(c->q);
            return 0;
        }
        weft_lock_acquire(&c->cumlock, WEFT_FOREVER);
        c->cum += x;
        weft_lock_release(&c->cumlock);
        weft_queue_task_done(c->q);
    }
}

static void queue_join_test(weft_queue *q)
{
    struct join_ctx c = {q, WEFT_LOCK_INIT, 0};
    weft_thread *t[2];
    for (int i = 0; i < 2; i++)
        t[i] = cpy_start(join_worker, &c);
    for (int i = 0; i < 100; i++)
        weft_queue_put(q, ITEM(i), WEFT_FOREVER);
    cr_assert_eq(weft_queue_join(q, SHORT_TIMEOUT), 0);
    weft_lock_acquire(&c.cumlock, WEFT_FOREVER);
    cr_assert_eq(c.cum, 4950, "q.join() did not block until all tasks were done");
    weft_lock_release(&c.cumlock);
    for (int i = 0; i < 2; i++)
        weft_queue_put(q, ITEM(-1), WEFT_FOREVER);
    cr_assert_eq(weft_queue_join(q, SHORT_TIMEOUT), 0, "join twice");
    cr_assert_eq(weft_queue_unfinished_tasks(q), 0);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(weft_thread_join(t[i], SHORT_TIMEOUT), 0);
        cr_assert_eq(weft_thread_exit_code(t[i]), 0);
        weft_thread_destroy(t[i]);
    }
}

/* test_queue_join */
Test(queue, queue_join)
{
    FOR_EACH_BACKEND(be)
    FOR_EACH_KIND(k)
    {
        weft_queue *q = make_queue(k, 0, be);
        queue_join_test(q);
        queue_join_test(q);
        cr_assert_eq(weft_queue_task_done(q), EINVAL);
        weft_queue_destroy(q);
    }
}

/* test_negative_timeout_raises_exception: Python raises ValueError; in weft
 * a negative timeout never blocks (docs/PYTHON-DIFFERENCES.md). */
Test(queue, negative_timeout_never_blocks)
{
    FOR_EACH_BACKEND(be)
    FOR_EACH_KIND(k)
    {
        weft_queue *q = make_queue(k, QUEUE_SIZE, be);
        cr_assert_eq(weft_queue_get(q, NULL, -1), EAGAIN);
        for (int i = 0; i < QUEUE_SIZE; i++)
            cr_assert_eq(weft_queue_put(q, ITEM(1), -1), 0);
        cr_assert_eq(weft_queue_put(q, ITEM(1), -1), EAGAIN);
        cr_assert_eq(weft_queue_put(q, ITEM(1), NAN), EINVAL);
        weft_queue_destroy(q);
    }
}

/* test_nowait */
Test(queue, nowait)
{
    FOR_EACH_BACKEND(be)
    FOR_EACH_KIND(k)
    {
        weft_queue *q = make_queue(k, QUEUE_SIZE, be);
        for (int i = 0; i < QUEUE_SIZE; i++)
            cr_assert_eq(weft_queue_put(q, ITEM(1), 0), 0);
        cr_assert_eq(weft_queue_put(q, ITEM(1), 0), EAGAIN);
        for (int i = 0; i < QUEUE_SIZE; i++)
            cr_assert_eq(weft_queue_get(q, NULL, 0), 0);
        cr_assert_eq(weft_queue_get(q, NULL, 0), EAGAIN);
        weft_queue_destroy(q);
    }
}

/* ---- BaseSimpleQueueTest (SimpleQueue = an unbounded FIFO) ----------------- */

/* test_basic */
Test(queue, simple_basic)
{
    FOR_EACH_BACKEND(be)
    {
        weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, be);
        cr_assert(weft_queue_empty(q));
        cr_assert_eq(weft_queue_qsize(q), 0);
        weft_queue_put(q, ITEM(1), WEFT_FOREVER);
        cr_assert(!weft_queue_empty(q));
        cr_assert_eq(weft_queue_qsize(q), 1);
        weft_queue_put(q, ITEM(2), WEFT_FOREVER);
        weft_queue_put(q, ITEM(3), 0);
        weft_queue_put(q, ITEM(4), WEFT_FOREVER);
        cr_assert_eq(weft_queue_qsize(q), 4);
        cr_assert_eq(get_now(q), 1);
        cr_assert_eq(weft_queue_qsize(q), 3);
        void *v;
        cr_assert_eq(weft_queue_get(q, &v, 0), 0);
        cr_assert_eq(VAL(v), 2);
        cr_assert_eq(weft_queue_get(q, &v, 0), 0);
        cr_assert_eq(VAL(v), 3);
        cr_assert_eq(weft_queue_get(q, &v, 0.1), 0);
        cr_assert_eq(VAL(v), 4);
        cr_assert(weft_queue_empty(q));
        cr_assert_eq(weft_queue_get(q, NULL, 0), EAGAIN);
        cr_assert_eq(weft_queue_get(q, NULL, 1e-3), ETIMEDOUT);
        cr_assert_eq(weft_queue_qsize(q), 0);
        weft_queue_destroy(q);
    }
}

/* test_negative_timeout_raises_exception (a negative timeout never blocks,
 * and an item already there is returned) */
Test(queue, simple_negative_timeout)
{
    FOR_EACH_BACKEND(be)
    {
        weft_queue *q = make_queue(WEFT_QUEUE_FIFO, 0, be);
        weft_queue_put(q, ITEM(1), WEFT_FOREVER);
        void *v;
        cr_assert_eq(weft_queue_get(q, &v, -1), 0);
        cr_assert_eq(VAL(v), 1);
        weft_queue_destroy(q);
    }
}

/* run_threads(n, q, inputs, feed, consume): n feeders share one input list
 * (popped under a lock, as Python's list.pop is atomic), each puts the
 * sentinel (0; inputs are 1..N) when the list is empty; n consumers stop at
 * a sentinel. */
enum { CONSUME_BLOCK, CONSUME_NONBLOCK, CONSUME_TIMEOUT };

struct mt {
    weft_queue *q;
    weft_lock lock; /* guards next, results, nres */
    long next, n;
    long *results;
    long nres;
    int mode;
    _Atomic uint64_t seed;
};

static int feed(void *arg)
{
    struct mt *m = arg;
    uint64_t x = atomic_fetch_add(&m->seed, 0x9e3779b97f4a7c15ull) | 1;
    for (;;) {
        weft_lock_acquire(&m->lock, WEFT_FOREVER);
        long v = m->next <= m->n ? m->next++ : 0;
        weft_lock_release(&m->lock);
        if (weft_queue_put(m->q, ITEM(v), WEFT_FOREVER) != 0)
            return EIO;
        if (v == 0)
            return 0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (x & 1) /* rnd.random() > 0.5: sleep(rnd.random() * 1e-3) */
            cpy_sleep((double)(x % 1000) * 1e-6);
    }
}

static int consume(void *arg)
{
    struct mt *m = arg;
    for (;;) {
        void *v;
        int rc;
        do {
            rc = weft_queue_get(m->q, &v, m->mode == CONSUME_BLOCK ? WEFT_FOREVER
                                          : m->mode == CONSUME_NONBLOCK ? 0
                                                                        : 1e-5);
            if (rc == EAGAIN)
                cpy_sleep(1e-5);
        } while (rc == EAGAIN || rc == ETIMEDOUT);
        if (rc != 0)
            return rc;
        if (VAL(v) == 0)
            return 0;
        weft_lock_acquire(&m->lock, WEFT_FOREVER);
        m->results[m->nres++] = VAL(v);
        weft_lock_release(&m->lock);
    }
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static void run_threads(int n_threads, long n_inputs, int mode, bool check_order)
{
    FOR_EACH_BACKEND(be)
    {
        static struct mt m;
        m.q = make_queue(WEFT_QUEUE_FIFO, 0, be);
        weft_lock_init(&m.lock);
        m.next = 1;
        m.n = n_inputs;
        m.results = calloc((size_t)n_inputs, sizeof(long));
        m.nres = 0;
        m.mode = mode;
        atomic_store(&m.seed, 42);
        weft_thread *t[100];
        for (int i = 0; i < n_threads; i++)
            t[i] = cpy_start(feed, &m);
        for (int i = 0; i < n_threads; i++)
            t[n_threads + i] = cpy_start(consume, &m);
        for (int i = 0; i < 2 * n_threads; i++) {
            cr_assert_eq(weft_thread_join(t[i], SHORT_TIMEOUT), 0);
            cr_assert_eq(weft_thread_exit_code(t[i]), 0);
            weft_thread_destroy(t[i]);
        }
        cr_assert(weft_queue_empty(m.q));
        cr_assert_eq(weft_queue_qsize(m.q), 0);
        cr_assert_eq(m.nres, n_inputs);
        if (!check_order)
            qsort(m.results, (size_t)n_inputs, sizeof(long), cmp_long);
        for (long i = 0; i < n_inputs; i++)
            cr_assert_eq(m.results[i], i + 1);
        free(m.results);
        weft_queue_destroy(m.q);
    }
}

/* test_order: one producer, one consumer: results in input order */
Test(queue, simple_order)
{
    run_threads(1, 100, CONSUME_BLOCK, true);
}

/* test_many_threads */
Test(queue, simple_many_threads)
{
    run_threads(50, 10000, CONSUME_BLOCK, false);
}

/* test_many_threads_nonblock */
Test(queue, simple_many_threads_nonblock)
{
    run_threads(50, 10000, CONSUME_NONBLOCK, false);
}

/* test_many_threads_timeout */
Test(queue, simple_many_threads_timeout)
{
    run_threads(50, 1000, CONSUME_TIMEOUT, false);
}

/* ---- Python 3.13's Queue.shutdown (test_shutdown_*) ------------------------ */

/* test_shutdown_empty / test_shutdown_nonempty / test_shutdown_immediate */
Test(queue, shutdown)
{
    FOR_EACH_BACKEND(be)
    FOR_EACH_KIND(k)
    {
        weft_queue *q = make_queue(k, QUEUE_SIZE, be);
        weft_queue_shutdown(q, false);
        cr_assert(weft_queue_is_shutdown(q));
        cr_assert_eq(weft_queue_put(q, ITEM(1), WEFT_FOREVER), ESHUTDOWN);
        cr_assert_eq(weft_queue_get(q, NULL, WEFT_FOREVER), ESHUTDOWN);
        weft_queue_destroy(q);

        q = make_queue(k, QUEUE_SIZE, be);
        weft_queue_put(q, ITEM(1), WEFT_FOREVER);
        weft_queue_shutdown(q, false);
        cr_assert_eq(weft_queue_get(q, NULL, WEFT_FOREVER), 0, "items put before shutdown are still got");
        cr_assert_eq(weft_queue_get(q, NULL, WEFT_FOREVER), ESHUTDOWN);
        weft_queue_destroy(q);

        q = make_queue(k, QUEUE_SIZE, be);
        weft_queue_put(q, ITEM(1), WEFT_FOREVER);
        weft_queue_put(q, ITEM(2), WEFT_FOREVER);
        weft_queue_shutdown(q, true);
        cr_assert_eq(weft_queue_get(q, NULL, 0), ESHUTDOWN);
        cr_assert_eq(weft_queue_join(q, SHORT_TIMEOUT), 0, "immediate: the dropped items count as done");
        weft_queue_destroy(q);
    }
}

static int blocked_get(void *arg)
{
    return weft_queue_get(arg, NULL, WEFT_FOREVER);
}

static int blocked_put(void *arg)
{
    return weft_queue_put(arg, ITEM(9), WEFT_FOREVER);
}

/* test_shutdown_all_methods_in_many_threads (reduced: blocked getters and
 * putters wake with ShutDown = ESHUTDOWN) */
Test(queue, shutdown_wakes_blocked_threads)
{
    FOR_EACH_BACKEND(be)
    {
        weft_queue *empty = make_queue(WEFT_QUEUE_FIFO, 1, be), *full = make_queue(WEFT_QUEUE_FIFO, 1, be);
        weft_queue_put(full, ITEM(1), WEFT_FOREVER);
        weft_thread *g = cpy_start(blocked_get, empty), *p = cpy_start(blocked_put, full);
        cpy_sleep(0.1);
        weft_queue_shutdown(empty, false);
        weft_queue_shutdown(full, false);
        cr_assert_eq(weft_thread_join(g, SHORT_TIMEOUT), 0);
        cr_assert_eq(weft_thread_join(p, SHORT_TIMEOUT), 0);
        cr_assert_eq(weft_thread_exit_code(g), ESHUTDOWN);
        cr_assert_eq(weft_thread_exit_code(p), ESHUTDOWN);
        weft_thread_destroy(g);
        weft_thread_destroy(p);
        weft_queue_destroy(empty);
        weft_queue_destroy(full);
    }
}
