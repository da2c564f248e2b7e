/* tests/fault/fault_sweep.c: the allocation-failure sweep (docs/RELIABILITY.md,
 * "allocation and thread-creation failure").
 *
 * Usage: fault_sweep [max_n] [--verbose]
 *
 * Linked with -Wl,--wrap for malloc, calloc, realloc, aligned_alloc,
 * posix_memalign and pthread_create, so every such call made by weft (the
 * static library) or by this program goes through the wrappers below, which
 * count calls and fail the N-th one (ENOMEM, or EAGAIN for pthread_create).
 * A first run of the scenario counts the calls it makes (T); then for every
 * N in 1..T (or max_n) the scenario runs twice: failing call N only ("once"),
 * and every call from N on ("from N on"). The scenario creates pools on both
 * schedulers, queues of every kind, threads, timers, futures, a completion
 * queue, locals, a ring, and submits work (submit, try_submit, groups,
 * parallel_for, map, as_completed, wait, done callbacks, future_notify). It
 * checks that:
 *   - every call returns 0 or its documented failure (ENOMEM, EAGAIN);
 *   - nothing is lost: a submission that returned 0 runs exactly once; one
 *     that failed never runs; every queue holds what was put into it;
 *   - nothing crashes (the process would die) and nothing leaks (run it in an
 *     ASan build: LeakSanitizer checks at exit, after every run).
 * It prints the number of runs, the calls the scenario makes, and the
 * distinct call sites (return addresses) at which a failure was injected.
 * Allocations made inside libc or liburcu (not wrapped) are not swept.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

/* ---- the wrappers -------------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);

static atomic_ulong calls;
static unsigned long fail_at; /* 0: never */
static bool fail_from;        /* fail every call >= fail_at */
static atomic_bool armed;

#define MAX_SITES 4096
static void *sites[MAX_SITES];
static size_t nsites;
static pthread_mutex_t sites_mu = PTHREAD_MUTEX_INITIALIZER;

static void note_site(void *site)
{
    pthread_mutex_lock(&sites_mu);
    size_t i = 0;
    while (i < nsites && sites[i] != site)
        i++;
    if (i == nsites && nsites < MAX_SITES)
        sites[nsites++] = site;
    pthread_mutex_unlock(&sites_mu);
}

static bool should_fail(void *site)
{
    if (!atomic_load_explicit(&armed, memory_order_relaxed))
        return false;
    unsigned long n = atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed) + 1;
    if (fail_at == 0 || (fail_from ? n < fail_at : n != fail_at))
        return false;
    note_site(site);
    return true;
}

#define SITE __builtin_return_address(0)

