/* tests/sync/test_barrier.c: weft_barrier against include/weft/sync.h. */
#include "sync_util.h"

TestSuite(barrier, .timeout = 90);

Test(barrier, init_rejects_bad_arguments)
{
    weft_barrier b;
    cr_assert_eq(weft_barrier_init(&b, 0, NULL, NULL, WEFT_FOREVER), EINVAL);
    cr_assert_eq(weft_barrier_init(&b, 2, NULL, NULL, NAN), EINVAL);
}

Test(barrier, init_sets_up_an_unbroken_barrier)
{
    weft_barrier b;
    cr_assert_eq(weft_barrier_init(&b, 5, NULL, NULL, WEFT_FOREVER), 0);
    cr_assert_eq(weft_barrier_parties(&b), 5);
    cr_assert_eq(weft_barrier_n_waiting(&b), 0);
    cr_assert_not(weft_barrier_broken(&b));
}

static _Thread_local int thread_id = -1;

typedef struct party_arg {
    weft_barrier *b;
    int id;
    double timeout;
    int rc;
    size_t index;
} party_arg;

static void *party(void *p)
{
    party_arg *a = p;
    thread_id = a->id;
    a->rc = weft_barrier_wait(a->b, a->timeout, &a->index);
    return NULL;
}

/* Runs one generation of n parties, each in its own thread, and checks that
 * each got 0 and that the indices are 0 .. n-1 once each. */
static void run_generation(weft_barrier *b, size_t n)
{
    party_arg a[16];
    pthread_t t[16];
    cr_assert_leq(n, 16);
    for (size_t i = 0; i < n; i++) {
        a[i] = (party_arg){b, (int)i, WEFT_FOREVER, -1, SIZE_MAX};
        t[i] = spawn(party, &a[i]);
    }
    bool seen[16] = {false};
    for (size_t i = 0; i < n; i++) {
        join(t[i]);
        cr_assert_eq(a[i].rc, 0, "party %zu: %d", i, a[i].rc);
        cr_assert_lt(a[i].index, n, "party %zu got index %zu", i, a[i].index);
        cr_assert_not(seen[a[i].index], "index %zu given twice", a[i].index);
        seen[a[i].index] = true;
    }
}

Test(barrier, static_initialiser_works_without_init)
{
    static weft_barrier b = WEFT_BARRIER_INIT(3);
    cr_assert_eq(weft_barrier_parties(&b), 3);
    cr_assert_not(weft_barrier_broken(&b));
    run_generation(&b, 3);
    run_generation(&b, 3);
    cr_assert_eq(weft_barrier_n_waiting(&b), 0);
    cr_assert_not(weft_barrier_broken(&b));
}

static void count_action(void *ctx)
{
    ++*(int *)ctx;
}

Test(barrier, single_party_never_waits)
{
    weft_barrier b;
    int actions = 0;
    cr_assert_eq(weft_barrier_init(&b, 1, count_action, &actions, WEFT_FOREVER), 0);
    size_t index = SIZE_MAX;
    cr_assert_eq(weft_barrier_wait(&b, 0, &index), 0, "the last party does not wait, even with timeout 0");
    cr_assert_eq(index, 0);
    cr_assert_eq(weft_barrier_wait(&b, WEFT_FOREVER, NULL), 0, "index may be NULL");
    cr_assert_eq(actions, 2);
    cr_assert_not(weft_barrier_broken(&b));
}

/* ---- Python tutorial: action once per generation, indices 0..n-1 ---------- */

enum { GEN_PARTIES = 4, GENERATIONS = 200 };

typedef struct gens {
    weft_barrier b;
    int actions;                            /* written by the action only */
    int action_thread[GENERATIONS];         /* which thread ran each action */
    size_t index[GENERATIONS][GEN_PARTIES]; /* written by each party */
    int actions_seen[GENERATIONS][GEN_PARTIES];
    int rc[GEN_PARTIES];
} gens;

static void gens_action(void *ctx)
{
    gens *g = ctx;
    if (g->actions < GENERATIONS)
        g->action_thread[g->actions] = thread_id;
    g->actions++;
}

typedef struct gens_arg {
    gens *g;
    int id;
} gens_arg;

static void *gens_party(void *p)
{
    gens_arg *a = p;
    gens *g = a->g;
    thread_id = a->id;
    for (int gen = 0; gen < GENERATIONS; gen++) {
        int rc = weft_barrier_wait(&g->b, WEFT_FOREVER, &g->index[gen][a->id]);
        if (rc != 0) {
            g->rc[a->id] = rc;
            return NULL;
        }
        /* The action ran before anyone was released from this generation, and
         * the next one cannot end before this party waits again. */
        g->actions_seen[gen][a->id] = g->actions;
    }
    return NULL;
}

