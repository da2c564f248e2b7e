/* bench/uts.c: Unbalanced Tree Search (Olivier et al., LCPC 2006), tree T1 of
 * Lace's suite: geometric with a fixed shape, branching factor b = 4, depth
 * limit d = 10 (smoke 4), root seed 19: 4130071 nodes, 80% leaves. A node's
 * number of children is drawn from a geometric distribution of mean b (none
 * at depth d, at most 100) using its 20-byte random state; child i's state
 * is SHA-1(parent's state, i as 4 big-endian bytes), the root's SHA-1(16
 * zero bytes, the seed as 4 big-endian bytes), as UTS's BRG_RNG does. Each
 * node forks one task per child, then joins them all, as Lace's uts does.
 * An item is one node; the node count is checked after each round.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "sha1.h"

#define UTS_B0 4.0
#define UTS_ROOT_SEED 19
#define UTS_MAX_CHILDREN 100
/* T1's size, from UTS's sample_trees.sh, so that setup need not walk it. */
#define UTS_T1_DEPTH 10
#define UTS_T1_NODES 4130071

typedef struct uts_node {
    int height;
    uint8_t state[20];
} uts_node;

typedef struct ctx {
    int depth; /* the tree's depth limit */
    uint64_t expect;
    uts_node root;
    void *runtime; /* weft_pool or the TBB arena; unused by OpenMP and Lace */
    int threads;
} ctx;

static int uts_children(const uts_node *n, int depth_limit)
{
    double b = n->height < depth_limit ? UTS_B0 : 0.0;
    double p = 1.0 / (1.0 + b);
    uint32_t h = ((uint32_t)n->state[16] << 24 | (uint32_t)n->state[17] << 16 | (uint32_t)n->state[18] << 8 |
                  n->state[19]) &
                 0x7fffffffu;
    double u = (double)h / 2147483648.0;
    int k = (int)floor(log(1 - u) / log(1 - p));
    return k > UTS_MAX_CHILDREN ? UTS_MAX_CHILDREN : k;
}

static void uts_child(const uts_node *parent, int i, uts_node *child)
{
    uint8_t msg[24];
    memcpy(msg, parent->state, 20);
    msg[20] = (uint8_t)(i >> 24);
    msg[21] = (uint8_t)(i >> 16);
    msg[22] = (uint8_t)(i >> 8);
    msg[23] = (uint8_t)i;
    child->height = parent->height + 1;
    wb_sha1_short(msg, sizeof msg, child->state);
}

static uint64_t uts_serial(const uts_node *n, int depth_limit)
{
    uint64_t count = 1;
    int k = uts_children(n, depth_limit);
    for (int i = 0; i < k; i++) {
        uts_node c;
        uts_child(n, i, &c);
        count += uts_serial(&c, depth_limit);
    }
    return count;
}

static uint64_t check(const ctx *c, uint64_t got, const char *who)
{
    if (got != c->expect) {
        fprintf(stderr, "uts/%s: %llu nodes, expected %llu\n", who, (unsigned long long)got,
                (unsigned long long)c->expect);
        abort();
    }
    return got;
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    c->depth = (int)p->size;
    uint8_t msg[20] = {0};
    msg[16] = (uint8_t)(UTS_ROOT_SEED >> 24);
    msg[17] = (uint8_t)(UTS_ROOT_SEED >> 16);
    msg[18] = (uint8_t)(UTS_ROOT_SEED >> 8);
    msg[19] = (uint8_t)UTS_ROOT_SEED;
    wb_sha1_short(msg, sizeof msg, c->root.state);
    c->expect = c->depth == UTS_T1_DEPTH ? UTS_T1_NODES : uts_serial(&c->root, c->depth);
    c->threads = p->threads;
    return c;
}

static void ctx_free(ctx *c)
{
    free(c);
}

#include "forkjoin.h"

#if defined(WB_OMP_BUILD)
static uint64_t uts_omp(const uts_node *n, int depth_limit)
{
    int k = uts_children(n, depth_limit);
    if (k == 0)
        return 1;
    uts_node kids[k];
    uint64_t counts[k];
    for (int i = 0; i < k; i++) {
        uts_child(n, i, &kids[i]);
#pragma omp task shared(kids, counts)
        counts[i] = uts_omp(&kids[i], depth_limit);
    }
#pragma omp taskwait
    uint64_t sum = 1;
    for (int i = 0; i < k; i++)
        sum += counts[i];
    return sum;
}

