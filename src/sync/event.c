/* sync/event.c: weft_event, Python's threading.Event.
 *
 * Design note. One futex word: bit 0 the flag, bit 1 "somebody may sleep",
 * bits 2.. a generation bumped by every set() that changes the flag.
 *   wait:  return at once if the flag is set. Otherwise remember the
 *          generation, set bit 1 (CAS) and sleep while the word is unchanged;
 *          return 0 as soon as the flag is set OR the generation moved (a
 *          set() happened while we waited, even if a clear() followed: Python's
 *          wait() returns True then too, because Condition.notify_all woke it).
 *   set:   CAS to (generation + 1, flag set, bit 1 clear); futex_wake(all) only
 *          if bit 1 was set, so setting an event nobody waits on costs no
 *          syscall. Setting a set event changes nothing.
 *   clear: CAS the flag off (generation and bit 1 kept).
 * The sleep is the waiters-bit protocol of sync/waitbit.h (bit 1), whose
 * proof gives no lost wake-up: set() changes the word (flag and generation)
 * with one RMW and wakes all when it replaced a value with bit 1. The generation has 30
 * bits and wraps cleanly (the low bits are masked off before the add): a
 * waiter would have to miss exactly 2^30 set() calls, each after a clear(),
 * between its load and its CAS of bit 1 to be fooled, and would then sleep
 * until the next set() or its deadline (docs/DESIGN.md, "Counters that wrap";
 * tests/sync/test_wrap.c).
 */
#include <limits.h>

#include "weft/sync.h"

#include "diag/diag_impl.h"
#include "internal/atomics.h"
#include "sync/waitbit.h"

#define EV_SET 1u
#define EV_SLEEPERS 2u
#define EV_GEN_ONE 4u

void weft_event_init(weft_event *e)
{
    if (e == NULL)
        return;
    atomic_init(&e->state, 0);
}

void weft_event_set(weft_event *e)
{
    if (e == NULL)
        return;
    uint32_t old = atomic_load_explicit(&e->state, memory_order_relaxed);
    uint32_t next;
    do {
        if (old & EV_SET)
            return;
        next = ((old & ~(EV_SET | EV_SLEEPERS)) + EV_GEN_ONE) | EV_SET;
        /* release: publishes what the setter did before set() to the acquire
         * loads in weft_event_wait / weft_event_is_set. */
    } while (!atomic_compare_exchange_weak_explicit(&e->state, &old, next, memory_order_release,
                                                    memory_order_relaxed));
    weft__waitbit_wake(&e->state, old, EV_SLEEPERS, INT32_MAX);
}

void weft_event_clear(weft_event *e)
{
    if (e == NULL)
        return;
    atomic_fetch_and_explicit(&e->state, ~EV_SET, memory_order_relaxed);
}

bool weft_event_is_set(const weft_event *e)
{
    if (e == NULL)
        return false;
    /* acquire: pairs with the release CAS in weft_event_set. */
    return (atomic_load_explicit(&((weft_event *)e)->state, memory_order_acquire) & EV_SET) != 0;
}

int weft_event_wait(weft_event *e, double timeout)
{
    WEFT__DIAG_SCOPE(blk);
    weft__deadline d;
    if (e == NULL || weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    /* acquire: pairs with the release CAS in weft_event_set. */
    uint32_t s = atomic_load_explicit(&e->state, memory_order_acquire);
    const uint32_t gen = s & ~(EV_SET | EV_SLEEPERS);
    for (;;) {
        if ((s & EV_SET) || (s & ~(EV_SET | EV_SLEEPERS)) != gen)
            return 0;
        if (d.expired)
            return ETIMEDOUT;
        /* s is reloaded (acquire, pairing with the release CAS in
         * weft_event_set); a set racing with the deadline still counts. */
        int rc = weft__waitbit_sleep(&e->state, &s, EV_SLEEPERS, &d,
                                     &(weft__diag_wait){&blk, "weft_event_wait", e, WEFT__OBJ_EVENT});
        if (rc == ETIMEDOUT)
            return ((s & EV_SET) || (s & ~(EV_SET | EV_SLEEPERS)) != gen) ? 0 : ETIMEDOUT;
    }
}
