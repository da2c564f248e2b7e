/** @file
 * weft/sync.h: Lock, RLock, Condition, Semaphore, BoundedSemaphore, Event,
 * Barrier, as in Python's threading module, on Linux futexes.
 *
 * Every object here is a transparent struct that may be embedded in another
 * struct, statically initialised with its WEFT_*_INIT macro or set up with its
 * *_init function, and needs no destroy. None may be copied or moved while a
 * thread uses it. None is shared between processes. Fields declared
 * WEFT_ATOMIC(T) are _Atomic T in C and plain T in C++, the same layout
 * (weft/atomic.h); they are private: use the functions.
 *
 * Which calls may run concurrently: every function here may be called from
 * any number of threads at once on the same object, except *_init, which must
 * not race with any other call on that object.
 *
 * Fairness, per object (details at each declaration):
 *   Lock       barging: a releasing thread does not hand the lock to a waiter;
 *              a woken waiter competes with newcomers. This is what makes the
 *              uncontended path one CAS and keeps throughput high; starvation
 *              is bounded in practice because a woken waiter retries with a
 *              fresh spin and the kernel queues futex waiters FIFO.
 *   RLock      as Lock (it is a Lock plus an owner and a count).
 *   Condition  notify(n) wakes at least n of the threads already waiting (if
 *              that many are waiting) and never a thread that began to wait
 *              after the notify; woken threads then barge for the lock.
 *   Semaphore  barging, as Lock: release(n) wakes up to n sleepers, but a
 *              thread arriving meanwhile may take the permit first; the woken
 *              thread then sleeps again. Futex queues are FIFO, so a sleeper is
 *              overtaken only by threads that never slept.
 *   Event      set() wakes every waiter; no ordering among them.
 *   Barrier    every party of a generation is released together.
 */
#ifndef WEFT_SYNC_H
#define WEFT_SYNC_H

#include "weft/atomic.h"
#include "weft/common.h"

WEFT_BEGIN_DECLS

/* ---- Lock --------------------------------------------------------------- */
/** Python's threading.Lock: not owned, so any thread may release it (Python
 * allows this too); releasing an unlocked lock is EPERM (RuntimeError).
 * States: 0 free, 1 held, 2 held and someone may sleep on it (Drepper,
 * "Futexes Are Tricky", mutex #3). Acquire spins briefly before sleeping.
 */
typedef struct weft_lock {
    WEFT_ATOMIC(uint32_t) state; /**< private: 0 free, 1 held, 2 held with possible sleepers */
} weft_lock;

/** A free lock, as a static initialiser. */
#define WEFT_LOCK_INIT                                                                                       \
    {                                                                                                        \
        0                                                                                                    \
    }

/** Makes l free (the same as WEFT_LOCK_INIT). */
WEFT_API void weft_lock_init(weft_lock *l);
/** The out-of-line half of weft_lock_acquire (contended path: spin, then
 * sleep on the futex); called by the inline fast path, not by users. */
WEFT_API int weft_lock_acquire_slow(weft_lock *l, double timeout);
/** The out-of-line half of weft_lock_release (wakes a sleeper; EPERM when
 * old_state says the lock was free); called by the inline fast path. */
WEFT_API int weft_lock_release_slow(weft_lock *l, uint32_t old_state);

/** Lockdep (weft/diag.h): while weft_lockdep_active is nonzero, the acquires
 * and releases of user code go through the checker instead. The test is one
 * relaxed load of a global and a predictable branch. weft's own files are
 * built without it (WEFT_BUILDING): their locks are internal and untracked.
 * Part of the ABI because the inline functions below use them; not for
 * direct use: call weft_lockdep_enable(). */
extern WEFT_API int weft_lockdep_active;
/**
 * weft_lock_acquire() with lockdep on (checks the order, then acquires):
 * what the inline fast path calls while weft_lockdep_active is set.
 * @return as weft_lock_acquire().
 */
WEFT_API int weft_lock_acquire_lockdep(weft_lock *l, double timeout);
/**
 * weft_lock_release() with lockdep on: forgets the lock, then releases it.
 * @return as weft_lock_release().
 */
