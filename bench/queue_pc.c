/* bench/queue_pc.c: producer/consumer throughput through a 1024-slot queue.
 * P producers and P consumers (threads = P = 1, 2, 4, 8) move size items per round; each
 * producer puts size/P items and each consumer takes size/P. An item is one
 * put + get. The consumers' checksum is compared with the producers' after
 * every round, so a queue that loses or duplicates items fails the run.
 *
 * Contenders: weft_queue (LOCKFREE backend: the ring plus futex parking),
 * weft_queue's MUTEX backend (Python's algorithm on pthreads: the baseline),
 * the raw weft_ring and Concurrency Kit's ck_ring (no blocking: a full or
 * empty ring is retried, yielding the CPU after a few failed tries so that an
 * over-subscribed machine keeps moving; ck_ring runs only with a CPU per
 * thread, see setup_ck), and GLib's GAsyncQueue (unbounded: producers never
 * wait, so it is not quite the same contest).
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"
#include "weft/queue.h"

#ifdef WB_HAVE_CK
#include <ck_ring.h>
#endif
#ifdef WB_HAVE_GLIB
#include <glib.h>
#endif

#define QUEUE_SLOTS        1024
#define SPINS_BEFORE_YIELD 64

enum kind { K_WEFT, K_WEFT_MUTEX, K_RING, K_CK, K_GLIB };

typedef struct ctx {
    enum kind kind;
    int pairs;
    long per_thread;
    weft_queue *q;
    weft_ring *ring;
#ifdef WB_HAVE_CK
    ck_ring_t ck;
    ck_ring_buffer_t *ck_buf;
#endif
#ifdef WB_HAVE_GLIB
    GAsyncQueue *aq;
#endif
    _Atomic uint64_t got_sum;
    wb_team *team;
} ctx;

static void backoff(int *tries)
{
    if (++*tries >= SPINS_BEFORE_YIELD) {
        *tries = 0;
        sched_yield();
    }
}

static void put(ctx *c, void *item)
{
    int tries = 0;
    switch (c->kind) {
    case K_WEFT:
    case K_WEFT_MUTEX:
        if (weft_queue_put(c->q, item, WEFT_FOREVER) != 0)
            abort();
        return;
    case K_RING:
        while (weft_ring_try_push(c->ring, item) != 0)
            backoff(&tries);
        return;
    case K_CK:
#ifdef WB_HAVE_CK
        while (!ck_ring_enqueue_mpmc(&c->ck, c->ck_buf, item))
            backoff(&tries);
#endif
        return;
    case K_GLIB:
#ifdef WB_HAVE_GLIB
        g_async_queue_push(c->aq, item);
#endif
        return;
    }
}

static void *get(ctx *c)
{
    void *item = NULL;
    int tries = 0;
    switch (c->kind) {
    case K_WEFT:
    case K_WEFT_MUTEX:
        if (weft_queue_get(c->q, &item, WEFT_FOREVER) != 0)
            abort();
        break;
    case K_RING:
        while (weft_ring_try_pop(c->ring, &item) != 0)
            backoff(&tries);
        break;
    case K_CK:
#ifdef WB_HAVE_CK
        while (!ck_ring_dequeue_mpmc(&c->ck, c->ck_buf, &item))
            backoff(&tries);
#endif
        break;
    case K_GLIB:
#ifdef WB_HAVE_GLIB
        item = g_async_queue_pop(c->aq);
#endif
        break;
    }
    return item;
}

static void body(void *arg, int index)
{
    ctx *c = arg;
    if (index < c->pairs) {
        for (long i = 1; i <= c->per_thread; i++)
            put(c, (void *)(uintptr_t)i);
    } else {
        uint64_t sum = 0;
        for (long i = 0; i < c->per_thread; i++)
            sum += (uintptr_t)get(c);
        atomic_fetch_add_explicit(&c->got_sum, sum, memory_order_relaxed);
    }
}

static void *setup(const wb_params *p, enum kind kind, const char **why)
{
    ctx *c = calloc(1, sizeof(*c));
    c->kind = kind;
    c->pairs = p->threads;
    c->per_thread = p->size / p->threads;
    int rc = 0;
    if (kind == K_WEFT || kind == K_WEFT_MUTEX) {
        weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
        o.maxsize = QUEUE_SLOTS;
        o.backend = kind == K_WEFT ? WEFT_QUEUE_LOCKFREE : WEFT_QUEUE_MUTEX;
        rc = weft_queue_create(&c->q, &o);
    } else if (kind == K_RING) {
        rc = weft_ring_create(&c->ring, QUEUE_SLOTS);
    } else if (kind == K_CK) {
#ifdef WB_HAVE_CK
        c->ck_buf = calloc(QUEUE_SLOTS, sizeof(ck_ring_buffer_t));
        rc = c->ck_buf == NULL;
        if (rc == 0)
            ck_ring_init(&c->ck, QUEUE_SLOTS);
#endif
    } else {
#ifdef WB_HAVE_GLIB
        c->aq = g_async_queue_new();
#endif
    }
    if (rc != 0 || wb_team_create(&c->team, 2 * p->threads, body, c) != 0) {
        *why = "cannot create the queue or the threads";
        return NULL;
    }
    return c;
}

static uint64_t run(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    atomic_store_explicit(&c->got_sum, 0, memory_order_relaxed);
    wb_team_run(c->team);
    uint64_t n = (uint64_t)c->per_thread;
    uint64_t want = (uint64_t)c->pairs * (n * (n + 1) / 2);
    uint64_t got = atomic_load_explicit(&c->got_sum, memory_order_relaxed);
    if (got != want) {
        fprintf(stderr, "queue_pc: checksum %llu, expected %llu\n", (unsigned long long)got,
                (unsigned long long)want);
        abort();
    }
    return n * (uint64_t)c->pairs;
}

static void teardown(void *arg)
{
    ctx *c = arg;
    wb_team_destroy(c->team);
    if (c->q != NULL)
        weft_queue_destroy(c->q);
    if (c->ring != NULL)
        weft_ring_destroy(c->ring);
#ifdef WB_HAVE_CK
    free(c->ck_buf);
#endif
#ifdef WB_HAVE_GLIB
    if (c->aq != NULL)
        g_async_queue_unref(c->aq);
#endif
    free(c);
}

static void *setup_weft(const wb_params *p, const char **why)
{
    return setup(p, K_WEFT, why);
}

static void *setup_weft_mutex(const wb_params *p, const char **why)
{
    return setup(p, K_WEFT_MUTEX, why);
}

static void *setup_ring(const wb_params *p, const char **why)
{
    return setup(p, K_RING, why);
}

#ifdef WB_HAVE_CK
static void *setup_ck(const wb_params *p, const char **why)
{
    /* ck_ring's multi-producer enqueue publishes in ticket order: a producer
     * spins (without yielding) until every earlier producer has published, so
     * one preempted producer stalls the others for whole time slices. With
     * more threads than CPUs a round takes minutes: not a contest. */
    if (2 * p->threads > sysconf(_SC_NPROCESSORS_ONLN)) {
        *why = "ck_ring spins on preempted producers: needs a CPU per thread";
        return NULL;
    }
    return setup(p, K_CK, why);
}
#endif

#ifdef WB_HAVE_GLIB
static void *setup_glib(const wb_params *p, const char **why)
{
    return setup(p, K_GLIB, why);
}
#endif

static const wb_case queue_pc = {
    .name = "queue_pc",
    .what = "P producers and P consumers (threads = P) pass items through one 1024-slot queue.",
    .item = "item",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .max_threads = 8, /* 8 pairs: 16 threads */
    .size = 200000,
    .smoke_size = 2000,
};

static const wb_impl impls[] = {
    {"weft", setup_weft, run, teardown},
    {"weft_mutex", setup_weft_mutex, run, teardown},
    {"weft_ring_spin", setup_ring, run, teardown},
#ifdef WB_HAVE_CK
    {"ck_ring_spin", setup_ck, run, teardown},
#endif
#ifdef WB_HAVE_GLIB
    {"glib_asyncqueue", setup_glib, run, teardown},
#endif
};

WB_REGISTER(queue_pc, impls)