Test(barrier, action_once_per_generation_and_distinct_indices)
{
    static gens g;
    cr_assert_eq(weft_barrier_init(&g.b, GEN_PARTIES, gens_action, &g, WEFT_FOREVER), 0);
    gens_arg a[GEN_PARTIES];
    pthread_t t[GEN_PARTIES];
    for (int i = 0; i < GEN_PARTIES; i++) {
        a[i] = (gens_arg){&g, i};
        t[i] = spawn(gens_party, &a[i]);
    }
    for (int i = 0; i < GEN_PARTIES; i++) {
        join(t[i]);
        cr_assert_eq(g.rc[i], 0, "party %d: %d", i, g.rc[i]);
    }
    cr_assert_eq(g.actions, GENERATIONS);
    for (int gen = 0; gen < GENERATIONS; gen++) {
        bool seen[GEN_PARTIES] = {false};
        int last = -1;
        for (int i = 0; i < GEN_PARTIES; i++) {
            size_t idx = g.index[gen][i];
            cr_assert_lt(idx, GEN_PARTIES, "generation %d: party %d got index %zu", gen, i, idx);
            cr_assert_not(seen[idx], "generation %d: index %zu given twice", gen, idx);
            seen[idx] = true;
            if (idx == GEN_PARTIES - 1)
                last = i;
            cr_assert_eq(g.actions_seen[gen][i], gen + 1,
                         "generation %d: party %d saw %d actions on release", gen, i, g.actions_seen[gen][i]);
        }
        cr_assert_eq(g.action_thread[gen], last, "generation %d: the action ran in party %d, the last arrival is %d",
                     gen, g.action_thread[gen], last);
    }
    cr_assert_not(weft_barrier_broken(&g.b));
    cr_assert_eq(weft_barrier_n_waiting(&g.b), 0);
}

/* ---- timeouts break the barrier ----------------------------------------- */

Test(barrier, lone_wait_times_out_and_breaks)
{
    weft_barrier b;
    cr_assert_eq(weft_barrier_init(&b, 2, NULL, NULL, WEFT_FOREVER), 0);
    double t0 = now_s();
    int rc = weft_barrier_wait(&b, 0.1, NULL);
    double elapsed = now_s() - t0;
    cr_assert_eq(rc, ETIMEDOUT, "got %d", rc);
    cr_assert_timed_out_after(elapsed, 0.1);
    cr_assert(weft_barrier_broken(&b));
    cr_assert_eq(weft_barrier_n_waiting(&b), 0);
    cr_assert_eq(weft_barrier_wait(&b, WEFT_FOREVER, NULL), EPIPE, "a broken barrier fails at once");
    cr_assert_eq(weft_barrier_wait(&b, 0, NULL), EPIPE);
    weft_barrier_reset(&b);
    cr_assert_not(weft_barrier_broken(&b));
    run_generation(&b, 2);
}

Test(barrier, zero_timeout_times_out_at_once_and_breaks)
{
    weft_barrier b;
    cr_assert_eq(weft_barrier_init(&b, 2, NULL, NULL, WEFT_FOREVER), 0);
    cr_assert_eq(weft_barrier_wait(&b, 0, NULL), ETIMEDOUT);
    cr_assert(weft_barrier_broken(&b));
    weft_barrier_reset(&b);
    cr_assert_eq(weft_barrier_wait(&b, -1.0, NULL), ETIMEDOUT);
    cr_assert(weft_barrier_broken(&b));
}

Test(barrier, init_timeout_bounds_every_wait)
{
    weft_barrier b;
    cr_assert_eq(weft_barrier_init(&b, 2, NULL, NULL, 0.1), 0);
    double t0 = now_s();
    int rc = weft_barrier_wait(&b, WEFT_FOREVER, NULL);
    double elapsed = now_s() - t0;
    cr_assert_eq(rc, ETIMEDOUT, "got %d", rc);
    cr_assert_timed_out_after(elapsed, 0.1);

    weft_barrier_reset(&b);
    t0 = now_s();
    rc = weft_barrier_wait(&b, 60.0, NULL);
    elapsed = now_s() - t0;
    cr_assert_eq(rc, ETIMEDOUT, "got %d", rc);
    cr_assert_timed_out_after(elapsed, 0.1);
}

Test(barrier, wait_timeout_smaller_than_init_timeout_wins)
{
    weft_barrier b;
    cr_assert_eq(weft_barrier_init(&b, 2, NULL, NULL, 60.0), 0);
    double t0 = now_s();
    int rc = weft_barrier_wait(&b, 0.1, NULL);
    double elapsed = now_s() - t0;
    cr_assert_eq(rc, ETIMEDOUT, "got %d", rc);
    cr_assert_timed_out_after(elapsed, 0.1);
}

