/* diag/lockdep.c: the lock-order checker (in the spirit of Linux's lockdep,
 * Documentation/locking/lockdep-design.rst), per lock rather than per class.
 *
 * Design note.
 * Each thread keeps the locks it holds, oldest first, in its record
 * (record.c). The lock graph has an edge A -> B when some thread acquired B
 * while holding A; it is kept acyclic. Before a thread blocks on a lock L it
 * looks, for every lock H it holds, whether H -> L is already known; if not,
 * a search from L for H (breadth first) tells whether L ->...-> H exists, in
 * which case adding H -> L would close a cycle: two threads running those
 * chains at once could each hold what the other wants. That is reported
 * once, and H -> L is kept marked `inverted` (so the same pair is not
 * reported again and the search never follows it). A non-blocking acquire
 * (timeout <= 0) cannot deadlock: it adds no edge, but the lock it took
 * counts as held for the ones that follow. Recursion of an RLock is not an
 * acquisition.
 * Which locks: user code's weft_lock (the inline fast path in weft/sync.h
 * sends every acquire and release here while the flag is on), weft_rlock and
 * the lock under weft_cond (hooks in rlock.c and cond.c). weft's own internal
 * locks are compiled with the check off (WEFT_BUILDING), so they never show.
 * A weft_lock may be released by another thread than the one that took it
 * (Python allows it): the releaser clears the entry in the taker's record with
 * a CAS (the taker trims it from the top of its stack later).
 * The graph is under one mutex: lockdep is a debugging mode, and the cost of
 * an acquire with it on is that mutex and a hash lookup per held lock.
 *
 * Deadlocks. A watchdog thread, started at the first tracked blocking
 * acquire, looks every timeout/2 for threads blocked on a lock (the record's
 * blocked state, set by the lock slow paths) for longer than the timeout, and
 * follows thread -> wanted lock -> holder (from the held stacks) -> ... . A
 * walk that comes back to its first thread is a cycle; it is reported if a
 * second look, a little later, finds every thread of it still blocked in the
 * same wait (same object, same start time): the held stacks are read without
 * locks, and a cycle that is real does not move.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag/diag_impl.h"
#include "internal/atomics.h"
#include "thread/fork.h"

/* Read by the inline fast path with __atomic_load_n (relaxed): a plain int so
 * that C++ code including weft/sync.h can read it too. */
WEFT_API int weft_lockdep_active;

static double lockdep_timeout = 5.0;

bool weft__lockdep_on(void)
{
    return __atomic_load_n(&weft_lockdep_active, __ATOMIC_RELAXED) != 0;
}

void weft_lockdep_enable(void)
{
    __atomic_store_n(&weft_lockdep_active, 1, __ATOMIC_RELAXED);
}

bool weft_lockdep_enabled(void)
{
    return weft__lockdep_on();
}

static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);
static const weft__fork_hooks lockdep_fork = {fork_prepare, fork_parent, fork_child};

__attribute__((constructor)) static void lockdep_env(void)
{
    weft__fork_register(WEFT__FORK_LOCKDEP, &lockdep_fork);
    const char *t = getenv("WEFT_LOCKDEP_TIMEOUT");
    if (t != NULL && *t != '\0') {
        char *end;
        double v = strtod(t, &end);
        if (*end == '\0' && v > 0 && v < 1e9)
            lockdep_timeout = v;
    }
    const char *e = getenv("WEFT_LOCKDEP");
    if (e != NULL && *e != '\0' && strcmp(e, "0") != 0)
        weft_lockdep_enable();
}

/* ---- the graph ----------------------------------------------------------- */

typedef struct edge {
    const void *to;
    uintptr_t from_site, to_site; /* where the holder took `from`, then `to` */
    unsigned long ident;
    long tid;
    char thread[40]; /* the thread's name then, "" if none */
    bool inverted;   /* closed a cycle: reported, never followed */
} edge;

