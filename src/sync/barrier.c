/* sync/barrier.c: weft_barrier, Python's threading.Barrier.
 *
 * Design note. The barrier's fields are guarded by its internal weft_lock.
 * Each sleeping party keeps a node on its own stack, linked into the
 * generation's `waiting` list; the node carries that party's outcome. The
 * thread that ends a generation (the last arrival, a timing-out party, abort
 * or reset) writes every node's outcome under the lock, empties the list,
 * bumps `gen` and wakes all sleepers on it with one futex_wake.
 * Why per-node outcomes: a woken party may run only after the barrier has
 * been reset or has completed further generations; a shared "broken" flag
 * would then tell it the wrong story. Its own node says exactly how its own
 * generation ended.
 * Node lifetime: the ending thread reads node->next before storing the
 * outcome (release) and never touches the node again; the owning party only
 * returns (popping the node) after loading a final outcome (acquire).
 * A party sleeps on `gen` (value read under the lock when it arrived); any
 * end of its generation changes gen before the wake, so no wake-up is lost.
 * Timeout: a party whose deadline passes takes the lock; if its generation
 * has not ended it breaks the barrier (others get EPIPE) and returns
 * ETIMEDOUT; but once the last party has arrived (releasing) the generation
 * is complete, and a deadline that passes during the action waits for the
 * action's outcome, as in Python (tests/stress/sync/stress_barrier caught
 * parties breaking a generation whose action had already run).
 * The action runs in the last arriving party before anyone is released, and
 * outside the lock, so it may call anything, the barrier included: the last
 * party sets `releasing`, unlocks, runs it, relocks, and ends the generation
 * as passed, unless the generation was ended meanwhile (the action or
 * another thread aborted or reset the barrier, a party timed out: gen
 * moved), in which case it returns EPIPE. A thread that arrives while
 * `releasing` is set (more threads than parties) waits for the release, as
 * Python's does, and then arrives in the next generation.
 */
#include <limits.h>

#include "weft/sync.h"

#include "diag/diag_impl.h"
#include "internal/atomics.h"

enum { OUT_PENDING = 0, OUT_PASSED = 1, OUT_BROKEN = 2 };

struct weft__barrier_waiter {
    struct weft__barrier_waiter *next;
    _Atomic uint32_t outcome;
};

int weft_barrier_init(weft_barrier *b, size_t parties, void (*action)(void *), void *action_ctx,
                      double timeout)
{
    if (b == NULL || parties == 0 || isnan(timeout))
        return EINVAL;
    weft_lock_init(&b->lock);
    atomic_init(&b->gen, 0);
    b->parties = parties;
    b->count = 0;
    b->broken = false;
    b->releasing = false;
    b->action = action;
    b->action_ctx = action_ctx;
    b->timeout = timeout;
    b->waiting = NULL;
    return 0;
}

/* With b->lock held: end the current generation, giving every sleeper the
 * outcome, and wake them. */
static void end_generation(weft_barrier *b, uint32_t outcome)
{
    struct weft__barrier_waiter *w = b->waiting;
    while (w != NULL) {
        struct weft__barrier_waiter *next = w->next;
        /* release: pairs with the acquire load of outcome by the node's owner
         * in weft_barrier_wait; after this store the node may vanish. */
        atomic_store_explicit(&w->outcome, outcome, memory_order_release);
        w = next;
    }
    b->waiting = NULL;
    b->count = 0;
    atomic_fetch_add_explicit(&b->gen, 1, memory_order_relaxed);
    weft__futex_wake(&b->gen, INT32_MAX);
}

