/* task_done / join: wait until every queued item has been processed. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <weft.h>

static weft_queue *q;
static _Atomic int processed;

static int worker(void *arg)
{
    (void)arg;
    for (;;) {
        void *item;
        weft_queue_get(q, &item, WEFT_FOREVER);
        atomic_fetch_add(&processed, 1);
        weft_queue_task_done(q);
    }
    return 0;
}

int main(void)
{
    if (weft_queue_create(&q, NULL) != 0)
        return 1;
    weft_thread_attr attr = WEFT_THREAD_ATTR_INIT;
    attr.daemon = true; /* as Thread(target=worker, daemon=True) */
    for (int i = 0; i < 3; i++) {
        weft_thread *t;
        weft_thread_create(&t, worker, NULL, &attr);
        weft_thread_start(t);
        weft_thread_destroy(t); /* detached: it runs until exit */
    }
    for (intptr_t item = 0; item < 10; item++)
        weft_queue_put(q, (void *)item, WEFT_FOREVER);
    weft_queue_join(q, WEFT_FOREVER); /* blocks until all 10 are task_done */
    printf("all work completed: %d items\n", atomic_load(&processed));
    return 0;
}
