/* tests/fork/fork_children.c: fork() in a busy process (docs/RELIABILITY.md,
 * "fork").
 *
 * Usage: fork_children [forks] [seconds] [lockdep]
 *   forks    children to fork (default 200); the soak run uses 1000
 *   seconds  stop forking early once this much time has passed (default 0:
 *            no limit); the count of children forked is printed either way
 *   lockdep  turn lockdep on in the parent (its graph mutex is then busy at
 *            every fork; about 5x slower: every nested acquire takes it)
 *
 * The parent keeps busy while it forks: a stealing pool and a mutex pool fed
 * without pause by two weft threads (futures, fire-and-forget tasks, groups
 * of 600 spawns from inside a task, which grow a deque and so retire buffers
 * through liburcu's call_rcu), two weft threads ping-ponging through a queue,
 * a pending timer, and a "churner" weft thread that creates and destroys
 * small pools (the live-pool and dump pool lists), takes two locks nested
 * (with "lockdep": lockdep's graph mutex) and writes weft_dump reports: every
 * lock that thread/fork.c's handler takes across fork is busy. Odd children are forked by the main thread, even ones by a
 * weft thread (the "forker"). Each child, under a 20 s alarm that kills it if
 * it hangs:
 *   - checks the forking thread is now the main thread (weft_main_thread()
 *     is weft_current_thread(), alive, native id = getpid(), ident =
 *     weft_get_ident()) and the only thread listed;
 *   - checks what it inherited is dead: the pools refuse submissions
 *     (ESHUTDOWN), shut down without waiting for anything, and are
 *     destroyed; the threads are not alive and join at once; the timer is
 *     destroyed;
 *   - writes a weft_dump report and takes two locks nested (lockdep's graph
 *     and dump's pool list were not left locked);
 *   - creates a new pool on each scheduler and runs futures, a group of 600
 *     spawns, parallel_for; starts and joins a thread; uses a queue;
 *   - exits through exit() (atexit handlers run).
 * Under AddressSanitizer the program skips itself (exit status 77): GCC 12's
 * ASan allocator is not fork-safe (a child blocks in malloc on an allocator
 * lock that one of the parent's threads held at the fork: 2 of 40 children
 * hung), and LeakSanitizer's exit-time check in such a child tries to stop
 * the parent's threads, which it still lists.
 * The parent counts children that crashed (a signal), hung (SIGALRM) or
 * failed a check (their exit status names the check); exit status 1 if any.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"
#include "weft/diag.h"

enum { GROUP_SPAWNS = 600, CHILD_ALARM_S = 20 };

static weft_pool *steal_pool, *mutex_pool;
static weft_queue *ping, *pong;
static weft_timer *timer;
static atomic_bool stopping;

/* ---- the busy parent ----------------------------------------------------- */

static int square(void *arg, void **result)
{
    size_t x = (size_t)arg;
    if (result != NULL)
        *result = (void *)(x * x);
    return 0;
}

static void count_one(void *arg)
{
    atomic_fetch_add_explicit((atomic_size_t *)arg, 1, memory_order_relaxed);
}

/* A task that spawns GROUP_SPAWNS children onto its own deque and waits. */
static int spawner(void *arg, void **result)
{
    weft_pool *p = arg;
    (void)result;
    atomic_size_t n = 0;
    weft_group g;
    weft_group_init(&g, p);
    for (size_t i = 0; i < GROUP_SPAWNS; i++)
        if (weft_group_run(&g, count_one, &n) != 0)
            count_one(&n);
    weft_group_wait(&g);
    return atomic_load(&n) == GROUP_SPAWNS ? 0 : EINVAL;
}

