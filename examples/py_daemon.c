/* A daemon thread does not keep the process alive. */
#include <stdio.h>
#include <time.h>
#include <weft.h>

static weft_event started = WEFT_EVENT_INIT;

static int background(void *arg)
{
    (void)arg;
    weft_event_set(&started);
    for (;;) { /* runs until the process exits */
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

int main(void)
{
    weft_thread_attr attr = WEFT_THREAD_ATTR_INIT;
    attr.daemon = true;
    weft_thread *t;
    if (weft_thread_create(&t, background, NULL, &attr) != 0 || weft_thread_start(t) != 0)
        return 1;
    weft_event_wait(&started, WEFT_FOREVER);
    printf("daemon: %s\n", weft_thread_daemon(t) ? "yes" : "no");
    printf("main exits without waiting\n");
    return 0;
}
