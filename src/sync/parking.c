/* sync/parking.c: a counted parking lot (announce, re-check, sleep on a
 * token count), the parking primitive of weft_queue.
 *
 * Design note. One 64-bit word holds two counts: waiters W (threads
 * announced and not yet signalled, low half) and tokens T (signals sent and
 * not yet taken, high half; the futex word).
 *   prepare:  W += 1, then a seq_cst fence.
 *   notify:   seq_cst fence, load; if W > 0, one CAS moves k = min(W, n)
 *             from W to T, then futex_wake(T, k).
 *   wait:     take a token (CAS T -= 1) if there is one, else futex_wait on
 *             T == 0 and retry. On timeout, withdraw (below); if the
 *             withdrawal took a token the thread had been signalled: report a
 *             wake-up, so the caller re-attempts.
 *   cancel:   withdraw, without the sleep.
 *   withdraw: one CAS loop on the word: W -= 1 if W > 0, else T -= 1.
 *
 * Invariant I: W + T == N, where N counts the threads between prepare and
 * the return of their cancel/wait. Proof: every transition is one RMW on the
 * one word and keeps I: prepare adds 1 to W and to N; notify moves k from W
 * to T; a token taken in wait (T -= 1) and a withdrawal (W -= 1 or T -= 1)
 * each remove 1 along with the thread leaving N. So a withdrawing thread,
 * which is itself counted in N >= 1, always finds W > 0 or T > 0: withdraw
 * never waits, its loop only retries a CAS that failed because another
 * thread's RMW succeeded (lock-free), and a timeout is honoured. W and T
 * never exceed N (< 2^32 threads), so neither half overflows into the other.
 *   Units are anonymous: the token a thread takes may be "another's". That
 * is harmless because I is about counts only, and withdraw prefers W: a
 * thread that no longer needs a signal (cancel after a successful re-check,
 * or a timeout) gives back an announcement while one is left, so no token,
 * and with it no wake-up meant for a sleeper, is consumed by a thread that
 * then does not re-attempt. It takes a token only when W == 0, when by I
 * every thread in the lot holds a token's worth and none can be left asleep.
 *   The earlier two-word version (issue 10, item 1) kept W and T in separate
 * words and withdrew by reading W once and, on 0, spinning on T alone: with
 * getters G1, G2 and putter P, G1 announces; P notifies (W 0, T 1); G1's
 * re-check takes the item and its withdrawal reads W == 0; G2 announces,
 * takes the token, fails, announces again and sleeps (W 1, T 0). G1 then
 * spun on T == 0 while its unit sat in W, until some later put, its timeout
 * unheeded. Moving a signal between two words also needed two RMWs, with a
 * window where the unit was in neither. tests/sync/test_parking.c replays
 * that interleaving; tests/model/parking.pml checks both versions.
 *   No sleeper is left asleep while a token waits: futex_wait sleeps only
 * while T == 0 (the kernel compares under its bucket lock), and every rise of
 * T by k is followed by a wake of k sleepers, each of which retries the take.
 * Signals are not addressed: all threads of one lot wait for the same kind of
 * event, so any announced thread may take any token.
 *   No lost wake-up: the waiter does [RMW W ; fence ; re-check], the notifier
 * [change ; fence ; load W]; the two seq_cst fences are ordered in S and the
 * later one makes its thread's load see the other's write (no store
 * buffering; a seq_cst RMW alone would not do, because the re-checks are
 * acquire or relaxed loads: see sync/eventcount.c): either the re-check
 * succeeds, or the notifier sees the announcement and posts a token.
 */
#include "sync/parking.h"

#include <errno.h>
#include <stdint.h>

#include "internal/atomics.h"

/* A test seam: tests/sync/test_parking.c compiles this file with the macro
 * defined, to run another thread inside withdraw's window deterministically.
 * Empty in the library. */
#ifndef WEFT__LOT_RACE_WINDOW
#define WEFT__LOT_RACE_WINDOW(lot) ((void)(lot))
#endif

#define LOT_WAITER 1ull
#define LOT_TOKEN  (1ull << 32)

