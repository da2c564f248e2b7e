/* bench/lock_uncontended.c: the cost of one acquire + release when no other
 * thread touches the lock (API.md: weft_lock's uncontended acquire is one
 * atomic read-modify-write and must cost no more than pthread_mutex's).
 * One thread; an item is one acquire, one increment, one release.
 */
#include <stdlib.h>

#include "bench.h"
#include "locks.h"

typedef struct ctx {
    long n;
    uint64_t counter;
    _Alignas(64) char lock[128]; /* room for any of the wb_lock_* types */
} ctx;

static const wb_case lock_uncontended = {
    .name = "lock_uncontended",
    .what = "One thread acquires, increments a counter and releases, over and over.",
    .item = "acquire+release",
    .baseline = "pthread_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_FIXED,
    .fixed_threads = 1,
    .size = 2000000,
    .smoke_size = 20000,
};

#define WB_UNCONTENDED(tag, label)                                                                           \
    static void *setup_##tag(const wb_params *p, const char **why)                                           \
    {                                                                                                        \
        (void)why;                                                                                           \
        _Static_assert(sizeof(wb_lock_##tag) <= sizeof(((ctx *)0)->lock), "lock fits");                      \
        ctx *c = calloc(1, sizeof(*c));                                                                      \
        c->n = p->size;                                                                                      \
        wb_lock_##tag##_init((wb_lock_##tag *)c->lock);                                                      \
        return c;                                                                                            \
    }                                                                                                        \
    static uint64_t run_##tag(void *arg, wb_round *r)                                                        \
    {                                                                                                        \
        (void)r;                                                                                             \
        ctx *c = arg;                                                                                        \
        wb_lock_##tag *m = (wb_lock_##tag *)c->lock;                                                         \
        for (long i = 0; i < c->n; i++) {                                                                    \
            wb_lock_##tag##_lock(m);                                                                         \
            c->counter++;                                                                                    \
            wb_lock_##tag##_unlock(m);                                                                       \
        }                                                                                                    \
        return (uint64_t)c->n;                                                                               \
    }                                                                                                        \
    static void teardown_##tag(void *arg)                                                                    \
    {                                                                                                        \
        ctx *c = arg;                                                                                        \
        wb_consume(c->counter);                                                                              \
        wb_lock_##tag##_fini((wb_lock_##tag *)c->lock);                                                      \
        free(c);                                                                                             \
    }

WB_LOCK_KINDS(WB_UNCONTENDED)

#define WB_IMPL(tag, label) {label, setup_##tag, run_##tag, teardown_##tag},
static const wb_impl impls[] = {WB_LOCK_KINDS(WB_IMPL)};

WB_REGISTER(lock_uncontended, impls)
