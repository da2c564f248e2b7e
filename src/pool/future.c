/* pool/future.c: weft_future, a reference-counted, futex-backed future.
 *
 * Design note.
 * One 32-bit word, `state`, holds the phase (PENDING, RUNNING, FINISHED,
 * CANCELLED) and two flags:
 *   WAITERS  some thread sleeps (or is about to) in futex_wait on `state`;
 *            a completer calls futex_wake only when it sees this flag, so
 *            completing a future nobody waits for makes no syscall.
 *   LINKED   a done callback or a completion hook has been linked into the
 *            lists (set under the list lock). Without it a completer
 *            completes with a single CAS and never touches the lock.
 * Transitions are CAS loops on the phase that preserve the flags:
 *   start  PENDING -> RUNNING, cancel  PENDING -> CANCELLED,
 *   finish RUNNING -> FINISHED (code and result stored first; the release CAS
 *   publishes them to every acquire load that sees FINISHED).
 * The final phases are absorbing, so "exactly one final state" follows from
 * start and cancel racing on one CAS from PENDING.
 *
 * Completion with LINKED set happens under the list lock: the final CAS, then
 * detaching both lists, then firing the completion hooks (still under the
 * lock), unlock, futex_wake if WAITERS was seen, a wake-up for pool workers
 * parked in weft__sched_help_until (an as_completed consumer on a worker
 * waits there: the hooks just made its predicate true; sched/help.h), and
 * finally the user callbacks in registration order, outside the lock (they
 * may re-enter).
 * Why every callback runs exactly once: add_done_callback links its node under
 * the lock only after seeing a non-final phase under that lock; a completer
 * either completed before (then the adder sees the final phase and runs the
 * callback itself) or after (then it sees LINKED, takes the lock, and finds
 * the node). Firing hooks under the lock is what makes hook_remove safe: once
 * the remover holds the lock, a fire is either finished or will never start,
 * so the hook's owner (an as_completed iterator on the heap) may be freed.
 *
 * No lost wake-up: waiting is the waiters-bit protocol of sync/waitbit.h,
 * with WAITERS as its bit, and its proof applies: the one change a waiter
 * waits for, into a final phase, is one RMW (complete()'s CAS) that changes
 * the word, and it wakes all when the value it replaced had WAITERS. That
 * CAS writes the bare final phase, so it also clears WAITERS and LINKED
 * (allowed by the protocol: nobody sleeps on a final value).
 *
 * Bare futures (weft_future_create: Python's Future() driven by the user).
 * set_running_or_notify_cancel is start without the pool's assertion;
 * set_result/set_exception may race with each other and with cancel, so
 * before writing code/result one CAS claims the right to: PENDING or RUNNING
 * without SETTING -> RUNNING | SETTING (from then on cancel, which needs
 * PENDING, fails, and so does any other setter); the finish that follows
 * drops the flag. Whoever loses returns EBUSY (InvalidStateError).
 *
 * Reference counting: relaxed increments; acq_rel decrements, so that the
 * thread that reaches zero sees every other owner's last use before it frees
 * (an acq_rel RMW rather than the usual release decrement + acquire fence,
 * because ThreadSanitizer does not model fences).
 */
#include "pool/future_impl.h"

#include <assert.h>
#include <stdlib.h>

#include "internal/atomics.h"
#include "sched/help.h"
#include "sync/waitbit.h"
#include "weft/sync.h"

enum {
    PHASE_MASK = 3u,
    PENDING = 0u,
    RUNNING = 1u,
    FINISHED = 2u,
    CANCELLED = 3u,
    FINAL_BIT = 2u, /* set in both final phases */
    WAITERS = 4u,
    LINKED = 8u,
    SETTING = 16u, /* a bare future's set_result/set_exception won (RUNNING) */
};

static_assert((FINISHED & FINAL_BIT) != 0 && (CANCELLED & FINAL_BIT) != 0, "final phases share FINAL_BIT");
static_assert((PENDING & FINAL_BIT) == 0 && (RUNNING & FINAL_BIT) == 0, "live phases lack FINAL_BIT");
static_assert(((WAITERS | LINKED | SETTING) & PHASE_MASK) == 0, "flags lie outside the phase bits");

typedef struct callback {
    struct callback *next;
    void (*cb)(weft_future *f, void *ctx);
    void *ctx;
} callback;

/* Layout: one cache line (the allocation is line-aligned), so futures handed
 * to different workers never share a line. `state` is read by every waiter and
 * written by the completer; code/result are written once before FINISHED.
 * Lock order: list_lock is a leaf lock; nothing else is taken while holding
 * it (hook fire functions only do atomics and futex wakes). */
