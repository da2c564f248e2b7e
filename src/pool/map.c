/* pool/map.c: weft_pool_map, Python's Executor.map with chunksize and
 * timeout, results in input order.
 *
 * Design note.
 * The items are cut into nchunks chunks of chunksize. A heap job holds the
 * claim counter `next`; runner tasks (one per worker, at most one per chunk)
 * and the caller itself loop: claim the next chunk with fetch_add, run its
 * items in order. Chunks are thus the unit of work, claimed dynamically
 * (self-scheduling), and a runner that starts late finds nothing left and
 * exits at once.
 *
 * Cost per chunk: one relaxed fetch_add on `next` and a load of `abort` on
 * the same line, nothing else shared. A claimer counts its chunks and keeps
 * its first failure in locals and publishes both once, when it leaves the
 * loop: with chunksize 1 a per-chunk counter or flag array made both workers
 * write the same lines for every item, which ran map at half the speed of a
 * single thread. The claim line, the line the waiter polls and the read-only
 * fields are kept on separate cache lines.
 *
 * Failures. A claimer's chunks come in increasing order, so the first item
 * that fails in its loop is its lowest failing item; it merges (index, code)
 * into the job's minimum under `fail_lock` (taken at most once per claimer,
 * only when something failed). The minimum over all claimers is the first
 * failing item in input order among the items that ran.
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
 * Timed maps (a finite timeout) return at the deadline, as Python's map
 * raises TimeoutError then, without waiting for items that are running: a
 * call that runs on past the deadline keeps running in the background and
 * its result is dropped. So in a timed map a claimer is inside `active` only
 * while it touches the caller's memory (reading args[i], writing
 * results[i]): it steps out around each call of fn and steps back in, then
 * re-reads abort, before it stores the result; seeing abort it drops the
 * result and stops. Each claimer keeps, in a slot of its own, the first item
 * it has claimed and not finished (written inside `active`), and records a
 * failure at once (not at the end), so that after the abort handshake the
 * caller knows the first unfinished item (the least slot, or the first
 * unclaimed chunk) and every failure before it. A caller outside the pool
 * runs no item of a timed map itself (it could not stop at the deadline);
 * one inside the pool still does (it could deadlock otherwise) and may
 * return late by the item it is running.
 *
 * Outcome. An untimed claimer never abandons a chunk it claimed, so once the job is
 * settled (every chunk counted in `done`, or abort set and active == 0) the
 * finished chunks are exactly the claimed prefix [0, min(next, nchunks)).
 * Every item that failed lies in that prefix; so the answer is the first
 * failure if there is one, else ETIMEDOUT if the prefix is short, else 0. A
 * claimer's failure and its chunks' results are written before its release
 * add to `done` and its release decrement of `active`; the caller reads
 * them after an acquire load of either counter.
 */
#include "pool/pool_impl.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "weft/sync.h"

struct weft__map_job {
    /* The claim line: written once per chunk by every claimer. */
    WEFT_CACHE_ALIGNED _Atomic size_t next; /* the next chunk to claim */
    _Atomic bool abort;
    /* Written once per claimer; polled by the waiting caller. */
    WEFT_CACHE_ALIGNED _Atomic uint32_t refs;
    _Atomic uint32_t active;
    _Atomic size_t done; /* chunks finished */
    weft__eventcount ec; /* the caller sleeps here */
    weft_lock fail_lock; /* guards fail_item and fail_code */
    size_t fail_item;    /* the lowest failing item seen, SIZE_MAX if none */
    int fail_code;
    /* Timed maps: the claimers' slots (see the design note), SIZE_MAX when
     * a claimer has no unfinished item; nslots hands them out. */
    size_t *slots;
    _Atomic uint32_t nslots;
    /* Read-only after setup. */
    WEFT_CACHE_ALIGNED int (*fn)(void *arg, void **result);
    void *const *args;
    void **results;
    size_t n, chunk, nchunks;
};

static void job_unref(struct weft__map_job *job)
{
    /* acq_rel: release orders our use of the job before the free; acquire
     * (for the last owner) orders every other owner's use before it. */
    if (atomic_fetch_sub_explicit(&job->refs, 1, memory_order_acq_rel) == 1) {
        free(job->slots);
        free(job);
    }
}

