/* thread/thread.c: weft_thread, the registry of live threads, excepthook,
 * and the exit sequence (Python's threading.Thread, current_thread,
 * enumerate, _shutdown; see thread/exit.h).
 *
 * Design note.
 * Life of a weft thread: CREATED --start--> STARTED --target returns-->
 * FINISHED. The pthread is detached at creation and never pthread_joined:
 * join waits on the `done` event (a futex) that the thread sets as its last
 * act, so it supports timeouts and any number of joiners. Because the pthread
 * outlives that set() by a few instructions, the struct is reference counted:
 * one reference for the handle (dropped by weft_thread_destroy), one for the
 * running thread (dropped after set()); the last drop frees it. destroy of a
 * running thread is therefore "detach and free when it ends".
 * The trampoline's order after the target returns is what the API promises:
 * exit code stored, excepthook, weft_local destructors, OS name no longer
 * touchable, unlisted, state FINISHED, done set, reference dropped.
 * start waits for the new thread's `started` event (as Python does), so ident,
 * native_id, the OS name and the registry entry exist when start returns.
 *
 * Registry: a list of live entries under registry.lock, in the order they
 * became alive; a weft thread lists itself on entry and unlists itself before
 * FINISHED, so "listed" means "alive". Threads weft did not start get dummy
 * entries, made by weft_current_thread and destroyed by the destructor of
 * dummy_key at thread exit; the main thread's entry is static and adopted
 * from a constructor when the library is loaded by the main thread.
 *
 * Invariants: a listed weft thread holds its own reference (it unlists itself
 * before dropping it), so the registry lock is enough to take a further
 * reference (the exit-time join does). t->os_alive is true exactly while
 * t->pthread names a thread that has not passed its end-of-life section,
 * which takes t->lock: holding t->lock and seeing os_alive makes
 * pthread_setname_np(t->pthread) safe.
 *
 * Lock order: registry.lock, then (in local.c) locals_lock. t->lock is never
 * held together with either.
 */
#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag/diag_impl.h"
#include "internal/atomics.h"
#include "thread/exit.h"
#include "thread/fork.h"
#include "thread/local.h"
#include "weft/sync.h"
#include "weft/thread.h"

static_assert(sizeof(pthread_t) <= sizeof(unsigned long), "weft_thread_ident returns pthread_t as unsigned long");

enum thread_kind { KIND_WEFT, KIND_DUMMY, KIND_MAIN };
enum thread_state { ST_CREATED, ST_STARTED, ST_FINISHED };

/* Names are never freed while the thread lives, so weft_thread_name's pointer
 * survives a concurrent rename; each name links to the one it replaced. */
struct weft__name {
    struct weft__name *older;
    const char *s; /* points just past the node, or to a literal */
};

/* The kernel truncates thread names to 15 bytes plus the terminator. */
#define OS_NAME_MAX 16

struct weft_thread {
    int (*fn)(void *);
    void *arg;
    enum thread_kind kind;
    size_t stack_size;

    _Atomic uint32_t state;     /* enum thread_state */
    _Atomic(struct weft__name *) name;
    _Atomic bool daemon;
    _Atomic unsigned long ident;
    _Atomic long native_id;
    _Atomic int exit_code;
    _Atomic uint32_t refs;      /* handle + running thread; weft threads only */
    weft_event started;         /* set once the new thread runs */
    weft_event done;            /* set when FINISHED is stored */

    weft_lock lock;             /* guards the CREATED->STARTED step, renames, and: */
    bool os_alive;              /* pthread may be renamed */
    pthread_t pthread;

    weft_thread *prev, *next;   /* registry list, under registry.lock */
};

static struct {
    weft_lock lock;
    weft_thread *head, *tail;
    size_t count;
} registry = {WEFT_LOCK_INIT, NULL, NULL, 0};

static struct weft__name main_name = {NULL, "MainThread"};
static weft_thread main_entry = {
    .kind = KIND_MAIN,
    .state = ST_STARTED,
    .name = &main_name,
};

static _Thread_local weft_thread *self;
/* The main thread: main_entry, or after a fork the forking thread's entry.
 * Written only by a child's fork handler while it is single-threaded. */
