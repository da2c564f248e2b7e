/* thread/fork.h: what the rest of weft needs from thread/fork.c, the one
 * place that handles fork(). Internal.
 *
 * Which calls may run concurrently: all of them, on any threads (the atfork
 * handlers exclude the rcu calls below while a fork is in progress).
 */
#ifndef WEFT_THREAD_FORK_H
#define WEFT_THREAD_FORK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct rcu_head;
struct urcu_qsbr_reader;

/* Installs weft's pthread_atfork handler, once per process. Done when the
 * library is loaded (a constructor in fork.c); also called by every entry
 * point that makes state a fork must handle (threads, pools), so that a
 * static link that somehow ran no constructor is still covered. */
void weft__fork_init(void);

/* Incremented in every child process, by the forking thread before fork()
 * returns there. An object that records the value at creation and finds it
 * changed was inherited from a parent: its threads do not exist. */
extern _Atomic uint32_t weft__fork_generation;

static inline uint32_t weft__fork_gen(void)
{
    /* Relaxed: written only in a child while it has a single thread, before
     * any other thread of the child exists (thread creation orders it). */
    return atomic_load_explicit(&weft__fork_generation, memory_order_relaxed);
}

/* A liburcu-qsbr reader registered by weft (a stealing worker). The
 * registrations are recorded so that a child can drop the readers of
 * threads that vanished at fork from liburcu's registry. Embedded in the
 * worker; owned by fork.c between register and unregister. */
typedef struct weft__rcu_reader {
    struct weft__rcu_reader *prev, *next;
    struct urcu_qsbr_reader *tls; /* the thread's urcu_qsbr_reader; NULL once dropped */
} weft__rcu_reader;

/* urcu_qsbr_register_thread / _unregister_thread for the calling thread,
 * recorded in r. */
void weft__rcu_register(weft__rcu_reader *r);
void weft__rcu_unregister(weft__rcu_reader *r);

/* urcu_qsbr_call_rcu, never in progress while the process forks (a
 * half-done enqueue would leave the child's call_rcu thread waiting forever
 * for a link that no thread will write). */
void weft__rcu_call(struct rcu_head *head, void (*fn)(struct rcu_head *head));

/* thread.c's and local.c's handlers, run by fork.c's (its first slot). */
void weft__thread_fork_prepare(void);
void weft__thread_fork_parent(void);
void weft__thread_fork_child(void);

/* The other modules' fork hooks. fork.c's one pthread_atfork handler runs
 * the prepare hooks in slot order (after its own liburcu step) and the
 * parent and child hooks in the reverse order; its design note says why this
 * order. A module registers its hooks once, from a constructor (the library
 * is loaded), never while holding a lock. Any hook may be NULL. */
typedef enum weft__fork_slot {
    WEFT__FORK_THREADS,    /* thread.c + local.c (registered by fork.c itself) */
    WEFT__FORK_LIVE_POOLS, /* pool.c: the live-pool list (exit sequence) */
    WEFT__FORK_DIAG_POOLS, /* diag/dump.c: the pool list weft_dump reads */
    WEFT__FORK_GIVEBACK,   /* sched/giveback.c: the malloc_trim lock */
    WEFT__FORK_LOCKDEP,    /* diag/lockdep.c: the lock-order graph */
    WEFT__FORK_RECORDS,    /* diag/record.c: per-thread records (child only) */
    WEFT__FORK_NSLOTS
} weft__fork_slot;

typedef struct weft__fork_hooks {
    void (*prepare)(void); /* take the module's locks */
    void (*parent)(void);  /* release them */
    void (*child)(void);   /* release or reset them; forget vanished threads */
} weft__fork_hooks;

/* Fills `slot` (once; hooks must stay valid for the process's life) and
 * installs the handler (weft__fork_init). */
void weft__fork_register(weft__fork_slot slot, const weft__fork_hooks *hooks);

#endif /* WEFT_THREAD_FORK_H */