/* Runs chunk c; returns the index of its first failing item (setting *code)
 * or SIZE_MAX. */
static size_t run_chunk(const struct weft__map_job *job, size_t c, int *code)
{
    size_t lo = c * job->chunk, hi = lo + job->chunk < job->n ? lo + job->chunk : job->n;
    size_t bad = SIZE_MAX;
    for (size_t i = lo; i < hi; i++) {
        void *res = NULL;
        uint64_t frames = weft__frames_mark();
        int rc = job->fn(job->args[i], &res);
        weft__frames_join_to(frames);
        if (rc == 0) {
            if (job->results != NULL)
                job->results[i] = res;
        } else if (bad == SIZE_MAX) {
            bad = i;
            *code = rc;
        }
    }
    return bad;
}

static void record_failure(struct weft__map_job *job, size_t item, int code)
{
    (void)weft_lock_acquire(&job->fail_lock, WEFT_FOREVER);
    if (item < job->fail_item) {
        job->fail_item = item;
        job->fail_code = code;
    }
    (void)weft_lock_release(&job->fail_lock);
}

/* The claim loop, run by runner tasks and the caller. until: the caller's
 * deadline (runners pass NULL). */
static void claim_loop(struct weft__map_job *job, const weft__deadline *until)
{
    bool timed = until != NULL && !until->forever;
    size_t ran = 0, bad = SIZE_MAX;
    int code = 0;
    /* seq_cst: announces us before the abort load below; pairs with the
     * caller's seq_cst abort store and active load (design note). */
    atomic_fetch_add_explicit(&job->active, 1, memory_order_seq_cst);
    /* seq_cst: see the line above. */
    while (!atomic_load_explicit(&job->abort, memory_order_seq_cst)) {
        if (timed && weft__deadline_passed(until))
            break;
        size_t c = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (c >= job->nchunks)
            break;
        int chunk_code = 0;
        size_t b = run_chunk(job, c, &chunk_code);
        if (bad == SIZE_MAX && b != SIZE_MAX) {
            bad = b;
            code = chunk_code;
        }
        ran++;
    }
    if (bad != SIZE_MAX)
        record_failure(job, bad, code);
    /* acq_rel: release publishes our chunks' results (and, through the lock,
     * our failure) to the caller's acquire load of done; acquire chains the
     * other claimers' additions. */
    if (ran != 0 && atomic_fetch_add_explicit(&job->done, ran, memory_order_acq_rel) + ran == job->nchunks)
        weft__ec_notify(&job->ec, INT32_MAX);
    /* acq_rel: release publishes our chunks to the caller's acquire load of
     * active; acquire is not needed but harmless. */
    if (atomic_fetch_sub_explicit(&job->active, 1, memory_order_acq_rel) == 1)
        weft__ec_notify(&job->ec, INT32_MAX);
}

static void enter_active(struct weft__map_job *job)
{
    /* seq_cst: announces us before the abort load that follows; pairs with
     * the caller's seq_cst abort store and active load (design note). */
    atomic_fetch_add_explicit(&job->active, 1, memory_order_seq_cst);
}

static void leave_active(struct weft__map_job *job)
{
    /* acq_rel: release publishes what we wrote inside (results, our slot,
     * failures) to the caller's acquire load of active. */
    if (atomic_fetch_sub_explicit(&job->active, 1, memory_order_acq_rel) == 1)
        weft__ec_notify(&job->ec, INT32_MAX);
}

