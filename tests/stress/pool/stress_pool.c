/* tests/stress/pool/stress_pool.c: the pool under random load.
 *
 * Usage: stress_pool threads seconds [--yield]
 *
 * Rounds until the time is up. Each round makes a pool (schedulers
 * alternate, 1..threads workers) and starts `threads` submitter threads that
 * submit, as fast as they can, a random mix of: plain tasks with futures,
 * fire-and-forget tasks, and random spawn trees (deep and narrow, or shallow
 * and wide) built from groups, parallel_for, nested submit+result and
 * pool_map, plus group runs and parallel loops from outside the pool. They
 * cancel random futures and wait on others with random timeouts. After a
 * random delay the main thread shuts the pool down (random wait and
 * cancel_futures) while the submitters are still submitting; they stop at
 * ESHUTDOWN. Invariants checked:
 *   - every task runs at most once; every spawn-tree node exactly once; every
 *     parallel_for index exactly once; every map item exactly once;
 *   - a submission accepted (0) runs, unless its future was cancelled (by the
 *     user, or by cancel_futures) or it was a fire-and-forget task dropped by
 *     cancel_futures; a cancelled future's task never ran;
 *   - ESHUTDOWN only after shutdown began; every future ends (done) once
 *     shutdown(wait) returned, with the task's result;
 *   - the pool's counters balance: submitted == run + cancelled.
 * Exits non-zero on a violation; a watchdog alarm kills a hung run. Under
 * ASan nothing may leak (urcu_qsbr_barrier() flushes the deques' deferred
 * frees before exit).
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include "../sync/stress_util.h"
#include "weft.h"

enum { ITEMS_PER_SUBMITTER = 1500, OUTSIDE_NODES = 8 };

typedef enum item_kind { ITEM_PLAIN, ITEM_TREE, ITEM_FIRE_AND_FORGET } item_kind;

typedef struct item {
    _Atomic int ran;
    item_kind kind;
    uint32_t seed;
    weft_future *f;
    bool user_cancelled;
} item;

typedef struct node {
    _Atomic int ran;
    int depth;
    uint32_t seed;
} node;

static weft_pool *pool;           /* this round's pool */
static _Atomic bool shutdown_began; /* set before the round's shutdown call */
static _Atomic long nodes_run, items_run;

/* ---- spawn trees ---------------------------------------------------------------- */

static void tree_node(void *arg);

static int node_task(void *arg, void **result)
{
    tree_node(arg);
    *result = arg;
    return 0;
}

static void loop_body(void *ctx, size_t lo, size_t hi)
{
    _Atomic unsigned char *hits = ctx;
    for (size_t i = lo; i < hi; i++)
        atomic_fetch_add_explicit(&hits[i], 1, memory_order_relaxed);
}

static int map_item(void *arg, void **result)
{
    atomic_fetch_add_explicit((_Atomic int *)arg, 1, memory_order_relaxed);
    *result = arg;
    return 0;
}

static void check_children(node *kids, int k, const char *how)
{
    for (int i = 0; i < k; i++)
        if (atomic_load_explicit(&kids[i].ran, memory_order_relaxed) != 1)
            stress_fail("%s child ran %d times", how, atomic_load(&kids[i].ran));
}

