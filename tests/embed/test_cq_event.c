/* tests/embed/test_cq_event.c: a weft_cq driven by a libevent loop (a
 * persistent EV_READ event on its fd). Exit 0 when every completion arrived
 * exactly once, 1 otherwise (10 s watchdog). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>

#include "weft.h"

#define N 2000

static weft_cq *cq;
static unsigned char seen[N];
static size_t got;
static struct event_base *base;

static int work(void *arg, void **result)
{
    *result = arg;
    return 0;
}

static void on_readable(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    (void)ctx;
    weft_future *f;
    void *tag;
    while (weft_cq_pop(cq, &f, &tag) == 0) {
        void *r = NULL;
        size_t i = (size_t)(uintptr_t)tag;
        if (weft_future_result(f, 0, &r) != 0 || r != tag || seen[i]++ != 0) {
            fprintf(stderr, "bad completion %zu\n", i);
            exit(1);
        }
        weft_future_release(f);
        got++;
    }
    if (got == N)
        event_base_loopbreak(base);
}

static void on_watchdog(evutil_socket_t fd, short what, void *ctx)
{
    (void)fd;
    (void)what;
    (void)ctx;
    fprintf(stderr, "stalled at %zu of %d completions\n", got, N);
    exit(1);
}

int main(void)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 2;
    weft_pool *p;
    if (weft_pool_create(&p, &o) != 0 || weft_cq_create(&cq) != 0)
        return 1;
    base = event_base_new();
    struct event *rd = event_new(base, weft_cq_fd(cq), EV_READ | EV_PERSIST, on_readable, NULL);
    struct event *wd = evtimer_new(base, on_watchdog, NULL);
    struct timeval ten = {10, 0};
    event_add(rd, NULL);
    evtimer_add(wd, &ten);
    for (size_t i = 0; i < N; i++) {
        weft_future *f;
        if (weft_pool_submit(p, work, (void *)(uintptr_t)i, &f) != 0 ||
            weft_future_notify(f, cq, (void *)(uintptr_t)i) != 0)
            return 1;
        weft_future_release(f);
    }
    event_base_dispatch(base);
    event_free(rd);
    event_free(wd);
    event_base_free(base);
    weft_cq_counters c;
    weft_cq_stats(cq, &c);
    printf("libevent: %zu completions, %llu eventfd writes\n", got, (unsigned long long)c.signals);
    weft_cq_destroy(cq);
    weft_pool_destroy(p);
    return got == N ? 0 : 1;
}
