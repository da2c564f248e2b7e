/* tests/stress/queue/stress_queue.c: standalone stress of weft_queue and
 * weft_ring (no Criterion, so it runs under ThreadSanitizer).
 *
 * usage: stress_queue threads seconds [--yield] [--seed N] [--capacity N]...
 *
 * seconds is the soak duration, split over the configurations (meson runs
 * 1 s; run hours by hand); --seed fixes every worker's random choices (by
 * default from the clock; printed first, so a failing run can be replayed).
 *
 * Queue phase: for every configuration (capacities 2, 8, 1024 and unbounded
 * by default, or those given with --capacity; both backends; FIFO, plus LIFO
 * and PRIORITY at capacity 8), P producers put numbered items and C consumers
 * get them, both with random timeouts (0, short, forever), and consumers
 * call task_done. Half way through, the main thread shuts the queue down
 * (immediate or not, alternately). Checked: every item whose put returned 0
 * is received or dropped exactly once and no other item appears; FIFO
 * queues deliver each producer's items to each consumer in order; a zero
 * timeout fails only with EAGAIN and a positive one only with ETIMEDOUT;
 * afterwards join(0) returns 0 (every task done or dropped).
 * Ring phase: pushers and poppers on a bare weft_ring (capacities 2, 8, 1024)
 * with the same exactly-once and per-producer order checks.
 * --yield calls sched_yield() at random points to widen race windows.
 * Exits 1 on the first violated invariant.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "weft/queue.h"

#define MAX_PER_PRODUCER (1u << 20)
#define MAX_THREADS 64
#define MAX_CAPS 8

static bool opt_yield;
static _Atomic int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "stress_queue: FAILED %s:%d: ", __FILE__, __LINE__);                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            atomic_fetch_add(&failures, 1);                                                        \
        }                                                                                          \
    } while (0)

static void maybe_yield(unsigned *seed)
{
    if (opt_yield && rand_r(seed) % 8 == 0)
        sched_yield();
}

/* Items: producer p, sequence s (from 0) -> (p << 24 | s) + 1, never NULL. */
static void *encode(unsigned p, uint32_t s)
{
    return (void *)(uintptr_t)((((uintptr_t)p << 24) | s) + 1);
}

static void decode(void *item, unsigned *p, uint32_t *s)
{
    uintptr_t v = (uintptr_t)item - 1;
    *p = (unsigned)(v >> 24);
    *s = (uint32_t)(v & 0xffffff);
}

/* ---- shared bookkeeping -------------------------------------------------- */

struct run {
    weft_queue *q; /* queue phase */
    weft_ring *r;  /* ring phase */
    bool fifo;
    unsigned producers, consumers;
    _Atomic uint8_t *seen[MAX_THREADS]; /* per producer, per sequence */
    uint32_t put[MAX_THREADS];          /* items each producer put */
    _Atomic bool stop;                  /* ring phase: producers stop */
    _Atomic unsigned producers_left;    /* ring phase: consumers drain after */
};

static struct run *current;

static void mark(struct run *run, void *item, const char *how)
{
    unsigned p;
    uint32_t s;
    decode(item, &p, &s);
    if (p >= run->producers || s >= MAX_PER_PRODUCER) {
        CHECK(false, "%s a foreign item %p", how, item);
        return;
    }
    uint8_t before = atomic_fetch_add_explicit(&run->seen[p][s], 1, memory_order_relaxed);
    CHECK(before == 0, "%s item p%u s%u a second time", how, p, s);
}

static void drop_item(void *item)
{
    mark(current, item, "dropped");
}

static double random_timeout(unsigned *seed)
{
    switch (rand_r(seed) % 4) {
    case 0:
        return 0;
    case 1:
        return 0.0005;
    case 2:
        return 0.002;
    default:
        return WEFT_FOREVER;
    }
}

struct worker {
    struct run *run;
    unsigned id;
    unsigned seed;
    pthread_t t;
};

