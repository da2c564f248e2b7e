/* tests/stress/future/stress_future.c: futures under contention.
 *
 *     stress_future threads seconds [--yield]
 *
 * Rounds of NF fresh futures. In each round every thread performs random
 * operations on random futures: run one (start + finish with a code fixed by
 * its index), cancel, wait for a result with a random timeout, add a done
 * callback that owns and releases a reference, iterate as_completed or call
 * weft_wait over a random subset (duplicates included, sometimes ending the
 * iteration early). Thread 0 then completes whatever is left, so every
 * blocked waiter must return; after a barrier it checks the invariants:
 *   - every future is done, in exactly one final state, consistent with what
 *     cancel/start reported, with the code and result its runner gave;
 *   - every done callback ran exactly once, on a done future;
 *   - every wait/as_completed answer was consistent when it was given.
 * Leaks and use-after-free are left to ASan, races to TSan; a hang (a waiter
 * that never returns) is caught by a watchdog alarm. Exit status 1 on any
 * violated invariant.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal/atomics.h"
#include "pool/future_impl.h"
#include "weft/future.h"

#define NF         48 /* futures per round */
#define OPS        48 /* operations per thread per round */
#define SUBSET_MAX 8  /* futures per as_completed / wait call */

typedef struct slot {
    weft_future *f;
    _Atomic int claimed;     /* a runner took it (start + finish) */
    _Atomic int cancel_true; /* some cancel returned true */
    _Atomic int start_false; /* start returned false */
    _Atomic int finished;    /* the runner called finish */
} slot;

typedef struct cbrec {
    _Atomic int ran;
    weft_future *f;
} cbrec;

static slot slots[NF];
static cbrec *cbs;
static _Atomic size_t ncbs;
static size_t cbs_cap;

static int nthreads;
static bool yield_mode;
static _Atomic bool stop;
static _Atomic long violations;
static _Atomic long stats_ops, stats_yields_ac, stats_waits;
static pthread_barrier_t barrier;

/* Counts every violation, prints the first few. */
#define VIOLATION(...)                                                                                       \
    do {                                                                                                     \
        if (atomic_fetch_add_explicit(&violations, 1, memory_order_relaxed) < 20) {                          \
            fprintf(stderr, "stress_future: violation at line %d: ", __LINE__);                              \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fputc('\n', stderr);                                                                             \
        }                                                                                                    \
    } while (0)

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void maybe_yield(uint64_t *s)
{
    if (yield_mode && rnd(s) % 4 == 0)
        sched_yield();
}

static int expected_code(size_t i)
{
    return i % 4 == 0 ? EIO : 0;
}

/* A random timeout; thread 0 never waits forever, since it is the one that
 * completes the leftovers at the end of a round. */
static double rnd_timeout(uint64_t *s, int id)
{
    switch (rnd(s) % 8) {
    case 0:
    case 1:
        return 0;
    case 2:
        return id == 0 ? 0.001 : WEFT_FOREVER;
    case 3:
        return 0.002;
    default:
        return 1e-5 * (double)(1 + rnd(s) % 20);
    }
}

/* The outcome a done future must show. */
static void check_outcome(size_t i, int rc, void *r, bool got_result)
{
    weft_future *f = slots[i].f;
    if (rc == ECANCELED) {
        if (!weft_future_cancelled(f))
            VIOLATION("ECANCELED from a future that is not cancelled (%zu)", i);
        return;
    }
    if (weft_future_cancelled(f))
        VIOLATION("a cancelled future reported %d (%zu)", rc, i);
    if (rc != expected_code(i))
        VIOLATION("future %zu: code %d, expected %d", i, rc, expected_code(i));
    if (got_result && rc == 0 && r != &slots[i])
        VIOLATION("future %zu: wrong result", i);
}

static void op_run(uint64_t *s)
{
    size_t i = rnd(s) % NF;
    int zero = 0;
    if (!atomic_compare_exchange_strong_explicit(&slots[i].claimed, &zero, 1, memory_order_relaxed,
                                                 memory_order_relaxed))
        return;
    if (!weft__future_start(slots[i].f)) {
        atomic_store_explicit(&slots[i].start_false, 1, memory_order_relaxed);
        if (!weft_future_cancelled(slots[i].f))
            VIOLATION("start refused a future that is not cancelled");
        return;
    }
    if (!weft_future_running(slots[i].f))
        VIOLATION("started future not running");
    maybe_yield(s);
    atomic_store_explicit(&slots[i].finished, 1, memory_order_relaxed);
    weft__future_finish(slots[i].f, expected_code(i), &slots[i]);
}

