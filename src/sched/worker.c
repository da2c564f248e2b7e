/* sched/worker.c: the work-stealing scheduler: worker loop, stealing,
 * parking, spawning, helping waits, and the parts both schedulers share.
 *
 * Design note.
 * Queues. Each worker owns a Chase-Lev deque (deque.c; Chase & Lev, SPAA'05;
 * Le et al., PPoPP'13): it pushes and pops at the bottom (LIFO), idle workers
 * steal from the top (FIFO, the oldest and usually biggest work). Work from
 * outside the pool enters through the injector (injector.c). A worker takes,
 * in order: from the injector once INJECTOR_EVERY tasks ran since it last
 * looked (so outside work never starves behind a deque that refills itself,
 * as Go's scheduler checks its global queue every 61 ticks; tasks run by
 * helping inside a loop-level task count too), its own deque, the injector,
 * then a steal sweep over all other workers starting at a random victim
 * (per-worker xorshift64). Task records come from the worker's free list:
 * the spawn/run path makes no allocation and no system call.
 *
 * Fairness to outside work, the bound. A task in the injector is taken
 *  (a) at once by a worker that is idle or searching (the wake-up argument
 *      below: a submit never leaves every worker asleep), and otherwise
 *  (b) by the first worker to return to its loop after INJECTOR_EVERY tasks
 *      of any kind, helped ones included, since its last look: at the end
 *      of the loop-level task during which the 61st task ran, or at once
 *      when it steals (find_work looks at the injector first).
 * So with every worker busy, an outside task waits at most until some
 * worker ends a loop-level task that ran 61 tasks (before the count covered
 * helped tasks, until it had ended 61 loop-level tasks: a whole fork-join
 * per loop-level task, 0.41 s during fib(36) on 2 workers). A worker never
 * takes it earlier, inside a helping wait: the waiting task may hold a lock
 * that the outside task needs (the helping rule, rayon#592). Hence a
 * fork-join whose loop-level tasks are all long (fib: one root and one
 * stolen half per worker) still delays outside work until one of them ends;
 * lifting that within the rule would take a compensating thread (as Java's
 * ForkJoinPool does for managed blocking), which weft does not have.
 *
 * Searching and parking (Go's "spinning M" protocol, also rayon's sleep
 * module). nsearching counts workers sweeping for work; at most half the
 * workers (at least one) search at once. A searcher that finds work and was the last one
 * searching wakes a sleeper, so parallelism ramps up while work is
 * plentiful; a searcher that finds nothing after SEARCH_ROUNDS sweeps parks.
 * Between sweeps it pauses briefly for the first SEARCH_SPIN_ROUNDS, then
 * calls sched_yield(): with more workers than cores, the worker holding the
 * work may be descheduled, and spinning searchers only keep it off the CPU
 * (fib with 16 workers on 2 cores ran 7x slower than with yields). How the
 * searcher waits between sweeps does not enter the argument below: it stays
 * counted in nsearching throughout and leaves only through end_search.
 * Parking:
 *     nidle++; key = ec_prepare(idle); fence(seq_cst);
 *     re-check: finished? any deque or the injector non-empty? -> retry
 *     else ec_wait(idle, key)
 * An outside spawn does
 *     injector push; fence(seq_cst); if nsearching == 0: ec_notify(idle, 1)
 * No lost wake-up for outside spawns (the claim: whenever every worker sleeps
 * in ec_wait, no pushed task is left in the injector). Take a push P followed
 * by fence X and the load L of nsearching.
 *   (a) L reads 0: ec_notify's own fence and waiter check come after X; the
 *       eventcount guarantees that a worker W whose prepare is not seen by
 *       that check has its re-check fence ordered after X, so its re-check
 *       sees P; every worker whose prepare is seen gets a new epoch and does
 *       not sleep through it (eventcount.c).
 *   (b) L reads k > 0: some searcher S was counted and its decrement D comes
 *       later in nsearching's modification order. S either finds work (and
 *       returns to the queues after running it, so it is not asleep) or parks,
 *       and its park fence Y is sequenced after D. If Y preceded X in the
 *       single total order S of seq_cst fences, D would be visible to L
 *       (fence-fence rule, C11 7.17.4p4): contradiction. So X precedes Y and
 *       S's re-check, after Y, sees P (same rule).
 *   A parked worker therefore always has a re-check that saw P or a wake-up
 *   to come, and the last one to park keeps P from being stranded.
 * Spawns from a task onto its own deque check nsearching and the eventcount's
 * waiter count with plain relaxed loads, without the fence: the fork-join
 * fast path pays no fence. A wake-up can be lost there (the push may still
 * sit in the store buffer when those loads run, and a worker parking at that
 * instant misses it; tests/model/spawn_block.pml finds the interleaving).
 * That costs parallelism but never progress, by the before-block rule: a
 * worker that is about to sleep in the kernel for any reason (a weft
 * primitive in a task, a helping wait, its own parking) passes through the
 * before-block hook in weft__futex_wait, which issues the fenced wake-up
 * above whenever its own deque is non-empty. From that fence on the argument
 * for outside spawns covers the tasks it left there. While it does not
 * sleep it is awake and runs them itself when its task returns or waits.
 * tests/model/spawn_block.pml checks the rule (431 states without the fault;
 * with -DUNFENCED, the old code, spin reports the hang after 138), and
 * spawn_outside.pml the outside path (1510 states; without the fence X, the
 * hang). Both model x86-TSO store buffers explicitly.

 * Finishing (shutdown). Once the scheduler is closed a worker leaves only
 * when the pool is finished: closed, injector drained, and every worker in
 * the parking path at once (nidle == nworkers). A worker reaches that path
 * only with an empty deque, and nobody else pushes to it; so with all of
 * them there, no deque holds a task and none can get one, and the closed,
 * drained injector gets nothing but nothing either. The count is exact: a
 * worker leaves the parking path by decrementing nidle and then issuing a
 * seq_cst fence before it takes any task; the decider reads the injector
 * (which such a worker's pop writes), fences, then reads nidle, so if it saw
 * the pop it sees the decrement (fence synchronization, C11 7.17.4p2).
 * Leaving only when everything is idle matters: a task still running may
 * spawn work that it then waits for on a sibling, and that needs thieves.
 *
 * Helping. A waiting task runs only tasks above its mark on its own deque
 * (pool.h explains the rule). depth counts the owner's pushes minus its
 * successful pops, so it is the logical index just above the newest item:
 * thieves only ever remove the oldest items, hence while depth > mark the
 * item a pop returns, if any, was pushed after the mark. Waiting tasks block
 * once nothing is left above the mark: nothing new can appear there, since
 * only the owner pushes, so the only event worth waking for is the awaited
 * thing's completion, which another worker brings about.
 *
 * Blocking waits (a real wake-up, no polling). A waiter with a word of its
 * own sleeps on it through its block callback: a group on its counter (futex,
 * WAITERS bit: group.c), weft_pool_map on its job's eventcount (map.c), a
 * future on its state word (futex, WAITERS bit: future.c). A predicate
 * without one (weft__sched_help_until: an as_completed iterator on a worker)
 * parks on the process-wide eventcount `helpers`:
 *     waiter:    key = ec_prepare(helpers); if done(): ec_cancel; else ec_wait(key)
 *     completer: make done() true; ec_notify(helpers, all)
 * The completer is future.c's completion with a hook linked (the hooks are
 * what make as_completed's predicate true). The eventcount's store-buffering
 * argument (eventcount.c) rules out the lost wake-up: either the re-check
 * sees done() or the notify sees the waiter and bumps the epoch, so ec_wait
 * returns. A notify with nobody parked is a fence and a load: no RMW, no
 * system call. Helpers of every pool share it because the completer cannot
 * tell who waits; a notify wakes them all and each re-checks its own
 * predicate (helpers parked there are rare: only waits on work that other
 * workers run, and only after HELP_SPINS polls).
 *
 * QSBR (liburcu, for the deque's retired buffers): workers register, stay
 * offline except inside worker_run, report a quiescent state after every
 * task the worker loop runs and after every 64th helped task (no buffer
 * pointer survives a deque call, so any point between tasks will do; grace
 * periods only need to end, not to end soon), and go offline whenever they
 * sleep in the kernel: the before-block hook again, so a task blocked in any
 * weft primitive does not stall reclamation (tested:
 * pool/blocked_task_does_not_stall_reclamation).
 */
