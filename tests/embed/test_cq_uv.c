/* tests/embed/test_cq_uv.c: a weft_cq driven by a libuv loop (uv_poll on
 * its fd), as a libuv program would replace uv_queue_work. Exit 0 when every
 * completion arrived exactly once, 1 otherwise (10 s watchdog). */
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "weft.h"

#define N 2000

static weft_cq *cq;
static unsigned char seen[N];
static size_t got;
static uv_poll_t poller;
static uv_timer_t watchdog;

static int work(void *arg, void **result)
{
    *result = arg;
    return 0;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)h;
    (void)events;
    if (status < 0)
        return;
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
    if (got == N) {
        uv_poll_stop(&poller);
        uv_timer_stop(&watchdog);
    }
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
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
    uv_loop_t *loop = uv_default_loop();
    uv_poll_init(loop, &poller, weft_cq_fd(cq));
    uv_poll_start(&poller, UV_READABLE, on_readable);
    uv_timer_init(loop, &watchdog);
    uv_timer_start(&watchdog, on_watchdog, 10000, 0);
    for (size_t i = 0; i < N; i++) {
        weft_future *f;
        if (weft_pool_submit(p, work, (void *)(uintptr_t)i, &f) != 0 ||
            weft_future_notify(f, cq, (void *)(uintptr_t)i) != 0)
            return 1;
        weft_future_release(f);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&poller, NULL);
    uv_close((uv_handle_t *)&watchdog, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    weft_cq_counters c;
    weft_cq_stats(cq, &c);
    printf("libuv: %zu completions, %llu eventfd writes\n", got, (unsigned long long)c.signals);
    weft_cq_destroy(cq);
    weft_pool_destroy(p);
    return got == N ? 0 : 1;
}