static void tree_node(void *arg)
{
    node *n = arg;
    if (atomic_fetch_add_explicit(&n->ran, 1, memory_order_relaxed) != 0)
        stress_fail("a tree node ran twice");
    atomic_fetch_add_explicit(&nodes_run, 1, memory_order_relaxed);
    stress_rng r = {((uint64_t)n->seed << 1) | 1};
    stress_maybe_yield(&r);
    if (n->depth == 0)
        return;
    node kids[6];
    int k = n->depth > 2 ? 1 + (int)(stress_rand(&r) % 2) : 1 + (int)(stress_rand(&r) % 6);
    for (int i = 0; i < k; i++)
        kids[i] = (node){0, n->depth - 1, stress_rand(&r)};
    switch (stress_rand(&r) % 5) {
    case 0:
    case 1: {
        weft_group g;
        weft_group_init(&g, pool);
        for (int i = 0; i < k; i++) {
            int rc = weft_group_run(&g, tree_node, &kids[i]);
            if (rc != 0)
                stress_fail("group_run in a task: %d", rc);
            stress_maybe_yield(&r);
        }
        int rc = weft_group_wait(&g);
        if (rc != 0)
            stress_fail("group_wait: %d", rc);
        check_children(kids, k, "group");
        break;
    }
    case 2: {
        size_t len = 1 + stress_rand(&r) % 300, grain = 1 + stress_rand(&r) % 16;
        _Atomic unsigned char *hits = calloc(len, 1);
        if (hits == NULL)
            stress_fail("calloc");
        int rc = weft_parallel_for(pool, 0, len, grain, loop_body, (void *)hits);
        if (rc != 0)
            stress_fail("parallel_for in a task: %d", rc);
        for (size_t i = 0; i < len; i++)
            if (hits[i] != 1)
                stress_fail("parallel_for index %zu hit %d times", i, hits[i]);
        free((void *)hits);
        for (int i = 0; i < k; i++)
            tree_node(&kids[i]);
        break;
    }
    case 3: {
        weft_future *fs[6];
        for (int i = 0; i < k; i++) {
            int rc = weft_pool_submit(pool, node_task, &kids[i], &fs[i]);
            if (rc == ESHUTDOWN && atomic_load(&shutdown_began)) {
                fs[i] = NULL;
                tree_node(&kids[i]);
            } else if (rc != 0) {
                stress_fail("submit in a task: %d", rc);
                fs[i] = NULL;
                tree_node(&kids[i]);
            }
        }
        for (int i = k - 1; i >= 0; i--) {
            if (fs[i] == NULL)
                continue;
            void *res = NULL;
            int rc = weft_future_result(fs[i], WEFT_FOREVER, &res);
            if (rc == ECANCELED) {
                /* cancel_futures may drop a nested submission: run it here */
                tree_node(&kids[i]);
            } else if (rc != 0 || res != &kids[i]) {
                stress_fail("nested result: %d", rc);
            }
            weft_future_release(fs[i]);
        }
        check_children(kids, k, "nested submit");
        break;
    }
    default: {
        _Atomic int counts[16] = {0};
        void *args[16], *res[16];
        for (int i = 0; i < 16; i++)
            args[i] = (void *)&counts[i];
        int rc = weft_pool_map(pool, map_item, args, 16, res, 1 + stress_rand(&r) % 5, WEFT_FOREVER);
        if (rc != 0)
            stress_fail("map in a task: %d", rc);
        for (int i = 0; i < 16; i++)
            if (atomic_load(&counts[i]) != 1 || res[i] != args[i])
                stress_fail("map item %d ran %d times", i, atomic_load(&counts[i]));
        for (int i = 0; i < k; i++)
            tree_node(&kids[i]);
        break;
    }
    }
}

/* ---- submissions ------------------------------------------------------------------ */

static int item_task(void *arg, void **result)
{
    item *it = arg;
    if (atomic_fetch_add_explicit(&it->ran, 1, memory_order_relaxed) != 0)
        stress_fail("a submitted task ran twice");
    atomic_fetch_add_explicit(&items_run, 1, memory_order_relaxed);
    if (it->kind == ITEM_TREE) {
        stress_rng r = {((uint64_t)it->seed << 1) | 1};
        node root = {0, 1 + (int)(stress_rand(&r) % 7), stress_rand(&r)};
        tree_node(&root);
        if (atomic_load(&root.ran) != 1)
            stress_fail("tree root ran %d times", atomic_load(&root.ran));
    }
    *result = it;
    return 0;
}

typedef struct submitter {
    pthread_t thread;
    stress_rng rng;
    item *items;
    size_t count;
    node outside[OUTSIDE_NODES];
    int outside_spawned;
} submitter;

static void *submit_loop(void *arg)
{
    submitter *s = arg;
    weft_group g;
    weft_group_init(&g, pool);
    s->count = 0;
    s->outside_spawned = 0;
    while (s->count < ITEMS_PER_SUBMITTER) {
        stress_rng *r = &s->rng;
        uint32_t dice = stress_rand(r) % 64;
        if (dice == 0 && s->outside_spawned < OUTSIDE_NODES) {
            node *n = &s->outside[s->outside_spawned];
            *n = (node){0, 1 + (int)(stress_rand(r) % 4), stress_rand(r)};
            int rc = weft_group_run(&g, tree_node, n);
            if (rc == 0)
                s->outside_spawned++;
            else if (rc != ESHUTDOWN || !atomic_load(&shutdown_began))
                stress_fail("group_run from outside: %d", rc);
            continue;
        }
        if (dice == 1) {
            size_t len = 1 + stress_rand(r) % 2000;
            _Atomic unsigned char *hits = calloc(len, 1);
            int rc = weft_parallel_for(pool, 0, len, stress_rand(r) % 50, loop_body, (void *)hits);
            if (rc == 0) {
                for (size_t i = 0; i < len; i++)
                    if (hits[i] != 1)
                        stress_fail("outside parallel_for index %zu hit %d times", i, hits[i]);
            } else if (rc != ESHUTDOWN || !atomic_load(&shutdown_began)) {
                stress_fail("parallel_for from outside: %d", rc);
            }
            free((void *)hits);
            continue;
        }
        item *it = &s->items[s->count];
        it->kind = dice < 24 ? ITEM_PLAIN : dice < 40 ? ITEM_TREE : ITEM_FIRE_AND_FORGET;
        atomic_init(&it->ran, 0);
        it->seed = stress_rand(r);
        it->f = NULL;
        it->user_cancelled = false;
        int rc = weft_pool_submit(pool, item_task, it, it->kind == ITEM_FIRE_AND_FORGET ? NULL : &it->f);
        if (rc == ESHUTDOWN) {
            if (!atomic_load(&shutdown_began))
                stress_fail("ESHUTDOWN before shutdown");
            break;
        }
        if (rc != 0) {
            stress_fail("submit: %d", rc);
            break;
        }
        s->count++;
        if (it->f != NULL && stress_one_in(r, 8))
            it->user_cancelled = weft_future_cancel(it->f);
        if (it->f != NULL && stress_one_in(r, 16)) {
            rc = weft_future_wait(it->f, stress_timeout(r));
            if (rc != 0 && rc != ETIMEDOUT)
                stress_fail("future_wait: %d", rc);
        }
        stress_maybe_yield(r);
    }
    int rc = weft_group_wait(&g);
    if (rc != 0)
        stress_fail("outside group_wait: %d", rc);
    check_children(s->outside, s->outside_spawned, "outside group");
    return NULL;
}

