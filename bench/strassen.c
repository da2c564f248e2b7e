/* bench/strassen.c: Strassen's matrix multiplication (Strassen 1969), the
 * coarse case of Lace's suite (there Cilk-5's Winograd variant; this is the
 * textbook one, written here): C = A B for n x n floats (n = 512, smoke
 * 128, a power of two). A task forms its operands (a sum or difference of
 * two quadrants of its parent's A, and of B), then, above 64 x 64, splits
 * them into quadrants and forks six of the seven products M1..M7 into
 * temporaries (running the seventh inline), joins, and combines them into
 * its C; at 64 x 64 it multiplies with the triple loop. Temporaries come
 * from malloc, in every contender. Entries of A and B are small integers,
 * so every sum is exact in float and 64 sampled entries of C are checked
 * exactly after each round. An item is one multiply-add of the classic
 * algorithm (n^3 per round).
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "reference.h"

#define ST_CUTOFF 64

typedef float real;

typedef struct ctx {
    int n;
    real *a, *b, *c;
    void *runtime; /* weft_pool or the TBB arena; unused by OpenMP and Lace */
    int threads;
} ctx;

/* One product: C (n x n, leading dimension ldc) = (a1 + sa a2) (b1 + sb b2),
 * where a2 or b2 may be NULL (then the operand is a1 or b1 alone). */
typedef struct st_job {
    const real *a1, *a2, *b1, *b2;
    int sa, sb, lda, ldb;
    real *c;
    int ldc, n;
    void *runtime; /* the weft pool; unused by the others */
} st_job;

/* An operand in its own n x n buffer, or NULL when x1 can be used as it is. */
static real *st_operand(const real *x1, const real *x2, int s, int ld, int n)
{
    if (x2 == NULL)
        return NULL;
    real *t = malloc((size_t)n * (size_t)n * sizeof(real));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            t[i * n + j] = x1[i * ld + j] + (real)s * x2[i * ld + j];
    return t;
}

static void st_base(const real *a, int lda, const real *b, int ldb, real *c, int ldc, int n)
{
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < n; k++)
            c[i * ldc + k] = 0;
        for (int l = 0; l < n; l++) {
            real x = a[i * lda + l];
            for (int k = 0; k < n; k++)
                c[i * ldc + k] += x * b[l * ldb + k];
        }
    }
}

/* A task in progress: its operands and the seven products' jobs. */
typedef struct st_frame {
    real *ta, *tb, *m;
    const real *a, *b;
    int lda, ldb, h;
    st_job kid[7];
} st_frame;

/* Forms the operands; true when the job was small and is done, false when
 * the caller must run f->kid[0..7) (independent) then st_combine. */
static bool st_begin(const st_job *j, st_frame *f)
{
    int n = j->n;
    f->ta = st_operand(j->a1, j->a2, j->sa, j->lda, n);
    f->tb = st_operand(j->b1, j->b2, j->sb, j->ldb, n);
    f->a = f->ta ? f->ta : j->a1;
    f->lda = f->ta ? n : j->lda;
    f->b = f->tb ? f->tb : j->b1;
    f->ldb = f->tb ? n : j->ldb;
    if (n <= ST_CUTOFF) {
        st_base(f->a, f->lda, f->b, f->ldb, j->c, j->ldc, n);
        free(f->ta);
        free(f->tb);
        return true;
    }
    int h = f->h = n / 2;
    const real *a11 = f->a, *a12 = f->a + h, *a21 = f->a + h * f->lda, *a22 = a21 + h;
    const real *b11 = f->b, *b12 = f->b + h, *b21 = f->b + h * f->ldb, *b22 = b21 + h;
    f->m = malloc(7 * (size_t)h * (size_t)h * sizeof(real));
    const real *ops[7][4] = {
        {a11, a22, b11, b22}, /* M1 = (A11 + A22)(B11 + B22) */
        {a21, a22, b11, NULL}, /* M2 = (A21 + A22) B11 */
        {a11, NULL, b12, b22}, /* M3 = A11 (B12 - B22) */
        {a22, NULL, b21, b11}, /* M4 = A22 (B21 - B11) */
        {a11, a12, b22, NULL}, /* M5 = (A11 + A12) B22 */
        {a21, a11, b11, b12}, /* M6 = (A21 - A11)(B11 + B12) */
        {a12, a22, b21, b22}, /* M7 = (A12 - A22)(B21 + B22) */
    };
    static const int sa[7] = {1, 1, 1, 1, 1, -1, -1}, sb[7] = {1, 1, -1, -1, 1, 1, 1};
    for (int i = 0; i < 7; i++)
        f->kid[i] = (st_job){ops[i][0], ops[i][1], ops[i][2], ops[i][3], sa[i], sb[i], f->lda, f->ldb,
                             f->m + (size_t)i * (size_t)h * (size_t)h, h, h, j->runtime};
    return false;
}