#include "sched/sched.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>

#include "sched/help.h"
#include "thread/fork.h"

_Thread_local weft__worker *weft__tls_worker __attribute__((tls_model("initial-exec")));

enum {
    INJECTOR_EVERY = 61,    /* Go's schedtick check of the global run queue */
    SEARCH_ROUNDS = 8,      /* steal sweeps before parking */
    SEARCH_SPIN_ROUNDS = 2, /* of those, sweeps followed by a doubling pause; the rest yield */
    HELP_SPINS = 64,        /* polls of a waiter's predicate before it blocks */
    DEQUE_INITIAL = 256,
    SPARE_RING = 1024,
};

static_assert(SEARCH_SPIN_ROUNDS <= SEARCH_ROUNDS, "spinning sweeps are a prefix of the search");
static_assert(INJECTOR_EVERY > 1, "the injector is checked every INJECTOR_EVERY tasks");

/* ---- liburcu-qsbr state ----------------------------------------------------
 * A stealing worker is online only inside worker_run, and not while it sleeps
 * in the kernel (the before-block hook below); the initializer runs offline.
 * Quiescent states are reported only while online (reporting one offline
 * would silently put the thread back online). */

static void qsbr_quiescent(weft__worker *w)
{
    if (w->online)
        urcu_qsbr_quiescent_state();
}