/* ---- rounds --------------------------------------------------------------------------- */

static void check_round(submitter *subs, int n, bool cancelled)
{
    for (int t = 0; t < n; t++) {
        for (size_t i = 0; i < subs[t].count; i++) {
            item *it = &subs[t].items[i];
            int ran = atomic_load(&it->ran);
            if (ran > 1)
                stress_fail("an item ran %d times", ran);
            if (it->f == NULL) {
                if (ran == 0 && !cancelled)
                    stress_fail("a fire-and-forget task was lost");
                continue;
            }
            if (!weft_future_done(it->f))
                stress_fail("a future is still pending after shutdown(wait)");
            if (weft_future_cancelled(it->f)) {
                if (ran != 0)
                    stress_fail("a cancelled future's task ran");
                if (!cancelled && !it->user_cancelled)
                    stress_fail("a future was cancelled by nobody");
            } else {
                void *res = NULL;
                int rc = weft_future_result(it->f, 0, &res);
                if (ran != 1 || rc != 0 || res != it)
                    stress_fail("a finished future: ran %d, rc %d", ran, rc);
                if (it->user_cancelled)
                    stress_fail("cancel returned true but the task ran");
            }
            weft_future_release(it->f);
        }
    }
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 1);
    alarm((unsigned)stress_cfg.seconds + (unsigned)STRESS_GRACE + 60);
    int n = stress_cfg.threads;
    submitter *subs = calloc((size_t)n, sizeof *subs);
    for (int t = 0; t < n; t++) {
        subs[t].rng = stress_rng_seed(t);
        subs[t].items = calloc(ITEMS_PER_SUBMITTER, sizeof(item));
        if (subs[t].items == NULL)
            return 2;
    }
    stress_rng main_rng = stress_rng_seed(1000);
    double end = stress_now() + stress_cfg.seconds;
    long rounds = 0, submitted = 0;
    while (stress_now() < end && !stress_failed()) {
        weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
        o.scheduler = rounds % 2 == 0 ? WEFT_SCHED_STEALING : WEFT_SCHED_MUTEX;
        o.max_workers = 1 + stress_rand(&main_rng) % (uint32_t)n;
        int rc = weft_pool_create(&pool, &o);
        if (rc != 0) {
            stress_fail("pool_create: %d", rc);
            break;
        }
        atomic_store(&shutdown_began, false);
        for (int t = 0; t < n; t++)
            if ((rc = pthread_create(&subs[t].thread, NULL, submit_loop, &subs[t])) != 0) {
                fprintf(stderr, "pthread_create: %s\n", strerror(rc));
                return 2;
            }
        stress_nap_us(stress_rand(&main_rng) % 20000);
        bool wait = stress_one_in(&main_rng, 2), cancel = stress_one_in(&main_rng, 2);
        atomic_store(&shutdown_began, true);
        if ((rc = weft_pool_shutdown(pool, wait, cancel)) != 0)
            stress_fail("shutdown: %d", rc);
        for (int t = 0; t < n; t++)
            pthread_join(subs[t].thread, NULL);
        if ((rc = weft_pool_shutdown(pool, true, false)) != 0)
            stress_fail("shutdown(wait): %d", rc);
        check_round(subs, n, cancel);
        weft_pool_counters c;
        weft_pool_stats(pool, &c, NULL, 0);
        if (c.tasks_submitted != c.tasks_run + c.tasks_cancelled)
            stress_fail("counters: submitted %lu != run %lu + cancelled %lu", (unsigned long)c.tasks_submitted,
                        (unsigned long)c.tasks_run, (unsigned long)c.tasks_cancelled);
        submitted += (long)c.tasks_submitted;
        weft_pool_destroy(pool);
        rounds++;
    }
    for (int t = 0; t < n; t++)
        free(subs[t].items);
    free(subs);
    urcu_qsbr_barrier();
    printf("stress_pool: %ld rounds, %ld tasks, %ld submitted items ran, %ld tree nodes%s\n", rounds, submitted,
           atomic_load(&items_run), atomic_load(&nodes_run), stress_failed() ? ", FAILED" : "");
    return stress_failed() ? 1 : 0;
}
