/* diag/diag_impl.h: the hooks through which the rest of weft feeds the
 * diagnostics (src/diag/), and what the diag files share. Internal.
 *
 * Every thread that weft sees gets one record (record.c): who it is (name,
 * ident, kind), what it is blocked in (a weft function, an object, since
 * when), and, with lockdep on, the weft locks it holds. The record is written
 * by its own thread only (the name also by a renamer, under the seqlock in the
 * record) and read by anybody: weft_dump, the signal handler and the lockdep
 * watchdog read other threads' records with relaxed atomic loads, so a
 * snapshot may mix two moments of a running thread but never tears a field,
 * and a blocked thread does not move.
 *
 * Records are never freed: a thread that ends marks its record free and a
 * later thread reuses it. The list only grows (a CAS on its head), so it can
 * be walked without a lock, from a signal handler too.
 *
 * Cost: the hooks run only on slow paths (a thread about to sleep in the
 * kernel, a thread starting or ending, a rename) and, for lockdep, on every
 * acquire and release of a user's lock while lockdep is on.
 */
#ifndef WEFT_DIAG_DIAG_IMPL_H
#define WEFT_DIAG_DIAG_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/diag.h"

/* What a blocked thread waits on: how the dump labels the object and which
 * waits the deadlock check follows (locks only). */
typedef enum weft__obj_kind {
    WEFT__OBJ_NONE,
    WEFT__OBJ_LOCK,
    WEFT__OBJ_RLOCK,
    WEFT__OBJ_COND,
    WEFT__OBJ_SEM,
    WEFT__OBJ_EVENT,
    WEFT__OBJ_BARRIER,
    WEFT__OBJ_THREAD,
    WEFT__OBJ_QUEUE,
    WEFT__OBJ_FUTURE,
    WEFT__OBJ_POOL,
    WEFT__OBJ_GROUP,
} weft__obj_kind;

/* What kind of thread a record belongs to. */
typedef enum weft__thread_kind {
    WEFT__THR_UNKNOWN, /* a thread weft has no entry for (or no longer) */
    WEFT__THR_WEFT,
    WEFT__THR_DUMMY,
    WEFT__THR_MAIN,
    WEFT__THR_WORKER,
} weft__thread_kind;

#define WEFT__DIAG_NAME_WORDS 4 /* 32 bytes: names are cut at 31 */
#define WEFT__DIAG_HELD_MAX   32

typedef struct weft__diag_held {
    _Atomic(const void *) lock; /* NULL: a hole (released out of order) */
    _Atomic uintptr_t site;     /* return address of the acquire call */
    _Atomic int kind;           /* weft__obj_kind */
} weft__diag_held;

typedef struct weft__diag_rec {
    struct weft__diag_rec *next; /* set before the record is published */
    _Atomic bool in_use;         /* claimed by a live thread */

    /* Identity. Written by the thread (attach/detach) and by renamers. */
    _Atomic int kind; /* weft__thread_kind */
    _Atomic unsigned long ident;
    _Atomic long tid;
    _Atomic(const void *) owner; /* the weft_thread (or pool); for lookups */
    _Atomic(const void *) pool;  /* a worker's pool */
    _Atomic size_t index;        /* a worker's index */
    _Atomic uint32_t name_seq;   /* seqlock over name: odd while written */
    _Atomic uint64_t name[WEFT__DIAG_NAME_WORDS];

    /* Blocked state: fn NULL while running. Seqlock: odd while written. */
    _Atomic uint32_t blk_seq;
    _Atomic(const char *) blk_fn;
    _Atomic(const void *) blk_obj;
    _Atomic int blk_kind;
    _Atomic uint64_t blk_since; /* weft__now_ns() */
    unsigned blk_depth;         /* owner only: nested begin/end */

    /* Lockdep: the locks this thread holds, oldest first. nheld is written by
     * the owner only; a thread releasing a lock acquired by another clears
     * that entry's lock with a CAS (lockdep.c). */
    _Atomic uint32_t nheld;
    weft__diag_held held[WEFT__DIAG_HELD_MAX];
    bool held_overflow; /* owner only: warned once */
} weft__diag_rec;

/* ---- records (record.c) --------------------------------------------------- */

/* The calling thread's record, claimed on first use; NULL if none could be
 * allocated (the diagnostics then skip this thread). */
weft__diag_rec *weft__diag_self(void);
/* The head of the list of every record ever made (walk through next). */
weft__diag_rec *weft__diag_records(void);
/* Copy r's name into buf (cap >= 2); false if none (or it was being written
 * for too long: a signal handler that interrupted the renamer). */
bool weft__diag_rec_name(const weft__diag_rec *r, char *buf, size_t cap);
/* What a blocked thread waits in (a consistent copy). */
typedef struct weft__diag_blocked {
    const char *fn;
    const void *obj;
    weft__obj_kind kind;
    uint64_t since;
} weft__diag_blocked;
/* False when r runs (or its state kept changing while we looked). */
bool weft__diag_rec_blocked(const weft__diag_rec *r, weft__diag_blocked *out);
/* The record of the thread whose entry is owner (a weft_thread), or NULL. */
weft__diag_rec *weft__diag_find_owner(const void *owner);

/* ---- hooks for the rest of weft ---------------------------------------- */

