/* bench/pingpong_sem.c: wake-up latency through Semaphores. A releases s1 and
 * acquires s2; B acquires s1 and releases s2. An item is one round trip (two
 * wake-ups); the samples are round-trip times seen by A. The peer is POSIX
 * sem_t (glibc: a futex with a waiter count, as weft_sem).
 */
#include <semaphore.h>
#include <stdlib.h>

#include "bench.h"
#include "weft/sync.h"

typedef struct ctx {
    long n;
    bool use_weft;
    weft_sem ws[2];
    sem_t ps[2];
    double *samples;
    wb_team *team;
} ctx;

static void give(ctx *c, int i)
{
    if (c->use_weft)
        weft_sem_release(&c->ws[i], 1);
    else
        sem_post(&c->ps[i]);
}

static void take(ctx *c, int i)
{
    if (c->use_weft)
        weft_sem_acquire(&c->ws[i], WEFT_FOREVER);
    else
        while (sem_wait(&c->ps[i]) != 0)
            ;
}

static void body(void *arg, int index)
{
    ctx *c = arg;
    for (long k = 0; k < c->n; k++) {
        if (index == 0) {
            uint64_t t0 = wb_now_ns();
            give(c, 0);
            take(c, 1);
            c->samples[k] = (double)(wb_now_ns() - t0);
        } else {
            take(c, 0);
            give(c, 1);
        }
    }
}

static void *setup(const wb_params *p, bool use_weft, const char **why)
{
    ctx *c = calloc(1, sizeof(*c));
    c->n = p->size;
    c->use_weft = use_weft;
    for (int i = 0; i < 2; i++) {
        weft_sem_init(&c->ws[i], 0);
        sem_init(&c->ps[i], 0, 0);
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

static void *setup_posix(const wb_params *p, const char **why)
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
    for (int i = 0; i < 2; i++)
        sem_destroy(&c->ps[i]);
    free(c->samples);
    free(c);
}

static const wb_case pingpong_sem = {
    .name = "pingpong_sem",
    .what = "Two threads hand a turn back and forth through two Semaphores (release, acquire).",
    .item = "round trip",
    .baseline = "sem_t",
    .metric = "rtt_p50_ns",
    .lower_is_better = true,
    .threads_mode = WB_FIXED,
    .fixed_threads = 2,
    .size = 20000,
    .smoke_size = 200,
};

static const wb_impl impls[] = {
    {"weft", setup_weft, run, teardown},
    {"sem_t", setup_posix, run, teardown},
};

WB_REGISTER(pingpong_sem, impls)
