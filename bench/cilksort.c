/* bench/cilksort.c: Cilk-5's cilksort as Lace's suite runs it: a parallel
 * merge sort of n longs (n = 3000000, smoke 20000) that sorts four quarters
 * in parallel, merges them pairwise in parallel, then merges the halves;
 * each merge splits at the median of its longer run and a binary search in
 * the other and forks both halves, down to 2048 elements (then a serial
 * merge); below 2048 elements a quarter is sorted by a serial quicksort
 * (median of three, insertion sort below 20). Each round copies a fixed
 * random input into the array first (a memcpy, in every contender's round)
 * and checks the result is sorted and sums to the input's sum. An item is
 * one element.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define MERGESIZE 2048
#define QUICKSIZE 2048
#define INSERTIONSIZE 20

typedef long elm;

typedef struct ctx {
    long n;
    elm *input, *array, *tmp;
    elm sum;
    void *runtime; /* weft_pool or the TBB arena; unused by OpenMP and Lace */
    int threads;
} ctx;

/* ---- the serial parts, shared by every contender ---- */

static void insertion_sort(elm *low, elm *high)
{
    for (elm *p = low + 1; p <= high; p++) {
        elm v = *p;
        elm *q = p - 1;
        while (q >= low && *q > v) {
            q[1] = *q;
            q--;
        }
        q[1] = v;
    }
}

static elm median3(elm a, elm b, elm c)
{
    if (a < b)
        return b < c ? b : (a < c ? c : a);
    return a < c ? a : (b < c ? c : b);
}

/* Hoare partition of [low, high] around a median-of-three pivot: returns q
 * with every element of [low, q] <= every element of [q + 1, high]. */
static elm *partition(elm *low, elm *high)
{
    elm pivot = median3(*low, low[(high - low) / 2], *high);
    elm *i = low - 1, *j = high + 1;
    for (;;) {
        do
            i++;
        while (*i < pivot);
        do
            j--;
        while (*j > pivot);
        if (i >= j)
            return j;
        elm t = *i;
        *i = *j;
        *j = t;
    }
}

static void serial_quick(elm *low, elm *high)
{
    while (high - low >= INSERTIONSIZE) {
        elm *q = partition(low, high);
        serial_quick(low, q);
        low = q + 1;
    }
    insertion_sort(low, high);
}

/* Merges the sorted runs [low1, high1] and [low2, high2] (inclusive bounds,
 * either may be empty) into dest. */
static void serial_merge(const elm *low1, const elm *high1, const elm *low2, const elm *high2, elm *dest)
{
    while (low1 <= high1 && low2 <= high2)
        *dest++ = *low1 <= *low2 ? *low1++ : *low2++;
    while (low1 <= high1)
        *dest++ = *low1++;
    while (low2 <= high2)
        *dest++ = *low2++;
}

/* The last position in the sorted non-empty [low, high] whose element is
 * < val, or low - 1 if there is none. */
static elm *bin_split(elm val, elm *low, elm *high)
{
    while (low <= high) {
        elm *mid = low + (high - low) / 2;
        if (*mid < val)
            low = mid + 1;
        else
            high = mid - 1;
    }
    return low - 1;
}

/* The split of a parallel merge: returns false (and merged serially) when
 * the runs are short; otherwise the two halves to merge in parallel. */
typedef struct merge_job {
    elm *low1, *high1, *low2, *high2, *dest;
} merge_job;

static bool merge_split(merge_job j, merge_job *left, merge_job *right)
{
    if (j.high2 - j.low2 > j.high1 - j.low1) {
        elm *t = j.low1;
        j.low1 = j.low2;
        j.low2 = t;
        t = j.high1;
        j.high1 = j.high2;
        j.high2 = t;
    }
    /* Now run 1 is the longer one. */
    if (j.high1 < j.low1)
        return false; /* both empty */
    if (j.high2 - j.low2 < MERGESIZE) {
        serial_merge(j.low1, j.high1, j.low2, j.high2, j.dest);
        return false;
    }
    elm *split1 = j.low1 + (j.high1 - j.low1 + 1) / 2;
    elm *split2 = bin_split(*split1, j.low2, j.high2);
    long lowsize = (split1 - j.low1) + (split2 - j.low2 + 1);
    j.dest[lowsize] = *split1;
    *left = (merge_job){j.low1, split1 - 1, j.low2, split2, j.dest};
    *right = (merge_job){split1 + 1, j.high1, split2 + 1, j.high2, j.dest + lowsize + 1};
    return true;
}

