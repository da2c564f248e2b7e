/* weft/diag.h: finding deadlocks. A lock-order checker (lockdep), a thread
 * dump, and a deadlock report. Guide with examples: docs/DIAGNOSTICS.md.
 *
 * lockdep (off by default). When on, weft records, per thread, the order in
 * which weft locks are taken (weft_lock, weft_rlock, and the lock under a
 * weft_cond, which a wait releases and re-acquires). The first time a thread
 * takes B while holding A after some thread took A while holding B (or
 * through a longer chain), it prints, on stderr, one block whose first line
 * begins with "weft: lock order inversion", naming both threads, both locks
 * and the call sites of each acquisition, and the program goes on. That
 * happens before any deadlock, on the first run where both orders occur, even
 * if they never overlap in time. Each inversion is reported once.
 * Locks are identified by address: a lock whose memory is freed and reused
 * for another lock inherits its history; call weft_lockdep_forget() before
 * freeing memory that held a tracked lock if that matters to you.
 * Turn it on with the environment variable WEFT_LOCKDEP=1 (read once, when
 * the library is loaded) or weft_lockdep_enable(). Locks already held when it
 * is turned on are not tracked.
 *
 * Deadlock report. With lockdep on, a watchdog thread looks every
 * WEFT_LOCKDEP_TIMEOUT / 2 seconds (environment, default 5; read once) for
 * threads that have waited longer than WEFT_LOCKDEP_TIMEOUT for a weft lock.
 * For those it follows the wait-for graph (thread -> lock it wants -> thread
 * holding it -> ...); a cycle is printed as "weft: deadlock:" with each
 * thread, the lock it holds and the lock it wants. Each cycle is reported once.
 *
 * Cost. Off: the inline lock fast path tests one global flag (a relaxed load
 * and a predictable branch) besides its compare-and-swap; nothing else.
 * Blocking waits record "blocked in what on what since when" (for the dump)
 * only when they are about to sleep. On: every acquire and release of a user's
 * lock takes a global mutex and looks up the lock graph.
 */
#ifndef WEFT_DIAG_H
#define WEFT_DIAG_H

#include <stdio.h>

#include "weft/common.h"
#include "weft/sync.h"

WEFT_BEGIN_DECLS

/**
 * Turn the lock-order checker on for the rest of the process (it cannot be
 * turned off). Same as starting with WEFT_LOCKDEP=1. Safe to call from any
 * thread at any time, any number of times.
 */
WEFT_API void weft_lockdep_enable(void);

/**
 * Whether the lock-order checker is on.
 */
WEFT_API bool weft_lockdep_enabled(void);

/**
 * Forget everything lockdep recorded about the lock at @p lock (a weft_lock,
 * weft_rlock or the lock of a weft_cond): call it before freeing memory that
 * held a lock, so that another lock later allocated at the same address does
 * not inherit its order. The lock must not be held. A no-op when lockdep is
 * off.
 * @return 0, or EINVAL when @p lock is NULL.
 */
WEFT_API int weft_lockdep_forget(const void *lock);

/**
 * Give a sync object, queue, pool or any other address a name shown by the
 * lockdep reports and by weft_dump. The string is copied; a name replaced
 * later is not freed (signal handlers may be reading it). NULL removes the
 * name.
 * @return 0, EINVAL when @p object is NULL, ENOMEM when the table of names
 * (4096 entries) is full or the copy failed.
 */
WEFT_API int weft_diag_set_name(const void *object, const char *name);

/**
 * weft_diag_set_name() for a weft_lock.
 * @return as weft_diag_set_name().
 */
WEFT_API int weft_lock_set_name(weft_lock *lock, const char *name);

/**
 * Write a dump of every thread weft knows (weft threads, pool workers, dummy
 * and main entries, and any other thread blocked in a weft call) to @p out,
 * one line each: name, ident, native thread id, and state: "running" or
 * "blocked in <weft function> on <object> for <seconds> s". Then every pool
 * (workers, tasks submitted from outside and not yet taken, each worker's
 * deque depth) and every object that threads wait on, with its waiters and,
 * when lockdep is on, the thread holding it. Takes no lock that a blocked
 * thread may hold. The format is for people, not parsers.
 * @return 0, EINVAL when @p out is NULL, or the errno of a failed write.
 */
WEFT_API int weft_dump(FILE *out);

/**
 * Install a handler for signal @p sig (SIGQUIT, as the JVM's thread dump,
 * or SIGUSR1, ...) that writes the weft_dump() report to stderr with write(2).
 * The handler is async-signal-safe: it walks weft's thread records without
 * locks (records are never freed), formats without stdio or malloc, reads
 * the clock with clock_gettime, and looks at pools only if it gets their list
 * lock with a try-lock (otherwise it says so). Thread names being renamed at
 * that very moment print as "?". Call sites are not symbolised in the handler.
 * The handler runs with SA_RESTART; the signal's previous disposition is
 * replaced.
 * @return 0, EINVAL when @p sig is not a signal that can be caught, or the
 * errno of sigaction.
 */
WEFT_API int weft_dump_on_signal(int sig);

WEFT_END_DECLS

#endif /* WEFT_DIAG_H */
