/* tests/stress/embed/stress_cq.c: the completion queue under racing
 * completions.
 *
 * Usage: stress_cq threads seconds [seed] [--yield]
 *
 * Rounds until the time is up. Each round makes a pool (schedulers
 * alternate, 1..threads workers) and a completion queue, and starts
 * `threads` notifier threads that submit tasks (random short spins and
 * yields), notify the queue of each future at a random moment (before or
 * after it is done), cancel some, and release their references at once. The
 * main thread is the event loop: it polls the fd (10 s without a wake-up
 * while completions are owed is a stranded completion: failure) and pops
 * until EAGAIN, or, in every other round, at most a random budget of 1 to 4
 * per wake-up (a level-triggered loop may stop early: the fd must stay
 * readable while anything is left). Every third round the loop destroys the queue half-way, with
 * futures still pending and completions never popped (what the sanitizers
 * check there is that nothing is leaked, freed twice or posted to a dead
 * queue). Invariants: every notification is posted exactly once, with its
 * tag, after its future is done; the queue's counters balance.
 */
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "../sync/stress_util.h"
#include "weft.h"

enum { PER_THREAD = 400 };

typedef struct note {
    _Atomic int posted;
    bool cancel;
} note;

static weft_pool *pool;
static weft_cq *cq;
static note *notes;
static uint32_t base_seed;
static bool yielding;

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static int task(void *arg, void **result)
{
    uint32_t s = (uint32_t)(uintptr_t)arg | 1;
    unsigned spin = xorshift(&s) % 200;
    for (volatile unsigned i = 0; i < spin; i++)
        ;
    if (yielding && xorshift(&s) % 4 == 0)
        sched_yield();
    *result = arg;
    return 0;
}

static void *notifier(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;
    uint32_t s = base_seed ^ (uint32_t)(t * 2654435761u) ^ 0x9e3779b9u;
    for (size_t k = 0; k < PER_THREAD; k++) {
        size_t i = t * PER_THREAD + k;
        weft_future *f;
        if (weft_pool_submit(pool, task, (void *)(uintptr_t)xorshift(&s), &f) != 0) {
            stress_fail("submit failed");
            return NULL;
        }
        if (yielding && xorshift(&s) % 8 == 0)
            sched_yield();
        if (notes[i].cancel)
            (void)weft_future_cancel(f);
        if (weft_future_notify(f, cq, &notes[i]) != 0)
            stress_fail("notify failed");
        weft_future_release(f);
    }
    return NULL;
}

static bool run_round(int round, int threads)
{
    size_t n = (size_t)threads * PER_THREAD;
    uint32_t s = base_seed + (uint32_t)round * 7919u;
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 1 + xorshift(&s) % (uint32_t)threads;
    o.scheduler = round % 2 ? WEFT_SCHED_MUTEX : WEFT_SCHED_STEALING;
    if (weft_pool_create(&pool, &o) != 0 || weft_cq_create(&cq) != 0) {
        stress_fail("create failed");
        return false;
    }
    notes = calloc(n, sizeof *notes);
    for (size_t i = 0; i < n; i++)
        notes[i].cancel = xorshift(&s) % 16 == 0;
    bool early_destroy = round % 3 == 2;
    bool budgeted = round % 4 >= 2;
    pthread_t th[STRESS_MAX_THREADS];
    for (int t = 0; t < threads; t++)
        pthread_create(&th[t], NULL, notifier, (void *)(uintptr_t)t);
    size_t got = 0;
    struct pollfd pfd = {weft_cq_fd(cq), POLLIN, 0};
    while (got < n && !(early_destroy && got >= n / 2)) {
        int rc = poll(&pfd, 1, 10000);
        if (rc == 0) {
            stress_fail("stranded: %zu of %zu completions, fd not readable for 10 s", got, n);
            break;
        }
        weft_future *f;
        void *tag;
        unsigned budget = budgeted ? 1 + xorshift(&s) % 4 : UINT32_MAX;
        while (budget-- > 0 && weft_cq_pop(cq, &f, &tag) == 0) {
            note *nt = tag;
            if (!weft_future_done(f))
                stress_fail("posted before done");
            if (atomic_fetch_add_explicit(&nt->posted, 1, memory_order_relaxed) != 0)
                stress_fail("posted twice");
            weft_future_release(f);
            got++;
        }
    }
    for (int t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    if (!early_destroy) {
        weft_cq_counters c;
        weft_cq_stats(cq, &c);
        if (c.popped != n || c.signals > c.popped)
            stress_fail("counters: popped %llu signals %llu of %zu", (unsigned long long)c.popped,
                        (unsigned long long)c.signals, n);
    }
    weft_cq_destroy(cq);
    weft_pool_destroy(pool);
    free(notes);
    return atomic_load(&stress_failures) == 0;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "stress_cq: hang (watchdog)\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(3);
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 0;
    double seconds = argc > 2 ? atof(argv[2]) : 0;
    int argi = 3;
    base_seed = 12345;
    if (argc > argi && strcmp(argv[argi], "--yield") != 0)
        base_seed = (uint32_t)strtoul(argv[argi++], NULL, 0);
    if (argc > argi && strcmp(argv[argi], "--yield") == 0) {
        yielding = true;
        argi++;
    }
    if (threads < 1 || threads > STRESS_MAX_THREADS || !(seconds > 0) || argi != argc) {
        fprintf(stderr, "usage: stress_cq threads seconds [seed] [--yield]\n");
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
    printf("stress_cq: %d rounds, seed %u: %s\n", round, base_seed,
           atomic_load(&stress_failures) ? "FAILED" : "ok");
    return atomic_load(&stress_failures) ? 1 : 0;
}
