/* diag/record.c: one record per thread, what the dump, the lockdep reports
 * and the deadlock watchdog read about other threads.
 *
 * Design note. A grow-only list of records (a Treiber push on `records`,
 * never a pop) holds every record ever made; a thread claims a free one (CAS
 * in_use false -> true) or pushes a new one on first use, and frees it at
 * exit (a pthread key destructor), so the list is as long as the most threads
 * alive at once. Walkers need no lock and no reclamation scheme: a record is
 * never freed, only reused, and every field a walker reads is atomic, so the
 * worst a walker sees is a thread that is changing state, which a dump of a
 * running program shows anyway. That is what lets the signal handler walk it.
 *
 * Two groups of fields must be read together: the name (so that a rename is
 * never half seen) and the blocked state (function, object, kind, since).
 * Each is under a seqlock whose every access is seq_cst: a reader that reads
 * the same even sequence number before and after copying the fields has a
 * consistent copy, because in the single total order of seq_cst operations a
 * field store it read follows the writer's odd store, which then precedes
 * the reader's second load of the sequence. (Fences would be cheaper, but
 * ThreadSanitizer does not model them; these stores run on slow paths.) Name
 * writers are serialised by the weft_thread's lock (thread.c) or are the
 * thread itself before anybody can rename it; the blocked state has one
 * writer, its thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag/diag_impl.h"
#include "internal/atomics.h"
#include "thread/fork.h"

static _Atomic(weft__diag_rec *) records;
static _Thread_local weft__diag_rec *mine;
static pthread_key_t rec_key;
static pthread_once_t rec_once = PTHREAD_ONCE_INIT;

/* ---- names: the seqlock ---------------------------------------------------- */

static void name_store(weft__diag_rec *r, const char *s)
{
    uint64_t w[WEFT__DIAG_NAME_WORDS] = {0};
    size_t len = s != NULL ? strlen(s) : 0;
    if (len > sizeof w - 1)
        len = sizeof w - 1;
    if (len > 0)
        memcpy(w, s, len);
    uint32_t q = atomic_load(&r->name_seq); /* seq_cst: the seqlock, see the design note */
    atomic_store(&r->name_seq, q + 1);      /* seq_cst: odd, readers retry */
    for (size_t i = 0; i < WEFT__DIAG_NAME_WORDS; i++)
        atomic_store(&r->name[i], w[i]); /* seq_cst: seqlock fields */
    atomic_store(&r->name_seq, q + 2);   /* seq_cst: even, a copy is consistent */
}

bool weft__diag_rec_name(const weft__diag_rec *rc, char *buf, size_t cap)
{
    weft__diag_rec *r = (weft__diag_rec *)rc;
    uint64_t w[WEFT__DIAG_NAME_WORDS + 1];
    for (int tries = 0; tries < 64; tries++) {
        uint32_t q = atomic_load(&r->name_seq); /* seq_cst: seqlock read */
        if (q & 1)
            continue;
        for (size_t i = 0; i < WEFT__DIAG_NAME_WORDS; i++)
            w[i] = atomic_load(&r->name[i]); /* seq_cst: seqlock fields */
        if (atomic_load(&r->name_seq) != q) /* seq_cst: unchanged: consistent */
            continue;
        w[WEFT__DIAG_NAME_WORDS] = 0;
        const char *s = (const char *)w;
        if (s[0] == '\0')
            return false;
        size_t len = strlen(s);
        if (len > cap - 1)
            len = cap - 1;
        memcpy(buf, s, len);
        buf[len] = '\0';
        return true;
    }
    return false;
}

/* ---- claiming and freeing ------------------------------------------------ */

static void rec_reset(weft__diag_rec *r)
{
    atomic_store_explicit(&r->kind, WEFT__THR_UNKNOWN, memory_order_relaxed);
    atomic_store_explicit(&r->owner, NULL, memory_order_relaxed);
    atomic_store_explicit(&r->pool, NULL, memory_order_relaxed);
    atomic_store_explicit(&r->index, 0, memory_order_relaxed);
    name_store(r, NULL);
    atomic_store(&r->blk_fn, NULL); /* seq_cst: the blocked seqlock (the record is ours) */
    r->blk_depth = 0;
    atomic_store_explicit(&r->nheld, 0, memory_order_relaxed);
    r->held_overflow = false;
}

/* The pthread key destructor: the thread is ending. */
static void rec_release(void *p)
{
    weft__diag_rec *r = p;
    rec_reset(r);
    if (mine == r)
        mine = NULL;
    /* release: our last stores to the record happen-before the next owner's
     * claim (its acquire CAS in claim()). */
    atomic_store_explicit(&r->in_use, false, memory_order_release);
}

/* In a forked child only the forking thread lives on: free the others.
 * Run by thread/fork.c's handler (slot RECORDS, the first child hook). */
static void rec_fork_child(void)
{
    for (weft__diag_rec *r = weft__diag_records(); r != NULL; r = r->next) {
        if (r != mine && atomic_load_explicit(&r->in_use, memory_order_relaxed)) {
            rec_reset(r);
            atomic_store_explicit(&r->in_use, false, memory_order_relaxed);
        }
    }
    if (mine != NULL)
        atomic_store_explicit(&mine->tid, (long)gettid(), memory_order_relaxed);
}

static void rec_init(void)
{
    int err = pthread_key_create(&rec_key, rec_release);
    if (err != 0)
        weft__die("pthread_key_create", err);
}

static const weft__fork_hooks rec_fork = {NULL, NULL, rec_fork_child};

__attribute__((constructor)) static void rec_fork_register(void)
{
    weft__fork_register(WEFT__FORK_RECORDS, &rec_fork);
}

