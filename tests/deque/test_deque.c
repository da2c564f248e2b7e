/* tests/deque/test_deque.c: the Chase-Lev deque (src/sched/deque.h), one
 * thread at a time: LIFO pop, FIFO steal, growth that loses nothing, empty
 * and error cases. Concurrency is the stress program's job
 * (tests/stress/deque/stress_deque.c).
 *
 * Growing retires buffers through urcu_qsbr_call_rcu, so every test runs as
 * a registered QSBR thread, and the fixture waits for the retired buffers to
 * be freed (urcu_qsbr_barrier) so that LeakSanitizer would flag a buffer that
 * is never reclaimed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <urcu/urcu-qsbr.h>

#include "sched/deque.h"

#define NITEMS 20000

/* Item k is &items[k]: distinct, non-NULL, never WEFT__DEQUE_RETRY. */
static char items[NITEMS];

static void *item(size_t k)
{
    return &items[k];
}

/* The number of an item, or SIZE_MAX for a pointer that is not one. */
static size_t index_of(void *p)
{
    char *c = p;
    if (c < items || c >= items + NITEMS)
        return SIZE_MAX;
    return (size_t)(c - items);
}

static void qsbr_enter(void)
{
    urcu_qsbr_register_thread();
}

static void qsbr_leave(void)
{
    urcu_qsbr_unregister_thread();
    urcu_qsbr_barrier();
}

TestSuite(deque, .init = qsbr_enter, .fini = qsbr_leave, .timeout = 60);

Test(deque, init_rejects_bad_capacities)
{
    weft__deque dq;
    const size_t bad[] = {0, 1, 3, 6, 12, 1000, SIZE_MAX, SIZE_MAX / 2};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(weft__deque_init(&dq, bad[i]), EINVAL, "capacity %zu", bad[i]);
}

Test(deque, init_accepts_powers_of_two)
{
    for (size_t capacity = 2; capacity <= 4096; capacity *= 2) {
        weft__deque dq;
        cr_assert_eq(weft__deque_init(&dq, capacity), 0, "capacity %zu", capacity);
        cr_assert_eq(weft__deque_size(&dq), 0);
        weft__deque_deinit(&dq);
    }
}

Test(deque, unallocatable_capacity_is_enomem)
{
    /* 2^62 slots of 8 bytes cannot even be sized in a size_t. */
    weft__deque dq;
    cr_assert_eq(weft__deque_init(&dq, (size_t)1 << 62), ENOMEM);
}

Test(deque, empty_returns_null)
{
    weft__deque dq;
    cr_assert_eq(weft__deque_init(&dq, 2), 0);
    cr_assert_null(weft__deque_pop(&dq));
    cr_assert_null(weft__deque_steal(&dq));
    cr_assert_null(weft__deque_pop(&dq), "a pop on an empty deque must leave it consistent");
    cr_assert_eq(weft__deque_size(&dq), 0);

    cr_assert_eq(weft__deque_push(&dq, item(1)), 0);
    cr_assert_eq(weft__deque_pop(&dq), item(1));
    cr_assert_null(weft__deque_pop(&dq));
    cr_assert_null(weft__deque_steal(&dq));

    cr_assert_eq(weft__deque_push(&dq, item(2)), 0);
    cr_assert_eq(weft__deque_steal(&dq), item(2));
    cr_assert_null(weft__deque_steal(&dq));
    cr_assert_null(weft__deque_pop(&dq));
    cr_assert_eq(weft__deque_size(&dq), 0);
    weft__deque_deinit(&dq);
}

#ifndef NDEBUG
/* Items are non-NULL and not WEFT__DEQUE_RETRY: a precondition of push that
 * its assert enforces in builds without NDEBUG (steal could not tell such an
 * item from "empty" or "lost a race"). */
Test(deque, push_asserts_null_is_not_an_item, .signal = SIGABRT)
{
    weft__deque dq;
    cr_assert_eq(weft__deque_init(&dq, 2), 0);
    (void)weft__deque_push(&dq, NULL);
}

Test(deque, push_asserts_retry_is_not_an_item, .signal = SIGABRT)
{
    weft__deque dq;
    cr_assert_eq(weft__deque_init(&dq, 2), 0);
    (void)weft__deque_push(&dq, WEFT__DEQUE_RETRY);
}
#endif

