/* diag/dump.c: weft_dump and its signal handler.
 *
 * Design note. The dump reads only what can be read without waiting: the
 * thread records (record.c: a grow-only list of never-freed records, every
 * field atomic), the object names (names.c: lock-free), the held stacks
 * (lockdep), and the pools. Pools are freed by weft_pool_destroy, so the dump
 * looks at them under pools_lock, which destroy takes to unlist a pool; the
 * signal handler only try-locks it (the thread it interrupted may hold it)
 * and says so when it fails. Formatting goes through out.c (no stdio, no
 * malloc); the handler writes with write(2). Call sites are symbolised only
 * outside the handler (dladdr and libdw are not async-signal-safe).
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "diag/diag_impl.h"
#include "internal/atomics.h"
#include "pool/pool_impl.h"
#include "thread/fork.h"

/* ---- the pool list ----------------------------------------------------------- */

#define POOLS_MAX 256

static _Atomic bool pools_lock; /* a test-and-set lock; see the design note */
static const void *pools[POOLS_MAX];
static size_t npools_untracked;

static bool pools_trylock(void)
{
    /* acquire: pairs with the release store in pools_unlock. */
    return !atomic_exchange_explicit(&pools_lock, true, memory_order_acquire);
}

static void pools_lock_wait(void)
{
    while (!pools_trylock())
        weft__cpu_relax();
}

static void pools_unlock(void)
{
    /* release: our accesses to the list and to the pools happen-before the
     * next holder's (its acquire exchange in pools_trylock). */
    atomic_store_explicit(&pools_lock, false, memory_order_release);
}

/* fork: the child must not inherit the lock from a thread that vanished.
 * Run by thread/fork.c's handler (slot DIAG_POOLS; its note gives the order). */
static void pools_fork_prepare(void)
{
    pools_lock_wait();
}

static void pools_fork_release(void)
{
    pools_unlock();
}

static const weft__fork_hooks pools_fork = {pools_fork_prepare, pools_fork_release, pools_fork_release};

__attribute__((constructor)) static void pools_init(void)
{
    weft__fork_register(WEFT__FORK_DIAG_POOLS, &pools_fork);
}

void weft__diag_pool_register(const void *pool)
{
    pools_lock_wait();
    size_t i = 0;
    while (i < POOLS_MAX && pools[i] != NULL)
        i++;
    if (i < POOLS_MAX)
        pools[i] = pool;
    else
        npools_untracked++;
    pools_unlock();
}

void weft__diag_pool_unregister(const void *pool)
{
    pools_lock_wait();
    size_t i = 0;
    while (i < POOLS_MAX && pools[i] != pool)
        i++;
    if (i < POOLS_MAX)
        pools[i] = NULL;
    else if (npools_untracked > 0)
        npools_untracked--;
    pools_unlock();
}

static void dump_pool(weft__out *o, const weft_pool *p)
{
    const weft__sched *s = &p->sched;
    weft__out_str(o, "  ");
    weft__out_object(o, p, WEFT__OBJ_POOL);
    weft__out_str(o, " prefix ");
    weft__out_quoted(o, p->prefix);
    weft__out_str(o, ": ");
    weft__out_u64(o, s->nworkers);
    weft__out_str(o, s->ops == &weft__steal_ops ? " workers (stealing)" : " workers (mutex scheduler)");
    if (atomic_load_explicit(&s->broken, memory_order_relaxed))
        weft__out_str(o, ", broken");
    if (atomic_load_explicit(&p->shut, memory_order_relaxed))
        weft__out_str(o, ", shut down");
    if (s->ops == &weft__steal_ops) {
        const weft_ring *r = &s->inj.ring;
        uint64_t h = weft__ring_count(r, atomic_load_explicit(&((weft_ring *)r)->head, memory_order_relaxed));
        uint64_t t = weft__ring_count(r, atomic_load_explicit(&((weft_ring *)r)->tail, memory_order_relaxed));
        uint64_t pending = (h > t ? h - t : 0) +
                           atomic_load_explicit(&((weft__injector *)&s->inj)->overflow_len, memory_order_relaxed);
        weft__out_str(o, ", ");
        weft__out_u64(o, pending);
        weft__out_str(o, " outside tasks pending, deque depths [");
        for (size_t i = 0; i < s->nworkers; i++) {
            if (i > 0)
                weft__out_str(o, ", ");
            weft__out_u64(o, weft__deque_size(&s->workers[i].dq));
        }
        weft__out_char(o, ']');
    }
    weft__out_char(o, '\n');
}

/* ---- threads ----------------------------------------------------------- */

static bool listed(weft__diag_rec *r, weft__diag_blocked *b, bool *blocked)
{
    if (!atomic_load_explicit(&r->in_use, memory_order_relaxed))
        return false;
    *blocked = weft__diag_rec_blocked(r, b);
    return *blocked || atomic_load_explicit(&r->kind, memory_order_relaxed) != WEFT__THR_UNKNOWN;
}

