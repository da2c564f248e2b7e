/* thread/fork.c: fork() in a process that runs weft, Python's way.
 *
 * Design note.
 * Semantics (docs/RELIABILITY.md, "fork"). The child has only the forking
 * thread, and that thread is its main thread (weft_main_thread(); its
 * native id is the child's pid, its ident is unchanged: Python's
 * threading._after_fork). Every other weft thread, every pool and every
 * timer inherited from the parent is dead: threads are listed no more, are
 * not alive and join at once; a pool refuses submissions (ESHUTDOWN), its
 * shutdown returns at once and its destroy frees what can be freed without
 * joining a thread that does not exist (pool.c, sched/inherited.c). A new
 * pool and every primitive work in the child.
 *
 * The one pthread_atfork handler (installed once, when the library is
 * loaded) is the only one in weft: every module that holds state a fork
 * must bring across fills a slot of its table (fork.h, weft__fork_slot)
 * with prepare/parent/child hooks, and nothing else calls pthread_atfork.
 * It brings these across:
 *   1. liburcu-qsbr (the stealing scheduler reclaims deque buffers with it).
 *      Its registry links every registered reader's TLS block; in the child
 *      the vanished workers' blocks stay linked, glibc hands their stacks
 *      (TLS included) to the child's next threads, and re-initialising that
 *      memory corrupts the list (the crash in urcu_qsbr_unregister_thread of
 *      issue 10) or leaves a reader that never reaches a quiescent state
 *      (a grace period that never ends). liburcu-qsbr 0.13 has no registry
 *      reset of its own, and its registry lock is private. So:
 *        - weft's register, unregister and call_rcu calls run under
 *          rcu_lock, which prepare takes: no weft thread is inside liburcu's
 *          registry lock, or half way through a call_rcu enqueue, at fork;
 *        - prepare then calls call_rcu_before_fork (liburcu pauses its
 *          call_rcu threads; a paused one is unregistered and holds no lock);
 *        - the child unlinks the reader of every weft registration made by
 *          another thread (each was recorded here, with the address of the
 *          thread's urcu_qsbr_reader), then call_rcu_after_fork_child gives
 *          it a fresh call_rcu thread that inherits the pending callbacks.
 *      Readers registered by the application itself are its own business
 *      (liburcu documents the same for its other flavours).
 *   2. The fork generation: the child increments it first; pools record it
 *      at creation, so a pool that finds it changed knows its workers are
 *      gone without the child having to find every pool.
 *   3. The slots, each a module's locks held across fork so that the child
 *      gets consistent state, and the child then forgets what belonged to
 *      vanished threads:
 *        THREADS     the thread registry, then the weft_local list
 *                    (thread.c, local.c; both weft_locks): the child
 *                    unlists every thread but itself;
 *        LIVE_POOLS  pool.c's live-pool list mutex: the child forgets the
 *                    parent's pools, so its exit waits for none of them;
 *        DIAG_POOLS  diag/dump.c's pool-list spin lock;
 *        GIVEBACK    sched/giveback.c's malloc_trim lock (a worker may be
 *                    trimming; the child's pool destroy takes it);
 *        LOCKDEP     diag/lockdep.c's graph mutex; the child also forgets
 *                    the watchdog thread;
 *        RECORDS     diag/record.c (child only, no lock): the vanished
 *                    threads' records are freed.
 * Lock order in prepare, which is the order every hook's lock nests in at
 * run time (a lock is only ever taken while holding ones above it):
 *   rcu_lock
 *   > liburcu's call_rcu mutex (call_rcu_before_fork; a weft thread holding
 *     rcu_lock may need it inside call_rcu)
 *   > the thread registry > the locals list
 *   > the live-pool list (a leaf: nothing of weft's is taken under it)
 *   > dump's pool list (a leaf)
 *   > giveback's trim lock (a leaf: only malloc_trim runs under it)
 *   > lockdep's graph mutex (taken inside every weft_lock acquire while
 *     lockdep is on, the registry and locals included, so it must be last;
 *     nothing is taken under it but malloc and stdio, which glibc's fork
 *     handles itself).
 * Parent and child release in the reverse order (the graph mutex first, so
 * that releasing the registry may run lockdep's hooks). Prepare remembers
 * which slots it ran, and parent and child run only those: a slot filled
 * while a fork is in progress (a library loaded meanwhile) is not released
 * without having been taken.
 *
 * Objects that another thread of the parent was using at the instant of the
 * fork (a lock it held, a queue it was in the middle of) are as that thread
 * left them, as in Python: a lock it held stays held.
 */
#include "thread/fork.h"

#include <pthread.h>

#include <urcu/list.h>
#include <urcu/urcu-qsbr.h>
/* struct urcu_qsbr_reader and the urcu_qsbr_reader TLS symbol (exported by
 * the library; only the declarations are taken from this header). */