/* The claim loop of a timed map (design note, "Timed maps"). */
static void timed_claim_loop(struct weft__map_job *job, const weft__deadline *until)
{
    size_t ran = 0, *slot = NULL;
    enter_active(job);
    /* seq_cst: the abort/active pairing. */
    while (!atomic_load_explicit(&job->abort, memory_order_seq_cst)) {
        if (until != NULL && weft__deadline_passed(until))
            break;
        size_t c = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (c >= job->nchunks)
            break;
        if (slot == NULL)
            slot = &job->slots[atomic_fetch_add_explicit(&job->nslots, 1, memory_order_relaxed)];
        size_t lo = c * job->chunk, hi = lo + job->chunk < job->n ? lo + job->chunk : job->n;
        size_t i = lo;
        for (; i < hi; i++) {
            *slot = i;
            /* seq_cst: the abort/active pairing; no item starts after it. */
            if (atomic_load_explicit(&job->abort, memory_order_seq_cst))
                break;
            void *arg = job->args[i], *res = NULL;
            leave_active(job);
            uint64_t frames = weft__frames_mark();
            int rc = job->fn(arg, &res);
            weft__frames_join_to(frames);
            enter_active(job);
            /* seq_cst: the abort/active pairing; the caller may be gone. */
            if (atomic_load_explicit(&job->abort, memory_order_seq_cst))
                break;
            if (rc == 0) {
                if (job->results != NULL)
                    job->results[i] = res;
            } else {
                record_failure(job, i, rc);
            }
        }
        if (i < hi)
            break;
        *slot = SIZE_MAX;
        ran++;
    }
    /* acq_rel: as in claim_loop. */
    if (ran != 0 && atomic_fetch_add_explicit(&job->done, ran, memory_order_acq_rel) + ran == job->nchunks)
        weft__ec_notify(&job->ec, INT32_MAX);
    leave_active(job);
}

static bool runner_exec(const weft__task *t, int how)
{
    struct weft__map_job *job = t->u.map.job;
    if (how == WEFT__TASK_RUN && job->slots != NULL)
        timed_claim_loop(job, NULL);
    else if (how == WEFT__TASK_RUN)
        claim_loop(job, NULL);
    job_unref(job);
    return how == WEFT__TASK_RUN;
}

static bool map_settled(void *ctx)
{
    struct weft__map_job *job = ctx;
    /* acquire: pairs with the release additions in claim_loop. */
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

/* The job is settled: see "Outcome" in the design note. */
static int outcome(struct weft__map_job *job)
{
    (void)weft_lock_acquire(&job->fail_lock, WEFT_FOREVER);
    size_t item = job->fail_item;
    int code = job->fail_code;
    (void)weft_lock_release(&job->fail_lock);
    size_t claimed = atomic_load_explicit(&job->next, memory_order_relaxed);
    size_t unfinished = claimed < job->nchunks ? claimed * job->chunk : job->n;
    uint32_t nslots = atomic_load_explicit(&job->nslots, memory_order_relaxed);
    for (uint32_t k = 0; job->slots != NULL && k < nslots; k++)
        if (job->slots[k] < unfinished)
            unfinished = job->slots[k];
    if (item < unfinished)
        return code;
    return unfinished < job->n ? ETIMEDOUT : 0;
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
    struct weft__map_job *job = aligned_alloc(WEFT_CACHELINE, sizeof *job);
    if (job == NULL)
        return ENOMEM;
    job->fn = fn;
    job->args = args;
    job->results = results;
    job->n = n;
    job->chunk = chunk;
    job->nchunks = nchunks;
    job->fail_item = SIZE_MAX;
    job->fail_code = 0;
    weft_lock_init(&job->fail_lock);
    atomic_init(&job->active, 0);
    atomic_init(&job->abort, false);
    atomic_init(&job->next, 0);
    atomic_init(&job->done, 0);
    weft__ec_init(&job->ec);

    bool own = weft__pool_is_own_worker(p);
    bool timed = !d.forever;
    bool caller_claims = !timed || own;
    size_t runners = p->sched.nworkers;
    if (own)
        runners--;
    if (runners > nchunks - caller_claims)
        runners = nchunks - caller_claims;
    job->slots = NULL;
    atomic_init(&job->nslots, 0);
    if (timed && (job->slots = malloc((runners + 1) * sizeof *job->slots)) == NULL) {
        free(job);
        return ENOMEM;
    }
    atomic_init(&job->refs, (uint32_t)runners + 1);
    size_t spawned = 0;
    for (size_t i = 0; i < runners; i++) {
        weft__task *t = weft__task_alloc(&p->sched);
        if (t != NULL) {
            t->exec = runner_exec;
            t->tag = 0;
            t->u.map.job = job;
            if (weft__sched_spawn(&p->sched, t) == 0) {
                spawned++;
                continue;
            }
            weft__task_free(&p->sched, t);
        }
        job_unref(job);
    }
    /* No runner (no memory): the caller is the only one left to claim. */
    caller_claims |= spawned == 0;

    if (caller_claims && timed)
        timed_claim_loop(job, &d);
    else if (caller_claims)
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
