/* tests/queue/test_queue.c: weft_queue on both backends (every test body runs
 * once as suite queue_lockfree and once as queue_mutex), including the
 * producer/consumer examples of Python's queue documentation. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "weft/queue.h"

#define ITEM(i) ((void *)(uintptr_t)(i))
#define NUM(p) ((uintptr_t)(p))

/* Defines one body run on both backends. */
#define BOTH(name)                                                                                 \
    static void name##_body(weft_queue_backend backend);                                           \
    Test(queue_lockfree, name) { name##_body(WEFT_QUEUE_LOCKFREE); }                               \
    Test(queue_mutex, name) { name##_body(WEFT_QUEUE_MUTEX); }                                     \
    static void name##_body(weft_queue_backend backend)

static weft_queue *make(weft_queue_backend backend, weft_queue_kind kind, size_t maxsize)
{
    weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
    o.backend = backend;
    o.kind = kind;
    o.maxsize = maxsize;
    weft_queue *q = NULL;
    cr_assert_eq(weft_queue_create(&q, &o), 0);
    cr_assert_not_null(q);
    return q;
}

static int cmp_num(const void *a, const void *b)
{
    return NUM(a) < NUM(b) ? -1 : NUM(a) > NUM(b);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    cr_assert_eq(pthread_create(t, NULL, fn, arg), 0);
}

/* ---- create / destroy ------------------------------------------------------- */

BOTH(create_rejects_bad_options)
{
    weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
    o.backend = backend;
    weft_queue *q = NULL;
    cr_expect_eq(weft_queue_create(NULL, &o), EINVAL);
    o.kind = WEFT_QUEUE_PRIORITY;
    cr_expect_eq(weft_queue_create(&q, &o), EINVAL, "PRIORITY without cmp");
    o.kind = (weft_queue_kind)42;
    cr_expect_eq(weft_queue_create(&q, &o), EINVAL, "unknown kind");
    o.kind = WEFT_QUEUE_FIFO;
    o.backend = (weft_queue_backend)42;
    cr_expect_eq(weft_queue_create(&q, &o), EINVAL, "unknown backend");
    cr_expect_null(q, "nothing created on failure");
    weft_queue_destroy(NULL);
}

Test(queue_lockfree, create_rejects_huge_ring)
{
    weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
    o.maxsize = ((size_t)1 << 31) + 1;
    weft_queue *q = NULL;
    cr_expect_eq(weft_queue_create(&q, &o), EINVAL);
    cr_expect_null(q);
}

Test(queue_lockfree, null_options_make_an_unbounded_fifo)
{
    weft_queue *q = NULL;
    cr_assert_eq(weft_queue_create(&q, NULL), 0);
    for (uintptr_t i = 0; i < 5000; i++)
        cr_assert_eq(weft_queue_put(q, ITEM(i), 0), 0);
    cr_expect_not(weft_queue_full(q));
    cr_expect_eq(weft_queue_qsize(q), 5000);
    for (uintptr_t i = 0; i < 5000; i++) {
        void *v;
        cr_assert_eq(weft_queue_get(q, &v, 0), 0);
        cr_assert_eq(v, ITEM(i));
    }
    cr_expect(weft_queue_empty(q));
    weft_queue_destroy(q);
}

BOTH(nan_timeouts_are_einval)
{
    weft_queue *q = make(backend, WEFT_QUEUE_FIFO, 2);
    void *v = ITEM(5);
    cr_expect_eq(weft_queue_put(q, ITEM(1), NAN), EINVAL);
    cr_expect_eq(weft_queue_qsize(q), 0, "nothing put");
    cr_assert_eq(weft_queue_put(q, ITEM(1), 0), 0);
    cr_expect_eq(weft_queue_get(q, &v, NAN), EINVAL);
    cr_expect_eq(v, ITEM(5));
    cr_expect_eq(weft_queue_qsize(q), 1, "nothing taken");
    cr_expect_eq(weft_queue_join(q, NAN), EINVAL);
    cr_expect_eq(weft_queue_put(NULL, ITEM(1), 0), EINVAL);
    cr_expect_eq(weft_queue_get(NULL, &v, 0), EINVAL);
    cr_expect_eq(weft_queue_task_done(NULL), EINVAL);
    cr_expect_eq(weft_queue_join(NULL, 0), EINVAL);
    weft_queue_destroy(q);
}

/* ---- FIFO ----------------------------------------------------------------- */

static void bounded_fifo(weft_queue_backend backend, size_t maxsize)
{
    weft_queue *q = make(backend, WEFT_QUEUE_FIFO, maxsize);
    for (int round = 0; round < 3; round++) {
        cr_expect(weft_queue_empty(q));
        cr_expect_not(weft_queue_full(q));
        for (uintptr_t i = 0; i < maxsize; i++)
            cr_assert_eq(weft_queue_put(q, ITEM(i), 0), 0, "maxsize %zu item %zu", maxsize, (size_t)i);
        cr_expect(weft_queue_full(q));
        cr_expect_eq(weft_queue_qsize(q), maxsize);
        cr_expect_eq(weft_queue_put(q, ITEM(99), 0), EAGAIN, "full at exactly maxsize");
        cr_expect_eq(weft_queue_put(q, ITEM(99), -1.0), EAGAIN, "a negative timeout never blocks");
        for (uintptr_t i = 0; i < maxsize; i++) {
            void *v;
            cr_assert_eq(weft_queue_get(q, &v, 0), 0);
            cr_assert_eq(v, ITEM(i), "FIFO order");
        }
        void *v = ITEM(7);
        cr_expect_eq(weft_queue_get(q, &v, 0), EAGAIN);
        cr_expect_eq(weft_queue_get(q, &v, -3.0), EAGAIN);
        cr_expect_eq(v, ITEM(7), "a failed get leaves *item alone");
    }
    weft_queue_destroy(q);
}

BOTH(bounded_fifo_holds_exactly_maxsize)
{
    bounded_fifo(backend, 1);
    bounded_fifo(backend, 3);
    bounded_fifo(backend, 5);
    bounded_fifo(backend, 8);
    bounded_fifo(backend, 1000);
}

BOTH(unbounded_fifo_order)
{
    weft_queue *q = make(backend, WEFT_QUEUE_FIFO, 0);
    for (uintptr_t i = 0; i < 100; i++)
        cr_assert_eq(weft_queue_put(q, ITEM(i), 0), 0);
    cr_expect_not(weft_queue_full(q), "an unbounded queue is never full");
    for (uintptr_t i = 0; i < 100; i++) {
        void *v;
        cr_assert_eq(weft_queue_get(q, &v, 0), 0);
        cr_assert_eq(v, ITEM(i));
    }
    weft_queue_destroy(q);
}

BOTH(null_items_and_null_out_parameter)
{
    static const size_t sizes[] = {0, 4};
    for (int k = 0; k < 2; k++) {
        weft_queue *q = make(backend, WEFT_QUEUE_FIFO, sizes[k]);
        cr_assert_eq(weft_queue_put(q, NULL, 0), 0);
        cr_assert_eq(weft_queue_put(q, ITEM(3), 0), 0);
        void *v = ITEM(1);
        cr_expect_eq(weft_queue_get(q, &v, 0), 0);
        cr_expect_null(v);
        cr_expect_eq(weft_queue_get(q, NULL, 0), 0, "the item is discarded");
        cr_expect(weft_queue_empty(q));
        weft_queue_destroy(q);
    }
}

/* ---- LIFO / PRIORITY --------------------------------------------------------- */

BOTH(lifo_order_and_bound)
{
    weft_queue *q = make(backend, WEFT_QUEUE_LIFO, 4);
    for (uintptr_t i = 1; i <= 4; i++)
        cr_assert_eq(weft_queue_put(q, ITEM(i), 0), 0);
    cr_expect(weft_queue_full(q));
    cr_expect_eq(weft_queue_put(q, ITEM(5), 0), EAGAIN);
    for (uintptr_t i = 4; i >= 1; i--) {
        void *v;
        cr_assert_eq(weft_queue_get(q, &v, 0), 0);
        cr_assert_eq(v, ITEM(i), "LIFO order");
    }
    cr_expect_eq(weft_queue_get(q, NULL, 0), EAGAIN);
    weft_queue_destroy(q);
}

BOTH(priority_smallest_first)
{
    weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
    o.backend = backend;
    o.kind = WEFT_QUEUE_PRIORITY;
    o.cmp = cmp_num;
    weft_queue *q;
    cr_assert_eq(weft_queue_create(&q, &o), 0);
    unsigned seed = 12345;
    size_t n = 500;
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(weft_queue_put(q, ITEM(1 + rand_r(&seed) % 100), 0), 0);
    cr_expect_eq(weft_queue_qsize(q), n);
    uintptr_t last = 0;
    for (size_t i = 0; i < n; i++) {
        void *v;
        cr_assert_eq(weft_queue_get(q, &v, 0), 0);
        cr_assert_geq(NUM(v), last, "priority order");
        last = NUM(v);
    }
    cr_expect_eq(weft_queue_get(q, NULL, 0), EAGAIN);
    weft_queue_destroy(q);
}

BOTH(priority_bounded)
{
    weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
    o.backend = backend;
    o.kind = WEFT_QUEUE_PRIORITY;
    o.cmp = cmp_num;
    o.maxsize = 3;
    weft_queue *q;
    cr_assert_eq(weft_queue_create(&q, &o), 0);
    cr_assert_eq(weft_queue_put(q, ITEM(30), 0), 0);
    cr_assert_eq(weft_queue_put(q, ITEM(10), 0), 0);
    cr_assert_eq(weft_queue_put(q, ITEM(20), 0), 0);
    cr_expect_eq(weft_queue_put(q, ITEM(5), 0), EAGAIN);
    void *v;
    cr_assert_eq(weft_queue_get(q, &v, 0), 0);
    cr_expect_eq(v, ITEM(10));
    cr_assert_eq(weft_queue_put(q, ITEM(5), 0), 0);
    cr_assert_eq(weft_queue_get(q, &v, 0), 0);
    cr_expect_eq(v, ITEM(5));
    weft_queue_destroy(q);
}

/* ---- timeouts ---------------------------------------------------------------- */

BOTH(timeouts_expire_within_generous_bounds)
{
    weft_queue *q = make(backend, WEFT_QUEUE_FIFO, 1);
    double t0 = now_s();
    cr_expect_eq(weft_queue_get(q, NULL, 0.1), ETIMEDOUT);
    double dt = now_s() - t0;
    cr_expect(dt >= 0.1 && dt < 2.0, "get waited %f s", dt);
    cr_assert_eq(weft_queue_put(q, ITEM(1), 0), 0);
    t0 = now_s();
    cr_expect_eq(weft_queue_put(q, ITEM(2), 0.1), ETIMEDOUT);
    dt = now_s() - t0;
    cr_expect(dt >= 0.1 && dt < 2.0, "put waited %f s", dt);
    cr_expect_eq(weft_queue_qsize(q), 1);
    weft_queue_destroy(q);
}

/* ---- tasks ------------------------------------------------------------------ */

BOTH(task_done_counts_and_rejects_extra_calls)
{
    weft_queue *q = make(backend, WEFT_QUEUE_FIFO, 4);
    cr_expect_eq(weft_queue_task_done(q), EINVAL, "nothing was put");
    cr_expect_eq(weft_queue_join(q, 0), 0, "no unfinished task");
    cr_assert_eq(weft_queue_put(q, ITEM(1), 0), 0);
    cr_assert_eq(weft_queue_put(q, ITEM(2), 0), 0);
    cr_expect_eq(weft_queue_join(q, 0), ETIMEDOUT);
    double t0 = now_s();
    cr_expect_eq(weft_queue_join(q, 0.1), ETIMEDOUT);
    cr_expect(now_s() - t0 >= 0.1);
    cr_assert_eq(weft_queue_get(q, NULL, 0), 0);
    cr_expect_eq(weft_queue_task_done(q), 0);
    cr_expect_eq(weft_queue_join(q, 0), ETIMEDOUT, "one task left");
    cr_expect_eq(weft_queue_task_done(q), 0, "task_done may precede the get, as in Python");
    cr_expect_eq(weft_queue_task_done(q), EINVAL, "called more times than items were put");
    cr_expect_eq(weft_queue_join(q, 0), 0);
    cr_expect_eq(weft_queue_join(q, WEFT_FOREVER), 0);
    weft_queue_destroy(q);
}

/* ---- Python's tutorial: worker threads, task_done, join ---------------------- */

struct worker_ctx {
    weft_queue *q;
    _Atomic uint64_t sum;
    _Atomic int handled;
    _Atomic int errors;
    int exit_code; /* what ended the worker: 0 sentinel, else the get error */
};

/* "while True: item = q.get(); do_work(item); q.task_done()", ended by a NULL
 * sentinel or by shutdown. */
static void *worker(void *arg)
{
    struct worker_ctx *c = arg;
    for (;;) {
        void *item;
        int rc = weft_queue_get(c->q, &item, WEFT_FOREVER);
        if (rc != 0)
            return (void *)(intptr_t)rc;
        if (item == NULL) {
            if (weft_queue_task_done(c->q) != 0)
                atomic_fetch_add(&c->errors, 1);
            return NULL;
        }
        atomic_fetch_add(&c->sum, NUM(item));
        atomic_fetch_add(&c->handled, 1);
        if (weft_queue_task_done(c->q) != 0)
            atomic_fetch_add(&c->errors, 1);
    }
}

BOTH(tutorial_sentinel_ends_consumers)
{
    enum { WORKERS = 3, ITEMS = 300 };
    struct worker_ctx c = {.q = make(backend, WEFT_QUEUE_FIFO, 0)};
    pthread_t t[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        start(&t[i], worker, &c);
    for (uintptr_t i = 1; i <= ITEMS; i++)
        cr_assert_eq(weft_queue_put(c.q, ITEM(i), WEFT_FOREVER), 0);
    cr_expect_eq(weft_queue_join(c.q, 60), 0, "every task done");
    cr_expect_eq(atomic_load(&c.handled), ITEMS);
    for (int i = 0; i < WORKERS; i++)
        cr_assert_eq(weft_queue_put(c.q, NULL, WEFT_FOREVER), 0);
    for (int i = 0; i < WORKERS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        cr_expect_null(ret, "ended by the sentinel");
    }
    cr_expect_eq(atomic_load(&c.sum), (uint64_t)ITEMS * (ITEMS + 1) / 2);
    cr_expect_eq(atomic_load(&c.errors), 0);
    cr_expect_eq(weft_queue_join(c.q, 0), 0);
    weft_queue_destroy(c.q);
}

BOTH(tutorial_join_then_shutdown_ends_workers)
{
    enum { WORKERS = 2, ITEMS = 200 };
    struct worker_ctx c = {.q = make(backend, WEFT_QUEUE_FIFO, 8)};
    pthread_t t[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        start(&t[i], worker, &c);
    for (uintptr_t i = 1; i <= ITEMS; i++)
        cr_assert_eq(weft_queue_put(c.q, ITEM(i), WEFT_FOREVER), 0);
    cr_expect_eq(weft_queue_join(c.q, 60), 0);
    weft_queue_shutdown(c.q, false);
    for (int i = 0; i < WORKERS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        cr_expect_eq((intptr_t)ret, ESHUTDOWN, "workers end with ESHUTDOWN");
    }
    cr_expect_eq(atomic_load(&c.handled), ITEMS);
    cr_expect_eq(atomic_load(&c.sum), (uint64_t)ITEMS * (ITEMS + 1) / 2);
    weft_queue_destroy(c.q);
}

/* maxsize=5: producers block while the queue is full; consumers see at most 5. */
struct bounded_ctx {
    weft_queue *q;
    int id;
    _Atomic int *over;
    _Atomic int *received; /* per item */
};

enum { BP_PRODUCERS = 3, BP_ITEMS = 400 };

static void *bp_producer(void *arg)
{
    struct bounded_ctx *c = arg;
    for (uintptr_t i = 0; i < BP_ITEMS; i++)
        if (weft_queue_put(c->q, ITEM((uintptr_t)c->id * BP_ITEMS + i + 1), WEFT_FOREVER) != 0)
            atomic_fetch_add(c->over, 1);
    return NULL;
}

static void *bp_consumer(void *arg)
{
    struct bounded_ctx *c = arg;
    for (;;) {
        void *v;
        if (weft_queue_qsize(c->q) > 5)
            atomic_fetch_add(c->over, 1);
        if (weft_queue_get(c->q, &v, WEFT_FOREVER) != 0)
            return NULL;
        if (v == NULL)
            return NULL;
        atomic_fetch_add(&c->received[NUM(v) - 1], 1);
        if (NUM(v) % 7 == 0)
            sched_yield();
    }
}

BOTH(tutorial_maxsize_five_blocks_producers)
{
    weft_queue *q = make(backend, WEFT_QUEUE_FIFO, 5);
    _Atomic int over = 0;
    _Atomic int *received = calloc(BP_PRODUCERS * BP_ITEMS, sizeof(*received));
    cr_assert_not_null(received);
    struct bounded_ctx pc[BP_PRODUCERS], cc[2];
    pthread_t pt[BP_PRODUCERS], ct[2];
    for (int i = 0; i < 2; i++) {
        cc[i] = (struct bounded_ctx){.q = q, .id = i, .over = &over, .received = received};
        start(&ct[i], bp_consumer, &cc[i]);
    }
    for (int i = 0; i < BP_PRODUCERS; i++) {
        pc[i] = (struct bounded_ctx){.q = q, .id = i, .over = &over, .received = received};
        start(&pt[i], bp_producer, &pc[i]);
    }
    for (int i = 0; i < BP_PRODUCERS; i++)
        pthread_join(pt[i], NULL);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(weft_queue_put(q, NULL, WEFT_FOREVER), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(ct[i], NULL);
    cr_expect_eq(atomic_load(&over), 0, "never above maxsize, no failed put");
    for (int k = 0; k < BP_PRODUCERS * BP_ITEMS; k++)
        cr_assert_eq(atomic_load(&received[k]), 1, "item %d received %d times", k + 1,
                     atomic_load(&received[k]));
    free(received);
    weft_queue_destroy(q);
}

/* A blocked putter is released by a get, a blocked getter by a put. */
struct one_ctx {
    weft_queue *q;
    void *item;
    int rc;
};

static void *blocked_put(void *arg)
{
    struct one_ctx *c = arg;
    c->rc = weft_queue_put(c->q, c->item, WEFT_FOREVER);
    return NULL;
}

static void *blocked_get(void *arg)
{
    struct one_ctx *c = arg;
    c->rc = weft_queue_get(c->q, &c->item, WEFT_FOREVER);
    return NULL;
}

BOTH(blocked_put_and_get_are_released)
{
    weft_queue *q = make(backend, WEFT_QUEUE_FIFO, 1);
    cr_assert_eq(weft_queue_put(q, ITEM(1), 0), 0);
    struct one_ctx p = {.q = q, .item = ITEM(2), .rc = -1};
    pthread_t t;
    start(&t, blocked_put, &p);
    usleep(20000);
    void *v;
    cr_assert_eq(weft_queue_get(q, &v, 10), 0);
    cr_expect_eq(v, ITEM(1));
    pthread_join(t, NULL);
    cr_expect_eq(p.rc, 0);
    cr_assert_eq(weft_queue_get(q, &v, 10), 0);
    cr_expect_eq(v, ITEM(2));

    struct one_ctx g = {.q = q, .item = NULL, .rc = -1};
    start(&t, blocked_get, &g);
    usleep(20000);
    cr_assert_eq(weft_queue_put(q, ITEM(3), 10), 0);
    pthread_join(t, NULL);
    cr_expect_eq(g.rc, 0);
    cr_expect_eq(g.item, ITEM(3));
    weft_queue_destroy(q);
}

/* ---- shutdown ---------------------------------------------------------------- */

static _Atomic int dropped;
static void count_drop(void *item)
{
    (void)item;
    atomic_fetch_add(&dropped, 1);
}

static weft_queue *make_dropping(weft_queue_backend backend, weft_queue_kind kind, size_t maxsize)
{
    weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
    o.backend = backend;
    o.kind = kind;
    o.maxsize = maxsize;
    o.cmp = cmp_num;
    o.drop = count_drop;
    weft_queue *q;
    cr_assert_eq(weft_queue_create(&q, &o), 0);
    return q;
}

static const weft_queue_kind kinds[] = {WEFT_QUEUE_FIFO, WEFT_QUEUE_LIFO, WEFT_QUEUE_PRIORITY};
static const size_t maxsizes[] = {0, 3};

BOTH(shutdown_drains_then_eshutdown)
{
    for (int k = 0; k < 3; k++) {
        for (int m = 0; m < 2; m++) {
            atomic_store(&dropped, 0);
            weft_queue *q = make_dropping(backend, kinds[k], maxsizes[m]);
            cr_assert_eq(weft_queue_put(q, ITEM(1), 0), 0);
            cr_assert_eq(weft_queue_put(q, ITEM(2), 0), 0);
            cr_expect_not(weft_queue_is_shutdown(q));
            weft_queue_shutdown(q, false);
            cr_expect(weft_queue_is_shutdown(q));
            cr_expect_eq(weft_queue_put(q, ITEM(3), 0), ESHUTDOWN);
            cr_expect_eq(weft_queue_put(q, ITEM(3), WEFT_FOREVER), ESHUTDOWN);
            cr_expect_eq(weft_queue_qsize(q), 2, "remaining items stay");
            cr_expect_eq(weft_queue_get(q, NULL, 0), 0);
            cr_expect_eq(weft_queue_get(q, NULL, WEFT_FOREVER), 0);
            cr_expect_eq(weft_queue_get(q, NULL, 0), ESHUTDOWN, "drained: ESHUTDOWN, not EAGAIN");
            cr_expect_eq(weft_queue_get(q, NULL, WEFT_FOREVER), ESHUTDOWN);
            weft_queue_shutdown(q, false);
            cr_expect_eq(weft_queue_join(q, 0), ETIMEDOUT, "taken items still need task_done");
            cr_expect_eq(weft_queue_task_done(q), 0);
            cr_expect_eq(weft_queue_task_done(q), 0);
            cr_expect_eq(weft_queue_join(q, 0), 0);
            cr_expect_eq(atomic_load(&dropped), 0, "nothing dropped");
            weft_queue_destroy(q);
        }
    }
}

BOTH(shutdown_immediate_drops_items_and_adjusts_tasks)
{
    for (int k = 0; k < 3; k++) {
        for (int m = 0; m < 2; m++) {
            atomic_store(&dropped, 0);
            weft_queue *q = make_dropping(backend, kinds[k], maxsizes[m]);
            for (uintptr_t i = 1; i <= 3; i++)
                cr_assert_eq(weft_queue_put(q, ITEM(i), 0), 0);
            cr_assert_eq(weft_queue_get(q, NULL, 0), 0, "one taken, its task unfinished");
            weft_queue_shutdown(q, true);
            cr_expect_eq(atomic_load(&dropped), 2);
            cr_expect_eq(weft_queue_qsize(q), 0);
            cr_expect(weft_queue_empty(q));
            cr_expect_eq(weft_queue_get(q, NULL, 0), ESHUTDOWN);
            cr_expect_eq(weft_queue_get(q, NULL, 1), ESHUTDOWN);
            cr_expect_eq(weft_queue_put(q, ITEM(9), 0), ESHUTDOWN);
            cr_expect_eq(weft_queue_join(q, 0), ETIMEDOUT, "the taken item is still unfinished");
            cr_expect_eq(weft_queue_task_done(q), 0);
            cr_expect_eq(weft_queue_join(q, 0), 0);
            cr_expect_eq(weft_queue_task_done(q), EINVAL);
            weft_queue_destroy(q);
            cr_expect_eq(atomic_load(&dropped), 2, "destroy found nothing left");
        }
    }
}

/* Python: a dropped item only counts as done while unfinished tasks remain. */
BOTH(shutdown_immediate_never_makes_tasks_negative)
{
    weft_queue *q = make(backend, WEFT_QUEUE_FIFO, 4);
    cr_assert_eq(weft_queue_put(q, ITEM(1), 0), 0);
    cr_assert_eq(weft_queue_put(q, ITEM(2), 0), 0);
    cr_assert_eq(weft_queue_task_done(q), 0);
    cr_assert_eq(weft_queue_task_done(q), 0);
    weft_queue_shutdown(q, true);
    cr_expect_eq(weft_queue_join(q, 0), 0);
    cr_expect_eq(weft_queue_task_done(q), EINVAL);
    weft_queue_destroy(q);
}

struct shut_ctx {
    weft_queue *q;
    int rc;
};

static void *shut_getter(void *arg)
{
    struct shut_ctx *c = arg;
    c->rc = weft_queue_get(c->q, NULL, WEFT_FOREVER);
    return NULL;
}

static void *shut_putter(void *arg)
{
    struct shut_ctx *c = arg;
    c->rc = weft_queue_put(c->q, ITEM(42), WEFT_FOREVER);
    return NULL;
}

static void *shut_joiner(void *arg)
{
    struct shut_ctx *c = arg;
    c->rc = weft_queue_join(c->q, WEFT_FOREVER);
    return NULL;
}

/* Whether or not the threads have gone to sleep by the time shutdown runs,
 * the outcome is the same: the test does not depend on scheduling. */
static void shutdown_wakes(weft_queue_backend backend, weft_queue_kind kind, bool immediate)
{
    weft_queue *empty = make_dropping(backend, kind, 2);
    weft_queue *full = make_dropping(backend, kind, 2);
    cr_assert_eq(weft_queue_put(full, ITEM(1), 0), 0);
    cr_assert_eq(weft_queue_put(full, ITEM(2), 0), 0);
    struct shut_ctx g[2] = {{empty, -1}, {empty, -1}}, p[2] = {{full, -1}, {full, -1}};
    struct shut_ctx j = {full, -1};
    pthread_t tg[2], tp[2], tj;
    for (int i = 0; i < 2; i++) {
        start(&tg[i], shut_getter, &g[i]);
        start(&tp[i], shut_putter, &p[i]);
    }
    start(&tj, shut_joiner, &j);
    usleep(20000);
    weft_queue_shutdown(empty, immediate);
    weft_queue_shutdown(full, immediate);
    for (int i = 0; i < 2; i++) {
        pthread_join(tg[i], NULL);
        pthread_join(tp[i], NULL);
        cr_expect_eq(g[i].rc, ESHUTDOWN, "blocked getter");
        cr_expect_eq(p[i].rc, ESHUTDOWN, "blocked putter");
    }
    if (immediate) {
        pthread_join(tj, NULL);
        cr_expect_eq(j.rc, 0, "immediate shutdown releases join");
    } else {
        cr_expect_eq(weft_queue_qsize(full), 2);
        cr_assert_eq(weft_queue_get(full, NULL, 0), 0);
        cr_assert_eq(weft_queue_get(full, NULL, 0), 0);
        cr_assert_eq(weft_queue_task_done(full), 0);
        cr_assert_eq(weft_queue_task_done(full), 0);
        pthread_join(tj, NULL);
        cr_expect_eq(j.rc, 0);
    }
    weft_queue_destroy(empty);
    weft_queue_destroy(full);
}

BOTH(shutdown_wakes_blocked_threads)
{
    for (int k = 0; k < 3; k++) {
        shutdown_wakes(backend, kinds[k], false);
        shutdown_wakes(backend, kinds[k], true);
    }
}

BOTH(destroy_drops_remaining_items)
{
    for (int k = 0; k < 3; k++) {
        for (int m = 0; m < 2; m++) {
            atomic_store(&dropped, 0);
            weft_queue *q = make_dropping(backend, kinds[k], maxsizes[m]);
            for (uintptr_t i = 1; i <= 3; i++)
                cr_assert_eq(weft_queue_put(q, ITEM(i), 0), 0);
            cr_assert_eq(weft_queue_get(q, NULL, 0), 0);
            weft_queue_destroy(q);
            cr_expect_eq(atomic_load(&dropped), 2);
        }
    }
}

BOTH(sizes_for_every_kind)
{
    for (int k = 0; k < 3; k++) {
        weft_queue *q = make_dropping(backend, kinds[k], 2);
        cr_expect(weft_queue_empty(q));
        cr_expect_eq(weft_queue_qsize(q), 0);
        cr_assert_eq(weft_queue_put(q, ITEM(5), 0), 0);
        cr_expect_not(weft_queue_empty(q));
        cr_expect_not(weft_queue_full(q));
        cr_expect_eq(weft_queue_qsize(q), 1);
        cr_assert_eq(weft_queue_put(q, ITEM(6), 0), 0);
        cr_expect(weft_queue_full(q));
        cr_expect_eq(weft_queue_put(q, ITEM(7), 0), EAGAIN);
        weft_queue_destroy(q);
    }
}

/* ---- Queue.unfinished_tasks (issue 11), translated from CPython's
 * Lib/test/test_queue.py; each on every kind (FIFO, LIFO, PRIORITY, bounded
 * ring) and both backends. */

static weft_queue *make_kind(weft_queue_backend backend, int k)
{
    weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
    o.backend = backend;
    o.kind = k == 1 ? WEFT_QUEUE_LIFO : k == 2 ? WEFT_QUEUE_PRIORITY : WEFT_QUEUE_FIFO;
    o.cmp = k == 2 ? cmp_num : NULL;
    o.maxsize = k == 3 ? 8 : 0;
    weft_queue *q = NULL;
    cr_assert_eq(weft_queue_create(&q, &o), 0);
    return q;
}

/* test_queue.py BaseQueueTestMixin.test_queue_task_done and
 * queue_join_test: unfinished_tasks counts puts not yet marked done; a
 * task_done with none left is ValueError (EINVAL) and changes nothing. */
BOTH(unfinished_tasks_counts_puts_minus_task_done)
{
    for (int k = 0; k < 4; k++) {
        weft_queue *q = make_kind(backend, k);
        cr_expect_eq(weft_queue_unfinished_tasks(q), 0);
        cr_expect_eq(weft_queue_task_done(q), EINVAL);
        cr_expect_eq(weft_queue_unfinished_tasks(q), 0);
        for (uintptr_t i = 1; i <= 5; i++)
            cr_assert_eq(weft_queue_put(q, ITEM(i), 0), 0);
        cr_expect_eq(weft_queue_unfinished_tasks(q), 5);
        void *v;
        for (int i = 0; i < 5; i++)
            cr_assert_eq(weft_queue_get(q, &v, 0), 0);
        cr_expect_eq(weft_queue_unfinished_tasks(q), 5, "get does not finish a task");
        for (int i = 0; i < 5; i++)
            cr_assert_eq(weft_queue_task_done(q), 0);
        cr_expect_eq(weft_queue_unfinished_tasks(q), 0);
        cr_expect_eq(weft_queue_task_done(q), EINVAL);
        cr_expect_eq(weft_queue_join(q, 0), 0);
        weft_queue_destroy(q);
    }
}

/* test_queue.py BaseQueueTestMixin.test_shutdown_immediate_put_join and
 * test_shutdown_put_join (_shutdown_put_join): after shutdown(immediate)
 * the discarded items count as done (unfinished_tasks 0); after a plain
 * shutdown they stay unfinished until task_done. */
BOTH(unfinished_tasks_after_shutdown)
{
    for (int immediate = 0; immediate < 2; immediate++) {
        for (int k = 0; k < 4; k++) {
            weft_queue *q = make_kind(backend, k);
            cr_assert_eq(weft_queue_put(q, ITEM(1), 0), 0);
            cr_assert_eq(weft_queue_put(q, ITEM(2), 0), 0);
            cr_expect_eq(weft_queue_unfinished_tasks(q), 2);
            weft_queue_shutdown(q, immediate);
            cr_expect_eq(weft_queue_put(q, ITEM(3), 0), ESHUTDOWN);
            if (immediate) {
                cr_expect_eq(weft_queue_unfinished_tasks(q), 0);
                cr_expect_eq(weft_queue_join(q, 0), 0);
            } else {
                cr_expect_eq(weft_queue_unfinished_tasks(q), 2);
                void *v;
                cr_expect_eq(weft_queue_get(q, &v, 0), 0);
                cr_expect_eq(weft_queue_task_done(q), 0);
                cr_expect_eq(weft_queue_unfinished_tasks(q), 1);
                cr_expect_eq(weft_queue_join(q, 0), ETIMEDOUT);
                cr_expect_eq(weft_queue_get(q, &v, 0), 0);
                cr_expect_eq(weft_queue_task_done(q), 0);
                cr_expect_eq(weft_queue_unfinished_tasks(q), 0);
            }
            weft_queue_destroy(q);
        }
    }
}
