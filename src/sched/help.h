/* sched/help.h: how blocking waits inside a pool worker run other tasks
 * instead of blocking the worker's thread (so nested waits never deadlock,
 * even with max_workers = 1). Implemented by the scheduler (src/sched/). */
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
 * it waits without burning a core, re-polling done. Never returns 0 unless
 * done(ctx) was true. */
int weft__sched_help_until(bool (*done)(void *ctx), void *ctx, const weft__deadline *d);

#endif /* WEFT_SCHED_HELP_H */