struct weft_future {
    _Atomic uint32_t state; /* futex word: phase | WAITERS | LINKED */
    int code;               /* written before the FINISHED CAS */
    /* 64 bits, so that it cannot wrap (issue 10 item 6): 2^64 retains at one
     * per nanosecond take 584 years; a 32-bit count wrapped after 2^32
     * retains (seconds of a tight loop, or a leak in a long-running server)
     * and then freed a future that was still referenced. */
    _Atomic uint64_t refs;
    void *result; /* written before the FINISHED CAS */
    weft_lock list_lock;
    weft__future_hook *hooks; /* under list_lock */
    callback *callbacks;      /* under list_lock, in registration order */
    callback **callbacks_tail;
};

static_assert(sizeof(struct weft_future) <= WEFT_CACHELINE, "a future fits one cache line");

void weft__future_add_refs(weft_future *f, int64_t delta)
{
    atomic_fetch_add_explicit(&f->refs, (uint64_t)delta, memory_order_relaxed);
}

uint64_t weft__future_refs(const weft_future *f)
{
    return atomic_load_explicit(&((weft_future *)f)->refs, memory_order_relaxed);
}

static inline bool is_final(uint32_t s)
{
    return (s & FINAL_BIT) != 0;
}

static void list_lock(weft_future *f)
{
    int rc = weft_lock_acquire(&f->list_lock, WEFT_FOREVER);
    if (rc != 0)
        weft__die("weft_lock_acquire(future list)", rc);
}

static void list_unlock(weft_future *f)
{
    int rc = weft_lock_release(&f->list_lock);
    if (rc != 0)
        weft__die("weft_lock_release(future list)", rc);
}

weft_future *weft__future_create(void)
{
    weft_future *f = aligned_alloc(WEFT_CACHELINE, WEFT_CACHELINE);
    if (f == NULL)
        return NULL;
    atomic_init(&f->state, PENDING);
    atomic_init(&f->refs, 2);
    f->code = 0;
    f->result = NULL;
    weft_lock_init(&f->list_lock);
    f->hooks = NULL;
    f->callbacks = NULL;
    f->callbacks_tail = &f->callbacks;
    return f;
}

weft_future *weft_future_retain(weft_future *f)
{
    if (f != NULL)
        atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
    return f;
}

void weft_future_release(weft_future *f)
{
    if (f == NULL)
        return;
    /* acq_rel: the release half makes our last uses of f happen-before the
     * free by whichever thread drops the last reference; the acquire half (in
     * that thread) pairs with the release decrements of every other owner.
     * An RMW rather than a release decrement + acquire fence, because
     * ThreadSanitizer does not model fences; on x86 the cost is the same. */
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
        return;
    /* Only a future that was never completed can still hold callbacks (no
     * owner of a hook lets go of its reference while linked): they never run. */
    callback *c = f->callbacks;
    while (c != NULL) {
        callback *next = c->next;
        free(c);
        c = next;
    }
    free(f);
}

bool weft__future_start(weft_future *f)
{
    uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
    for (;;) {
        uint32_t phase = s & PHASE_MASK;
        if (phase == CANCELLED)
            return false;
        if (phase != PENDING)
            weft__die("weft__future_start (future not pending)", EINVAL);
        /* RUNNING publishes nothing: relaxed. */
        if (atomic_compare_exchange_weak_explicit(&f->state, &s, (s & ~PHASE_MASK) | RUNNING,
                                                  memory_order_relaxed, memory_order_relaxed))
            return true;
    }
}

/* The one way into a final phase: from -> to if the phase is `from`.
 * Returns false, changing nothing, if it is not. */
static bool complete(weft_future *f, uint32_t from, uint32_t to)
{
    uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
    for (;;) {
        if ((s & PHASE_MASK) != from)
            return false;
        if (s & LINKED)
            break;
        /* release: publishes code/result (written by weft__future_finish) to
         * the acquire loads of `state` in waiters and state queries. */
        if (atomic_compare_exchange_weak_explicit(&f->state, &s, to, memory_order_release,
                                                  memory_order_relaxed)) {
            weft__waitbit_wake(&f->state, s, WAITERS, INT32_MAX);
            return true;
        }
    }

    list_lock(f);
    s = atomic_load_explicit(&f->state, memory_order_relaxed);
    for (;;) {
        if ((s & PHASE_MASK) != from) {
            list_unlock(f);
            return false;
        }
        /* release: as above (the fast-path CAS). */
        if (atomic_compare_exchange_weak_explicit(&f->state, &s, to, memory_order_release,
                                                  memory_order_relaxed))
            break;
    }
    weft__future_hook *h = f->hooks;
    f->hooks = NULL;
    callback *c = f->callbacks;
    f->callbacks = NULL;
    f->callbacks_tail = &f->callbacks;
    while (h != NULL) {
        weft__future_hook *next = h->next;
        h->pprev = NULL;
        h->next = NULL;
        h->fire(h, f);
        h = next;
    }
    list_unlock(f);

    weft__waitbit_wake(&f->state, s, WAITERS, INT32_MAX);
    /* A hook's fire made some waiter's predicate true (as_completed); that
     * waiter may be a pool worker parked in weft__sched_help_until. */
    weft__sched_wake_helpers();
    while (c != NULL) {
        callback *next = c->next;
        c->cb(f, c->ctx);
        free(c);
        c = next;
    }
    return true;
}

