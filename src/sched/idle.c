/* sched/idle.c: parking and waking the stealing scheduler's workers, the
 * before-block hook, and finishing.
 *
 * Design note.
 * Parking (search.c ends in it when a search found nothing):
 *     nidle++; key = ec_prepare(idle); fence(seq_cst);
 *     re-check: finished? any deque, frame stack or the injector non-empty? -> retry
 *     else ec_wait(idle, key)
 * An outside spawn does
 *     injector push; fence(seq_cst); if sweeping == 0: ec_notify(idle, 1)
 * where sweeping is nsearching's low half (steal.h: searchers sweeping now;
 * searchers napping between sweeps on oversubscribed CPUs are counted in the
 * upper half, which this load masks off: search.c's design note).
 * No lost wake-up for outside spawns (the claim: whenever every worker sleeps
 * in ec_wait, no pushed task is left in the injector). Take a push P followed
 * by fence X and the load L of nsearching.
 *   (a) L's sweeping count is 0: ec_notify's own fence and waiter check come
 *       after X; the eventcount guarantees that a worker W whose prepare is
 *       not seen by that check has its re-check fence ordered after X, so
 *       its re-check sees P; every worker whose prepare is seen gets a new
 *       epoch and does not sleep through it (eventcount.c).
 *   (b) L's sweeping count is k > 0: some searcher S was counted sweeping,
 *       and the RMW D that drops it from the sweeping count (search.c's
 *       end_search, or nap_begin's move to the napping count; both seq_cst)
 *       comes later in nsearching's modification order. After D, S finds
 *       work (and returns to the queues after running it, so it is not
 *       asleep), or parks, or naps and sweeps again (and the same holds of
 *       what it does next); whenever it parks, its park fence Y is sequenced
 *       after D. If Y preceded X in the single total order S of seq_cst
 *       fences, D would be visible to L (fence-fence rule, C11 7.17.4p4):
 *       contradiction. So X precedes Y and S's re-check, after Y, sees P
 *       (same rule). A napping searcher is not asleep in ec_wait: it sweeps
 *       again or parks (with a re-check) after its nap.
 *   A parked worker therefore always has a re-check that saw P or a wake-up
 *   to come, and the last one to park keeps P from being stranded.
 *
 * Spawns from a task onto its own deque check nsearching (both halves: no
 * wake-up while anyone searches or naps) and the eventcount's
 * waiter count with plain relaxed loads, without the fence (steal.h's
 * weft__worker_spawn): the fork-join fast path pays no fence. A wake-up can
 * be lost there (the push may still sit in the store buffer when those loads
 * run, and a worker parking at that instant misses it;
 * tests/model/spawn_block.pml finds the interleaving). That costs
 * parallelism but never progress, by the before-block rule: a worker that is
 * about to sleep in the kernel for any reason (a weft primitive in a task, a
 * helping wait, its own parking) passes through the before-block hook in
 * weft__futex_wait (below), which issues the fenced wake-up above whenever
 * its own deque or frame stack holds work. From that fence on the argument
 * for outside spawns covers the tasks it left there. While it does not
 * sleep it is awake and runs them itself when its task returns or waits.
 * tests/model/spawn_block.pml checks the rule (431 states without the fault;
 * with -DUNFENCED, the old code, spin reports the hang after 138), and
 * spawn_outside.pml the outside path, naps included (1753 states; without
 * the fence X, the hang). Both model x86-TSO store buffers explicitly.
 *
 * A burst of outside submissions to an idle pool (issue 8 item 6). The rule
 * above wakes one sleeper per submission that sees no searcher, and
 * search.c's end_search one more per search that ends by finding a task as
 * the last searcher; nothing else wakes an idle worker but close and
 * settle. So a burst of k submissions to an idle pool wakes at most 2k
 * workers, never all of them for one task: no thundering herd. And every
 * needed worker comes up: a worker woken this way looks at the injector
 * before it starts searching, so while the burst's tasks keep running, the
 * worker woken by the j-th submission finds at least j pushed tasks, at most
 * j - 1 of them taken (one by each worker woken before it), and takes one;
 * no search starts, nsearching stays 0, and the next submission wakes the
 * next sleeper. k long tasks submitted at once to an idle pool of at least k
 * workers therefore run on k workers, after exactly k wake-ups.
 * tests/pool: burst_to_idle_pool_wakes_every_needed_worker_without_a_herd
 * (N tasks meeting at a barrier of N on N idle workers, N = 4, 8; at most
 * N + 2 wake-ups; one submission wakes at most 2 of N; measured N and 1).
 * Short tasks may end before the burst does; their workers then search, the
 * pushes that see them searching wake nobody, and each search that finds a
 * task as the last searcher wakes one more: the 2k bound.
 *
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
 * The before-block hook (sched/help.h). Every kernel sleep of a weft
 * primitive (event, queue, lock, condition, semaphore, barrier, group,
 * future, the pool's own parking) goes through weft__futex_wait, which
 * brackets it with weft__sched_block_begin/end. On a worker of the stealing
 * scheduler, before it sleeps:
 *  - it shares its private frames and, if its frames or deque hold work,
 *    issues the fenced wake-up (weft__sched_wake_fenced): the argument
 *    above;
 *  - it goes offline in QSBR, so a task blocked for a long time does not
 *    stall the grace periods that free retired deque buffers, and back
 *    online after (tested: pool/blocked_task_does_not_stall_reclamation).
 * On any other thread (the mutex scheduler's workers included: they are not
 * weft__tls_worker) it is a TLS load and a return.
 */