static void op_cancel(uint64_t *s)
{
    size_t i = rnd(s) % NF;
    if (weft_future_cancel(slots[i].f)) {
        atomic_store_explicit(&slots[i].cancel_true, 1, memory_order_relaxed);
        if (!weft_future_cancelled(slots[i].f) || !weft_future_done(slots[i].f))
            VIOLATION("cancel returned true but the future is not cancelled");
    } else if (weft_future_cancelled(slots[i].f)) {
        VIOLATION("cancel returned false on a cancelled future");
    }
}

static void op_result(uint64_t *s, int id)
{
    size_t i = rnd(s) % NF;
    weft_future *f = weft_future_retain(slots[i].f);
    double timeout = rnd_timeout(s, id);
    void *r = NULL;
    int rc;
    bool want_result = rnd(s) % 2;
    if (want_result)
        rc = weft_future_result(f, timeout, &r);
    else if (rnd(s) % 2)
        rc = weft_future_exception(f, timeout);
    else
        rc = weft_future_wait(f, timeout) == 0 ? weft_future_exception(f, 0) : ETIMEDOUT;
    if (rc == ETIMEDOUT) { /* no task here returns ETIMEDOUT itself */
        if (isinf(timeout))
            VIOLATION("a wait forever timed out");
    } else {
        if (!weft_future_done(f))
            VIOLATION("an outcome from a future that is not done");
        check_outcome(i, rc, r, want_result);
    }
    atomic_fetch_add_explicit(&stats_waits, 1, memory_order_relaxed);
    weft_future_release(f);
}

static void on_done(weft_future *f, void *ctx)
{
    cbrec *c = ctx;
    if (f != c->f)
        VIOLATION("callback got the wrong future");
    if (!weft_future_done(f))
        VIOLATION("callback ran before the future was done");
    if (atomic_fetch_add_explicit(&c->ran, 1, memory_order_relaxed) != 0)
        VIOLATION("callback ran twice");
    weft_future_release(f); /* the reference taken when it was added */
}

static void op_callback(uint64_t *s)
{
    size_t k = atomic_fetch_add_explicit(&ncbs, 1, memory_order_relaxed);
    if (k >= cbs_cap)
        return;
    size_t i = rnd(s) % NF;
    cbrec *c = &cbs[k];
    c->f = slots[i].f;
    atomic_store_explicit(&c->ran, 0, memory_order_relaxed);
    int rc = weft_future_add_done_callback(weft_future_retain(c->f), on_done, c);
    if (rc != 0) {
        VIOLATION("add_done_callback: %s", strerror(rc));
        atomic_store_explicit(&c->ran, 1, memory_order_relaxed);
        weft_future_release(c->f);
    }
}

/* A random subset with duplicates; returns its size, and the number of
 * distinct futures in *distinct. */
static size_t pick_subset(uint64_t *s, weft_future **fs, size_t *distinct)
{
    size_t n = 1 + rnd(s) % SUBSET_MAX;
    size_t d = 0;
    for (size_t k = 0; k < n; k++) {
        if (k > 0 && rnd(s) % 4 == 0) {
            fs[k] = fs[rnd(s) % k];
            continue;
        }
        fs[k] = slots[rnd(s) % NF].f;
        bool dup = false;
        for (size_t j = 0; j < k; j++)
            dup |= fs[j] == fs[k];
        d += !dup;
    }
    *distinct = d;
    return n;
}

static void op_as_completed(uint64_t *s, int id)
{
    weft_future *fs[SUBSET_MAX], *yielded[SUBSET_MAX];
    size_t distinct;
    size_t n = pick_subset(s, fs, &distinct);
    double timeout = rnd_timeout(s, id);
    size_t stop_after = rnd(s) % 4 == 0 ? rnd(s) % (distinct + 1) : distinct + 1;
    weft_as_completed *it;
    int rc = weft_as_completed_begin(&it, fs, n, timeout);
    if (rc != 0) {
        VIOLATION("as_completed_begin: %s", strerror(rc));
        return;
    }
    size_t got = 0;
    weft_future *f;
    while (got < stop_after && (rc = weft_as_completed_next(it, &f)) == 0) {
        bool member = false, seen = false;
        for (size_t k = 0; k < n; k++)
            member |= fs[k] == f;
        for (size_t k = 0; k < got; k++)
            seen |= yielded[k] == f;
        if (!member || seen || got == distinct) {
            VIOLATION("as_completed yielded a stranger or a repeat");
            break;
        }
        if (!weft_future_done(f))
            VIOLATION("as_completed yielded a future that is not done");
        yielded[got++] = f;
        maybe_yield(s);
    }
    if (got < stop_after) {
        if (rc == ENOENT && got != distinct)
            VIOLATION("as_completed: ENOENT after %zu of %zu", got, distinct);
        if (rc == ETIMEDOUT && isinf(timeout))
            VIOLATION("as_completed: ETIMEDOUT without a deadline");
        if (rc != ENOENT && rc != ETIMEDOUT && rc != 0)
            VIOLATION("as_completed_next: %s", strerror(rc));
    }
    atomic_fetch_add_explicit(&stats_yields_ac, (long)got, memory_order_relaxed);
    weft_as_completed_end(it);
}