typedef struct node {
    const void *lock;
    weft__obj_kind kind;
    edge *edges;
    size_t nedges, cap;
    unsigned visit;         /* search generation */
    struct node *via_node;  /* search: where we came from */
    const edge *via_edge;
} node;

static pthread_mutex_t graph_mu = PTHREAD_MUTEX_INITIALIZER;
static node **table; /* open addressing, linear probing; NULL = empty */
static size_t table_cap, table_n;
static unsigned visit_gen;
static bool out_of_memory;

static size_t hash_ptr(const void *p, size_t cap)
{
    uintptr_t h = (uintptr_t)p;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (size_t)h & (cap - 1);
}

static node *node_find(const void *lock)
{
    if (table_cap == 0)
        return NULL;
    for (size_t i = hash_ptr(lock, table_cap);; i = (i + 1) & (table_cap - 1)) {
        if (table[i] == NULL)
            return NULL;
        if (table[i]->lock == lock)
            return table[i];
    }
}

static bool table_put(node **t, size_t cap, node *n)
{
    for (size_t i = hash_ptr(n->lock, cap);; i = (i + 1) & (cap - 1)) {
        if (t[i] == NULL) {
            t[i] = n;
            return true;
        }
    }
}

static bool table_grow(void)
{
    size_t cap = table_cap == 0 ? 256 : table_cap * 2;
    node **t = calloc(cap, sizeof *t);
    if (t == NULL)
        return false;
    for (size_t i = 0; i < table_cap; i++)
        if (table[i] != NULL)
            table_put(t, cap, table[i]);
    free(table);
    table = t;
    table_cap = cap;
    return true;
}

static node *node_get(const void *lock, weft__obj_kind kind)
{
    node *n = node_find(lock);
    if (n != NULL)
        return n;
    if ((table_n + 1) * 2 > table_cap && !table_grow())
        return NULL;
    n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->lock = lock;
    n->kind = kind;
    table_put(table, table_cap, n);
    table_n++;
    return n;
}

static edge *edge_find(node *from, const void *to)
{
    for (size_t i = 0; i < from->nedges; i++)
        if (from->edges[i].to == to)
            return &from->edges[i];
    return NULL;
}

static edge *edge_add(node *from, const void *to)
{
    if (from->nedges == from->cap) {
        size_t cap = from->cap == 0 ? 4 : from->cap * 2;
        edge *e = realloc(from->edges, cap * sizeof *e);
        if (e == NULL)
            return NULL;
        from->edges = e;
        from->cap = cap;
    }
    edge *e = &from->edges[from->nedges++];
    memset(e, 0, sizeof *e);
    e->to = to;
    return e;
}

/* Breadth-first search from `from` for `target` along edges that are not
 * inverted; on success the path is target->via_node ... back to from. */
static bool path_exists(node *from, node *target)
{
    if (++visit_gen == 0)
        visit_gen = 1;
    size_t cap = table_n + 1, head = 0, tail = 0;
    node **queue = malloc(cap * sizeof *queue);
    if (queue == NULL)
        return false;
    from->visit = visit_gen;
    from->via_node = NULL;
    queue[tail++] = from;
    bool found = false;
    while (head < tail && !found) {
        node *n = queue[head++];
        for (size_t i = 0; i < n->nedges && !found; i++) {
            const edge *e = &n->edges[i];
            if (e->inverted)
                continue;
            node *m = node_find(e->to);
            if (m == NULL || m->visit == visit_gen)
                continue;
            m->visit = visit_gen;
            m->via_node = n;
            m->via_edge = e;
            if (m == target)
                found = true;
            else if (tail < cap)
                queue[tail++] = m;
        }
    }
    free(queue);
    return found;
}

