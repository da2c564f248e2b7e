/* bench/locks.h: the locks that the lock cases compare, each behind the same
 * four inline operations, so that every contender's loop is compiled with its
 * own lock and unlock inlined (no indirect call in the measured loop).
 *
 * WB_LOCK_KINDS(X) expands X(tag, name) once per lock available in this build.
 */
#ifndef WEFT_BENCH_LOCKS_H
#define WEFT_BENCH_LOCKS_H

#include <pthread.h>

#include "weft/sync.h"

#ifdef WB_HAVE_GLIB
#include <glib.h>
#endif

#ifdef WB_HAVE_TBB
#include "peer_tbb.h"
#endif

typedef struct wb_lock_weft {
    weft_lock l;
} wb_lock_weft;
static inline void wb_lock_weft_init(wb_lock_weft *m)
{
    weft_lock_init(&m->l);
}
static inline void wb_lock_weft_fini(wb_lock_weft *m)
{
    (void)m;
}
static inline void wb_lock_weft_lock(wb_lock_weft *m)
{
    weft_lock_acquire(&m->l, WEFT_FOREVER);
}
static inline void wb_lock_weft_unlock(wb_lock_weft *m)
{
    weft_lock_release(&m->l);
}

typedef struct wb_lock_pthread {
    pthread_mutex_t m;
} wb_lock_pthread;
static inline void wb_lock_pthread_init(wb_lock_pthread *m)
{
    pthread_mutex_init(&m->m, NULL);
}
static inline void wb_lock_pthread_fini(wb_lock_pthread *m)
{
    pthread_mutex_destroy(&m->m);
}
static inline void wb_lock_pthread_lock(wb_lock_pthread *m)
{
    pthread_mutex_lock(&m->m);
}
static inline void wb_lock_pthread_unlock(wb_lock_pthread *m)
{
    pthread_mutex_unlock(&m->m);
}

/* glibc's adaptive mutex spins a while before it sleeps, as weft_lock does. */
typedef struct wb_lock_adaptive {
    pthread_mutex_t m;
} wb_lock_adaptive;
static inline void wb_lock_adaptive_init(wb_lock_adaptive *m)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&m->m, &a);
    pthread_mutexattr_destroy(&a);
}
static inline void wb_lock_adaptive_fini(wb_lock_adaptive *m)
{
    pthread_mutex_destroy(&m->m);
}
static inline void wb_lock_adaptive_lock(wb_lock_adaptive *m)
{
    pthread_mutex_lock(&m->m);
}
static inline void wb_lock_adaptive_unlock(wb_lock_adaptive *m)
{
    pthread_mutex_unlock(&m->m);
}

#ifdef WB_HAVE_GLIB
typedef struct wb_lock_glib {
    GMutex m;
} wb_lock_glib;
static inline void wb_lock_glib_init(wb_lock_glib *m)
{
    g_mutex_init(&m->m);
}
static inline void wb_lock_glib_fini(wb_lock_glib *m)
{
    g_mutex_clear(&m->m);
}
static inline void wb_lock_glib_lock(wb_lock_glib *m)
{
    g_mutex_lock(&m->m);
}
static inline void wb_lock_glib_unlock(wb_lock_glib *m)
{
    g_mutex_unlock(&m->m);
}
#define WB_LOCK_GLIB(X) X(glib, "glib_gmutex")
#else
#define WB_LOCK_GLIB(X)
#endif

#ifdef WB_HAVE_TBB
typedef struct wb_lock_tbb {
    void *m;
} wb_lock_tbb;
static inline void wb_lock_tbb_init(wb_lock_tbb *m)
{
    m->m = wb_tbb_mutex_create();
}
static inline void wb_lock_tbb_fini(wb_lock_tbb *m)
{
    wb_tbb_mutex_destroy(m->m);
}
static inline void wb_lock_tbb_lock(wb_lock_tbb *m)
{
    wb_tbb_mutex_lock(m->m);
}
static inline void wb_lock_tbb_unlock(wb_lock_tbb *m)
{
    wb_tbb_mutex_unlock(m->m);
}
#define WB_LOCK_TBB(X) X(tbb, "tbb_mutex")
#else
#define WB_LOCK_TBB(X)
#endif

#define WB_LOCK_KINDS(X)                                                                                     \
    X(weft, "weft")                                                                                          \
    X(pthread, "pthread_mutex")                                                                              \
    X(adaptive, "pthread_adaptive")                                                                          \
    WB_LOCK_GLIB(X)                                                                                          \
    WB_LOCK_TBB(X)

#endif /* WEFT_BENCH_LOCKS_H */