WEFT_API int weft_lock_release_lockdep(weft_lock *l);
#if defined(WEFT_BUILDING)
#define WEFT__LOCKDEP_ON() 0
#else
#define WEFT__LOCKDEP_ON() __atomic_load_n(&weft_lockdep_active, __ATOMIC_RELAXED)
#endif

/** Acquire: 0, EAGAIN (timeout <= 0 and held), ETIMEDOUT, EINVAL (NaN, or l
 * NULL). Uncontended cost: one compare-and-swap and the lockdep flag test (the NULL and NaN tests are
 * compares, no memory traffic; the compiler drops the NULL test when l is
 * the address of an object). */
static inline int weft_lock_acquire(weft_lock *l, double timeout)
{
    uint32_t expected = 0;
    if (WEFT_UNLIKELY(l == NULL || __builtin_isnan(timeout)))
        return EINVAL;
    if (WEFT_UNLIKELY(WEFT__LOCKDEP_ON()))
        return weft_lock_acquire_lockdep(l, timeout);
    /* acquire: pairs with the release exchange in weft_lock_release, so the
     * previous holder's critical section happens-before ours. */
    if (WEFT_LIKELY(weft__atomic_cas_acquire_u32(&l->state, &expected, 1)))
        return 0;
    return weft_lock_acquire_slow(l, timeout);
}

/** Release: 0, EPERM when the lock was not held, EINVAL when l is NULL. Wakes
 * one sleeper only when the state says someone may sleep (2). */
static inline int weft_lock_release(weft_lock *l)
{
    if (WEFT_UNLIKELY(l == NULL))
        return EINVAL;
    if (WEFT_UNLIKELY(WEFT__LOCKDEP_ON()))
        return weft_lock_release_lockdep(l);
    /* release: publishes the critical section to the next acquirer's acquire
     * CAS/exchange (weft_lock_acquire / weft_lock_acquire_slow). */
    uint32_t old = weft__atomic_exchange_release_u32(&l->state, 0);
    if (WEFT_LIKELY(old == 1))
        return 0;
    return weft_lock_release_slow(l, old);
}

/** Whether the lock is held by anybody (a snapshot). */
static inline bool weft_lock_locked(const weft_lock *l)
{
    return l != NULL && weft__atomic_load_relaxed_u32(&l->state) != 0;
}

/* ---- RLock -------------------------------------------------------------- */
/** Python's threading.RLock: owned; the owner may acquire again, and must
 * release as many times. Release by a non-owner is EPERM.
 */
typedef struct weft_rlock {
    weft_lock lock;               /**< private: the underlying lock */
    WEFT_ATOMIC(uintptr_t) owner; /**< weft__self_token() of the owner, 0 when free */
    uint32_t count;               /**< written only by the owner */
} weft_rlock;

/** A free RLock, as a static initialiser. */
#define WEFT_RLOCK_INIT                                                                                      \
    {                                                                                                        \
        WEFT_LOCK_INIT, 0, 0                                                                                 \
    }

/** Makes l free, with no owner (the same as WEFT_RLOCK_INIT). */
WEFT_API void weft_rlock_init(weft_rlock *l);
/** 0, EAGAIN, ETIMEDOUT, EINVAL; EOVERFLOW past 2^32-1 nested acquires. */
WEFT_API int weft_rlock_acquire(weft_rlock *l, double timeout);
/** 0, or EPERM when the caller is not the owner. */
WEFT_API int weft_rlock_release(weft_rlock *l);
/** Whether the calling thread owns l. */
WEFT_API bool weft_rlock_is_owned(const weft_rlock *l);
/** Whether any thread holds l (Python's RLock.locked(), 3.14): a snapshot.
 *  @param l the RLock (NULL: false)
 *  @return true while some thread owns l at any nesting level */
WEFT_API bool weft_rlock_locked(const weft_rlock *l);

/* ---- Condition ---------------------------------------------------------- */
/** Python's threading.Condition bound to a weft_lock (weft_cond_init) or to a
 * weft_rlock (weft_cond_init_rlock, Python's default Condition()). wait/notify
 * must be called with the lock held: EPERM when a weft_lock is not held at
 * all (weft_lock has no owner, so holding by another thread cannot be
 * detected), or when the calling thread does not own the weft_rlock.
 * wait releases the lock (every level of an RLock), sleeps, and re-acquires
 * it (restoring the levels) before returning, also on ETIMEDOUT. Spurious
 * wake-ups are allowed, as in Python: use weft_cond_wait_for or loop on your
 * predicate.
 */