static _Atomic(weft_thread *) main_thread = &main_entry;
static _Atomic unsigned long name_counter;
static _Atomic(weft_excepthook_fn) excepthook;
static pthread_key_t dummy_key;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* ---- names -------------------------------------------------------------- */

static struct weft__name *name_new(const char *s)
{
    size_t len = strlen(s);
    struct weft__name *n = malloc(sizeof *n + len + 1);
    if (n == NULL)
        return NULL;
    char *copy = (char *)(n + 1);
    memcpy(copy, s, len + 1);
    n->older = NULL;
    n->s = copy;
    return n;
}

static struct weft__name *name_numbered(const char *prefix)
{
    char buf[32];
    unsigned long n = atomic_fetch_add_explicit(&name_counter, 1, memory_order_relaxed) + 1;
    snprintf(buf, sizeof buf, "%s-%lu", prefix, n);
    return name_new(buf);
}

/* Best effort: a failure (e.g. /proc not mounted) leaves only the OS-level
 * name stale, which no weft call reads. */
static void set_os_name(pthread_t pt, const char *name)
{
    char buf[OS_NAME_MAX];
    snprintf(buf, sizeof buf, "%s", name);
    pthread_setname_np(pt, buf);
}

/* ---- lifetime ----------------------------------------------------------- */

static void thread_free(weft_thread *t)
{
    struct weft__name *n = atomic_load_explicit(&t->name, memory_order_relaxed);
    while (n != NULL) {
        struct weft__name *older = n->older;
        free(n);
        n = older;
    }
    free(t);
}

static void thread_unref(weft_thread *t)
{
    /* acq_rel: release publishes this owner's last uses of t; the acquire on
     * the final decrement orders thread_free after the other owner's uses
     * (the handle's destroy and the running thread's exit pair here). */
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
        thread_free(t);
}

/* ---- registry ----------------------------------------------------------- */

static void registry_insert_locked(weft_thread *t)
{
    t->next = NULL;
    t->prev = registry.tail;
    if (registry.tail != NULL)
        registry.tail->next = t;
    else
        registry.head = t;
    registry.tail = t;
    registry.count++;
}

static void registry_remove_locked(weft_thread *t)
{
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        registry.head = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    else
        registry.tail = t->prev;
    t->prev = t->next = NULL;
    registry.count--;
}

static void registry_insert(weft_thread *t)
{
    weft_lock_acquire(&registry.lock, WEFT_FOREVER);
    registry_insert_locked(t);
    weft_lock_release(&registry.lock);
}

static void registry_remove(weft_thread *t)
{
    weft_lock_acquire(&registry.lock, WEFT_FOREVER);
    registry_remove_locked(t);
    weft_lock_release(&registry.lock);
}

/* The thread behind t is about to end: nobody may rename it at OS level. */
static void os_thread_ending(weft_thread *t)
{
    weft_lock_acquire(&t->lock, WEFT_FOREVER);
    t->os_alive = false;
    weft__diag_thread_detach(); /* under t->lock: no rename reaches the record after */
    weft_lock_release(&t->lock);
}

/* pthread_key destructor of a thread weft did not start. */
static void dummy_exit(void *p)
{
    weft_thread *t = p;
    os_thread_ending(t);
    registry_remove(t);
    if (self == t)
        self = NULL;
    /* release: orders the thread's last actions before a joiner's acquire
     * (only the main entry can be joined: weft_event_wait on done). */
    atomic_store_explicit(&t->state, ST_FINISHED, memory_order_release);
    weft_event_set(&t->done);
    if (t->kind == KIND_DUMMY)
        thread_free(t);
}

/* At exit, join every listed non-daemon weft thread but the caller, including
 * ones started meanwhile (Python's threading._shutdown). */
static void join_non_daemon_threads(void)
{
    weft_thread *me = self;
    for (;;) {
        weft_thread *t;
        weft_lock_acquire(&registry.lock, WEFT_FOREVER);
        for (t = registry.head; t != NULL; t = t->next)
            if (t->kind == KIND_WEFT && t != me && !atomic_load_explicit(&t->daemon, memory_order_relaxed))
                break;
        /* Listed, so its running thread holds a reference: ours cannot be the
         * first. Ordering comes from registry.lock. */
        if (t != NULL)
            atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
        weft_lock_release(&registry.lock);
        if (t == NULL)
            return;
        weft_event_wait(&t->done, WEFT_FOREVER);
        thread_unref(t);
    }
}