static void dump_thread(weft__out *o, weft__diag_rec *r, const weft__diag_blocked *b, bool blocked, uint64_t now)
{
    weft__out_str(o, "  ");
    weft__out_thread(o, r);
    switch (atomic_load_explicit(&r->kind, memory_order_relaxed)) {
    case WEFT__THR_WEFT:
        weft__out_str(o, " weft thread");
        break;
    case WEFT__THR_DUMMY:
        weft__out_str(o, " dummy");
        break;
    case WEFT__THR_MAIN:
        weft__out_str(o, " main");
        break;
    case WEFT__THR_WORKER:
        weft__out_str(o, " worker ");
        weft__out_u64(o, atomic_load_explicit(&r->index, memory_order_relaxed));
        weft__out_str(o, " of pool ");
        weft__out_hex(o, (uintptr_t)atomic_load_explicit(&r->pool, memory_order_relaxed));
        break;
    default:
        break;
    }
    if (blocked) {
        weft__out_str(o, ": blocked in ");
        weft__out_str(o, b->fn);
        weft__out_str(o, " on ");
        weft__out_object(o, b->obj, b->kind);
        weft__out_str(o, " for ");
        weft__out_secs(o, now > b->since ? now - b->since : 0);
        weft__out_str(o, " s\n");
    } else {
        weft__out_str(o, ": running\n");
    }
}

#define OBJS_MAX 64

static void dump_waited(weft__out *o, bool signal, uint64_t now)
{
    const void *objs[OBJS_MAX];
    weft__obj_kind kinds[OBJS_MAX];
    size_t nobj = 0;
    for (weft__diag_rec *r = weft__diag_records(); r != NULL && nobj < OBJS_MAX; r = r->next) {
        weft__diag_blocked b;
        if (!atomic_load_explicit(&r->in_use, memory_order_relaxed) || !weft__diag_rec_blocked(r, &b))
            continue;
        size_t i = 0;
        while (i < nobj && objs[i] != b.obj)
            i++;
        if (i == nobj) {
            objs[nobj] = b.obj;
            kinds[nobj++] = b.kind;
        }
    }
    if (nobj == 0)
        return;
    weft__out_str(o, "waited on:\n");
    for (size_t i = 0; i < nobj; i++) {
        weft__out_str(o, "  ");
        weft__out_object(o, objs[i], kinds[i]);
        weft__out_str(o, ": waiters");
        for (weft__diag_rec *r = weft__diag_records(); r != NULL; r = r->next) {
            weft__diag_blocked b;
            if (!atomic_load_explicit(&r->in_use, memory_order_relaxed) || !weft__diag_rec_blocked(r, &b) ||
                b.obj != objs[i])
                continue;
            weft__out_char(o, ' ');
            weft__out_thread(o, r);
            weft__out_str(o, " for ");
            weft__out_secs(o, now > b.since ? now - b.since : 0);
            weft__out_str(o, " s;");
        }
        if (weft__lockdep_on() && (kinds[i] == WEFT__OBJ_LOCK || kinds[i] == WEFT__OBJ_RLOCK)) {
            uintptr_t site = 0;
            weft__diag_rec *owner = weft__lockdep_owner(objs[i], &site);
            if (owner != NULL) {
                weft__out_str(o, " held by ");
                weft__out_thread(o, owner);
                weft__out_str(o, ", acquired at ");
                if (signal)
                    weft__out_hex(o, site);
                else
                    weft__out_site(o, site);
            } else {
                weft__out_str(o, " holder unknown");
            }
        }
        weft__out_char(o, '\n');
    }
}

void weft__dump(weft__out *o, bool signal)
{
    uint64_t now = weft__now_ns();
    size_t n = 0;
    for (weft__diag_rec *r = weft__diag_records(); r != NULL; r = r->next) {
        weft__diag_blocked b;
        bool blocked;
        n += listed(r, &b, &blocked);
    }
    weft__out_str(o, "weft: dump of ");
    weft__out_u64(o, n);
    weft__out_str(o, n == 1 ? " thread" : " threads");
    weft__out_str(o, " (pid ");
    weft__out_i64(o, (int64_t)getpid());
    weft__out_str(o, weft__lockdep_on() ? ", lockdep on)\n" : ", lockdep off)\n");
    for (weft__diag_rec *r = weft__diag_records(); r != NULL; r = r->next) {
        weft__diag_blocked b;
        bool blocked;
        if (listed(r, &b, &blocked))
            dump_thread(o, r, &b, blocked, now);
    }
    if (signal ? pools_trylock() : (pools_lock_wait(), true)) {
        bool any = false;
        for (size_t i = 0; i < POOLS_MAX; i++) {
            if (pools[i] == NULL)
                continue;
            if (!any)
                weft__out_str(o, "pools:\n");
            any = true;
            dump_pool(o, pools[i]);
        }
        if (npools_untracked > 0) {
            weft__out_str(o, "  (");
            weft__out_u64(o, npools_untracked);
            weft__out_str(o, " more pools not listed)\n");
        }
        pools_unlock();
    } else {
        weft__out_str(o, "pools: (the pool list is busy: not shown)\n");
    }
    dump_waited(o, signal, now);
    weft__out_flush(o);
}

int weft_dump(FILE *out)
{
    if (out == NULL)
        return EINVAL;
    weft__out o = {.file = out};
    flockfile(out);
    weft__dump(&o, false);
    int err = ferror(out) ? EIO : 0;
    fflush(out);
    funlockfile(out);
    return err;
}

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    weft__out o = {.file = NULL, .fd = STDERR_FILENO};
    weft__dump(&o, true);
    errno = saved;
}

int weft_dump_on_signal(int sig)
{
    if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
        return EINVAL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL) == 0 ? 0 : errno;
}
