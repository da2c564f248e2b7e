/* One thread waits for an Event that another sets. */
#include <stdio.h>
#include <weft.h>

static weft_event ready = WEFT_EVENT_INIT, asked = WEFT_EVENT_INIT;

static int waiter(void *arg)
{
    (void)arg;
    if (weft_event_wait(&ready, 0.01) == ETIMEDOUT)
        printf("waiter: not set yet (timed out)\n");
    weft_event_set(&asked);
    weft_event_wait(&ready, WEFT_FOREVER);
    printf("waiter: event is set\n");
    return 0;
}

int main(void)
{
    weft_thread *t;
    if (weft_thread_create(&t, waiter, NULL, NULL) != 0 || weft_thread_start(t) != 0)
        return 1;
    weft_event_wait(&asked, WEFT_FOREVER);
    weft_event_set(&ready);
    weft_thread_join(t, WEFT_FOREVER);
    weft_thread_destroy(t);
    printf("main: is_set = %d\n", weft_event_is_set(&ready));
    return 0;
}