Test(deque, stale_top_bound_is_refreshed_before_growing)
{
    /* Steals move top behind the owner's back; push's bound on top is then
     * stale, and a push into a ring that is not really full must re-read top
     * instead of growing (the owner's mask stays that of capacity 4). */
    weft__deque dq;
    cr_assert_eq(weft__deque_init(&dq, 4), 0);
    for (size_t k = 0; k < 4; k++)
        cr_assert_eq(weft__deque_push(&dq, item(k)), 0);
    for (size_t k = 0; k < 4; k++)
        cr_assert_eq(weft__deque_steal(&dq), item(k));
    for (size_t k = 4; k < 8; k++)
        cr_assert_eq(weft__deque_push(&dq, item(k)), 0);
    cr_assert_eq(dq.mask, 3, "a push into a ring with room grew it");
    cr_assert_eq(weft__deque_size(&dq), 4);
    /* Now really full: the next push grows and keeps every item. */
    cr_assert_eq(weft__deque_push(&dq, item(8)), 0);
    cr_assert_eq(dq.mask, 7);
    for (size_t k = 9; k-- > 5;)
        cr_assert_eq(weft__deque_pop(&dq), item(k));
    cr_assert_eq(weft__deque_steal(&dq), item(4));
    cr_assert_null(weft__deque_pop(&dq));
    cr_assert_null(weft__deque_steal(&dq));
    weft__deque_deinit(&dq);
}

Test(deque, pop_is_lifo)
{
    weft__deque dq;
    cr_assert_eq(weft__deque_init(&dq, 8), 0);
    for (size_t k = 0; k < 100; k++)
        cr_assert_eq(weft__deque_push(&dq, item(k)), 0);
    for (size_t k = 100; k-- > 0;)
        cr_assert_eq(weft__deque_pop(&dq), item(k), "pop must return the newest item, %zu", k);
    cr_assert_null(weft__deque_pop(&dq));
    weft__deque_deinit(&dq);
}

Test(deque, steal_is_fifo)
{
    weft__deque dq;
    cr_assert_eq(weft__deque_init(&dq, 8), 0);
    for (size_t k = 0; k < 100; k++)
        cr_assert_eq(weft__deque_push(&dq, item(k)), 0);
    for (size_t k = 0; k < 100; k++) {
        void *got = weft__deque_steal(&dq);
        cr_assert_neq(got, WEFT__DEQUE_RETRY, "no race to lose on one thread");
        cr_assert_eq(got, item(k), "steal must return the oldest item, %zu", k);
    }
    cr_assert_null(weft__deque_steal(&dq));
    weft__deque_deinit(&dq);
}

Test(deque, both_ends_meet_in_the_middle)
{
    weft__deque dq;
    cr_assert_eq(weft__deque_init(&dq, 4), 0);
    for (size_t k = 0; k < 11; k++)
        cr_assert_eq(weft__deque_push(&dq, item(k)), 0);
    size_t lo = 0, hi = 11;
    while (lo < hi) {
        cr_assert_eq(weft__deque_steal(&dq), item(lo));
        lo++;
        if (lo == hi)
            break;
        hi--;
        cr_assert_eq(weft__deque_pop(&dq), item(hi));
        cr_assert_eq(weft__deque_size(&dq), hi - lo);
    }
    cr_assert_null(weft__deque_pop(&dq));
    cr_assert_null(weft__deque_steal(&dq));
    weft__deque_deinit(&dq);
}

Test(deque, size_tracks_pushes_and_takes)
{
    weft__deque dq;
    cr_assert_eq(weft__deque_init(&dq, 2), 0);
    for (size_t k = 0; k < 50; k++) {
        cr_assert_eq(weft__deque_push(&dq, item(k)), 0);
        cr_assert_eq(weft__deque_size(&dq), k + 1);
    }
    cr_assert_eq(weft__deque_steal(&dq), item(0));
    cr_assert_eq(weft__deque_pop(&dq), item(49));
    cr_assert_eq(weft__deque_size(&dq), 48);
    weft__deque_deinit(&dq);
}