/* ---- task records ---------------------------------------------------------- */

weft__task *weft__task_alloc_shared(weft__sched *s)
{
    void *item;
    if (weft__ring_pop(&s->spare, &item) == 0)
        return item;
    return aligned_alloc(WEFT_CACHELINE, WEFT_CACHELINE);
}

void weft__task_free_shared(weft__sched *s, weft__task *t)
{
    if (weft__ring_push(&s->spare, t) != 0)
        free(t);
}

/* Any worker's free list will do, of this pool or another: records are
 * interchangeable (task.h). */
weft__task *weft__task_alloc(weft__sched *s)
{
    weft__worker *w = weft__tls_worker;
    return w != NULL ? weft__worker_task_alloc(w) : weft__task_alloc_shared(s);
}

void weft__task_free(weft__sched *s, weft__task *t)
{
    weft__worker *w = weft__tls_worker;
    if (w != NULL)
        weft__worker_task_free(w, t);
    else
        weft__task_free_shared(s, t);
}

/* ---- init / deinit ------------------------------------------------------- */

static void free_list_drain(weft__worker *w)
{
    while (w->free_list != NULL) {
        weft__task *t = w->free_list;
        w->free_list = t->next;
        free(t);
    }
    w->nfree = 0;
}

int weft__sched_init(weft__sched *s, size_t nworkers, weft_sched_kind kind)
{
    s->kind = kind;
    s->nworkers = nworkers;
    s->workers = aligned_alloc(WEFT_CACHELINE, nworkers * sizeof(weft__worker));
    if (s->workers == NULL)
        return ENOMEM;
    memset(s->workers, 0, nworkers * sizeof(weft__worker));
    size_t ready = 0;
    int rc = 0;
    for (; ready < nworkers; ready++) {
        weft__worker *w = &s->workers[ready];
        w->s = s;
        w->index = (unsigned)ready;
        w->rng = 0x9e3779b97f4a7c15ull * (ready + 1);
        if (kind == WEFT_SCHED_STEALING && (rc = weft__deque_init(&w->dq, DEQUE_INITIAL)) != 0)
            break;
        if ((rc = weft__frames_init(&w->fr, w)) != 0) {
            if (kind == WEFT_SCHED_STEALING)
                weft__deque_deinit(&w->dq);
            break;
        }
    }
    if (rc == 0)
        rc = weft__ring_init(&s->spare, SPARE_RING);
    if (rc == 0) {
        rc = kind == WEFT_SCHED_STEALING ? weft__injector_init(&s->inj) : weft__fifo_init(&s->fifo);
        if (rc != 0)
            weft__ring_deinit(&s->spare);
    }
    if (rc != 0) {
        for (size_t i = 0; i < ready; i++) {
            if (kind == WEFT_SCHED_STEALING)
                weft__deque_deinit(&s->workers[i].dq);
            weft__frames_deinit(&s->workers[i].fr);
        }
        free(s->workers);
        return rc;
    }
    weft__ec_init(&s->idle);
    atomic_init(&s->nsearching, 0);
    atomic_init(&s->nidle, 0);
    atomic_init(&s->closed, false);
    atomic_init(&s->finished, false);
    atomic_init(&s->cancelling, false);
    atomic_init(&s->broken, false);
    atomic_init(&s->outside_cancelled, 0);
    for (size_t i = 0; i < WEFT__STRIPES; i++)
        atomic_init(&s->outside_spawned[i].n, 0);
    return 0;
}

