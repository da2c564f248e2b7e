/* pool/map.c: weft_pool_map, Python's Executor.map with chunksize and
 * timeout, results in input order.
 *
 * Design note.
 * The items are cut into nchunks chunks of chunksize. A heap job holds the
 * claim counter `next`; runner tasks (one per worker, at most one per chunk)
 * and the caller itself loop: claim the next chunk with fetch_add, run its
 * items in order, record the chunk's first failing code, count it done.
 * Chunks are thus the unit of work, claimed dynamically (self-scheduling), and
 * a runner that starts late finds nothing left and exits at once.
 *
 * Timeout. The caller stops claiming at the deadline, then sets `abort` and
 * waits until no runner is inside the claim loop (`active` == 0). A runner
 * enters by incrementing active (seq_cst) and then reading abort (seq_cst);
 * the caller stores abort (seq_cst) and then reads active (seq_cst): in the
 * single total order one of the two sees the other, so either the runner
 * sees abort and claims nothing, or the caller waits for it. After that no
 * runner touches args/results again, so returning is safe even though
 * runner tasks may still sit in queues: they hold a reference to the job,
 * and the last reference frees it.
 *
 * Outcome: chunk c's `finished` flag and error are written by its claimer
 * before its release increment of `done` (and its release decrement of
 * active); the caller reads them after an acquire load of either counter.
 * Scanning chunks in order gives the first failing item in input order; an
 * unfinished chunk before any failure means ETIMEDOUT.
 */
#include "pool/pool_impl.h"

#include <errno.h>
#include <stdlib.h>

struct weft__map_job {
    _Atomic uint32_t refs;
    _Atomic uint32_t active;
    _Atomic bool abort;
    _Atomic size_t next; /* the next chunk to claim */
    _Atomic size_t done; /* chunks finished */
    weft__eventcount ec; /* the caller sleeps here */
    int (*fn)(void *arg, void **result);
    void *const *args;
    void **results;
    size_t n, chunk, nchunks;
    int *err;        /* per chunk: its first failing code, or 0 */
    bool *finished;  /* per chunk: it ran to its end */
};

static void job_unref(struct weft__map_job *job)
{
    /* acq_rel: release orders our use of the job before the free; acquire
     * (for the last owner) orders every other owner's use before it. */
    if (atomic_fetch_sub_explicit(&job->refs, 1, memory_order_acq_rel) == 1)
        free(job);
}

static void run_chunk(struct weft__map_job *job, size_t c)
{
    size_t lo = c * job->chunk, hi = lo + job->chunk < job->n ? lo + job->chunk : job->n;
    int first = 0;
    for (size_t i = lo; i < hi; i++) {
        void *res = NULL;
        int code = job->fn(job->args != NULL ? job->args[i] : NULL, &res);
        if (code == 0) {
            if (job->results != NULL)
                job->results[i] = res;
        } else if (first == 0) {
            first = code;
        }
    }
    job->err[c] = first;
    job->finished[c] = true;
    /* acq_rel: release publishes this chunk's results, err and finished to
     * the caller's acquire load of done; acquire chains the earlier chunks. */
    if (atomic_fetch_add_explicit(&job->done, 1, memory_order_acq_rel) + 1 == job->nchunks)
        weft__ec_notify(&job->ec, INT32_MAX);
}

/* The claim loop, run by runner tasks and the caller. until: the caller's
 * deadline (runners pass NULL). */
static void claim_loop(struct weft__map_job *job, const weft__deadline *until)
{
    /* seq_cst: announces us before the abort load below; pairs with the
     * caller's seq_cst abort store and active load (design note). */
    atomic_fetch_add_explicit(&job->active, 1, memory_order_seq_cst);
    /* seq_cst: see the line above. */
    while (!atomic_load_explicit(&job->abort, memory_order_seq_cst)) {
        if (until != NULL && weft__deadline_passed(until))
            break;
        size_t c = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (c >= job->nchunks)
            break;
        run_chunk(job, c);
    }
    /* acq_rel: release publishes our chunks to the caller's acquire load of
     * active; acquire is not needed but harmless. */
    if (atomic_fetch_sub_explicit(&job->active, 1, memory_order_acq_rel) == 1)
        weft__ec_notify(&job->ec, INT32_MAX);
}