/* ---- queue phase -------------------------------------------------------- */

static void *q_producer(void *arg)
{
    struct worker *w = arg;
    struct run *run = w->run;
    uint32_t s = 0;
    while (s < MAX_PER_PRODUCER) {
        double timeout = random_timeout(&w->seed);
        maybe_yield(&w->seed);
        int rc = weft_queue_put(run->q, encode(w->id, s), timeout);
        if (rc == 0) {
            s++;
            continue;
        }
        if (rc == ESHUTDOWN)
            break;
        if (timeout <= 0)
            CHECK(rc == EAGAIN, "put(timeout 0) returned %d", rc);
        else
            CHECK(rc == ETIMEDOUT, "put(timeout %g) returned %d", timeout, rc);
        if (rc != EAGAIN && rc != ETIMEDOUT)
            break;
    }
    run->put[w->id] = s;
    return NULL;
}

static void *q_consumer(void *arg)
{
    struct worker *w = arg;
    struct run *run = w->run;
    int64_t last[MAX_THREADS];
    for (unsigned p = 0; p < MAX_THREADS; p++)
        last[p] = -1;
    for (;;) {
        double timeout = random_timeout(&w->seed);
        void *item;
        maybe_yield(&w->seed);
        int rc = weft_queue_get(run->q, &item, timeout);
        if (rc == ESHUTDOWN)
            break;
        if (rc != 0) {
            if (timeout <= 0)
                CHECK(rc == EAGAIN, "get(timeout 0) returned %d", rc);
            else
                CHECK(rc == ETIMEDOUT, "get(timeout %g) returned %d", timeout, rc);
            if (rc != EAGAIN && rc != ETIMEDOUT)
                break;
            continue;
        }
        mark(run, item, "received");
        unsigned p;
        uint32_t s;
        decode(item, &p, &s);
        if (run->fifo && p < MAX_THREADS) {
            CHECK((int64_t)s > last[p], "FIFO order: p%u s%u after s%lld", p, s, (long long)last[p]);
            last[p] = s;
        }
        maybe_yield(&w->seed);
        CHECK(weft_queue_task_done(run->q) == 0, "task_done failed");
    }
    return NULL;
}

static int cmp_items(const void *a, const void *b)
{
    return (uintptr_t)a < (uintptr_t)b ? -1 : (uintptr_t)a > (uintptr_t)b;
}

static void verify(struct run *run, const char *what)
{
    for (unsigned p = 0; p < run->producers; p++) {
        for (uint32_t s = 0; s < MAX_PER_PRODUCER; s++) {
            uint8_t n = atomic_load_explicit(&run->seen[p][s], memory_order_relaxed);
            if (s < run->put[p])
                CHECK(n == 1, "%s: item p%u s%u (of %u put) seen %u times", what, p, s, run->put[p], n);
            else
                CHECK(n == 0, "%s: item p%u s%u, never put, seen %u times", what, p, s, n);
        }
    }
}