void weft__sched_deinit(weft__sched *s)
{
    void *item;
    if (s->kind == WEFT_SCHED_STEALING) {
        weft__task *t;
        while ((t = weft__injector_pop(&s->inj)) != NULL)
            free(t);
        weft__injector_deinit(&s->inj);
    } else {
        weft__fifo_deinit(s);
    }
    for (size_t i = 0; i < s->nworkers; i++) {
        weft__worker *w = &s->workers[i];
        if (s->kind == WEFT_SCHED_STEALING) {
            while ((item = weft__deque_pop(&w->dq)) != NULL)
                free(item);
            weft__deque_deinit(&w->dq);
        }
        weft__frames_deinit(&w->fr);
        free_list_drain(w);
    }
    while (weft__ring_pop(&s->spare, &item) == 0)
        free(item);
    weft__ring_deinit(&s->spare);
    free(s->workers);
}

void weft__sched_count_outside_spawn(weft__sched *s)
{
    size_t stripe = (weft__self_token() >> 6) % WEFT__STRIPES;
    atomic_fetch_add_explicit(&s->outside_spawned[stripe].n, 1, memory_order_relaxed);
}

/* ---- spawning ------------------------------------------------------------ */

/* The fenced wake-up (see the design note): call after making work visible. */
void weft__sched_wake_fenced(weft__sched *s)
{
    /* seq_cst fence: the caller's push before the nsearching load below;
     * pairs with the fence in park() (after nidle++/ec_prepare, before its
     * re-check). */
    weft__fence_seq_cst();
    if (atomic_load_explicit(&s->nsearching, memory_order_relaxed) == 0)
        weft__ec_notify(&s->idle, 1);
}

void weft__sched_wake_after_spawn(weft__sched *s)
{
    if (weft__ec_has_waiters(&s->idle))
        weft__ec_notify(&s->idle, 1);
}

int weft__sched_spawn(weft__sched *s, weft__task *t)
{
    weft__worker *w = weft__tls_worker;
    if (WEFT_LIKELY(w != NULL && w->s == s))
        return weft__worker_spawn(w, t);
    if (s->kind == WEFT_SCHED_MUTEX)
        return weft__fifo_spawn(s, t, NULL);
    int rc = weft__injector_push(&s->inj, t);
    if (rc != 0)
        return rc;
    weft__sched_count_outside_spawn(s);
    weft__sched_wake_fenced(s);
    return 0;
}

/* ---- finding work -------------------------------------------------------- */

static uint64_t xorshift(weft__worker *w)
{
    uint64_t x = w->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    w->rng = x;
    return x;
}

static weft__task *injector_take(weft__worker *w)
{
    weft__task *t = weft__injector_pop(&w->s->inj);
    if (t != NULL)
        weft__stat_inc(&w->stats.injector_pops);
    return t;
}

/* What steal_sweep and next_task return when they stole a frame (in
 * w->took) rather than a task record. */
#define WEFT__FRAME_TAKEN ((weft__task *)2)

static weft__task *steal_sweep(weft__worker *w)
{
    weft__sched *s = w->s;
    size_t n = s->nworkers;
    size_t start = (size_t)(xorshift(w) % n);
    for (int attempt = 0; attempt < 2; attempt++) {
        bool lost_race = false;
        for (size_t i = 0; i < n; i++) {
            weft__worker *v = &s->workers[(start + i) % n];
            if (v == w)
                continue;
            if (weft__frames_steal(w, v, 0, NULL, 0, &w->took)) {
                weft__stat_inc(&w->stats.steals);
                return WEFT__FRAME_TAKEN;
            }
            weft__task *t = weft__deque_steal(&v->dq);
            if (t == WEFT__DEQUE_RETRY) {
                lost_race = true;
            } else if (t != NULL) {
                weft__stat_inc(&w->stats.steals);
                return t;
            }
        }
        if (!lost_race)
            break;
    }
    return NULL;
}

