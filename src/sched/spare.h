/* sched/spare.h: the stealing scheduler's spare thread, which runs work from
 * outside while every worker is lent to a fork-join. Internal; the design
 * note (the rule, the bound, the arming protocol) is in spare.c.
 *
 * Which calls may run concurrently: poke on any thread at any time between
 * start and stop; start and stop run once each, from the pool's create and
 * its joining shutdown; abandon alone, in a forked child.
 */
#ifndef WEFT_SCHED_SPARE_H
#define WEFT_SCHED_SPARE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/atomics.h"

struct weft__sched;
struct weft__task;

/* word: SPARE_OFF (no thread), SPARE_IDLE (parked, untimed), SPARE_ARMED
 * (watching the injector, timed), SPARE_STOP (leave). Read by every outside
 * submission (a relaxed load): on a line of its own, written only on a
 * transition. */
enum { WEFT__SPARE_OFF = 0, WEFT__SPARE_IDLE = 1, WEFT__SPARE_ARMED = 2, WEFT__SPARE_STOP = 3 };

typedef struct weft__spare {
    WEFT_CACHE_ALIGNED _Atomic uint32_t word;
    /* Written by the spare thread only (relaxed load and store), read by
     * weft_pool_stats. */
    _Atomic uint64_t runs, cancelled, rescues;
    pthread_t thread;
    char name[16];
} weft__spare;

/* The scheduler whose spare thread the calling thread is, or NULL. */
extern _Thread_local struct weft__sched *weft__tls_spare __attribute__((tls_model("initial-exec")));

/* Starts the spare thread, named name (its first 15 bytes), with the pool's
 * stack size (0 = the default); 0 or EAGAIN / ENOMEM (then the pool runs
 * without one: nothing else changes). */
int weft__spare_start(struct weft__sched *s, const char *name, size_t stack_size);
/* After every worker left: stops and joins the spare (it finishes the task
 * it runs). Not from the spare thread itself. */
void weft__spare_stop(struct weft__sched *s);

/* A spawn from a task that runs on the spare (not a submission): runs t at
 * once on the calling thread (the design note: what the spare's tasks may
 * do). Returns 0. */
int weft__spare_spawn_inline(struct weft__sched *s, struct weft__task *t);

/* After an outside push and the fenced wake-up (worker.c's steal_spawn):
 * arms the spare when it is parked and no worker is parked (a parked one was
 * just woken for the task instead). Two relaxed loads unless it arms. */
void weft__spare_poke(struct weft__sched *s);

#endif /* WEFT_SCHED_SPARE_H */
