/* sched/search.c: how an idle stealing worker looks for work: the injector,
 * then steal sweeps, then parking (idle.c).
 *
 * Design note (Go's "spinning M" protocol, also rayon's sleep module).
 * A worker whose own deque is empty looks at the injector first, then
 * sweeps every other worker, starting at a random victim (per-worker
 * xorshift64), trying its shared frames (frames.c) and then its Chase-Lev
 * deque (deque.c: a steal takes the oldest, usually biggest, task). A sweep
 * that lost a race to another thief (WEFT__DEQUE_RETRY) is repeated once.
 *
 * Searching. nsearching counts workers sweeping for work; at most half the
 * workers (at least one) search at once, the others sweep once and park. A
 * searcher that finds work and was the last one sweeping wakes a sleeper
 * (end_search), so parallelism ramps up while work is plentiful, one worker
 * per successful search, never all at once; a searcher that finds nothing
 * after SEARCH_ROUNDS sweeps parks. Between sweeps it pauses briefly for the
 * first SEARCH_SPIN_ROUNDS, then calls sched_yield(): with more workers than
 * cores, the worker holding the work may be descheduled, and spinning
 * searchers only keep it off the CPU (fib with 16 workers on 2 cores ran 7x
 * slower than with yields).
 *
 * Oversubscribed CPUs: nap, and let submitters wake a sleeper. A counted
 * searcher tells an outside submitter "somebody will find your task, wake
 * nobody" (idle.c). That holds while the searcher is on a CPU. But a
 * sched_yield hands the CPU to every runnable thread first (EEVDF pushes the
 * yielder's deadline back), so on CPUs shared with threads that run whole
 * slices the searcher stays off the CPU for milliseconds, counted, and the
 * tasks submitted meanwhile wait for it while a parked worker, which a futex
 * wake would have brought up at once, sleeps on. Measured with
 * examples/http_server at the ~2 us handler under six busy loops on the
 * 2-core VM: the loop slept about 7 ms per completion batch (its voluntary
 * context switches) and stealing served 0.45-0.77x the pthread pool's
 * requests/s in five such runs (docs/BENCHMARKS.md, server section). So each yield is timed, and one that came back more than
 * SEARCH_LATE_NS late marks this worker's CPUs oversubscribed
 * (tls_oversubscribed). While they are, a searcher's pauses after the
 * spinning ones are naps of SEARCH_NAP_NS (a timer sleep: it comes back with
 * a waker's priority, not behind every runnable thread), and for each nap
 * it moves from the sweeping count to the napping one (nsearching's two
 * halves, steal.h): an outside submission, whose wake-up reads only the
 * sweeping count, then wakes a parked worker, while a spawn, which reads
 * both, still wakes nobody (a task that spawns is on a CPU, and the fork-join
 * figures rest on spawns not waking: parking instead of yielding made fib
 * with 16 workers on 2 cores 3.9x slower, tiny_tree 12x). A nap that comes
 * back on time clears the mark, and the searcher yields again.
 *
 * How the searcher waits between sweeps does not enter idle.c's wake-up
 * argument, only when it leaves the sweeping count: end_search's decrement
 * and nap_begin's move to the napping count are both seq_cst RMWs, each a D
 * of that argument. After a D the worker takes a task, or parks (its park
 * fence is sequenced after that D), or sweeps again after its nap (and
 * leaves the count again by one of the two): it never sleeps in ec_wait
 * without a park fence after every D it made.
 */
#include <sched.h>
#include <time.h>

#include "sched/steal.h"

enum {
    SEARCH_ROUNDS = 8,      /* steal sweeps before parking */
    SEARCH_SPIN_ROUNDS = 2, /* of those, sweeps followed by a doubling pause; the rest yield */
};

/* A pause that kept us off the CPU this much longer than asked went to a
 * thread that ran a whole time slice or more (EEVDF's base slice is 0.75 ms
 * scaled by 1 + log2(CPUs)): the CPUs are oversubscribed. */
#define SEARCH_LATE_NS 250000
/* A nap between sweeps while they are (plus the timer slack, 50 us). */
#define SEARCH_NAP_NS 50000

