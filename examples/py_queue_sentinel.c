/* Producers and consumers on a Queue, stopped by a sentinel. */
#include <stdint.h>
#include <stdio.h>
#include <weft.h>

#define SENTINEL ((void *)0) /* None */

static weft_queue *q;
static weft_lock total_lock = WEFT_LOCK_INIT;
static long total;

static int producer(void *arg)
{
    long base = (long)(intptr_t)arg;
    for (long i = 1; i <= 5; i++)
        weft_queue_put(q, (void *)(intptr_t)(base + i), WEFT_FOREVER);
    return 0;
}

static int consumer(void *arg)
{
    (void)arg;
    for (;;) {
        void *item;
        weft_queue_get(q, &item, WEFT_FOREVER);
        if (item == SENTINEL)
            return 0;
        weft_lock_acquire(&total_lock, WEFT_FOREVER);
        total += (long)(intptr_t)item;
        weft_lock_release(&total_lock);
    }
}

int main(void)
{
    weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
    o.maxsize = 4;
    if (weft_queue_create(&q, &o) != 0)
        return 1;
    weft_thread *p[2], *c[2];
    for (int i = 0; i < 2; i++) {
        weft_thread_create(&p[i], producer, (void *)(intptr_t)(i * 10), NULL);
        weft_thread_create(&c[i], consumer, NULL, NULL);
        weft_thread_start(p[i]);
        weft_thread_start(c[i]);
    }
    for (int i = 0; i < 2; i++)
        weft_thread_join(p[i], WEFT_FOREVER);
    for (int i = 0; i < 2; i++)
        weft_queue_put(q, SENTINEL, WEFT_FOREVER); /* one per consumer */
    for (int i = 0; i < 2; i++) {
        weft_thread_join(c[i], WEFT_FOREVER);
        weft_thread_destroy(p[i]);
        weft_thread_destroy(c[i]);
    }
    printf("consumed total = %ld\n", total);
    weft_queue_destroy(q);
    return 0;
}