static void op_wait(uint64_t *s, int id)
{
    weft_future *fs[SUBSET_MAX];
    size_t distinct;
    size_t n = pick_subset(s, fs, &distinct);
    double timeout = rnd_timeout(s, id);
    weft_return_when how = (weft_return_when)(rnd(s) % 3);
    size_t nd = SIZE_MAX;
    int rc = weft_wait(fs, n, timeout, how, &nd);
    if (rc != 0 && rc != ETIMEDOUT) {
        VIOLATION("weft_wait: %s", strerror(rc));
        return;
    }
    if (nd > distinct)
        VIOLATION("weft_wait: ndone %zu > %zu", nd, distinct);
    if (rc == ETIMEDOUT) {
        if (isinf(timeout))
            VIOLATION("weft_wait: ETIMEDOUT without a deadline");
        return;
    }
    /* The futures only move forward, so the condition must still hold. */
    size_t done = 0;
    bool raised = false;
    for (size_t k = 0; k < n; k++) {
        if (!weft_future_done(fs[k]))
            continue;
        done++;
        raised |= !weft_future_cancelled(fs[k]) && weft_future_exception(fs[k], 0) != 0;
    }
    bool all = true;
    for (size_t k = 0; k < n; k++)
        all &= weft_future_done(fs[k]);
    if (how == WEFT_FIRST_COMPLETED && done == 0)
        VIOLATION("FIRST_COMPLETED returned with nothing done");
    if (how == WEFT_ALL_COMPLETED && (!all || nd != distinct))
        VIOLATION("ALL_COMPLETED returned early (ndone %zu of %zu)", nd, distinct);
    if (how == WEFT_FIRST_EXCEPTION && !all && !raised)
        VIOLATION("FIRST_EXCEPTION returned with no exception and not all done");
    if (nd == 0)
        VIOLATION("weft_wait returned 0 with ndone 0");
}

/* End of round (thread 0): complete everything nobody claimed. */
static void complete_leftovers(uint64_t *s)
{
    for (size_t i = 0; i < NF; i++) {
        int zero = 0;
        if (!atomic_compare_exchange_strong_explicit(&slots[i].claimed, &zero, 1, memory_order_relaxed,
                                                     memory_order_relaxed))
            continue;
        if (rnd(s) % 2 && weft_future_cancel(slots[i].f)) {
            atomic_store_explicit(&slots[i].cancel_true, 1, memory_order_relaxed);
            continue;
        }
        if (!weft__future_start(slots[i].f)) {
            atomic_store_explicit(&slots[i].start_false, 1, memory_order_relaxed);
            continue;
        }
        atomic_store_explicit(&slots[i].finished, 1, memory_order_relaxed);
        weft__future_finish(slots[i].f, expected_code(i), &slots[i]);
    }
}

static void check_round(void)
{
    for (size_t i = 0; i < NF; i++) {
        slot *sl = &slots[i];
        weft_future *f = sl->f;
        bool cancelled = weft_future_cancelled(f);
        bool finished = atomic_load_explicit(&sl->finished, memory_order_relaxed);
        if (!weft_future_done(f) || weft_future_running(f))
            VIOLATION("future %zu not done after the round", i);
        if (cancelled == finished)
            VIOLATION("future %zu: cancelled %d, finished %d", i, cancelled, finished);
        if (atomic_load_explicit(&sl->cancel_true, memory_order_relaxed) && !cancelled)
            VIOLATION("future %zu: cancel said true but it finished", i);
        if (atomic_load_explicit(&sl->start_false, memory_order_relaxed) && !cancelled)
            VIOLATION("future %zu: start said false but it is not cancelled", i);
        void *r = NULL;
        int rc = weft_future_result(f, 0, &r);
        check_outcome(i, rc, r, true);
    }
    size_t n = atomic_load_explicit(&ncbs, memory_order_relaxed);
    if (n > cbs_cap)
        n = cbs_cap;
    for (size_t k = 0; k < n; k++)
        if (atomic_load_explicit(&cbs[k].ran, memory_order_relaxed) != 1)
            VIOLATION("callback %zu ran %d times", k, atomic_load(&cbs[k].ran));
}

