/* sync/waitbit.c: the "waiters bit, CAS, sleep on that exact value"
 * protocol (sync/waitbit.h), the one place it is written and proved.
 *
 * Design note. Waiter: load s; if s lacks BIT, CAS s -> s | BIT (a failed
 * CAS means the word moved: return, the caller re-checks); futex_wait(word,
 * s | BIT). Waker: one RMW old -> new with new != old (or at least new !=
 * any value a waiter sleeps on), then futex_wake if old had BIT.
 * No lost wake-up. A waiter sleeps only on a value v with BIT set that is
 * (or was) in the word: it stored v itself with its CAS, or loaded it after
 * another waiter did. The kernel compares the word with v under the futex
 * bucket lock, so a waiter either sees the word differ (and returns at once)
 * or is queued before any wake that follows the change. A waker whose RMW
 * replaced a value with BIT set sees BIT in old and wakes; one whose RMW
 * replaced a value without BIT precedes, in the word's total order of RMWs,
 * any CAS that sets BIT on its new value, so no waiter sleeps on the value
 * it replaced: a waiter's CAS either fails on the change (EAGAIN, re-check)
 * or sets BIT on the new value and waits for the next change, as it should.
 * What a waker must do: every change that a waiter waits for changes the
 * word (so the kernel compare fails) and, when it replaces a value with BIT,
 * wakes; clearing BIT in the same RMW is
 * allowed (later waiters set it again) and saves later wakers a syscall.
 * Clearing it later (weft__waitbit_clear_idle: CAS idle | BIT -> idle, where
 * idle is a value that ends every wait) is allowed too: a waiter sleeps only
 * on a value it saw as "not done", so none sleeps on idle | BIT, and one
 * that set BIT on an earlier value sees the word differ in the kernel's
 * compare; the CAS fails, changing nothing, if the word moved meanwhile.
 * Orders: the CAS (also on failure) and the reload are acquire, pairing with
 * the waker's release RMW, so what the waker published before the change is
 * visible to a waiter that returns on the value it reloaded.
 * ABA: a waiter is fooled only if the word comes back to exactly v between
 * its load and the kernel's compare; each user says why its counter makes
 * that harmless (docs/DESIGN.md, "Counters that wrap").
 */
#include "sync/waitbit.h"

#include <errno.h>

int weft__waitbit_sleep(_Atomic uint32_t *word, uint32_t *seen, uint32_t bit, const weft__deadline *d,
                        const weft__diag_wait *wait)
{
    uint32_t s = *seen;
    /* acquire (also on failure; C11 forbids a failure order stronger than
     * success): the value reloaded into s may be what the caller returns
     * on; pairs with the waker's release RMW. */
    if (!(s & bit) && !atomic_compare_exchange_strong_explicit(word, &s, s | bit, memory_order_acquire,
                                                               memory_order_acquire)) {
        *seen = s;
        return EAGAIN;
    }
    weft__diag_wait_begin(wait); /* the dump's record: only on the way to a sleep */
    int rc = weft__futex_wait(word, s | bit, d);
    /* acquire: as above. */
    *seen = atomic_load_explicit(word, memory_order_acquire);
    return rc;
}
