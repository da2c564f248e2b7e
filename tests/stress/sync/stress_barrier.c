/* stress_barrier: every thread is a party of one weft_barrier, generation
 * after generation, with an action that counts generations.
 *
 * Invariants checked:
 *  - in a generation that passes, the indices are 0 .. n-1 once each (each
 *    party sets its index's bit in a mask; the next generation's action checks
 *    the previous mask is full and clears it);
 *  - the action ran exactly once per generation and before any party of that
 *    generation was released (each party compares the action count, a plain
 *    variable ThreadSanitizer watches, with its own count of passed waits);
 *  - a generation either passes for every party or breaks for every party:
 *    now and then a party waits with a tiny timeout or aborts the barrier;
 *    then every party must get EPIPE or ETIMEDOUT (ETIMEDOUT only from a finite
 *    timeout) in the same wait. All parties then meet on a second barrier,
 *    compare their counts of waits and passes (they must be equal), and one of
 *    them resets the first barrier, which must have been broken.
 *  - no party stays asleep: a lost wake-up hangs the run and the watchdog
 *    reports it.
 * The decision to stop is taken at a point every party passes together (in
 * the action, or between the two meetings on the second barrier), so all
 * parties leave after the same generation. */
#include "stress_util.h"

typedef struct shared {
    weft_barrier b;
    weft_barrier meet; /* never broken: where parties regroup after a break */
    int n;
    uint64_t full_mask;
    _Atomic uint64_t mask[2]; /* indices seen in passed generations, by parity */
    long actions;             /* written by the action only */
    bool finish;              /* written in the action or between meetings */
    long waits_at[STRESS_MAX_THREADS];
    long passes_at[STRESS_MAX_THREADS];
} shared;

static void action(void *p)
{
    shared *s = p;
    if (s->actions > 0) {
        _Atomic uint64_t *prev = &s->mask[(s->actions) % 2];
        uint64_t m = atomic_load_explicit(prev, memory_order_relaxed);
        if (m != s->full_mask)
            stress_fail("generation %ld: indices seen 0x%llx, expected 0x%llx", s->actions,
                        (unsigned long long)m, (unsigned long long)s->full_mask);
        atomic_store_explicit(prev, 0, memory_order_relaxed);
    }
    s->actions++;
    if (!stress_running())
        s->finish = true;
}

static void meet(shared *s, size_t *index)
{
    int rc = weft_barrier_wait(&s->meet, WEFT_FOREVER, index);
    if (rc != 0) {
        stress_fail("the meeting barrier returned %d", rc);
        abort();
    }
}

/* After a break: regroup, check every party saw the break in the same wait,
 * reset, regroup again so that nobody waits on the barrier during the reset. */
static void regroup(stress_worker *w, shared *s, long waits, long passes)
{
    size_t index;
    s->waits_at[w->id] = waits;
    s->passes_at[w->id] = passes;
    meet(s, &index);
    if (index == 0) {
        for (int i = 1; i < s->n; i++)
            if (s->waits_at[i] != s->waits_at[0] || s->passes_at[i] != s->passes_at[0])
                stress_fail("parties disagree after a break: party %d at wait %ld with %ld passed, party 0 at "
                            "wait %ld with %ld passed",
                            i, s->waits_at[i], s->passes_at[i], s->waits_at[0], s->passes_at[0]);
        if (!weft_barrier_broken(&s->b))
            stress_fail("a barrier that gave EPIPE/ETIMEDOUT is not broken");
        weft_barrier_reset(&s->b);
        if (weft_barrier_broken(&s->b) || weft_barrier_n_waiting(&s->b) != 0)
            stress_fail("reset left the barrier broken or with waiters");
        if (!stress_running())
            s->finish = true;
    }
    meet(s, NULL);
}

static void *worker(void *p)
{
    stress_worker *w = p;
    shared *s = w->ctx;
    long waits = 0, passes = 0;
    while (!s->finish) {
        stress_maybe_yield(&w->rng);
        waits++;
        if (stress_one_in(&w->rng, 500)) {
            weft_barrier_abort(&s->b);
            regroup(w, s, waits, passes);
            continue;
        }
        double t = stress_one_in(&w->rng, 100) ? stress_timeout(&w->rng) : WEFT_FOREVER;
        size_t index = SIZE_MAX;
        int rc = weft_barrier_wait(&s->b, t, &index);
        if (rc == 0) {
            passes++;
            w->ops++;
            if (index >= (size_t)s->n) {
                stress_fail("index %zu out of 0..%d", index, s->n - 1);
                index = 0;
            }
            uint64_t bit = UINT64_C(1) << index;
            if (atomic_fetch_or_explicit(&s->mask[passes % 2], bit, memory_order_relaxed) & bit)
                stress_fail("index %zu given twice in one generation", index);
            if (s->actions != passes)
                stress_fail("released after %ld passes but the action ran %ld times", passes, s->actions);
            continue;
        }
        if (rc == ETIMEDOUT && isinf(t))
            stress_fail("wait(forever) returned ETIMEDOUT");
        else if (rc != ETIMEDOUT && rc != EPIPE)
            stress_fail("wait(%g) returned %d", t, rc);
        regroup(w, s, waits, passes);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static shared s;
    static stress_worker w[STRESS_MAX_THREADS];
    stress_parse(argc, argv, 2);
    s.n = stress_cfg.threads;
    s.full_mask = s.n == 64 ? UINT64_MAX : (UINT64_C(1) << s.n) - 1;
    if (weft_barrier_init(&s.b, (size_t)s.n, action, &s, WEFT_FOREVER) != 0 ||
        weft_barrier_init(&s.meet, (size_t)s.n, NULL, NULL, WEFT_FOREVER) != 0)
        return 2;
    bool joined = stress_run(w, worker, &s);
    if (joined) {
        for (int i = 0; i < s.n; i++)
            if (w[i].ops != s.actions)
                stress_fail("party %d passed %ld generations, the action ran %ld times", i, w[i].ops, s.actions);
        if (weft_barrier_broken(&s.meet))
            stress_fail("the meeting barrier broke");
    }
    return stress_finish("stress_barrier", joined, w);
}
