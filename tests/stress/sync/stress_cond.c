/* stress_cond: two workloads on weft_cond, one after the other, each with
 * every thread.
 *
 * ring (first half of the run): the threads pass a turn around, each sleeping
 * on its own condition (all bound to one lock) until the turn is its own, and
 * each waking only the next one with notify(1). Waits use random timeouts,
 * forever in about half of them, through both wait and wait_for. A lost
 * notify leaves the ring stuck: nobody else would ever wake the sleeper, so
 * the watchdog reports a hang.
 *
 * rounds (second half): thread 0 produces, the others consume. In each round
 * the producer waits until every consumer is inside wait_for (consumers count
 * themselves under the lock and then wait without releasing it), puts k
 * tokens, 1 <= k <= consumers, and calls notify(k) (sometimes notify_all).
 * A consumer takes at most one token per round and then waits for the next
 * round on a second condition, so the k tokens need k distinct woken
 * consumers: if notify(k) woke fewer, tokens stay behind while the remaining
 * consumers sleep (forever, in about half of the waits), the producer never
 * sees the round complete, and the watchdog reports a hang.
 *
 * Every wait must return with the lock held, 0 or ETIMEDOUT (the latter only
 * for a finite timeout), and wait_for's 0 must mean its predicate holds. */
#include "stress_util.h"

typedef struct ring {
    weft_lock lock;
    weft_cond cond[STRESS_MAX_THREADS];
    int n;
    int turn;    /* guarded by lock, as are the fields below */
    bool done;
    long passes;
} ring;

typedef struct shop {
    weft_lock lock;
    weft_cond token_cond; /* consumers wait here for a token */
    weft_cond round_cond; /* consumers that took one wait here for the next round */
    weft_cond prod_cond;  /* the producer waits here */
    int consumers;
    long tokens; /* guarded by lock, as are the fields below */
    long round;
    int entered; /* consumers waiting for a token */
    long taken;  /* tokens taken this round */
    long produced;
    long consumed;
    bool closing;
} shop;

typedef struct shared {
    ring ring;
    shop shop;
    double ring_until; /* monotonic time at which the ring phase ends */
} shared;

typedef struct ring_ctx {
    ring *r;
    int id;
} ring_ctx;

static bool ring_my_turn(void *p)
{
    ring_ctx *c = p;
    return c->r->turn == c->id || c->r->done;
}

static void check_wait(int rc, double timeout, weft_lock *lock, const char *what)
{
    if (rc != 0 && !(rc == ETIMEDOUT && !isinf(timeout)))
        stress_fail("%s(%g) returned %d", what, timeout, rc);
    if (!weft_lock_locked(lock))
        stress_fail("%s returned without the lock", what);
}

static void lock_or_fail(weft_lock *l)
{
    int rc = weft_lock_acquire(l, WEFT_FOREVER);
    if (rc != 0) {
        stress_fail("weft_lock_acquire(forever) returned %d", rc);
        abort();
    }
}

static void unlock_or_fail(weft_lock *l)
{
    int rc = weft_lock_release(l);
    if (rc != 0)
        stress_fail("weft_lock_release returned %d", rc);
}

static void ring_worker(stress_worker *w, ring *r, int id, double until)
{
    ring_ctx ctx = {r, id};
    lock_or_fail(&r->lock);
    for (;;) {
        while (r->turn != id && !r->done) {
            double t = stress_timeout(&w->rng);
            if (stress_one_in(&w->rng, 4)) {
                int rc = weft_cond_wait_for(&r->cond[id], ring_my_turn, &ctx, t);
                check_wait(rc, t, &r->lock, "ring: weft_cond_wait_for");
                if (rc == 0 && !ring_my_turn(&ctx))
                    stress_fail("ring: wait_for returned 0 with its predicate false");
            } else {
                check_wait(weft_cond_wait(&r->cond[id], t), t, &r->lock, "ring: weft_cond_wait");
            }
        }
        if (r->done)
            break;
        r->passes++;
        w->ops++;
        if (!stress_running() || stress_now() >= until) {
            r->done = true;
            for (int j = 0; j < r->n; j++)
                if (weft_cond_notify_all(&r->cond[j]) != 0)
                    stress_fail("ring: notify_all failed with the lock held");
            break;
        }
        r->turn = (id + 1) % r->n;
        if (weft_cond_notify(&r->cond[r->turn], 1) != 0)
            stress_fail("ring: notify failed with the lock held");
        if (stress_one_in(&w->rng, 2)) {
            unlock_or_fail(&r->lock);
            stress_maybe_yield(&w->rng);
            lock_or_fail(&r->lock);
        }
    }
    unlock_or_fail(&r->lock);
}

static bool shop_has_token(void *p)
{
    shop *s = p;
    return s->tokens > 0 || s->closing;
}

static bool shop_all_entered(void *p)
{
    shop *s = p;
    return s->entered == s->consumers;
}

typedef struct round_ctx {
    shop *s;
    long round;
    long k;
} round_ctx;

static bool shop_round_taken(void *p)
{
    round_ctx *c = p;
    return c->s->taken == c->k;
}

static bool shop_next_round(void *p)
{
    round_ctx *c = p;
    return c->s->round != c->round || c->s->closing;
}