static uint64_t check(const ctx *c, const char *who)
{
    elm sum = c->array[0];
    for (long i = 1; i < c->n; i++) {
        if (c->array[i - 1] > c->array[i]) {
            fprintf(stderr, "cilksort/%s: not sorted at %ld\n", who, i);
            abort();
        }
        sum += c->array[i];
    }
    if (sum != c->sum) {
        fprintf(stderr, "cilksort/%s: elements lost\n", who);
        abort();
    }
    return (uint64_t)c->n;
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    c->n = p->size;
    c->input = malloc((size_t)c->n * sizeof(elm));
    c->array = malloc((size_t)c->n * sizeof(elm));
    c->tmp = malloc((size_t)c->n * sizeof(elm));
    uint64_t s = 42;
    for (long i = 0; i < c->n; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        c->input[i] = (elm)(s >> 33);
        c->sum += c->input[i];
    }
    c->threads = p->threads;
    return c;
}

static void ctx_free(ctx *c)
{
    free(c->input);
    free(c->array);
    free(c->tmp);
    free(c);
}

static void round_start(ctx *c)
{
    memcpy(c->array, c->input, (size_t)c->n * sizeof(elm));
}

#include "forkjoin.h"

#if defined(WB_OMP_BUILD)
static void merge_omp(merge_job j)
{
    merge_job l, r;
    if (!merge_split(j, &l, &r))
        return;
#pragma omp task
    merge_omp(l);
    merge_omp(r);
#pragma omp taskwait
}

static void sort_omp(elm *low, elm *tmp, long size)
{
    if (size < QUICKSIZE) {
        serial_quick(low, low + size - 1);
        return;
    }
    long q = size / 4;
    elm *a = low, *b = a + q, *cc = b + q, *d = cc + q;
    elm *ta = tmp, *tb = ta + q, *tc = tb + q, *td = tc + q;
#pragma omp task
    sort_omp(a, ta, q);
#pragma omp task
    sort_omp(b, tb, q);
#pragma omp task
    sort_omp(cc, tc, q);
    sort_omp(d, td, size - 3 * q);
#pragma omp taskwait
#pragma omp task
    merge_omp((merge_job){a, a + q - 1, b, b + q - 1, ta});
    merge_omp((merge_job){cc, cc + q - 1, d, low + size - 1, tc});
#pragma omp taskwait
    merge_omp((merge_job){ta, tc - 1, tc, ta + size - 1, a});
}

static uint64_t run_omp(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    round_start(c);
#pragma omp parallel num_threads(c->threads)
#pragma omp single
    sort_omp(c->array, c->tmp, c->n);
    return check(c, WB_OMP_NAME);
}

#elif defined(WB_LACE_BUILD)
VOID_TASK_5(merge_lace, elm *, low1, elm *, high1, elm *, low2, elm *, high2, elm *, dest)
{
    merge_job l, r;
    if (!merge_split((merge_job){low1, high1, low2, high2, dest}, &l, &r))
        return;
    SPAWN(merge_lace, l.low1, l.high1, l.low2, l.high2, l.dest);
    CALL(merge_lace, r.low1, r.high1, r.low2, r.high2, r.dest);
    SYNC(merge_lace);
}

VOID_TASK_3(sort_lace, elm *, low, elm *, tmp, long, size)
{
    if (size < QUICKSIZE) {
        serial_quick(low, low + size - 1);
        return;
    }
    long q = size / 4;
    elm *a = low, *b = a + q, *cc = b + q, *d = cc + q;
    elm *ta = tmp, *tb = ta + q, *tc = tb + q, *td = tc + q;
    SPAWN(sort_lace, a, ta, q);
    SPAWN(sort_lace, b, tb, q);
    SPAWN(sort_lace, cc, tc, q);
    CALL(sort_lace, d, td, size - 3 * q);
    SYNC(sort_lace);
    SYNC(sort_lace);
    SYNC(sort_lace);
    SPAWN(merge_lace, a, a + q - 1, b, b + q - 1, ta);
    CALL(merge_lace, cc, cc + q - 1, d, low + size - 1, tc);
    SYNC(merge_lace);
    CALL(merge_lace, ta, tc - 1, tc, ta + size - 1, a);
}

static uint64_t run_lace(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    round_start(c);
    RUN(sort_lace, c->array, c->tmp, c->n);
    return check(c, "lace");
}

#else

/* One task's arguments: a merge job or a sort of [low, low + size). */
typedef struct cs_arg {
    void *runtime; /* the weft pool; unused by TBB */
    merge_job job;
    elm *low, *tmp;
    long size;
} cs_arg;

/* The parallel merge and sort, on weft_group (frames = false) or
 * weft_spawn / weft_sync. */
WB_FJ_DECLARE(merge);
WB_FJ_DECLARE(sort);
WB_FJ_INLINE void merge_body(void *p, bool frames)
{
    cs_arg *a = p;
    cs_arg l = {.runtime = a->runtime}, r = {.runtime = a->runtime};
    if (!merge_split(a->job, &l.job, &r.job))
        return;
    weft_group g;
    wb_fj_init(&g, a->runtime, frames);
    wb_fj_spawn(&g, frames, WB_FJ_FN(merge, frames), &l);
    WB_FJ_FN(merge, frames)(&r);
    wb_fj_join(&g, frames, 1);
}
WB_FJ_DEFINE(merge, merge_body)

