/* stress_parking: the queue's parking lot (src/sync/parking.c) on its own,
 * the protocol of issue 10 item 1 under load. Half the threads are getters,
 * half putters, over an item count: a getter takes an item if there is one,
 * else announces itself, re-checks (cancel on success) and waits with a
 * random finite timeout; a putter adds an item and notifies one. Checked:
 * every wait returns within its timeout plus a generous bound (the old
 * withdrawal could spin past it forever: a stuck getter also trips the
 * harness's hang watchdog); items taken never exceed items put; once every
 * thread has left, the lot is empty (waiters + tokens == 0, invariant I). */
#include "stress_util.h"

#include "sync/parking.h"

/* A wait that overruns its timeout by this much did not honour it. */
#define OVERRUN 10.0

typedef struct shared {
    weft__lot lot;
    _Atomic long items; /* put and not yet taken */
    _Atomic long put, taken;
} shared;

static bool try_take(shared *s)
{
    long n = atomic_load_explicit(&s->items, memory_order_relaxed);
    while (n > 0) {
        /* acquire: pairs with the release increment by the putter. */
        if (atomic_compare_exchange_weak_explicit(&s->items, &n, n - 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return true;
    }
    return false;
}

static double finite_timeout(stress_rng *r)
{
    double t = stress_timeout(r);
    return isinf(t) ? 0.05 : t;
}

static void getter(stress_worker *w, shared *s)
{
    if (try_take(s))
        goto got;
    double timeout = finite_timeout(&w->rng);
    weft__deadline d;
    weft__deadline_init(&d, timeout);
    double t0 = stress_now();
    for (;;) {
        weft__lot_prepare(&s->lot);
        stress_maybe_yield(&w->rng);
        if (try_take(s)) {
            weft__lot_cancel(&s->lot);
            goto got;
        }
        int rc = weft__lot_wait(&s->lot, &d);
        double late = stress_now() - t0 - (timeout > 0 ? timeout : 0);
        if (late > OVERRUN)
            stress_fail("a wait of %g s returned %.1f s late", timeout, late);
        if (try_take(s))
            goto got;
        if (rc == ETIMEDOUT || !stress_running())
            return;
    }
got:
    atomic_fetch_add_explicit(&s->taken, 1, memory_order_relaxed);
    w->ops++;
}

static void *worker(void *p)
{
    stress_worker *w = p;
    shared *s = w->ctx;
    while (stress_running()) {
        if (w->id % 2 == 0) {
            getter(w, s);
        } else {
            /* release: publishes the put to the getter's acquire CAS. */
            atomic_fetch_add_explicit(&s->items, 1, memory_order_release);
            atomic_fetch_add_explicit(&s->put, 1, memory_order_relaxed);
            weft__lot_notify(&s->lot, 1);
            w->ops++;
            stress_maybe_yield(&w->rng);
            if (stress_one_in(&w->rng, 16))
                stress_nap_us(50);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static shared s;
    static stress_worker w[STRESS_MAX_THREADS];
    stress_parse(argc, argv, 2);
    weft__lot_init(&s.lot);
    bool joined = stress_run(w, worker, &s);
    if (joined) {
        if (atomic_load(&s.taken) + atomic_load(&s.items) != atomic_load(&s.put))
            stress_fail("taken %ld + left %ld != put %ld", atomic_load(&s.taken), atomic_load(&s.items),
                        atomic_load(&s.put));
        if (weft__lot_waiters(&s.lot) != 0 || weft__lot_tokens(&s.lot) != 0)
            stress_fail("lot not empty after every thread left: waiters %u, tokens %u",
                        weft__lot_waiters(&s.lot), weft__lot_tokens(&s.lot));
    }
    return stress_finish("stress_parking", joined, w);
}
