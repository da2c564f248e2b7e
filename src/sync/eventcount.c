/* sync/eventcount.c: eventcount (Vyukov's design; folly::EventCount is the
 * well-known C++ instance). Lets lock-free structures block without locks.
 *
 * Design note. One 64-bit word: waiter count in the low half, epoch in the
 * high half. The high half doubles as a 32-bit futex word (its address is
 * computed for the machine's byte order).
 *   prepare: fetch_add(1) on the waiter count, then a seq_cst fence;
 *            returns the epoch.
 *   notify:  seq_cst fence, load; if the waiter count is non-zero, add
 *            1 << 32 (new epoch) and futex_wake(n).
 *   wait:    futex_wait on the epoch while it still equals the key, then
 *            subtract 1 from the waiter count.
 * Why no wake-up is lost: the waiter does [RMW waiters++ ; fence ; load C],
 * the notifier does [store C ; fence ; load waiters]. The two seq_cst fences
 * are ordered in S, and whichever comes second makes its thread's load see
 * the other thread's write (C11 7.17.3p11; store buffering is forbidden):
 * either the waiter sees C and cancels, or the notifier sees a waiter and
 * bumps the epoch, after which the waiter's futex_wait(key) returns at once
 * because the epoch no longer equals key. The waiter needs a fence of its own:
 * a seq_cst RMW followed by the caller's acquire or relaxed load of C gives no
 * such guarantee (p10 covers only a seq_cst load of C; on POWER, and on ARM
 * with a relaxed re-check, the load may be satisfied before the RMW's store
 * is visible), and callers re-check C with whatever order their structure
 * uses. The epoch wraps after 2^32 notifies: the add of 1 << 32 carries out
 * of the 64-bit word, never into the waiter count. A waiter would have to
 * miss exactly 2^32 notifies between prepare and its futex_wait to be fooled
 * (ABA), which takes minutes of syscalls while it is runnable, and costs one
 * late wake-up; we accept it as folly does (docs/DESIGN.md, "Counters that
 * wrap"; tests/sync/test_wrap.c, tests/model/eventcount.pml -DEPOCH_MOD=2).
 */
#include "sync/eventcount.h"

#include <errno.h>
#include <assert.h>
#include <stdint.h>

static_assert(sizeof(_Atomic uint64_t) == 8, "eventcount packs two 32-bit halves");

#define EC_WAITER      1ull
#define EC_EPOCH_SHIFT 32
#define EC_WAITER_MASK 0xffffffffull

static _Atomic uint32_t *epoch_word(weft__eventcount *ec)
{
    return weft__futex_high_half(&ec->state);
}

void weft__ec_init(weft__eventcount *ec)
{
    atomic_init(&ec->state, 0);
}

uint32_t weft__ec_prepare(weft__eventcount *ec)
{
    uint64_t prev = atomic_fetch_add_explicit(&ec->state, EC_WAITER, memory_order_relaxed);
    /* seq_cst fence: the waiter-side half of the store-buffering pair: orders
     * the announcement above before the caller's re-check of its condition;
     * pairs with the fence in weft__ec_notify. */
    weft__fence_seq_cst();
    return (uint32_t)(prev >> EC_EPOCH_SHIFT);
}

void weft__ec_cancel(weft__eventcount *ec)
{
    atomic_fetch_sub_explicit(&ec->state, EC_WAITER, memory_order_relaxed);
}

int weft__ec_wait(weft__eventcount *ec, uint32_t key, const weft__deadline *d)
{
    _Atomic uint32_t *epoch = epoch_word(ec);
    int rc = 0;
    /* acquire: pairs with the epoch bump (acq_rel RMW) in weft__ec_notify, so
     * what the notifier published before notifying is visible after we wake. */
    while (atomic_load_explicit(epoch, memory_order_acquire) == key) {
        if (weft__futex_wait(epoch, key, d) == ETIMEDOUT) {
            rc = ETIMEDOUT;
            break;
        }
    }
    atomic_fetch_sub_explicit(&ec->state, EC_WAITER, memory_order_relaxed);
    return rc;
}

bool weft__ec_notify(weft__eventcount *ec, int n)
{
    /* seq_cst fence: the notifier-side half of the store-buffering pair:
     * orders the caller's "make the condition true" before reading the waiter
     * count; pairs with the seq_cst fetch_add in weft__ec_prepare. */
    weft__fence_seq_cst();
    uint64_t s = atomic_load_explicit(&ec->state, memory_order_relaxed);
    if ((s & EC_WAITER_MASK) == 0)
        return false;
    /* acq_rel: release publishes the condition to the woken waiter's acquire
     * load of the epoch in weft__ec_wait. */
    atomic_fetch_add_explicit(&ec->state, 1ull << EC_EPOCH_SHIFT, memory_order_acq_rel);
    weft__futex_wake(epoch_word(ec), n);
    return true;
}

bool weft__ec_has_waiters(weft__eventcount *ec)
{
    return (atomic_load_explicit(&ec->state, memory_order_relaxed) & EC_WAITER_MASK) != 0;
}
