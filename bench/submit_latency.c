/* bench/submit_latency.c: latency through an idle pool. Before each sample
 * the outside thread sleeps 1 ms, long enough for the workers to go idle
 * (park); then it submits one task and waits for its result. Two series:
 *   start   submit() called -> the task starts running (wake-up of a worker);
 *   result  the task returns -> result() returns in the submitter.
 * 100 samples per round (smoke 5); an item is one sample. GLib's GThreadPool
 * and TBB's task_arena::enqueue have no futures: only their start series is
 * measured (the task then counts down a latch).
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

#define IDLE_NS 1000000u

enum kind { K_WEFT, K_WEFT_MUTEX, K_GLIB, K_TBB };

typedef struct sample {
    uint64_t start, end;
    wb_latch *latch;
} sample;

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
    sample *s = arg;
    s->start = wb_now_ns();
    *result = NULL;
    s->end = wb_now_ns();
    return 0;
}

static void peer_task(void *arg)
{
    sample *s = arg;
    s->start = wb_now_ns();
    wb_latch_count_down(s->latch);
}

#ifdef WB_HAVE_GLIB
static void glib_task(gpointer data, gpointer user)
{
    (void)user;
    peer_task(data);
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
    ctx *c = arg;
    for (uint64_t k = 0; k < c->n; k++) {
        sample s = {0, 0, c->latch};
        wb_sleep_ns(IDLE_NS);
        if (c->kind == K_WEFT || c->kind == K_WEFT_MUTEX) {
            weft_future *f;
            uint64_t t0 = wb_now_ns();
            if (weft_pool_submit(c->pool, weft_task, &s, &f) != 0)
                abort();
            if (weft_future_result(f, WEFT_FOREVER, NULL) != 0)
                abort();
            uint64_t t1 = wb_now_ns();
            weft_future_release(f);
            wb_sample(r, "start", (double)(s.start - t0));
            wb_sample(r, "result", (double)(t1 - s.end));
            continue;
        }
        wb_latch_reset(c->latch, 1);
        uint64_t t0 = wb_now_ns();
#ifdef WB_HAVE_GLIB
        if (c->kind == K_GLIB)
            g_thread_pool_push(c->gpool, &s, NULL);
#endif
#ifdef WB_HAVE_TBB
        if (c->kind == K_TBB)
            wb_tbb_enqueue(c->tbb, peer_task, &s);
#endif
        wb_latch_wait(c->latch);
        wb_sample(r, "start", (double)(s.start - t0));
    }
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

static const wb_case submit_latency = {
    .name = "submit_latency",
    .what = "Submit one task to an idle pool (1 ms since the last): latency from submit to the task's start "
            "(start_*) and from its end to result() returning (result_*).",
    .item = "sample",
    .baseline = "weft_mutex",
    .metric = "start_p50_ns",
    .lower_is_better = true,
    .threads_mode = WB_SWEEP,
    .size = 100,
    .smoke_size = 5,
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

WB_REGISTER(submit_latency, impls)
