/* A strict C consumer of weft, built the way an embedding program would be
 * (only the public headers and the public library; see tests/consumer/meson.build,
 * scripts/subproject-check.sh): a pool, futures, the inline lock, an RLock, an
 * Event and the completion queue. Exits 0 when
 * every check holds and prints one line. */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <weft.h>

#include "initialisers.inc"

#define NTASKS 64

static unsigned long counter; /* guarded by init_lock */

static int square(void *arg, void **result)
{
    uintptr_t v = (uintptr_t)arg;
    if (weft_lock_acquire(&init_lock, WEFT_FOREVER) != 0)
        return EIO;
    counter++;
    weft_lock_release(&init_lock);
    *result = (void *)(v * v);
    return v == NTASKS ? EDOM : 0; /* one task fails on purpose */
}

static int set_event(void *arg, void **result)
{
    (void)result;
    weft_event_set((weft_event *)arg);
    return 0;
}

#define CHECK(c)                                                                                             \
    do {                                                                                                     \
        if (!(c)) {                                                                                          \
            fprintf(stderr, "consumer (C): check failed: %s (line %d)\n", #c, __LINE__);                     \
            return 1;                                                                                        \
        }                                                                                                    \
    } while (0)

/* The completion queue (weft_cq_*, weft_future_notify): futures posted back to
 * the calling thread through an eventfd, as an event loop would see them. */
static int check_cq(weft_pool *pool)
{
    weft_cq *cq;
    weft_future *f;
    void *tag = NULL;
    size_t popped = 0;
    CHECK(weft_cq_create(&cq) == 0);
    for (uintptr_t i = 1; i <= 8; i++) {
        CHECK(weft_pool_submit(pool, square, (void *)i, &f) == 0);
        CHECK(weft_future_notify(f, cq, (void *)i) == 0);
        weft_future_release(f);
    }
    while (popped < 8) {
        struct pollfd pfd = {weft_cq_fd(cq), POLLIN, 0};
        CHECK(poll(&pfd, 1, 10000) == 1);
        while (weft_cq_pop(cq, &f, &tag) == 0) {
            void *r = NULL;
            CHECK(weft_future_result(f, 0, &r) == 0);
            CHECK((uintptr_t)r == (uintptr_t)tag * (uintptr_t)tag);
            weft_future_release(f);
            popped++;
        }
    }
    weft_cq_destroy(cq);
    return 0;
}

int main(void)
{
    weft_pool_options opts = WEFT_POOL_OPTIONS_INIT;
    weft_pool *pool;
    weft_future *fs[NTASKS];
    weft_future *ev_f;
    weft_event ev;
    size_t ndone = 0;
    uintptr_t sum = 0;

    CHECK(initialisers_sane());
    CHECK(strcmp(weft_version(), WEFT_VERSION_STRING) == 0);
    opts.max_workers = 2;
    opts.thread_name_prefix = "consumer";
    CHECK(weft_pool_create(&pool, &opts) == 0);

    for (uintptr_t i = 0; i < NTASKS; i++)
        CHECK(weft_pool_submit(pool, square, (void *)(i + 1), &fs[i]) == 0);
    CHECK(weft_wait(fs, NTASKS, WEFT_FOREVER, WEFT_ALL_COMPLETED, &ndone) == 0 && ndone == NTASKS);
    for (uintptr_t i = 0; i < NTASKS; i++) {
        void *r = NULL;
        int rc = weft_future_result(fs[i], WEFT_FOREVER, &r);
        if (i + 1 == NTASKS)
            CHECK(rc == EDOM && weft_future_exception(fs[i], 0) == EDOM);
        else
            CHECK(rc == 0 && (uintptr_t)r == (i + 1) * (i + 1));
        sum += (uintptr_t)r;
        weft_future_release(fs[i]);
    }
    CHECK(counter == NTASKS && sum == (uintptr_t)(NTASKS - 1) * NTASKS * (2 * NTASKS - 1) / 6);

    CHECK(weft_rlock_acquire(&init_rlock, WEFT_FOREVER) == 0 && weft_rlock_acquire(&init_rlock, 0) == 0);
    CHECK(weft_rlock_release(&init_rlock) == 0 && weft_rlock_release(&init_rlock) == 0);
    CHECK(weft_rlock_release(&init_rlock) == EPERM);

    weft_event_init(&ev);
    CHECK(weft_pool_submit(pool, set_event, &ev, &ev_f) == 0);
    CHECK(weft_event_wait(&ev, WEFT_FOREVER) == 0);
    CHECK(weft_future_result(ev_f, WEFT_FOREVER, NULL) == 0);
    weft_future_release(ev_f);

    CHECK(check_cq(pool) == 0);
    weft_pool_destroy(pool);
    printf("consumer (C): ok, completion queue included\n");
    return 0;
}