typedef struct weft_cond {
    weft_lock *lock;               /**< the lock, or the RLock's inner lock */
    WEFT_ATOMIC(uint32_t) seq;     /**< futex word: bumped by every notify */
    WEFT_ATOMIC(uint32_t) waiters; /**< threads inside wait; changed under lock */
    weft_rlock *rlock;             /**< the RLock, or NULL when bound to a Lock */
} weft_cond;

/** A condition bound to the weft_lock at lockptr, as a static initialiser. */
#define WEFT_COND_INIT(lockptr)                                                                              \
    {                                                                                                        \
        (lockptr), 0, 0, NULL                                                                                \
    }

/** EINVAL when lock is NULL. */
WEFT_API int weft_cond_init(weft_cond *c, weft_lock *lock);
/** Bind c to an RLock, as Python's Condition() (whose default lock is an
 *  RLock). Every weft_cond call then works on it: wait and wait_for release
 *  every level the caller holds and restore them before returning; wait,
 *  wait_for and notify return EPERM when the calling thread does not own l.
 *  @param c the condition to initialise
 *  @param l the RLock it is bound to
 *  @return 0, or EINVAL when c or l is NULL */
WEFT_API int weft_cond_init_rlock(weft_cond *c, weft_rlock *l);
/** 0 when woken (or spuriously), ETIMEDOUT, EINVAL (NaN), EPERM (lock not held). */
WEFT_API int weft_cond_wait(weft_cond *c, double timeout);
/** Waits until pred(ctx) is true: 0 once it holds, ETIMEDOUT if it still does
 * not at the deadline, EINVAL, EPERM. pred is evaluated with the lock held. */
WEFT_API int weft_cond_wait_for(weft_cond *c, bool (*pred)(void *), void *ctx, double timeout);
/** Wake up to n waiters. 0, EPERM (lock not held). */
WEFT_API int weft_cond_notify(weft_cond *c, size_t n);
/** Wake every waiter. 0, EPERM (lock not held). */
WEFT_API int weft_cond_notify_all(weft_cond *c);

/* ---- Semaphore / BoundedSemaphore --------------------------------------- */
/** Python's threading.Semaphore and BoundedSemaphore: a count of permits;
 * acquire takes one (waiting while there is none), release adds some. */
typedef struct weft_sem {
    WEFT_ATOMIC(uint32_t) value;   /**< futex word: available permits */
    WEFT_ATOMIC(uint32_t) waiters; /**< threads that may sleep on value */
    uint32_t bound;                /**< 0: unbounded; else the initial value */
} weft_sem;

/** Semaphore(n), as a static initialiser. */
#define WEFT_SEM_INIT(n)                                                                                     \
    {                                                                                                        \
        (n), 0, 0                                                                                            \
    }
/** BoundedSemaphore(n), as a static initialiser (n > 0). */
#define WEFT_BOUNDED_SEM_INIT(n)                                                                             \
    {                                                                                                        \
        (n), 0, (n)                                                                                          \
    }

/** n up to UINT32_MAX - 1; EINVAL beyond. Bounded with n == 0 is EINVAL
 * (it could never be released). */
WEFT_API int weft_sem_init(weft_sem *s, size_t n);
/** BoundedSemaphore(n): as weft_sem_init, and releasing past n is
 * EOVERFLOW. EINVAL when n == 0 or n > UINT32_MAX - 1. */
WEFT_API int weft_sem_init_bounded(weft_sem *s, size_t n);
/** 0, EAGAIN, ETIMEDOUT, EINVAL. */
WEFT_API int weft_sem_acquire(weft_sem *s, double timeout);
/** Adds n permits and wakes up to n sleepers. EINVAL when n == 0; EOVERFLOW
 * when a bounded semaphore would exceed its initial value (or any semaphore
 * would exceed UINT32_MAX - 1); nothing changes on failure. */
WEFT_API int weft_sem_release(weft_sem *s, size_t n);
/** Permits available now (a snapshot). */
WEFT_API size_t weft_sem_value(const weft_sem *s);