void weft__future_finish(weft_future *f, int code, void *result)
{
    f->code = code;
    f->result = result;
    if (!complete(f, RUNNING, FINISHED))
        weft__die("weft__future_finish (future not running)", EINVAL);
}

bool weft__future_cancel_if_pending(weft_future *f)
{
    if (complete(f, PENDING, CANCELLED))
        return true;
    return (atomic_load_explicit(&f->state, memory_order_relaxed) & PHASE_MASK) == CANCELLED;
}

/* ---- bare futures ------------------------------------------------------ */

int weft_future_create(weft_future **out)
{
    if (out == NULL)
        return EINVAL;
    weft_future *f = weft__future_create();
    if (f == NULL)
        return ENOMEM;
    atomic_store_explicit(&f->refs, 1, memory_order_relaxed); /* the caller's only: no pool */
    *out = f;
    return 0;
}

bool weft_future_set_running_or_notify_cancel(weft_future *f)
{
    if (f == NULL)
        return false;
    uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
    for (;;) {
        if ((s & PHASE_MASK) != PENDING)
            return false;
        /* RUNNING publishes nothing: relaxed (as weft__future_start). */
        if (atomic_compare_exchange_weak_explicit(&f->state, &s, (s & ~PHASE_MASK) | RUNNING,
                                                  memory_order_relaxed, memory_order_relaxed))
            return true;
    }
}

static int set_outcome(weft_future *f, int code, void *result)
{
    uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
    for (;;) {
        if (is_final(s) || (s & SETTING))
            return EBUSY;
        /* The claim publishes nothing (code/result are written after it and
         * published by complete()'s release CAS): relaxed. */
        if (atomic_compare_exchange_weak_explicit(&f->state, &s, (s & ~PHASE_MASK) | RUNNING | SETTING,
                                                  memory_order_relaxed, memory_order_relaxed))
            break;
    }
    weft__future_finish(f, code, result);
    return 0;
}

int weft_future_set_result(weft_future *f, void *result)
{
    if (f == NULL)
        return EINVAL;
    return set_outcome(f, 0, result);
}

int weft_future_set_exception(weft_future *f, int code)
{
    if (f == NULL || code == 0)
        return EINVAL;
    return set_outcome(f, code, NULL);
}

bool weft_future_cancel(weft_future *f)
{
    return f != NULL && weft__future_cancel_if_pending(f);
}

/* The three state queries load with acquire so that a caller that sees a
 * final phase may go on to read the outcome. */
static uint32_t load_state(const weft_future *f)
{
    /* acquire: pairs with the release CAS in complete(). */
    return atomic_load_explicit(&((weft_future *)f)->state, memory_order_acquire);
}

bool weft_future_cancelled(const weft_future *f)
{
    return f != NULL && (load_state(f) & PHASE_MASK) == CANCELLED;
}

bool weft_future_running(const weft_future *f)
{
    return f != NULL && (load_state(f) & PHASE_MASK) == RUNNING;
}

bool weft_future_done(const weft_future *f)
{
    return f != NULL && is_final(load_state(f));
}

/* Sets LINKED under the list lock unless f is final. Returns whether f was
 * still live (and is now LINKED). Caller holds the list lock. */