int weft_barrier_wait(weft_barrier *b, double timeout, size_t *index)
{
    WEFT__DIAG_SCOPE(blk);
    weft__deadline d;
    if (b == NULL || isnan(timeout))
        return EINVAL;
    double t = timeout < b->timeout ? timeout : b->timeout;
    if (weft__deadline_init(&d, t) != 0)
        return EINVAL;
    weft_lock_acquire(&b->lock, WEFT_FOREVER);
    while (b->releasing && !b->broken) {
        uint32_t g = atomic_load_explicit(&b->gen, memory_order_relaxed);
        weft_lock_release(&b->lock);
        if (weft__futex_wait(&b->gen, g, &d) == ETIMEDOUT)
            return ETIMEDOUT; /* not counted in any generation: breaks nothing */
        weft_lock_acquire(&b->lock, WEFT_FOREVER);
    }
    if (b->broken) {
        weft_lock_release(&b->lock);
        return EPIPE;
    }
    size_t me = b->count++;
    if (index != NULL)
        *index = me;
    if (me + 1 == b->parties) {
        if (b->action != NULL) {
            uint32_t g = atomic_load_explicit(&b->gen, memory_order_relaxed);
            b->releasing = true;
            weft_lock_release(&b->lock);
            b->action(b->action_ctx);
            weft_lock_acquire(&b->lock, WEFT_FOREVER);
            b->releasing = false;
            if (atomic_load_explicit(&b->gen, memory_order_relaxed) != g) {
                /* Ended meanwhile; wake the early arrivals (end_generation
                 * woke them once already, while releasing was still set). */
                weft__futex_wake(&b->gen, INT32_MAX);
                weft_lock_release(&b->lock);
                return EPIPE;
            }
        }
        end_generation(b, OUT_PASSED);
        weft_lock_release(&b->lock);
        return 0;
    }
    struct weft__barrier_waiter node = {.next = b->waiting};
    atomic_init(&node.outcome, OUT_PENDING);
    b->waiting = &node;
    uint32_t g = atomic_load_explicit(&b->gen, memory_order_relaxed);
    weft_lock_release(&b->lock);

    const weft__deadline *dl = &d;
    for (;;) {
        /* acquire: pairs with the release store in end_generation. */
        uint32_t out = atomic_load_explicit(&node.outcome, memory_order_acquire);
        if (out != OUT_PENDING)
            return out == OUT_PASSED ? 0 : EPIPE;
        weft__diag_scope_begin(&blk, "weft_barrier_wait", b, WEFT__OBJ_BARRIER);
        if (weft__futex_wait(&b->gen, g, dl) == ETIMEDOUT) {
            weft_lock_acquire(&b->lock, WEFT_FOREVER);
            /* acquire: as above (the lock also orders it). */
            out = atomic_load_explicit(&node.outcome, memory_order_acquire);
            if (out == OUT_PENDING && b->releasing) {
                /* Our generation is complete and its last party is running
                 * the action (releasing refers to ours: it has not ended).
                 * Python's timed-out party cannot retake the lock until the
                 * action returns, and then finds the barrier released; so
                 * wait for the action's outcome instead of breaking a
                 * complete generation after its action ran. */
                weft_lock_release(&b->lock);
                dl = NULL;
                continue;
            }
            if (out == OUT_PENDING) {
                b->broken = true;
                end_generation(b, OUT_BROKEN); /* our own node too: it is in the list */
                weft_lock_release(&b->lock);
                return ETIMEDOUT;
            }
            weft_lock_release(&b->lock);
            return out == OUT_PASSED ? 0 : EPIPE;
        }
    }
}

void weft_barrier_abort(weft_barrier *b)
{
    if (b == NULL)
        return;
    weft_lock_acquire(&b->lock, WEFT_FOREVER);
    b->broken = true;
    end_generation(b, OUT_BROKEN);
    weft_lock_release(&b->lock);
}

void weft_barrier_reset(weft_barrier *b)
{
    if (b == NULL)
        return;
    weft_lock_acquire(&b->lock, WEFT_FOREVER);
    if (b->waiting != NULL)
        end_generation(b, OUT_BROKEN);
    b->count = 0;
    b->broken = false;
    weft_lock_release(&b->lock);
}

size_t weft_barrier_parties(const weft_barrier *b)
{
    return b != NULL ? b->parties : 0;
}

size_t weft_barrier_n_waiting(weft_barrier *b)
{
    if (b == NULL)
        return 0;
    weft_lock_acquire(&b->lock, WEFT_FOREVER);
    size_t n = b->count;
    weft_lock_release(&b->lock);
    return n;
}

bool weft_barrier_broken(weft_barrier *b)
{
    if (b == NULL)
        return false;
    weft_lock_acquire(&b->lock, WEFT_FOREVER);
    bool broken = b->broken;
    weft_lock_release(&b->lock);
    return broken;
}