int weft_lockdep_forget(const void *lock)
{
    if (lock == NULL)
        return EINVAL;
    pthread_mutex_lock(&graph_mu);
    node *gone = node_find(lock);
    if (gone != NULL) {
        node **t = calloc(table_cap, sizeof *t);
        if (t != NULL) {
            for (size_t i = 0; i < table_cap; i++) {
                node *n = table[i];
                if (n == NULL || n == gone)
                    continue;
                size_t k = 0;
                for (size_t j = 0; j < n->nedges; j++)
                    if (n->edges[j].to != lock)
                        n->edges[k++] = n->edges[j];
                n->nedges = k;
                table_put(t, table_cap, n);
            }
            free(table);
            table = t;
            table_n--;
            free(gone->edges);
            free(gone);
        }
    }
    pthread_mutex_unlock(&graph_mu);
    return 0;
}

/* ---- reports ------------------------------------------------------------- */

static void out_edge_thread(weft__out *o, const edge *e)
{
    if (e->thread[0] != '\0')
        weft__out_quoted(o, e->thread);
    else
        weft__out_str(o, "(not a weft thread)");
    weft__out_str(o, " (ident ");
    weft__out_u64(o, e->ident);
    weft__out_str(o, ", tid ");
    weft__out_i64(o, e->tid);
    weft__out_char(o, ')');
}

/* Thread r takes `want` (at site) while holding h (taken at h_site); the graph
 * already orders want before h along the path found by path_exists. */
static void report_inversion(const weft__diag_rec *r, node *hn, uintptr_t h_site, node *wn, uintptr_t site)
{
    weft__out o = {.file = stderr};
    flockfile(stderr);
    weft__out_str(&o, "weft: lock order inversion: thread ");
    weft__out_thread(&o, r);
    weft__out_str(&o, " acquires ");
    weft__out_object(&o, wn->lock, wn->kind);
    weft__out_str(&o, " while holding ");
    weft__out_object(&o, hn->lock, hn->kind);
    weft__out_str(&o, ", but the opposite order was seen before\n");
    weft__out_str(&o, "  this thread, ");
    weft__out_thread(&o, r);
    weft__out_str(&o, ":\n    holds    ");
    weft__out_object(&o, hn->lock, hn->kind);
    weft__out_str(&o, ", acquired at ");
    weft__out_site(&o, h_site);
    weft__out_str(&o, "\n    acquires ");
    weft__out_object(&o, wn->lock, wn->kind);
    weft__out_str(&o, " at ");
    weft__out_site(&o, site);
    weft__out_char(&o, '\n');
    /* The path want -> ... -> h, in order: collect it backwards from h. */
    const edge *chain[64];
    node *from[64];
    size_t len = 0;
    for (node *n = hn; n != wn && n->via_node != NULL && len < 64; n = n->via_node) {
        chain[len] = n->via_edge;
        from[len] = n->via_node;
        len++;
    }
    for (size_t i = len; i-- > 0;) {
        const edge *e = chain[i];
        node *to = node_find(e->to);
        weft__out_str(&o, "  earlier, thread ");
        out_edge_thread(&o, e);
        weft__out_str(&o, ":\n    held     ");
        weft__out_object(&o, from[i]->lock, from[i]->kind);
        weft__out_str(&o, ", acquired at ");
        weft__out_site(&o, e->from_site);
        weft__out_str(&o, "\n    acquired ");
        weft__out_object(&o, e->to, to != NULL ? to->kind : WEFT__OBJ_LOCK);
        weft__out_str(&o, " at ");
        weft__out_site(&o, e->to_site);
        weft__out_char(&o, '\n');
    }
    weft__out_str(&o, "  threads running these at the same time can deadlock; reported once, the program goes "
                      "on\n");
    weft__out_flush(&o);
    funlockfile(stderr);
}

static void start_watchdog(void);

/* ---- hooks --------------------------------------------------------------- */