/* ---- Event -------------------------------------------------------------- */
/** Python's threading.Event: a flag that threads wait for. */
typedef struct weft_event {
    WEFT_ATOMIC(uint32_t) state; /**< bit 0 set, bit 1 sleepers, bits 2.. generation */
} weft_event;

/** A clear event, as a static initialiser. */
#define WEFT_EVENT_INIT                                                                                      \
    {                                                                                                        \
        0                                                                                                    \
    }

/** Makes e clear, with no waiter (the same as WEFT_EVENT_INIT). */
WEFT_API void weft_event_init(weft_event *e);
/** Sets the flag and wakes all waiters; costs no syscall when nobody waits. */
WEFT_API void weft_event_set(weft_event *e);
/** Resets the flag; later waits block until the next set. */
WEFT_API void weft_event_clear(weft_event *e);
/** Whether the flag is set (a snapshot). */
WEFT_API bool weft_event_is_set(const weft_event *e);
/** 0 once set (at once if already set; also when a set() happened while it
 * waited and a clear() followed, as in Python), ETIMEDOUT, EINVAL (NaN). */
WEFT_API int weft_event_wait(weft_event *e, double timeout);

/* ---- Barrier ------------------------------------------------------------ */
/** Python's threading.Barrier. wait returns each party's arrival index
 * (0 .. parties-1) in *index (may be NULL). The last party to arrive runs
 * action(action_ctx) before the others are released, holding the barrier's
 * internal lock: the action must not call the barrier's own functions.
 * A wait that times out breaks the barrier: it returns ETIMEDOUT and the other
 * waiters EPIPE (BrokenBarrierError); later waits return EPIPE until reset.
 * abort() breaks it the same way; reset() releases current waiters with EPIPE
 * and makes the barrier usable again.
 * The timeout given to init bounds every wait: a wait uses the smaller of its
 * own timeout and the barrier's (pass WEFT_FOREVER to wait to use the
 * barrier's own).
 */
struct weft__barrier_waiter;
/** A barrier: see above. */
typedef struct weft_barrier {
    weft_lock lock;                       /**< guards every field below */
    WEFT_ATOMIC(uint32_t) gen;            /**< futex word: bumped when a generation ends */
    size_t parties;                       /**< given to init */
    size_t count;                         /**< arrived in this generation */
    bool broken;                          /**< until reset */
    bool releasing;                       /**< the last party runs the action (outside the lock) */
    void (*action)(void *);               /**< run by the last party to arrive; may be NULL */
    void *action_ctx;                     /**< action's argument */
    double timeout;                       /**< the default (and bound) of every wait */
    struct weft__barrier_waiter *waiting; /**< this generation's sleepers */
} weft_barrier;

/** Barrier(n) without action or timeout, as a static initialiser. */
#define WEFT_BARRIER_INIT(n)                                                                                 \
    {                                                                                                        \
        WEFT_LOCK_INIT, 0, (n), 0, false, false, NULL, NULL, WEFT_FOREVER, NULL                              \
    }

/** EINVAL when parties == 0 or timeout is NaN. */
WEFT_API int weft_barrier_init(weft_barrier *b, size_t parties, void (*action)(void *), void *action_ctx,
                               double timeout);
/** 0, ETIMEDOUT (this wait timed out and broke the barrier), EPIPE (broken),
 * EINVAL (NaN timeout). */
WEFT_API int weft_barrier_wait(weft_barrier *b, double timeout, size_t *index);
/** Breaks the barrier: current and later waits return EPIPE until reset. */
WEFT_API void weft_barrier_abort(weft_barrier *b);
/** Releases current waiters with EPIPE and makes the barrier usable again
 * (a new generation, no party arrived). */
WEFT_API void weft_barrier_reset(weft_barrier *b);
/** The number of parties given to init. */
WEFT_API size_t weft_barrier_parties(const weft_barrier *b);
/** How many parties wait in the current generation (a snapshot). */
WEFT_API size_t weft_barrier_n_waiting(weft_barrier *b);
/** Whether the barrier is broken (a timed-out wait, abort). */
WEFT_API bool weft_barrier_broken(weft_barrier *b);

WEFT_END_DECLS

#endif /* WEFT_SYNC_H */