static void st_combine(const st_job *j, st_frame *f)
{
    int h = f->h;
    size_t hh = (size_t)h * (size_t)h;
    const real *m1 = f->m, *m2 = m1 + hh, *m3 = m2 + hh, *m4 = m3 + hh, *m5 = m4 + hh, *m6 = m5 + hh,
               *m7 = m6 + hh;
    real *c11 = j->c, *c12 = j->c + h, *c21 = j->c + h * j->ldc, *c22 = c21 + h;
    for (int i = 0; i < h; i++)
        for (int k = 0; k < h; k++) {
            int x = i * h + k, y = i * j->ldc + k;
            c11[y] = m1[x] + m4[x] - m5[x] + m7[x];
            c12[y] = m3[x] + m5[x];
            c21[y] = m2[x] + m4[x];
            c22[y] = m1[x] - m2[x] + m3[x] + m6[x];
        }
    free(f->m);
    free(f->ta);
    free(f->tb);
}

static uint64_t check(const ctx *c, const char *who)
{
    return wb_matmul_check("strassen", who, c->n, c->a, c->b, c->c);
}

static ctx *ctx_new(const wb_params *p)
{
    ctx *c = calloc(1, sizeof(*c));
    int n = 1;
    while (n < p->size)
        n *= 2;
    c->n = n;
    c->a = malloc((size_t)n * (size_t)n * sizeof(real));
    c->b = malloc((size_t)n * (size_t)n * sizeof(real));
    c->c = malloc((size_t)n * (size_t)n * sizeof(real));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            c->a[i * n + j] = (real)((i * 7 + j * 3) % 9 - 4);
            c->b[i * n + j] = (real)((i * 5 + j * 11) % 7 - 3);
            c->c[i * n + j] = -1;
        }
    c->threads = p->threads;
    return c;
}

static void ctx_free(ctx *c)
{
    free(c->a);
    free(c->b);
    free(c->c);
    free(c);
}

static st_job root_job(const ctx *c, void *runtime)
{
    return (st_job){c->a, NULL, c->b, NULL, 1, 1, c->n, c->n, c->c, c->n, c->n, runtime};
}

#include "forkjoin.h"

#if defined(WB_OMP_BUILD)
static void st_omp(const st_job *j)
{
    st_frame f;
    if (st_begin(j, &f))
        return;
    for (int i = 0; i < 6; i++) {
#pragma omp task shared(f)
        st_omp(&f.kid[i]);
    }
    st_omp(&f.kid[6]);
#pragma omp taskwait
    st_combine(j, &f);
}

static uint64_t run_omp(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    st_job root = root_job(c, NULL);
#pragma omp parallel num_threads(c->threads)
#pragma omp single
    st_omp(&root);
    return check(c, WB_OMP_NAME);
}

#elif defined(WB_LACE_BUILD)
VOID_TASK_1(st_lace, const st_job *, j)
{
    st_frame f;
    if (st_begin(j, &f))
        return;
    for (int i = 0; i < 6; i++)
        SPAWN(st_lace, &f.kid[i]);
    CALL(st_lace, &f.kid[6]);
    for (int i = 0; i < 6; i++)
        SYNC(st_lace);
    st_combine(j, &f);
}

static uint64_t run_lace(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    st_job root = root_job(c, NULL);
    RUN(st_lace, &root);
    return check(c, "lace");
}

#else

/* One product: six of its seven sub-products forked, the seventh run here;
 * on weft_group (frames = false) or weft_spawn / weft_sync. */
WB_FJ_DECLARE(st_task);
WB_FJ_INLINE void st_body(void *p, bool frames)
{
    const st_job *j = p;
    st_frame f;
    if (st_begin(j, &f))
        return;
    weft_group g;
    wb_fj_init(&g, j->runtime, frames);
    for (int i = 0; i < 6; i++)
        wb_fj_spawn(&g, frames, WB_FJ_FN(st_task, frames), &f.kid[i]);
    WB_FJ_FN(st_task, frames)(&f.kid[6]);
    wb_fj_join(&g, frames, 6);
    st_combine(j, &f);
}
WB_FJ_DEFINE(st_task, st_body)

static uint64_t run_weft_path(ctx *c, bool frames, const char *who)
{
    st_job root = root_job(c, c->runtime);
    wb_weft_run(c->runtime, WB_FJ_FN(st_task, frames), &root);
    return check(c, who);
}
WB_FJ_WEFT_ROUNDS(run_weft_path)

#ifdef WB_HAVE_TBB
static void st_tbb(void *p)
{
    const st_job *j = p;
    st_frame f;
    if (st_begin(j, &f))
        return;
    wb_tbb_group g;
    wb_tbb_group_init(&g);
    for (int i = 0; i < 6; i++)
        wb_tbb_group_run(&g, st_tbb, &f.kid[i]);
    st_tbb(&f.kid[6]);
    wb_tbb_group_wait(&g);
    st_combine(j, &f);
}

static uint64_t run_tbb(void *arg, wb_round *r)
{
    (void)r;
    ctx *c = arg;
    st_job root = root_job(c, NULL);
    wb_tbb_execute(c->runtime, st_tbb, &root);
    return check(c, "tbb");
}
#endif
#endif

static const wb_case strassen_case = {
    .name = "strassen",
    .what = "Strassen's multiplication, n = 512 floats (smoke 128): seven products per level as tasks "
            "(six forked), triple loop at 64 x 64.",
    .item = "multiply-add",
    .baseline = "weft_mutex",
    .metric = "items_per_second",
    .threads_mode = WB_SWEEP,
    .size = 512,
    .smoke_size = 128,
};

WB_FJ_CASE(strassen_case, run_omp, run_lace, run_weft, run_weft_frames, run_tbb)
