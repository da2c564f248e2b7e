/* tests/queue/test_ring.c: weft_ring (public) and the exact-capacity ring the
 * queue uses internally (queue/ring.h). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "queue/ring.h"
#include "weft/queue.h"

#define ITEM(i) ((void *)(uintptr_t)(i))

Test(ring, create_rejects_bad_arguments)
{
    weft_ring *r = NULL;
    cr_expect_eq(weft_ring_create(NULL, 8), EINVAL);
    cr_expect_eq(weft_ring_create(&r, 0), EINVAL);
    cr_expect_eq(weft_ring_create(&r, ((size_t)1 << 31) + 1), EINVAL);
    cr_expect_null(r);
}

Test(ring, capacity_rounds_up_to_a_power_of_two)
{
    static const size_t asked[] = {1, 2, 3, 5, 8, 1000, 1024, 1025};
    static const size_t got[] = {1, 2, 4, 8, 8, 1024, 1024, 2048};
    for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
        weft_ring *r;
        cr_assert_eq(weft_ring_create(&r, asked[i]), 0);
        cr_expect_eq(weft_ring_capacity(r), got[i], "capacity(%zu)", asked[i]);
        weft_ring_destroy(r);
    }
    weft_ring_destroy(NULL);
}

Test(ring, fills_to_capacity_then_eagain_and_drains_in_fifo_order)
{
    weft_ring *r;
    cr_assert_eq(weft_ring_create(&r, 6), 0);
    cr_expect_eq(weft_ring_size(r), 0);
    void *out = ITEM(99);
    cr_expect_eq(weft_ring_try_pop(r, &out), EAGAIN);
    cr_expect_eq(out, ITEM(99), "a failed pop leaves *item alone");
    for (uintptr_t i = 0; i < 8; i++)
        cr_assert_eq(weft_ring_try_push(r, ITEM(i)), 0);
    cr_expect_eq(weft_ring_size(r), 8);
    cr_expect_eq(weft_ring_try_push(r, ITEM(8)), EAGAIN);
    for (uintptr_t i = 0; i < 8; i++) {
        cr_assert_eq(weft_ring_try_pop(r, &out), 0);
        cr_expect_eq(out, ITEM(i));
    }
    cr_expect_eq(weft_ring_try_pop(r, &out), EAGAIN);
    cr_expect_eq(weft_ring_size(r), 0);
    weft_ring_destroy(r);
}

Test(ring, null_items_and_null_out_parameter)
{
    weft_ring *r;
    cr_assert_eq(weft_ring_create(&r, 2), 0);
    cr_assert_eq(weft_ring_try_push(r, NULL), 0);
    cr_assert_eq(weft_ring_try_push(r, ITEM(7)), 0);
    void *out = ITEM(1);
    cr_expect_eq(weft_ring_try_pop(r, &out), 0);
    cr_expect_null(out);
    cr_expect_eq(weft_ring_try_pop(r, NULL), 0, "the item is discarded");
    cr_expect_eq(weft_ring_size(r), 0);
    weft_ring_destroy(r);
}

Test(ring, many_laps_keep_order)
{
    weft_ring *r;
    cr_assert_eq(weft_ring_create(&r, 4), 0);
    uintptr_t next_in = 0, next_out = 0;
    for (int round = 0; round < 10000; round++) {
        int n = 1 + round % 4;
        for (int k = 0; k < n; k++)
            cr_assert_eq(weft_ring_try_push(r, ITEM(next_in++)), 0);
        for (int k = 0; k < n; k++) {
            void *out;
            cr_assert_eq(weft_ring_try_pop(r, &out), 0);
            cr_assert_eq(out, ITEM(next_out++));
        }
    }
    weft_ring_destroy(r);
}

/* The queue's rings have exactly maxsize slots, with gaps in the positions. */
Test(ring, exact_capacity_ring_for_any_size)
{
    static const size_t caps[] = {1, 3, 5, 6, 7, 9, 100};
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        weft_ring *r = aligned_alloc(WEFT_CACHELINE, sizeof(*r));
        cr_assert_not_null(r);
        cr_assert_eq(weft__ring_init(r, caps[c]), 0);
        uintptr_t in = 0, out_n = 0;
        size_t remaining = 0;
        for (int round = 0; round < 50; round++) {
            size_t k = 0;
            while (weft__ring_push(r, ITEM(in)) == 0) {
                in++;
                k++;
            }
            cr_assert_eq(k, caps[c] - remaining, "cap %zu round %d pushed %zu", caps[c], round, k);
            cr_assert_eq(weft_ring_size(r), caps[c]);
            size_t keep = round % 2 == 0 ? 1 : 0;
            remaining = keep;
            while (weft_ring_size(r) > keep) {
                void *v;
                cr_assert_eq(weft__ring_pop(r, &v), 0);
                cr_assert_eq(v, ITEM(out_n++));
            }
            if (keep == 0)
                cr_assert_eq(weft__ring_pop(r, NULL), EAGAIN);
        }
        cr_expect_eq(weft__ring_count(r, atomic_load(&r->head)), in);
        weft__ring_deinit(r);
        free(r);
    }
    cr_expect_eq(weft__ring_init(&(weft_ring){0}, 0), EINVAL);
}

