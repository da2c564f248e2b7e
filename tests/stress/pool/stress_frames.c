/* tests/stress/pool/stress_frames.c: weft_spawn / weft_sync under random load.
 *
 * Usage: stress_frames threads seconds [--yield]
 *
 * `threads` submitter threads submit random spawn trees to one pool of
 * `threads` workers (at least 2) until the time is up. A node spawns 0-3
 * children, mostly with weft_spawn (joined in LIFO order), some with
 * weft_group_run (in half the trees); in the other half sometimes it spawns a child that
 * sets an event and then blocks in weft_event_wait until that child ran
 * (the before-block hook must share it; at most workers - 1 nodes block at
 * once, so some worker is always free to run it). Stolen frames, their
 * joiners' leapfrogging and nested helping all happen on the way.
 * Invariants checked:
 *   - every node runs exactly once, and before its parent's join returns;
 *   - the helping rule: a node that runs nested inside another node's wait
 *     on the same thread is a descendant of that node (a wait never runs
 *     unrelated work: rayon#592);
 *   - every root ran once and its subtree count is consistent.
 * Exits non-zero on a violation; a watchdog ends a hung run.
 */
#include <errno.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include "../sync/stress_util.h"
#include "weft.h"

typedef struct node {
    struct node *parent;
    _Atomic int ran;
    int depth;
    bool blocking; /* this tree blocks in event waits (and has no groups) */
    uint32_t seed;
    long sum; /* nodes in this subtree, computed by the node */
    weft_event ev;
} node;

static weft_pool *pool;
static size_t nworkers;
static _Atomic int blockers;
static _Atomic long nodes_run;
static _Thread_local node *running; /* the node this thread runs now */

static void run_node(void *arg);

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static bool descends_from(const node *n, const node *ancestor)
{
    for (const node *p = n->parent; p != NULL; p = p->parent)
        if (p == ancestor)
            return true;
    return false;
}

static void set_event_node(void *arg)
{
    node *n = arg;
    run_node(n);
    weft_event_set(&n->ev);
}

static void child_init(node *c, node *parent, uint32_t seed)
{
    c->parent = parent;
    atomic_init(&c->ran, 0);
    c->depth = parent->depth - 1;
    c->blocking = parent->blocking;
    c->seed = seed | 1;
    c->sum = 0;
    weft_event_init(&c->ev);
}

static void run_node(void *arg)
{
    node *n = arg;
    node *outer = running;
    if (outer != NULL && !descends_from(n, outer))
        stress_fail("helping rule: node at depth %d ran inside the wait of an unrelated node", n->depth);
    running = n;
    if (atomic_fetch_add_explicit(&n->ran, 1, memory_order_relaxed) != 0)
        stress_fail("a node ran twice");
    atomic_fetch_add_explicit(&nodes_run, 1, memory_order_relaxed);
    n->sum = 1;
    uint32_t s = n->seed;
    if (n->depth > 0) {
        node kids[3];
        int nk = (int)(next_rand(&s) % 4);
        int nframes = 0;
        weft_group g;
        weft_group_init(&g, pool);
        bool grouped[3] = {false, false, false};
        node blocker;
        bool block = false;
        for (int i = 0; i < nk; i++) {
            child_init(&kids[i], n, next_rand(&s));
            if (!n->blocking && next_rand(&s) % 5 == 0 && weft_group_run(&g, run_node, &kids[i]) == 0) {
                grouped[i] = true;
            } else {
                weft_spawn(run_node, &kids[i]);
                nframes++;
            }
            if (stress_cfg.yield && next_rand(&s) % 8 == 0)
                sched_yield();
        }
        /* A spawn followed by a blocking wait on it, when a worker stays free. */
        if (n->blocking && next_rand(&s) % 6 == 0) {
            int b = atomic_load(&blockers);
            while (b < (int)nworkers - 1 && !atomic_compare_exchange_weak(&blockers, &b, b + 1))
                ;
            if (b < (int)nworkers - 1) {
                block = true;
                child_init(&blocker, n, next_rand(&s));
                weft_spawn(set_event_node, &blocker);
                if (weft_event_wait(&blocker.ev, 120.0) != 0)
                    stress_fail("a spawned child did not run while its parent blocked");
                atomic_fetch_sub(&blockers, 1);
                weft_sync();
            }
        }
        for (int i = 0; i < nframes; i++)
            weft_sync();
        if (weft_group_wait(&g) != 0)
            stress_fail("weft_group_wait failed");
        for (int i = 0; i < nk; i++) {
            if (atomic_load_explicit(&kids[i].ran, memory_order_relaxed) != 1)
                stress_fail("a child (%s) had not run once when its join returned: %d",
                            grouped[i] ? "group" : "frame", atomic_load(&kids[i].ran));
            n->sum += kids[i].sum;
        }
        if (block) {
            if (atomic_load(&blocker.ran) != 1)
                stress_fail("the blocking child had not run once");
            n->sum += blocker.sum;
        }
    }
    running = outer;
}

static int root_task(void *arg, void **result)
{
    (void)result;
    node *n = arg;
    run_node(n);
    return 0;
}

static void *submitter(void *arg)
{
    stress_worker *w = arg;
    while (stress_running()) {
        node root;
        root.parent = NULL;
        atomic_init(&root.ran, 0);
        root.depth = 2 + (int)(stress_rand(&w->rng) % 8);
        root.seed = stress_rand(&w->rng) | 1;
        root.blocking = stress_one_in(&w->rng, 2);
        root.sum = 0;
        weft_event_init(&root.ev);
        weft_future *f;
        if (weft_pool_submit(pool, root_task, &root, &f) != 0) {
            stress_fail("submit failed");
            break;
        }
        int rc = weft_future_result(f, 120.0, NULL);
        weft_future_release(f);
        if (rc != 0) {
            stress_fail("a tree did not finish: %d", rc);
            break;
        }
        if (atomic_load(&root.ran) != 1 || root.sum < 1)
            stress_fail("the root ran %d times, sum %ld", atomic_load(&root.ran), root.sum);
        w->ops += root.sum;
        stress_maybe_yield(&w->rng);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 2);
    nworkers = (size_t)stress_cfg.threads;
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = nworkers;
    if (weft_pool_create(&pool, &o) != 0)
        return 2;
    stress_worker w[STRESS_MAX_THREADS];
    bool joined = stress_run(w, submitter, NULL);
    if (joined) {
        weft_pool_counters c;
        weft_pool_stats(pool, &c, NULL, 0);
        printf("stress_frames: %llu steals\n", (unsigned long long)c.steals);
        weft_pool_destroy(pool);
        urcu_qsbr_barrier();
    }
    return stress_finish("stress_frames", joined, w);
}