Test(barrier, nan_wait_is_einval_and_breaks_nothing)
{
    weft_barrier b;
    cr_assert_eq(weft_barrier_init(&b, 2, NULL, NULL, WEFT_FOREVER), 0);
    cr_assert_eq(weft_barrier_wait(&b, NAN, NULL), EINVAL);
    cr_assert_not(weft_barrier_broken(&b));
    cr_assert_eq(weft_barrier_n_waiting(&b), 0, "EINVAL must not count as an arrival");
    run_generation(&b, 2);
}

static bool n_waiting_is(weft_barrier *b, size_t n)
{
    double end = now_s() + POLL_LIMIT;
    while (weft_barrier_n_waiting(b) != n) {
        if (now_s() > end)
            return false;
        nap_ms(1);
    }
    return true;
}

Test(barrier, timeout_gives_other_waiters_epipe)
{
    weft_barrier b;
    cr_assert_eq(weft_barrier_init(&b, 3, NULL, NULL, WEFT_FOREVER), 0);
    party_arg a = {&b, 0, WEFT_FOREVER, -1, SIZE_MAX};
    pthread_t t = spawn(party, &a);
    cr_assert(n_waiting_is(&b, 1));
    double t0 = now_s();
    int rc = weft_barrier_wait(&b, 0.1, NULL);
    double elapsed = now_s() - t0;
    cr_assert_eq(rc, ETIMEDOUT, "got %d", rc);
    cr_assert_timed_out_after(elapsed, 0.1);
    join(t);
    cr_assert_eq(a.rc, EPIPE, "the other waiter got %d", a.rc);
    cr_assert(weft_barrier_broken(&b));
}

/* ---- abort and reset ---------------------------------------------------- */

static void start_waiters(weft_barrier *b, party_arg *a, pthread_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        a[i] = (party_arg){b, (int)i, WEFT_FOREVER, -1, SIZE_MAX};
        t[i] = spawn(party, &a[i]);
    }
    cr_assert(n_waiting_is(b, n), "waiters never arrived");
}

Test(barrier, abort_breaks_it_for_current_and_later_waiters)
{
    weft_barrier b;
    int actions = 0;
    cr_assert_eq(weft_barrier_init(&b, 3, count_action, &actions, WEFT_FOREVER), 0);
    party_arg a[2];
    pthread_t t[2];
    start_waiters(&b, a, t, 2);
    weft_barrier_abort(&b);
    for (int i = 0; i < 2; i++) {
        join(t[i]);
        cr_assert_eq(a[i].rc, EPIPE, "waiter %d got %d", i, a[i].rc);
    }
    cr_assert(weft_barrier_broken(&b));
    cr_assert_eq(weft_barrier_wait(&b, WEFT_FOREVER, NULL), EPIPE);
    cr_assert_eq(actions, 0, "no generation completed");
    weft_barrier_abort(&b);
    cr_assert(weft_barrier_broken(&b), "abort twice is harmless");
    weft_barrier_reset(&b);
    cr_assert_not(weft_barrier_broken(&b));
    cr_assert_eq(weft_barrier_n_waiting(&b), 0);
    run_generation(&b, 3);
    cr_assert_eq(actions, 1);
}

Test(barrier, reset_releases_waiters_with_epipe_and_is_usable)
{
    weft_barrier b;
    cr_assert_eq(weft_barrier_init(&b, 3, NULL, NULL, WEFT_FOREVER), 0);
    party_arg a[2];
    pthread_t t[2];
    start_waiters(&b, a, t, 2);
    weft_barrier_reset(&b);
    for (int i = 0; i < 2; i++) {
        join(t[i]);
        cr_assert_eq(a[i].rc, EPIPE, "waiter %d got %d", i, a[i].rc);
    }
    cr_assert_not(weft_barrier_broken(&b), "reset leaves the barrier usable");
    cr_assert_eq(weft_barrier_n_waiting(&b), 0);
    run_generation(&b, 3);
    run_generation(&b, 3);
}

Test(barrier, reset_of_idle_barrier_is_harmless)
{
    weft_barrier b = WEFT_BARRIER_INIT(2);
    weft_barrier_reset(&b);
    cr_assert_not(weft_barrier_broken(&b));
    run_generation(&b, 2);
    weft_barrier_reset(&b);
    run_generation(&b, 2);
}

Test(barrier, timeouts_that_do_not_expire_do_not_break)
{
    weft_barrier b;
    cr_assert_eq(weft_barrier_init(&b, 3, NULL, NULL, 600.0), 0);
    party_arg a[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        a[i] = (party_arg){&b, i, 300.0, -1, SIZE_MAX};
        t[i] = spawn(party, &a[i]);
    }
    for (int i = 0; i < 3; i++) {
        join(t[i]);
        cr_assert_eq(a[i].rc, 0, "party %d: %d", i, a[i].rc);
    }
    cr_assert_not(weft_barrier_broken(&b));
}
