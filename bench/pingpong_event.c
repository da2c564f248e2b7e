/* bench/pingpong_event.c: wake-up latency through Events. Two threads pass
 * the turn back and forth: A sets e1 and waits for e2, B waits for e1, clears
 * it and sets e2. An item is one round trip (two wake-ups); the samples are
 * round-trip times seen by A. The pthread twin is Python's own Event: a flag
 * under a mutex with a condition variable.
 */
#include <pthread.h>
#include <stdlib.h>

#include "bench.h"
#include "weft/sync.h"

typedef struct pevent {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool set;
} pevent;

static void pevent_set(pevent *e)
{
    pthread_mutex_lock(&e->mu);
    e->set = true;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

static void pevent_wait_clear(pevent *e)
{
    pthread_mutex_lock(&e->mu);
    while (!e->set)
        pthread_cond_wait(&e->cv, &e->mu);
    e->set = false;
    pthread_mutex_unlock(&e->mu);
}

typedef struct ctx {
    long n;
    bool use_weft;
    weft_event we[2];
    pevent pe[2];
    double *samples; /* A's round trips of the current round */
    wb_team *team;
} ctx;

static void ping(ctx *c, int i)
{
    if (c->use_weft)
        weft_event_set(&c->we[i]);
    else
        pevent_set(&c->pe[i]);
}

static void pong_wait(ctx *c, int i)
{
    if (c->use_weft) {
        weft_event_wait(&c->we[i], WEFT_FOREVER);
        weft_event_clear(&c->we[i]);
    } else {
        pevent_wait_clear(&c->pe[i]);
    }
}

static void body(void *arg, int index)
{
    ctx *c = arg;
    for (long k = 0; k < c->n; k++) {
        if (index == 0) {
            uint64_t t0 = wb_now_ns();
            ping(c, 0);
            pong_wait(c, 1);
            c->samples[k] = (double)(wb_now_ns() - t0);
        } else {
            pong_wait(c, 0);
            ping(c, 1);
        }
    }
}

static void *setup(const wb_params *p, bool use_weft, const char **why)
{
    ctx *c = calloc(1, sizeof(*c));
    c->n = p->size;
    c->use_weft = use_weft;
    for (int i = 0; i < 2; i++) {
        weft_event_init(&c->we[i]);
        pthread_mutex_init(&c->pe[i].mu, NULL);
        pthread_cond_init(&c->pe[i].cv, NULL);
    }
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
    wb_team_run(c->team);
    for (long k = 0; k < c->n; k++)
        wb_sample(r, "rtt", c->samples[k]);
    return (uint64_t)c->n;
}

static void teardown(void *arg)
{
    ctx *c = arg;
    wb_team_destroy(c->team);
    for (int i = 0; i < 2; i++) {
        pthread_mutex_destroy(&c->pe[i].mu);
        pthread_cond_destroy(&c->pe[i].cv);
    }
    free(c->samples);
    free(c);
}

static const wb_case pingpong_event = {
    .name = "pingpong_event",
    .what = "Two threads hand a turn back and forth through two Events (set, wait, clear).",
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

WB_REGISTER(pingpong_event, impls)
