/* bench/common.c: clocks, a thread team and a latch shared by the cases.
 *
 * Everything here is built on plain pthreads so that it favours no contender:
 * the team starts a round and collects it, the latch tells the timing thread
 * that the last task of a round has run.
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

uint64_t wb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t wb_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void wb_sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static _Atomic uint64_t wb_sink;

void wb_consume(uint64_t v)
{
    atomic_fetch_add_explicit(&wb_sink, v, memory_order_relaxed);
}

uint64_t wb_spin_work(uint64_t units)
{
    /* An xorshift chain: each step depends on the previous one, so the
     * compiler can neither vectorise it nor fold it away. */
    uint64_t x = units * 0x9E3779B97F4A7C15u + 1;
    for (uint64_t i = 0; i < units * 8; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

/* ---- team ---- */

struct wb_team {
    pthread_mutex_t mu;
    pthread_cond_t go_cv;
    pthread_cond_t done_cv;
    uint64_t generation; /* bumped by every wb_team_run; 0 until the first */
    int done;            /* members finished in this generation */
    bool quit;
    _Atomic int at_start; /* members at the start line in this generation */
    int n;
    void (*fn)(void *ctx, int index);
    void *ctx;
    pthread_t *threads;
};

struct wb_member {
    wb_team *team;
    int index;
};

static void *wb_team_main(void *arg)
{
    struct wb_member *m = arg;
    wb_team *t = m->team;
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&t->mu);
        while (t->generation == seen && !t->quit)
            pthread_cond_wait(&t->go_cv, &t->mu);
        if (t->quit) {
            pthread_mutex_unlock(&t->mu);
            break;
        }
        seen = t->generation;
        pthread_mutex_unlock(&t->mu);

        /* The start line: nobody starts before everybody is awake. Yielding
         * while waiting keeps an over-subscribed machine moving. */
        atomic_fetch_add_explicit(&t->at_start, 1, memory_order_acq_rel);
        while (atomic_load_explicit(&t->at_start, memory_order_acquire) < t->n)
            sched_yield();

        t->fn(t->ctx, m->index);

        pthread_mutex_lock(&t->mu);
        if (++t->done == t->n)
            pthread_cond_signal(&t->done_cv);
        pthread_mutex_unlock(&t->mu);
    }
    free(m);
    return NULL;
}

int wb_team_create(wb_team **out, int n, void (*fn)(void *ctx, int index), void *ctx)
{
    wb_team *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ENOMEM;
    t->threads = calloc((size_t)n, sizeof(pthread_t));
    if (t->threads == NULL) {
        free(t);
        return ENOMEM;
    }
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->go_cv, NULL);
    pthread_cond_init(&t->done_cv, NULL);
    t->n = n;
    t->fn = fn;
    t->ctx = ctx;
    /* A benchmark that cannot start its threads has nothing to measure, and
     * unwinding half a team is not worth its code here: abort. */
    for (int i = 0; i < n; i++) {
        struct wb_member *m = malloc(sizeof(*m));
        if (m == NULL)
            abort();
        m->team = t;
        m->index = i;
        if (pthread_create(&t->threads[i], NULL, wb_team_main, m) != 0)
            abort();
    }
    *out = t;
    return 0;
}

void wb_team_run(wb_team *t)
{
    pthread_mutex_lock(&t->mu);
    t->done = 0;
    atomic_store_explicit(&t->at_start, 0, memory_order_relaxed);
    t->generation++;
    pthread_cond_broadcast(&t->go_cv);
    while (t->done < t->n)
        pthread_cond_wait(&t->done_cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

void wb_team_destroy(wb_team *t)
{
    pthread_mutex_lock(&t->mu);
    t->quit = true;
    pthread_cond_broadcast(&t->go_cv);
    pthread_mutex_unlock(&t->mu);
    for (int i = 0; i < t->n; i++)
        pthread_join(t->threads[i], NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->go_cv);
    pthread_cond_destroy(&t->done_cv);
    free(t->threads);
    free(t);
}

/* ---- latch ---- */

struct wb_latch {
    _Atomic uint64_t left;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
};

wb_latch *wb_latch_create(void)
{
    wb_latch *l = calloc(1, sizeof(*l));
    if (l == NULL)
        abort();
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    return l;
}

void wb_latch_reset(wb_latch *l, uint64_t count)
{
    pthread_mutex_lock(&l->mu);
    l->open = count == 0;
    atomic_store_explicit(&l->left, count, memory_order_relaxed);
    pthread_mutex_unlock(&l->mu);
}

void wb_latch_count_down(wb_latch *l)
{
    if (atomic_fetch_sub_explicit(&l->left, 1, memory_order_acq_rel) != 1)
        return;
    pthread_mutex_lock(&l->mu);
    l->open = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void wb_latch_wait(wb_latch *l)
{
    pthread_mutex_lock(&l->mu);
    while (!l->open)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
}

void wb_latch_destroy(wb_latch *l)
{
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}