/* The calling thread becomes (kind, name); owner is its weft_thread or pool. */
void weft__diag_thread_attach(weft__thread_kind kind, const char *name, const void *owner, size_t index);
/* The calling weft thread is worker index of pool. */
void weft__diag_thread_worker(const void *pool, size_t index);
/* The calling thread stops being known to weft (its entry is going away). */
void weft__diag_thread_detach(void);
/* Another thread renamed owner's entry (called under the entry's lock while
 * its thread is alive). */
void weft__diag_thread_renamed(const void *owner, const char *name);

/* A blocking wait begins / ends in fn (the public weft function) on obj.
 * Nested begins (a join waits on an event) keep the outermost. */
void weft__diag_block_begin(const char *fn, const void *obj, weft__obj_kind kind);
void weft__diag_block_end(void);

/* The usual way to call the two: declare a scope at the top of the blocking
 * function, WEFT__DIAG_SCOPE(blk);, and call weft__diag_scope_begin(&blk, ...)
 * right before sleeping (in a loop too: only the first call counts); the
 * end runs when the function returns, whichever return it is. */
typedef struct weft__diag_scope {
    bool active;
} weft__diag_scope;

static inline void weft__diag_scope_begin(weft__diag_scope *s, const char *fn, const void *obj,
                                          weft__obj_kind kind)
{
    if (!s->active) {
        s->active = true;
        weft__diag_block_begin(fn, obj, kind);
    }
}

static inline void weft__diag_scope_end(weft__diag_scope *s)
{
    if (s->active)
        weft__diag_block_end();
}

#define WEFT__DIAG_SCOPE(name) weft__diag_scope name __attribute__((cleanup(weft__diag_scope_end))) = {false}

/* The same, for the waits that sleep inside a shared helper (sync/waitbit.h,
 * sync/parking.h, the mutex queue's condition wait): the caller names the
 * wait and passes it down; the helper records it right before its sleep
 * (weft__diag_wait_begin), into the caller's scope, so the span is the
 * caller's choice: a whole call (event, queue) or a single sleep (future and
 * group waits, which help between sleeps: a helped task's own waits must
 * show, and the record keeps only the outermost wait). Built on the slow
 * path only, right before the helper is called; NULL records nothing. */
typedef struct weft__diag_wait {
    weft__diag_scope *scope;
    const char *fn; /* the public function, e.g. "weft_queue_get" */
    const void *obj;
    weft__obj_kind kind;
} weft__diag_wait;

static inline void weft__diag_wait_begin(const weft__diag_wait *w)
{
    if (w != NULL)
        weft__diag_scope_begin(w->scope, w->fn, w->obj, w->kind);
}

/* Pools, for the dump (pool.c). */
void weft__diag_pool_register(const void *pool);
void weft__diag_pool_unregister(const void *pool);

/* ---- lockdep (lockdep.c) --------------------------------------------------
 * Hooks for the locks whose tracking lives in library code: RLock (first
 * acquire, last release) and the lock under a Condition (wait releases it and
 * re-acquires it). site is the user's call site (a return address). */
bool weft__lockdep_on(void);
void weft__lockdep_will_acquire(const void *lock, weft__obj_kind kind, uintptr_t site, bool trylock);
void weft__lockdep_acquired(const void *lock, weft__obj_kind kind, uintptr_t site);
void weft__lockdep_released(const void *lock);
/* The record holding lock in its held stack, or NULL (reads only atomics). */
weft__diag_rec *weft__lockdep_owner(const void *lock, uintptr_t *site);

/* ---- object names (names.c) -------------------------------------------- */

/* The name given with weft_diag_set_name, or NULL. Lock-free. */
const char *weft__diag_name_of(const void *obj);

/* ---- output (out.c): formatting without stdio or malloc, so that the
 * signal handler can use it. Writes to a FILE (normal dump) or an fd. */
typedef struct weft__out {
    void *file; /* FILE *, or NULL for fd */
    int fd;
    size_t n;
    char buf[1024];
} weft__out;

void weft__out_str(weft__out *o, const char *s);
void weft__out_char(weft__out *o, char c);
void weft__out_u64(weft__out *o, uint64_t v);
void weft__out_i64(weft__out *o, int64_t v);
void weft__out_hex(weft__out *o, uintptr_t v); /* 0x... */
void weft__out_secs(weft__out *o, uint64_t ns); /* seconds, 3 decimals */
void weft__out_quoted(weft__out *o, const char *s); /* "s" */
void weft__out_flush(weft__out *o);

/* The object label used everywhere: `lock 0x55d0c0 "accounts"`. */
const char *weft__obj_kind_name(weft__obj_kind k);
void weft__out_object(weft__out *o, const void *obj, weft__obj_kind kind);
/* A thread label: `"Thread-1" (ident 1407..., tid 1234)`. */
void weft__out_thread(weft__out *o, const weft__diag_rec *r);
/* A call site: `fn+0x1c (file.c:42)` or `module+0x1234`. Not signal-safe. */
void weft__out_site(weft__out *o, uintptr_t site);

/* The whole dump (dump.c); signal: running in the handler (try-locks only). */
void weft__dump(weft__out *o, bool signal);

#endif /* WEFT_DIAG_DIAG_IMPL_H */