static bool runner_exec(const weft__task *t, int how)
{
    struct weft__map_job *job = t->u.map.job;
    if (how == WEFT__TASK_RUN)
        claim_loop(job, NULL);
    job_unref(job);
    return how == WEFT__TASK_RUN;
}

static bool map_settled(void *ctx)
{
    struct weft__map_job *job = ctx;
    /* acquire: pairs with the release increment in run_chunk. */
    if (atomic_load_explicit(&job->done, memory_order_acquire) == job->nchunks)
        return true;
    /* seq_cst: the abort/active pairing of the design note; also acquires
     * the runners' chunks through their release decrements. */
    return atomic_load_explicit(&job->abort, memory_order_relaxed) &&
           atomic_load_explicit(&job->active, memory_order_seq_cst) == 0;
}

static int map_block(void *ctx, const weft__deadline *d)
{
    struct weft__map_job *job = ctx;
    uint32_t key = weft__ec_prepare(&job->ec);
    if (map_settled(job)) {
        weft__ec_cancel(&job->ec);
        return 0;
    }
    return weft__ec_wait(&job->ec, key, d);
}

static int outcome(const struct weft__map_job *job)
{
    for (size_t c = 0; c < job->nchunks; c++) {
        if (!job->finished[c])
            return ETIMEDOUT;
        if (job->err[c] != 0)
            return job->err[c];
    }
    return 0;
}

int weft_pool_map(weft_pool *p, int (*fn)(void *arg, void **result), void *const *args, size_t n,
                  void **results, size_t chunksize, double timeout)
{
    weft__deadline d;
    if (p == NULL || fn == NULL || (args == NULL && n > 0) || weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    int rc = weft__pool_admit(p, false);
    if (rc != 0)
        return rc;
    if (n == 0)
        return 0;
    size_t chunk = chunksize != 0 ? chunksize : 1;
    size_t nchunks = n / chunk + (n % chunk != 0);
    struct weft__map_job *job =
        malloc(sizeof *job + nchunks * sizeof(int) + nchunks * sizeof(bool));
    if (job == NULL)
        return ENOMEM;
    job->err = (int *)(job + 1);
    job->finished = (bool *)(job->err + nchunks);
    for (size_t c = 0; c < nchunks; c++) {
        job->err[c] = 0;
        job->finished[c] = false;
    }
    job->fn = fn;
    job->args = args;
    job->results = results;
    job->n = n;
    job->chunk = chunk;
    job->nchunks = nchunks;
    atomic_init(&job->active, 0);
    atomic_init(&job->abort, false);
    atomic_init(&job->next, 0);
    atomic_init(&job->done, 0);
    weft__ec_init(&job->ec);

    size_t runners = p->sched.nworkers;
    if (weft__pool_is_own_worker(p))
        runners--;
    if (runners > nchunks - 1)
        runners = nchunks - 1;
    atomic_init(&job->refs, (uint32_t)runners + 1);
    for (size_t i = 0; i < runners; i++) {
        weft__task *t = weft__task_alloc(&p->sched);
        if (t != NULL) {
            t->exec = runner_exec;
            t->tag = 0;
            t->u.map.job = job;
            if (weft__sched_spawn(&p->sched, t) == 0)
                continue;
            weft__task_free(&p->sched, t);
        }
        job_unref(job);
    }

    claim_loop(job, &d);
    if (weft__sched_wait(map_settled, map_block, job, &d) == ETIMEDOUT) {
        /* seq_cst: the abort/active pairing of the design note. */
        atomic_store_explicit(&job->abort, true, memory_order_seq_cst);
        (void)weft__sched_wait(map_settled, map_block, job, NULL);
    }
    rc = outcome(job);
    job_unref(job);
    return rc;
}
