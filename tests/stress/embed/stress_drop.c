/* tests/stress/embed/stress_drop.c: task ownership (opts.drop) and
 * back-pressure (max_pending) under racing cancels and shutdowns.
 *
 * Usage: stress_drop threads seconds [seed] [--yield]
 *
 * Rounds until the time is up. Each round makes a pool with random options
 * (scheduler, 1..threads workers, max_pending 0 or small, sometimes an
 * initializer that fails: a broken pool) and drop = a counter per item. The
 * submitter threads submit items (random mix: with or without a future,
 * blocking submit, submit_timed with short timeouts, try_submit; some items
 * submit children from inside the pool) and cancel random futures, while
 * the main thread, after a random delay, shuts the pool down with random
 * wait and cancel_futures, sometimes twice. Invariants, checked once the
 * pool is destroyed:
 *   - every accepted submission (0) either ran or was dropped, exactly once
 *     (never dropped twice, never dropped after running, never both);
 *   - a refused submission neither ran nor was dropped;
 *   - a cancelled future's task never ran; a future that finished ran;
 *   - on a bounded pool, pending never exceeded max_pending; 0 at the end.
 */
#include <signal.h>
#include <unistd.h>

#include "../sync/stress_util.h"
#include "weft.h"

enum { PER_THREAD = 300, MAX_CHILDREN = 3 };

typedef struct item {
    _Atomic int ran, dropped;
    _Atomic int accepted; /* 1 once its submission returned 0 */
    int nchildren;
    struct item *children[MAX_CHILDREN];
} item;

static weft_pool *pool;
static size_t max_pending;
static uint32_t base_seed;
static bool yielding;
static _Atomic size_t pending_max_seen;

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void on_drop(void *arg)
{
    item *it = arg;
    if (atomic_fetch_add_explicit(&it->dropped, 1, memory_order_relaxed) != 0)
        stress_fail("dropped twice");
    if (atomic_load_explicit(&it->ran, memory_order_relaxed) != 0)
        stress_fail("dropped after it ran");
}

static int run_item(void *arg, void **result)
{
    item *it = arg;
    if (atomic_load_explicit(&it->dropped, memory_order_relaxed) != 0)
        stress_fail("ran after it was dropped");
    if (atomic_fetch_add_explicit(&it->ran, 1, memory_order_relaxed) != 0)
        stress_fail("ran twice");
    if (yielding && ((uintptr_t)arg >> 6) % 5 == 0)
        sched_yield();
    for (int i = 0; i < it->nchildren; i++) {
        item *c = it->children[i];
        /* From inside: never waits for room, may be refused after shutdown. */
        if (weft_pool_submit(pool, run_item, c, NULL) == 0)
            atomic_store_explicit(&c->accepted, 1, memory_order_relaxed);
    }
    *result = arg;
    return 0;
}

typedef struct slot {
    item *it;
    weft_future *f;
    bool user_cancelled;
} slot;

typedef struct sub_arg {
    slot *slots;
    uint32_t seed;
} sub_arg;

static void *submitter(void *arg)
{
    sub_arg *a = arg;
    uint32_t s = a->seed;
    for (size_t k = 0; k < PER_THREAD; k++) {
        slot *sl = &a->slots[k];
        weft_future **fp = xorshift(&s) % 2 ? &sl->f : NULL;
        int rc;
        switch (xorshift(&s) % 3) {
        case 0:
            rc = weft_pool_submit(pool, run_item, sl->it, fp);
            break;
        case 1:
            rc = weft_pool_submit_timed(pool, run_item, sl->it, fp, (double)(xorshift(&s) % 3) * 0.001);
            break;
        default:
            rc = weft_pool_try_submit(pool, run_item, sl->it, fp);
            break;
        }
        if (rc == 0)
            atomic_store_explicit(&sl->it->accepted, 1, memory_order_relaxed);
        else if (rc != ESHUTDOWN && rc != EPIPE && rc != EAGAIN && rc != ETIMEDOUT)
            stress_fail("submit: %d", rc);
        else if ((rc == EAGAIN || rc == ETIMEDOUT) && max_pending == 0)
            stress_fail("an unbounded pool refused with %d", rc);
        if (rc != 0 && fp != NULL)
            sl->f = NULL;
        size_t n = weft_pool_pending(pool), m = atomic_load(&pending_max_seen);
        while (n > m && !atomic_compare_exchange_weak(&pending_max_seen, &m, n))
            ;
        if (rc == 0 && fp != NULL && k > 0 && xorshift(&s) % 4 == 0) {
            /* Cancel an earlier one of ours. */
            slot *old = &a->slots[xorshift(&s) % k];
            if (old->f != NULL && weft_future_cancel(old->f))
                old->user_cancelled = true;
        }
        if (yielding && xorshift(&s) % 8 == 0)
            sched_yield();
    }
    return NULL;
}