static bool work_visible(weft__sched *s)
{
    if (weft__injector_maybe_nonempty(&s->inj))
        return true;
    for (size_t i = 0; i < s->nworkers; i++)
        if (weft__deque_size(&s->workers[i].dq) != 0 || weft__frames_visible(&s->workers[i].fr))
            return true;
    return false;
}

/* Leaving the parking path: the fence orders our nidle decrement before any
 * queue access that follows (the finishing argument in the design note). */
static void leave_idle(weft__sched *s)
{
    atomic_fetch_sub_explicit(&s->nidle, 1, memory_order_relaxed);
    /* seq_cst fence: the nidle decrement above before our next injector pop;
     * pairs with the fence in park() between the decider's injector reads
     * and its nidle load. */
    weft__fence_seq_cst();
}

enum { PARK_RETRY, PARK_EXIT };

static int park(weft__worker *w)
{
    weft__sched *s = w->s;
    /* Ask every worker with private frames to share: its next spawn then
     * shares and issues the fenced wake-up (frames.c, "Asking for work"). */
    for (size_t i = 0; i < s->nworkers; i++)
        if (&s->workers[i] != w)
            weft__frames_request(&s->workers[i].fr);
    atomic_fetch_add_explicit(&s->nidle, 1, memory_order_relaxed);
    uint32_t key = weft__ec_prepare(&s->idle);
    /* seq_cst fence: our nidle increment and ec_prepare before the re-checks
     * below; pairs with the fence in wake_one_if_nobody_searches (spawner)
     * and in weft__sched_close. */
    weft__fence_seq_cst();
    /* acquire: pairs with the release store of finished by the worker that
     * decided it (nothing to read after it, but keeps the exit ordered). */
    if (atomic_load_explicit(&s->finished, memory_order_acquire)) {
        weft__ec_cancel(&s->idle);
        leave_idle(s);
        return PARK_EXIT;
    }
    if (work_visible(s)) {
        weft__ec_cancel(&s->idle);
        leave_idle(s);
        return PARK_RETRY;
    }
    /* acquire: pairs with the seq_cst store of closed in weft__sched_close,
     * which follows the injector's closing and the shutdown drain. */
    if (atomic_load_explicit(&s->closed, memory_order_acquire) && weft__injector_drained(&s->inj)) {
        /* seq_cst fence: our injector reads above before the nidle load
         * below; pairs with the fence in leave_idle (a worker that popped
         * the injector after leaving the idle path). */
        weft__fence_seq_cst();
        if (atomic_load_explicit(&s->nidle, memory_order_relaxed) == s->nworkers) {
            /* release: orders the decision before the wake-up below; pairs
             * with the acquire load above in the woken workers. */
            atomic_store_explicit(&s->finished, true, memory_order_release);
            weft__ec_cancel(&s->idle);
            leave_idle(s);
            weft__ec_notify(&s->idle, INT32_MAX);
            return PARK_EXIT;
        }
    }
    weft__stat_inc(&w->stats.parks);
    /* Offline in QSBR while asleep: the before-block hook in futex_wait. */
    (void)weft__ec_wait(&s->idle, key, NULL);
    weft__stat_inc(&w->stats.wakeups);
    leave_idle(s);
    return PARK_RETRY;
}

static bool begin_search(weft__sched *s)
{
    uint32_t n = atomic_load_explicit(&s->nsearching, memory_order_relaxed);
    if (n > 0 && 2 * (size_t)n >= s->nworkers)
        return false;
    atomic_fetch_add_explicit(&s->nsearching, 1, memory_order_relaxed);
    return true;
}

static void end_search(weft__sched *s, bool found)
{
    /* seq_cst: the decrement is ordered before our park fence (if we park)
     * in the argument of the design note; no other thread reads through it. */
    uint32_t prev = atomic_fetch_sub_explicit(&s->nsearching, 1, memory_order_seq_cst);
    if (found && prev == 1)
        weft__ec_notify(&s->idle, 1);
}

