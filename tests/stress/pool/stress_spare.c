/* tests/stress/pool/stress_spare.c: the spare thread (src/sched/spare.c)
 * under random load.
 *
 * Usage: stress_spare threads seconds [--yield] [--seed N]
 *
 * One pool of `threads` workers (at least 1). Submitter 0 keeps the workers
 * lent: it submits fork-joins that hold every worker for a random 1-20 ms
 * (two halves, one spawned and stolen, each spawning and joining fib trees
 * until its time is up) and waits for each. The other submitters (threads
 * in all, at least 2) submit small outside tasks of random kinds meanwhile:
 * plain ones with a future, fire-and-forget ones, ones that run a group of
 * children and wait for it, and ones that spawn a weft_spawn tree; so the
 * spare runs some of them, with inline spawns, while workers run others.
 * Invariants checked: every task runs exactly once and every group child
 * and spawn tree completes before its task returns; at the end the pool's
 * tasks_run covers every task and spare_runs is reported. A watchdog ends a
 * hung run.
 */
#include <unistd.h>

#include "../../spawn_fib.h"
#include "../sync/stress_util.h"
#include "weft.h"

static weft_pool *pool;
static size_t nworkers;
static _Atomic long ff_submitted, ff_ran;

static const long fibs[] = {0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610};

/* ---- the fork-join that lends every worker -------------------------------- */

typedef struct hold {
    double until;
    _Atomic int bad;
} hold;

static void half(void *arg)
{
    hold *h = arg;
    while (stress_now() < h->until) {
        spawn_fib_arg a = {12, 0};
        spawn_fib(&a);
        if (a.result != 144)
            atomic_store(&h->bad, 1);
    }
}

static int hold_task(void *arg, void **result)
{
    (void)result;
    weft_spawn(half, arg);
    half(arg);
    weft_sync();
    return 0;
}

/* ---- the small outside tasks ---------------------------------------------- */

typedef struct small {
    int kind;
    _Atomic int ran;
    _Atomic int children;
    int n;
    long r;
} small;

static void child(void *arg)
{
    atomic_fetch_add(&((small *)arg)->children, 1);
}

static int small_task(void *arg, void **result)
{
    (void)result;
    small *s = arg;
    atomic_fetch_add(&s->ran, 1);
    if (s->kind == 1) {
        weft_group g;
        weft_group_init(&g, pool);
        for (int i = 0; i < 3; i++)
            if (weft_group_run(&g, child, s) != 0)
                stress_fail("weft_group_run failed");
        if (weft_group_wait(&g) != 0)
            stress_fail("weft_group_wait failed");
    } else if (s->kind == 2) {
        spawn_fib_arg a = {s->n, 0};
        spawn_fib(&a);
        s->r = a.result;
    }
    return 0;
}

static int ff_task(void *arg, void **result)
{
    (void)arg;
    (void)result;
    atomic_fetch_add(&ff_ran, 1);
    return 0;
}

static void *submitter(void *arg)
{
    stress_worker *w = arg;
    while (stress_running()) {
        if (w->id == 0) {
            hold h = {stress_now() + (1 + stress_rand(&w->rng) % 20) * 1e-3, 0};
            weft_future *f;
            if (weft_pool_submit(pool, hold_task, &h, &f) != 0) {
                stress_fail("submit failed");
                break;
            }
            if (weft_future_result(f, 120.0, NULL) != 0)
                stress_fail("a fork-join did not finish");
            weft_future_release(f);
            if (atomic_load(&h.bad))
                stress_fail("a fib tree under the fork-join was wrong");
            w->ops++;
        } else if (stress_one_in(&w->rng, 4)) {
            atomic_fetch_add(&ff_submitted, 1);
            if (weft_pool_submit(pool, ff_task, NULL, NULL) != 0) {
                stress_fail("fire-and-forget submit failed");
                break;
            }
            w->ops++;
        } else {
            small s = {.kind = (int)(stress_rand(&w->rng) % 3), .n = (int)(stress_rand(&w->rng) % 16)};
            atomic_init(&s.ran, 0);
            atomic_init(&s.children, 0);
            weft_future *f;
            if (weft_pool_submit(pool, small_task, &s, &f) != 0) {
                stress_fail("submit failed");
                break;
            }
            if (weft_future_result(f, 120.0, NULL) != 0)
                stress_fail("a small task did not finish");
            weft_future_release(f);
            if (atomic_load(&s.ran) != 1)
                stress_fail("a small task ran %d times", atomic_load(&s.ran));
            if (s.kind == 1 && atomic_load(&s.children) != 3)
                stress_fail("a group's children ran %d times, not 3", atomic_load(&s.children));
            if (s.kind == 2 && s.r != fibs[s.n])
                stress_fail("fib(%d) gave %ld", s.n, s.r);
            w->ops++;
        }
        stress_maybe_yield(&w->rng);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 2);
    nworkers = (size_t)stress_cfg.threads / 2;
    if (nworkers == 0)
        nworkers = 1;
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = nworkers;
    if (weft_pool_create(&pool, &o) != 0)
        return 2;
    stress_worker w[STRESS_MAX_THREADS];
    bool joined = stress_run(w, submitter, NULL);
    if (joined) {
        weft_pool_shutdown(pool, true, false);
        weft_pool_counters c;
        weft_pool_stats(pool, &c, NULL, 0);
        if (atomic_load(&ff_ran) != atomic_load(&ff_submitted))
            stress_fail("fire-and-forget: %ld submitted, %ld ran", atomic_load(&ff_submitted),
                        atomic_load(&ff_ran));
        printf("stress_spare: %zu workers, %llu tasks run, %llu by the spare\n", nworkers,
               (unsigned long long)c.tasks_run, (unsigned long long)c.spare_runs);
        weft_pool_destroy(pool);
    }
    return stress_finish("stress_spare", joined, w);
}
