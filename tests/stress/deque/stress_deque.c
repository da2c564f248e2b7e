/* tests/stress/deque/stress_deque.c: the Chase-Lev deque under contention.
 *
 * Usage: stress_deque threads seconds [--yield]
 *
 * The main thread owns the deque: it pushes numbered items in bursts of
 * random length and pops a random share of them back. threads - 1 thieves
 * steal all the time. Every item must be taken exactly once: each item is a
 * pointer to its own counter, which whoever takes the item increments; a
 * second increment, a pointer that is not an item, or an item never taken is
 * a failure (exit status 1).
 *
 * The run is cut into rounds of ROUND items. Each round uses a fresh deque of
 * capacity 2, so push keeps growing the buffer (and retiring old buffers
 * through call_rcu) while thieves read it. At the end of a round the owner
 * drains the deque, waits until every item has been taken, checks the
 * counters, and swaps in the next round's deque; the old deque is freed after
 * a QSBR grace period (thieves may still be inside a steal on it). Every
 * thread is registered with urcu-qsbr and reports a quiescent state after
 * each deque call, as the contract in src/sched/deque.h requires.
 *
 * --yield calls sched_yield() at random points between deque calls, so that
 * threads are preempted with the deque in varied states.
 *
 * ThreadSanitizer cannot see the ordering that a QSBR grace period provides
 * (liburcu is not instrumented), so freeing an old deque after
 * urcu_qsbr_synchronize_rcu would look like a race with the thieves' last
 * steal on it. As in deque.c, each thief releases on the deque's address
 * after using it and the owner acquires it after the grace period: the
 * annotations describe the grace period to TSan and order nothing else.
 * urcu_qsbr_barrier() at exit has the same blind spot inside liburcu (a work
 * item it allocates is freed on the call_rcu thread): tests/stress/tsan.supp
 * suppresses reports whose stack contains urcu_qsbr_barrier, and nothing else.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-qsbr.h>

#include "sched/deque.h"

#if defined(__SANITIZE_THREAD__)
#define STRESS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STRESS_TSAN 1
#endif
#endif

#ifdef STRESS_TSAN
#include <sanitizer/tsan_interface.h>
#define tsan_release(addr) __tsan_release(addr)
#define tsan_acquire(addr) __tsan_acquire(addr)
#else
#define tsan_release(addr) ((void)(addr))
#define tsan_acquire(addr) ((void)(addr))
#endif

#define ROUND 65536
/* Longest push burst: 2^MAX_BURST_LOG items. */
#define MAX_BURST_LOG 12
/* How long the owner waits for thieves to account for a round's last items
 * before it declares them lost (seconds; far above any scheduling delay). */
#define DRAIN_LIMIT 60.0

static _Atomic uint32_t counts[ROUND]; /* item k is &counts[k] */
static _Atomic uint64_t taken;         /* items of the current round taken so far */
static _Atomic(weft__deque *) current; /* the deque of the current round */
static atomic_bool stop;
static atomic_bool failed;
static bool yield_mode;

