/* sync/parking.c: a counted parking lot (announce, re-check, sleep on a
 * token count), the parking primitive of weft_queue.
 *
 * Design note. Two counters: waiters (threads announced and not yet
 * signalled) and tokens (signals sent and not yet taken; the futex word).
 *   prepare:  waiters += 1, then a seq_cst fence.
 *   notify:   seq_cst fence; while waiters > 0, CAS waiters -= 1 and then
 *             tokens += 1 and futex_wake(tokens, 1): one signal per
 *             announced thread, at most n of them.
 *   wait:     take a token (CAS tokens -= 1) if there is one, else futex_wait
 *             on tokens == 0 and retry. On timeout, withdraw: CAS waiters -= 1
 *             if waiters > 0; if waiters is 0 a notifier has already counted
 *             us off and its token is on the way: take it and report a wake-up.
 *   cancel:   the same withdrawal, without the sleep.
 * Invariant: waiters + tokens == threads between prepare and the return of
 * their cancel/wait, except inside notify between its two steps (when it is
 * one less, and the token then arrives). Hence a thread that finds waiters
 * at 0 when it withdraws always finds a token (or its arrival) to take:
 * the spin in take_token_soon is bounded by a notifier's two instructions.
 * Signals are not addressed: any announced thread may take any token. All
 * threads of one lot wait for the same kind of event, so that is harmless.
 * No lost wake-up: the waiter does [RMW waiters ; fence ; re-check], the
 * notifier [change ; fence ; load waiters]; the two seq_cst fences are ordered
 * in S and the later one makes its thread's load see the other's write (no
 * store buffering; a seq_cst RMW alone would not do, because the re-checks
 * are acquire or relaxed loads: see sync/eventcount.c): either the re-check
 * succeeds, or the
 * notifier sees the announcement and posts a token, and futex_wait never
 * sleeps while a token is posted (the kernel compares the word under its
 * bucket lock, so a post before the sleep makes the sleep return at once and
 * a post after it finds the sleeper).
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

void weft__lot_init(weft__lot *lot)
{
    atomic_init(&lot->waiters, 0);
    atomic_init(&lot->tokens, 0);
}

void weft__lot_prepare(weft__lot *lot)
{
    atomic_fetch_add_explicit(&lot->waiters, 1, memory_order_relaxed);
    /* seq_cst fence: the waiter half of the store-buffering pair: orders the
     * announcement above before the caller's re-check; pairs with the fence
     * in weft__lot_notify. */
    atomic_thread_fence(memory_order_seq_cst);
}

static bool try_take_token(weft__lot *lot)
{
    uint32_t t = atomic_load_explicit(&lot->tokens, memory_order_relaxed);
    while (t > 0) {
        /* acquire: pairs with the release increment in weft__lot_notify, so
         * the notifier's change is visible to the woken thread. */
        if (atomic_compare_exchange_weak_explicit(&lot->tokens, &t, t - 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return true;
    }
    return false;
}

/* Withdraw an announcement. Returns true if we were already counted off by a
 * notifier (and then took a token on our own behalf). */
static bool withdraw(weft__lot *lot)
{
    uint32_t w = atomic_load_explicit(&lot->waiters, memory_order_relaxed);
    while (w > 0) {
        if (atomic_compare_exchange_weak_explicit(&lot->waiters, &w, w - 1, memory_order_relaxed,
                                                  memory_order_relaxed))
            return false;
    }
    WEFT__LOT_RACE_WINDOW(lot);
    while (!try_take_token(lot))
        weft__cpu_relax();
    return true;
}

void weft__lot_cancel(weft__lot *lot)
{
    withdraw(lot);
}

int weft__lot_wait(weft__lot *lot, const weft__deadline *d)
{
    for (;;) {
        if (try_take_token(lot))
            return 0;
        if (weft__futex_wait(&lot->tokens, 0, d) == ETIMEDOUT)
            return withdraw(lot) ? 0 : ETIMEDOUT;
    }
}

void weft__lot_notify(weft__lot *lot, uint32_t n)
{
    /* seq_cst fence: the notifier half of the store-buffering pair: orders
     * the caller's change before reading waiters; pairs with the seq_cst
     * increment in weft__lot_prepare. */
    atomic_thread_fence(memory_order_seq_cst);
    uint32_t w = atomic_load_explicit(&lot->waiters, memory_order_relaxed);
    if (w == 0)
        return;
    uint32_t k;
    do {
        k = w < n ? w : n;
        if (k == 0)
            return;
    } while (!atomic_compare_exchange_weak_explicit(&lot->waiters, &w, w - k, memory_order_relaxed,
                                                    memory_order_relaxed));
    /* release: publishes the caller's change to the thread that takes the
     * token (acquire CAS in try_take_token). */
    atomic_fetch_add_explicit(&lot->tokens, k, memory_order_release);
    weft__futex_wake(&lot->tokens, k > INT32_MAX ? INT32_MAX : (int)k);
}