/* Between steal sweeps: a short pause first, then the CPU. When workers
 * outnumber the cores, the worker whose deque holds the work may be
 * descheduled; a searcher that keeps spinning on a core only delays it, so
 * after SEARCH_SPIN_ROUNDS sweeps it yields to let that worker run. */
static void search_pause(unsigned round)
{
    if (round < SEARCH_SPIN_ROUNDS) {
        for (unsigned k = 0; k < 1u << round; k++)
            weft__cpu_relax();
    } else {
        sched_yield();
    }
}

static weft__task *find_work(weft__worker *w)
{
    weft__sched *s = w->s;
    for (;;) {
        weft__task *t = injector_take(w);
        if (t != NULL)
            return t;
        if (begin_search(s)) {
            for (unsigned round = 0; round < SEARCH_ROUNDS; round++) {
                if ((t = steal_sweep(w)) != NULL || (t = injector_take(w)) != NULL) {
                    end_search(s, true);
                    return t;
                }
                search_pause(round);
            }
            end_search(s, false);
        } else if (s->nworkers > 1 && (t = steal_sweep(w)) != NULL) {
            return t;
        }
        if (park(w) == PARK_EXIT)
            return NULL;
    }
}

static weft__task *next_task(weft__worker *w)
{
    /* Every task counts, helped ones too: a loop-level task that ran a whole
     * fork-join by helping is followed by the check at once. */
    if (WEFT_UNLIKELY(++w->tick + (w->helped - w->helped_seen) >= INJECTOR_EVERY)) {
        w->tick = 0;
        w->helped_seen = w->helped;
        weft__task *t = injector_take(w);
        if (t != NULL)
            return t;
    }
    weft__task *t = weft__deque_pop(&w->dq);
    if (t != NULL) {
        w->depth--;
        return t;
    }
    return find_work(w);
}

/* ---- worker threads ------------------------------------------------------ */

void weft__sched_worker_enter(weft__sched *s, size_t index)
{
    weft__tls_worker = &s->workers[index];
    if (s->kind == WEFT_SCHED_STEALING) {
        weft__tls_frames = &s->workers[index].fr;
        weft__rcu_register(&s->workers[index].rcu);
        urcu_qsbr_thread_offline();
    }
}

void weft__sched_worker_run(weft__sched *s)
{
    weft__worker *w = weft__tls_worker;
    if (s->kind == WEFT_SCHED_MUTEX) {
        weft__task *t;
        while ((t = weft__fifo_next(w)) != NULL)
            weft__sched_run_task(w, t, false);
        return;
    }
    urcu_qsbr_thread_online();
    w->online = true;
    weft__task *t;
    while ((t = next_task(w)) != NULL) {
        if (t == WEFT__FRAME_TAKEN)
            weft__frames_run_stolen(w, &w->took);
        else
            weft__sched_run_task(w, t, false);
        urcu_qsbr_quiescent_state();
    }
    urcu_qsbr_thread_offline();
    w->online = false;
}

void weft__sched_worker_leave(weft__sched *s)
{
    if (s->kind == WEFT_SCHED_STEALING)
        weft__rcu_unregister(&weft__tls_worker->rcu);
    weft__tls_worker = NULL;
    weft__tls_frames = NULL;
}

/* ---- close / break --------------------------------------------------------- */

void weft__sched_drop(weft__sched *s, weft__task *list)
{
    while (list != NULL) {
        weft__task *t = list;
        list = t->next;
        weft__task copy = *t;
        weft__task_free(s, t);
        (void)copy.exec(&copy, ECANCELED);
        atomic_fetch_add_explicit(&s->outside_cancelled, 1, memory_order_relaxed);
    }
}