/* Python's _shutdown begins by marking the main thread stopped, so that a
 * thread joining it returns and can itself be joined. Only when the main
 * thread is the one exiting: otherwise it still runs. */
static void main_thread_finished(void)
{
    /* Relaxed: see main_thread. */
    weft_thread *m = atomic_load_explicit(&main_thread, memory_order_relaxed);
    if (self != m)
        return;
    bool listed = false;
    weft_lock_acquire(&registry.lock, WEFT_FOREVER);
    for (weft_thread *t = registry.head; t != NULL; t = t->next)
        listed |= t == m;
    if (listed)
        registry_remove_locked(m);
    weft_lock_release(&registry.lock);
    if (!listed)
        return;
    /* release: as in dummy_exit, for joiners of the main thread. */
    atomic_store_explicit(&m->state, ST_FINISHED, memory_order_release);
    weft_event_set(&m->done);
}

static void init(void);

static _Atomic(void (*)(void)) pools_at_exit;
static _Atomic bool exit_ran;
static _Atomic bool exit_rearmed;
static _Atomic unsigned exit_registrations;

/* The exit sequence, as Python's interpreter exit: the main thread finished,
 * non-daemon threads joined, then the pools shut down with wait. Registered
 * with atexit when the library is loaded and again by weft__exit_rearm; it
 * runs once, from whichever registration exit() reaches first. */
static void exit_sequence(void)
{
    if (atomic_exchange_explicit(&exit_ran, true, memory_order_relaxed))
        return;
    main_thread_finished();
    join_non_daemon_threads();
    /* acquire: pairs with the release store in weft__exit_set_pools_hook. */
    void (*hook)(void) = atomic_load_explicit(&pools_at_exit, memory_order_acquire);
    if (hook != NULL)
        hook();
}

void weft__exit_set_pools_hook(void (*hook)(void))
{
    /* release: the hook's own state is set up before exit_sequence calls it. */
    atomic_store_explicit(&pools_at_exit, hook, memory_order_release);
}

void weft__exit_rearm(void)
{
    /* Once per process (exit.h): a program that creates and destroys its
     * only pool in a loop must not grow glibc's atexit list without bound.
     * Relaxed: the flag orders nothing, it only elects the one caller. */
    if (atomic_exchange_explicit(&exit_rearmed, true, memory_order_relaxed))
        return;
    init();
    /* Best effort: without the extra registration the sequence still runs
     * from the load-time one, only after the newer atexit handlers. */
    if (atexit(exit_sequence) == 0)
        atomic_fetch_add_explicit(&exit_registrations, 1, memory_order_relaxed);
}

unsigned weft__exit_registrations(void)
{
    return atomic_load_explicit(&exit_registrations, memory_order_relaxed);
}

static weft_thread *adopt_current(void);

/* pthread_atfork handlers, run by thread/fork.c's (whose design note gives
 * the semantics). */
void weft__thread_fork_prepare(void)
{
    weft_lock_acquire(&registry.lock, WEFT_FOREVER);
    weft__local_fork_prepare();
}

void weft__thread_fork_parent(void)
{
    weft__local_fork_parent();
    weft_lock_release(&registry.lock);
}

/* Only the forking thread exists in the child: every other entry is dead, and
 * the forking thread becomes the main thread (Python's _after_fork). */
void weft__thread_fork_child(void)
{
    weft__local_fork_child();
    weft_lock_init(&registry.lock);
    weft_thread *me = self, *next;
    for (weft_thread *t = registry.head; t != NULL; t = next) {
        next = t->next;
        if (t == me)
            continue;
        registry_remove_locked(t);
        weft_lock_init(&t->lock);
        t->os_alive = false;
        atomic_store_explicit(&t->state, ST_FINISHED, memory_order_relaxed);
        weft_event_set(&t->done);
        if (t->kind == KIND_DUMMY)
            thread_free(t);
        else if (t->kind == KIND_WEFT)
            thread_unref(t); /* the vanished thread's reference */
    }
    if (me == NULL) {
        /* A thread weft never saw forked: it takes the main entry over
         * (adopt_current picks it, since the child's tid is its pid). */
        weft_event_init(&main_entry.done);
        me = adopt_current();
    }
    if (me != NULL) {
        atomic_store_explicit(&me->native_id, (long)gettid(), memory_order_relaxed);
        atomic_store_explicit(&main_thread, me, memory_order_relaxed);
    }
}

