/** @file
 * weft/future.h: Python's concurrent.futures.Future, as_completed and wait.
 *
 * A weft_future is the outcome of one task submitted to a weft_pool
 * (weft_pool_submit, pool.h). It moves through
 *
 *     PENDING --start--> RUNNING --finish--> FINISHED
 *        \--cancel--> CANCELLED
 *
 * and every future ends in exactly one of the two final states. A task's
 * outcome is its int return code (0 = success, else a positive errno-style
 * value: Python's exception) and its void * result.
 *
 * Lifetime: futures are reference counted. weft_pool_submit hands the caller
 * one reference; weft_future_release drops it; weft_future_retain adds one.
 * The pool keeps its own reference until the task has finished or was
 * cancelled, so releasing early never frees a future under a running task.
 *
 * Which calls may run concurrently: every function taking a weft_future may be
 * called from any number of threads at once on the same future, provided each
 * caller holds a reference for the duration of its call. A weft_as_completed
 * iterator is used by one thread at a time (begin, any number of next, end).
 *
 * Waiting: the blocking calls (weft_future_wait/result/exception,
 * weft_as_completed_next, weft_wait) sleep on a futex and never poll. Called
 * from inside a pool task they run other tasks of the pool while they wait
 * instead of blocking the worker, so nested waits never deadlock, even with
 * max_workers = 1. Timeouts follow common.h (WEFT_FOREVER, <= 0 never blocks,
 * NaN is EINVAL); an outcome that is already known is returned even when the
 * timeout is 0.
 */
#ifndef WEFT_FUTURE_H
#define WEFT_FUTURE_H

#include "weft/common.h"

WEFT_BEGIN_DECLS

/** A future (Python's concurrent.futures.Future): opaque, reference counted
 * (weft_future_retain / weft_future_release). */
typedef struct weft_future weft_future;

/* ---- one future ------------------------------------------------------- */

/** Future.result(timeout). Waits until the future is done, then:
 *   0          the task returned 0; *result (when result is not NULL) is
 *              the task's result pointer;
 *   its code   the task returned this nonzero code; *result is not written;
 *   ECANCELED  the future was cancelled;
 *   ETIMEDOUT  not done when the timeout passed (the future is unaffected);
 *   EINVAL     f is NULL or timeout is NaN. */
WEFT_API int weft_future_result(weft_future *f, double timeout, void **result);

/** Future.exception(timeout): like weft_future_result without the value: 0 if
 * the task succeeded, the task's nonzero code, ECANCELED (Python raises
 * CancelledError), ETIMEDOUT (Python raises TimeoutError) or EINVAL.
 *
 * A task may itself return ETIMEDOUT or ECANCELED. Callers that must tell the
 * two apart wait first with weft_future_wait, which reports only on waiting:
 * once it returned 0 the future is done and its outcome never changes, so
 * weft_future_cancelled(f) says whether it was cancelled and otherwise
 * weft_future_exception(f, 0) is exactly the task's code. */
WEFT_API int weft_future_exception(weft_future *f, double timeout);

/** Wait until the future is done (finished or cancelled), nothing more:
 * 0 once done, ETIMEDOUT, or EINVAL (f NULL, timeout NaN). The one-future
 * form of weft_wait. */
WEFT_API int weft_future_wait(weft_future *f, double timeout);

/** Future.cancel(): true if the task will never run: the future was pending and
 * is now cancelled (waiters are woken and done callbacks run in the calling
 * thread before this returns), or it was already cancelled. false once it is
 * running or finished, and for NULL. */
WEFT_API bool weft_future_cancel(weft_future *f);

/** Future.cancelled(): whether the future was cancelled (a snapshot; false
 * for NULL). Snapshots of the state: once done is true it stays true and the
 * outcome is fixed. */
WEFT_API bool weft_future_cancelled(const weft_future *f);
/** Future.running(): whether the task is running now (a snapshot; false for
 * NULL). */
WEFT_API bool weft_future_running(const weft_future *f);
/** Future.done(): finished or cancelled (false for NULL); once true, stays
 * true. */
WEFT_API bool weft_future_done(const weft_future *f);

/** Future.add_done_callback(fn): cb(f, ctx) runs exactly once when the future
 * is done: in the calling thread before this returns if it already is,
 * otherwise in the thread that finishes or cancels it (a pool worker, or the
 * thread calling weft_future_cancel / weft_pool_shutdown). Callbacks of one
 * future run in the order they were added. A callback may call any function
 * of this header on f (it may release a reference it owns) but must not
 * block for long: it runs on the path that completes the future.
 * 0, ENOMEM (cb not added), or EINVAL (f or cb NULL). */
WEFT_API int weft_future_add_done_callback(weft_future *f, void (*cb)(weft_future *f, void *ctx), void *ctx);

/** Add a reference (for a second owner, e.g. a callback that releases it).
 * Returns f. */
WEFT_API weft_future *weft_future_retain(weft_future *f);

/** Drop the caller's reference; the last one frees the future. NULL is a no-op.
 * After this call the caller must not use f. */
WEFT_API void weft_future_release(weft_future *f);