Test(ring, close_fails_later_pushes_and_reports_the_frozen_head)
{
    weft_ring *r = aligned_alloc(WEFT_CACHELINE, sizeof(*r));
    cr_assert_not_null(r);
    cr_assert_eq(weft__ring_init(r, 3), 0);
    for (uintptr_t i = 0; i < 5; i++) {
        if (i >= 3)
            cr_assert_eq(weft__ring_pop(r, NULL), 0);
        cr_assert_eq(weft__ring_push(r, ITEM(i)), 0);
    }
    uint64_t frozen = weft__ring_close(r);
    cr_expect_eq(weft__ring_count(r, frozen), 5);
    cr_expect_eq(weft__ring_push(r, ITEM(9)), ESHUTDOWN);
    cr_expect_eq(weft_ring_size(r), 3, "pops still drain a closed ring");
    for (uintptr_t i = 2; i < 5; i++) {
        void *v;
        cr_assert_eq(weft__ring_pop(r, &v), 0);
        cr_expect_eq(v, ITEM(i));
    }
    cr_expect_eq(weft__ring_pop(r, NULL), EAGAIN);
    weft__ring_deinit(r);
    free(r);
}

/* A short MPMC run: every item comes out exactly once. The stress program
 * (tests/stress/queue) does this at length and under TSan. */
#define MP_THREADS 3
#define MP_ITEMS 20000

struct mp_ctx {
    weft_ring *r;
    int id;
    _Atomic long *popped;
    unsigned char *seen; /* MP_THREADS * MP_ITEMS counters */
    _Atomic int dup;
};

static void *mp_producer(void *arg)
{
    struct mp_ctx *c = arg;
    for (uintptr_t i = 0; i < MP_ITEMS; i++) {
        void *item = ITEM((uintptr_t)c->id * MP_ITEMS + i + 1);
        while (weft_ring_try_push(c->r, item) == EAGAIN)
            sched_yield();
    }
    return NULL;
}

static void *mp_consumer(void *arg)
{
    struct mp_ctx *c = arg;
    while (atomic_load(c->popped) < MP_THREADS * MP_ITEMS) {
        void *v;
        if (weft_ring_try_pop(c->r, &v) != 0) {
            sched_yield();
            continue;
        }
        uintptr_t k = (uintptr_t)v - 1;
        if (__atomic_fetch_add(&c->seen[k], 1, __ATOMIC_RELAXED) != 0)
            atomic_store(&c->dup, 1);
        atomic_fetch_add(c->popped, 1);
    }
    return NULL;
}

Test(ring, mpmc_every_item_once)
{
    weft_ring *r;
    cr_assert_eq(weft_ring_create(&r, 8), 0);
    _Atomic long popped = 0;
    unsigned char *seen = calloc(MP_THREADS * MP_ITEMS, 1);
    cr_assert_not_null(seen);
    struct mp_ctx ctx[MP_THREADS];
    pthread_t prod[MP_THREADS], cons[MP_THREADS];
    for (int i = 0; i < MP_THREADS; i++) {
        ctx[i] = (struct mp_ctx){.r = r, .id = i, .popped = &popped, .seen = seen};
        cr_assert_eq(pthread_create(&prod[i], NULL, mp_producer, &ctx[i]), 0);
        cr_assert_eq(pthread_create(&cons[i], NULL, mp_consumer, &ctx[i]), 0);
    }
    for (int i = 0; i < MP_THREADS; i++) {
        pthread_join(prod[i], NULL);
        pthread_join(cons[i], NULL);
    }
    for (int i = 0; i < MP_THREADS; i++)
        cr_expect_eq(atomic_load(&ctx[i].dup), 0, "duplicate item");
    for (size_t k = 0; k < MP_THREADS * MP_ITEMS; k++)
        cr_assert_eq(seen[k], 1, "item %zu seen %d times", k, seen[k]);
    cr_expect_eq(weft_ring_size(r), 0);
    free(seen);
    weft_ring_destroy(r);
}