static void init_once_fn(void)
{
    int err = pthread_key_create(&dummy_key, dummy_exit);
    if (err != 0)
        weft__die("pthread_key_create", err);
    if (atexit(exit_sequence) != 0)
        weft__die("atexit", ENOMEM);
    atomic_fetch_add_explicit(&exit_registrations, 1, memory_order_relaxed);
    weft__fork_init();
}

static void init(void)
{
    int err = pthread_once(&init_once, init_once_fn);
    if (err != 0)
        weft__die("pthread_once", err);
}

/* Give the calling thread (not started by weft) its entry. */
static weft_thread *adopt_current(void)
{
    init();
    weft_thread *t;
    if (gettid() == getpid()) {
        t = &main_entry;
    } else {
        t = calloc(1, sizeof *t);
        if (t == NULL)
            return NULL;
        struct weft__name *n = name_numbered("Dummy");
        if (n == NULL) {
            free(t);
            return NULL;
        }
        t->kind = KIND_DUMMY;
        atomic_init(&t->name, n);
        atomic_init(&t->daemon, true);
        weft_lock_init(&t->lock);
        weft_event_init(&t->started);
        weft_event_init(&t->done);
    }
    weft_lock_acquire(&t->lock, WEFT_FOREVER);
    t->pthread = pthread_self();
    t->os_alive = true;
    weft__diag_thread_attach(t->kind == KIND_MAIN ? WEFT__THR_MAIN : WEFT__THR_DUMMY,
                             atomic_load_explicit(&t->name, memory_order_relaxed)->s, t, 0);
    weft_lock_release(&t->lock);
    atomic_store_explicit(&t->ident, (unsigned long)pthread_self(), memory_order_relaxed);
    atomic_store_explicit(&t->native_id, (long)gettid(), memory_order_relaxed);
    atomic_store_explicit(&t->state, ST_STARTED, memory_order_relaxed);
    if (pthread_setspecific(dummy_key, t) != 0) {
        if (t->kind == KIND_DUMMY)
            thread_free(t);
        return NULL;
    }
    registry_insert(t);
    self = t;
    return t;
}

/* The main thread's entry exists from load time, as Python's does. */
__attribute__((constructor)) static void adopt_main_thread(void)
{
    if (gettid() == getpid())
        weft_current_thread();
}

/* ---- threads ------------------------------------------------------------ */

static void *trampoline(void *p)
{
    weft_thread *t = p;
    self = t;
    atomic_store_explicit(&t->ident, (unsigned long)pthread_self(), memory_order_relaxed);
    atomic_store_explicit(&t->native_id, (long)gettid(), memory_order_relaxed);
    weft_lock_acquire(&t->lock, WEFT_FOREVER);
    t->pthread = pthread_self();
    t->os_alive = true;
    set_os_name(t->pthread, atomic_load_explicit(&t->name, memory_order_relaxed)->s);
    weft__diag_thread_attach(WEFT__THR_WEFT, atomic_load_explicit(&t->name, memory_order_relaxed)->s, t, 0);
    weft_lock_release(&t->lock);
    registry_insert(t);
    weft_event_set(&t->started);

    int code = t->fn(t->arg);
    atomic_store_explicit(&t->exit_code, code, memory_order_relaxed);
    if (code != 0) {
        /* acquire: pairs with the release store in weft_set_excepthook, so
         * whatever the hook relies on was set up before it is called. */
        weft_excepthook_fn hook = atomic_load_explicit(&excepthook, memory_order_acquire);
        (hook != NULL ? hook : weft_default_excepthook)(t, code);
    }
    weft__local_run_dtors();

    os_thread_ending(t);
    registry_remove(t);
    self = NULL;
    /* release: publishes exit_code and all the target did to is_alive's
     * acquire load of state. */
    atomic_store_explicit(&t->state, ST_FINISHED, memory_order_release);
    weft_event_set(&t->done);
    thread_unref(t);
    return NULL;
}

