/* sched/mutexq.h: the mutex scheduler's state (sched/mutexq.c has the
 * algorithm and its design note). Internal. */
#ifndef WEFT_SCHED_MUTEXQ_H
#define WEFT_SCHED_MUTEXQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "sched/task.h"

/* The mutex scheduler's queue. Lock order: mu is a leaf; exec (which may run
 * future callbacks) is never called under it. */
typedef struct weft__fifo {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    weft__task *head, *tail; /* head oldest */
    size_t nidle;            /* workers waiting on cv */
    bool closed;
} weft__fifo;

/* Its operations (sched.h), for weft__sched_init. */
struct weft__sched_ops;
extern const struct weft__sched_ops weft__mutexq_ops;

#endif /* WEFT_SCHED_MUTEXQ_H */