void weft__sched_close(weft__sched *s, bool cancel)
{
    if (cancel)
        atomic_store_explicit(&s->cancelling, true, memory_order_relaxed);
    if (s->kind == WEFT_SCHED_MUTEX) {
        weft__fifo_close(s, cancel);
        return;
    }
    weft__injector_close(&s->inj);
    weft__task *drop = NULL;
    if (cancel) {
        weft__task *keep = NULL, *t;
        while ((t = weft__injector_pop(&s->inj)) != NULL) {
            weft__task **to = (t->tag & WEFT__TASK_CANCELLABLE) ? &drop : &keep;
            t->next = *to;
            *to = t;
        }
        while (keep != NULL) {
            t = keep;
            keep = t->next;
            weft__injector_push_forced(&s->inj, t);
        }
    }
    /* seq_cst: publishes the closing (and the drain's re-queued tasks) to
     * park()'s acquire load; ordered before the fence in ec_notify below. */
    atomic_store_explicit(&s->closed, true, memory_order_seq_cst);
    weft__ec_notify(&s->idle, INT32_MAX);
    /* Last: the dropped futures' callbacks may wait for the workers to
     * finish (shutdown(wait) from a callback), which needs `closed`. */
    weft__sched_drop(s, drop);
}

/* No ordering needed: a stale read only ends the wait a little early or
 * late, and the deadline bounds it; the close that follows is what orders
 * the drop. */
void weft__sched_settle(weft__sched *s, double max_s)
{
    weft__deadline d;
    (void)weft__deadline_init(&d, max_s);
    for (;;) {
        bool settled;
        if (s->kind == WEFT_SCHED_MUTEX) {
            settled = weft__fifo_settled(s);
        } else {
            settled = !weft__injector_maybe_nonempty(&s->inj) ||
                      (atomic_load_explicit(&s->nidle, memory_order_relaxed) == 0 &&
                       atomic_load_explicit(&s->nsearching, memory_order_relaxed) == 0);
            if (!settled)
                weft__ec_notify(&s->idle, INT32_MAX);
        }
        if (settled || weft__deadline_passed(&d))
            return;
        sched_yield();
    }
}

void weft__sched_break(weft__sched *s)
{
    atomic_store_explicit(&s->broken, true, memory_order_relaxed);
}

/* ---- waiting ------------------------------------------------------------- */

/* Where weft__sched_help_until parks (help.h). Its predicates turn true when a
 * future completes, and the completer cannot tell which worker of which pool
 * waits, so every such helper shares this one eventcount. */
static weft__eventcount helpers = WEFT__EC_INIT;

void weft__sched_wake_helpers(void)
{
    weft__ec_notify(&helpers, INT32_MAX);
}

void weft__sched_quiescent(weft__worker *w)
{
    qsbr_quiescent(w);
}

bool weft__sched_help_one(weft__worker *w)
{
    weft__task *t = weft__sched_help_pop(w);
    if (t == NULL)
        return false;
    weft__sched_run_helped(w, t);
    return true;
}

/* Sleeps until done(ctx) may have turned true or d passes: block, or, for a
 * predicate without one, the helpers eventcount (prepare, re-check, wait:
 * the completer's "make it true; notify" cannot slip between, eventcount.c). */
static int block_once(bool (*done)(void *ctx), int (*block)(void *ctx, const weft__deadline *d), void *ctx,
                      const weft__deadline *d)
{
    if (block != NULL)
        return block(ctx, d);
    uint32_t key = weft__ec_prepare(&helpers);
    if (done(ctx)) {
        weft__ec_cancel(&helpers);
        return 0;
    }
    return weft__ec_wait(&helpers, key, d);
}

int weft__sched_wait(bool (*done)(void *ctx), int (*block)(void *ctx, const weft__deadline *d), void *ctx,
                     const weft__deadline *d)
{
    weft__worker *w = weft__tls_worker;
    if (w == NULL) {
        for (;;) {
            if (done(ctx))
                return 0;
            if (block_once(done, block, ctx, d) == ETIMEDOUT)
                return done(ctx) ? 0 : ETIMEDOUT;
        }
    }
    unsigned spins = 0;
    for (;;) {
        if (done(ctx))
            return 0;
        if (weft__sched_help_one(w)) {
            spins = 0;
            continue;
        }
        if (d != NULL && d->expired)
            return ETIMEDOUT;
        if (spins < HELP_SPINS) {
            spins++;
            weft__cpu_relax();
            continue;
        }
        if (d != NULL && weft__deadline_passed(d))
            return done(ctx) ? 0 : ETIMEDOUT;
        /* Every block ends in weft__futex_wait, whose before-block hook
         * makes leftover work on our deque visible and takes us offline. */
        int rc = block_once(done, block, ctx, d);
        if (rc == ETIMEDOUT)
            return done(ctx) ? 0 : ETIMEDOUT;
    }
}