static int feeder(void *arg)
{
    weft_pool *p = arg;
    unsigned round = 0;
    while (!atomic_load_explicit(&stopping, memory_order_relaxed)) {
        weft_future *fs[16];
        size_t n = 0;
        for (; n < 16; n++)
            if (weft_pool_submit(p, square, (void *)n, &fs[n]) != 0)
                break;
        for (int i = 0; i < 32; i++)
            (void)weft_pool_submit(p, square, NULL, NULL);
        weft_future *sp = NULL;
        if (round++ % 4 == 0)
            (void)weft_pool_submit(p, spawner, p, &sp);
        for (size_t i = 0; i < n; i++) {
            (void)weft_future_result(fs[i], WEFT_FOREVER, NULL);
            weft_future_release(fs[i]);
        }
        if (sp != NULL) {
            (void)weft_future_wait(sp, WEFT_FOREVER);
            weft_future_release(sp);
        }
    }
    return 0;
}

static int pinger(void *arg)
{
    (void)arg;
    void *item;
    while (!atomic_load_explicit(&stopping, memory_order_relaxed)) {
        if (weft_queue_put(ping, (void *)1, 1.0) != 0)
            continue;
        (void)weft_queue_get(pong, &item, 1.0);
    }
    return 0;
}

static int ponger(void *arg)
{
    (void)arg;
    void *item;
    while (!atomic_load_explicit(&stopping, memory_order_relaxed))
        if (weft_queue_get(ping, &item, 0.05) == 0)
            (void)weft_queue_put(pong, item, 1.0);
    return 0;
}

static void never(void *arg)
{
    (void)arg;
}

static weft_lock outer = WEFT_LOCK_INIT, inner = WEFT_LOCK_INIT;

static void nested_locks(void)
{
    weft_lock_acquire(&outer, WEFT_FOREVER);
    weft_lock_acquire(&inner, WEFT_FOREVER);
    weft_lock_release(&inner);
    weft_lock_release(&outer);
}

static int churner(void *arg)
{
    FILE *devnull = arg;
    unsigned round = 0;
    while (!atomic_load_explicit(&stopping, memory_order_relaxed)) {
        weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
        o.max_workers = 1;
        o.scheduler = round % 2 == 0 ? WEFT_SCHED_STEALING : WEFT_SCHED_MUTEX;
        weft_pool *p;
        if (weft_pool_create(&p, &o) == 0) {
            (void)weft_pool_submit(p, square, NULL, NULL);
            weft_pool_destroy(p);
        }
        nested_locks();
        if (round++ % 8 == 0)
            (void)weft_dump(devnull);
    }
    return 0;
}

/* ---- the child ----------------------------------------------------------- */

enum {
    BAD_MAIN = 10,
    BAD_COUNT,
    BAD_INHERITED_POOL,
    BAD_INHERITED_THREAD,
    BAD_NEW_POOL,
    BAD_NEW_THREAD,
    BAD_QUEUE,
    BAD_DIAG,
};

static void sum_range(void *ctx, size_t lo, size_t hi)
{
    atomic_fetch_add_explicit((atomic_size_t *)ctx, hi - lo, memory_order_relaxed);
}

static int child_pool(weft_sched_kind kind)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 2;
    o.scheduler = kind;
    weft_pool *p;
    if (weft_pool_create(&p, &o) != 0)
        return 1;
    int bad = 0;
    weft_future *fs[64];
    for (size_t i = 0; i < 64; i++)
        if (weft_pool_submit(p, square, (void *)i, &fs[i]) != 0)
            return 1;
    for (size_t i = 0; i < 64; i++) {
        void *r = NULL;
        if (weft_future_result(fs[i], WEFT_FOREVER, &r) != 0 || (size_t)r != i * i)
            bad = 1;
        weft_future_release(fs[i]);
    }
    weft_future *sp;
    if (weft_pool_submit(p, spawner, p, &sp) != 0 || weft_future_result(sp, WEFT_FOREVER, NULL) != 0)
        bad = 1;
    weft_future_release(sp);
    atomic_size_t covered = 0;
    if (weft_parallel_for(p, 0, 1000, 10, sum_range, &covered) != 0 || atomic_load(&covered) != 1000)
        bad = 1;
    weft_pool_destroy(p);
    return bad;
}

