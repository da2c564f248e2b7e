/* tests/fuzz/fuzz_api.c: a libFuzzer target that reads its input as a
 * program of weft API calls (docs/RELIABILITY.md, "fuzzing").
 *
 * Build and run: bash tests/fuzz/build.sh build-fuzz &&
 *   build-fuzz/fuzz_api -max_total_time=60 build-fuzz/corpus tests/fuzz/corpus
 *
 * Input: a header byte, then one op per 3 bytes (opcode, two arguments).
 * Arguments become timeouts (0, negative, NaN, tiny, huge), sizes (0, small,
 * SIZE_MAX) and items. The program runs in two parts:
 *   1. sequential, on one thread, each op checked against a model: a queue
 *      (kind, maxsize and backend from the header) against a model deque or
 *      sorted array; Lock, RLock, Semaphore (plain or bounded), Event against
 *      their state; a bare Future against its state machine; and a pool
 *      (submit, results, cancel, map, parallel_for, shutdown in any state)
 *      whose every accepted task runs exactly once;
 *   2. concurrent: three threads replay the whole program on one shared
 *      queue, lock, semaphore, event and pool, each call's code checked
 *      against the set the contract allows (no model: the interleaving
 *      decides).
 * Blocking waits get a huge timeout only when the model says they cannot
 * block; otherwise the timeout is 0, negative, NaN or tiny, so the run never
 * sleeps for long. A violation aborts (libFuzzer saves the input).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "fuzz_api: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

#define IN(rc, ...) in_set((rc), (const int[]){__VA_ARGS__, -1})

static bool in_set(int rc, const int *set)
{
    for (; *set != -1; set++)
        if (rc == *set)
            return true;
    return false;
}

/* A non-blocking-in-practice timeout: 0, negative, tiny, or NaN. */
static double short_timeout(uint8_t a)
{
    switch (a % 5) {
    case 0: return 0;
    case 1: return -1.0 - a;
    case 2: return 1e-4;
    case 3: return NAN;
    default: return -INFINITY;
    }
}

static bool is_nan(double t)
{
    return t != t;
}

/* ---- tasks ----------------------------------------------------------------- */

#define MAX_SUB 64

typedef struct sub {
    atomic_int ran;
    int code;
} sub;

static int task(void *arg, void **result)
{
    sub *s = arg;
    atomic_fetch_add(&s->ran, 1);
    *result = s;
    return s->code;
}

static void body(void *ctx, size_t lo, size_t hi)
{
    atomic_size_t *n = ctx;
    atomic_fetch_add(n, hi - lo);
}

/* ---- part 1: sequential, against models ------------------------------------ */

#define QCAP 256

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return (x > y) - (x < y);
}

typedef struct model_q {
    uintptr_t items[QCAP];
    size_t n;
    weft_queue_kind kind;
    size_t maxsize;
    bool shut;
    size_t unfinished;
} model_q;

static void mq_put(model_q *m, uintptr_t v)
{
    m->items[m->n++] = v;
}

static uintptr_t mq_get(model_q *m)
{
    size_t at = 0;
    if (m->kind == WEFT_QUEUE_LIFO) {
        at = m->n - 1;
    } else if (m->kind == WEFT_QUEUE_PRIORITY) {
        for (size_t i = 1; i < m->n; i++)
            if (m->items[i] < m->items[at])
                at = i;
    }
    uintptr_t v = m->items[at];
    memmove(&m->items[at], &m->items[at + 1], (m->n - at - 1) * sizeof v);
    m->n--;
    return v;
}