int weft_thread_create(weft_thread **out, int (*fn)(void *), void *arg, const weft_thread_attr *attr)
{
    static const weft_thread_attr defaults = WEFT_THREAD_ATTR_INIT;
    if (out == NULL || fn == NULL)
        return EINVAL;
    if (attr == NULL)
        attr = &defaults;
    size_t stack = attr->stack_size;
    if (stack != 0) {
        long min = PTHREAD_STACK_MIN;
        if (stack < (size_t)min)
            return EINVAL;
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        if (stack > SIZE_MAX - page)
            return EINVAL;
        stack = (stack + page - 1) / page * page;
    }
    weft_thread *t = calloc(1, sizeof *t);
    if (t == NULL)
        return ENOMEM;
    /* Python: name = str(name or _newname()), so "" is numbered too. */
    struct weft__name *n =
        attr->name != NULL && attr->name[0] != '\0' ? name_new(attr->name) : name_numbered("Thread");
    if (n == NULL) {
        free(t);
        return ENOMEM;
    }
    t->fn = fn;
    t->arg = arg;
    t->kind = KIND_WEFT;
    t->stack_size = stack;
    atomic_init(&t->state, ST_CREATED);
    atomic_init(&t->name, n);
    atomic_init(&t->daemon, attr->daemon);
    atomic_init(&t->ident, 0);
    atomic_init(&t->native_id, 0);
    atomic_init(&t->exit_code, 0);
    atomic_init(&t->refs, 1);
    weft_event_init(&t->started);
    weft_event_init(&t->done);
    weft_lock_init(&t->lock);
    *out = t;
    return 0;
}

static void unstart(weft_thread *t)
{
    weft_lock_acquire(&t->lock, WEFT_FOREVER);
    atomic_store_explicit(&t->state, ST_CREATED, memory_order_relaxed);
    weft_lock_release(&t->lock);
}

int weft_thread_start(weft_thread *t)
{
    if (t == NULL)
        return EINVAL;
    if (t->kind != KIND_WEFT)
        return EBUSY;
    init();
    weft_lock_acquire(&t->lock, WEFT_FOREVER);
    bool fresh = atomic_load_explicit(&t->state, memory_order_relaxed) == ST_CREATED;
    if (fresh)
        atomic_store_explicit(&t->state, ST_STARTED, memory_order_relaxed);
    weft_lock_release(&t->lock);
    if (!fresh)
        return EBUSY;

    pthread_attr_t pa;
    int err = pthread_attr_init(&pa);
    if (err != 0) {
        unstart(t);
        return err;
    }
    err = pthread_attr_setdetachstate(&pa, PTHREAD_CREATE_DETACHED);
    if (err == 0 && t->stack_size != 0)
        err = pthread_attr_setstacksize(&pa, t->stack_size);
    if (err == 0) {
        atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed); /* the new thread's; published by pthread_create */
        pthread_t pt;
        err = pthread_create(&pt, &pa, trampoline, t);
        if (err != 0)
            atomic_fetch_sub_explicit(&t->refs, 1, memory_order_relaxed);
    }
    pthread_attr_destroy(&pa);
    if (err != 0) {
        unstart(t);
        return err;
    }
    weft_event_wait(&t->started, WEFT_FOREVER);
    return 0;
}

int weft_thread_run(weft_thread *t)
{
    if (t == NULL || t->fn == NULL)
        return EINVAL;
    return t->fn(t->arg);
}

int weft_thread_join(weft_thread *t, double timeout)
{
    WEFT__DIAG_SCOPE(blk);
    if (t == NULL || isnan(timeout) || t->kind == KIND_DUMMY)
        return EINVAL;
    /* Relaxed: the wait on done below carries the ordering. */
    if (atomic_load_explicit(&t->state, memory_order_relaxed) == ST_CREATED)
        return EINVAL;
    if (t == weft_current_thread())
        return EDEADLK;
    if (timeout > 0 && !weft_event_is_set(&t->done))
        weft__diag_scope_begin(&blk, "weft_thread_join", t, WEFT__OBJ_THREAD);
    return weft_event_wait(&t->done, timeout);
}