void *__wrap_malloc(size_t n)
{
    if (should_fail(SITE)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (should_fail(SITE)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    if (should_fail(SITE)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    if (should_fail(SITE)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_aligned_alloc(align, n);
}

int __wrap_posix_memalign(void **p, size_t align, size_t n)
{
    if (should_fail(SITE))
        return ENOMEM;
    return __real_posix_memalign(p, align, n);
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    if (should_fail(SITE))
        return EAGAIN;
    return __real_pthread_create(t, a, fn, arg);
}

/* ---- checks -------------------------------------------------------------- */

static const char *phase = "";

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "fault_sweep: %s:%d (%s, fail_at %lu%s): check failed: %s\n", __FILE__,          \
                    __LINE__, phase, fail_at, fail_from ? " on" : "", #cond);                                \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

/* 0, or a failure the contract allows for lack of memory or threads. */
#define OK_OR_NOMEM(expr)                                                                                    \
    do {                                                                                                     \
        int rc_ = (expr);                                                                                    \
        CHECK(rc_ == 0 || rc_ == ENOMEM || rc_ == EAGAIN);                                                   \
    } while (0)

/* ---- the scenario -------------------------------------------------------- */

enum { NSUB = 24, NGROUP = 300, NMAP = 16, NQ = 40 };

typedef struct slot {
    atomic_int ran;
    bool accepted;
} slot;

static int run_slot(void *arg, void **result)
{
    slot *s = arg;
    atomic_fetch_add(&s->ran, 1);
    *result = s;
    return 0;
}

static void group_fn(void *arg)
{
    atomic_fetch_add(&((slot *)arg)->ran, 1);
}

static weft_pool *cur_pool;

/* From a task: spawn NGROUP children on its own deque (grows it). */
static int tree(void *arg, void **result)
{
    slot *ss = arg;
    (void)result;
    weft_group g;
    weft_group_init(&g, cur_pool);
    for (size_t i = 0; i < NGROUP; i++) {
        ss[i].accepted = false;
        int rc = weft_group_run(&g, group_fn, &ss[i]);
        OK_OR_NOMEM(rc);
        ss[i].accepted = rc == 0;
    }
    CHECK(weft_group_wait(&g) == 0);
    return 0;
}

static void range_fn(void *ctx, size_t lo, size_t hi)
{
    slot *ss = ctx;
    for (size_t i = lo; i < hi; i++)
        atomic_fetch_add(&ss[i].ran, 1);
}

static atomic_int cb_calls;

static void cb(weft_future *f, void *ctx)
{
    (void)f;
    (void)ctx;
    atomic_fetch_add(&cb_calls, 1);
}

static void pool_scenario(weft_sched_kind kind)
{
    phase = kind == WEFT_SCHED_STEALING ? "pool stealing" : "pool mutex";
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 2;
    o.scheduler = kind;
    weft_pool *p;
    int rc = weft_pool_create(&p, &o);
    OK_OR_NOMEM(rc);
    if (rc != 0)
        return;
    cur_pool = p;
    static slot subs[NSUB], tree_slots[NGROUP], loop[64], mapped[NMAP];
    memset(subs, 0, sizeof subs);
    memset(tree_slots, 0, sizeof tree_slots);
    memset(loop, 0, sizeof loop);
    memset(mapped, 0, sizeof mapped);
    weft_future *fs[NSUB] = {0};
    size_t nf = 0;
    atomic_store(&cb_calls, 0);
    int cbs_added = 0;
    for (size_t i = 0; i < NSUB; i++) {
        weft_future **out = i % 3 == 0 ? NULL : &fs[nf];
        rc = i % 4 == 1 ? weft_pool_try_submit(p, run_slot, &subs[i], out)
                        : weft_pool_submit(p, run_slot, &subs[i], out);
        OK_OR_NOMEM(rc);
        subs[i].accepted = rc == 0;
        if (rc == 0 && out != NULL) {
            int r2 = weft_future_add_done_callback(fs[nf], cb, NULL);
            OK_OR_NOMEM(r2);
            cbs_added += r2 == 0;
            nf++;
        }
    }
    /* A task that spawns a wide group from inside the pool. */
    weft_future *tf = NULL;
    rc = weft_pool_submit(p, tree, tree_slots, &tf);
    OK_OR_NOMEM(rc);
    if (rc == 0) {
        CHECK(weft_future_result(tf, WEFT_FOREVER, NULL) == 0);
        for (size_t i = 0; i < NGROUP; i++)
            CHECK(atomic_load(&tree_slots[i].ran) == (tree_slots[i].accepted ? 1 : 0));
        weft_future_release(tf);
    }
    /* parallel_for: every index exactly once (a piece that cannot be spawned
     * runs in the caller). */
    rc = weft_parallel_for(p, 0, 64, 4, range_fn, loop);
    OK_OR_NOMEM(rc);
    if (rc == 0)
        for (size_t i = 0; i < 64; i++)
            CHECK(atomic_load(&loop[i].ran) == 1);
    /* map */
    void *args[NMAP], *results[NMAP];
    for (size_t i = 0; i < NMAP; i++)
        args[i] = &mapped[i];
    rc = weft_pool_map(p, run_slot, args, NMAP, results, 3, WEFT_FOREVER);
    OK_OR_NOMEM(rc);
    if (rc == 0)
        for (size_t i = 0; i < NMAP; i++)
            CHECK(results[i] == &mapped[i] && atomic_load(&mapped[i].ran) == 1);
    /* as_completed and wait over the futures. */
    weft_as_completed *it;
    rc = weft_as_completed_begin(&it, fs, nf, WEFT_FOREVER);
    OK_OR_NOMEM(rc);
    if (rc == 0) {
        weft_future *f;
        size_t seen = 0;
        while (weft_as_completed_next(it, &f) == 0)
            seen++;
        CHECK(seen == nf);
        weft_as_completed_end(it);
    }
    size_t ndone = 0;
    rc = weft_wait(fs, nf, WEFT_FOREVER, WEFT_ALL_COMPLETED, &ndone);
    OK_OR_NOMEM(rc);
    /* A completion queue fed by the futures. */
    weft_cq *cq;
    rc = weft_cq_create(&cq);
    OK_OR_NOMEM(rc);
    if (rc == 0) {
        size_t posted = 0;
        for (size_t i = 0; i < nf; i++) {
            int r2 = weft_future_notify(fs[i], cq, &fs[i]);
            OK_OR_NOMEM(r2);
            posted += r2 == 0;
        }
        weft_future *f;
        void *tag;
        size_t popped = 0;
        while (weft_cq_pop(cq, &f, &tag) == 0) {
            weft_future_release(f);
            popped++;
        }
        CHECK(popped == posted);
        weft_cq_destroy(cq);
    }
    weft_pool_destroy(p);
    cur_pool = NULL;
    for (size_t i = 0; i < NSUB; i++)
        CHECK(atomic_load(&subs[i].ran) == (subs[i].accepted ? 1 : 0));
    for (size_t i = 0; i < nf; i++) {
        void *r = NULL;
        CHECK(weft_future_result(fs[i], 0, &r) == 0);
        weft_future_release(fs[i]);
    }
    CHECK(atomic_load(&cb_calls) == cbs_added);
}

static int cmp_int(const void *a, const void *b)
{
    intptr_t x = (intptr_t)a, y = (intptr_t)b;
    return (x > y) - (x < y);
}

static void queue_scenario(void)
{
    phase = "queues";
    for (int k = 0; k < 5; k++) {
        weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
        if (k == 1)
            o.maxsize = 16;
        if (k == 2)
            o.kind = WEFT_QUEUE_LIFO;
        if (k == 3) {
            o.kind = WEFT_QUEUE_PRIORITY;
            o.cmp = cmp_int;
        }
        if (k == 4)
            o.backend = WEFT_QUEUE_MUTEX;
        weft_queue *q;
        int rc = weft_queue_create(&q, &o);
        OK_OR_NOMEM(rc);
        if (rc != 0)
            continue;
        size_t put = 0;
        for (intptr_t i = 1; i <= NQ; i++) {
            rc = weft_queue_put(q, (void *)i, 0);
            CHECK(rc == 0 || rc == ENOMEM || (rc == EAGAIN && k == 1));
            put += rc == 0;
        }
        CHECK(weft_queue_qsize(q) == put);
        size_t got = 0;
        void *item;
        while (weft_queue_get(q, &item, 0) == 0)
            got++;
        CHECK(got == put);
        weft_queue_destroy(q);
    }
    weft_ring *r;
    int rc = weft_ring_create(&r, 8);
    OK_OR_NOMEM(rc);
    if (rc == 0)
        weft_ring_destroy(r);
}

static int thread_fn(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
    return 0;
}

static atomic_int timer_fired;

static void timer_fn(void *arg)
{
    (void)arg;
    atomic_fetch_add(&timer_fired, 1);
}

static void local_dtor(void *v)
{
    free(v);
}

static void thread_scenario(void)
{
    phase = "threads";
    atomic_int ran = 0;
    weft_thread *t;
    weft_thread_attr a = WEFT_THREAD_ATTR_INIT;
    a.name = "sweep";
    int rc = weft_thread_create(&t, thread_fn, &ran, &a);
    OK_OR_NOMEM(rc);
    if (rc == 0) {
        OK_OR_NOMEM(weft_thread_set_name(t, "sweep-renamed"));
        rc = weft_thread_start(t);
        OK_OR_NOMEM(rc);
        if (rc == 0)
            CHECK(weft_thread_join(t, WEFT_FOREVER) == 0 && atomic_load(&ran) == 1);
        else
            CHECK(atomic_load(&ran) == 0);
        weft_thread_destroy(t);
    }
    phase = "timers";
    atomic_store(&timer_fired, 0);
    weft_timer *tm;
    rc = weft_timer_create(&tm, 0, timer_fn, NULL);
    OK_OR_NOMEM(rc);
    if (rc == 0) {
        rc = weft_timer_start(tm);
        OK_OR_NOMEM(rc);
        if (rc == 0)
            CHECK(weft_timer_join(tm, WEFT_FOREVER) == 0 && atomic_load(&timer_fired) == 1);
        weft_timer_destroy(tm);
    }
    phase = "locals";
    weft_local l;
    rc = weft_local_init(&l, local_dtor);
    OK_OR_NOMEM(rc);
    if (rc == 0) {
        void *v = malloc(8);
        if (v != NULL) {
            rc = weft_local_set(&l, v);
            OK_OR_NOMEM(rc);
            if (rc != 0)
                free(v);
            else {
                weft_local_set(&l, NULL);
                free(v);
            }
        }
        weft_local_deinit(&l);
    }
    phase = "bare future";
    weft_future *f;
    rc = weft_future_create(&f);
    OK_OR_NOMEM(rc);
    if (rc == 0) {
        OK_OR_NOMEM(weft_future_add_done_callback(f, cb, NULL));
        CHECK(weft_future_set_running_or_notify_cancel(f));
        CHECK(weft_future_set_result(f, NULL) == 0);
        weft_future_release(f);
    }
}

static void scenario(void)
{
    pool_scenario(WEFT_SCHED_STEALING);
    pool_scenario(WEFT_SCHED_MUTEX);
    queue_scenario();
    thread_scenario();
}

static void run(unsigned long n, bool from)
{
    fail_at = n;
    fail_from = from;
    atomic_store(&calls, 0);
    atomic_store(&armed, true);
    scenario();
    atomic_store(&armed, false);
}

int main(int argc, char **argv)
{
    unsigned long max_n = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
    bool verbose = argc > 2 && strcmp(argv[2], "--verbose") == 0;
    /* Warm-up outside the count (the main thread's entry, atexit hooks). */
    (void)weft_current_thread();
    run(0, false);
    unsigned long total = atomic_load(&calls);
    unsigned long last = max_n != 0 && max_n < total ? max_n : total;
    /* Threads make some calls in a different order each run: go a little
     * past the count. */
    last += last / 10;
    size_t runs = 1;
    for (unsigned long n = 1; n <= last; n++) {
        run(n, false);
        run(n, true);
        runs += 2;
        if (verbose && n % 100 == 0)
            fprintf(stderr, "fault_sweep: n %lu / %lu, %zu sites\n", n, last, nsites);
    }
    printf("fault_sweep: %zu runs; the scenario makes %lu wrapped calls; failures injected at every call "
           "1..%lu, once and from there on; %zu distinct call sites failed\n",
           runs, total, last, nsites);
    return 0;
}
