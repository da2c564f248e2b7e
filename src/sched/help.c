/* sched/help.c: helping waits, for both schedulers (help.h, sched.h's
 * weft__sched_wait).
 *
 * Design note.
 * A wait on a pool worker runs tasks instead of blocking the worker's
 * thread, so nested waits never deadlock, even with one worker. Which tasks
 * it may run is the scheduler's helping rule (pool.h states it; steal.h and
 * mutexq.c say how each keeps it): the loop below takes one helping step at
 * a time through the worker's ops table (help_one), polls the predicate
 * between steps, spins HELP_SPINS polls once nothing is left to help with,
 * and then blocks. A thread that is no pool worker only polls and blocks.
 *
 * Blocking waits (a real wake-up, no polling). A waiter with a word of its
 * own sleeps on it through its block callback: a group on its counter (futex,
 * WAITERS bit: group.c), weft_pool_map on its job's eventcount (map.c), a
 * future on its state word (futex, WAITERS bit: future.c). A predicate
 * without one (weft__sched_help_until: an as_completed iterator on a worker)
 * parks on the process-wide eventcount `helpers`:
 *     waiter:    key = ec_prepare(helpers); if done(): ec_cancel; else ec_wait(key)
 *     completer: make done() true; ec_notify(helpers, all)
 * The completer is future.c's completion with a hook linked (the hooks are
 * what make as_completed's predicate true). The eventcount's store-buffering
 * argument (eventcount.c) rules out the lost wake-up: either the re-check
 * sees done() or the notify sees the waiter and bumps the epoch, so ec_wait
 * returns. A notify with nobody parked is a fence and a load: no RMW, no
 * system call. Helpers of every pool share it because the completer cannot
 * tell who waits; a notify wakes them all and each re-checks its own
 * predicate (helpers parked there are rare: only waits on work that other
 * workers run, and only after HELP_SPINS polls).
 *
 * A worker inside a wait counts as lent to a fork-join (w->lent), so that
 * the stealing scheduler's spare thread may run outside work meanwhile
 * (spare.c).
 *
 * Every block ends in weft__futex_wait, whose before-block hook (idle.c, for
 * the stealing scheduler) makes leftover work on the waiter's deque visible
 * and takes it offline in QSBR: nothing here needs to.
 */
#include "sched/help.h"

#include <errno.h>

#include "sched/sched.h"

enum { HELP_SPINS = 64 /* polls of a waiter's predicate before it blocks */ };

/* Where weft__sched_help_until parks (help.h). Its predicates turn true when a
 * future completes, and the completer cannot tell which worker of which pool
 * waits, so every such helper shares this one eventcount. */
static weft__eventcount helpers = WEFT__EC_INIT;

void weft__sched_wake_helpers(void)
{
    weft__ec_notify(&helpers, INT32_MAX);
}

/* Sleeps until done(ctx) may have turned true or d passes: block, or, for a
 * predicate without one, the helpers eventcount (prepare, re-check, wait:
 * the completer's "make it true; notify" cannot slip between, eventcount.c). */
static int block_once(bool (*done)(void *ctx), int (*block)(void *ctx, const weft__deadline *d), void *ctx,
                      const weft__deadline *d)
{
    if (block != NULL)
        return block(ctx, d);
    uint32_t key = weft__ec_prepare(&helpers);
    if (done(ctx)) {
        weft__ec_cancel(&helpers);
        return 0;
    }
    return weft__ec_wait(&helpers, key, d);
}

/* The wait of a pool worker: helping steps, spins, then blocks. */
static int help_wait(weft__worker *w, bool (*done)(void *ctx), int (*block)(void *ctx, const weft__deadline *d),
                     void *ctx, const weft__deadline *d)
{
    bool (*help_one)(weft__worker *w) = w->s->ops->help_one;
    unsigned spins = 0;
    for (;;) {
        if (done(ctx))
            return 0;
        if (help_one(w)) {
            spins = 0;
            continue;
        }
        if (d != NULL && d->expired)
            return ETIMEDOUT;
        if (spins < HELP_SPINS) {
            spins++;
            weft__cpu_relax();
            continue;
        }
        if (d != NULL && weft__deadline_passed(d))
            return done(ctx) ? 0 : ETIMEDOUT;
        int rc = block_once(done, block, ctx, d);
        if (rc == ETIMEDOUT)
            return done(ctx) ? 0 : ETIMEDOUT;
    }
}

int weft__sched_wait(bool (*done)(void *ctx), int (*block)(void *ctx, const weft__deadline *d), void *ctx,
                     const weft__deadline *d)
{
    weft__worker *w = weft__tls_self;
    if (w == NULL) {
        for (;;) {
            if (done(ctx))
                return 0;
            if (block_once(done, block, ctx, d) == ETIMEDOUT)
                return done(ctx) ? 0 : ETIMEDOUT;
        }
    }
    /* While it waits the worker is lent to what it waits for (the spare
     * thread's rule, spare.c). */
    weft__worker_lend(w, 1);
    int rc = help_wait(w, done, block, ctx, d);
    weft__worker_lend(w, -1);
    return rc;
}

bool weft__sched_in_worker(void)
{
    return weft__tls_self != NULL;
}

int weft__sched_help_until(bool (*done)(void *ctx), void *ctx, const weft__deadline *d)
{
    return weft__sched_wait(done, NULL, ctx, d);
}

int weft__sched_help_until_block(bool (*done)(void *ctx), int (*block)(void *ctx, const weft__deadline *d),
                                 void *ctx, const weft__deadline *d)
{
    return weft__sched_wait(done, block, ctx, d);
}
