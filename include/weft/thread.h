/** @file
 * weft/thread.h: Python's threading.Thread, current_thread, enumerate,
 * excepthook, local and Timer, on POSIX threads.
 *
 * A weft_thread is an opaque handle made by weft_thread_create and freed by
 * weft_thread_destroy. Threads that weft did not start (the main thread, and
 * any other pthread that calls weft_current_thread) get "dummy" entries, as in
 * Python: owned by weft, created on first use, removed and freed when their
 * thread exits.
 *
 * Lifetimes of the weft_thread pointers handed out here:
 *   - a thread made by weft_thread_create lives until weft_thread_destroy
 *     (for a running thread: until destroy *and* the end of the thread);
 *   - weft_main_thread() lives for the whole process;
 *   - a dummy entry (weft_current_thread() in a thread weft did not start)
 *     lives until that thread exits;
 *   - weft_enumerate and weft_current_thread return borrowed pointers with the
 *     lifetimes above: use one from another thread only while you know the
 *     thread it names can be neither destroyed nor exit (e.g. it is yours and
 *     not yet destroyed, or it is the main thread).
 *
 * Which calls may run concurrently: every function may be called from any
 * thread at any time, on the same weft_thread too, except that nothing may
 * use a weft_thread during or after its weft_thread_destroy, and likewise for
 * timers. weft_local_init/deinit must not race with other calls on the same
 * weft_local.
 *
 * NULL handles: functions returning int return EINVAL, the others return
 * false, NULL or 0 (weft_timer_cancel: false) and change nothing.
 *
 * fork(): in the child only the forking thread survives. weft drops the
 * others from the registry, marks them finished (join returns at once with
 * exit code 0) and frees the dummy entries of vanished threads.
 */
#ifndef WEFT_THREAD_H
#define WEFT_THREAD_H

#include <pthread.h>

#include "weft/common.h"

WEFT_BEGIN_DECLS

/* ---- Thread ------------------------------------------------------------- */

/** A thread (Python's threading.Thread): an opaque handle made by
 * weft_thread_create, or a dummy entry owned by weft (see above). */
typedef struct weft_thread weft_thread;

/** Creation options. Zero-initialised (or WEFT_THREAD_ATTR_INIT) means the
 * defaults: a name "Thread-N", not a daemon, the system's stack size.
 * Unlike Python, daemon does not inherit the creating thread's flag. */
typedef struct weft_thread_attr {
    const char *name;  /**< copied; NULL: "Thread-N" */
    bool daemon;       /**< daemon threads are not joined at process exit */
    size_t stack_size; /**< 0: the default; else at least PTHREAD_STACK_MIN */
} weft_thread_attr;

/** The default attributes, as a static initialiser. */
#define WEFT_THREAD_ATTR_INIT {NULL, false, 0}

/** Make a thread (not started) that will run fn(arg); its return value is the
 * exit code (0: success; nonzero is passed to the excepthook). attr may be
 * NULL. 0, EINVAL (t or fn NULL, stack_size below PTHREAD_STACK_MIN), ENOMEM. */
WEFT_API int weft_thread_create(weft_thread **t, int (*fn)(void *), void *arg, const weft_thread_attr *attr);

/** Start the thread. Returns once the new thread runs (its ident, native_id and
 * OS-level name are then set). 0, EBUSY (already started, or not a thread
 * made by weft_thread_create), EAGAIN (no resources for a thread), EINVAL
 * (the stack size was refused). On failure the thread stays startable. */
WEFT_API int weft_thread_start(weft_thread *t);

/** Run the target in the calling thread and return its result. Changes no
 * state and calls no excepthook (Python's run()). EINVAL for a dummy entry. */
WEFT_API int weft_thread_run(weft_thread *t);

/** Wait for the thread to finish: 0 (its target returned, the excepthook and
 * its weft_local destructors ran), ETIMEDOUT, EDEADLK (t is the caller),
 * EINVAL (never started, a dummy entry, or a NaN timeout). Any number of
 * threads may join the same thread. The main thread's entry may be joined: it
 * finishes if the main thread calls pthread_exit. */
WEFT_API int weft_thread_join(weft_thread *t, double timeout);

/** Started and its target not yet returned (dummies: their thread lives). */
WEFT_API bool weft_thread_is_alive(const weft_thread *t);

/** The name. The string stays valid until weft_thread_destroy (a renamed
 * thread keeps its old names until then), so it may be read while another
 * thread calls weft_thread_set_name. */
WEFT_API const char *weft_thread_name(const weft_thread *t);

/** Rename the thread; name is copied. For a running thread the OS-level name
 * (what ps/top/gdb show) changes too, truncated to the kernel's 15 bytes.
 * 0, EINVAL (name NULL), ENOMEM. */
WEFT_API int weft_thread_set_name(weft_thread *t, const char *name);

/** Whether t is a daemon thread (not joined at process exit). */
WEFT_API bool weft_thread_daemon(const weft_thread *t);
/** 0, or EBUSY once the thread has been started (dummies count as started). */
WEFT_API int weft_thread_set_daemon(weft_thread *t, bool daemon);

/** pthread_self() of the thread as an integer (Python's ident); 0 before it
 * starts. Kept after the thread ends (and may then be reused by the system). */
WEFT_API unsigned long weft_thread_ident(const weft_thread *t);
/** The kernel's thread id (gettid(), Python's native_id); 0 before start. */
WEFT_API long weft_thread_native_id(const weft_thread *t);