bool weft_thread_is_alive(const weft_thread *t)
{
    if (t == NULL)
        return false;
    /* acquire: pairs with the release store of FINISHED in trampoline, so a
     * caller who sees false may read exit_code and the target's effects. */
    return atomic_load_explicit(&((weft_thread *)t)->state, memory_order_acquire) == ST_STARTED;
}

const char *weft_thread_name(const weft_thread *t)
{
    if (t == NULL)
        return NULL;
    /* acquire: pairs with the release store in weft_thread_set_name, so the
     * string's bytes are visible. */
    return atomic_load_explicit(&((weft_thread *)t)->name, memory_order_acquire)->s;
}

int weft_thread_set_name(weft_thread *t, const char *name)
{
    if (t == NULL || name == NULL)
        return EINVAL;
    struct weft__name *n = name_new(name);
    if (n == NULL)
        return ENOMEM;
    weft_lock_acquire(&t->lock, WEFT_FOREVER);
    n->older = atomic_load_explicit(&t->name, memory_order_relaxed);
    /* release: publishes the copied bytes to weft_thread_name's acquire. */
    atomic_store_explicit(&t->name, n, memory_order_release);
    if (t->os_alive) {
        set_os_name(t->pthread, n->s);
        weft__diag_thread_renamed(t, n->s);
    }
    weft_lock_release(&t->lock);
    return 0;
}

bool weft_thread_daemon(const weft_thread *t)
{
    if (t == NULL)
        return false;
    return atomic_load_explicit(&((weft_thread *)t)->daemon, memory_order_relaxed);
}

int weft_thread_set_daemon(weft_thread *t, bool daemon)
{
    if (t == NULL)
        return EINVAL;
    int err = 0;
    weft_lock_acquire(&t->lock, WEFT_FOREVER);
    if (atomic_load_explicit(&t->state, memory_order_relaxed) == ST_CREATED)
        atomic_store_explicit(&t->daemon, daemon, memory_order_relaxed);
    else
        err = EBUSY;
    weft_lock_release(&t->lock);
    return err;
}

unsigned long weft_thread_ident(const weft_thread *t)
{
    if (t == NULL)
        return 0;
    return atomic_load_explicit(&((weft_thread *)t)->ident, memory_order_relaxed);
}

long weft_thread_native_id(const weft_thread *t)
{
    if (t == NULL)
        return 0;
    return atomic_load_explicit(&((weft_thread *)t)->native_id, memory_order_relaxed);
}

int weft_thread_exit_code(const weft_thread *t)
{
    if (t == NULL)
        return 0;
    return atomic_load_explicit(&((weft_thread *)t)->exit_code, memory_order_relaxed);
}

void weft_thread_destroy(weft_thread *t)
{
    if (t == NULL || t->kind != KIND_WEFT)
        return;
    thread_unref(t);
}

/* ---- registry API ------------------------------------------------------- */

weft_thread *weft_current_thread(void)
{
    weft_thread *t = self;
    if (WEFT_LIKELY(t != NULL))
        return t;
    return adopt_current();
}

weft_thread *weft_main_thread(void)
{
    /* Relaxed: see main_thread. */
    return atomic_load_explicit(&main_thread, memory_order_relaxed);
}

size_t weft_active_count(void)
{
    weft_lock_acquire(&registry.lock, WEFT_FOREVER);
    size_t n = registry.count;
    weft_lock_release(&registry.lock);
    return n;
}

size_t weft_enumerate(weft_thread **out, size_t cap)
{
    if (out == NULL)
        cap = 0;
    weft_lock_acquire(&registry.lock, WEFT_FOREVER);
    size_t i = 0;
    for (weft_thread *t = registry.head; t != NULL && i < cap; t = t->next)
        out[i++] = t;
    size_t n = registry.count;
    weft_lock_release(&registry.lock);
    return n;
}

unsigned long weft_get_ident(void)
{
    return (unsigned long)pthread_self();
}

/* ---- excepthook --------------------------------------------------------- */

void weft_set_excepthook(weft_excepthook_fn hook)
{
    /* release: pairs with the acquire load in trampoline. */
    atomic_store_explicit(&excepthook, hook, memory_order_release);
}

void weft_default_excepthook(weft_thread *t, int code)
{
    char buf[128];
    fprintf(stderr, "Exception in thread %s: %s\n", weft_thread_name(t), strerror_r(code, buf, sizeof buf));
}