/* ---- the before-block hook (sched/help.h) ------------------------------------
 * Every kernel sleep of a weft primitive (event, queue, lock, condition,
 * semaphore, barrier, group, future, the pool's own parking) goes through
 * weft__futex_wait, which brackets it with these two calls. On a worker of
 * the stealing scheduler, before it sleeps:
 *  - if its deque holds tasks, the fenced wake-up (wake_one_if_nobody_searches):
 *    the spawn fast path checks for sleepers without a fence, so a worker
 *    parking at that instant may have missed the push; the task that spawned
 *    may now block until a child it left there has run (spawn_block.pml);
 *    after this fence the design note's argument for outside spawns applies
 *    to those tasks unchanged: a parking worker sees them or is woken;
 *  - it goes offline in QSBR, so a task blocked for a long time does not
 *    stall the grace periods that free retired deque buffers, and back
 *    online after. */
bool weft__sched_block_begin(void)
{
    weft__worker *w = weft__tls_worker;
    if (w == NULL || w->s->kind != WEFT_SCHED_STEALING)
        return false;
    /* share_all issues the fenced wake-up itself when it shares. */
    if (weft__frames_share_all(w) || weft__deque_size(&w->dq) != 0)
        weft__sched_wake_fenced(w->s);
    if (!w->online)
        return false;
    urcu_qsbr_thread_offline();
    w->online = false;
    return true;
}

void weft__sched_block_end(void)
{
    urcu_qsbr_thread_online();
    weft__tls_worker->online = true;
}

/* ---- the helping hook (sched/help.h) --------------------------------------- */

bool weft__sched_in_worker(void)
{
    return weft__tls_worker != NULL;
}

int weft__sched_help_until(bool (*done)(void *ctx), void *ctx, const weft__deadline *d)
{
    return weft__sched_wait(done, NULL, ctx, d);
}

int weft__sched_help_until_block(bool (*done)(void *ctx), int (*block)(void *ctx, const weft__deadline *d),
                                 void *ctx, const weft__deadline *d)
{
    return weft__sched_wait(done, block, ctx, d);
}

/* ---- statistics ---------------------------------------------------------- */

void weft__sched_stats(const weft__sched *s, weft_pool_counters *out, weft_pool_worker_counters *per,
                       size_t cap)
{
    weft_pool_counters sum = {.workers = s->nworkers};
    for (size_t i = 0; i < s->nworkers; i++) {
        const weft__wstats *c = &s->workers[i].stats;
        weft_pool_worker_counters ws = {
            .tasks_run = atomic_load_explicit(&c->run, memory_order_relaxed),
            .tasks_helped = atomic_load_explicit(&c->helped, memory_order_relaxed),
            .tasks_spawned = atomic_load_explicit(&c->spawned, memory_order_relaxed),
            .steals = atomic_load_explicit(&c->steals, memory_order_relaxed),
            .injector_pops = atomic_load_explicit(&c->injector_pops, memory_order_relaxed),
            .parks = atomic_load_explicit(&c->parks, memory_order_relaxed),
            .wakeups = atomic_load_explicit(&c->wakeups, memory_order_relaxed),
        };
        if (i < cap)
            per[i] = ws;
        sum.tasks_run += ws.tasks_run;
        sum.tasks_submitted += ws.tasks_spawned;
        sum.tasks_cancelled += atomic_load_explicit(&c->cancelled, memory_order_relaxed);
        sum.steals += ws.steals;
        sum.parks += ws.parks;
        sum.wakeups += ws.wakeups;
    }
    for (size_t i = 0; i < WEFT__STRIPES; i++)
        sum.tasks_submitted += atomic_load_explicit(&s->outside_spawned[i].n, memory_order_relaxed);
    sum.tasks_cancelled += atomic_load_explicit(&s->outside_cancelled, memory_order_relaxed);
    if (out != NULL)
        *out = sum;
}