void weft__lockdep_will_acquire(const void *lock, weft__obj_kind kind, uintptr_t site, bool trylock)
{
    if (trylock)
        return;
    weft__diag_rec *r = weft__diag_self();
    if (r == NULL)
        return;
    start_watchdog();
    uint32_t n = atomic_load_explicit(&r->nheld, memory_order_relaxed);
    if (n == 0)
        return;
    pthread_mutex_lock(&graph_mu);
    node *wn = out_of_memory ? NULL : node_get(lock, kind);
    for (uint32_t i = 0; wn != NULL && i < n; i++) {
        const void *h = atomic_load_explicit(&r->held[i].lock, memory_order_relaxed);
        if (h == NULL || h == lock)
            continue;
        node *hn = node_get(h, (weft__obj_kind)atomic_load_explicit(&r->held[i].kind, memory_order_relaxed));
        if (hn == NULL) {
            wn = NULL;
            break;
        }
        if (edge_find(hn, lock) != NULL)
            continue;
        uintptr_t h_site = atomic_load_explicit(&r->held[i].site, memory_order_relaxed);
        bool cycle = path_exists(wn, hn);
        if (cycle)
            report_inversion(r, hn, h_site, wn, site);
        edge *e = edge_add(hn, lock);
        if (e == NULL) {
            wn = NULL;
            break;
        }
        e->from_site = h_site;
        e->to_site = site;
        e->ident = atomic_load_explicit(&r->ident, memory_order_relaxed);
        e->tid = atomic_load_explicit(&r->tid, memory_order_relaxed);
        if (!weft__diag_rec_name(r, e->thread, sizeof e->thread))
            e->thread[0] = '\0';
        e->inverted = cycle;
    }
    if (wn == NULL && !out_of_memory) {
        out_of_memory = true;
        fputs("weft: lockdep: out of memory; lock order is no longer checked\n", stderr);
    }
    pthread_mutex_unlock(&graph_mu);
}

void weft__lockdep_acquired(const void *lock, weft__obj_kind kind, uintptr_t site)
{
    weft__diag_rec *r = weft__diag_self();
    if (r == NULL)
        return;
    uint32_t n = atomic_load_explicit(&r->nheld, memory_order_relaxed);
    if (n == WEFT__DIAG_HELD_MAX) {
        if (!r->held_overflow) {
            r->held_overflow = true;
            fprintf(stderr, "weft: lockdep: a thread holds more than %d locks; the rest are not tracked\n",
                    WEFT__DIAG_HELD_MAX);
        }
        return;
    }
    atomic_store_explicit(&r->held[n].site, site, memory_order_relaxed);
    atomic_store_explicit(&r->held[n].kind, (int)kind, memory_order_relaxed);
    atomic_store_explicit(&r->held[n].lock, lock, memory_order_relaxed);
    /* release: the entry's fields are visible to readers that see the new
     * count (acquire loads of nheld in weft__lockdep_owner). */
    atomic_store_explicit(&r->nheld, n + 1, memory_order_release);
}

static bool clear_entry(weft__diag_held *h, const void *lock)
{
    const void *expected = lock;
    return atomic_compare_exchange_strong_explicit(&h->lock, &expected, NULL, memory_order_relaxed,
                                                   memory_order_relaxed);
}

void weft__lockdep_released(const void *lock)
{
    weft__diag_rec *r = weft__diag_self();
    if (r != NULL) {
        uint32_t n = atomic_load_explicit(&r->nheld, memory_order_relaxed);
        bool found = false;
        for (uint32_t i = n; i-- > 0 && !found;)
            found = clear_entry(&r->held[i], lock);
        while (n > 0 && atomic_load_explicit(&r->held[n - 1].lock, memory_order_relaxed) == NULL)
            n--;
        atomic_store_explicit(&r->nheld, n, memory_order_relaxed);
        if (found)
            return;
    }
    /* Taken by another thread (a Lock used as a binary semaphore). */
    for (weft__diag_rec *o = weft__diag_records(); o != NULL; o = o->next) {
        if (o == r || !atomic_load_explicit(&o->in_use, memory_order_relaxed))
            continue;
        /* acquire: pairs with the release store of nheld in acquired(). */
        uint32_t n = atomic_load_explicit(&o->nheld, memory_order_acquire);
        for (uint32_t i = 0; i < n && i < WEFT__DIAG_HELD_MAX; i++)
            if (clear_entry(&o->held[i], lock))
                return;
    }
}

