/** @file
 * weft/cq.h: a completion queue that hands finished futures back to an event
 * loop (libuv's after_work_cb, for any loop that can watch a file descriptor).
 *
 *     weft_cq *cq;
 *     weft_cq_create(&cq);
 *     // register weft_cq_fd(cq) for reading with epoll, poll, uv_poll, event_new
 *     weft_pool_submit(pool, handler, req, &f);
 *     weft_future_notify(f, cq, req);   // (f, req) is posted once f is done
 *     weft_future_release(f);           // the queue keeps its own reference
 *     ...
 *     // the fd is readable:
 *     while (weft_cq_pop(cq, &f, &tag) == 0) {
 *         finish(tag, f);               // f is done: weft_future_result(f, 0, &r)
 *         weft_future_release(f);
 *     }
 *
 * The fd is an eventfd (non-blocking, close-on-exec) that is readable while
 * completions wait. It is written once per transition from idle (weft_cq_pop
 * has reported EAGAIN) to non-empty, not once per completion: completions
 * that arrive while the loop is still popping write nothing, so a busy loop
 * collects many completions per wake-up. Do not read the fd yourself:
 * weft_cq_pop resets it when it reports EAGAIN (reading it before popping is
 * harmless; reading it after the last pop may leave completions waiting
 * behind an unreadable fd). The fd may be readable with nothing to pop (a
 * spurious wake-up: pop returns EAGAIN at once). Level-triggered (poll,
 * epoll, uv_poll, libevent) the loop may stop popping before EAGAIN: the fd
 * stays readable while anything is left. Edge-triggered (EPOLLET), pop until
 * EAGAIN on each wake-up, as with any edge-triggered fd: the next completion
 * after that EAGAIN writes it again.
 *
 * Which calls may run concurrently on one queue:
 *
 *                   notify   pop   fd, stats   destroy
 *   notify           yes     yes     yes         -
 *   pop              yes      -      yes         -
 *   futures completing (any thread): with everything, destroy included.
 *
 * weft_future_notify may be called from any thread (a pool task too); pop is
 * called by one thread at a time (the loop's); destroy runs alone, but the
 * futures it was notified of may complete while it runs.
 */
#ifndef WEFT_CQ_H
#define WEFT_CQ_H

#include "weft/common.h"
#include "weft/future.h"

WEFT_BEGIN_DECLS

/** A completion queue: opaque, made by weft_cq_create, freed by
 * weft_cq_destroy. */
typedef struct weft_cq weft_cq;

/** Counters of one completion queue, for tuning (weft_cq_stats). */
typedef struct weft_cq_counters {
    uint64_t popped;  /**< completions handed out by weft_cq_pop (dropped ones included) */
    uint64_t signals; /**< eventfd writes: idle-to-non-empty transitions (about one per wake-up) */
    uint64_t resets;  /**< pops that found the queue empty and reset the fd */
} weft_cq_counters;

/**
 * Make an empty completion queue and its eventfd.
 * @return 0 (*cq set); EINVAL (cq NULL); ENOMEM; EMFILE/ENFILE (no fd left).
 */
WEFT_API int weft_cq_create(weft_cq **cq);

/**
 * The queue's eventfd, to watch for reading (it stays owned by the queue:
 * do not close or read it). -1 for NULL.
 */
WEFT_API int weft_cq_fd(const weft_cq *cq);

/**
 * Post (f, tag) to cq once f is done (finished or cancelled): at once if it
 * already is, otherwise from the thread that completes it. The queue holds
 * its own reference on f from now until the entry is popped or the queue is
 * destroyed, so the caller may release its own at once. Notifying one future
 * several times (to one queue or several) posts it once per call.
 * @return 0; EINVAL (f or cq NULL); ENOMEM (nothing posted, nothing retained).
 */
WEFT_API int weft_future_notify(weft_future *f, weft_cq *cq, void *tag);

/**
 * Take one completion: 0 with *f (the queue's reference, now the caller's
 * to release) and *tag set, or EAGAIN when none waits (then the fd has been
 * reset; it turns readable again with the next completion). Never blocks.
 * f NULL: the future's reference is released here; tag may be NULL. Order:
 * completions posted in one batch come out oldest first; there is no order
 * between batches beyond that. EINVAL (cq NULL).
 */
WEFT_API int weft_cq_pop(weft_cq *cq, weft_future **f, void **tag);

/**
 * Fill *out with the queue's counters (a snapshot). Writes per completion
 * under load = signals / popped. 0; EINVAL (cq or out NULL).
 */
WEFT_API int weft_cq_stats(const weft_cq *cq, weft_cq_counters *out);

/**
 * Detach from every future notified and not yet done (they will not be
 * posted), release the references of everything never popped, close the fd
 * and free the queue. NULL is a no-op.
 */
WEFT_API void weft_cq_destroy(weft_cq *cq);

WEFT_END_DECLS

#endif /* WEFT_CQ_H */
