/* tests/embed/test_cq.c: weft_cq and weft_future_notify: bad input, futures
 * done before and after notify, cancelled ones, epoll (level- and
 * edge-triggered) and poll loops over many completions, destroy with
 * completions never popped and futures never done. */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "weft.h"

static int fd_readable(int fd, int timeout_ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    int rc = poll(&p, 1, timeout_ms);
    cr_assert_geq(rc, 0);
    return rc == 1 && (p.revents & POLLIN);
}

static int ret_arg(void *arg, void **result)
{
    *result = arg;
    return 0;
}

static int wait_event(void *arg, void **result)
{
    (void)result;
    return weft_event_wait(arg, WEFT_FOREVER);
}

static weft_pool *pool2(void)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 2;
    weft_pool *p;
    cr_assert_eq(weft_pool_create(&p, &o), 0);
    return p;
}

Test(cq, einval)
{
    weft_cq *cq;
    weft_future *f = NULL;
    void *tag;
    weft_cq_counters c;
    cr_assert_eq(weft_cq_create(NULL), EINVAL);
    cr_assert_eq(weft_cq_fd(NULL), -1);
    cr_assert_eq(weft_cq_pop(NULL, &f, &tag), EINVAL);
    cr_assert_eq(weft_cq_stats(NULL, &c), EINVAL);
    cr_assert_eq(weft_cq_create(&cq), 0);
    cr_assert_eq(weft_cq_stats(cq, NULL), EINVAL);
    cr_assert_eq(weft_future_notify(NULL, cq, NULL), EINVAL);
    weft_pool *p = pool2();
    cr_assert_eq(weft_pool_submit(p, ret_arg, NULL, &f), 0);
    cr_assert_eq(weft_future_notify(f, NULL, NULL), EINVAL);
    weft_future_release(f);
    cr_assert_eq(weft_cq_pop(cq, NULL, NULL), EAGAIN);
    weft_cq_destroy(NULL);
    weft_cq_destroy(cq);
    weft_pool_destroy(p);
}

Test(cq, done_before_notify)
{
    weft_cq *cq;
    cr_assert_eq(weft_cq_create(&cq), 0);
    int fd = weft_cq_fd(cq);
    cr_assert_geq(fd, 0);
    cr_assert(!fd_readable(fd, 0));
    weft_pool *p = pool2();
    weft_future *f, *g;
    cr_assert_eq(weft_pool_submit(p, ret_arg, (void *)7, &f), 0);
    cr_assert_eq(weft_future_wait(f, WEFT_FOREVER), 0);
    cr_assert_eq(weft_future_notify(f, cq, (void *)1), 0);
    cr_assert_eq(weft_future_notify(f, cq, (void *)2), 0);
    weft_future_release(f);
    cr_assert(fd_readable(fd, 0));
    void *tag = NULL, *r = NULL;
    cr_assert_eq(weft_cq_pop(cq, &g, &tag), 0);
    cr_assert_eq(g, f);
    cr_assert_eq(tag, (void *)1, "oldest first within a batch");
    cr_assert_eq(weft_future_result(g, 0, &r), 0);
    cr_assert_eq(r, (void *)7);
    weft_future_release(g);
    cr_assert_eq(weft_cq_pop(cq, NULL, &tag), 0);
    cr_assert_eq(tag, (void *)2);
    cr_assert_eq(weft_cq_pop(cq, &g, &tag), EAGAIN);
    cr_assert(!fd_readable(fd, 0), "EAGAIN resets the fd");
    weft_cq_counters c;
    cr_assert_eq(weft_cq_stats(cq, &c), 0);
    cr_assert_eq(c.popped, 2);
    cr_assert_eq(c.signals, 1, "one write for one empty-to-non-empty transition");
    weft_cq_destroy(cq);
    weft_pool_destroy(p);
}

Test(cq, done_after_notify_and_cancelled)
{
    weft_cq *cq;
    cr_assert_eq(weft_cq_create(&cq), 0);
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 1;
    weft_pool *p;
    cr_assert_eq(weft_pool_create(&p, &o), 0);
    weft_event ev = WEFT_EVENT_INIT;
    weft_future *blocker, *queued, *g;
    cr_assert_eq(weft_pool_submit(p, wait_event, &ev, &blocker), 0);
    cr_assert_eq(weft_pool_submit(p, ret_arg, NULL, &queued), 0);
    cr_assert_eq(weft_future_notify(blocker, cq, (void *)1), 0);
    cr_assert_eq(weft_future_notify(queued, cq, (void *)2), 0);
    usleep(20000);
    cr_assert(!fd_readable(weft_cq_fd(cq), 0));
    cr_assert_eq(weft_cq_pop(cq, &g, NULL), EAGAIN);
    cr_assert(weft_future_cancel(queued));
    cr_assert(fd_readable(weft_cq_fd(cq), 0), "a cancelled future is done: posted");
    void *tag;
    cr_assert_eq(weft_cq_pop(cq, &g, &tag), 0);
    cr_assert_eq(tag, (void *)2);
    cr_assert(weft_future_cancelled(g));
    weft_future_release(g);
    weft_event_set(&ev);
    /* The fd may still be readable from the first post (pop resets it only
     * when it finds the queue empty): a spurious wake-up, then the real one. */
    int rc;
    while ((rc = weft_cq_pop(cq, &g, &tag)) == EAGAIN)
        cr_assert(fd_readable(weft_cq_fd(cq), 10000), "blocker's completion never signalled");
    cr_assert_eq(rc, 0);
    cr_assert_eq(tag, (void *)1);
    cr_assert_eq(g, blocker);
    cr_assert(weft_future_done(g));
    weft_future_release(g);
    weft_future_release(blocker);
    weft_future_release(queued);
    weft_cq_destroy(cq);
    weft_pool_destroy(p);
}

