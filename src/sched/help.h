/* sched/help.h: how blocking waits inside a pool worker run other tasks
 * instead of blocking the worker's thread (so nested waits never deadlock,
 * even with max_workers = 1). Implemented by the scheduler (src/sched/:
 * help.c, and idle.c for the before-block hook). */
#ifndef WEFT_SCHED_HELP_H
#define WEFT_SCHED_HELP_H

#include <stdbool.h>

#include "internal/atomics.h"

/* True when the calling thread is a worker of some weft pool. */
bool weft__sched_in_worker(void);

/* Worker threads only. Runs other tasks of the calling worker's pool (subject
 * to the pool's helping rule, documented in src/sched/) until done(ctx)
 * returns true (0) or the deadline passes (ETIMEDOUT; NULL = forever). done is
 * polled between tasks and must be cheap and thread-safe. With nothing to run
 * it parks (no CPU) on an eventcount shared by all such helpers, re-polling
 * done when woken. Protocol: whatever makes done(ctx) true must then call
 * weft__sched_wake_helpers(); the completion of a future with a completion
 * hook linked does (future.c), which covers as_completed and weft_wait. Never
 * returns 0 unless done(ctx) was true. */
int weft__sched_help_until(bool (*done)(void *ctx), void *ctx, const weft__deadline *d);

/* The same, for a predicate with a wake-up of its own: instead of parking on
 * the shared eventcount it calls block(ctx, d), which sleeps until done(ctx)
 * may have turned true or d passes (0, or ETIMEDOUT), e.g. a futex wait on
 * the word that done reads. */
int weft__sched_help_until_block(bool (*done)(void *ctx), int (*block)(void *ctx, const weft__deadline *d),
                                 void *ctx, const weft__deadline *d);

/* Wakes every helper parked in weft__sched_help_until so that it re-polls its
 * predicate. Any thread. A seq_cst fence and a load when none is parked (no
 * RMW, no system call). */
void weft__sched_wake_helpers(void);

/* The before-block hook, for the places where weft sleeps: weft__futex_wait
 * (sync/futex.c) and the mutex queue backend's condition waits
 * (queue/queue_mutex.c). Begin right before the thread sleeps in the kernel,
 * end right after, when begin returned true. On a pool worker begin makes the tasks left on its deque
 * visible to the other workers (or wakes one) and takes the thread offline
 * in QSBR; end puts it back online (sched/idle.c). Any thread; a TLS load
 * and a return on threads that are not stealing workers. */
bool weft__sched_block_begin(void);
void weft__sched_block_end(void);

#endif /* WEFT_SCHED_HELP_H */