static void run_queue(unsigned threads, double seconds, weft_queue_backend backend, weft_queue_kind kind,
                      size_t cap, bool immediate, unsigned seed)
{
    static struct run run;
    memset(&run, 0, sizeof(run));
    current = &run;
    run.producers = threads / 2 > 0 ? threads / 2 : 1;
    run.consumers = threads - run.producers > 0 ? threads - run.producers : 1;
    run.fifo = kind == WEFT_QUEUE_FIFO;
    for (unsigned p = 0; p < run.producers; p++) {
        run.seen[p] = calloc(MAX_PER_PRODUCER, 1);
        if (run.seen[p] == NULL) {
            perror("calloc");
            exit(2);
        }
    }
    weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
    o.backend = backend;
    o.kind = kind;
    o.maxsize = cap;
    o.cmp = cmp_items;
    o.drop = drop_item;
    int rc = weft_queue_create(&run.q, &o);
    CHECK(rc == 0, "weft_queue_create: %d", rc);
    if (rc != 0)
        exit(1);
    struct worker w[2 * MAX_THREADS];
    unsigned n = run.producers + run.consumers;
    for (unsigned i = 0; i < n; i++) {
        bool producer = i < run.producers;
        w[i] = (struct worker){.run = &run, .id = producer ? i : i - run.producers, .seed = seed + i};
        if (pthread_create(&w[i].t, NULL, producer ? q_producer : q_consumer, &w[i]) != 0) {
            perror("pthread_create");
            exit(2);
        }
    }
    usleep((useconds_t)(seconds * 1e6));
    weft_queue_shutdown(run.q, immediate);
    for (unsigned i = 0; i < n; i++)
        pthread_join(w[i].t, NULL);
    char what[128];
    snprintf(what, sizeof(what), "queue %s kind %d cap %zu %s",
             backend == WEFT_QUEUE_MUTEX ? "mutex" : "lockfree", (int)kind, cap,
             immediate ? "immediate" : "drain");
    verify(&run, what);
    CHECK(weft_queue_empty(run.q), "%s: not empty after shutdown", what);
    CHECK(weft_queue_join(run.q, 0) == 0, "%s: join(0) with unfinished tasks", what);
    CHECK(weft_queue_put(run.q, encode(0, 0), 0) == ESHUTDOWN, "%s: put after shutdown", what);
    uint64_t total = 0;
    for (unsigned p = 0; p < run.producers; p++)
        total += run.put[p];
    printf("  %-45s %9llu items\n", what, (unsigned long long)total);
    weft_queue_destroy(run.q);
    for (unsigned p = 0; p < run.producers; p++)
        free(run.seen[p]);
}

/* ---- ring phase ---------------------------------------------------------- */

static void *r_producer(void *arg)
{
    struct worker *w = arg;
    struct run *run = w->run;
    uint32_t s = 0;
    while (s < MAX_PER_PRODUCER && !atomic_load_explicit(&run->stop, memory_order_relaxed)) {
        maybe_yield(&w->seed);
        if (weft_ring_try_push(run->r, encode(w->id, s)) == 0)
            s++;
        else
            sched_yield();
    }
    run->put[w->id] = s;
    /* release: publishes put[id] to the consumer's acquire load of
     * producers_left that sees the count reach 0. */
    atomic_fetch_sub_explicit(&run->producers_left, 1, memory_order_release);
    return NULL;
}

static void *r_consumer(void *arg)
{
    struct worker *w = arg;
    struct run *run = w->run;
    int64_t last[MAX_THREADS];
    for (unsigned p = 0; p < MAX_THREADS; p++)
        last[p] = -1;
    for (;;) {
        void *item;
        maybe_yield(&w->seed);
        if (weft_ring_try_pop(run->r, &item) != 0) {
            /* acquire: pairs with the producers' release decrements; once
             * all are gone, an empty ring stays empty. */
            if (atomic_load_explicit(&run->producers_left, memory_order_acquire) == 0 &&
                weft_ring_try_pop(run->r, &item) != 0)
                break;
            sched_yield();
            continue;
        }
        mark(run, item, "popped");
        unsigned p;
        uint32_t s;
        decode(item, &p, &s);
        if (p < MAX_THREADS) {
            CHECK((int64_t)s > last[p], "ring FIFO order: p%u s%u after s%lld", p, s, (long long)last[p]);
            last[p] = s;
        }
    }
    return NULL;
}