/* Fills a deque of the given initial capacity with n items (growing it as
 * needed), then takes them back, stealing `stolen` from the top first and
 * popping the rest, and checks each end's order and that every item came
 * back exactly once. */
static void fill_and_drain(size_t capacity, size_t n, size_t stolen)
{
    static unsigned char seen[NITEMS];
    weft__deque dq;
    cr_assert_eq(weft__deque_init(&dq, capacity), 0);
    for (size_t k = 0; k < n; k++)
        cr_assert_eq(weft__deque_push(&dq, item(k)), 0, "capacity %zu, item %zu", capacity, k);
    cr_assert_eq(weft__deque_size(&dq), n);
    memset(seen, 0, n);
    for (size_t k = 0; k < stolen; k++) {
        void *got = weft__deque_steal(&dq);
        cr_assert_eq(got, item(k), "capacity %zu, n %zu: steal %zu", capacity, n, k);
        seen[k]++;
    }
    for (size_t k = n; k-- > stolen;) {
        void *got = weft__deque_pop(&dq);
        cr_assert_eq(got, item(k), "capacity %zu, n %zu: pop %zu", capacity, n, k);
        seen[index_of(got)]++;
    }
    cr_assert_null(weft__deque_pop(&dq));
    cr_assert_null(weft__deque_steal(&dq));
    for (size_t k = 0; k < n; k++)
        cr_assert_eq(seen[k], 1, "item %zu taken %u times", k, seen[k]);
    weft__deque_deinit(&dq);
}

Test(deque, growth_across_many_sizes_keeps_every_item)
{
    const size_t sizes[] = {1,   2,   3,    4,    5,    7,    8,    9,    15,   16,    17,
                            31,  32,  33,   63,   64,   65,   100,  127,  128,  129,   255,
                            256, 257, 1000, 1023, 1024, 1025, 4095, 4096, 4097, NITEMS};
    for (size_t capacity = 2; capacity <= 64; capacity *= 4)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            fill_and_drain(capacity, sizes[i], 0);
            fill_and_drain(capacity, sizes[i], sizes[i] / 3);
            fill_and_drain(capacity, sizes[i], sizes[i]);
        }
}

Test(deque, growth_with_advanced_top_copies_the_live_window)
{
    /* Steals move top so that the live window [top, bottom) straddles the
     * ring's wrap point when the buffer grows: the copy must follow indices,
     * not slot positions. */
    weft__deque dq;
    cr_assert_eq(weft__deque_init(&dq, 4), 0);
    size_t next = 0, oldest = 0;
    for (int round = 0; round < 200; round++) {
        for (int j = 0; j < 3; j++)
            cr_assert_eq(weft__deque_push(&dq, item(next++)), 0);
        for (int j = 0; j < 2; j++) {
            cr_assert_eq(weft__deque_steal(&dq), item(oldest), "round %d", round);
            oldest++;
        }
    }
    cr_assert_eq(weft__deque_size(&dq), next - oldest);
    for (size_t k = next; k-- > oldest;)
        cr_assert_eq(weft__deque_pop(&dq), item(k));
    cr_assert_null(weft__deque_pop(&dq));
    weft__deque_deinit(&dq);
}

Test(deque, ring_reuse_without_growth)
{
    /* Many more pushes than slots while never exceeding the capacity: the
     * indices wrap around the ring many times. */
    weft__deque dq;
    cr_assert_eq(weft__deque_init(&dq, 2), 0);
    for (size_t round = 0; round < 5000; round++) {
        size_t a = (2 * round) % NITEMS, b = (2 * round + 1) % NITEMS;
        cr_assert_eq(weft__deque_push(&dq, item(a)), 0);
        cr_assert_eq(weft__deque_push(&dq, item(b)), 0);
        cr_assert_eq(weft__deque_steal(&dq), item(a), "round %zu", round);
        cr_assert_eq(weft__deque_pop(&dq), item(b), "round %zu", round);
        cr_assert_eq(weft__deque_size(&dq), 0);
    }
    cr_assert_eq(dq.mask, 1, "the ring grew although it never held more than 2 items");
    weft__deque_deinit(&dq);
}
