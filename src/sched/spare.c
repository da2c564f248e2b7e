/* sched/spare.c: the stealing scheduler's spare thread (spare.h).
 *
 * Design note.
 * The problem. A worker takes outside work (the injector) only at its loop
 * level, never nested inside a task that waits: the waiting task may hold a
 * lock that the outside task needs (the helping rule, rayon#592, oneTBB#324;
 * worker.c's fairness bound). A fork-join whose loop-level tasks are all
 * long therefore delays outside work until one of them ends: during fib(36)
 * on 2 workers both workers sit inside one loop-level task each (the root,
 * and the stolen half the other leapfrogs on), and a task submitted from
 * outside waited through about 90 % of the run. Within the rule, only
 * another thread can run it: a compensating thread, as Java's ForkJoinPool
 * adds for managed blocking and Go's sysmon does by retaking Ps.
 *
 * The rule. Each stealing pool has one spare thread (unless the pool's
 * no_spare option is set). It runs a task from the injector only when
 *   (1) a task has waited there for a whole watch period (SPARE_PERIOD_S)
 *       during which no worker took anything from the injector, and
 *   (2) no worker is idle or searching (such a worker takes it itself), and
 *   (3) every worker is lent to a fork-join: it holds frames it spawned and
 *       has not joined (weft_spawn), tasks on its own deque (group runs,
 *       submits from tasks), or it is inside a join or a helping wait, or it
 *       runs a frame it stole (w->lent counts those, owner-written).
 * It runs injector tasks one at a time, re-checking (2) and (3) before each,
 * and goes back to watching as soon as a worker is free or the injector is
 * empty. So the spare never adds concurrency to plain tasks: while a worker
 * runs an ordinary task (a blocking one included) it is not lent, and a
 * max_workers = 1 pool stays serial for such tasks; it only stands in for
 * workers that a fork-join has taken.
 *
 * The bound. While every worker stays lent, a task pushed from outside
 * starts within two watch periods of its push (plus the wake-up latencies):
 * the push arms the spare if it was parked (below), or the spare is already
 * watching; the first period that ends after the push with no injector pop
 * by a worker makes the spare take the oldest task. SPARE_PERIOD_S is 1 ms:
 * the outside task during fib(36) on 2 workers starts in about 1-2 ms
 * (docs/BENCHMARKS.md, tools/outside_probe.c), and a busy pool whose
 * injector stays non-empty costs one spare wake-up per millisecond.
 *
 * What the spare's tasks may do. The spare is not a worker: it has no deque
 * and no frame stack. weft_spawn on it runs the function at once (as on any
 * thread outside a pool); group runs and loop pieces that its task spawns
 * run at once too, inline (weft__spare_spawn_inline), so a fork-join
 * submitted from outside that lands on the spare runs serially and never
 * waits for the lent workers. Submissions from its task go to the injector
 * like a worker's own submissions (no back-pressure wait, ESHUTDOWN after
 * shutdown, weft__pool_is_own_worker is true on it, so shutdown(wait) from
 * its task is EDEADLK). The spare runs tasks outside every lock of weft's.
 *
 * The arming protocol (no lost arming). word is OFF, IDLE, ARMED or STOP.
 * Submitter:  push; fence(seq_cst) (weft__sched_wake_fenced);
 *             if word == IDLE and nidle == 0: CAS IDLE -> ARMED, futex wake
 * Spare:      ARMED: sleep one period; if the injector looks empty: disarm:
 *             CAS ARMED -> IDLE; fence(seq_cst); if the injector is not
 *             empty: CAS IDLE -> ARMED (stay armed); IDLE: futex wait on IDLE.
 * Store buffering between the push and the IDLE store, each followed by a
 * seq_cst fence and a load of the other's location: by the fence rule (C11
 * 7.17.4) one of the two loads sees the other's store, so either the
 * submitter sees IDLE and arms, or the spare's re-check sees the task and
 * stays armed. A submitter that sees nidle > 0 does not arm: its fenced
 * wake-up notified a parked worker (or a searcher will look, idle.c's
 * argument), and that worker takes the task from the injector before
 * anything else; a parked worker is not lent either, so (3) would not hold.
 * A stale read of word other than IDLE skips arming: ARMED means the spare
 * is watching, STOP/OFF that there is nothing to arm. tests/model/spare.pml
 * checks the protocol with x86-TSO store buffers: 79 states, no error;
 * without the submitter's fence (-DUNFENCED) or the spare's re-check
 * (-DNORECHECK) spin finds the task stranded with the spare parked.
 *
 * Stop. After the workers left (the injector is drained then), the pool's
 * joining shutdown stores STOP (release), wakes the spare and joins it; it
 * finishes a task it is running first, so shutdown(wait) still waits for
 * every task. A forked child has no spare thread: the inherited pool's word
 * is just forgotten (sched/inherited.c never joins).
 */