#include <urcu/static/urcu-qsbr.h>

#include "internal/atomics.h"

_Atomic uint32_t weft__fork_generation;

static pthread_mutex_t rcu_lock = PTHREAD_MUTEX_INITIALIZER;
static weft__rcu_reader *readers; /* under rcu_lock: weft's registrations */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void lock(void)
{
    int rc = pthread_mutex_lock(&rcu_lock);
    if (rc != 0)
        weft__die("pthread_mutex_lock(rcu_lock)", rc);
}

static void unlock(void)
{
    int rc = pthread_mutex_unlock(&rcu_lock);
    if (rc != 0)
        weft__die("pthread_mutex_unlock(rcu_lock)", rc);
}

static void readers_unlink(weft__rcu_reader *r)
{
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        readers = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

void weft__rcu_register(weft__rcu_reader *r)
{
    weft__fork_init();
    lock();
    urcu_qsbr_register_thread();
    r->tls = &urcu_qsbr_reader;
    r->prev = NULL;
    r->next = readers;
    if (readers != NULL)
        readers->prev = r;
    readers = r;
    unlock();
}

void weft__rcu_unregister(weft__rcu_reader *r)
{
    lock();
    urcu_qsbr_unregister_thread();
    readers_unlink(r);
    r->tls = NULL;
    unlock();
}

void weft__rcu_call(struct rcu_head *head, void (*fn)(struct rcu_head *head))
{
    lock();
    urcu_qsbr_call_rcu(head, fn);
    unlock();
}

/* The slots (fork.h); THREADS is thread.c's, known here. */
static const weft__fork_hooks thread_hooks = {weft__thread_fork_prepare, weft__thread_fork_parent,
                                              weft__thread_fork_child};
static _Atomic(const weft__fork_hooks *) slots[WEFT__FORK_NSLOTS] = {[WEFT__FORK_THREADS] = &thread_hooks};
/* The slots prepare ran, for parent and child. Written and read only by the
 * forking thread while it holds rcu_lock (forks are serialised by it). */
static const weft__fork_hooks *prepared[WEFT__FORK_NSLOTS];

void weft__fork_register(weft__fork_slot slot, const weft__fork_hooks *hooks)
{
    weft__fork_init();
    /* release: pairs with the acquire load in prepare, which may run on
     * another thread: the hooks' own static state is set up before. */
    atomic_store_explicit(&slots[slot], hooks, memory_order_release);
}

static void prepare(void)
{
    lock();
    urcu_qsbr_call_rcu_before_fork();
    for (size_t i = 0; i < WEFT__FORK_NSLOTS; i++) {
        /* acquire: pairs with the release store in weft__fork_register. */
        const weft__fork_hooks *h = atomic_load_explicit(&slots[i], memory_order_acquire);
        prepared[i] = h;
        if (h != NULL && h->prepare != NULL)
            h->prepare();
    }
}

static void parent(void)
{
    for (size_t i = WEFT__FORK_NSLOTS; i-- > 0;)
        if (prepared[i] != NULL && prepared[i]->parent != NULL)
            prepared[i]->parent();
    urcu_qsbr_call_rcu_after_fork_parent();
    unlock();
}

static void child(void)
{
    /* The generation first: thread.c's child hook may already build the
     * child's main thread entry, and nothing in the child may see a pool as
     * alive once the child runs. */
    atomic_store_explicit(&weft__fork_generation, weft__fork_gen() + 1, memory_order_relaxed);
    for (size_t i = WEFT__FORK_NSLOTS; i-- > 0;)
        if (prepared[i] != NULL && prepared[i]->child != NULL)
            prepared[i]->child();
    weft__rcu_reader *next;
    for (weft__rcu_reader *r = readers; r != NULL; r = next) {
        next = r->next;
        if (r->tls == &urcu_qsbr_reader)
            continue; /* the forking thread's own: it lives on */
        /* The child is single-threaded and no weft thread was inside
         * liburcu's registry lock at fork (rcu_lock), so the list may be
         * edited without it. */
        cds_list_del(&r->tls->node);
        r->tls = NULL;
        readers_unlink(r);
    }
    urcu_qsbr_call_rcu_after_fork_child();
    /* Held by the forking thread since prepare: it may unlock it. */
    unlock();
}

static void install(void)
{
    int rc = pthread_atfork(prepare, parent, child);
    if (rc != 0)
        weft__die("pthread_atfork", rc);
}

void weft__fork_init(void)
{
    int rc = pthread_once(&once, install);
    if (rc != 0)
        weft__die("pthread_once(fork)", rc);
}

/* At load: before any thread of the program can hold a lock a slot covers. */
__attribute__((constructor)) static void fork_load(void)
{
    weft__fork_init();
}