static bool mark_linked_locked(weft_future *f)
{
    uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
    for (;;) {
        if (is_final(s))
            return false;
        if (s & LINKED)
            return true;
        /* The list lock orders the lists themselves; the flag only diverts
         * completers to the lock, and single-word coherence suffices. */
        if (atomic_compare_exchange_weak_explicit(&f->state, &s, s | LINKED, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    }
}

int weft_future_add_done_callback(weft_future *f, void (*cb)(weft_future *f, void *ctx), void *ctx)
{
    if (f == NULL || cb == NULL)
        return EINVAL;
    if (weft_future_done(f)) {
        cb(f, ctx);
        return 0;
    }
    callback *c = malloc(sizeof *c);
    if (c == NULL)
        return ENOMEM;
    c->next = NULL;
    c->cb = cb;
    c->ctx = ctx;
    list_lock(f);
    if (!mark_linked_locked(f)) {
        list_unlock(f);
        free(c);
        cb(f, ctx);
        return 0;
    }
    *f->callbacks_tail = c;
    f->callbacks_tail = &c->next;
    list_unlock(f);
    return 0;
}

bool weft__future_hook_add(weft_future *f, weft__future_hook *h)
{
    h->next = NULL;
    h->pprev = NULL;
    if (weft_future_done(f))
        return false;
    list_lock(f);
    if (!mark_linked_locked(f)) {
        list_unlock(f);
        return false;
    }
    h->next = f->hooks;
    if (h->next != NULL)
        h->next->pprev = &h->next;
    h->pprev = &f->hooks;
    f->hooks = h;
    list_unlock(f);
    return true;
}

void weft__future_hook_remove(weft_future *f, weft__future_hook *h)
{
    list_lock(f);
    if (h->pprev != NULL) {
        *h->pprev = h->next;
        if (h->next != NULL)
            h->next->pprev = h->pprev;
        h->pprev = NULL;
        h->next = NULL;
    }
    list_unlock(f);
}

/* A wait on f by the public function fn (named in weft_dump's record). */
typedef struct final_wait {
    weft_future *f;
    const char *fn;
} final_wait;

static bool future_done_pred(void *ctx)
{
    return weft_future_done(((final_wait *)ctx)->f);
}

/* Sleeps on `state` until f may be final or d passes: 0 or ETIMEDOUT. The
 * waiters-bit protocol (sync/waitbit.h) with WAITERS as its bit. Only the
 * phase matters here: callers read the outcome through outcome(), whose
 * acquire load pairs with the completer's release CAS, so the first load may
 * be relaxed (the helper's are acquire, which costs nothing more on x86).
 * The dump's record spans this one sleep: a worker helps between sleeps, and
 * a helped task's own waits must show (diag/diag_impl.h). */
static int block_final(void *ctx, const weft__deadline *d)
{
    const final_wait *w = ctx;
    weft_future *f = w->f;
    WEFT__DIAG_SCOPE(blk);
    uint32_t s = atomic_load_explicit(&f->state, memory_order_relaxed);
    while (!is_final(s)) {
        int rc = weft__waitbit_sleep(&f->state, &s, WAITERS, d,
                                     &(weft__diag_wait){&blk, w->fn, f, WEFT__OBJ_FUTURE});
        if (rc != EAGAIN) /* EAGAIN: the word moved without a sleep, re-check */
            return rc;
    }
    return 0;
}

/* Wait until f is final. 0 or ETIMEDOUT. A pool worker helps meanwhile and
 * sleeps in block_final when it has nothing of its own to run. */
static int wait_final(weft_future *f, const weft__deadline *d, const char *fn)
{
    if (is_final(atomic_load_explicit(&f->state, memory_order_relaxed)))
        return 0;
    if (d->expired)
        return ETIMEDOUT;
    final_wait w = {f, fn};
    if (weft__sched_in_worker())
        return weft__sched_help_until_block(future_done_pred, block_final, &w, d);
    while (!is_final(atomic_load_explicit(&f->state, memory_order_relaxed))) {
        if (block_final(&w, d) == ETIMEDOUT)
            return is_final(atomic_load_explicit(&f->state, memory_order_relaxed)) ? 0 : ETIMEDOUT;
    }
    return 0;
}

static int future_wait(weft_future *f, double timeout, const char *fn)
{
    weft__deadline d;
    if (f == NULL || weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    return wait_final(f, &d, fn);
}

int weft_future_wait(weft_future *f, double timeout)
{
    return future_wait(f, timeout, "weft_future_wait");
}

/* The outcome of a final future: ECANCELED or the task's code. The acquire
 * in load_state orders the read of code after seeing FINISHED. */
static int outcome(const weft_future *f)
{
    uint32_t s = load_state(f);
    assert(is_final(s));
    return (s & PHASE_MASK) == CANCELLED ? ECANCELED : f->code;
}

int weft_future_result(weft_future *f, double timeout, void **result)
{
    int rc = future_wait(f, timeout, "weft_future_result");
    if (rc != 0)
        return rc;
    rc = outcome(f);
    if (rc == 0 && result != NULL)
        *result = f->result;
    return rc;
}

int weft_future_exception(weft_future *f, double timeout)
{
    int rc = future_wait(f, timeout, "weft_future_exception");
    if (rc != 0)
        return rc;
    return outcome(f);
}