static int thread_ok(void *arg)
{
    return arg == (void *)7 ? 0 : 1;
}

static int child_main(weft_thread **inherited, size_t ninherited)
{
    alarm(CHILD_ALARM_S);
    weft_thread *me = weft_current_thread();
    if (me == NULL || weft_main_thread() != me || !weft_thread_is_alive(me) ||
        weft_thread_native_id(me) != (long)getpid() || weft_thread_ident(me) != weft_get_ident())
        return BAD_MAIN;
    weft_thread *listed[4];
    if (weft_active_count() != 1 || weft_enumerate(listed, 4) != 1 || listed[0] != me)
        return BAD_COUNT;

    if (weft_pool_submit(steal_pool, square, NULL, NULL) != ESHUTDOWN ||
        weft_pool_submit(mutex_pool, square, NULL, NULL) != ESHUTDOWN ||
        weft_pool_shutdown(steal_pool, true, true) != 0)
        return BAD_INHERITED_POOL;
    weft_pool_destroy(steal_pool);
    weft_pool_destroy(mutex_pool);
    for (size_t i = 0; i < ninherited; i++) {
        if (inherited[i] == me)
            continue;
        if (weft_thread_is_alive(inherited[i]) || weft_thread_join(inherited[i], 0) != 0)
            return BAD_INHERITED_THREAD;
        weft_thread_destroy(inherited[i]);
    }
    weft_timer_destroy(timer);

    FILE *devnull = fopen("/dev/null", "w");
    if (devnull == NULL || weft_dump(devnull) != 0 || fclose(devnull) != 0)
        return BAD_DIAG;
    weft_lockdep_enable();
    nested_locks();

    if (child_pool(WEFT_SCHED_STEALING) != 0 || child_pool(WEFT_SCHED_MUTEX) != 0)
        return BAD_NEW_POOL;
    weft_thread *t;
    if (weft_thread_create(&t, thread_ok, (void *)7, NULL) != 0 || weft_thread_start(t) != 0 ||
        weft_thread_join(t, WEFT_FOREVER) != 0 || weft_thread_exit_code(t) != 0)
        return BAD_NEW_THREAD;
    weft_thread_destroy(t);
    weft_queue *q;
    void *item = NULL;
    if (weft_queue_create(&q, NULL) != 0 || weft_queue_put(q, (void *)3, 0) != 0 ||
        weft_queue_get(q, &item, 0) != 0 || item != (void *)3)
        return BAD_QUEUE;
    weft_queue_destroy(q);
    return 0;
}

/* ---- forking ------------------------------------------------------------- */

typedef struct tally {
    size_t forks, crashed, hung, failed;
    int first_bad_status;
} tally;

static weft_thread *threads[8];
static size_t nthreads;

static void fork_one(tally *t)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0)
        exit(child_main(threads, nthreads));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            perror("waitpid");
            exit(2);
        }
    t->forks++;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        t->hung++;
    else if (WIFSIGNALED(status))
        t->crashed++;
    else if (WEXITSTATUS(status) != 0)
        t->failed++;
    else
        return;
    if (t->first_bad_status == 0)
        t->first_bad_status = status;
}

/* The forker thread forks when asked through `requests`. */
static weft_queue *requests, *replies;