#include "sched/spare.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "sched/records.h"
#include "sched/steal.h"

_Thread_local struct weft__sched *weft__tls_spare __attribute__((tls_model("initial-exec")));

#define SPARE_PERIOD_S 1e-3
enum { LENT_SAMPLES = 4 /* looks at one worker before calling it not lent */ };

/* Relaxed snapshots: a stale value only moves a decision by one period. */
static bool worker_lent(const weft__worker *w)
{
    return atomic_load_explicit(&w->lent, memory_order_relaxed) != 0 ||
           atomic_load_explicit(&w->fr.top, memory_order_relaxed) != w->fr.slot ||
           weft__deque_size(&w->dq) != 0;
}

/* Conditions (2) and (3) of the design note. */
static bool all_lent(weft__sched *s)
{
    if (atomic_load_explicit(&s->nidle, memory_order_relaxed) != 0 ||
        atomic_load_explicit(&s->nsearching, memory_order_relaxed) != 0)
        return false;
    for (size_t i = 0; i < s->nworkers; i++) {
        bool lent = false;
        for (int k = 0; k < LENT_SAMPLES && !lent; k++) {
            lent = worker_lent(&s->workers[i]);
            if (!lent)
                weft__cpu_relax();
        }
        if (!lent)
            return false;
    }
    return true;
}

static uint64_t worker_injector_pops(const weft__sched *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->nworkers; i++)
        n += atomic_load_explicit(&s->workers[i].stats.injector_pops, memory_order_relaxed);
    return n;
}

/* Runs (or drops, by the pool's flags) one record on the spare thread. */
static void run_here(weft__sched *s, weft__task *t)
{
    int how = weft__sched_task_how(s, t);
    bool ran = t->exec(t, how);
    weft__task_free(s, t);
    weft__stat_inc(ran ? &s->spare_th.runs : &s->spare_th.cancelled);
}

int weft__spare_spawn_inline(weft__sched *s, weft__task *t)
{
    weft__sched_count_outside_spawn(s); /* tasks_submitted, as a queued spawn */
    run_here(s, t);
    return 0;
}

static void disarm(weft__sched *s)
{
    weft__spare *sp = &s->spare_th;
    uint32_t v = WEFT__SPARE_ARMED;
    /* Relaxed: the fence below orders it before the re-check. */
    if (!atomic_compare_exchange_strong_explicit(&sp->word, &v, WEFT__SPARE_IDLE, memory_order_relaxed,
                                                 memory_order_relaxed))
        return; /* STOP */
    /* seq_cst fence: the IDLE store before the injector re-check; pairs
     * with the submitter's fence in weft__sched_wake_fenced (its push before
     * its load of word): the design note's store-buffering argument. */
    weft__fence_seq_cst();
    v = WEFT__SPARE_IDLE;
    if (weft__injector_maybe_nonempty(&s->inj))
        (void)atomic_compare_exchange_strong_explicit(&sp->word, &v, WEFT__SPARE_ARMED, memory_order_relaxed,
                                                      memory_order_relaxed);
}

/* Takes injector tasks while every worker is lent (the rule). */
static void rescue(weft__sched *s)
{
    bool counted = false;
    while (all_lent(s)) {
        weft__task *t = weft__injector_pop(&s->inj);
        if (t == NULL)
            return;
        if (!counted) {
            weft__stat_inc(&s->spare_th.rescues);
            counted = true;
        }
        run_here(s, t);
    }
}

