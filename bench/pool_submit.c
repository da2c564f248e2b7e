/* bench/pool_submit.c: external submission throughput. One outside thread
 * (not a worker) submits size tiny fire-and-forget tasks to a pool of T
 * workers and waits until the last one has run; each task counts down a latch
 * (one shared atomic, the same for every contender). An item is one task.
 * weft_pool_submit with f = NULL against its mutex twin, GLib's GThreadPool
 * (exclusive threads) and TBB's task_arena::enqueue.
 */
#include <stdlib.h>

#include "bench.h"
#include "weft_pool.h"
#ifdef WB_HAVE_TBB
#include "peer_tbb.h"
#endif
#ifdef WB_HAVE_GLIB
#include <glib.h>
#endif

enum kind { K_WEFT, K_WEFT_MUTEX, K_GLIB, K_TBB };

typedef struct ctx {
    enum kind kind;
    uint64_t n;
    wb_latch *latch;
    weft_pool *pool;
    void *tbb;
#ifdef WB_HAVE_GLIB
    GThreadPool *gpool;
#endif
} ctx;

static int weft_task(void *arg, void **result)
{
    (void)result;
    wb_latch_count_down(arg);
    return 0;
}

static void count_down(void *arg)
{
    wb_latch_count_down(arg);
}

#ifdef WB_HAVE_GLIB
static void glib_task(gpointer data, gpointer user)
{
    (void)user;
    wb_latch_count_down(data);
}
#endif

static void *setup(const wb_params *p, enum kind kind, const char **why)
{
    ctx *c = calloc(1, sizeof(*c));
    c->kind = kind;
    c->n = (uint64_t)p->size;
    c->latch = wb_latch_create();
    bool ok = false;
    switch (kind) {
    case K_WEFT:
    case K_WEFT_MUTEX:
        ok = wb_weft_pool_create(&c->pool, p->threads, kind == K_WEFT_MUTEX) == 0;
        break;
    case K_GLIB:
#ifdef WB_HAVE_GLIB
        c->gpool = g_thread_pool_new(glib_task, NULL, p->threads, TRUE, NULL);
        ok = c->gpool != NULL;
#endif
        break;
    case K_TBB:
#ifdef WB_HAVE_TBB
        c->tbb = wb_tbb_create(p->threads);
        ok = c->tbb != NULL;
#endif
        break;
    }
    if (!ok) {
        *why = "cannot create the pool";
        wb_latch_destroy(c->latch);
        free(c);
        return NULL;
    }
    return c;
}

static uint64_t run(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    wb_latch_reset(c->latch, c->n);
    for (uint64_t i = 0; i < c->n; i++) {
        switch (c->kind) {
        case K_WEFT:
        case K_WEFT_MUTEX:
            if (weft_pool_submit(c->pool, weft_task, c->latch, NULL) != 0)
                abort();
            break;
        case K_GLIB:
#ifdef WB_HAVE_GLIB
            g_thread_pool_push(c->gpool, c->latch, NULL);
#endif
            break;
        case K_TBB:
#ifdef WB_HAVE_TBB
            wb_tbb_enqueue(c->tbb, count_down, c->latch);
#endif
            break;
        }
    }
    wb_latch_wait(c->latch);
    return c->n;
}

static void teardown(void *arg)
{
    ctx *c = arg;
    if (c->pool != NULL)
        weft_pool_destroy(c->pool);
#ifdef WB_HAVE_GLIB
    if (c->gpool != NULL)
        g_thread_pool_free(c->gpool, FALSE, TRUE);
#endif
#ifdef WB_HAVE_TBB
    if (c->tbb != NULL)
        wb_tbb_destroy(c->tbb);
#endif
    wb_latch_destroy(c->latch);
    free(c);
}

static void *setup_weft(const wb_params *p, const char **why)
{
    return setup(p, K_WEFT, why);
}

static void *setup_weft_mutex(const wb_params *p, const char **why)
{
    return setup(p, K_WEFT_MUTEX, why);
}

#ifdef WB_HAVE_GLIB
static void *setup_glib(const wb_params *p, const char **why)
{
    return setup(p, K_GLIB, why);
}
#endif

#ifdef WB_HAVE_TBB
static void *setup_tbb(const wb_params *p, const char **why)
{
    return setup(p, K_TBB, why);
}
#endif

static const wb_case pool_submit = {
    .name = "pool_submit",
    .what =
        "One outside thread submits 100000 tiny fire-and-forget tasks (smoke 1000) to T workers and waits "
        "for the last.",
    .item = "task",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 100000,
    .smoke_size = 1000,
};

static const wb_impl impls[] = {
    {"weft", setup_weft, run, teardown},
    {"weft_mutex", setup_weft_mutex, run, teardown},
#ifdef WB_HAVE_GLIB
    {"glib_threadpool", setup_glib, run, teardown},
#endif
#ifdef WB_HAVE_TBB
    {"tbb", setup_tbb, run, teardown},
#endif
};

WB_REGISTER(pool_submit, impls)