static void new_round(void)
{
    for (size_t i = 0; i < NF; i++) {
        slots[i].f = weft__future_create();
        if (slots[i].f == NULL) {
            fprintf(stderr, "stress_future: out of memory\n");
            exit(2);
        }
        atomic_store_explicit(&slots[i].claimed, 0, memory_order_relaxed);
        atomic_store_explicit(&slots[i].cancel_true, 0, memory_order_relaxed);
        atomic_store_explicit(&slots[i].start_false, 0, memory_order_relaxed);
        atomic_store_explicit(&slots[i].finished, 0, memory_order_relaxed);
    }
    atomic_store_explicit(&ncbs, 0, memory_order_relaxed);
}

static void end_round(void)
{
    for (size_t i = 0; i < NF; i++) {
        weft_future_release(slots[i].f); /* the "pool" reference */
        weft_future_release(slots[i].f); /* the "submitter" reference */
    }
}

typedef struct targ {
    int id;
    uint64_t seed;
    double seconds;
} targ;

static void barrier_wait(void)
{
    int rc = pthread_barrier_wait(&barrier);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) {
        fprintf(stderr, "stress_future: pthread_barrier_wait: %s\n", strerror(rc));
        exit(2);
    }
}

static void *worker(void *arg)
{
    targ *t = arg;
    uint64_t s = t->seed;
    uint64_t end = weft__now_ns() + (uint64_t)(t->seconds * 1e9);
    for (;;) {
        barrier_wait();
        if (atomic_load_explicit(&stop, memory_order_relaxed))
            break;
        for (int k = 0; k < OPS; k++) {
            switch (rnd(&s) % 8) {
            case 0:
            case 1:
                op_run(&s);
                break;
            case 2:
                op_cancel(&s);
                break;
            case 3:
                op_result(&s, t->id);
                break;
            case 4:
                op_callback(&s);
                break;
            case 5:
            case 6:
                op_as_completed(&s, t->id);
                break;
            default:
                op_wait(&s, t->id);
                break;
            }
            atomic_fetch_add_explicit(&stats_ops, 1, memory_order_relaxed);
            maybe_yield(&s);
        }
        if (t->id == 0)
            complete_leftovers(&s);
        barrier_wait(); /* every waiter of this round has returned */
        if (t->id == 0) {
            check_round();
            end_round();
            if (weft__now_ns() >= end)
                atomic_store_explicit(&stop, true, memory_order_relaxed);
            else
                new_round();
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s threads seconds [--yield]\n", argv[0]);
        return 2;
    }
    nthreads = atoi(argv[1]);
    double seconds = atof(argv[2]);
    yield_mode = argc > 3 && strcmp(argv[3], "--yield") == 0;
    if (nthreads < 1 || nthreads > 256 || !(seconds > 0)) {
        fprintf(stderr, "stress_future: bad arguments\n");
        return 2;
    }
    /* The watchdog: a waiter that never returns ends the run with SIGALRM. */
    alarm((unsigned)seconds + 120);
    cbs_cap = (size_t)nthreads * OPS;
    cbs = calloc(cbs_cap, sizeof *cbs);
    targ *ts = calloc((size_t)nthreads, sizeof *ts);
    pthread_t *th = calloc((size_t)nthreads, sizeof *th);
    if (cbs == NULL || ts == NULL || th == NULL || pthread_barrier_init(&barrier, NULL, (unsigned)nthreads)) {
        fprintf(stderr, "stress_future: out of memory\n");
        return 2;
    }
    new_round();
    uint64_t seed = weft__now_ns() | 1;
    for (int i = 0; i < nthreads; i++) {
        ts[i] = (targ){i, (seed + 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1)) | 1, seconds};
        if (pthread_create(&th[i], NULL, worker, &ts[i]) != 0) {
            fprintf(stderr, "stress_future: pthread_create failed\n");
            return 2;
        }
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    free(cbs);
    free(ts);
    free(th);
    long v = atomic_load(&violations);
    printf("stress_future: %d threads, %.1f s%s: %ld ops, %ld as_completed yields, %ld result waits, "
           "%ld violations\n",
           nthreads, seconds, yield_mode ? ", yield" : "", atomic_load(&stats_ops),
           atomic_load(&stats_yields_ac), atomic_load(&stats_waits), v);
    return v == 0 ? 0 : 1;
}
