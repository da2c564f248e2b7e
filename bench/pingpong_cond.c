/* bench/pingpong_cond.c: wake-up latency through a Condition. One lock, one
 * condition, a turn variable: A sets turn = 1, notifies and waits for turn to
 * come back to 0; B waits for 1, sets 0 and notifies. An item is one round
 * trip; the samples are round-trip times seen by A. The peer is the same
 * protocol on pthread_mutex + pthread_cond.
 */
#include <pthread.h>
#include <stdlib.h>

#include "bench.h"
#include "weft/sync.h"

typedef struct ctx {
    long n;
    bool use_weft;
    int turn; /* guarded by the lock in use */
    weft_lock wl;
    weft_cond wc;
    pthread_mutex_t pm;
    pthread_cond_t pc;
    double *samples;
    wb_team *team;
} ctx;

/* Hands the turn to `to` and waits until it is `back` again. */
static void pass_weft(ctx *c, int to, int back)
{
    weft_lock_acquire(&c->wl, WEFT_FOREVER);
    if (to >= 0) {
        c->turn = to;
        weft_cond_notify(&c->wc, 1);
    }
    while (c->turn != back)
        weft_cond_wait(&c->wc, WEFT_FOREVER);
    weft_lock_release(&c->wl);
}

static void pass_pthread(ctx *c, int to, int back)
{
    pthread_mutex_lock(&c->pm);
    if (to >= 0) {
        c->turn = to;
        pthread_cond_signal(&c->pc);
    }
    while (c->turn != back)
        pthread_cond_wait(&c->pc, &c->pm);
    pthread_mutex_unlock(&c->pm);
}

static void set_turn(ctx *c, int to)
{
    if (c->use_weft) {
        weft_lock_acquire(&c->wl, WEFT_FOREVER);
        c->turn = to;
        weft_cond_notify(&c->wc, 1);
        weft_lock_release(&c->wl);
    } else {
        pthread_mutex_lock(&c->pm);
        c->turn = to;
        pthread_cond_signal(&c->pc);
        pthread_mutex_unlock(&c->pm);
    }
}

static void body(void *arg, int index)
{
    ctx *c = arg;
    void (*pass)(ctx *, int, int) = c->use_weft ? pass_weft : pass_pthread;
    for (long k = 0; k < c->n; k++) {
        if (index == 0) {
            uint64_t t0 = wb_now_ns();
            pass(c, 1, 0);
            c->samples[k] = (double)(wb_now_ns() - t0);
        } else {
            pass(c, -1, 1);
            set_turn(c, 0);
        }
    }
}

static void *setup(const wb_params *p, bool use_weft, const char **why)
{
    ctx *c = calloc(1, sizeof(*c));
    c->n = p->size;
    c->use_weft = use_weft;
    weft_lock_init(&c->wl);
    weft_cond_init(&c->wc, &c->wl);
    pthread_mutex_init(&c->pm, NULL);
    pthread_cond_init(&c->pc, NULL);
    c->samples = calloc((size_t)c->n, sizeof(double));
    if (c->samples == NULL || wb_team_create(&c->team, 2, body, c) != 0) {
        *why = "out of memory or threads";
        free(c->samples);
        free(c);
        return NULL;
    }
    return c;
}

static void *setup_weft(const wb_params *p, const char **why)
{
    return setup(p, true, why);
}

static void *setup_pthread(const wb_params *p, const char **why)
{
    return setup(p, false, why);
}

static uint64_t run(void *arg, wb_round *r)
{
    ctx *c = arg;
    c->turn = 0;
    wb_team_run(c->team);
    for (long k = 0; k < c->n; k++)
        wb_sample(r, "rtt", c->samples[k]);
    return (uint64_t)c->n;
}

static void teardown(void *arg)
{
    ctx *c = arg;
    wb_team_destroy(c->team);
    pthread_mutex_destroy(&c->pm);
    pthread_cond_destroy(&c->pc);
    free(c->samples);
    free(c);
}

static const wb_case pingpong_cond = {
    .name = "pingpong_cond",
    .what = "Two threads hand a turn back and forth through one Condition and its lock.",
    .item = "round trip",
    .baseline = "pthread_cond",
    .metric = "rtt_p50_ns",
    .lower_is_better = true,
    .threads_mode = WB_FIXED,
    .fixed_threads = 2,
    .size = 20000,
    .smoke_size = 200,
};

static const wb_impl impls[] = {
    {"weft", setup_weft, run, teardown},
    {"pthread_cond", setup_pthread, run, teardown},
};

WB_REGISTER(pingpong_cond, impls)