/* This worker's last pause between sweeps came back late (above). Only the
 * worker's own thread reads and writes it. */
static _Thread_local bool tls_oversubscribed;

static uint64_t xorshift(weft__worker *w)
{
    uint64_t x = w->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    w->rng = x;
    return x;
}

weft__task *weft__steal_injector_take(weft__worker *w)
{
    weft__task *t = weft__injector_pop(&w->s->inj);
    if (t != NULL)
        weft__stat_inc(&w->stats.injector_pops);
    return t;
}

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

static bool may_search(weft__sched *s)
{
    uint32_t n = atomic_load_explicit(&s->nsearching, memory_order_relaxed) & WEFT__SEARCH_ACTIVE;
    return n == 0 || 2 * (size_t)n < s->nworkers;
}

static bool begin_search(weft__sched *s)
{
    if (!may_search(s))
        return false;
    atomic_fetch_add_explicit(&s->nsearching, 1, memory_order_relaxed);
    return true;
}

static void end_search(weft__sched *s, bool found)
{
    /* seq_cst: the decrement is ordered before our park fence (if we park)
     * in idle.c's argument (its D); no other thread reads through it. */
    uint32_t prev = atomic_fetch_sub_explicit(&s->nsearching, 1, memory_order_seq_cst);
    if (found && (prev & WEFT__SEARCH_ACTIVE) == 1)
        weft__ec_notify(&s->idle, 1);
}

/* From sweeping to napping: one RMW, so a spawn's quick check never sees
 * the word at 0 in between. */
static void nap_begin(weft__sched *s)
{
    /* seq_cst: drops the sweeping count; ordered before our park fence like
     * end_search's decrement (idle.c's D). */
    atomic_fetch_add_explicit(&s->nsearching, WEFT__SEARCH_NAPPER - 1, memory_order_seq_cst);
}

/* From napping back to sweeping if the limit allows (true), else out of the
 * count altogether (false: sweep once more and park). Relaxed: increments
 * order nothing (as in begin_search), and leaving the napping count is
 * read only by spawns' quick check. */
static bool nap_end(weft__sched *s)
{
    if (may_search(s)) {
        atomic_fetch_sub_explicit(&s->nsearching, WEFT__SEARCH_NAPPER - 1, memory_order_relaxed);
        return true;
    }
    atomic_fetch_sub_explicit(&s->nsearching, WEFT__SEARCH_NAPPER, memory_order_relaxed);
    return false;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Between steal sweeps: a short pause first, then the CPU: a yield, or a
 * nap outside the sweeping count while the CPUs are oversubscribed (the
 * design note). Returns whether we still search (false: sweep once more
 * and park). */
static bool search_pause(weft__sched *s, unsigned round)
{
    if (round < SEARCH_SPIN_ROUNDS) {
        for (unsigned k = 0; k < 1u << round; k++)
            weft__cpu_relax();
        return true;
    }
    uint64_t t0 = now_ns();
    if (!tls_oversubscribed) {
        sched_yield();
        tls_oversubscribed = now_ns() - t0 >= SEARCH_LATE_NS;
        return true;
    }
    nap_begin(s);
    struct timespec nap = {.tv_sec = 0, .tv_nsec = SEARCH_NAP_NS};
    nanosleep(&nap, NULL);
    tls_oversubscribed = now_ns() - t0 >= SEARCH_NAP_NS + SEARCH_LATE_NS;
    return nap_end(s);
}

weft__task *weft__steal_find_work(weft__worker *w)
{
    weft__sched *s = w->s;
    for (;;) {
        weft__task *t = weft__steal_injector_take(w);
        if (t != NULL)
            return t;
        bool searching = begin_search(s);
        for (unsigned round = 0; searching && round < SEARCH_ROUNDS; round++) {
            if ((t = steal_sweep(w)) != NULL || (t = weft__steal_injector_take(w)) != NULL) {
                end_search(s, true);
                return t;
            }
            searching = search_pause(s, round);
        }
        if (searching)
            end_search(s, false);
        else if (s->nworkers > 1 && (t = steal_sweep(w)) != NULL)
            return t;
        if (weft__steal_park(w) == WEFT__PARK_EXIT)
            return NULL;
    }
}