static void sequential(const uint8_t *data, size_t size)
{
    uint8_t h = data[0];
    weft_queue_options qo = WEFT_QUEUE_OPTIONS_INIT;
    qo.kind = (weft_queue_kind)(h % 3);
    qo.cmp = qo.kind == WEFT_QUEUE_PRIORITY ? cmp_ptr : NULL;
    qo.maxsize = (h >> 2) % 5 == 0 ? 0 : (h >> 2) % 5 * 3;
    qo.backend = (h >> 5) & 1 ? WEFT_QUEUE_MUTEX : WEFT_QUEUE_LOCKFREE;
    weft_queue *q;
    CHECK(weft_queue_create(&q, &qo) == 0);
    model_q mq = {.kind = qo.kind, .maxsize = qo.maxsize};

    weft_lock lock = WEFT_LOCK_INIT;
    bool locked = false;
    weft_rlock rl;
    weft_rlock_init(&rl);
    size_t rdepth = 0;
    weft_sem sem;
    bool bounded = (h >> 6) & 1;
    size_t sem_init = (h >> 7) + 1, sem_v = sem_init;
    CHECK((bounded ? weft_sem_init_bounded(&sem, sem_init) : weft_sem_init(&sem, sem_init)) == 0);
    weft_event ev = WEFT_EVENT_INIT;
    bool ev_set = false;

    weft_future *bare = NULL;
    int bare_state = 0; /* 0 none, 1 pending, 2 running, 3 done, 4 cancelled */

    weft_pool *pool = NULL;
    bool pool_shut = false;
    static sub subs[MAX_SUB];
    bool accepted[MAX_SUB] = {0};
    weft_future *futs[MAX_SUB] = {0};
    size_t nsub = 0;

    for (size_t i = 1; i + 2 < size; i += 3) {
        uint8_t op = data[i], a = data[i + 1], b = data[i + 2];
        int rc;
        switch (op % 24) {
        case 0: { /* queue put */
            if (mq.n >= QCAP)
                break;
            double t = short_timeout(b);
            bool full = mq.maxsize != 0 && mq.n >= mq.maxsize;
            if (!full && !mq.shut && a & 1)
                t = 1e9; /* cannot block: room */
            rc = weft_queue_put(q, (void *)(uintptr_t)(a + 1), t);
            if (is_nan(t))
                CHECK(rc == EINVAL);
            else if (mq.shut)
                CHECK(rc == ESHUTDOWN);
            else if (full)
                CHECK(IN(rc, EAGAIN, ETIMEDOUT));
            else
                CHECK(rc == 0);
            if (rc == 0) {
                mq_put(&mq, (uintptr_t)a + 1);
                mq.unfinished++;
            }
            break;
        }
        case 1: { /* queue get */
            double t = short_timeout(b);
            if (mq.n > 0 && a & 1)
                t = 1e9;
            void *item = NULL;
            rc = weft_queue_get(q, &item, t);
            if (is_nan(t)) {
                CHECK(rc == EINVAL);
            } else if (mq.n > 0) {
                CHECK(rc == 0);
                CHECK((uintptr_t)item == mq_get(&mq));
            } else {
                CHECK(mq.shut ? rc == ESHUTDOWN : IN(rc, EAGAIN, ETIMEDOUT));
            }
            break;
        }
        case 2:
            CHECK(weft_queue_qsize(q) == mq.n);
            CHECK(weft_queue_empty(q) == (mq.n == 0));
            CHECK(weft_queue_full(q) == (mq.maxsize != 0 && mq.n >= mq.maxsize));
            break;
        case 3:
            rc = weft_queue_task_done(q);
            CHECK(rc == (mq.unfinished > 0 ? 0 : EINVAL));
            if (rc == 0)
                mq.unfinished--;
            break;
        case 4:
            if (a % 8 == 0) { /* rare: shutdown (immediate empties it) */
                weft_queue_shutdown(q, b & 1);
                mq.shut = true;
                if (b & 1) { /* Python 3.13: each discarded item is a task done */
                    mq.unfinished -= mq.n < mq.unfinished ? mq.n : mq.unfinished;
                    mq.n = 0;
                }
                CHECK(weft_queue_is_shutdown(q));
            }
            break;
        case 5: /* lock acquire */
            rc = weft_lock_acquire(&lock, short_timeout(a));
            if (is_nan(short_timeout(a)))
                CHECK(rc == EINVAL);
            else if (locked)
                CHECK(IN(rc, EAGAIN, ETIMEDOUT));
            else
                CHECK(rc == 0);
            locked = locked || rc == 0;
            break;
        case 6:
            rc = weft_lock_release(&lock);
            CHECK(rc == (locked ? 0 : EPERM));
            locked = false;
            CHECK(weft_lock_locked(&lock) == false);
            break;
        case 7:
            rc = weft_rlock_acquire(&rl, a & 1 ? WEFT_FOREVER : short_timeout(a));
            if (!(a & 1) && is_nan(short_timeout(a)))
                CHECK(rc == EINVAL);
            else
                CHECK(rc == 0);
            rdepth += rc == 0;
            break;
        case 8:
            rc = weft_rlock_release(&rl);
            CHECK(rc == (rdepth > 0 ? 0 : EPERM));
            rdepth -= rdepth > 0;
            CHECK(weft_rlock_is_owned(&rl) == (rdepth > 0));
            break;
        case 9: {
            double t = sem_v > 0 && (a & 1) ? 1e9 : short_timeout(a);
            rc = weft_sem_acquire(&sem, t);
            if (is_nan(t))
                CHECK(rc == EINVAL);
            else if (sem_v > 0)
                CHECK(rc == 0);
            else
                CHECK(IN(rc, EAGAIN, ETIMEDOUT));
            sem_v -= rc == 0;
            break;
        }
        case 10: {
            size_t n = b % 4;
            rc = weft_sem_release(&sem, n);
            if (n == 0)
                CHECK(IN(rc, 0, EINVAL));
            else if (bounded && sem_v + n > sem_init)
                CHECK(rc == EOVERFLOW);
            else
                CHECK(rc == 0);
            if (rc == 0)
                sem_v += n;
            CHECK(weft_sem_value(&sem) == sem_v);
            break;
        }
        case 11:
            if (a & 1) {
                weft_event_set(&ev);
                ev_set = true;
            } else {
                weft_event_clear(&ev);
                ev_set = false;
            }
            CHECK(weft_event_is_set(&ev) == ev_set);
            rc = weft_event_wait(&ev, ev_set ? 1e9 : short_timeout(b));
            if (!ev_set && is_nan(short_timeout(b)))
                CHECK(rc == EINVAL);
            else
                CHECK(rc == (ev_set ? 0 : ETIMEDOUT));
            break;
        case 12: /* bare future */
            if (bare == NULL) {
                CHECK(weft_future_create(&bare) == 0);
                bare_state = 1;
            } else {
                switch (a % 5) {
                case 0: /* only where Python allows it: pending or cancelled */
                    if (bare_state == 1 || bare_state == 4) {
                        bool ok = weft_future_set_running_or_notify_cancel(bare);
                        CHECK(ok == (bare_state == 1));
                        if (ok)
                            bare_state = 2;
                    }
                    break;
                case 1:
                    rc = weft_future_set_result(bare, (void *)1);
                    CHECK(rc == (bare_state <= 2 ? 0 : EBUSY));
                    if (rc == 0)
                        bare_state = 3;
                    break;
                case 2:
                    rc = weft_future_set_exception(bare, b);
                    if (b == 0)
                        CHECK(IN(rc, EINVAL, EBUSY));
                    else
                        CHECK(rc == (bare_state <= 2 ? 0 : EBUSY));
                    if (rc == 0)
                        bare_state = 3;
                    break;
                case 3: {
                    bool c = weft_future_cancel(bare);
                    if (bare_state == 1)
                        bare_state = 4;
                    CHECK(c == (bare_state == 4));
                    break;
                }
                default:
                    rc = weft_future_result(bare, bare_state >= 3 ? 1e9 : short_timeout(b), NULL);
                    if (bare_state == 3)
                        CHECK(IN(rc, 0) || rc > 0);
                    else if (bare_state == 4)
                        CHECK(rc == ECANCELED);
                    else
                        CHECK(IN(rc, ETIMEDOUT, EINVAL));
                    weft_future_release(bare);
                    bare = NULL;
                }
            }
            break;
        case 13: /* pool create */
            if (pool == NULL) {
                weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
                o.max_workers = 1 + a % 3;
                o.scheduler = b & 1 ? WEFT_SCHED_MUTEX : WEFT_SCHED_STEALING;
                CHECK(weft_pool_create(&pool, &o) == 0);
                pool_shut = false;
            }
            break;
        case 14:
        case 15: /* submit */
            if (pool != NULL && nsub < MAX_SUB) {
                sub *s = &subs[nsub];
                atomic_store(&s->ran, 0);
                /* Failing codes only with a future (else the default
                 * on_task_error prints). */
                s->code = (a & 1) && b % 8 == 0 ? (int)(b % 5) + 1 : 0;
                rc = weft_pool_submit(pool, task, s, a & 1 ? &futs[nsub] : NULL);
                CHECK(rc == (pool_shut ? ESHUTDOWN : 0));
                accepted[nsub] = rc == 0;
                if (rc != 0)
                    futs[nsub] = NULL;
                nsub++;
            }
            break;
        case 16: /* a result, or a cancel */
            if (nsub > 0) {
                size_t k = a % nsub;
                if (futs[k] != NULL) {
                    if (b & 1) {
                        bool c = weft_future_cancel(futs[k]);
                        CHECK(c == weft_future_cancelled(futs[k]));
                    } else {
                        void *r = NULL;
                        rc = weft_future_result(futs[k], WEFT_FOREVER, &r);
                        if (weft_future_cancelled(futs[k]))
                            CHECK(rc == ECANCELED);
                        else
                            CHECK(rc == subs[k].code && (rc != 0 || r == &subs[k]));
                    }
                }
            }
            break;
        case 17: /* shutdown, any state, any flags */
            if (pool != NULL) {
                CHECK(weft_pool_shutdown(pool, a & 1, b & 1) == 0);
                pool_shut = true;
            }
            break;
        case 18: { /* parallel_for with odd bounds */
            if (pool == NULL)
                break;
            size_t begin = a, end = a % 3 == 0 ? (size_t)a / 2 : (size_t)a + b;
            size_t grain = b % 4 == 0 ? 0 : b % 4 == 1 ? SIZE_MAX : b;
            atomic_size_t n = 0;
            rc = weft_parallel_for(pool, begin, end, grain, body, &n);
            if (begin > end)
                CHECK(rc == EINVAL);
            else if (pool_shut)
                CHECK(IN(rc, ESHUTDOWN, 0));
            else
                CHECK(rc == 0 && atomic_load(&n) == end - begin);
            break;
        }
        case 19: { /* map with zero, small and huge chunk sizes */
            if (pool == NULL)
                break;
            static sub ms[8];
            void *args[8], *res[8];
            size_t n = a % 9;
            for (size_t k = 0; k < n; k++) {
                atomic_store(&ms[k].ran, 0);
                ms[k].code = 0;
                args[k] = &ms[k];
            }
            size_t chunk = b % 3 == 0 ? 0 : b % 3 == 1 ? SIZE_MAX : b;
            rc = weft_pool_map(pool, task, args, n, res, chunk, b & 4 ? WEFT_FOREVER : NAN);
            if (!(b & 4))
                CHECK(IN(rc, EINVAL) || (n == 0 && rc == 0));
            else if (pool_shut && n > 0)
                CHECK(rc == ESHUTDOWN);
            else if (rc == 0)
                for (size_t k = 0; k < n; k++)
                    CHECK(res[k] == &ms[k] && atomic_load(&ms[k].ran) == 1);
            else
                CHECK(IN(rc, EINVAL, ESHUTDOWN));
            break;
        }
        case 20: /* bad arguments */
            CHECK(weft_pool_submit(NULL, task, NULL, NULL) == EINVAL);
            CHECK(weft_queue_put(NULL, NULL, 0) == EINVAL);
            CHECK(weft_future_result(NULL, 0, NULL) == EINVAL);
            CHECK(weft_pool_shutdown(NULL, a & 1, b & 1) == EINVAL);
            if (pool != NULL) {
                CHECK(weft_pool_submit(pool, NULL, NULL, NULL) == EINVAL);
                CHECK(weft_parallel_for(pool, 0, 1, 1, NULL, NULL) == EINVAL);
            }
            break;
        default:
            break;
        }
    }
    if (pool != NULL) {
        weft_pool_destroy(pool);
        for (size_t k = 0; k < nsub; k++) {
            int ran = atomic_load(&subs[k].ran);
            if (!accepted[k])
                CHECK(ran == 0);
            else if (futs[k] != NULL && weft_future_cancelled(futs[k]))
                CHECK(ran == 0);
            else if (futs[k] != NULL)
                CHECK(ran == 1);
            else
                CHECK(ran <= 1); /* fire and forget: dropped by cancel_futures, or ran once */
            weft_future_release(futs[k]);
        }
    }
    if (bare != NULL)
        weft_future_release(bare);
    while (rdepth-- > 0)
        CHECK(weft_rlock_release(&rl) == 0);
    weft_queue_shutdown(q, true);
    weft_queue_destroy(q);
}