static uint32_t waiters_of(uint64_t s)
{
    return (uint32_t)s;
}

static uint32_t tokens_of(uint64_t s)
{
    return (uint32_t)(s >> 32);
}

void weft__lot_init(weft__lot *lot)
{
    atomic_init(&lot->state, 0);
}

uint32_t weft__lot_waiters(const weft__lot *lot)
{
    return waiters_of(atomic_load_explicit(&((weft__lot *)lot)->state, memory_order_relaxed));
}

uint32_t weft__lot_tokens(const weft__lot *lot)
{
    return tokens_of(atomic_load_explicit(&((weft__lot *)lot)->state, memory_order_relaxed));
}

void weft__lot_prepare(weft__lot *lot)
{
    atomic_fetch_add_explicit(&lot->state, LOT_WAITER, memory_order_relaxed);
    /* seq_cst fence: the waiter half of the store-buffering pair: orders the
     * announcement above before the caller's re-check; pairs with the fence
     * in weft__lot_notify. */
    weft__fence_seq_cst();
}

static bool try_take_token(weft__lot *lot)
{
    uint64_t s = atomic_load_explicit(&lot->state, memory_order_relaxed);
    while (tokens_of(s) > 0) {
        /* acquire: pairs with the release CAS in weft__lot_notify, so the
         * notifier's change is visible to the woken thread. */
        if (atomic_compare_exchange_weak_explicit(&lot->state, &s, s - LOT_TOKEN, memory_order_acquire,
                                                  memory_order_relaxed))
            return true;
    }
    return false;
}

/* Withdraw an announcement: leave through whichever count holds a unit,
 * W first (design note). Returns true if it took a token, i.e. the thread
 * had been counted off by a notifier. */
static bool withdraw(weft__lot *lot)
{
    uint64_t s = atomic_load_explicit(&lot->state, memory_order_relaxed);
    for (;;) {
        WEFT__LOT_RACE_WINDOW(lot);
        bool signalled = waiters_of(s) == 0;
        if (signalled && tokens_of(s) == 0)
            weft__die("weft__lot withdraw (waiters + tokens == 0 with a thread in the lot)", EPROTO);
        /* acquire: when it takes a token, pairs with the release CAS in
         * weft__lot_notify like try_take_token's. */
        if (atomic_compare_exchange_weak_explicit(&lot->state, &s, s - (signalled ? LOT_TOKEN : LOT_WAITER),
                                                  memory_order_acquire, memory_order_relaxed))
            return signalled;
    }
}

void weft__lot_cancel(weft__lot *lot)
{
    withdraw(lot);
}

int weft__lot_wait_on(weft__lot *lot, const weft__deadline *d, const weft__diag_wait *wait)
{
    for (;;) {
        if (try_take_token(lot))
            return 0;
        weft__diag_wait_begin(wait); /* the dump's record: only on the way to a sleep */
        if (weft__futex_wait(weft__futex_high_half(&lot->state), 0, d) == ETIMEDOUT)
            return withdraw(lot) ? 0 : ETIMEDOUT;
    }
}

void weft__lot_notify(weft__lot *lot, uint32_t n)
{
    /* seq_cst fence: the notifier half of the store-buffering pair: orders
     * the caller's change before reading W; pairs with the fence in
     * weft__lot_prepare. */
    weft__fence_seq_cst();
    uint64_t s = atomic_load_explicit(&lot->state, memory_order_relaxed);
    uint32_t k;
    do {
        uint32_t w = waiters_of(s);
        k = w < n ? w : n;
        if (k == 0)
            return;
        /* release: publishes the caller's change to the thread that takes the
         * token (acquire CAS in try_take_token or withdraw). */
    } while (!atomic_compare_exchange_weak_explicit(&lot->state, &s, s - k * LOT_WAITER + k * LOT_TOKEN,
                                                    memory_order_release, memory_order_relaxed));
    weft__futex_wake(weft__futex_high_half(&lot->state), k > INT32_MAX ? INT32_MAX : (int)k);
}