static int forker(void *arg)
{
    tally *t = arg;
    void *item;
    while (weft_queue_get(requests, &item, WEFT_FOREVER) == 0 && item != NULL) {
        fork_one(t);
        (void)weft_queue_put(replies, item, WEFT_FOREVER);
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void start(int (*fn)(void *), void *arg, const char *name)
{
    weft_thread_attr a = WEFT_THREAD_ATTR_INIT;
    a.name = name;
    if (weft_thread_create(&threads[nthreads], fn, arg, &a) != 0 || weft_thread_start(threads[nthreads]) != 0) {
        fprintf(stderr, "cannot start %s\n", name);
        exit(2);
    }
    nthreads++;
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

int main(int argc, char **argv)
{
#ifdef UNDER_ASAN
    puts("fork_children: skipped under AddressSanitizer (its allocator is not fork-safe)");
    return 77;
#endif
    size_t forks = argc > 1 ? strtoul(argv[1], NULL, 10) : 200;
    double limit = argc > 2 ? strtod(argv[2], NULL) : 0;
    bool lockdep = argc > 3 && strcmp(argv[3], "lockdep") == 0;

    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 4;
    if (weft_pool_create(&steal_pool, &o) != 0)
        return 2;
    o.max_workers = 2;
    o.scheduler = WEFT_SCHED_MUTEX;
    if (weft_pool_create(&mutex_pool, &o) != 0)
        return 2;
    weft_queue_options qo = WEFT_QUEUE_OPTIONS_INIT;
    qo.maxsize = 4;
    if (weft_queue_create(&ping, &qo) != 0 || weft_queue_create(&pong, &qo) != 0 ||
        weft_queue_create(&requests, NULL) != 0 || weft_queue_create(&replies, NULL) != 0)
        return 2;
    if (weft_timer_create(&timer, 3600, never, NULL) != 0 || weft_timer_start(timer) != 0)
        return 2;
    FILE *devnull = fopen("/dev/null", "w");
    if (devnull == NULL)
        return 2;
    if (lockdep)
        weft_lockdep_enable();

    tally forker_tally = {0}, main_tally = {0};
    start(feeder, steal_pool, "feed-steal");
    start(feeder, mutex_pool, "feed-mutex");
    start(pinger, NULL, "pinger");
    start(ponger, NULL, "ponger");
    start(forker, &forker_tally, "forker");
    start(churner, devnull, "churner");

    double t0 = now();
    size_t i = 0;
    for (; i < forks && (limit <= 0 || now() - t0 < limit); i++) {
        if (i % 2 == 0) {
            fork_one(&main_tally);
        } else {
            void *item;
            (void)weft_queue_put(requests, (void *)1, WEFT_FOREVER);
            (void)weft_queue_get(replies, &item, WEFT_FOREVER);
        }
    }
    double elapsed = now() - t0;

    (void)weft_queue_put(requests, NULL, WEFT_FOREVER);
    atomic_store(&stopping, true);
    for (size_t k = 0; k < nthreads; k++) {
        weft_thread_join(threads[k], WEFT_FOREVER);
        weft_thread_destroy(threads[k]);
    }
    weft_timer_destroy(timer);
    weft_pool_destroy(steal_pool);
    weft_pool_destroy(mutex_pool);
    weft_queue_destroy(ping);
    weft_queue_destroy(pong);
    weft_queue_destroy(requests);
    weft_queue_destroy(replies);
    fclose(devnull);

    tally all = main_tally;
    all.forks += forker_tally.forks;
    all.crashed += forker_tally.crashed;
    all.hung += forker_tally.hung;
    all.failed += forker_tally.failed;
    if (all.first_bad_status == 0)
        all.first_bad_status = forker_tally.first_bad_status;
    printf("fork_children: %zu children (%zu from the main thread, %zu from a weft thread) in %.1f s: "
           "%zu crashed, %zu hung, %zu failed a check\n",
           all.forks, main_tally.forks, forker_tally.forks, elapsed, all.crashed, all.hung, all.failed);
    if (all.first_bad_status != 0) {
        int s = all.first_bad_status;
        if (WIFSIGNALED(s))
            printf("first bad child: signal %d (%s)\n", WTERMSIG(s), strsignal(WTERMSIG(s)));
        else
            printf("first bad child: exit status %d\n", WEXITSTATUS(s));
    }
    return all.crashed + all.hung + all.failed == 0 ? 0 : 1;
}
