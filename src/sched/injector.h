/* sched/injector.h: the queue through which work enters a stealing pool from
 * outside (threads that are not its workers). Internal; design note in
 * injector.c.
 *
 * Which calls may run concurrently: push, pop, maybe_nonempty and drained
 * may run on any threads at once; close may run concurrently with all of
 * them; init and deinit run alone.
 */
#ifndef WEFT_SCHED_INJECTOR_H
#define WEFT_SCHED_INJECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/atomics.h"
#include "queue/ring.h"
#include "sched/task.h"
#include "weft/sync.h"

/* Ring slots: enough for bursts of submissions; beyond it the overflow list
 * takes the excess, so a push never fails for lack of room. */
#define WEFT__INJECTOR_RING 4096

/* Cache-line placement: the ring keeps its own counters apart (ring.h); the
 * overflow list, touched only when the ring is full, sits on its own line.
 * Lock order: lock is a leaf. */
typedef struct weft__injector {
    weft_ring ring;
    uint64_t close_pos; /* the ring's head at close; read after `closed` */
    WEFT_CACHE_ALIGNED weft_lock lock;
    _Atomic size_t overflow_len; /* written under lock, read without it */
    weft__task *head, *tail;     /* under lock; FIFO through task->next */
    bool overflow_closed;        /* under lock */
    _Atomic bool closed;         /* set after both halves closed */
} weft__injector;

int weft__injector_init(weft__injector *q);
void weft__injector_deinit(weft__injector *q);
/* 0, or ESHUTDOWN once closed (t not queued). */
int weft__injector_push(weft__injector *q, weft__task *t);
/* The oldest task (FIFO up to ring/overflow interleaving), or NULL. */
weft__task *weft__injector_pop(weft__injector *q);
/* Closes both halves: every push that has not succeeded yet fails. */
void weft__injector_close(weft__injector *q);
/* Appends t even when closed (the shutdown drain puts back what it keeps). */
void weft__injector_push_forced(weft__injector *q, weft__task *t);
/* A task may be queued (or a push is half done). The caller orders this after
 * its own announcement with a seq_cst fence (see idle.c). */
bool weft__injector_maybe_nonempty(weft__injector *q);
/* Closed, and every task ever pushed has been popped. */
bool weft__injector_drained(weft__injector *q);

#endif /* WEFT_SCHED_INJECTOR_H */
