/* sync/event.c: weft_event, Python's threading.Event.
 *
 * Design note. One futex word: 0 clear, 1 set, 2 clear and somebody may sleep.
 *   wait:  return at once if 1; else move 0 -> 2 (CAS) and sleep while 2.
 *   set:   exchange to 1; futex_wake(all) only if the old value was 2, so
 *          setting an event nobody waits on costs no syscall.
 *   clear: CAS 1 -> 0 (a 2 is already clear and keeps its sleepers flag).
 * No lost wake-up: a sleeper sleeps only on the value 2, which it (or another
 * sleeper) stored; the set that follows sees 2 in its exchange and wakes all.
 * A set followed at once by a clear may be missed by a sleeper only if it had
 * not re-read the word yet; Python's Event has the same behaviour (wait()
 * returns True only if the flag is set when it looks).
 */
#include <limits.h>

#include "weft/sync.h"

#include "internal/atomics.h"

void weft_event_init(weft_event *e)
{
    atomic_init(&e->state, 0);
}

void weft_event_set(weft_event *e)
{
    /* release: publishes what the setter did before set() to the acquire
     * loads in weft_event_wait / weft_event_is_set. */
    uint32_t old = atomic_exchange_explicit(&e->state, 1, memory_order_release);
    if (old == 2)
        weft__futex_wake(&e->state, INT32_MAX);
}

void weft_event_clear(weft_event *e)
{
    uint32_t one = 1;
    atomic_compare_exchange_strong_explicit(&e->state, &one, 0, memory_order_relaxed, memory_order_relaxed);
}

bool weft_event_is_set(const weft_event *e)
{
    /* acquire: pairs with the release exchange in weft_event_set. */
    return atomic_load_explicit(&((weft_event *)e)->state, memory_order_acquire) == 1;
}

int weft_event_wait(weft_event *e, double timeout)
{
    weft__deadline d;
    if (weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    for (;;) {
        /* acquire: pairs with the release exchange in weft_event_set. */
        uint32_t s = atomic_load_explicit(&e->state, memory_order_acquire);
        if (s == 1)
            return 0;
        if (d.expired)
            return ETIMEDOUT;
        if (s == 0 && !atomic_compare_exchange_strong_explicit(&e->state, &s, 2, memory_order_relaxed,
                                                               memory_order_relaxed))
            continue; /* changed under us: look again */
        if (weft__futex_wait(&e->state, 2, &d) == ETIMEDOUT)
            /* acquire: as above; a set racing with the deadline still counts. */
            return atomic_load_explicit(&e->state, memory_order_acquire) == 1 ? 0 : ETIMEDOUT;
    }
}