Test(cq, destroy_releases_unpopped_and_detaches_pending)
{
    weft_cq *cq;
    cr_assert_eq(weft_cq_create(&cq), 0);
    weft_pool *p = pool2();
    weft_event ev = WEFT_EVENT_INIT;
    weft_future *blocked, *done;
    cr_assert_eq(weft_pool_submit(p, wait_event, &ev, &blocked), 0);
    cr_assert_eq(weft_pool_submit(p, ret_arg, NULL, &done), 0);
    cr_assert_eq(weft_future_wait(done, WEFT_FOREVER), 0);
    cr_assert_eq(weft_future_notify(blocked, cq, NULL), 0);
    cr_assert_eq(weft_future_notify(done, cq, NULL), 0);
    /* The queue holds the only reference on `done` after this. */
    weft_future_release(done);
    weft_cq_destroy(cq);
    /* `blocked` completes after its queue is gone: nothing is posted. */
    weft_event_set(&ev);
    cr_assert_eq(weft_future_result(blocked, WEFT_FOREVER, NULL), 0);
    weft_future_release(blocked);
    weft_pool_destroy(p);
}

#define MANY 4000

typedef struct loop_state {
    weft_cq *cq;
    _Atomic unsigned char seen[MANY];
    size_t got;
} loop_state;

static void drain(loop_state *st)
{
    weft_future *f;
    void *tag;
    while (weft_cq_pop(st->cq, &f, &tag) == 0) {
        size_t i = (size_t)(uintptr_t)tag;
        void *r = NULL;
        cr_assert_eq(weft_future_result(f, 0, &r), 0);
        cr_assert_eq((size_t)(uintptr_t)r, i);
        cr_assert_eq(atomic_fetch_add(&st->seen[i], 1), 0, "tag %zu posted twice", i);
        weft_future_release(f);
        st->got++;
    }
}

static void submit_many(weft_pool *p, loop_state *st, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        weft_future *f;
        cr_assert_eq(weft_pool_submit(p, ret_arg, (void *)(uintptr_t)i, &f), 0);
        cr_assert_eq(weft_future_notify(f, st->cq, (void *)(uintptr_t)i), 0);
        weft_future_release(f);
    }
}

static void run_epoll(uint32_t events)
{
    loop_state *st = calloc(1, sizeof *st);
    cr_assert_eq(weft_cq_create(&st->cq), 0);
    weft_pool *p = pool2();
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = events, .data.ptr = st};
    cr_assert_eq(epoll_ctl(ep, EPOLL_CTL_ADD, weft_cq_fd(st->cq), &ev), 0);
    size_t submitted = 0;
    while (st->got < MANY) {
        if (submitted < MANY) {
            size_t to = submitted + 100 < MANY ? submitted + 100 : MANY;
            submit_many(p, st, submitted, to);
            submitted = to;
        }
        struct epoll_event out;
        int n = epoll_wait(ep, &out, 1, submitted < MANY ? 0 : 10000);
        cr_assert_geq(n, 0);
        if (n == 0 && submitted == MANY)
            cr_assert_fail("a completion waits behind an unreadable fd (%zu of %d)", st->got, MANY);
        if (n == 1)
            drain(st);
    }
    weft_cq_counters c;
    weft_cq_stats(st->cq, &c);
    cr_assert_eq(c.popped, MANY);
    cr_assert_leq(c.signals, c.popped);
    close(ep);
    weft_cq_destroy(st->cq);
    weft_pool_destroy(p);
    free(st);
}

Test(cq, epoll_level_triggered)
{
    run_epoll(EPOLLIN);
}

Test(cq, epoll_edge_triggered)
{
    run_epoll(EPOLLIN | EPOLLET);
}

Test(cq, poll_loop)
{
    loop_state *st = calloc(1, sizeof *st);
    cr_assert_eq(weft_cq_create(&st->cq), 0);
    weft_pool *p = pool2();
    submit_many(p, st, 0, MANY);
    while (st->got < MANY) {
        if (!fd_readable(weft_cq_fd(st->cq), 10000))
            cr_assert_fail("a completion waits behind an unreadable fd (%zu of %d)", st->got, MANY);
        drain(st);
    }
    weft_cq_destroy(st->cq);
    weft_pool_destroy(p);
    free(st);
}