/** The target's return value. Valid once join returned 0 or is_alive turned
 * false; 0 before. */
WEFT_API int weft_thread_exit_code(const weft_thread *t);

/** Free a thread made by weft_thread_create. A thread that is running is
 * detached: it is freed when its target returns. A thread that was never
 * started is freed at once (it will never run). NULL and dummy entries are
 * ignored. */
WEFT_API void weft_thread_destroy(weft_thread *t);

/* ---- The registry ------------------------------------------------------- */

/** The calling thread's entry: its weft_thread, or its dummy entry (named
 * "Dummy-N"; the main thread's is "MainThread"), made on first call. NULL
 * only if a dummy entry could not be allocated. */
WEFT_API weft_thread *weft_current_thread(void);

/** The main thread's entry (the thread whose kernel id equals the process id).
 * If the library was loaded by another thread and the main thread never
 * called into weft, its ident and native_id read 0.
 * After fork() the child's main thread is the forking thread, as in Python:
 * this returns that thread's entry (its name kept, its native_id the
 * child's pid, its ident weft_get_ident()); every other thread inherited from
 * the parent is finished (not alive, unlisted, joins at once). */
WEFT_API weft_thread *weft_main_thread(void);

/** Threads alive now: started weft threads whose target has not returned,
 * plus live dummy entries (the main thread included). */
WEFT_API size_t weft_active_count(void);

/** Store up to cap of the live threads in out (out may be NULL when cap is 0)
 * and return how many there are in all (if more than cap, call again with a
 * bigger array). One consistent snapshot. See the lifetime rules above. */
WEFT_API size_t weft_enumerate(weft_thread **out, size_t cap);

/** Python's threading.get_ident(): pthread_self() of the caller as an integer,
 * nonzero, unique among live threads. */
WEFT_API unsigned long weft_get_ident(void);

/* ---- excepthook --------------------------------------------------------- */

/** threading.excepthook: called in thread t when its target returned the
 * nonzero code. */
typedef void (*weft_excepthook_fn)(weft_thread *t, int code);

/** Called in the thread itself when its target returns nonzero. NULL restores
 * the default, weft_default_excepthook. The hook may run in any weft thread,
 * at the same time in several. */
WEFT_API void weft_set_excepthook(weft_excepthook_fn hook);

/** The default: prints "Exception in thread NAME: strerror(code)" to stderr. */
WEFT_API void weft_default_excepthook(weft_thread *t, int code);

/* ---- thread-local data -------------------------------------------------- */

/** Python's threading.local, one pointer per thread per weft_local. Embed or
 * declare one, weft_local_init it, weft_local_deinit it when done.
 * When a thread exits with a non-NULL value, dtor(value) runs in that thread
 * (for weft threads: after the target and excepthook, before join returns;
 * for other threads: among the pthread key destructors). */
typedef struct weft_local {
    pthread_key_t key;       /**< private: the pthread key holding the values */
    void (*dtor)(void *);    /**< private: the destructor given to init */
    uint64_t seq;            /**< init order, for the exit pass in thread.c */
    struct weft_local *prev; /**< private: weft's list of live locals (thread.c) */
    struct weft_local *next; /**< private: weft's list of live locals (thread.c) */
} weft_local;

/** dtor may be NULL. 0, EAGAIN (out of keys: PTHREAD_KEYS_MAX), ENOMEM. */
WEFT_API int weft_local_init(weft_local *l, void (*dtor)(void *));
/** Destructors do not run for values still set (as pthread_key_delete). No
 * thread may use l during or after deinit. */
WEFT_API void weft_local_deinit(weft_local *l);
/** The calling thread's value, NULL when unset. */
WEFT_API void *weft_local_get(const weft_local *l);
/** Set the calling thread's value (NULL unsets it). 0, ENOMEM. */
WEFT_API int weft_local_set(weft_local *l, void *value);

/* ---- Timer -------------------------------------------------------------- */

/** Python's threading.Timer: a thread that runs fn(arg) once, interval seconds
 * after start, unless cancelled first. The timer's thread is not a daemon by
 * default (so pending timers delay process exit, as in Python); change it
 * through weft_timer_thread before starting. */
typedef struct weft_timer weft_timer;

/** 0, EINVAL (t or fn NULL, interval NaN or negative), ENOMEM. */
WEFT_API int weft_timer_create(weft_timer **t, double interval, void (*fn)(void *), void *arg);
/** 0, EBUSY (second start), EAGAIN. */
WEFT_API int weft_timer_start(weft_timer *t);
/** Stop the timer if it has not fired yet. Returns true when fn has not run
 * and never will (also for a timer never started), false when fn already
 * ran or is running. Wakes the timer's thread at once. */
WEFT_API bool weft_timer_cancel(weft_timer *t);
/** Wait for the timer's thread to end (fired or cancelled): as weft_thread_join. */
WEFT_API int weft_timer_join(weft_timer *t, double timeout);
/** The timer's thread, to name it, make it a daemon or enumerate it; owned by
 * the timer. */
WEFT_API weft_thread *weft_timer_thread(weft_timer *t);
/** Cancel, wait for the thread to end, free. Must not be called from fn. */
WEFT_API void weft_timer_destroy(weft_timer *t);

WEFT_END_DECLS

#endif /* WEFT_THREAD_H */