/* ---- part 2: concurrent, codes only ---------------------------------------- */

typedef struct shared {
    const uint8_t *data;
    size_t size;
    weft_queue *q;
    weft_lock lock;
    weft_sem sem;
    weft_event ev;
    weft_pool *pool;
} shared;

static int sink(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return 0;
}

static void *replay(void *p)
{
    shared *s = p;
    for (size_t i = 1; i + 2 < s->size; i += 3) {
        uint8_t op = s->data[i], a = s->data[i + 1], b = s->data[i + 2];
        int rc;
        void *item;
        switch (op % 8) {
        case 0:
            rc = weft_queue_put(s->q, (void *)(uintptr_t)(a + 1), short_timeout(b));
            CHECK(IN(rc, 0, EAGAIN, ETIMEDOUT, EINVAL));
            break;
        case 1:
            rc = weft_queue_get(s->q, &item, short_timeout(b));
            CHECK(IN(rc, 0, EAGAIN, ETIMEDOUT, EINVAL));
            break;
        case 2:
            rc = weft_lock_acquire(&s->lock, short_timeout(a));
            CHECK(IN(rc, 0, EAGAIN, ETIMEDOUT, EINVAL));
            if (rc == 0)
                CHECK(weft_lock_release(&s->lock) == 0);
            break;
        case 3:
            rc = weft_sem_acquire(&s->sem, short_timeout(a));
            CHECK(IN(rc, 0, EAGAIN, ETIMEDOUT, EINVAL));
            if (rc == 0)
                CHECK(weft_sem_release(&s->sem, 1) == 0);
            break;
        case 4:
            if (a & 1)
                weft_event_set(&s->ev);
            else
                weft_event_clear(&s->ev);
            rc = weft_event_wait(&s->ev, short_timeout(b));
            CHECK(IN(rc, 0, ETIMEDOUT, EINVAL));
            break;
        case 5: {
            weft_future *f = NULL;
            rc = weft_pool_submit(s->pool, sink, NULL, a & 1 ? &f : NULL);
            CHECK(rc == 0);
            if (f != NULL) {
                if (b & 1)
                    (void)weft_future_cancel(f);
                rc = weft_future_result(f, WEFT_FOREVER, NULL);
                CHECK(IN(rc, 0, ECANCELED));
                weft_future_release(f);
            }
            break;
        }
        case 6: {
            atomic_size_t n = 0;
            CHECK(weft_parallel_for(s->pool, 0, a, b, body, &n) == 0 && atomic_load(&n) == a);
            break;
        }
        default:
            (void)weft_queue_qsize(s->q);
            break;
        }
    }
    return NULL;
}

static void concurrent(const uint8_t *data, size_t size)
{
    shared s = {.data = data, .size = size};
    weft_queue_options qo = WEFT_QUEUE_OPTIONS_INIT;
    qo.maxsize = data[0] % 4 == 0 ? 0 : data[0] % 4 * 2;
    CHECK(weft_queue_create(&s.q, &qo) == 0);
    weft_lock_init(&s.lock);
    CHECK(weft_sem_init(&s.sem, 1) == 0);
    weft_event_init(&s.ev);
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 2;
    o.scheduler = data[0] & 0x80 ? WEFT_SCHED_MUTEX : WEFT_SCHED_STEALING;
    CHECK(weft_pool_create(&s.pool, &o) == 0);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        CHECK(pthread_create(&t[i], NULL, replay, &s) == 0);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    weft_pool_destroy(s.pool);
    weft_queue_shutdown(s.q, true);
    weft_queue_destroy(s.q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || size > 3 * 200 + 1)
        return 0;
    sequential(data, size);
    concurrent(data, size);
    return 0;
}
