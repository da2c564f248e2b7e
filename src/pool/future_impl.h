/* pool/future_impl.h: the internal half of weft_future, used by the pool
 * (create/start/finish/cancel) and by as_completed/wait (completion hooks).
 *
 * Which calls may run concurrently on one future:
 *
 *                      start  finish  cancel  hook_add  hook_remove  public
 *   start               -      -       yes     yes       yes          yes
 *   finish              -      -       -       yes       yes          yes
 *   cancel_if_pending   yes    -       yes     yes       yes          yes
 *
 * start and finish are called once each, by the one thread that runs the task
 * (start before finish); finish is only called after start returned true.
 * Every caller holds a reference for the duration of its call.
 */
#ifndef WEFT_POOL_FUTURE_IMPL_H
#define WEFT_POOL_FUTURE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "weft/future.h"

/* State PENDING, reference count 2: one for the pool, one for the submitter.
 * NULL on ENOMEM. */
weft_future *weft__future_create(void);

/* PENDING -> RUNNING. false if it was cancelled: the pool must not run the
 * task then (and still drops its reference). */
bool weft__future_start(weft_future *f);

/* RUNNING -> FINISHED with the task's code and result. Wakes every waiter,
 * then runs the done callbacks in the calling thread. */
void weft__future_finish(weft_future *f, int code, void *result);

/* = weft_future_cancel: PENDING -> CANCELLED (waking waiters and running the
 * callbacks in the calling thread); true if the future is cancelled now. */
bool weft__future_cancel_if_pending(weft_future *f);

/* A completion hook: an intrusive list node that an internal waiter (an
 * as_completed iterator, weft_wait) links into a future. fire(h, f) runs
 * exactly once, in the completing thread while it holds the future's list
 * lock, unless the hook was removed first. fire must be short, must not block
 * and must not call back into f; it may wake threads. */
typedef struct weft__future_hook {
    struct weft__future_hook *next;
    struct weft__future_hook **pprev; /* NULL while not linked */
    void (*fire)(struct weft__future_hook *h, weft_future *f);
} weft__future_hook;

/* Link h into f; h->fire must be set. Returns false (h not linked, fire will
 * not run) when f is already done. */
bool weft__future_hook_add(weft_future *f, weft__future_hook *h);

/* Unlink h if it is still linked. When this returns, h is not linked and its
 * fire is not running and never will: the owner may free h. Because fire runs
 * under the list lock, taking that lock here waits out a fire in progress. */
void weft__future_hook_remove(weft_future *f, weft__future_hook *h);

/* For tests: the reference count, and a shortcut for delta retains (or
 * -delta releases that free nothing). */
uint64_t weft__future_refs(const weft_future *f);
void weft__future_add_refs(weft_future *f, int64_t delta);

#endif /* WEFT_POOL_FUTURE_IMPL_H */
