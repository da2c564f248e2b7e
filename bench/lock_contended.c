/* bench/lock_contended.c: throughput of a counter incremented under one lock
 * by T threads at once (API.md: weft_lock's contended throughput must be at
 * least pthread_mutex's). Each thread does size/T increments per round; an
 * item is one increment. The counter is checked after every round, so a lock
 * that lets two threads in shows up as a failed run, not as a fast one.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "locks.h"

typedef struct ctx {
    long per_thread;
    int threads;
    wb_team *team;
    uint64_t counter; /* guarded by lock */
    _Alignas(64) char lock[128];
} ctx;

static const wb_case lock_contended = {
    .name = "lock_contended",
    .what = "T threads increment one counter, each increment under the same lock.",
    .item = "increment",
    .baseline = "pthread_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 800000,
    .smoke_size = 20000,
};

#define WB_CONTENDED(tag, label)                                                                             \
    static void body_##tag(void *arg, int index)                                                             \
    {                                                                                                        \
        (void)index;                                                                                         \
        ctx *c = arg;                                                                                        \
        wb_lock_##tag *m = (wb_lock_##tag *)c->lock;                                                         \
        for (long i = 0; i < c->per_thread; i++) {                                                           \
            wb_lock_##tag##_lock(m);                                                                         \
            c->counter++;                                                                                    \
            wb_lock_##tag##_unlock(m);                                                                       \
        }                                                                                                    \
    }                                                                                                        \
    static void *setup_##tag(const wb_params *p, const char **why)                                           \
    {                                                                                                        \
        _Static_assert(sizeof(wb_lock_##tag) <= sizeof(((ctx *)0)->lock), "lock fits");                      \
        ctx *c = calloc(1, sizeof(*c));                                                                      \
        c->threads = p->threads;                                                                             \
        c->per_thread = p->size / p->threads;                                                                \
        wb_lock_##tag##_init((wb_lock_##tag *)c->lock);                                                      \
        if (wb_team_create(&c->team, p->threads, body_##tag, c) != 0) {                                      \
            *why = "cannot start threads";                                                                   \
            free(c);                                                                                         \
            return NULL;                                                                                     \
        }                                                                                                    \
        return c;                                                                                            \
    }                                                                                                        \
    static uint64_t run_##tag(void *arg, wb_round *r)                                                        \
    {                                                                                                        \
        (void)r;                                                                                             \
        ctx *c = arg;                                                                                        \
        c->counter = 0;                                                                                      \
        wb_team_run(c->team);                                                                                \
        uint64_t want = (uint64_t)c->per_thread * (uint64_t)c->threads;                                      \
        if (c->counter != want) {                                                                            \
            fprintf(stderr, "lock_contended/%s: counter %llu, expected %llu\n", label,                       \
                    (unsigned long long)c->counter, (unsigned long long)want);                               \
            abort();                                                                                         \
        }                                                                                                    \
        return want;                                                                                         \
    }                                                                                                        \
    static void teardown_##tag(void *arg)                                                                    \
    {                                                                                                        \
        ctx *c = arg;                                                                                        \
        wb_team_destroy(c->team);                                                                            \
        wb_lock_##tag##_fini((wb_lock_##tag *)c->lock);                                                      \
        free(c);                                                                                             \
    }

WB_LOCK_KINDS(WB_CONTENDED)

#define WB_IMPL(tag, label) {label, setup_##tag, run_##tag, teardown_##tag},
static const wb_impl impls[] = {WB_LOCK_KINDS(WB_IMPL)};

WB_REGISTER(lock_contended, impls)