#include <urcu/urcu-qsbr.h>

#include "sched/giveback.h"
#include "sched/help.h"
#include "sched/steal.h"

/* The fenced wake-up (see the design note): call after making work visible. */
void weft__sched_wake_fenced(weft__sched *s)
{
    /* seq_cst fence: the caller's push before the nsearching load below;
     * pairs with the fence in weft__steal_park (after nidle++/ec_prepare,
     * before its re-check). */
    weft__fence_seq_cst();
    if ((atomic_load_explicit(&s->nsearching, memory_order_relaxed) & WEFT__SEARCH_ACTIVE) == 0)
        weft__ec_notify(&s->idle, 1);
}

void weft__sched_wake_after_spawn(weft__sched *s)
{
    if (weft__ec_has_waiters(&s->idle))
        weft__ec_notify(&s->idle, 1);
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
     * pairs with the fence in weft__steal_park between the decider's
     * injector reads and its nidle load. */
    weft__fence_seq_cst();
}

int weft__steal_park(weft__worker *w)
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
     * below; pairs with the fence in weft__sched_wake_fenced (spawner) and
     * in the stealing close (worker.c). */
    weft__fence_seq_cst();
    /* acquire: pairs with the release store of finished by the worker that
     * decided it (nothing to read after it, but keeps the exit ordered). */
    if (atomic_load_explicit(&s->finished, memory_order_acquire)) {
        weft__ec_cancel(&s->idle);
        leave_idle(s);
        return WEFT__PARK_EXIT;
    }
    if (work_visible(s)) {
        weft__ec_cancel(&s->idle);
        leave_idle(s);
        return WEFT__PARK_RETRY;
    }
    /* acquire: pairs with the seq_cst store of closed in the stealing close
     * (worker.c), which follows the injector's closing and the shutdown
     * drain. */
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
            return WEFT__PARK_EXIT;
        }
    }
    if (weft__giveback_claim(atomic_load_explicit(&s->nidle, memory_order_relaxed) == s->nworkers)) {
        /* Nothing to do, and a drain behind us: hand its memory back
         * (sched/giveback.c) as a worker that is not idle, then look again. */
        weft__ec_cancel(&s->idle);
        leave_idle(s);
        weft__giveback_run(s);
        return WEFT__PARK_RETRY;
    }
    weft__stat_inc(&w->stats.parks);
    /* Offline in QSBR while asleep: the before-block hook below, in
     * futex_wait. */
    (void)weft__ec_wait(&s->idle, key, NULL);
    weft__stat_inc(&w->stats.wakeups);
    leave_idle(s);
    return WEFT__PARK_RETRY;
}

bool weft__sched_block_begin(void)
{
    weft__worker *w = weft__tls_worker;
    if (w == NULL)
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