weft__diag_rec *weft__lockdep_owner(const void *lock, uintptr_t *site)
{
    for (weft__diag_rec *r = weft__diag_records(); r != NULL; r = r->next) {
        if (!atomic_load_explicit(&r->in_use, memory_order_relaxed))
            continue;
        /* acquire: pairs with the release store of nheld in acquired(). */
        uint32_t n = atomic_load_explicit(&r->nheld, memory_order_acquire);
        for (uint32_t i = 0; i < n && i < WEFT__DIAG_HELD_MAX; i++) {
            if (atomic_load_explicit(&r->held[i].lock, memory_order_relaxed) == lock) {
                if (site != NULL)
                    *site = atomic_load_explicit(&r->held[i].site, memory_order_relaxed);
                return r;
            }
        }
    }
    return NULL;
}

/* ---- the entry points of the inline fast path ------------------------------ */

int weft_lock_acquire_lockdep(weft_lock *l, double timeout)
{
    uintptr_t site = (uintptr_t)__builtin_return_address(0);
    weft__lockdep_will_acquire(l, WEFT__OBJ_LOCK, site, !(timeout > 0));
    /* Library code: this is the plain acquire (WEFT_BUILDING). */
    int rc = weft_lock_acquire(l, timeout);
    if (rc == 0)
        weft__lockdep_acquired(l, WEFT__OBJ_LOCK, site);
    return rc;
}

int weft_lock_release_lockdep(weft_lock *l)
{
    if (weft_lock_locked(l))
        weft__lockdep_released(l);
    return weft_lock_release(l);
}

/* ---- the deadlock watchdog ---------------------------------------------- */

#define CYCLE_MAX 16

typedef struct cycle_member {
    weft__diag_rec *rec;
    weft__diag_blocked b;
    uintptr_t held_site; /* where it took the lock the previous member wants */
} cycle_member;

static bool is_lock_wait(const weft__diag_blocked *b)
{
    return b->kind == WEFT__OBJ_LOCK || b->kind == WEFT__OBJ_RLOCK;
}

/* Follow the wait-for graph from start; the cycle's length, or 0. */
static size_t find_cycle(weft__diag_rec *start, cycle_member *m)
{
    weft__diag_rec *cur = start;
    size_t len = 0;
    while (len < CYCLE_MAX) {
        if (!weft__diag_rec_blocked(cur, &m[len].b) || !is_lock_wait(&m[len].b))
            return 0;
        m[len].rec = cur;
        uintptr_t site = 0;
        weft__diag_rec *holder = weft__lockdep_owner(m[len].b.obj, &site);
        len++;
        if (holder == NULL)
            return 0;
        m[len].held_site = site;
        if (holder == start) {
            m[0].held_site = site;
            return len;
        }
        for (size_t i = 0; i < len; i++)
            if (m[i].rec == holder)
                return 0; /* a cycle that does not include start: found from its members */
        cur = holder;
    }
    return 0;
}

static bool still_same(const cycle_member *m, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        weft__diag_blocked b;
        if (!weft__diag_rec_blocked(m[i].rec, &b) || b.obj != m[i].b.obj || b.since != m[i].b.since)
            return false;
    }
    return true;
}