WB_FJ_INLINE void sort_body(void *p, bool frames)
{
    cs_arg *s = p;
    long size = s->size;
    if (size < QUICKSIZE) {
        serial_quick(s->low, s->low + size - 1);
        return;
    }
    long q = size / 4;
    elm *a = s->low, *b = a + q, *cc = b + q, *d = cc + q;
    elm *ta = s->tmp, *tb = ta + q, *tc = tb + q, *td = tc + q;
    void *rt = s->runtime;
    cs_arg k[4] = {{.runtime = rt, .low = a, .tmp = ta, .size = q},
                   {.runtime = rt, .low = b, .tmp = tb, .size = q},
                   {.runtime = rt, .low = cc, .tmp = tc, .size = q},
                   {.runtime = rt, .low = d, .tmp = td, .size = size - 3 * q}};
    weft_group g;
    wb_fj_init(&g, rt, frames);
    for (int i = 0; i < 3; i++)
        wb_fj_spawn(&g, frames, WB_FJ_FN(sort, frames), &k[i]);
    WB_FJ_FN(sort, frames)(&k[3]);
    wb_fj_join(&g, frames, 3);
    cs_arg m1 = {.runtime = rt, .job = {a, a + q - 1, b, b + q - 1, ta}};
    cs_arg m2 = {.runtime = rt, .job = {cc, cc + q - 1, d, s->low + size - 1, tc}};
    wb_fj_init(&g, rt, frames);
    wb_fj_spawn(&g, frames, WB_FJ_FN(merge, frames), &m1);
    WB_FJ_FN(merge, frames)(&m2);
    wb_fj_join(&g, frames, 1);
    cs_arg m = {.runtime = rt, .job = {ta, tc - 1, tc, ta + size - 1, a}};
    WB_FJ_FN(merge, frames)(&m);
}
WB_FJ_DEFINE(sort, sort_body)

static uint64_t run_weft_path(ctx *c, bool frames, const char *who)
{
    round_start(c);
    cs_arg root = {.runtime = c->runtime, .low = c->array, .tmp = c->tmp, .size = c->n};
    wb_weft_run(c->runtime, WB_FJ_FN(sort, frames), &root);
    return check(c, who);
}
WB_FJ_WEFT_ROUNDS(run_weft_path)

#ifdef WB_HAVE_TBB
static void merge_tbb(void *p)
{
    cs_arg *a = p;
    cs_arg l = {.runtime = NULL}, r = {.runtime = NULL};
    if (!merge_split(a->job, &l.job, &r.job))
        return;
    wb_tbb_group g;
    wb_tbb_group_init(&g);
    wb_tbb_group_run(&g, merge_tbb, &l);
    merge_tbb(&r);
    wb_tbb_group_wait(&g);
}

static void sort_tbb(void *p)
{
    cs_arg *s = p;
    long size = s->size;
    if (size < QUICKSIZE) {
        serial_quick(s->low, s->low + size - 1);
        return;
    }
    long q = size / 4;
    elm *a = s->low, *b = a + q, *cc = b + q, *d = cc + q;
    elm *ta = s->tmp, *tb = ta + q, *tc = tb + q, *td = tc + q;
    cs_arg k[4] = {{.low = a, .tmp = ta, .size = q},
                   {.low = b, .tmp = tb, .size = q},
                   {.low = cc, .tmp = tc, .size = q},
                   {.low = d, .tmp = td, .size = size - 3 * q}};
    wb_tbb_group g;
    wb_tbb_group_init(&g);
    for (int i = 0; i < 3; i++)
        wb_tbb_group_run(&g, sort_tbb, &k[i]);
    sort_tbb(&k[3]);
    wb_tbb_group_wait(&g);
    cs_arg m1 = {.job = {a, a + q - 1, b, b + q - 1, ta}};
    cs_arg m2 = {.job = {cc, cc + q - 1, d, s->low + size - 1, tc}};
    wb_tbb_group_init(&g);
    wb_tbb_group_run(&g, merge_tbb, &m1);
    merge_tbb(&m2);
    wb_tbb_group_wait(&g);
    cs_arg m = {.job = {ta, tc - 1, tc, ta + size - 1, a}};
    merge_tbb(&m);
}

static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    round_start(c);
    cs_arg root = {.low = c->array, .tmp = c->tmp, .size = c->n};
    wb_tbb_execute(c->runtime, sort_tbb, &root);
    return check(c, "tbb");
}
#endif
#endif

static const wb_case cilksort_case = {
    .name = "cilksort",
    .what = "Cilk-5's cilksort (Lace's suite) of 3M longs (smoke 20000): parallel quarters, parallel merges "
            "down to 2048 elements.",
    .item = "element",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 3000000,
    .smoke_size = 20000,
};

WB_FJ_CASE(cilksort_case, run_omp, run_lace, run_weft, run_weft_frames, run_tbb)
