/* stress_sem: three workloads on semaphores.
 *
 * ring (first half of the run): one token circulates among the threads, each
 * thread waiting on its own Semaphore(0) and handing the token on with
 * release(1) to the next one's. Waits use random timeouts, forever in about
 * half of them. A release(1) that fails to wake its sleeper stops the ring
 * for good: the watchdog reports a hang. The token holder is checked to be
 * alone (a plain variable that ThreadSanitizer also watches).
 *
 * Then, with every thread picking one of these at random each time:
 *
 * gate: a BoundedSemaphore of K = max(1, threads / 2) permits. Holders count
 * themselves in an atomic; more than K inside at once is a violation. Threads
 * take one permit, or two (the second with a finite timeout, so two threads
 * holding one each cannot deadlock) and give them back with one release(n).
 * Every release must succeed (EOVERFLOW would mean a permit was duplicated)
 * and the value must be K at the end.
 *
 * pool: an unbounded Semaphore starting at 0. Each thread releases n random
 * permits and then takes n back, waiting (mostly forever) as long as needed.
 * The permits in the semaphore always equal the sum of the threads'
 * outstanding needs, so if every thread sleeps while permits are available
 * a wake-up was lost: the run then hangs and the watchdog reports it. The
 * value must be 0 at the end. */
#include "stress_util.h"

typedef struct shared {
    weft_sem ring[STRESS_MAX_THREADS];
    double ring_until;     /* monotonic time at which the ring phase ends */
    _Atomic bool ring_done;
    volatile int holder;   /* the ring token's holder, -1 when in flight */
    weft_sem gate;
    weft_sem pool;
    uint32_t k;
    _Atomic uint32_t inside;
} shared;

static bool acquire_ok(int rc, double timeout, const char *what)
{
    if (rc == 0)
        return true;
    if (!(rc == EAGAIN && timeout <= 0) && !(rc == ETIMEDOUT && timeout > 0 && !isinf(timeout)))
        stress_fail("%s: weft_sem_acquire(%g) returned %d", what, timeout, rc);
    return false;
}

static void enter(shared *s, uint32_t n)
{
    uint32_t now = atomic_fetch_add_explicit(&s->inside, n, memory_order_relaxed) + n;
    if (now > s->k)
        stress_fail("%u threads' permits inside a semaphore of %u", now, s->k);
}

static void gate_round(stress_worker *w, shared *s)
{
    double t = stress_timeout(&w->rng);
    if (!acquire_ok(weft_sem_acquire(&s->gate, t), t, "gate"))
        return;
    uint32_t held = 1;
    if (s->k >= 2 && stress_one_in(&w->rng, 3)) {
        double t2 = stress_timeout(&w->rng);
        if (isinf(t2))
            t2 = 1e-3;
        if (acquire_ok(weft_sem_acquire(&s->gate, t2), t2, "gate (second permit)"))
            held = 2;
    }
    enter(s, held);
    stress_maybe_yield(&w->rng);
    atomic_fetch_sub_explicit(&s->inside, held, memory_order_relaxed);
    int rc = weft_sem_release(&s->gate, held);
    if (rc != 0)
        stress_fail("gate: weft_sem_release(%u) returned %d", held, rc);
    w->ops++;
}

static void pool_round(stress_worker *w, shared *s)
{
    uint32_t n = 1 + stress_rand(&w->rng) % 3;
    int rc = weft_sem_release(&s->pool, n);
    if (rc != 0) {
        stress_fail("pool: weft_sem_release(%u) returned %d", n, rc);
        return;
    }
    stress_maybe_yield(&w->rng);
    for (uint32_t got = 0; got < n;) {
        /* Mostly forever: a finite wait would retry and hide a lost wake-up. */
        double t = stress_one_in(&w->rng, 4) ? stress_timeout(&w->rng) : WEFT_FOREVER;
        if (acquire_ok(weft_sem_acquire(&s->pool, t), t, "pool"))
            got++;
        else if (stress_failed())
            return;
    }
    w->ops++;
}

static void ring_worker(stress_worker *w, shared *s)
{
    int n = stress_cfg.threads;
    for (;;) {
        double t = stress_one_in(&w->rng, 2) ? stress_timeout(&w->rng) : WEFT_FOREVER;
        int rc = weft_sem_acquire(&s->ring[w->id], t);
        /* acquire: pairs with the release store of ring_done by the thread
         * that ended the ring, which then released every semaphore. */
        if (atomic_load_explicit(&s->ring_done, memory_order_acquire))
            return;
        if (!acquire_ok(rc, t, "ring"))
            continue;
        if (s->holder != -1)
            stress_fail("ring: thread %d got the token held by %d", w->id, s->holder);
        s->holder = w->id;
        w->ops++;
        stress_maybe_yield(&w->rng);
        s->holder = -1;
        if (!stress_running() || stress_now() >= s->ring_until) {
            /* release: pairs with the acquire load of ring_done above. */
            atomic_store_explicit(&s->ring_done, true, memory_order_release);
            for (int j = 0; j < n; j++)
                if (j != w->id && weft_sem_release(&s->ring[j], 1) != 0)
                    stress_fail("ring: releasing semaphore %d failed", j);
            return;
        }
        if ((rc = weft_sem_release(&s->ring[(w->id + 1) % n], 1)) != 0)
            stress_fail("ring: weft_sem_release(1) returned %d", rc);
    }
}

static void *worker(void *p)
{
    stress_worker *w = p;
    shared *s = w->ctx;
    ring_worker(w, s);
    while (stress_running()) {
        if (stress_one_in(&w->rng, 2))
            gate_round(w, s);
        else
            pool_round(w, s);
        stress_maybe_yield(&w->rng);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static shared s;
    static stress_worker w[STRESS_MAX_THREADS];
    stress_parse(argc, argv, 2);
    s.k = stress_cfg.threads / 2 > 1 ? (uint32_t)stress_cfg.threads / 2 : 1;
    if (weft_sem_init_bounded(&s.gate, s.k) != 0 || weft_sem_init(&s.pool, 0) != 0) {
        fprintf(stderr, "stress_sem: init failed\n");
        return 2;
    }
    atomic_init(&s.inside, 0);
    for (int i = 0; i < stress_cfg.threads; i++)
        if (weft_sem_init(&s.ring[i], i == 0) != 0)
            return 2;
    s.holder = -1;
    s.ring_until = stress_now() + stress_cfg.seconds / 2;
    bool joined = stress_run(w, worker, &s);
    if (joined && !stress_failed()) {
        if (weft_sem_value(&s.gate) != s.k)
            stress_fail("gate value %zu at the end, expected %u", weft_sem_value(&s.gate), s.k);
        if (weft_sem_release(&s.gate, 1) != EOVERFLOW || weft_sem_value(&s.gate) != s.k)
            stress_fail("releasing a full bounded semaphore did not fail cleanly with EOVERFLOW");
        if (weft_sem_value(&s.pool) != 0)
            stress_fail("pool value %zu at the end, expected 0", weft_sem_value(&s.pool));
    }
    return stress_finish("stress_sem", joined, w);
}