static weft__diag_rec *claim(void)
{
    (void)pthread_once(&rec_once, rec_init);
    weft__diag_rec *r;
    for (r = weft__diag_records(); r != NULL; r = r->next) {
        bool free_ = false;
        /* acquire: pairs with the release store in rec_release, so the last
         * owner's stores are behind us. */
        if (!atomic_load_explicit(&r->in_use, memory_order_relaxed) &&
            atomic_compare_exchange_strong_explicit(&r->in_use, &free_, true, memory_order_acquire,
                                                    memory_order_relaxed))
            break;
    }
    if (r == NULL) {
        r = calloc(1, sizeof *r);
        if (r == NULL)
            return NULL;
        atomic_init(&r->in_use, true);
        r->next = atomic_load_explicit(&records, memory_order_relaxed);
        /* release: publishes the record (and its next) to walkers' acquire
         * load of the head (weft__diag_records). */
        while (!atomic_compare_exchange_weak_explicit(&records, &r->next, r, memory_order_release,
                                                      memory_order_relaxed))
            ;
    }
    rec_reset(r);
    atomic_store_explicit(&r->ident, (unsigned long)pthread_self(), memory_order_relaxed);
    atomic_store_explicit(&r->tid, (long)gettid(), memory_order_relaxed);
    if (pthread_setspecific(rec_key, r) != 0) {
        rec_release(r);
        return NULL;
    }
    mine = r;
    return r;
}

weft__diag_rec *weft__diag_self(void)
{
    weft__diag_rec *r = mine;
    return r != NULL ? r : claim();
}

weft__diag_rec *weft__diag_records(void)
{
    /* acquire: pairs with the release CAS in claim(). */
    return atomic_load_explicit(&records, memory_order_acquire);
}

weft__diag_rec *weft__diag_find_owner(const void *owner)
{
    if (owner == NULL)
        return NULL;
    for (weft__diag_rec *r = weft__diag_records(); r != NULL; r = r->next)
        if (atomic_load_explicit(&r->in_use, memory_order_relaxed) &&
            atomic_load_explicit(&r->owner, memory_order_relaxed) == owner)
            return r;
    return NULL;
}

/* ---- identity hooks ---------------------------------------------------- */

void weft__diag_thread_attach(weft__thread_kind kind, const char *name, const void *owner, size_t index)
{
    weft__diag_rec *r = weft__diag_self();
    if (r == NULL)
        return;
    atomic_store_explicit(&r->owner, owner, memory_order_relaxed);
    atomic_store_explicit(&r->index, index, memory_order_relaxed);
    name_store(r, name);
    atomic_store_explicit(&r->kind, kind, memory_order_relaxed);
}

void weft__diag_thread_worker(const void *pool, size_t index)
{
    weft__diag_rec *r = weft__diag_self();
    if (r == NULL)
        return;
    atomic_store_explicit(&r->pool, pool, memory_order_relaxed);
    atomic_store_explicit(&r->index, index, memory_order_relaxed);
    atomic_store_explicit(&r->kind, WEFT__THR_WORKER, memory_order_relaxed);
}

void weft__diag_thread_detach(void)
{
    weft__diag_rec *r = mine;
    if (r == NULL)
        return;
    atomic_store_explicit(&r->kind, WEFT__THR_UNKNOWN, memory_order_relaxed);
    atomic_store_explicit(&r->owner, NULL, memory_order_relaxed);
    atomic_store_explicit(&r->pool, NULL, memory_order_relaxed);
    name_store(r, NULL);
}

void weft__diag_thread_renamed(const void *owner, const char *name)
{
    weft__diag_rec *r = weft__diag_find_owner(owner);
    if (r != NULL)
        name_store(r, name);
}

/* ---- blocked state ---------------------------------------------------- */

void weft__diag_block_begin(const char *fn, const void *obj, weft__obj_kind kind)
{
    weft__diag_rec *r = weft__diag_self();
    if (r == NULL || r->blk_depth++ > 0)
        return;
    uint32_t q = atomic_load(&r->blk_seq); /* seq_cst: the blocked seqlock (design note) */
    atomic_store(&r->blk_seq, q + 1);
    atomic_store(&r->blk_obj, obj);
    atomic_store(&r->blk_kind, (int)kind);
    atomic_store(&r->blk_since, weft__now_ns());
    atomic_store(&r->blk_fn, fn);
    atomic_store(&r->blk_seq, q + 2);
}

void weft__diag_block_end(void)
{
    weft__diag_rec *r = mine;
    if (r == NULL || r->blk_depth == 0 || --r->blk_depth > 0)
        return;
    uint32_t q = atomic_load(&r->blk_seq); /* seq_cst: the blocked seqlock (design note) */
    atomic_store(&r->blk_seq, q + 1);
    atomic_store(&r->blk_fn, NULL);
    atomic_store(&r->blk_seq, q + 2);
}

bool weft__diag_rec_blocked(const weft__diag_rec *rc, weft__diag_blocked *out)
{
    weft__diag_rec *r = (weft__diag_rec *)rc;
    for (int tries = 0; tries < 64; tries++) {
        uint32_t q = atomic_load(&r->blk_seq); /* seq_cst: seqlock read (design note) */
        if (q & 1)
            continue;
        out->fn = atomic_load(&r->blk_fn);
        out->obj = atomic_load(&r->blk_obj);
        out->kind = (weft__obj_kind)atomic_load(&r->blk_kind);
        out->since = atomic_load(&r->blk_since);
        if (atomic_load(&r->blk_seq) == q)
            return out->fn != NULL;
    }
    return false;
}