struct thief {
    pthread_t tid;
    uint64_t seed;
    uint64_t stolen, retries;
};

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("stress_deque: FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    atomic_store_explicit(&failed, true, memory_order_relaxed);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static void maybe_yield(uint64_t *rng)
{
    if (yield_mode && next_random(rng) % 8 == 0)
        sched_yield();
}

/* Account for an item taken by pop or steal. */
static void take(void *p)
{
    _Atomic uint32_t *c = p;
    if (c < counts || c >= counts + ROUND) {
        fail("took %p, which is not an item", p);
        return;
    }
    uint32_t before = atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
    if (before != 0)
        fail("item %td taken %u times", c - counts, before + 1);
    /* release: our counter update before the count; pairs with the owner's
     * acquire load of taken before it checks the counters. */
    atomic_fetch_add_explicit(&taken, 1, memory_order_release);
}

static void *thief_main(void *arg)
{
    struct thief *self = arg;
    uint64_t rng = self->seed;
    unsigned empty = 0;
    urcu_qsbr_register_thread();
    while (!atomic_load_explicit(&stop, memory_order_relaxed) &&
           !atomic_load_explicit(&failed, memory_order_relaxed)) {
        /* acquire: pairs with the owner's release store of a new deque, which
         * orders its initialization before our steal. */
        weft__deque *dq = atomic_load_explicit(&current, memory_order_acquire);
        void *p = weft__deque_steal(dq);
        tsan_release(dq);
        if (p == WEFT__DEQUE_RETRY) {
            self->retries++;
        } else if (p != NULL) {
            take(p);
            self->stolen++;
            empty = 0;
        } else if (++empty % 64 == 0) {
            sched_yield(); /* two shared cores: let the owner refill */
        }
        maybe_yield(&rng);
        urcu_qsbr_quiescent_state();
    }
    urcu_qsbr_unregister_thread();
    return NULL;
}

static weft__deque *deque_new(void)
{
    weft__deque *dq = aligned_alloc(WEFT_CACHELINE, sizeof(*dq));
    if (dq == NULL)
        return NULL;
    if (weft__deque_init(dq, 2) != 0) {
        free(dq);
        return NULL;
    }
    return dq;
}

static void deque_free(weft__deque *dq)
{
    weft__deque_deinit(dq);
    free(dq);
}

/* One round on dq: push ROUND items with random pops in between, drain, wait
 * for the thieves' share, check that every item was taken exactly once. */
static void run_round(weft__deque *dq, uint64_t *rng, uint64_t *popped)
{
    size_t next = 0;
    while (next < ROUND && !atomic_load_explicit(&failed, memory_order_relaxed)) {
        size_t burst =
            1 + (size_t)(next_random(rng) % ((uint64_t)1 << (next_random(rng) % (MAX_BURST_LOG + 1))));
        for (size_t j = 0; j < burst && next < ROUND; j++) {
            int rc = weft__deque_push(dq, (void *)&counts[next]);
            if (rc != 0) {
                fail("push of item %zu returned %d", next, rc);
                return;
            }
            next++;
            if (j % 64 == 0)
                maybe_yield(rng);
        }
        /* Now and then pop until empty, racing the thieves for the last items
         * (where pop's fence and CAS matter); otherwise let the deque grow. */
        size_t pops = next_random(rng) % 4 == 0 ? SIZE_MAX : (size_t)(next_random(rng) % (burst + 1));
        for (size_t j = 0; j < pops; j++) {
            void *p = weft__deque_pop(dq);
            if (p == NULL)
                break;
            take(p);
            ++*popped;
            /* "Run" the item for a moment, giving thieves time to reach the
             * same end of the deque. */
            for (uint64_t spin = next_random(rng) % 64; spin > 0; spin--)
                weft__cpu_relax();
        }
        maybe_yield(rng);
        urcu_qsbr_quiescent_state();
    }
    for (void *p; (p = weft__deque_pop(dq)) != NULL;) {
        take(p);
        ++*popped;
    }
    if (weft__deque_size(dq) != 0)
        fail("deque not empty after pop returned NULL (size %zu)", weft__deque_size(dq));

    double give_up = now_s() + DRAIN_LIMIT;
    /* acquire: pairs with the release increments in take, so every counter
     * update is visible before we check the counters below. */
    while (atomic_load_explicit(&taken, memory_order_acquire) != next) {
        if (atomic_load_explicit(&failed, memory_order_relaxed))
            return;
        if (now_s() > give_up) {
            fail("only %llu of %zu items taken after %.0f s",
                 (unsigned long long)atomic_load_explicit(&taken, memory_order_relaxed), next, DRAIN_LIMIT);
            break;
        }
        urcu_qsbr_quiescent_state();
        sched_yield();
    }
    for (size_t k = 0; k < next; k++) {
        uint32_t c = atomic_load_explicit(&counts[k], memory_order_relaxed);
        if (c != 1) {
            fail("item %zu taken %u times", k, c);
            return;
        }
        atomic_store_explicit(&counts[k], 0, memory_order_relaxed);
    }
    atomic_store_explicit(&taken, 0, memory_order_relaxed);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "--yield") != 0)) {
        fprintf(stderr, "usage: %s threads seconds [--yield]\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[1]);
    double seconds = atof(argv[2]);
    yield_mode = argc == 4;
    if (threads < 1 || threads > 1024 || !(seconds > 0)) {
        fprintf(stderr, "usage: %s threads seconds [--yield] (threads >= 1, seconds > 0)\n", argv[0]);
        return 2;
    }

    urcu_qsbr_register_thread();
    weft__deque *dq = deque_new();
    if (dq == NULL) {
        fprintf(stderr, "stress_deque: out of memory\n");
        return 2;
    }
    /* release: the deque's initialization before its pointer; pairs with the
     * acquire load of current in thief_main. */
    atomic_store_explicit(&current, dq, memory_order_release);

    size_t nthieves = (size_t)threads - 1;
    struct thief *thieves = calloc(nthieves + 1, sizeof(*thieves));
    if (thieves == NULL) {
        fprintf(stderr, "stress_deque: out of memory\n");
        return 2;
    }
    uint64_t seed = (uint64_t)time(NULL) * 2654435761u + 1;
    for (size_t i = 0; i < nthieves; i++) {
        thieves[i].seed = seed + 7919 * (i + 1);
        int rc = pthread_create(&thieves[i].tid, NULL, thief_main, &thieves[i]);
        if (rc != 0) {
            fprintf(stderr, "stress_deque: pthread_create: %s\n", strerror(rc));
            return 2;
        }
    }

    uint64_t rng = seed, popped = 0, rounds = 0;
    double end = now_s() + seconds;
    for (;;) {
        run_round(dq, &rng, &popped);
        rounds++;
        if (atomic_load_explicit(&failed, memory_order_relaxed) || now_s() >= end)
            break;
        weft__deque *fresh = deque_new();
        if (fresh == NULL) {
            fail("out of memory for a new deque");
            break;
        }
        /* release: pairs with the acquire load of current in thief_main. */
        atomic_store_explicit(&current, fresh, memory_order_release);
        urcu_qsbr_synchronize_rcu();
        tsan_acquire(dq);
        deque_free(dq);
        dq = fresh;
    }

    atomic_store_explicit(&stop, true, memory_order_relaxed);
    uint64_t stolen = 0, retries = 0;
    for (size_t i = 0; i < nthieves; i++) {
        int rc = pthread_join(thieves[i].tid, NULL);
        if (rc != 0)
            fail("pthread_join: %s", strerror(rc));
        stolen += thieves[i].stolen;
        retries += thieves[i].retries;
    }
    deque_free(dq);
    free(thieves);
    urcu_qsbr_unregister_thread();
    urcu_qsbr_barrier(); /* frees every retired buffer before exit */

    bool ok = !atomic_load_explicit(&failed, memory_order_relaxed);
    printf("stress_deque: %s: %d threads, %.1f s%s: %llu rounds, %llu items, %llu popped, %llu stolen, %llu "
           "lost races\n",
           ok ? "ok" : "FAILED", threads, seconds, yield_mode ? ", yield" : "", (unsigned long long)rounds,
           (unsigned long long)(popped + stolen), (unsigned long long)popped, (unsigned long long)stolen,
           (unsigned long long)retries);
    return ok ? 0 : 1;
}
