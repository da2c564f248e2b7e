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
 * searcher that finds work and was the last one searching wakes a sleeper
 * (end_search), so parallelism ramps up while work is plentiful, one worker
 * per successful search, never all at once; a searcher that finds nothing
 * after SEARCH_ROUNDS sweeps parks. Between sweeps it pauses briefly for the
 * first SEARCH_SPIN_ROUNDS, then calls sched_yield(): with more workers than
 * cores, the worker holding the work may be descheduled, and spinning
 * searchers only keep it off the CPU (fib with 16 workers on 2 cores ran 7x
 * slower than with yields). How the searcher waits between sweeps does not
 * enter idle.c's wake-up argument: it stays counted in nsearching throughout
 * and leaves only through end_search, whose decrement is the D of that
 * argument.
 */
#include <sched.h>

#include "sched/steal.h"

enum {
    SEARCH_ROUNDS = 8,      /* steal sweeps before parking */
    SEARCH_SPIN_ROUNDS = 2, /* of those, sweeps followed by a doubling pause; the rest yield */
};

static_assert(SEARCH_SPIN_ROUNDS <= SEARCH_ROUNDS, "spinning sweeps are a prefix of the search");

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
     * in idle.c's argument (its D); no other thread reads through it. */
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

weft__task *weft__steal_find_work(weft__worker *w)
{
    weft__sched *s = w->s;
    for (;;) {
        weft__task *t = weft__steal_injector_take(w);
        if (t != NULL)
            return t;
        if (begin_search(s)) {
            for (unsigned round = 0; round < SEARCH_ROUNDS; round++) {
                if ((t = steal_sweep(w)) != NULL || (t = weft__steal_injector_take(w)) != NULL) {
                    end_search(s, true);
                    return t;
                }
                search_pause(round);
            }
            end_search(s, false);
        } else if (s->nworkers > 1 && (t = steal_sweep(w)) != NULL) {
            return t;
        }
        if (weft__steal_park(w) == WEFT__PARK_EXIT)
            return NULL;
    }
}
