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
 * The one pthread_atfork handler (installed once, by the first thread or
 * pool) brings three things across:
 *   1. The thread registry and the weft_local list (thread.c, local.c):
 *      their locks are held across fork, so the child gets consistent lists,
 *      and the child unlists every thread but itself.
 *   2. liburcu-qsbr (the stealing scheduler reclaims deque buffers with it).
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
 *   3. The fork generation: the child increments it; pools record it at
 *      creation, so a pool that finds it changed knows its workers are gone
 *      without the child having to find every pool.
 * Lock order in prepare: rcu_lock, then liburcu's call_rcu mutex (taken by
 * call_rcu_before_fork; a weft thread holding rcu_lock may need that mutex
 * inside call_rcu, so rcu_lock must come first), then the thread registry
 * and the locals list. Nothing takes rcu_lock while holding either of the
 * latter. Parent and child release in the reverse order.
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

static void prepare(void)
{
    lock();
    urcu_qsbr_call_rcu_before_fork();
    weft__thread_fork_prepare();
}

static void parent(void)
{
    weft__thread_fork_parent();
    urcu_qsbr_call_rcu_after_fork_parent();
    unlock();
}

static void child(void)
{
    /* The generation first: thread.c's child handler may already build the
     * child's main thread entry, and nothing in the child may see a pool as
     * alive once the child runs. */
    atomic_store_explicit(&weft__fork_generation, weft__fork_gen() + 1, memory_order_relaxed);
    weft__thread_fork_child();
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