static uint64_t run_omp(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    uint64_t got = 0;
#pragma omp parallel num_threads(c->threads)
#pragma omp single
    got = uts_omp(&c->root, c->depth);
    return check(c, got, WB_OMP_NAME);
}

#elif defined(WB_LACE_BUILD)
#include <alloca.h>

TASK_2(uint64_t, uts_lace, const uts_node *, n, int, depth_limit)
{
    int k = uts_children(n, depth_limit);
    for (int i = 0; i < k; i++) {
        /* In the frame of this task, which outlives the SYNCs below. */
        uts_node *kid = alloca(sizeof(uts_node));
        uts_child(n, i, kid);
        SPAWN(uts_lace, kid, depth_limit);
    }
    uint64_t sum = 1;
    for (int i = 0; i < k; i++)
        sum += SYNC(uts_lace);
    return sum;
}

static uint64_t run_lace(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    return check(c, RUN(uts_lace, &c->root, c->depth), "lace");
}

#else

typedef struct uts_arg {
    void *runtime; /* the weft pool; unused by TBB */
    int depth_limit;
    uts_node node;
    uint64_t result;
} uts_arg;

/* One node: fork a task per child, join them all; on weft_group (frames =
 * false) or weft_spawn / weft_sync. */
WB_FJ_DECLARE(uts);
WB_FJ_INLINE void uts_body(void *p, bool frames)
{
    uts_arg *a = p;
    int k = uts_children(&a->node, a->depth_limit);
    a->result = 1;
    if (k == 0)
        return;
    uts_arg kids[k];
    weft_group g;
    wb_fj_init(&g, a->runtime, frames);
    for (int i = 0; i < k; i++) {
        kids[i].runtime = a->runtime;
        kids[i].depth_limit = a->depth_limit;
        uts_child(&a->node, i, &kids[i].node);
        wb_fj_spawn(&g, frames, WB_FJ_FN(uts, frames), &kids[i]);
    }
    wb_fj_join(&g, frames, k);
    for (int i = 0; i < k; i++)
        a->result += kids[i].result;
}
WB_FJ_DEFINE(uts, uts_body)

static uint64_t run_weft_path(ctx *c, bool frames, const char *who)
{
    uts_arg root = {c->runtime, c->depth, c->root, 0};
    wb_weft_run(c->runtime, WB_FJ_FN(uts, frames), &root);
    return check(c, root.result, who);
}
WB_FJ_WEFT_ROUNDS(run_weft_path)

#ifdef WB_HAVE_TBB
static void uts_tbb(void *p)
{
    uts_arg *a = p;
    int k = uts_children(&a->node, a->depth_limit);
    a->result = 1;
    if (k == 0)
        return;
    uts_arg kids[k];
    wb_tbb_group g;
    wb_tbb_group_init(&g);
    for (int i = 0; i < k; i++) {
        kids[i].runtime = NULL;
        kids[i].depth_limit = a->depth_limit;
        uts_child(&a->node, i, &kids[i].node);
        wb_tbb_group_run(&g, uts_tbb, &kids[i]);
    }
    wb_tbb_group_wait(&g);
    for (int i = 0; i < k; i++)
        a->result += kids[i].result;
}

static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    uts_arg root = {NULL, c->depth, c->root, 0};
    wb_tbb_execute(c->runtime, uts_tbb, &root);
    return check(c, root.result, "tbb");
}
#endif
#endif

static const wb_case uts_case = {
    .name = "uts",
    .what = "Unbalanced Tree Search T1 (geometric, fixed shape, b = 4, depth 10, seed 19: 4130071 nodes; "
            "smoke depth 4), one task per child node.",
    .item = "node",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = UTS_T1_DEPTH,
    .smoke_size = 4,
};

WB_FJ_CASE(uts_case, run_omp, run_lace, run_weft, run_weft_frames, run_tbb)