static int failing_init(void *arg)
{
    (void)arg;
    return EIO;
}

static void check_item(item *it, bool *ok)
{
    int r = atomic_load(&it->ran), d = atomic_load(&it->dropped), acc = atomic_load(&it->accepted);
    if (acc && r + d != 1) {
        stress_fail("accepted item: ran %d dropped %d", r, d);
        *ok = false;
    }
    if (!acc && r + d != 0) {
        stress_fail("refused item: ran %d dropped %d", r, d);
        *ok = false;
    }
    for (int i = 0; i < it->nchildren; i++)
        check_item(it->children[i], ok);
}

static bool run_round(int round, int threads)
{
    uint32_t s = base_seed + (uint32_t)round * 7919u;
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 1 + xorshift(&s) % (uint32_t)threads;
    o.scheduler = round % 2 ? WEFT_SCHED_MUTEX : WEFT_SCHED_STEALING;
    o.max_pending = max_pending = xorshift(&s) % 2 ? 0 : 1 + xorshift(&s) % 16;
    o.drop = on_drop;
    if (xorshift(&s) % 8 == 0)
        o.initializer = failing_init;
    atomic_store(&pending_max_seen, 0);
    if (weft_pool_create(&pool, &o) != 0) {
        stress_fail("create");
        return false;
    }
    size_t n = (size_t)threads * PER_THREAD;
    slot *slots = calloc(n, sizeof *slots);
    item *items = calloc(n * (1 + MAX_CHILDREN), sizeof *items);
    size_t next_child = n;
    for (size_t i = 0; i < n; i++) {
        slots[i].it = &items[i];
        if (xorshift(&s) % 4 == 0) {
            items[i].nchildren = 1 + (int)(xorshift(&s) % MAX_CHILDREN);
            for (int c = 0; c < items[i].nchildren; c++)
                items[i].children[c] = &items[next_child++];
        }
    }
    sub_arg args[STRESS_MAX_THREADS];
    pthread_t th[STRESS_MAX_THREADS];
    for (int t = 0; t < threads; t++) {
        args[t] = (sub_arg){slots + (size_t)t * PER_THREAD, s ^ (uint32_t)(t + 1) * 2654435761u};
        pthread_create(&th[t], NULL, submitter, &args[t]);
    }
    stress_nap_us((long)(xorshift(&s) % 3000));
    bool cancel = xorshift(&s) % 2, wait = xorshift(&s) % 2;
    weft_pool_shutdown(pool, wait, cancel);
    if (xorshift(&s) % 2)
        weft_pool_shutdown(pool, false, !cancel);
    for (int t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    weft_pool_shutdown(pool, true, false);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        check_item(&items[i], &ok);
        slot *sl = &slots[i];
        if (sl->f != NULL) {
            if (!weft_future_done(sl->f))
                stress_fail("future not done after shutdown(wait)");
            if (weft_future_cancelled(sl->f) && atomic_load(&sl->it->ran))
                stress_fail("cancelled future's task ran");
            if (sl->user_cancelled && !weft_future_cancelled(sl->f))
                stress_fail("cancel returned true but the future is not cancelled");
            weft_future_release(sl->f);
        }
    }
    if (max_pending != 0 && atomic_load(&pending_max_seen) > max_pending)
        stress_fail("pending %zu over max_pending %zu", atomic_load(&pending_max_seen), max_pending);
    if (weft_pool_pending(pool) != 0)
        stress_fail("pending %zu after shutdown(wait)", weft_pool_pending(pool));
    weft_pool_destroy(pool);
    free(items);
    free(slots);
    return atomic_load(&stress_failures) == 0;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "stress_drop: hang (watchdog)\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(3);
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 0;
    double seconds = argc > 2 ? atof(argv[2]) : 0;
    int argi = 3;
    base_seed = 4242;
    if (argc > argi && strcmp(argv[argi], "--yield") != 0)
        base_seed = (uint32_t)strtoul(argv[argi++], NULL, 0);
    if (argc > argi && strcmp(argv[argi], "--yield") == 0) {
        yielding = true;
        argi++;
    }
    if (threads < 1 || threads > STRESS_MAX_THREADS || !(seconds > 0) || argi != argc) {
        fprintf(stderr, "usage: stress_drop threads seconds [seed] [--yield]\n");
        return 2;
    }
    if (base_seed == 0)
        base_seed = 1;
    signal(SIGALRM, on_alarm);
    alarm((unsigned)seconds + 120);
    double end = stress_now() + seconds;
    int round = 0;
    do {
        if (!run_round(round++, threads))
            break;
    } while (stress_now() < end);
    printf("stress_drop: %d rounds, seed %u: %s\n", round, base_seed,
           atomic_load(&stress_failures) ? "FAILED" : "ok");
    return atomic_load(&stress_failures) ? 1 : 0;
}