/* The producer's own waits are forever: it is the consumers' waits that are
 * under test, and a stuck round must hang rather than be retried. */
static void producer_wait(shop *s, bool (*pred)(void *), void *ctx)
{
    int rc = weft_cond_wait_for(&s->prod_cond, pred, ctx, WEFT_FOREVER);
    check_wait(rc, WEFT_FOREVER, &s->lock, "rounds: producer wait_for");
}

static void producer(stress_worker *w, shop *s)
{
    lock_or_fail(&s->lock);
    for (;;) {
        producer_wait(s, shop_all_entered, s);
        if (!stress_running())
            break;
        round_ctx ctx = {s, s->round, 1 + (long)(stress_rand(&w->rng) % (uint32_t)s->consumers)};
        s->tokens = ctx.k;
        s->produced += ctx.k;
        int rc = stress_one_in(&w->rng, 8) ? weft_cond_notify_all(&s->token_cond)
                                           : weft_cond_notify(&s->token_cond, (size_t)ctx.k);
        if (rc != 0)
            stress_fail("rounds: notify returned %d with the lock held", rc);
        producer_wait(s, shop_round_taken, &ctx);
        if (s->tokens != 0)
            stress_fail("rounds: %ld tokens left after %ld were taken", s->tokens, ctx.k);
        s->taken = 0;
        s->round++;
        if (weft_cond_notify_all(&s->round_cond) != 0)
            stress_fail("rounds: notify_all returned an error with the lock held");
        w->ops++;
        if (stress_one_in(&w->rng, 2)) {
            unlock_or_fail(&s->lock);
            stress_maybe_yield(&w->rng);
            lock_or_fail(&s->lock);
        }
    }
    s->closing = true;
    if (weft_cond_notify_all(&s->token_cond) != 0 || weft_cond_notify_all(&s->round_cond) != 0)
        stress_fail("rounds: notify_all returned an error with the lock held");
    unlock_or_fail(&s->lock);
}

static void consumer(stress_worker *w, shop *s)
{
    lock_or_fail(&s->lock);
    while (!s->closing) {
        s->entered++;
        if (s->entered == s->consumers && weft_cond_notify(&s->prod_cond, 1) != 0)
            stress_fail("rounds: notify returned an error with the lock held");
        for (;;) {
            double t = stress_timeout(&w->rng);
            int rc = weft_cond_wait_for(&s->token_cond, shop_has_token, s, t);
            check_wait(rc, t, &s->lock, "rounds: consumer wait_for");
            if (rc == 0)
                break;
        }
        if (!shop_has_token(s))
            stress_fail("rounds: wait_for returned 0 with its predicate false");
        s->entered--;
        if (s->closing)
            break;
        s->tokens--;
        s->taken++;
        s->consumed++;
        w->ops++;
        round_ctx ctx = {s, s->round, 0};
        if (weft_cond_notify(&s->prod_cond, 1) != 0)
            stress_fail("rounds: notify returned an error with the lock held");
        if (stress_one_in(&w->rng, 2)) {
            unlock_or_fail(&s->lock);
            stress_maybe_yield(&w->rng);
            lock_or_fail(&s->lock);
        }
        for (;;) {
            double t = stress_timeout(&w->rng);
            int rc = weft_cond_wait_for(&s->round_cond, shop_next_round, &ctx, t);
            check_wait(rc, t, &s->lock, "rounds: next-round wait_for");
            if (rc == 0)
                break;
        }
    }
    unlock_or_fail(&s->lock);
}

static void *worker(void *p)
{
    stress_worker *w = p;
    shared *s = w->ctx;
    ring_worker(w, &s->ring, w->id, s->ring_until);
    if (w->id == 0)
        producer(w, &s->shop);
    else
        consumer(w, &s->shop);
    return NULL;
}

int main(int argc, char **argv)
{
    static shared s;
    static stress_worker w[STRESS_MAX_THREADS];
    stress_parse(argc, argv, 2);
    s.ring.n = stress_cfg.threads;
    s.shop.consumers = stress_cfg.threads - 1;
    weft_lock_init(&s.ring.lock);
    weft_lock_init(&s.shop.lock);
    for (int i = 0; i < s.ring.n; i++)
        if (weft_cond_init(&s.ring.cond[i], &s.ring.lock) != 0)
            return 2;
    if (weft_cond_init(&s.shop.token_cond, &s.shop.lock) != 0 ||
        weft_cond_init(&s.shop.round_cond, &s.shop.lock) != 0 ||
        weft_cond_init(&s.shop.prod_cond, &s.shop.lock) != 0)
        return 2;
    s.ring_until = stress_now() + stress_cfg.seconds / 2;
    bool joined = stress_run(w, worker, &s);
    if (joined) {
        if (s.shop.produced != s.shop.consumed || s.shop.tokens != 0)
            stress_fail("rounds: %ld produced, %ld consumed, %ld left", s.shop.produced, s.shop.consumed,
                        s.shop.tokens);
        if (weft_lock_locked(&s.ring.lock) || weft_lock_locked(&s.shop.lock))
            stress_fail("a lock is still held at the end");
    }
    return stress_finish("stress_cond", joined, w);
}