static void report_deadlock(const cycle_member *m, size_t len, uint64_t now)
{
    weft__out o = {.file = stderr};
    flockfile(stderr);
    weft__out_str(&o, "weft: deadlock: ");
    weft__out_u64(&o, len);
    weft__out_str(&o, len == 1 ? " thread waits for a lock it holds itself" : " threads wait for each other");
    weft__out_str(&o, " (each has waited more than WEFT_LOCKDEP_TIMEOUT = ");
    weft__out_secs(&o, (uint64_t)(lockdep_timeout * 1e9));
    weft__out_str(&o, " s)\n");
    for (size_t i = 0; i < len; i++) {
        const cycle_member *held = &m[(i + len - 1) % len]; /* the previous member wants what i holds */
        weft__out_str(&o, "  thread ");
        weft__out_thread(&o, m[i].rec);
        weft__out_str(&o, "\n    holds ");
        weft__out_object(&o, held->b.obj, held->b.kind);
        weft__out_str(&o, ", acquired at ");
        weft__out_site(&o, m[i].held_site);
        weft__out_str(&o, "\n    wants ");
        weft__out_object(&o, m[i].b.obj, m[i].b.kind);
        weft__out_str(&o, ", blocked in ");
        weft__out_str(&o, m[i].b.fn);
        weft__out_str(&o, " for ");
        weft__out_secs(&o, now - m[i].b.since);
        weft__out_str(&o, " s\n");
    }
    weft__out_flush(&o);
    funlockfile(stderr);
}

/* Cycles already reported, by the start time of their members' waits. */
static uint64_t reported[64];
static size_t nreported;

static bool was_reported(const cycle_member *m, size_t len)
{
    for (size_t k = 0; k < nreported; k++)
        for (size_t i = 0; i < len; i++)
            if (reported[k] == (m[i].b.since ^ (uintptr_t)m[i].rec))
                return true;
    return false;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void *watchdog(void *arg)
{
    (void)arg;
    const uint64_t limit = (uint64_t)(lockdep_timeout * 1e9);
    uint64_t period = limit / 2;
    if (period < 10000000u)
        period = 10000000u;
    if (period > 1000000000u)
        period = 1000000000u;
    for (;;) {
        sleep_ns(period);
        uint64_t now = weft__now_ns();
        for (weft__diag_rec *r = weft__diag_records(); r != NULL; r = r->next) {
            weft__diag_blocked b;
            if (!atomic_load_explicit(&r->in_use, memory_order_relaxed) || !weft__diag_rec_blocked(r, &b) ||
                !is_lock_wait(&b) || now - b.since < limit)
                continue;
            cycle_member m[CYCLE_MAX + 1];
            size_t len = find_cycle(r, m);
            if (len == 0 || was_reported(m, len))
                continue;
            sleep_ns(period / 4);
            if (!still_same(m, len))
                continue;
            report_deadlock(m, len, weft__now_ns());
            for (size_t i = 0; i < len && nreported < 64; i++)
                reported[nreported++] = m[i].b.since ^ (uintptr_t)m[i].rec;
        }
    }
    return NULL;
}

/* 0 not started, 1 started; a forked child has no watchdog: back to 0. */
static _Atomic int watchdog_started;

static void watchdog_start(void)
{
    pthread_attr_t a;
    pthread_t t;
    if (pthread_attr_init(&a) != 0)
        return;
    (void)pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &a, watchdog, NULL) == 0)
        (void)pthread_setname_np(t, "weft-lockdep");
    pthread_attr_destroy(&a);
}

static void start_watchdog(void)
{
    int no = 0;
    if (atomic_load_explicit(&watchdog_started, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_strong_explicit(&watchdog_started, &no, 1, memory_order_relaxed,
                                                memory_order_relaxed))
        watchdog_start();
}

/* fork: the graph mutex must not stay locked by a thread that vanished.
 * Run by thread/fork.c's handler (slot LOCKDEP, the last lock taken: every
 * weft_lock acquire with lockdep on takes graph_mu inside). */
static void fork_prepare(void)
{
    pthread_mutex_lock(&graph_mu);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&graph_mu);
}

static void fork_child(void)
{
    pthread_mutex_unlock(&graph_mu);
    atomic_store_explicit(&watchdog_started, 0, memory_order_relaxed);
}