static void run_ring(unsigned threads, double seconds, size_t cap, unsigned seed)
{
    static struct run run;
    memset(&run, 0, sizeof(run));
    current = &run;
    run.producers = threads / 2 > 0 ? threads / 2 : 1;
    run.consumers = threads - run.producers > 0 ? threads - run.producers : 1;
    atomic_store(&run.producers_left, run.producers);
    for (unsigned p = 0; p < run.producers; p++) {
        run.seen[p] = calloc(MAX_PER_PRODUCER, 1);
        if (run.seen[p] == NULL) {
            perror("calloc");
            exit(2);
        }
    }
    if (weft_ring_create(&run.r, cap) != 0) {
        CHECK(false, "weft_ring_create(%zu)", cap);
        exit(1);
    }
    struct worker w[2 * MAX_THREADS];
    unsigned n = run.producers + run.consumers;
    for (unsigned i = 0; i < n; i++) {
        bool producer = i < run.producers;
        w[i] = (struct worker){.run = &run, .id = producer ? i : i - run.producers, .seed = seed + i};
        if (pthread_create(&w[i].t, NULL, producer ? r_producer : r_consumer, &w[i]) != 0) {
            perror("pthread_create");
            exit(2);
        }
    }
    usleep((useconds_t)(seconds * 1e6));
    atomic_store_explicit(&run.stop, true, memory_order_relaxed);
    for (unsigned i = 0; i < n; i++)
        pthread_join(w[i].t, NULL);
    char what[64];
    snprintf(what, sizeof(what), "ring cap %zu", cap);
    verify(&run, what);
    CHECK(weft_ring_size(run.r) == 0, "%s: not empty", what);
    uint64_t total = 0;
    for (unsigned p = 0; p < run.producers; p++)
        total += run.put[p];
    printf("  %-45s %9llu items\n", what, (unsigned long long)total);
    weft_ring_destroy(run.r);
    for (unsigned p = 0; p < run.producers; p++)
        free(run.seen[p]);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s threads seconds [--yield] [--seed N] [--capacity N]...\n", argv[0]);
        return 2;
    }
    unsigned threads = (unsigned)strtoul(argv[1], NULL, 10);
    double seconds = strtod(argv[2], NULL);
    size_t caps[MAX_CAPS] = {2, 8, 1024, 0};
    size_t ncaps = 4, given = 0;
    unsigned seed = (unsigned)time(NULL);
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--yield") == 0) {
            opt_yield = true;
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--capacity") == 0 && i + 1 < argc && given < MAX_CAPS) {
            caps[given++] = strtoul(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (given > 0)
        ncaps = given;
    if (threads < 2 || threads > MAX_THREADS || !(seconds > 0)) {
        fprintf(stderr, "threads must be 2..%d and seconds > 0\n", MAX_THREADS);
        return 2;
    }
    size_t nring = 0;
    for (size_t c = 0; c < ncaps; c++)
        nring += caps[c] > 0;
    size_t configs = ncaps * 2 + 4 + nring;
    double slice = seconds / (double)configs;
    printf("stress_queue: %u threads, %.2f s, seed %u%s\n", threads, seconds, seed,
           opt_yield ? ", yielding" : "");
    int k = 0;
    for (size_t c = 0; c < ncaps; c++) {
        run_queue(threads, slice, WEFT_QUEUE_LOCKFREE, WEFT_QUEUE_FIFO, caps[c], (k / 2 + k) % 2, seed + 100 * k);
        k++;
        run_queue(threads, slice, WEFT_QUEUE_MUTEX, WEFT_QUEUE_FIFO, caps[c], (k / 2 + k) % 2, seed + 100 * k);
        k++;
    }
    static const weft_queue_kind other[] = {WEFT_QUEUE_LIFO, WEFT_QUEUE_PRIORITY};
    for (int i = 0; i < 2; i++) {
        run_queue(threads, slice, WEFT_QUEUE_LOCKFREE, other[i], 8, (k / 2 + k) % 2, seed + 100 * k);
        k++;
        run_queue(threads, slice, WEFT_QUEUE_MUTEX, other[i], 8, (k / 2 + k) % 2, seed + 100 * k);
        k++;
    }
    for (size_t c = 0; c < ncaps; c++)
        if (caps[c] > 0)
            run_ring(threads, slice, caps[c], seed + 100 * k++);
    int f = atomic_load(&failures);
    printf("stress_queue: %s (%d failures)\n", f == 0 ? "OK" : "FAILED", f);
    return f == 0 ? 0 : 1;
}