static void *spare_main(void *arg)
{
    weft__sched *s = arg;
    weft__spare *sp = &s->spare_th;
    weft__tls_spare = s;
    for (;;) {
        /* acquire: pairs with the release store of STOP in stop (it ends
         * the thread; nothing to read after it, but keeps the exit after
         * everything the stopper did). */
        uint32_t v = atomic_load_explicit(&sp->word, memory_order_acquire);
        if (v == WEFT__SPARE_STOP)
            break;
        if (v == WEFT__SPARE_IDLE) {
            (void)weft__futex_wait(&sp->word, WEFT__SPARE_IDLE, NULL);
            continue;
        }
        /* ARMED: watch one period (only STOP wakes it early). */
        uint64_t seen = worker_injector_pops(s);
        weft__deadline d;
        (void)weft__deadline_init(&d, SPARE_PERIOD_S);
        while (atomic_load_explicit(&sp->word, memory_order_relaxed) == WEFT__SPARE_ARMED &&
               weft__futex_wait(&sp->word, WEFT__SPARE_ARMED, &d) != ETIMEDOUT)
            ;
        if (atomic_load_explicit(&sp->word, memory_order_relaxed) != WEFT__SPARE_ARMED)
            continue;
        if (!weft__injector_maybe_nonempty(&s->inj))
            disarm(s);
        else if (worker_injector_pops(s) == seen)
            rescue(s);
    }
    weft__tls_spare = NULL;
    return NULL;
}

void weft__spare_poke(weft__sched *s)
{
    weft__spare *sp = &s->spare_th;
    /* Relaxed loads: the caller's seq_cst fence (weft__sched_wake_fenced)
     * orders its push before them; disarm's fence pairs with it. */
    uint32_t v = atomic_load_explicit(&sp->word, memory_order_relaxed);
    if (v != WEFT__SPARE_IDLE || atomic_load_explicit(&s->nidle, memory_order_relaxed) != 0)
        return;
    /* Relaxed: the word carries no data; the injector holds the task. */
    if (atomic_compare_exchange_strong_explicit(&sp->word, &v, WEFT__SPARE_ARMED, memory_order_relaxed,
                                                memory_order_relaxed))
        (void)weft__futex_wake(&sp->word, 1);
}

int weft__spare_start(weft__sched *s, const char *name, size_t stack_size)
{
    weft__spare *sp = &s->spare_th;
    snprintf(sp->name, sizeof sp->name, "%s", name);
    atomic_init(&sp->runs, 0);
    atomic_init(&sp->cancelled, 0);
    atomic_init(&sp->rescues, 0);
    /* Published to the thread by pthread_create. */
    atomic_store_explicit(&sp->word, WEFT__SPARE_IDLE, memory_order_relaxed);
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc == 0 && stack_size != 0)
        rc = pthread_attr_setstacksize(&attr, stack_size);
    if (rc == 0) {
        /* The spare is weft's own thread: it takes no process signal (the
         * mask is inherited from the creator, so block around the create). */
        sigset_t all, old;
        sigfillset(&all);
        (void)pthread_sigmask(SIG_SETMASK, &all, &old);
        rc = pthread_create(&sp->thread, &attr, spare_main, s);
        (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
        atomic_store_explicit(&sp->word, WEFT__SPARE_OFF, memory_order_relaxed);
        return rc == ENOMEM ? ENOMEM : EAGAIN;
    }
    (void)pthread_setname_np(sp->thread, sp->name);
    return 0;
}

void weft__spare_stop(weft__sched *s)
{
    weft__spare *sp = &s->spare_th;
    if (atomic_load_explicit(&sp->word, memory_order_relaxed) == WEFT__SPARE_OFF)
        return;
    /* release: pairs with the spare's acquire load of word. */
    atomic_store_explicit(&sp->word, WEFT__SPARE_STOP, memory_order_release);
    (void)weft__futex_wake(&sp->word, INT32_MAX);
    int rc = pthread_join(sp->thread, NULL);
    if (rc != 0)
        weft__die("pthread_join", rc);
    atomic_store_explicit(&sp->word, WEFT__SPARE_OFF, memory_order_relaxed);
}