/* ---- bare futures (Python's Future() outside an executor) ----------------
 * A future tied to no pool, completed by the program: the producer side of
 * concurrent.futures.Future (set_running_or_notify_cancel, set_result,
 * set_exception). Every call above works on it; waiters, callbacks,
 * weft_wait and as_completed see its completion as they see a task's. */

/**
 * @brief concurrent.futures.Future(): a new pending future tied to no pool.
 * @param f receives the future; the caller holds its one reference
 *          (weft_future_release frees it).
 * @return 0, EINVAL (f NULL) or ENOMEM (*f not written).
 */
WEFT_API int weft_future_create(weft_future **f);

/**
 * @brief Future.set_running_or_notify_cancel(): PENDING -> RUNNING.
 * @return true if the future was pending and now runs (it can no longer be
 *         cancelled); false if it was cancelled (its waiters were woken and
 *         its callbacks ran when it was cancelled), and also when it is
 *         already running or done, or f is NULL (Python raises RuntimeError
 *         there).
 */
WEFT_API bool weft_future_set_running_or_notify_cancel(weft_future *f);

/**
 * @brief Future.set_result(result): finishes the future with code 0.
 *
 * Allowed while pending or running; waiters wake and the done callbacks run
 * in the calling thread before it returns.
 * @return 0; EBUSY when the future is already done or cancelled, or another
 *         set_result/set_exception got there first (Python's
 *         InvalidStateError); EINVAL (f NULL).
 */
WEFT_API int weft_future_set_result(weft_future *f, void *result);

/**
 * @brief Future.set_exception(exc): finishes the future with a nonzero code,
 *        which weft_future_result and weft_future_exception then return.
 * @return 0; EBUSY as weft_future_set_result; EINVAL (f NULL or code 0).
 */
WEFT_API int weft_future_set_exception(weft_future *f, int code);

/* ---- many futures ------------------------------------------------------ */

/** as_completed(fs, timeout):
 *
 *     weft_as_completed *it;
 *     if (weft_as_completed_begin(&it, fs, n, 5.0) == 0) {
 *         weft_future *f;
 *         while ((rc = weft_as_completed_next(it, &f)) == 0)
 *             use(f);               // ENOENT: all yielded; ETIMEDOUT: deadline
 *         weft_as_completed_end(it);
 *     }
 *
 * begin: timeout bounds the whole iteration and is measured from begin.
 *   Duplicates in fs are collapsed (each future is yielded once). The
 *   iterator holds a reference to every future until end, so the caller may
 *   release its own references meanwhile. 0, EINVAL (it NULL; fs NULL with
 *   n > 0; a NULL entry; timeout NaN) or ENOMEM (*it untouched).
 * next: yields each future once, in the order they completed; those already
 *   done at begin come in fs order (a future that completes while begin is
 *   still running may come before some of them). Futures that are done are yielded
 *   even after the deadline. 0 with *f set (a pointer from fs, valid at least
 *   until end), ENOENT once all were yielded, ETIMEDOUT when none is ready and
 *   the deadline has passed (later calls never block again but still yield
 *   futures that complete), EINVAL (NULL argument).
 * end: detaches from every future (safe while they complete concurrently),
 *   drops the iterator's references and frees it. NULL is a no-op. */
typedef struct weft_as_completed weft_as_completed;

/** as_completed(fs, timeout): starts the iteration (see weft_as_completed).
 * 0, EINVAL (it NULL; fs NULL with n > 0; a NULL entry; timeout NaN), ENOMEM. */
WEFT_API int weft_as_completed_begin(weft_as_completed **it, weft_future *const *fs, size_t n,
                                     double timeout);
/** The next future to complete (see weft_as_completed): 0 with *f set, ENOENT
 * once all were yielded, ETIMEDOUT past the deadline, EINVAL. */
WEFT_API int weft_as_completed_next(weft_as_completed *it, weft_future **f);
/** Ends the iteration: drops the iterator's references and frees it. NULL is
 * a no-op. */
WEFT_API void weft_as_completed_end(weft_as_completed *it);

/** wait(fs, timeout, return_when). */
typedef enum weft_return_when {
    WEFT_FIRST_COMPLETED, /**< any future is done (finished or cancelled) */
    WEFT_FIRST_EXCEPTION, /**< any future finished with a nonzero code, else all done;
                             a cancelled future counts as done, not as an exception */
    WEFT_ALL_COMPLETED,   /**< every future is done */
} weft_return_when;

/** Waits until return_when holds over the distinct futures of fs (duplicates
 * count once; n = 0 holds at once). 0 once it holds, ETIMEDOUT if it did not
 * by the timeout, EINVAL (fs NULL with n > 0, a NULL entry, NaN timeout, bad
 * return_when), ENOMEM. *ndone (ndone may be NULL) is set to how many distinct
 * futures were done when it returned, on 0 and on ETIMEDOUT. */
WEFT_API int weft_wait(weft_future *const *fs, size_t n, double timeout, weft_return_when return_when,
                       size_t *ndone);

WEFT_END_DECLS

#endif /* WEFT_FUTURE_H */
