/* sched/task.h: the task record that every scheduler queue carries. Internal.
 *
 * One record is one cache line, allocated with aligned_alloc so that records
 * in flight on different workers never share a line. Records are recycled
 * through per-worker free lists and a per-pool spare ring (records.h); any
 * record may be freed into any list because all are the same size and each
 * is its own allocation.
 *
 * A record is owned by exactly one party at a time: its creator until the
 * spawn succeeds, then the queue, then the thread that dequeued it, which
 * frees it once exec returned (weft__sched_run_task, steal.h; fifo_run,
 * mutexq.c) or, on the fork-join
 * join path, as soon as it has read the fields (group.c), so that a task that
 * spawns reuses its own record at once. exec must not keep the pointer.
 */
#ifndef WEFT_SCHED_TASK_H
#define WEFT_SCHED_TASK_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/atomics.h"

typedef struct weft_future weft_future;
typedef struct weft_group weft_group;
struct weft__loop;
struct weft__map_job;

typedef struct weft__task weft__task;

/* How a dequeued task is to be treated: WEFT__TASK_RUN, or the reason it is
 * dropped: ECANCELED (shutdown with cancel_futures; only records marked
 * WEFT__TASK_CANCELLABLE get it) or EPIPE (the pool is broken). exec returns
 * whether the user's function ran (for the statistics). */
#define WEFT__TASK_RUN 0
typedef bool (*weft__task_exec)(const weft__task *t, int how);

/* tag: bit 63 marks a task that shutdown(cancel_futures) may drop (a
 * submission); the mutex scheduler keeps the spawning worker (index + 1, 16
 * bits) and the spawning frame's sequence number (47 bits) below it, for its
 * helping rule (sched/mutexq.c). */
#define WEFT__TASK_CANCELLABLE ((uint64_t)1 << 63)
#define WEFT__TASK_SEQ_BITS 47
#define WEFT__TASK_SEQ_MASK (((uint64_t)1 << WEFT__TASK_SEQ_BITS) - 1)
#define WEFT__TASK_WORKER_SHIFT WEFT__TASK_SEQ_BITS
#define WEFT__TASK_WORKER_MASK ((uint64_t)0xffff)

struct weft__task {
    weft__task_exec exec;
    weft__task *next; /* injector overflow, free lists, the mutex FIFO */
    weft__task *prev; /* the mutex FIFO (doubly linked: helpers unlink from the middle) */
    uint64_t tag;
    union {
        struct {
            int (*fn)(void *arg, void **result);
            void *arg;
            weft_future *future; /* NULL: fire and forget */
            struct weft_pool *pool; /* drop / on_task_error / pending (pool.c) */
        } submit;
        struct {
            void (*fn)(void *arg);
            void *arg;
            weft_group *group;
        } group;
        struct {
            struct weft__loop *loop;
            size_t lo, hi;
        } range;
        struct {
            struct weft__map_job *job;
        } map;
    } u;
};

static_assert(sizeof(weft__task) <= WEFT_CACHELINE, "a task record fits one cache line");

#endif /* WEFT_SCHED_TASK_H */
