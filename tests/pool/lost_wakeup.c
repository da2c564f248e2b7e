/* tests/pool/lost_wakeup.c: a task spawns a child onto its own deque and
 * then blocks in a weft primitive until that child has run (issue 8: the
 * lost wake-up of in-pool spawns). Two workers: task A runs on one, spawns B
 * (B sets an event) and waits on the event with weft_event_wait, which does
 * not help; only the other worker can run B, so if that worker sleeps
 * through the spawn the pool hangs.
 *
 * usage: lost_wakeup [iterations] [workers] [block]
 *   block: event (default), sem, queue, mqueue (the WEFT_QUEUE_MUTEX backend,
 *   which sleeps in pthread_cond_wait, not in weft__futex_wait), lock, all
 *   (rotates through them)
 * A watchdog fails the run (exit 1) when one iteration takes longer than
 * 20 s. Built twice (tests/pool/meson.build): against the library as it
 * ships, and against a copy compiled with WEFT_TEST_SPAWN_REORDER, which
 * performs the spawn's unfenced loads before its push with a pause between
 * (the store->load reordering that C11 allows there, widened from
 * nanoseconds to microseconds), so that the hang the reordering permits
 * shows up within a few iterations when nothing else covers it.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

typedef struct iter {
    weft_pool *pool;
    int how;
    weft_event ev;
    weft_sem sem;
    weft_lock lock;
    weft_queue *q;
    weft_queue *mq; /* WEFT_QUEUE_MUTEX backend */
} iter;

enum { BY_EVENT, BY_SEM, BY_QUEUE, BY_MQUEUE, BY_LOCK, NHOW };

static void child(void *arg)
{
    iter *it = arg;
    switch (it->how) {
    case BY_EVENT:
        weft_event_set(&it->ev);
        break;
    case BY_SEM:
        (void)weft_sem_release(&it->sem, 1);
        break;
    case BY_QUEUE:
        (void)weft_queue_put(it->q, it, WEFT_FOREVER);
        break;
    case BY_MQUEUE:
        (void)weft_queue_put(it->mq, it, WEFT_FOREVER);
        break;
    case BY_LOCK:
        (void)weft_lock_release(&it->lock);
        break;
    }
}

static int parent(void *arg, void **result)
{
    (void)result;
    iter *it = arg;
    weft_group g;
    weft_group_init(&g, it->pool);
    if (it->how == BY_LOCK)
        (void)weft_lock_acquire(&it->lock, WEFT_FOREVER); /* the child releases it */
    if (weft_group_run(&g, child, it) != 0)
        return EIO;
    int rc = 0;
    void *item;
    switch (it->how) {
    case BY_EVENT:
        rc = weft_event_wait(&it->ev, WEFT_FOREVER);
        break;
    case BY_SEM:
        rc = weft_sem_acquire(&it->sem, WEFT_FOREVER);
        break;
    case BY_QUEUE:
        rc = weft_queue_get(it->q, &item, WEFT_FOREVER);
        break;
    case BY_MQUEUE:
        rc = weft_queue_get(it->mq, &item, WEFT_FOREVER);
        break;
    case BY_LOCK:
        rc = weft_lock_acquire(&it->lock, WEFT_FOREVER);
        if (rc == 0)
            (void)weft_lock_release(&it->lock);
        break;
    }
    int wrc = weft_group_wait(&g);
    return rc != 0 ? rc : wrc;
}

static int noop(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return 0;
}

static void nap_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 2000;
    size_t workers = argc > 2 ? (size_t)atol(argv[2]) : 2;
    const char *block = argc > 3 ? argv[3] : "all";
    static const char *names[NHOW] = {"event", "sem", "queue", "mqueue", "lock"};
    int fixed = -1;
    for (int h = 0; h < NHOW; h++)
        if (strcmp(block, names[h]) == 0)
            fixed = h;
    if (fixed < 0 && strcmp(block, "all") != 0) {
        fprintf(stderr, "usage: %s [iterations] [workers] [event|sem|queue|mqueue|lock|all]\n", argv[0]);
        return 2;
    }
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = workers;
    weft_pool *p;
    if (weft_pool_create(&p, &o) != 0)
        return 2;
    unsigned seed = 12345;
    for (long i = 0; i < iterations; i++) {
        iter it;
        memset(&it, 0, sizeof it);
        it.pool = p;
        it.how = fixed >= 0 ? fixed : (int)(i % NHOW);
        weft_event_init(&it.ev);
        weft_sem_init(&it.sem, 0);
        weft_lock_init(&it.lock);
        weft_queue_options mo = WEFT_QUEUE_OPTIONS_INIT;
        mo.backend = WEFT_QUEUE_MUTEX;
        if (weft_queue_create(&it.q, NULL) != 0 || weft_queue_create(&it.mq, &mo) != 0)
            return 2;
        /* A no-op first: the worker that runs it goes searching and then
         * parks while the other one runs A, which spawns meanwhile. */
        weft_future *f;
        if (weft_pool_submit(p, noop, NULL, NULL) != 0 || weft_pool_submit(p, parent, &it, &f) != 0)
            return 2;
        int rc = weft_future_result(f, 20.0, NULL);
        if (rc == ETIMEDOUT) {
            /* The pool is wedged: it cannot be destroyed; report and leave. */
            fprintf(stderr, "lost wake-up: iteration %ld (%s) hung for 20 s\n", i, names[it.how]);
            fflush(stderr);
            _exit(1);
        }
        if (rc != 0) {
            fprintf(stderr, "iteration %ld: task failed: %d\n", i, rc);
            return 1;
        }
        weft_future_release(f);
        weft_queue_destroy(it.q);
        weft_queue_destroy(it.mq);
        /* Vary the phase: sometimes the second worker is still searching
         * when the next spawn comes, sometimes it has parked. */
        seed = seed * 1103515245u + 12345u;
        nap_us((long)(seed >> 16) % 300);
    }
    weft_pool_destroy(p);
    printf("lost_wakeup: %ld iterations on %zu workers (%s): no hang\n", iterations, workers, block);
    return 0;
}
